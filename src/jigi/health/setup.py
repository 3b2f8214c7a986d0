"""Default UTM packages (DOMAIN.md §3), created once per union, idempotently.

- AMV, the union's voluntary health insurance for urban mutuals: 2,500 F membership card, then
  550 F a month; covers the member, his spouse(s) and children up to 18.
  Whether 550 F is per person or per family is not known [DOMAIN.md: U]: it is the package's
  `contribution_basis` setting, per beneficiary here (the prudent reading; change it per
  package).
- RUR, a template for rural mutuals to tailor: contributions after the harvest (November and
  December), the MUSAC (Ségou) shares: the mutual pays 60 % of ambulatory care and 75 % of
  complicated deliveries and hospital care.

Shares follow DOMAIN.md (60 % ambulatory, 75 % complicated delivery and hospital). Ceilings,
waiting periods and grace are not documented for the AMV: the figures below are starting
settings a union administrator changes (package_update), not facts.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from jigi.core.audit import audit_log
from jigi.health.models import (
    BenefitPackage,
    BenefitRule,
    ContributionBasis,
    ContributionFrequency,
    ServiceGroup,
)

G = ServiceGroup

# group: (mutual share %, ceiling per event, ceiling per beneficiary per year, quantity limit)
AMBULATORY_60 = {
    G.CONSULTATION: (60, None, None, None),
    G.DRUGS: (60, 25_000, 100_000, None),
    G.LAB: (60, 15_000, 50_000, None),
    G.ANTENATAL: (60, None, None, None),
    G.DELIVERY: (60, 15_000, None, None),
}
HOSPITAL_75 = {
    G.DELIVERY_COMPLICATED: (75, 150_000, None, None),
    G.HOSPITALISATION: (75, 100_000, 200_000, None),
    G.SURGERY: (75, 200_000, 300_000, None),
    G.TRANSPORT: (75, 25_000, 50_000, None),
}

DEFAULT_PACKAGES = [
    {
        "code": "AMV",
        "name": "Assurance maladie volontaire (AMV)",
        "card_fee": 2_500,
        "contribution": 550,
        "contribution_basis": ContributionBasis.PER_PERSON,
        "frequency": ContributionFrequency.MONTHLY,
        "season_months": [],
        "child_max_age": 18,
        "other_dependants": False,
        "waiting_days": 90,
        "waiting_days_lapse": 30,
        "grace_days": 60,
        "rules": AMBULATORY_60 | HOSPITAL_75,
    },
    {
        "code": "RUR",
        "name": "Garantie rurale (cotisation après récolte)",
        "card_fee": 1_000,
        # 3,300 F per beneficiary at each of two harvest instalments: 550 F a month over the year.
        "contribution": 3_300,
        "contribution_basis": ContributionBasis.PER_PERSON,
        "frequency": ContributionFrequency.SEASONAL,
        "season_months": [11, 12],
        "child_max_age": 18,
        "other_dependants": True,
        "waiting_days": 60,
        "waiting_days_lapse": 30,
        "grace_days": 90,
        "rules": AMBULATORY_60 | HOSPITAL_75,
    },
]

# Packages are valid from the union's first year in Jigi; a new version is a new package.
VALID_FROM = date(2025, 1, 1)


def health_setup(*, organisation, acting_user=None) -> dict[str, BenefitPackage]:
    """Create the union's default packages (mutual=None: offered by every mutual) with their
    rules, unless a package of that code exists already. Returns the packages by code."""
    out: dict[str, BenefitPackage] = {}
    with transaction.atomic():
        for spec in DEFAULT_PACKAGES:
            spec = dict(spec)
            rules = spec.pop("rules")
            package = BenefitPackage.objects.filter(organisation=organisation,
                                                    mutual__isnull=True,
                                                    code=spec["code"]).first()
            if package is None:
                package = BenefitPackage.objects.create(organisation=organisation,
                                                        valid_from=VALID_FROM, **spec)
                BenefitRule.objects.bulk_create([
                    BenefitRule(package=package, group=group, mutual_share_pct=share,
                                ceiling_per_event=per_event, ceiling_per_year=per_year,
                                max_quantity=qty)
                    for group, (share, per_event, per_year, qty) in rules.items()
                ])
                audit_log(actor=acting_user, event_type="health.package_seeded",
                          subject=package, after={"code": package.code},
                          organisation=organisation)
            out[package.code] = package
    return out
