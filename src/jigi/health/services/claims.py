"""Claims (feuilles de soins): entry, automatic checks and valuation, review, approval.

A claim is entered by clinic staff (for a provider they work at) or by the mutual, checked and
valued by health.valuation (on submission, or for all entered claims of a mutual at once by
`claims_adjudicate`), reviewed by a person when a line is flagged, approved, then paid in a
provider's payment batch (services/batches.py). Every status change writes a ClaimEvent (who,
when, from, to, why) in the same transaction.

Statuses change only along TRANSITIONS. Approval is maker-checker: whoever entered a claim
cannot approve it, and clinic staff never approve or review.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.core.lookup import is_id
from jigi.core.money import MoneyError, to_francs
from jigi.core.numbering import next_number
from jigi.health import eligibility as el
from jigi.health import valuation as v
from jigi.health.models import (
    Beneficiary,
    BenefitPackage,
    BenefitRule,
    BenefitUsage,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    Convention,
    CoverageStatus,
    Provider,
    SuspensionPeriod,
    TariffItem,
)
from jigi.health.selectors import tariff_for
from jigi.health.selectors_claims import (
    CLINIC_ROLES,
    MANUAL_REASONS,
    MUTUAL_STAFF_ROLES,
)
from jigi.orgs.models import Unit
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import age_on

S = ClaimStatus
# The allowed moves of a claim; anything else is a 409.
TRANSITIONS: dict[str, set[str]] = {
    S.ENTERED: {S.VALUED, S.REVIEW, S.REJECTED},
    S.REVIEW: {S.VALUED, S.REJECTED},
    S.VALUED: {S.APPROVED, S.REJECTED},
    S.APPROVED: {S.PAID},
    S.REJECTED: set(),
    S.PAID: set(),
}

# Line statuses as stored: health.valuation's.
LINE_ACCEPTED, LINE_REDUCED, LINE_REJECTED, LINE_FLAGGED = (
    v.LineStatus.ACCEPTED.value, v.LineStatus.REDUCED.value, v.LineStatus.REJECTED.value,
    v.LineStatus.FLAGGED.value)
# Plain strings: psycopg writes an Enum member by its name, not its value.
_CLAIM_STATUS = {v.ClaimOutcome.ACCEPTED: S.VALUED.value, v.ClaimOutcome.REDUCED: S.VALUED.value,
                 v.ClaimOutcome.REJECTED: S.REJECTED.value, v.ClaimOutcome.REVIEW: S.REVIEW.value}
# Lines that count as care given (duplicates are checked against them): paid, payable or
# waiting for a reviewer.
PAYABLE_LINE_STATUSES = (LINE_ACCEPTED, LINE_REDUCED, LINE_FLAGGED)
LIVE_CLAIM_STATUSES = (S.REVIEW, S.VALUED, S.APPROVED, S.PAID)

MAX_LINES = 50
# ICD-10 as printed by the WHO: a letter, two digits, optionally a dot and a subdivision.
ICD10 = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?")


def invalid(fields: dict[str, Any]) -> ApplicationError:
    return ApplicationError("invalid", _("Some fields are not valid."), fields, status_code=422)


def _today() -> date:
    return timezone.localdate()


def _fmt(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


# --- access -----------------------------------------------------------------------------------


def _is_mutual_staff(user, mutual: Unit, roles: set[str] = MUTUAL_STAFF_ROLES) -> bool:
    return user_scope(user).covers_unit(mutual, write=True, roles=roles)


def require_mutual_staff(user, mutual: Unit, roles: set[str] = MUTUAL_STAFF_ROLES) -> None:
    """The user manages claims of this mutual; clinic staff get a 403 (they see the claim but
    may not decide it), anyone else a 404."""
    scope = user_scope(user)
    if scope.covers_unit(mutual, write=True, roles=roles):
        return
    if scope.covers_unit(mutual, roles=MUTUAL_STAFF_ROLES | CLINIC_ROLES):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    raise NotFound("claim_not_found", _("Claim not found."))


# --- entry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineIn:
    """One line as typed: an act or drug code of the convention tariff, a quantity and the
    unit price the provider asks (whole francs)."""

    item_code: Any
    quantity: Any
    unit_price: Any


def _clean_lines(lines: Any, errors: dict[str, Any]) -> list[tuple[str, int, int]]:
    if not isinstance(lines, list | tuple) or not lines:
        errors["lines"] = _("Enter at least one act or drug.")
        return []
    if len(lines) > MAX_LINES:
        errors["lines"] = _("At most %(n)d lines per claim.") % {"n": MAX_LINES}
        return []
    out = []
    for i, raw in enumerate(lines):
        if isinstance(raw, dict):
            raw = LineIn(raw.get("item_code"), raw.get("quantity"), raw.get("unit_price"))
        if not isinstance(raw, LineIn):
            errors[f"lines.{i}"] = _("Enter an item code, a quantity and a unit price.")
            continue
        code = raw.item_code.strip().upper() if isinstance(raw.item_code, str) else ""
        if not code or len(code) > 24 or not code.isprintable():
            errors[f"lines.{i}.item_code"] = _("Enter the code of an act or drug (up to 24 "
                                               "characters).")
        q = raw.quantity
        if type(q) is not int or not 0 < q <= v.MAX_QUANTITY:
            errors[f"lines.{i}.quantity"] = _("Enter a whole quantity above zero.")
        try:
            price = to_francs(raw.unit_price, allow_zero=True)
        except MoneyError:
            errors[f"lines.{i}.unit_price"] = _("Enter a unit price in whole francs CFA, zero "
                                                "or more.")
            price = 0
        out.append((code, q, price))
    return out


def _find_beneficiary(user, card_number: str) -> Beneficiary | None:
    """The beneficiary holding this card, if the user works for its mutual (clinic staff work
    for every mutual of their organisation: they check cards at the counter)."""
    ben = (Beneficiary.objects.select_related("coverage", "coverage__mutual", "person")
           .filter(card_number=card_number).first())
    if ben is None and card_number != card_number.upper():
        ben = (Beneficiary.objects.select_related("coverage", "coverage__mutual", "person")
               .filter(card_number=card_number.upper()).first())
    if ben is None:
        return None
    scope = user_scope(user)
    if not scope.covers_unit(ben.coverage.mutual, roles=MUTUAL_STAFF_ROLES | CLINIC_ROLES):
        return None
    return ben


def _signature(claim_fields: dict[str, Any], lines: list[tuple[str, int, int]]) -> tuple:
    return (claim_fields["beneficiary_id"], claim_fields["provider_id"],
            claim_fields["care_date"], claim_fields["diagnosis"], tuple(lines))


def _existing_signature(claim: Claim) -> tuple:
    lines = tuple((code.upper(), q, p) for code, q, p in claim.lines.order_by(
        "line_no").values_list("item_code", "quantity", "unit_price"))
    return (claim.beneficiary_id, claim.provider_id, claim.care_date, claim.diagnosis, lines)


def _replay(user, key: str, signature: tuple) -> Claim | None:
    existing = Claim.objects.filter(entered_by=user, idempotency_key=key).first()
    if existing is None:
        return None
    if _existing_signature(existing) != signature:
        raise Conflict("idempotency_key_reused",
                       _("This Idempotency-Key was already used for a different claim."),
                       {"idempotency_key": _("Use a new key for a new claim.")})
    return existing


def claim_submit(
    *,
    acting_user,
    card_number: Any,
    provider_id: Any,
    care_date: Any,
    lines: Sequence[LineIn | dict[str, Any]],
    diagnosis: Any = "",
    discharge_date: Any = None,
    idempotency_key: str = "",
    adjudicate: bool = True,
) -> Claim:
    """Enter a care sheet and, by default, check and value it at once.

    Refused with field messages and nothing written (422): an unknown card (or one of a mutual
    the user does not work for), an unknown or inactive provider, a care date in the future
    or before the beneficiary's coverage began, a discharge before the care, a diagnosis that
    is not an ICD-10 code, no lines, a quantity that is not a whole number above zero, a unit
    price that is not whole francs. Clinic staff enter claims only for the providers they
    work at (403). Everything else (waiting period, arrears, tariff, package, ceilings,
    duplicates) is decided by the automatic checks, with coded reasons.

    With an `idempotency_key`, entering the same claim again returns the first one; another
    claim under the same key is a 409.
    """
    scope = user_scope(acting_user)
    if not scope.is_superuser and not scope.roles & (MUTUAL_STAFF_ROLES | CLINIC_ROLES):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    today = _today()
    errors: dict[str, Any] = {}
    card = card_number.strip() if isinstance(card_number, str) else ""
    if not card or len(card) > 32:
        errors["card_number"] = _("Enter the beneficiary's card number.")
    if not isinstance(care_date, date):
        errors["care_date"] = _("Enter a valid date (YYYY-MM-DD).")
    elif care_date > today:
        errors["care_date"] = _("The date of care cannot be in the future.")
    if discharge_date is not None:
        if not isinstance(discharge_date, date):
            errors["discharge_date"] = _("Enter a valid date (YYYY-MM-DD).")
        elif discharge_date > today:
            errors["discharge_date"] = _("The discharge date cannot be in the future.")
        elif isinstance(care_date, date) and discharge_date < care_date:
            errors["discharge_date"] = _("The discharge cannot come before the care.")
    diag = diagnosis.strip().upper() if isinstance(diagnosis, str) else None
    if diag is None or (diag and not ICD10.fullmatch(diag)):
        errors["diagnosis"] = _("Enter an ICD-10 code such as A09 or O80.0, or leave empty.")
    clean = _clean_lines(lines, errors)
    key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
    if len(key) > 128 or not key.isprintable():
        errors["idempotency_key"] = _("Required, 1 to 128 printable characters.")

    ben = _find_beneficiary(acting_user, card) if "card_number" not in errors else None
    if ben is None and "card_number" not in errors:
        errors["card_number"] = _("No beneficiary holds this card number.")
    provider = None
    pk = provider_id if is_id(provider_id) else None
    if pk is not None and ben is not None:
        provider = Provider.objects.filter(pk=pk, active=True,
                                           organisation_id=ben.coverage.organisation_id).first()
    elif pk is not None:
        provider = Provider.objects.filter(pk=pk, active=True).first()
    if provider is None:
        errors["provider_id"] = _("Unknown or inactive provider.")
    if ben is not None and isinstance(care_date, date) and "care_date" not in errors:
        start = max(ben.coverage.enrolled_on, ben.since)
        if care_date < start:
            errors["care_date"] = _("Care before the beneficiary's coverage began "
                                    "(%(date)s).") % {"date": _fmt(start)}
    if errors:
        raise invalid(errors)
    mutual = ben.coverage.mutual
    if not _is_mutual_staff(acting_user, mutual) and \
            not provider.staff.filter(pk=acting_user.pk).exists():
        raise Forbidden("not_provider_staff",
                        _("You may enter claims only for the health centre you work at."),
                        {"provider_id": _("You do not work at this provider.")})

    fields = {"beneficiary_id": ben.pk, "provider_id": provider.pk, "care_date": care_date,
              "diagnosis": diag}
    signature = _signature(fields, clean)
    if key:
        existing = _replay(acting_user, key, signature)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            claim = _claim_create(acting_user, mutual=mutual, ben=ben, provider=provider,
                                  care_date=care_date, discharge_date=discharge_date,
                                  diagnosis=diag, lines=clean, key=key, today=today)
            if adjudicate:
                _lock_mutual(mutual)
                _adjudicate(mutual=mutual, claims=Claim.objects.filter(pk=claim.pk),
                            acting_user=acting_user, today=today)
                claim.refresh_from_db()
    except IntegrityError:
        # Two submissions with one key raced: the other committed first; answer as it did.
        existing = _replay(acting_user, key, signature) if key else None
        if existing is None:
            raise
        return existing
    return claim


def _claim_create(user, *, mutual: Unit, ben: Beneficiary, provider: Provider, care_date: date,
                  discharge_date: date | None, diagnosis: str,
                  lines: list[tuple[str, int, int]], key: str, today: date) -> Claim:
    # Gapless per organisation and year (the counter row is locked until commit).
    n = next_number(f"health.claim:{mutual.organisation_id}", today.year)
    claim = Claim.objects.create(
        organisation_id=mutual.organisation_id, mutual=mutual, beneficiary=ben,
        provider=provider, number=f"FS{today.year}-{n:06d}", care_date=care_date,
        discharge_date=discharge_date, diagnosis=diagnosis, status=S.ENTERED,
        claimed=sum(q * p for _c, q, p in lines), entered_by=user, idempotency_key=key)
    tariff = tariff_for(provider, mutual, care_date)
    rows = []
    for no, (code, q, p) in enumerate(lines, start=1):
        item = tariff.item(code) if tariff is not None else None
        rows.append(ClaimLine(claim=claim, line_no=no, item_code=item.code if item else code,
                              tariff_item=item, group=item.group if item else "",
                              quantity=q, unit_price=p, claimed=q * p))
    ClaimLine.objects.bulk_create(rows)
    ClaimEvent.objects.create(claim=claim, by=user, from_status="", to_status=S.ENTERED)
    audit_log(actor=user, event_type="health.claim_entered", subject=claim, unit=mutual,
              after={"number": claim.number, "provider": provider.code,
                     "care_date": care_date.isoformat(), "lines": len(rows),
                     "claimed": claim.claimed})
    return claim


# --- tariffs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ConventionRow:
    pk: int
    provider_id: int
    mutual_id: int | None
    valid_from: date
    valid_until: date | None
    tolerance_pct: int

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)


def _in_force(rows: Iterable[_ConventionRow], on: date) -> _ConventionRow | None:
    # Overlapping conventions: the most recent one applies (as selectors.convention_in_force).
    best = None
    for row in rows:
        if row.in_force(on) and (best is None or (row.valid_from, row.pk) >
                                 (best.valid_from, best.pk)):
            best = row
    return best


def _conventions(mutual_id: int, provider_ids) -> list[_ConventionRow]:
    qs = Convention.objects.filter(Q(mutual_id=mutual_id) | Q(mutual__isnull=True))
    qs = qs.filter(provider_id__in=provider_ids)
    return [_ConventionRow(*row) for row in qs.values_list(
        "pk", "provider_id", "mutual_id", "valid_from", "valid_until", "tolerance_pct")]


def _tariff_key(conventions: list[_ConventionRow], mutual_id: int, on: date) -> int | None:
    """The convention a claim of that date is checked against: the mutual's own when it has
    one in force, else the union-wide one (the rule of selectors.tariff_for, applied here to
    conventions read once for a whole batch); None without any."""
    own = _in_force((c for c in conventions if c.mutual_id == mutual_id), on)
    if own is not None:
        return own.pk
    union = _in_force((c for c in conventions if c.mutual_id is None), on)
    return union.pk if union is not None else None


# --- adjudication -----------------------------------------------------------------------------


@dataclass
class AdjudicationRun:
    """What one adjudication changed: claims by new status, amounts, reasons met."""

    claims: int = 0
    lines: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    mutual_share: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def _lock_mutual(mutual: Unit) -> None:
    """Adjudications of one mutual run one at a time: ceilings and duplicates are first come,
    first served. NO KEY UPDATE (PostgreSQL) does not block inserts referring to the mutual."""
    list(Unit.objects.select_for_update(no_key=True).filter(pk=mutual.pk).values_list("pk"))


def claims_adjudicate(*, acting_user, mutual: Unit, through: date | None = None) -> AdjudicationRun:
    """Check and value every entered claim of a mutual (care up to `through` if given) in one
    transaction: coverage facts, tariffs, ceilings used and care already claimed are read in a
    few statements, health.valuation runs once per package (and tariff version), and lines,
    claims, ceilings used (BenefitUsage) and status history are written set-based."""
    require_mutual_staff(acting_user, mutual)
    claims = Claim.objects.filter(mutual=mutual, status=S.ENTERED)
    if through is not None:
        claims = claims.filter(care_date__lte=through)
    with transaction.atomic():
        _lock_mutual(mutual)
        run = _adjudicate(mutual=mutual, claims=claims, acting_user=acting_user,
                          today=_today())
        if run.claims:
            audit_log(actor=acting_user, event_type="health.claims_adjudicated", subject=mutual,
                      unit=mutual, after={"claims": run.claims, "lines": run.lines,
                                          "by_status": run.by_status,
                                          "mutual_share": run.mutual_share})
    return run


def _birth_date(birth_date: date | None, birth_year: int | None) -> date | None:
    # Only a year known ("né vers 1990"): age counted as people.selectors.age_on counts it
    # (the year's difference), so the clinic's eligibility check and the claim agree.
    if birth_date is not None:
        return birth_date
    return date(birth_year, 1, 1) if birth_year else None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


@dataclass
class _Facts:
    """Everything the checks need, read once for a set of claims."""

    claims: list[tuple]  # (pk, beneficiary, provider, care_date, diagnosis, number)
    lines: dict[int, list[tuple]]  # claim pk -> [(pk, line_no, item_code, quantity, price)]
    coverage_of: dict[int, dict[str, Any]]  # beneficiary pk -> coverage facts
    packages: dict[int, v.Package]
    consumed: dict[tuple[int, str, int], int]  # (beneficiary, group, year) -> share used
    paid_keys: set[v.CareKey]
    prior_events: dict[v.EventKey, v.EventUse]
    conventions: dict[int, list[_ConventionRow]]  # provider -> its conventions
    tariffs: dict[int, tuple[v.Tariff, dict[str, int]]]  # convention -> tariff, item ids


def _load(mutual: Unit, claims: QuerySet[Claim]) -> _Facts:
    rows = list(claims.order_by("pk").values_list(
        "pk", "beneficiary_id", "provider_id", "care_date", "diagnosis", "number"))
    lines: dict[int, list[tuple]] = defaultdict(list)
    for line in (ClaimLine.objects.filter(claim__in=claims.values("pk"))
                 .order_by("claim_id", "line_no")
                 .values_list("claim_id", "pk", "line_no", "item_code", "quantity",
                              "unit_price")):
        lines[line[0]].append(line[1:])
    ben_ids = claims.values("beneficiary_id")
    coverage_of: dict[int, dict[str, Any]] = {}
    for (pk, relation, since, until, birth, birth_year, cov_id, cov_mutual, package_id,
         enrolled, covered_from, ended_on, status, waived) in Beneficiary.objects.filter(
            pk__in=ben_ids).values_list(
            "pk", "relation", "since", "until", "person__birth_date", "person__birth_year",
            "coverage_id", "coverage__mutual_id", "coverage__package_id",
            "coverage__enrolled_on", "coverage__covered_from", "coverage__ended_on",
            "coverage__status", "coverage__agreement__waiting_waived"):
        if cov_mutual != mutual.pk:
            continue  # a card of another mutual: not a beneficiary of this one
        coverage_of[pk] = {
            "coverage_id": cov_id, "package_id": package_id, "relation": relation,
            "since": since, "until": until, "birth": _birth_date(birth, birth_year),
            "birth_date": birth, "birth_year": birth_year, "enrolled_on": enrolled,
            "covered_from": covered_from, "waived": bool(waived),
            "ended_on": ended_on if status == CoverageStatus.ENDED else None,
            "suspensions": [], "resumed": []}
    by_coverage: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for facts in coverage_of.values():
        by_coverage[facts["coverage_id"]].append(facts)
    for cov_id, start, end, reason in SuspensionPeriod.objects.filter(
            coverage_id__in=Beneficiary.objects.filter(pk__in=ben_ids).values("coverage_id")
    ).values_list("coverage_id", "start", "end", "reason"):
        for facts in by_coverage.get(cov_id, ()):
            # A "waiting" period is the stage after a lapse (the contributions service opens
            # it on reinstatement, as long as the package's waiting_days_lapse): valuation
            # applies it from the day coverage resumed.
            if reason == "waiting":
                facts["resumed"].append(start)
            else:
                facts["suspensions"].append((start, end))
    years = {r[3].year for r in rows}
    consumed: dict[tuple[int, str, int], int] = {}
    for ben, year, group, amount in BenefitUsage.objects.filter(
            beneficiary_id__in=ben_ids, year__in=years).values_list(
            "beneficiary_id", "year", "group", "amount"):
        consumed[(ben, group, year)] = amount
    # Care already claimed by these beneficiaries (duplicates), and what it used of each
    # event's limits (a care sheet split in two cannot double a per-event ceiling).
    paid_keys: set[v.CareKey] = set()
    prior: dict[v.EventKey, tuple[dict, dict, dict]] = {}
    for ben, provider, day, code, group, qty, share in ClaimLine.objects.filter(
            claim__beneficiary_id__in=ben_ids, claim__status__in=LIVE_CLAIM_STATUSES,
            status__in=PAYABLE_LINE_STATUSES).values_list(
            "claim__beneficiary_id", "claim__provider_id", "claim__care_date", "item_code",
            "group", "allowed_quantity", "mutual_share"):
        paid_keys.add((ben, provider, day, code))
        items, groups, shares = prior.setdefault((ben, provider, day), ({}, {}, {}))
        items[code] = items.get(code, 0) + qty
        groups[group] = groups.get(group, 0) + qty
        shares[group] = shares.get(group, 0) + share
    prior_events = {k: v.EventUse(*use) for k, use in prior.items()}
    package_ids = {f["package_id"] for f in coverage_of.values()}
    packages, settings = _packages(package_ids)
    for facts in coverage_of.values():
        facts["waiting_days"], facts["child_max_age"] = settings.get(facts["package_id"],
                                                                     (0, None))
    conventions: dict[int, list[_ConventionRow]] = defaultdict(list)
    for row in _conventions(mutual.pk, claims.values("provider_id")):
        conventions[row.provider_id].append(row)
    return _Facts(rows, lines, coverage_of, packages, consumed, paid_keys, prior_events,
                  conventions, {})


def _packages(package_ids: set[int]
              ) -> tuple[dict[int, v.Package], dict[int, tuple[int, int]]]:
    """The packages as valuation takes them, and each one's waiting days after enrolment and
    children's age limit."""
    groups: dict[int, list[v.ServiceGroup]] = defaultdict(list)
    for (package_id, group, pct, per_event, per_year, max_qty, min_age,
         max_age) in BenefitRule.objects.filter(package_id__in=package_ids).values_list(
            "package_id", "group", "mutual_share_pct", "ceiling_per_event", "ceiling_per_year",
            "max_quantity", "min_age", "max_age"):
        groups[package_id].append(v.ServiceGroup(
            code=group, share_bp=pct * 100, ceiling_per_event=per_event,
            ceiling_per_year=per_year, max_quantity_per_event=max_qty, min_age=min_age,
            max_age=max_age))
    out, settings = {}, {}
    for pk, code, days, lapse_days, child_max_age, exclusions in BenefitPackage.objects.filter(
            pk__in=package_ids).values_list("pk", "code", "waiting_days", "waiting_days_lapse",
                                            "child_max_age", "exclusions"):
        settings[pk] = (days, child_max_age)
        try:
            # The waiting period after enrolment is each beneficiary's (eligibility's rule,
            # passed as waiting_ends_on); the one after a lapse is the package's.
            out[pk] = v.Package(
                code=code, groups=tuple(groups[pk]), waiting_days=0,
                waiting_days_after_lapse=lapse_days,
                excluded_items=frozenset(str(x).strip().upper() for x in exclusions or ()))
        except v.ValuationError as exc:
            raise _setup_error(exc, f"package {code}") from None
    return out, settings


