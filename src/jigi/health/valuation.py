"""Claim adjudication (automatic checks) and valuation for the mutuals: pure, whole francs.

The vocabulary is openIMIS's (products with service groups, price lists per health facility,
claim lines checked then valuated, a review queue), with the rules of a Malian mutual's
benefit package (garanties): a mutual share per service group, ceilings per event and per
beneficiary per year, quantity limits, age limits, waiting periods (stage) after enrolment and
after a lapse, exclusions.

One call adjudicates a batch: `adjudicate(claims, package=..., tariffs=..., coverages=...,
today=..., paid_keys=..., prior_events=...)`. Claims are processed in a fixed order, care
date then claim id, whatever order they are given in, because ceilings and duplicates are first
come, first served. An event (one beneficiary at one provider on one day) carries the
per-event ceilings and quantity limits across the claims entered for it. Each line gets a
status and coded reasons; the service layer persists the results, the updated consumption of
yearly ceilings, the events' use and the care keys of the lines it may pay. The reason codes
and a worked example are in docs/health-valuation.md.

Money rule: every amount is an `int` of francs CFA. Per line, `allowed` = allowed unit price x
allowed quantity; the mutual share is `allowed x share_bp / 10,000` rounded DOWN to the franc
(the member's part absorbs the fraction, never more than 1 F a line), then cut to what the
ceilings leave; the co-payment is `allowed - share`, so the two always add up to `allowed`.
A rejected line allows, shares and co-pays 0 (the member owes the provider outside the
scheme).

Nothing here imports Django; reason labels are English and the caller translates them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from jigi.core.money import MAX_AMOUNT

BP = 10_000  # basis points in 100 %: 6,000 = 60 %
# One line claiming more than this many units is a typing error (a year of daily tablets
# is 1,095), not care.
MAX_QUANTITY = 100_000
# ICD-10 as the WHO prints it: a letter, two digits, optionally a dot and up to 4 characters.
_ICD10 = re.compile(r"[A-Z][0-9]{2}(?:\.?[0-9A-Z]{1,4})?")

CareKey = tuple[int, int, date, str]  # beneficiary, provider, care date, item code
# One event (a visit, a stay entered on its admission day): per-event ceilings and quantity
# limits apply to it across all the claims entered for it, so splitting a care sheet in two
# cannot double a limit.
EventKey = tuple[int, int, date]  # beneficiary, provider, care date
ConsumptionKey = tuple[int, str, int]  # beneficiary, service group, calendar year


class ValuationError(ValueError):
    """A package, tariff or coverage that cannot be adjudicated against (a set-up error, not a
    claim's fault: bad claims get coded rejections instead)."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


class LineStatus(StrEnum):
    ACCEPTED = "accepted"
    REDUCED = "reduced"
    REJECTED = "rejected"
    FLAGGED = "flagged"  # a person decides; the valuation shown is provisional


class ClaimOutcome(StrEnum):
    ACCEPTED = "accepted"  # every line accepted
    REDUCED = "reduced"  # some line reduced or rejected, not all rejected, none flagged
    REJECTED = "rejected"  # every line rejected (or no line)
    REVIEW = "review"  # some line flagged: the claim goes to the review queue


class Reason(StrEnum):
    """Stable codes: stored with claim lines and shown translated. Never rename one."""

    # claim or beneficiary (reject every line)
    FUTURE_DATE = "FUTURE_DATE"
    NOT_A_BENEFICIARY = "NOT_A_BENEFICIARY"
    NOT_COVERED_ON_DATE = "NOT_COVERED_ON_DATE"
    SUSPENDED_ARREARS = "SUSPENDED_ARREARS"
    NO_CONVENTION = "NO_CONVENTION"
    EMPTY_CLAIM = "EMPTY_CLAIM"
    # line (reject)
    BAD_QUANTITY = "BAD_QUANTITY"
    BAD_PRICE = "BAD_PRICE"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    NOT_IN_PACKAGE = "NOT_IN_PACKAGE"
    EXCLUDED = "EXCLUDED"
    WAITING_PERIOD = "WAITING_PERIOD"
    AGE_LIMIT = "AGE_LIMIT"
    DUPLICATE = "DUPLICATE"
    # line (reduce; a limit already used up rejects)
    PRICE_ABOVE_TARIFF = "PRICE_ABOVE_TARIFF"
    QUANTITY_LIMIT = "QUANTITY_LIMIT"
    CEILING_EVENT = "CEILING_EVENT"
    CEILING_YEAR = "CEILING_YEAR"
    # line (flag for review)
    PRICE_FAR_ABOVE_TARIFF = "PRICE_FAR_ABOVE_TARIFF"
    AGE_UNKNOWN = "AGE_UNKNOWN"
    DIAGNOSIS_MISSING = "DIAGNOSIS_MISSING"
    DIAGNOSIS_INVALID = "DIAGNOSIS_INVALID"


REASON_LABELS: dict[str, str] = {
    Reason.FUTURE_DATE: "Care date is in the future",
    Reason.NOT_A_BENEFICIARY: "Not a beneficiary of this mutual",
    Reason.NOT_COVERED_ON_DATE: "Not covered on the care date",
    Reason.SUSPENDED_ARREARS: "Coverage suspended for unpaid contributions",
    Reason.NO_CONVENTION: "No convention with this provider on the care date",
    Reason.EMPTY_CLAIM: "The claim has no lines",
    Reason.BAD_QUANTITY: "Quantity must be a whole number above zero",
    Reason.BAD_PRICE: "Unit price must be a whole number of francs above zero",
    Reason.UNKNOWN_ITEM: "Act or drug not in the convention tariff",
    Reason.NOT_IN_PACKAGE: "Service not covered by the benefit package",
    Reason.EXCLUDED: "Excluded from the benefit package",
    Reason.WAITING_PERIOD: "Waiting period not over on the care date",
    Reason.AGE_LIMIT: "Beneficiary's age outside the limits for this service",
    Reason.DUPLICATE: "Same care already claimed (same person, provider, date and item)",
    Reason.PRICE_ABOVE_TARIFF: "Price above the convention tariff: reduced to the tariff",
    Reason.QUANTITY_LIMIT: "Quantity above the limit: reduced",
    Reason.CEILING_EVENT: "Ceiling per event reached",
    Reason.CEILING_YEAR: "Yearly ceiling per beneficiary reached",
    Reason.PRICE_FAR_ABOVE_TARIFF: "Price far above the convention tariff: to be reviewed",
    Reason.AGE_UNKNOWN: "Birth date unknown for a service with age limits: to be reviewed",
    Reason.DIAGNOSIS_MISSING: "Diagnosis required for this service: to be reviewed",
    Reason.DIAGNOSIS_INVALID: "Diagnosis is not an ICD-10 code: to be reviewed",
}

FLAG_REASONS = frozenset({Reason.PRICE_FAR_ABOVE_TARIFF, Reason.AGE_UNKNOWN,
                            Reason.DIAGNOSIS_MISSING, Reason.DIAGNOSIS_INVALID})
REDUCE_REASONS = frozenset({Reason.PRICE_ABOVE_TARIFF, Reason.QUANTITY_LIMIT,
                            Reason.CEILING_EVENT, Reason.CEILING_YEAR})


def reason_label(code: str) -> str:
    """The English label of a reason code (the caller maps it through gettext)."""
    return REASON_LABELS[code]


def _whole(field_name: str, value: object, *, minimum: int = 0, maximum: int = MAX_AMOUNT,
           optional: bool = False) -> None:
    if value is None and optional:
        return
    if type(value) is not int or not minimum <= value <= maximum:
        raise ValuationError(field_name, f"a whole number from {minimum} to {maximum}")


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceGroup:
    """One group of covered services in a package (consultation, essential drugs, ...).

    `share_bp`: what the mutual pays of the allowed amount, in basis points (6,000 = 60 %).
    `ceiling_per_event`: most the mutual pays for this group in one event (see EventKey).
    `ceiling_per_year`: most the mutual pays for this group per beneficiary per calendar year.
    `max_quantity_per_event`: most units of this group in one event (e.g. 10 hospital days).
    `min_age` / `max_age`: inclusive limits, in whole years on the care date.
    `waiting_days`: replaces the package's waiting period after enrolment for this group
    (deliveries often wait 270 days). `requires_diagnosis`: lines without an ICD-10 code go to
    review. None means no limit.
    """

    code: str
    share_bp: int
    ceiling_per_event: int | None = None
    ceiling_per_year: int | None = None
    max_quantity_per_event: int | None = None
    min_age: int | None = None
    max_age: int | None = None
    waiting_days: int | None = None
    requires_diagnosis: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValuationError("code", "a service group needs a code")
        _whole("share_bp", self.share_bp, maximum=BP)
        _whole("ceiling_per_event", self.ceiling_per_event, optional=True)
        _whole("ceiling_per_year", self.ceiling_per_year, optional=True)
        _whole("max_quantity_per_event", self.max_quantity_per_event, minimum=1,
               maximum=MAX_QUANTITY, optional=True)
        _whole("min_age", self.min_age, maximum=150, optional=True)
        _whole("max_age", self.max_age, maximum=150, optional=True)
        _whole("waiting_days", self.waiting_days, maximum=3_660, optional=True)
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValuationError("max_age", "the maximum age is below the minimum age")


@dataclass(frozen=True, slots=True)
class Package:
    """A benefit package: its service groups, waiting periods and exclusions.

    `waiting_days`: days after enrolment before care is covered (care on enrolment date +
    waiting_days is covered). `waiting_days_after_lapse`: the same after coverage resumes
    following a lapse. `excluded_items`: tariff codes never paid under this package.
    `excluded_diagnoses`: ICD-10 prefixes ("Z41" cosmetic surgery) whose claims are excluded.
    """

    code: str
    groups: tuple[ServiceGroup, ...]
    waiting_days: int = 0
    waiting_days_after_lapse: int = 0
    excluded_items: frozenset[str] = frozenset()
    excluded_diagnoses: tuple[str, ...] = ()
    _by_code: dict[str, ServiceGroup] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _whole("waiting_days", self.waiting_days, maximum=3_660)
        _whole("waiting_days_after_lapse", self.waiting_days_after_lapse, maximum=3_660)
        by_code = {g.code: g for g in self.groups}
        if len(by_code) != len(self.groups):
            raise ValuationError("groups", "each service group appears once")
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "excluded_items", frozenset(self.excluded_items))
        object.__setattr__(self, "excluded_diagnoses",
                           tuple(p.strip().upper() for p in self.excluded_diagnoses))

    def group(self, code: str) -> ServiceGroup | None:
        return self._by_code.get(code)


