"""Reads of the claims side of UTM: who may see which claim, batch, treaty, statement and
prevention session, the review queue, and the translated texts of coded reasons.

Health data is shown only to health roles: the mutual's manager and claims officers, the union
administrator (every mutual), and clinic staff for the claims of the providers they work at.
Everyone else (a Kondo teller, an MTC organiser) gets a 404, which tells nothing about what
exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import Forbidden, NotFound
from jigi.core.lookup import id_or_none, one_in
from jigi.health import reinsurance as rs
from jigi.health import valuation
from jigi.health.indicators import Indicators, Period, indicators, union_total
from jigi.health.models import (
    Beneficiary,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    Contribution,
    PaymentBatch,
    PreventionSession,
    Provider,
    ReinsuranceStatement,
    ReinsuranceTreaty,
)
from jigi.orgs.models import Role, Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import Person

# Who does what on the claims side (orgs.scoping narrows each to the units a grant covers).
MUTUAL_STAFF_ROLES = {Role.MUTUAL_MANAGER.value, Role.CLAIMS_OFFICER.value,
                      Role.UNION_ADMIN.value}
MANAGER_ROLES = {Role.MUTUAL_MANAGER.value, Role.UNION_ADMIN.value}
UNION_ROLES = {Role.UNION_ADMIN.value}
CLINIC_ROLES = {Role.CLINIC_STAFF.value}
HEALTH_ROLE_VALUES = MUTUAL_STAFF_ROLES | CLINIC_ROLES

# Reasons a reviewer gives when reducing or rejecting a line by hand (the automatic ones come
# from health.valuation). Stable codes: stored with the line, never renamed.
MANUAL_REASONS: dict[str, Any] = {
    "MEDICALLY_UNJUSTIFIED": _("Care not medically justified"),
    "DOCUMENTS_MISSING": _("Prescription or supporting document missing"),
    "PRICE_NOT_JUSTIFIED": _("Price above the tariff not justified"),
    "QUANTITY_NOT_JUSTIFIED": _("Quantity not justified"),
    "SUSPECTED_FRAUD": _("Suspected fraud"),
    "OTHER": _("Other reason (see the note)"),
}

# The automatic reasons, translated (health.valuation keeps English labels and no Django).
AUTOMATIC_REASONS: dict[str, Any] = {
    "FUTURE_DATE": _("Care date is in the future"),
    "NOT_A_BENEFICIARY": _("Not a beneficiary of this mutual"),
    "NOT_COVERED_ON_DATE": _("Not covered on the care date"),
    "SUSPENDED_ARREARS": _("Coverage suspended for unpaid contributions"),
    "NO_CONVENTION": _("No convention with this provider on the care date"),
    "EMPTY_CLAIM": _("The claim has no lines"),
    "BAD_QUANTITY": _("Quantity must be a whole number above zero"),
    "BAD_PRICE": _("Unit price must be a whole number of francs above zero"),
    "UNKNOWN_ITEM": _("Act or drug not in the convention tariff"),
    "NOT_IN_PACKAGE": _("Service not covered by the benefit package"),
    "EXCLUDED": _("Excluded from the benefit package"),
    "WAITING_PERIOD": _("Waiting period not over on the care date"),
    "AGE_LIMIT": _("Beneficiary's age outside the limits for this service"),
    "DUPLICATE": _("Same care already claimed (same person, provider, date and item)"),
    "PRICE_ABOVE_TARIFF": _("Price above the convention tariff: reduced to the tariff"),
    "QUANTITY_LIMIT": _("Quantity above the limit: reduced"),
    "CEILING_EVENT": _("Ceiling per event reached"),
    "CEILING_YEAR": _("Yearly ceiling per beneficiary reached"),
    "PRICE_FAR_ABOVE_TARIFF": _("Price far above the convention tariff: to be reviewed"),
    "AGE_UNKNOWN": _("Birth date unknown for a service with age limits: to be reviewed"),
    "DIAGNOSIS_MISSING": _("Diagnosis required for this service: to be reviewed"),
    "DIAGNOSIS_INVALID": _("Diagnosis is not an ICD-10 code: to be reviewed"),
}


def reason_text(code: str) -> str:
    """A reason code in the reader's language (the English label for a code added to
    health.valuation after these texts were written)."""
    text = AUTOMATIC_REASONS.get(code) or MANUAL_REASONS.get(code)
    if text is not None:
        return str(text)
    try:
        return valuation.reason_label(code)
    except KeyError:
        return code


def reasons_out(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": c, "label": reason_text(c)} for c in codes]


# --- mutuals and the union --------------------------------------------------------------------


def get_mutual_for_user(user, pk: Any, *, roles: set[str] | None = None) -> Unit:
    """A mutual the user works for in one of `roles` (any health role by default).

    404 when the user has no health role covering it (it may as well not exist), 403 when she
    sees it but her role does not allow the operation (clinic staff approving, say)."""
    pk = id_or_none(pk)
    unit = Unit.objects.select_related("organisation").filter(
        pk=pk, kind=UnitKind.MUTUAL).first() if pk else None
    scope = user_scope(user)
    if unit is None or not scope.covers_unit(unit, roles=HEALTH_ROLE_VALUES):
        raise NotFound("mutual_not_found", _("Mutual not found."))
    if roles is not None and not scope.covers_unit(unit, write=True, roles=roles):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    return unit


def mutuals_for_user(user, *, roles: set[str] | None = None) -> QuerySet[Unit]:
    """The mutuals whose health data the user sees (all of them for the union admin)."""
    scope = user_scope(user)
    return Unit.objects.filter(scope.unit_q(roles=roles or HEALTH_ROLE_VALUES),
                               kind=UnitKind.MUTUAL).order_by("code")


def get_union_for_user(user, *, roles: set[str] | None = None) -> Unit:
    """The union unit (UTM head office, the reinsurance pool's book) for its administrator."""
    scope = user_scope(user)
    # The union the user administers (not merely the first in the database).
    unit = Unit.objects.select_related("organisation").filter(
        scope.unit_q(roles=roles or UNION_ROLES), kind=UnitKind.UNION).order_by("pk").first()
    if unit is None:
        raise NotFound("union_not_found", _("Union not found."))
    return unit


def is_union_admin(user) -> bool:
    scope = user_scope(user)
    if scope.is_superuser:
        return True
    return Unit.objects.filter(scope.unit_q(write=True, roles=UNION_ROLES),
                               kind=UnitKind.UNION).exists()


# --- claims -----------------------------------------------------------------------------------


def claims_for_user(user) -> QuerySet[Claim]:
    """Claims the user may see: her mutuals' (mutual staff, union admin), or those of the
    providers she works at (clinic staff). Nobody else sees any."""
    scope = user_scope(user)
    if scope.is_superuser:
        return Claim.objects.all()
    q = scope.unit_q("mutual__", roles=MUTUAL_STAFF_ROLES)
    if scope.roles & CLINIC_ROLES:
        # A subquery, not a join on the staff table: a join would repeat a claim once per
        # staff member of its provider for the users matched by the other branch.
        own = Provider.objects.filter(staff=user).values("pk")
        q |= scope.unit_q("mutual__", roles=CLINIC_ROLES) & Q(provider_id__in=own)
    return Claim.objects.filter(q)


def get_claim_for_user(user, pk: Any, *, with_details: bool = False) -> Claim:
    qs = claims_for_user(user).select_related(
        "mutual", "provider", "beneficiary", "beneficiary__person", "beneficiary__coverage",
        "entered_by", "decided_by", "batch")
    if with_details:
        qs = qs.prefetch_related(
            Prefetch("lines", queryset=ClaimLine.objects.order_by("line_no")),
            Prefetch("events", queryset=ClaimEvent.objects.select_related("by").order_by(
                "at", "pk")))
    return one_in(qs, pk, code="claim_not_found", message=_("Claim not found."))


def claim_list(user, *, mutual: Unit | None = None, status: str = "",
               provider_id: int | None = None, date_from: date | None = None,
               date_to: date | None = None) -> QuerySet[Claim]:
    """Claims in the user's view, newest care first, filtered as a list screen needs."""
    qs = claims_for_user(user).select_related("provider", "beneficiary", "beneficiary__person",
                                              "mutual")
    if mutual is not None:
        qs = qs.filter(mutual=mutual)
    if status:
        qs = qs.filter(status=status) if status in ClaimStatus.values else qs.none()
    if provider_id is not None:
        pk = id_or_none(provider_id)
        qs = qs.filter(provider_id=pk) if pk else qs.none()
    if date_from is not None:
        qs = qs.filter(care_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(care_date__lte=date_to)
    return qs.order_by("-care_date", "-pk")


def review_queue(user, *, mutual: Unit) -> QuerySet[Claim]:
    """Flagged claims of a mutual waiting for a person's decision, oldest first, with the
    lines to decide (those whose status is "flagged") prefetched."""
    return (claims_for_user(user).filter(mutual=mutual, status=ClaimStatus.REVIEW)
            .select_related("provider", "beneficiary", "beneficiary__person")
            .prefetch_related(Prefetch("lines", queryset=ClaimLine.objects.order_by("line_no")))
            .order_by("entered_at", "pk"))


def claims_to_approve(user, *, mutual: Unit) -> QuerySet[Claim]:
    return (claims_for_user(user).filter(mutual=mutual, status=ClaimStatus.VALUED)
            .select_related("provider", "beneficiary", "beneficiary__person")
            .order_by("entered_at", "pk"))


# --- payment batches --------------------------------------------------------------------------


def batches_for_user(user) -> QuerySet[PaymentBatch]:
    """Payment batches of the mutuals the user manages (mutual staff, union admin)."""
    scope = user_scope(user)
    return PaymentBatch.objects.filter(scope.unit_q("mutual__", roles=MUTUAL_STAFF_ROLES))


def get_batch_for_user(user, pk: Any) -> PaymentBatch:
    return one_in(batches_for_user(user).select_related(
        "mutual", "provider", "approval_entry", "payment_entry"),
        pk, code="batch_not_found", message=_("Payment batch not found."))


# --- reinsurance ------------------------------------------------------------------------------


def treaties_for_user(user) -> QuerySet[ReinsuranceTreaty]:
    """Treaties of the mutuals the user manages; the union admin sees every treaty."""
    scope = user_scope(user)
    return ReinsuranceTreaty.objects.filter(
        scope.unit_q("mutual__", roles=MUTUAL_STAFF_ROLES)).select_related("mutual")


def get_treaty_for_user(user, pk: Any) -> ReinsuranceTreaty:
    return one_in(treaties_for_user(user), pk, code="treaty_not_found",
                  message=_("Reinsurance treaty not found."))


def statements_for_user(user) -> QuerySet[ReinsuranceStatement]:
    scope = user_scope(user)
    return ReinsuranceStatement.objects.filter(
        scope.unit_q("treaty__mutual__", roles=MUTUAL_STAFF_ROLES)).select_related(
        "treaty", "treaty__mutual")


def get_statement_for_user(user, pk: Any) -> ReinsuranceStatement:
    return one_in(statements_for_user(user), pk, code="statement_not_found",
                  message=_("Reinsurance statement not found."))


# --- prevention -------------------------------------------------------------------------------


def prevention_sessions_for_user(user) -> QuerySet[PreventionSession]:
    """Sessions of the mutuals (and of the union itself) within the user's health roles."""
    scope = user_scope(user)
    return PreventionSession.objects.filter(
        scope.unit_q("unit__", roles=HEALTH_ROLE_VALUES)).select_related("unit")


def get_prevention_session_for_user(user, pk: Any) -> PreventionSession:
    return one_in(prevention_sessions_for_user(user), pk, code="session_not_found",
                  message=_("Prevention session not found."))


def prevention_attendees(session: PreventionSession) -> QuerySet[Person]:
    return session.attendees.order_by("last_name", "first_name", "pk")


# --- reinsurance inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReinsuranceInputs:
    """A mutual's year as the reinsurance module reads it."""

    contributions: tuple[rs.Contribution, ...]
    claims: tuple[rs.ClaimCost, ...]
    exposures: tuple[rs.Exposure, ...]


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, nxt - timedelta(days=1)


def beneficiaries_by_month(mutual_ids, year: int) -> dict[int, list[int]]:
    """Beneficiaries covered at some point of each month of `year`, per mutual: one grouped
    statement with a filtered count per month."""
    counts = {}
    for month in range(1, 13):
        start, end = _month_bounds(year, month)
        counts[f"m{month}"] = Count("pk", filter=(
            Q(since__lte=end) & (Q(until__isnull=True) | Q(until__gte=start))
            & Q(coverage__enrolled_on__lte=end)
            & (Q(coverage__ended_on__isnull=True) | Q(coverage__ended_on__gte=start))))
    rows = (Beneficiary.objects.filter(coverage__mutual_id__in=mutual_ids)
            .values("coverage__mutual_id").annotate(**counts))
    return {r["coverage__mutual_id"]: [r[f"m{m}"] for m in range(1, 13)] for r in rows}


def _local_day(moment) -> date:
    return timezone.localtime(moment).date()


def reinsurance_inputs(mutual: Unit, year: int) -> ReinsuranceInputs:
    """The contributions a mutual received (net of card fees and reversals) by day, the
    mutual's share of each claim it approved for payment, by the day of approval, and its
    beneficiaries per month, for one calendar year.

    A claim counts on the day it was approved (the mutual's liability), paid yet or not: a
    stable date, so a claim settled in one quarter's statement never moves to another quarter
    when the payment batch goes out later. Claims of one person at one provider on one day are
    one event (the first claim's id), for a treaty whose excess of loss is per event.
    """
    contributions = tuple(
        rs.Contribution(on, amount) for on, amount in
        Contribution.objects.filter(
            mutual=mutual, paid_on__year=year, reversed_by__isnull=True,
            reverses__isnull=True).values("paid_on").annotate(
            net=Sum(F("amount") - F("card_fee"))).values_list("paid_on", "net").order_by(
            "paid_on") if amount and amount > 0)
    start = timezone.make_aware(datetime.combine(date(year, 1, 1), time.min))
    end = timezone.make_aware(datetime.combine(date(year, 12, 31), time.max))
    rows = Claim.objects.filter(
        mutual=mutual, status__in=(ClaimStatus.APPROVED, ClaimStatus.PAID),
        decided_at__range=(start, end), mutual_share__gt=0).order_by("pk").values_list(
        "pk", "decided_at", "mutual_share", "beneficiary_id", "provider_id", "care_date")
    first_of_event: dict[tuple, int] = {}
    claims = []
    for pk, decided_at, share, ben, provider, care_date in rows:
        event = first_of_event.setdefault((ben, provider, care_date), pk)
        claims.append(rs.ClaimCost(pk, _local_day(decided_at), share, event))
    months = beneficiaries_by_month([mutual.pk], year).get(mutual.pk, [0] * 12)
    exposures = tuple(rs.Exposure(date(year, m, 1), n) for m, n in enumerate(months, start=1)
                      if n)
    return ReinsuranceInputs(contributions, tuple(claims), exposures)


def treaty_in_force(mutual: Unit, year: int) -> ReinsuranceTreaty | None:
    """The mutual's active treaty covering most of `year` (the latest one if several)."""
    return (ReinsuranceTreaty.objects.filter(
        mutual=mutual, active=True, valid_from__lte=date(year, 12, 31),
        valid_until__gte=date(year, 1, 1)).order_by("-valid_from", "-pk").first())


def treaty_terms_of(treaty: ReinsuranceTreaty) -> rs.Treaty:
    return rs.treaty_from_terms(treaty.terms, valid_from=treaty.valid_from,
                                valid_to=treaty.valid_until)


def reinsurance_simulation(mutual: Unit, year: int, *, terms: rs.Treaty | None = None,
                           with_treaty: bool = True) -> rs.Simulation:
    """How the mutual's year ends with and without reinsurance: with `terms` (a treaty being
    considered on the simulation screen), else the treaty in force that year, if any."""
    treaty = terms
    if treaty is None and with_treaty:
        row = treaty_in_force(mutual, year)
        treaty = treaty_terms_of(row) if row is not None else None
    data = reinsurance_inputs(mutual, year)
    return rs.simulate(treaty, year, contributions=data.contributions, claims=data.claims,
                       exposures=data.exposures)


# --- indicators -------------------------------------------------------------------------------


def mutual_indicators(user, mutual: Unit, period: Period) -> Indicators:
    """One mutual's indicators for its staff (and the union admin)."""
    get_mutual_for_user(user, mutual.pk, roles=MUTUAL_STAFF_ROLES)
    return indicators([mutual], period)[0]


def union_indicators(user, period: Period) -> tuple[list[Indicators], Indicators]:
    """Every mutual's indicators and the union's total: the union administrator's view (a
    mutual manager gets only her own mutual's row)."""
    mutuals = list(mutuals_for_user(user, roles=MUTUAL_STAFF_ROLES))
    if not mutuals:
        raise NotFound("mutual_not_found", _("Mutual not found."))
    rows = indicators(mutuals, period)
    return rows, union_total(rows, str(_("Union (all mutuals)")))


def ramu_report(user, year: int) -> tuple[list[Indicators], Indicators]:
    """The report the union hands to the authorities (RAMU, Loi 2018-074): the year's figures
    of every mutual and the union's total. Union administrator only."""
    union = get_union_for_user(user)
    mutuals = list(Unit.objects.filter(organisation_id=union.organisation_id,
                                       kind=UnitKind.MUTUAL, is_active=True).order_by("code"))
    rows = indicators(mutuals, Period.year(year))
    return rows, union_total(rows, str(_("Union (all mutuals)")))