def _setup_error(exc: v.ValuationError, what: str) -> ApplicationError:
    return Conflict("health_setup_invalid",
                    _("The benefit package or tariff cannot be applied (%(what)s: %(error)s); "
                      "correct the set-up first.") % {"what": what, "error": exc.message},
                    {exc.field: exc.message})


def _tariff(facts: _Facts, convention_id: int) -> tuple[v.Tariff, dict[str, int]]:
    cached = facts.tariffs.get(convention_id)
    if cached is not None:
        return cached
    rows = list(TariffItem.objects.filter(convention_id=convention_id).values_list(
        "pk", "code", "group", "price", "max_quantity"))
    tolerance = Convention.objects.filter(pk=convention_id).values_list(
        "tolerance_pct", flat=True).first() or 0
    try:
        tariff = v.Tariff(items=tuple(v.TariffItem(code.upper(), group, price, max_qty)
                                      for _pk, code, group, price, max_qty in rows),
                          far_above_bp=tolerance * 100)
    except v.ValuationError as exc:
        raise _setup_error(exc, "tariff") from None
    facts.tariffs[convention_id] = (tariff, {row[1].upper(): row[0] for row in rows})
    return facts.tariffs[convention_id]


def _coverage(ben: int, f: dict[str, Any], consumed: dict[tuple[str, int], int]
              ) -> v.Coverage:
    """What valuation knows of a beneficiary, read as the eligibility check reads it (so the
    clinic's answer and the claim's agree): covered from the later of enrolment and the day
    added, to the earlier of leaving and the coverage's end; a child stops being covered after
    the package's age limit (covered while 18 when it says 18); the waiting period is the
    beneficiary's own (eligibility.beneficiary_covered_from: a person added later waits from
    that day, a baby or a group agreement waiving it does not)."""
    start = max(f["enrolled_on"], f["since"])
    ends = [d for d in (f["until"], f["ended_on"]) if d is not None]
    if f["relation"] == el.CHILD and f["child_max_age"] is not None:
        if f["birth_date"] is not None:
            ends.append(_add_years(f["birth_date"], f["child_max_age"] + 1) - timedelta(days=1))
        elif f["birth_year"]:
            ends.append(date(f["birth_year"] + f["child_max_age"], 12, 31))
    end = min(ends) if ends else None
    periods = (v.Period(start, end),) if end is None or end >= start else ()
    suspensions = tuple(v.Period(s, e) for s, e in f["suspensions"] if e is None or e >= s)
    birth = _Born(f["birth_date"], f["birth_year"])
    waiting_end = el.beneficiary_covered_from(el.Facts(
        on=start, relation=f["relation"], since=f["since"], until=f["until"], age=None,
        age_at_since=age_on(birth, f["since"]), enrolled_on=f["enrolled_on"],
        covered_from=f["covered_from"], ended_on=None, waiting_days=f["waiting_days"],
        waiting_waived=f["waived"], child_max_age=f["child_max_age"] or 0, rules={}))
    return v.Coverage(
        beneficiary_id=ben, periods=periods, suspensions=suspensions,
        enrolled_on=f["enrolled_on"], resumed_on=tuple(f["resumed"]),
        waiting_ends_on=waiting_end, birth_date=f["birth"], consumed=dict(consumed))