@dataclass(frozen=True, slots=True)
class TariffItem:
    """An act or drug of a convention: its service group, agreed unit price and, optionally,
    the most units allowed in one event."""

    code: str
    group: str
    price: int
    max_quantity: int | None = None

    def __post_init__(self) -> None:
        _whole(f"{self.code}.price", self.price)
        _whole(f"{self.code}.max_quantity", self.max_quantity, minimum=1, maximum=MAX_QUANTITY,
               optional=True)


@dataclass(frozen=True, slots=True)
class Tariff:
    """A provider's convention tariff, in force from `valid_from` to `valid_to` inclusive
    (None: open). A claimed price more than `far_above_bp` above the tariff (5,000 = 50 %) is
    flagged for review rather than silently reduced."""

    items: tuple[TariffItem, ...]
    far_above_bp: int = 5_000
    valid_from: date | None = None
    valid_to: date | None = None
    _by_code: dict[str, TariffItem] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _whole("far_above_bp", self.far_above_bp, maximum=100 * BP)
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValuationError("valid_to", "the convention ends before it starts")
        by_code = {i.code: i for i in self.items}
        if len(by_code) != len(self.items):
            raise ValuationError("items", "each tariff item appears once")
        object.__setattr__(self, "_by_code", by_code)

    def item(self, code: str) -> TariffItem | None:
        return self._by_code.get(code)

    def in_force(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Period:
    """Dates from `start` to `end` inclusive; `end` None is open-ended."""

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValuationError("end", "a period ends before it starts")

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the service knows of one beneficiary (a person with no Coverage is not one).

    `periods`: when the beneficiary is covered (policy periods, renewals).
    `suspensions`: when coverage is suspended for arrears (after the grace period).
    `enrolled_on`: start of the enrolment waiting period (default: the first period's start).
    `resumed_on`: dates on which coverage resumed after a lapse (each restarts the package's
    `waiting_days_after_lapse`). `waiting_ends_on`: a waiting end decided elsewhere (e.g. a
    transfer between mutuals with no new stage); care before it waits too.
    `consumed`: mutual share already paid this year per (service group, calendar year).
    """

    beneficiary_id: int
    periods: tuple[Period, ...]
    suspensions: tuple[Period, ...] = ()
    enrolled_on: date | None = None
    resumed_on: tuple[date, ...] = ()
    waiting_ends_on: date | None = None
    birth_date: date | None = None
    consumed: Mapping[tuple[str, int], int] = field(default_factory=dict)
    _stage_from: date | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_stage_from", self.enrolled_on or min(
            (p.start for p in self.periods), default=None))
        object.__setattr__(self, "resumed_on", tuple(sorted(self.resumed_on)))

    def covered_on(self, day: date) -> bool:
        return any(p.contains(day) for p in self.periods)

    def suspended_on(self, day: date) -> bool:
        return any(p.contains(day) for p in self.suspensions)

    def waiting_until(self, package: Package, group: ServiceGroup, day: date) -> date | None:
        """First covered day for `group` as seen on `day` (None: no waiting applies)."""
        end = self.waiting_ends_on
        days = group.waiting_days if group.waiting_days is not None else package.waiting_days
        if self._stage_from is not None and days:
            candidate = self._stage_from + timedelta(days=days)
            if end is None or candidate > end:
                end = candidate
        if self.resumed_on and package.waiting_days_after_lapse:
            resumed = [r for r in self.resumed_on if r <= day]
            if resumed:
                candidate = resumed[-1] + timedelta(days=package.waiting_days_after_lapse)
                if end is None or candidate > end:
                    end = candidate
        return end


@dataclass(frozen=True, slots=True)
class ClaimLine:
    item_code: str
    quantity: int
    unit_price: int  # claimed, francs CFA


@dataclass(frozen=True, slots=True)
class Claim:
    """A care sheet (feuille de soins): one beneficiary, one provider, one care date."""

    claim_id: int
    beneficiary_id: int
    provider_id: int
    care_date: date
    lines: tuple[ClaimLine, ...]
    diagnosis: str | None = None  # ICD-10


# --- outputs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventUse:
    """What the payable lines of one event used: units per item and per group, mutual share
    per group. Given for events already claimed in earlier batches; returned updated."""

    item_quantity: Mapping[str, int] = field(default_factory=dict)
    group_quantity: Mapping[str, int] = field(default_factory=dict)
    group_share: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineResult:
    index: int  # position in the claim's lines
    item_code: str
    group: str | None
    status: LineStatus
    reasons: tuple[Reason, ...]
    claimed: int  # quantity x claimed unit price (0 when either is unusable)
    allowed_quantity: int
    allowed_unit_price: int
    allowed: int
    mutual_share: int
    copay: int  # the member's part of the allowed amount


@dataclass(frozen=True, slots=True)
class ClaimResult:
    claim_id: int
    status: ClaimOutcome
    reasons: tuple[Reason, ...]  # every reason of its lines, first seen first
    lines: tuple[LineResult, ...]
    claimed: int
    allowed: int
    mutual_share: int
    copay: int


@dataclass(frozen=True, slots=True)
class Adjudication:
    claims: tuple[ClaimResult, ...]  # in processing order: care date, then claim id
    # Updated totals of mutual share per (beneficiary, group, year), for the keys this batch
    # added to; flagged lines count (provisionally) so a pending review cannot let later
    # claims overrun a ceiling; the service releases what a reviewer refuses.
    consumption: dict[ConsumptionKey, int]
    # Care keys of the lines that may be paid (accepted, reduced, flagged), to add to history.
    care_keys: frozenset[CareKey]
    # Updated use of every event this batch added to (same provisional rule as consumption).
    events: dict[EventKey, EventUse]

    def by_id(self) -> dict[int, ClaimResult]:
        return {c.claim_id: c for c in self.claims}


# --- adjudication ---------------------------------------------------------------------------


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _rejected(index: int, line: ClaimLine, group: str | None, reasons: list[Reason],
              claimed: int) -> LineResult:
    return LineResult(index, line.item_code, group, LineStatus.REJECTED, tuple(reasons), claimed,
                      0, 0, 0, 0, 0)


def _claim_reasons(claim: Claim, *, package: Package, tariff: Tariff | None,
                   coverage: Coverage | None, today: date) -> tuple[list[Reason], list[Reason]]:
    """Reasons that apply to every line: (rejections, review flags)."""
    day = claim.care_date
    reject: list[Reason] = []
    if day > today:
        reject.append(Reason.FUTURE_DATE)
    if coverage is None:
        reject.append(Reason.NOT_A_BENEFICIARY)
    else:
        if not coverage.covered_on(day):
            reject.append(Reason.NOT_COVERED_ON_DATE)
        if coverage.suspended_on(day):
            reject.append(Reason.SUSPENDED_ARREARS)
    if tariff is None or not tariff.in_force(day):
        reject.append(Reason.NO_CONVENTION)
    review: list[Reason] = []
    diagnosis = (claim.diagnosis or "").strip().upper()
    if diagnosis:
        if not _ICD10.fullmatch(diagnosis):
            review.append(Reason.DIAGNOSIS_INVALID)
        elif any(diagnosis.startswith(p) for p in package.excluded_diagnoses):
            reject.append(Reason.EXCLUDED)
    return reject, review


def adjudicate(claims: Iterable[Claim], *, package: Package, tariffs: Mapping[int, Tariff],
               coverages: Mapping[int, Coverage], today: date,
               paid_keys: Collection[CareKey] = frozenset(),
               prior_events: Mapping[EventKey, EventUse] | None = None) -> Adjudication:
    """Check and value a batch of claims against one package.

    `tariffs`: the convention tariff of each provider id. `coverages`: by beneficiary id.
    `today`: care after it is rejected (FUTURE_DATE). `paid_keys`: care keys already paid or
    pending from earlier batches; a line with such a key is a DUPLICATE, and so is a line of a
    later claim (in processing order) repeating a key of an earlier claim in this batch (two
    lines of one claim with the same item are one prescription: quantity limits apply
    instead). `prior_events`: what payable lines of earlier batches used of the events this
    batch's claims belong to.
    """
    ordered = sorted(claims, key=lambda c: (c.care_date, c.claim_id))
    ids = {c.claim_id for c in ordered}
    if len(ids) != len(ordered):
        raise ValuationError("claims", "each claim id appears once in a batch")
    paid = paid_keys if isinstance(paid_keys, (set, frozenset)) else frozenset(paid_keys)
    batch_keys: dict[CareKey, int] = {}
    consumption: dict[ConsumptionKey, int] = {}
    events: dict[EventKey, _Use] = {}
    prior = prior_events or {}
    results: list[ClaimResult] = []
    for claim in ordered:
        coverage = coverages.get(claim.beneficiary_id)
        tariff = tariffs.get(claim.provider_id)
        claim_reject, claim_review = _claim_reasons(claim, package=package, tariff=tariff,
                                                    coverage=coverage, today=today)
        event = (claim.beneficiary_id, claim.provider_id, claim.care_date)
        use = events.get(event)
        if use is None:
            use = events[event] = _Use.of(prior.get(event))
        lines = _adjudicate_lines(claim, package=package, tariff=tariff, coverage=coverage,
                                  claim_reject=claim_reject, claim_review=claim_review,
                                  paid=paid, batch_keys=batch_keys, consumption=consumption,
                                  use=use)
        results.append(_claim_result(claim.claim_id, lines))
    touched = {k: u.frozen() for k, u in events.items() if u.changed}
    return Adjudication(tuple(results), consumption, frozenset(batch_keys), touched)


class _Use:
    """An event's use while a batch runs (mutable on purpose, frozen into EventUse at the end)."""

    __slots__ = ("changed", "group_quantity", "group_share", "item_quantity")

    def __init__(self, item_quantity: dict[str, int], group_quantity: dict[str, int],
                 group_share: dict[str, int]) -> None:
        self.item_quantity = item_quantity
        self.group_quantity = group_quantity
        self.group_share = group_share
        self.changed = False

    @classmethod
    def of(cls, prior: EventUse | None) -> _Use:
        if prior is None:
            return cls({}, {}, {})
        return cls(dict(prior.item_quantity), dict(prior.group_quantity),
                   dict(prior.group_share))

    def frozen(self) -> EventUse:
        return EventUse(self.item_quantity, self.group_quantity, self.group_share)


def _adjudicate_lines(claim: Claim, *, package: Package, tariff: Tariff | None,
                      coverage: Coverage | None, claim_reject: list[Reason],
                      claim_review: list[Reason], paid: Collection[CareKey],
                      batch_keys: dict[CareKey, int],
                      consumption: dict[ConsumptionKey, int], use: _Use) -> list[LineResult]:
    day, year, ben = claim.care_date, claim.care_date.year, claim.beneficiary_id
    far_above_bp = tariff.far_above_bp if tariff is not None else 0
    consumed: Mapping[tuple[str, int], int] = coverage.consumed if coverage is not None else {}
    has_diagnosis = bool((claim.diagnosis or "").strip())
    used_item, used_group_qty, used_group_share = (use.item_quantity, use.group_quantity,
                                                   use.group_share)
    waits: dict[str, date | None] = {}  # first covered day per group, for this claim's date
    out: list[LineResult] = []
    for index, line in enumerate(claim.lines):
        reasons = list(claim_reject)
        q, p = line.quantity, line.unit_price
        q_ok = type(q) is int and 0 < q <= MAX_QUANTITY
        p_ok = type(p) is int and 0 < p <= MAX_AMOUNT
        if not q_ok:
            reasons.append(Reason.BAD_QUANTITY)
        if not p_ok:
            reasons.append(Reason.BAD_PRICE)
        claimed = q * p if q_ok and p_ok else 0
        code = line.item_code
        item = tariff.item(code) if tariff is not None else None
        group = package.group(item.group) if item is not None else None
        if tariff is not None and item is None:
            reasons.append(Reason.UNKNOWN_ITEM)
        elif item is not None and group is None:
            reasons.append(Reason.NOT_IN_PACKAGE)
        if code in package.excluded_items:
            reasons.append(Reason.EXCLUDED)
        review = list(claim_review)
        if group is not None and coverage is not None:
            if group.code in waits:
                waiting = waits[group.code]
            else:
                waiting = waits[group.code] = coverage.waiting_until(package, group, day)
            if waiting is not None and day < waiting:
                reasons.append(Reason.WAITING_PERIOD)
            if group.min_age is not None or group.max_age is not None:
                if coverage.birth_date is None:
                    review.append(Reason.AGE_UNKNOWN)
                else:
                    age = _age(coverage.birth_date, day)
                    if (group.min_age is not None and age < group.min_age) or (
                            group.max_age is not None and age > group.max_age):
                        reasons.append(Reason.AGE_LIMIT)
            if group.requires_diagnosis and not has_diagnosis:
                review.append(Reason.DIAGNOSIS_MISSING)
        key = (ben, claim.provider_id, day, code)
        first = batch_keys.get(key)
        if key in paid or (first is not None and first != claim.claim_id):
            reasons.append(Reason.DUPLICATE)
        group_code = item.group if item is not None else None
        if reasons or item is None or group is None:
            out.append(_rejected(index, line, group_code, reasons, claimed))
            continue

        # Valuation: price, quantity, share, ceilings, in that order.
        unit = p
        if p > item.price:
            unit = item.price
            if p * BP > item.price * (BP + far_above_bp):
                review.append(Reason.PRICE_FAR_ABOVE_TARIFF)
            else:
                reasons.append(Reason.PRICE_ABOVE_TARIFF)
        qty = q
        if item.max_quantity is not None:
            qty = min(qty, item.max_quantity - used_item.get(code, 0))
        if group.max_quantity_per_event is not None:
            qty = min(qty, group.max_quantity_per_event - used_group_qty.get(group.code, 0))
        if qty < q:
            reasons.append(Reason.QUANTITY_LIMIT)
            if qty <= 0:
                out.append(_rejected(index, line, group.code, reasons, claimed))
                continue
        allowed = unit * qty
        share = allowed * group.share_bp // BP
        binding: list[Reason] = []
        if group.ceiling_per_event is not None:
            left = max(0, group.ceiling_per_event - used_group_share.get(group.code, 0))
            if share > left:
                share = left
                binding.append(Reason.CEILING_EVENT)
        ckey = (ben, group.code, year)
        before = consumption.get(ckey)
        if before is None:
            before = consumed.get((group.code, year), 0)
        if group.ceiling_per_year is not None:
            left = max(0, group.ceiling_per_year - before)
            if share > left:
                share = left
                binding.append(Reason.CEILING_YEAR)
        reasons.extend(binding)
        if binding and share == 0:
            out.append(_rejected(index, line, group.code, reasons, claimed))
            continue

        used_item[code] = used_item.get(code, 0) + qty
        used_group_qty[group.code] = used_group_qty.get(group.code, 0) + qty
        used_group_share[group.code] = used_group_share.get(group.code, 0) + share
        use.changed = True
        if share:
            consumption[ckey] = before + share
        batch_keys.setdefault(key, claim.claim_id)
        if review:
            status, reasons = LineStatus.FLAGGED, reasons + review
        elif reasons:
            status = LineStatus.REDUCED
        else:
            status = LineStatus.ACCEPTED
        out.append(LineResult(index, code, group.code, status, tuple(reasons), claimed, qty,
                              unit, allowed, share, allowed - share))
    return out


def _claim_result(claim_id: int, lines: list[LineResult]) -> ClaimResult:
    if not lines:
        return ClaimResult(claim_id, ClaimOutcome.REJECTED, (Reason.EMPTY_CLAIM,), (),
                           0, 0, 0, 0)
    statuses = {line.status for line in lines}
    if LineStatus.FLAGGED in statuses:
        status = ClaimOutcome.REVIEW
    elif statuses == {LineStatus.REJECTED}:
        status = ClaimOutcome.REJECTED
    elif statuses == {LineStatus.ACCEPTED}:
        status = ClaimOutcome.ACCEPTED
    else:
        status = ClaimOutcome.REDUCED
    reasons = tuple(dict.fromkeys(r for line in lines for r in line.reasons))
    return ClaimResult(
        claim_id, status, reasons, tuple(lines),
        claimed=sum(line.claimed for line in lines),
        allowed=sum(line.allowed for line in lines),
        mutual_share=sum(line.mutual_share for line in lines),
        copay=sum(line.copay for line in lines),
    )
