"""The movement's settings on a new installation (idempotent): dues rates per group, case
deadlines per category, the dated legal figures (DOMAIN.md §4), the account for dues paid in
advance. Run by `jigi movement setup`, the demo and the test fixtures."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from jigi.ledger.services import chart_seed
from jigi.movement.models import CaseCategory, CaseDeadline, DuesRate, LegalSetting
from jigi.orgs.models import MemberGroup, Organisation

# Monthly dues in francs: what members of each group agreed in general assembly, small
# because domestic workers earn 5,000-20,000 F a month and young people often nothing.
DEFAULT_RATES = {
    MemberGroup.TEACHERS: 500,
    MemberGroup.DOMESTIC: 250,
    MemberGroup.ARTISANS: 500,
    MemberGroup.YOUTH: 100,
}
RATES_FROM = date(2020, 1, 1)
GRACE_MONTHS = 3

# (days to the first action, days to resolution): violence, abuse of a child and harassment
# are acted on the next day; money claims give the employer time to answer a mediation.
DEFAULT_DEADLINES = {
    CaseCategory.VIOLENCE: (1, 30),
    CaseCategory.CHILD_LABOUR: (1, 30),
    CaseCategory.SEXUAL_HARASSMENT: (2, 30),
    CaseCategory.UNPAID_WAGES: (7, 60),
    CaseCategory.DISMISSAL: (7, 60),
    CaseCategory.NO_REST_DAY: (14, 60),
    CaseCategory.EXCESSIVE_HOURS: (14, 60),
    CaseCategory.NO_CONTRACT: (14, 90),
    CaseCategory.BELOW_SMIG: (14, 90),
}

# name -> [(valid_from, value, source)]
LEGAL_SETTINGS = {
    "smig_month": [(date(2016, 1, 1), 40_000, "Décret 2015-0363 (SMIG 40 000 F/mois)")],
    "domestic_max_daily_hours": [(date(1996, 3, 13), 10, "Décret 96-178 (10 h par jour)")],
    "domestic_weekly_rest_half_days": [(date(1996, 3, 13), 2,
                                        "Décret 96-178 (deux demi-journées par semaine)")],
    "adult_age": [(date(1992, 9, 23), 18, "Code du travail, C138 et C182 ratifiées")],
}


def movement_setup(organisation: Organisation, acting_user=None) -> None:
    with transaction.atomic():
        chart_seed(organisation=organisation, acting_user=acting_user)
        for group, amount in DEFAULT_RATES.items():
            DuesRate.objects.get_or_create(
                organisation=organisation, group=group, valid_from=RATES_FROM,
                defaults={"amount": amount, "grace_months": GRACE_MONTHS,
                          "created_by": acting_user})
        for category, (first, resolution) in DEFAULT_DEADLINES.items():
            CaseDeadline.objects.get_or_create(
                organisation=organisation, category=category,
                defaults={"first_action_days": first, "resolution_days": resolution})
        for name, values in LEGAL_SETTINGS.items():
            for valid_from, value, source in values:
                LegalSetting.objects.get_or_create(
                    name=name, valid_from=valid_from, defaults={"value": value, "source": source})


def legal_value(name: str, on: date) -> int:
    """The legal figure in force on `on` (the latest setting not after it)."""
    row = (LegalSetting.objects.filter(name=name, valid_from__lte=on)
           .order_by("-valid_from").values_list("value", flat=True).first())
    if row is None:
        # An installation where `jigi movement setup` has not run yet still follows the law.
        known = [value for valid_from, value, _source in LEGAL_SETTINGS.get(name, [])
                 if valid_from <= on]
        if not known:
            raise LookupError(f"no legal setting {name!r} in force on {on}")
        return known[-1]
    return int(row)