@dataclass(frozen=True)
class _Born:
    """The two birth fields of a person, as people.selectors.age_on reads them."""

    birth_date: date | None
    birth_year: int | None


_EMPTY_PACKAGE = v.Package(code="-", groups=())


def _adjudicate(*, mutual: Unit, claims: QuerySet[Claim], acting_user, today: date
                ) -> AdjudicationRun:
    """The shared core of submission and batch adjudication, in the caller's transaction with
    the mutual locked."""
    facts = _load(mutual, claims)
    run = AdjudicationRun()
    if not facts.claims:
        return run
    # Claims are grouped by package and by tariff version: valuation takes one package and
    # one tariff per provider per call. Usually one call; a provider whose convention changed
    # within the claims gives one more call per version.
    buckets: dict[tuple[int | None, int], list[tuple]] = defaultdict(list)
    versions: dict[int, list] = defaultdict(list)
    tariff_of: dict[int, int | None] = {}
    for row in sorted(facts.claims, key=lambda r: (r[3], r[0])):
        pk, ben, provider, care_date = row[0], row[1], row[2], row[3]
        key = _tariff_key(facts.conventions.get(provider, []), mutual.pk, care_date)
        tariff_of[pk] = key
        if key not in versions[provider]:
            versions[provider].append(key)
        cov = facts.coverage_of.get(ben)
        package_id = cov["package_id"] if cov else None
        buckets[(package_id, versions[provider].index(key))].append(row)
    # A card that is not this mutual's has no package: valued against one of the batch's
    # packages it gets NOT_A_BENEFICIARY alone, not a NOT_IN_PACKAGE on every line too.
    known = sorted(p for p, _v in buckets if p is not None)
    if known:
        for version in sorted({ver for p, ver in buckets if p is None}):
            buckets[(known[0], version)].extend(buckets.pop((None, version)))

    # Ceiling consumption per beneficiary, carried from one valuation call to the next.
    consumed: dict[int, dict[tuple[str, int], int]] = defaultdict(dict)
    for (ben, group, year), amount in facts.consumed.items():
        consumed[ben][(group, year)] = amount
    paid_keys = set(facts.paid_keys)
    prior_events = dict(facts.prior_events)
    line_updates: list[tuple] = []
    claim_updates: list[tuple] = []
    events: list[tuple[int, str, str]] = []
    now = timezone.now()
    for (package_id, _version), rows in sorted(buckets.items(), key=lambda kv: (
            kv[0][0] or 0, kv[0][1])):
        package = facts.packages.get(package_id, _EMPTY_PACKAGE) if package_id else \
            _EMPTY_PACKAGE
        tariffs: dict[int, v.Tariff] = {}
        item_ids: dict[int, dict[str, int]] = {}
        inputs, coverages = [], {}
        for pk, ben, provider, care_date, diagnosis, _number in rows:
            key = tariff_of[pk]
            if key is not None and provider not in tariffs:
                tariffs[provider], item_ids[provider] = _tariff(facts, key)
            cov = facts.coverage_of.get(ben)
            if cov is not None and ben not in coverages:
                coverages[ben] = _coverage(ben, cov, consumed.get(ben, {}))
            inputs.append(v.Claim(
                claim_id=pk, beneficiary_id=ben, provider_id=provider, care_date=care_date,
                lines=tuple(v.ClaimLine(code, q, p) for _l, _n, code, q, p in
                            facts.lines.get(pk, ())),
                diagnosis=diagnosis or None))
        try:
            result = v.adjudicate(inputs, package=package, tariffs=tariffs,
                                  coverages=coverages, today=today, paid_keys=paid_keys,
                                  prior_events=prior_events)
        except v.ValuationError as exc:
            raise _setup_error(exc, "claims") from None
        for (ben, group, year), amount in result.consumption.items():
            consumed[ben][(group, year)] = amount
        paid_keys |= result.care_keys
        prior_events.update(result.events)
        provider_of = {r[0]: r[2] for r in rows}
        for cr in result.claims:
            status = _CLAIM_STATUS[cr.status]
            claim_lines = facts.lines.get(cr.claim_id, [])
            ids = item_ids.get(provider_of[cr.claim_id], {})
            for lr in cr.lines:
                line_pk = claim_lines[lr.index][0]
                line_updates.append((
                    line_pk, lr.status.value, [r.value for r in lr.reasons],
                    lr.group or "", ids.get(lr.item_code), lr.claimed, lr.allowed_quantity,
                    lr.allowed_unit_price, lr.allowed, lr.mutual_share, lr.copay))
                for r in lr.reasons:
                    run.reasons[str(r)] = run.reasons.get(str(r), 0) + 1
            decided = status == S.REJECTED
            claim_updates.append((cr.claim_id, status, cr.claimed, cr.allowed, cr.mutual_share,
                                  cr.copay, now if decided else None,
                                  acting_user.pk if decided and acting_user else None))
            events.append((cr.claim_id, status, " ".join(str(r) for r in cr.reasons)[:500]))
            run.by_status[status] = run.by_status.get(status, 0) + 1
            run.mutual_share += cr.mutual_share
            run.claims += 1
            run.lines += len(cr.lines)

    bulk_set(ClaimLine, ["status", "reasons", "group", "tariff_item_id", "claimed",
                         "allowed_quantity", "allowed_unit_price", "allowed", "mutual_share",
                         "copay"], line_updates)
    bulk_set(Claim, ["status", "claimed", "allowed", "mutual_share", "copay", "decided_at",
                     "decided_by_id"], claim_updates)
    _events_insert(events, acting_user, now)
    _usage_write(facts, consumed)
    return run


def _events_insert(events: list[tuple[int, str, str]], user, at) -> None:
    """The status history of an adjudication (claim, new status, reasons): building a model
    per row cost more than the insert itself."""
    by = user.pk if getattr(user, "pk", None) else None
    at_value = ClaimEvent._meta.get_field("at").get_db_prep_save(at, connection)
    _insert(ClaimEvent._meta.db_table, ["claim_id", "at", "by_id", "from_status", "to_status",
                                        "note"],
            [(claim_id, at_value, by, S.ENTERED.value, status, note)
             for claim_id, status, note in events])


def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    """Plain rows into a table: COPY on PostgreSQL, one executemany on SQLite."""
    if not rows:
        return
    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {q(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {q(table)} ({names}) VALUES ({marks})",  # noqa: S608
                               rows)


def _usage_write(facts: _Facts, consumed: dict[int, dict[tuple[str, int], int]]) -> None:
    """The new totals of ceiling consumption: rows of this batch's (beneficiary, year, group)
    keys inserted or, when they exist, set (one upsert per row, sent together)."""
    changed = [(b, y, g, a) for b, per in consumed.items() for (g, y), a in per.items()
               if facts.consumed.get((b, g, y)) != a]
    if not changed:
        return
    q = connection.ops.quote_name
    sql = (f"INSERT INTO {q(BenefitUsage._meta.db_table)} ({q('beneficiary_id')}, "  # noqa: S608
           f"{q('year')}, {q('group')}, {q('amount')}) VALUES (%s, %s, %s, %s) "
           f"ON CONFLICT ({q('beneficiary_id')}, {q('year')}, {q('group')}) "
           f"DO UPDATE SET {q('amount')} = excluded.{q('amount')}")
    with connection.cursor() as cursor:
        cursor.executemany(sql, changed)


def bulk_set(model, columns: list[str], rows: list[tuple], batch: int = 1000) -> None:
    """UPDATE many rows by primary key in a few statements: `rows` are (pk, *values in
    `columns` order). SQLite (>= 3.33): UPDATE ... FROM (VALUES ...) in batches, where
    Django's bulk_update builds a CASE per column that grows with the batch; PostgreSQL: see
    _pg_bulk_set."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _pg_bulk_set(model, columns, rows)
        return
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    fields = [model._meta.get_field(c) for c in columns]
    sets = [f"{q(f.column)} = v.column{i}" for i, f in enumerate(fields, start=2)]
    placeholder = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    # Integers and text go to the driver as they are; only JSON and datetimes need Django's
    # preparation (calling it for every value was half the time of a 100,000-line run).
    prepare = [f if f.get_internal_type() in ("JSONField", "DateTimeField") else None
               for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            params: list[Any] = []
            for row in chunk:
                params.append(row[0])
                for f, value in zip(prepare, row[1:], strict=True):
                    params.append(value if f is None or value is None
                                  else f.get_db_prep_save(value, connection))
            sql = (f"UPDATE {table} SET {', '.join(sets)} FROM (VALUES "  # noqa: S608
                   f"{', '.join([placeholder] * len(chunk))}) AS v "
                   f"WHERE {table}.{q('id')} = v.column1")
            cursor.execute(sql, params)


def _pg_bulk_set(model, columns: list[str], rows: list[tuple]) -> None:
    """PostgreSQL: COPY the new values into a temporary table, then one UPDATE joined on the
    primary key (a VALUES list is parsed and planned per batch: three times slower)."""
    q = connection.ops.quote_name
    table = model._meta.db_table
    fields = [model._meta.get_field(c) for c in columns]
    temp = q(f"tmp_set_{table}")
    defs = ", ".join(f"{q(f.column)} {f.db_type(connection)}" for f in fields)
    names = ", ".join(q(f.column) for f in fields)
    json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} (id bigint PRIMARY KEY, {defs})")
        with cursor.cursor.copy(f"COPY {temp} (id, {names}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i + 1] = json.dumps(row[i + 1])
                copy.write_row(row)
        sets = ", ".join(f"{q(f.column)} = t.{q(f.column)}" for f in fields)
        cursor.execute(f"UPDATE {q(table)} SET {sets} FROM {temp} t "  # noqa: S608
                       f"WHERE {q(table)}.{q('id')} = t.id")
        cursor.execute(f"DROP TABLE {temp}")


# --- review -----------------------------------------------------------------------------------


ACCEPT, REDUCE, REJECT = "accept", "reduce", "reject"


@dataclass(frozen=True)
class LineDecision:
    """A reviewer's decision on one flagged line: accept it as valued (at the tariff), reduce
    it (to a lower quantity and/or unit price) or reject it, with a coded reason for the last
    two (MANUAL_REASONS or one of health.valuation's codes)."""

    line_no: Any
    action: Any
    reason: Any = ""
    quantity: Any = None
    unit_price: Any = None


def _reason_ok(code: Any) -> bool:
    return isinstance(code, str) and (code in MANUAL_REASONS or code in v.REASON_LABELS)


def _check_transition(claim: Claim, to: str) -> None:
    if to not in TRANSITIONS.get(claim.status, set()):
        raise Conflict("claim_status",
                       _("A claim that is %(status)s cannot become %(to)s.") % {
                           "status": S(claim.status).label, "to": S(to).label},
                       {"status": _("Not allowed from this status.")})


def _lock_claim(claim: Claim) -> Claim:
    # The claim's row only: locking the mutual's unit too would hold up every insert that
    # refers to it until this decision commits.
    locked = Claim.objects.select_for_update(of=("self",)).select_related("mutual").get(
        pk=claim.pk)
    return locked


def _event(claim: Claim, user, from_status: str, to_status: str, note: str = "") -> None:
    ClaimEvent.objects.create(claim=claim, by=user, from_status=from_status,
                              to_status=to_status, note=note[:500])


def _release(claim: Claim, line: ClaimLine, amount: int) -> None:
    """Give back ceiling consumption a reviewer refused (flagged lines count provisionally)."""
    if amount <= 0 or not line.group:
        return
    BenefitUsage.objects.filter(beneficiary_id=claim.beneficiary_id, year=claim.care_date.year,
                                group=line.group).update(amount=F("amount") - amount)


def reduced_share(*, share: int, allowed_before: int, allowed_after: int) -> int:
    """The mutual's share of a line a reviewer reduced: the same proportion of the new allowed
    amount, rounded down to the franc (the member's part absorbs the fraction, as in
    valuation), never above the share valued before (ceilings stay respected)."""
    if allowed_before <= 0 or allowed_after <= 0:
        return 0
    return min(share, share * allowed_after // allowed_before)


def _totals(claim: Claim) -> None:
    lines = list(claim.lines.all())
    claim.claimed = sum(x.claimed for x in lines)
    claim.allowed = sum(x.allowed for x in lines)
    claim.mutual_share = sum(x.mutual_share for x in lines)
    claim.copay = sum(x.copay for x in lines)


def claim_review(*, acting_user, claim: Claim, decisions: Sequence[LineDecision | dict],
                 note: str = "") -> Claim:
    """Decide every flagged line of a claim in review; the claim then becomes valued (to be
    approved) or, if no line is left to pay, rejected. Mutual staff only."""
    require_mutual_staff(acting_user, claim.mutual)
    note = note.strip() if isinstance(note, str) else ""
    with transaction.atomic():
        locked = _lock_claim(claim)
        if locked.status != S.REVIEW:
            raise Conflict("claim_not_in_review", _("This claim is not waiting for a review."),
                           {"status": _("Not in review.")})
        lines = {x.line_no: x for x in locked.lines.select_for_update().order_by("line_no")}
        flagged = {no for no, x in lines.items() if x.status == LINE_FLAGGED}
        errors: dict[str, Any] = {}
        chosen: dict[int, LineDecision] = {}
        for i, d in enumerate(decisions or ()):
            if isinstance(d, dict):
                d = LineDecision(**{k: d.get(k) for k in ("line_no", "action", "reason",
                                                          "quantity", "unit_price")})
            if not isinstance(d, LineDecision) or d.line_no not in flagged:
                errors[f"decisions.{i}.line_no"] = _("Not a line waiting for a decision.")
                continue
            if d.line_no in chosen:
                errors[f"decisions.{i}.line_no"] = _("One decision per line.")
                continue
            if d.action not in (ACCEPT, REDUCE, REJECT):
                errors[f"decisions.{i}.action"] = _("Accept, reduce or reject.")
                continue
            if d.action != ACCEPT and not _reason_ok(d.reason):
                errors[f"decisions.{i}.reason"] = _("Choose a coded reason.")
            if d.reason == "OTHER" and not note:
                errors["note"] = _("Explain the reason in a note.")
            if d.action == REDUCE:
                _check_reduction(lines[d.line_no], d, i, errors)
            chosen[d.line_no] = d
        missing = sorted(flagged - set(chosen))
        if missing and "decisions" not in errors:
            errors["decisions"] = _("Decide every flagged line (missing: %(lines)s).") % {
                "lines": ", ".join(str(n) for n in missing)}
        if errors:
            raise invalid(errors)
        for no, d in chosen.items():
            _apply_decision(locked, lines[no], d)
        ClaimLine.objects.bulk_update(
            [lines[no] for no in chosen],
            ["status", "reasons", "allowed_quantity", "allowed_unit_price", "allowed",
             "mutual_share", "copay"])
        _totals(locked)
        to = S.VALUED if any(x.status != LINE_REJECTED for x in lines.values()) else S.REJECTED
        _check_transition(locked, to)
        from_status = locked.status
        locked.status = to
        if to == S.REJECTED:
            locked.decided_at, locked.decided_by = timezone.now(), acting_user
        locked.save(update_fields=["status", "claimed", "allowed", "mutual_share", "copay",
                                   "decided_at", "decided_by"])
        summary = ", ".join(f"{no}:{d.action}{':' + d.reason if d.reason else ''}"
                            for no, d in sorted(chosen.items()))
        _event(locked, acting_user, from_status, to, f"{summary} {note}".strip())
        audit_log(actor=acting_user, event_type="health.claim_reviewed", subject=locked,
                  unit=locked.mutual, after={"status": to, "decisions": summary,
                                             "mutual_share": locked.mutual_share})
    return locked


def _check_reduction(line: ClaimLine, d: LineDecision, i: int, errors: dict[str, Any]) -> None:
    q = line.allowed_quantity if d.quantity is None else d.quantity
    p = line.allowed_unit_price if d.unit_price is None else d.unit_price
    if type(q) is not int or not 0 < q <= line.allowed_quantity:
        errors[f"decisions.{i}.quantity"] = _(
            "A whole quantity from 1 to %(n)d.") % {"n": line.allowed_quantity}
    if type(p) is not int or not 0 <= p <= line.allowed_unit_price:
        errors[f"decisions.{i}.unit_price"] = _(
            "A unit price from 0 to %(n)d F.") % {"n": line.allowed_unit_price}
    elif type(q) is int and q * p >= line.allowed and not errors.get(f"decisions.{i}.quantity"):
        errors[f"decisions.{i}.quantity"] = _("A reduction must lower the allowed amount.")


def _apply_decision(claim: Claim, line: ClaimLine, d: LineDecision) -> None:
    reasons = list(line.reasons)
    if d.action == ACCEPT:
        # Accepted as valued: the price was already brought to the tariff.
        line.status = LINE_REDUCED if line.allowed < line.claimed else LINE_ACCEPTED
        line.reasons = reasons
        return
    if d.action == REJECT:
        _release(claim, line, line.mutual_share)
        line.status, line.reasons = LINE_REJECTED, [*reasons, d.reason]
        line.allowed_quantity = line.allowed_unit_price = 0
        line.allowed = line.mutual_share = line.copay = 0
        return
    q = line.allowed_quantity if d.quantity is None else d.quantity
    p = line.allowed_unit_price if d.unit_price is None else d.unit_price
    allowed = q * p
    share = reduced_share(share=line.mutual_share, allowed_before=line.allowed,
                          allowed_after=allowed)
    _release(claim, line, line.mutual_share - share)
    line.status, line.reasons = LINE_REDUCED, [*reasons, d.reason]
    line.allowed_quantity, line.allowed_unit_price = q, p
    line.allowed, line.mutual_share, line.copay = allowed, share, allowed - share


def claim_reject(*, acting_user, claim: Claim, reason: Any, note: str = "") -> Claim:
    """Reject a whole claim in review or valued (not yet approved) with a coded reason; the
    ceiling consumption of its lines is given back. Mutual staff only."""
    require_mutual_staff(acting_user, claim.mutual)
    note = note.strip() if isinstance(note, str) else ""
    if not _reason_ok(reason):
        raise invalid({"reason": _("Choose a coded reason.")})
    if reason == "OTHER" and not note:
        raise invalid({"note": _("Explain the reason in a note.")})
    with transaction.atomic():
        locked = _lock_claim(claim)
        _check_transition(locked, S.REJECTED)
        lines = list(locked.lines.select_for_update().order_by("line_no"))
        for line in lines:
            if line.status != LINE_REJECTED:
                _release(locked, line, line.mutual_share)
                line.status, line.reasons = LINE_REJECTED, [*line.reasons, reason]
                line.allowed_quantity = line.allowed_unit_price = 0
                line.allowed = line.mutual_share = line.copay = 0
        ClaimLine.objects.bulk_update(lines, ["status", "reasons", "allowed_quantity",
                                              "allowed_unit_price", "allowed", "mutual_share",
                                              "copay"])
        from_status = locked.status
        _totals(locked)
        locked.status, locked.decided_at, locked.decided_by = (
            S.REJECTED, timezone.now(), acting_user)
        locked.save(update_fields=["status", "claimed", "allowed", "mutual_share", "copay",
                                   "decided_at", "decided_by"])
        _event(locked, acting_user, from_status, S.REJECTED, f"{reason} {note}".strip())
        audit_log(actor=acting_user, event_type="health.claim_rejected", subject=locked,
                  unit=locked.mutual, after={"reason": reason, "note": note})
    return locked


# --- approval ---------------------------------------------------------------------------------


def claim_approve(*, acting_user, claim: Claim, note: str = "") -> Claim:
    """Approve a valued claim for payment. Maker-checker: the person who entered the claim
    cannot approve it (a claims officer who typed a sheet asks a colleague or the manager);
    clinic staff never approve."""
    return claims_approve(acting_user=acting_user, mutual=claim.mutual, claim_ids=[claim.pk],
                          note=note)[0]


def claims_approve(*, acting_user, mutual: Unit, claim_ids: Sequence[Any], note: str = ""
                   ) -> list[Claim]:
    """Approve several valued claims of one mutual at once (all or none)."""
    require_mutual_staff(acting_user, mutual)
    ids = [pk for pk in claim_ids if is_id(pk)]
    if not ids or len(ids) != len(claim_ids) or len(set(ids)) != len(ids):
        raise invalid({"claim_ids": _("Give the claims to approve, each once.")})
    note = note.strip()[:500] if isinstance(note, str) else ""
    with transaction.atomic():
        claims = list(Claim.objects.select_for_update().filter(pk__in=ids, mutual=mutual)
                      .order_by("pk"))
        if len(claims) != len(ids):
            raise NotFound("claim_not_found", _("Claim not found."))
        for claim in claims:
            _check_transition(claim, S.APPROVED)
            if claim.entered_by_id == acting_user.pk:
                raise Forbidden("maker_checker",
                                _("You entered claim %(number)s: another person approves it.")
                                % {"number": claim.number})
        now = timezone.now()
        Claim.objects.filter(pk__in=ids).update(status=S.APPROVED, decided_at=now,
                                                decided_by=acting_user)
        ClaimEvent.objects.bulk_create([
            ClaimEvent(claim=c, by=acting_user, from_status=S.VALUED, to_status=S.APPROVED,
                       note=note) for c in claims])
        for claim in claims:
            audit_log(actor=acting_user, event_type="health.claim_approved", subject=claim,
                      unit=mutual, after={"mutual_share": claim.mutual_share})
            claim.status, claim.decided_at, claim.decided_by = S.APPROVED, now, acting_user
    return claims
