"""UTM's general reinsurance service between mutuals: pure, whole francs, no Django.

A treaty between the union's pool and one mutual, valid from one date to another, combines:

- a **cession** (the premium the mutual pays the pool): a share of the contributions it earns
  (`cession_bp`), a fixed premium per beneficiary per month (`premium_per_beneficiary_month`),
  or both added together;
- an **excess of loss** per claim, or per event when claims carry an event id and the treaty
  says so: of the mutual's share paid for one claim (event), the part above the priority, times
  the pool's share of the excess, up to a limit per claim (event);
- an annual **stop-loss**: when the claims the mutual paid, net of excess-of-loss recoveries,
  exceed X % of the contributions earned (the attachment), the pool pays the excess, up to Y %
  of the contributions and/or a fixed amount (the smaller when both are set).

Settlements are per calendar quarter and per year. Only what falls inside the treaty's
validity counts (contributions by date earned, claims by date paid, exposure by month: a month
is charged whole if the treaty is in force on any day of it). Running totals (per event, for
the premium share, for the stop-loss) restart with each calendar year.

Rounding (francs, no fraction ever): every amount the pool computes is rounded DOWN to the
franc, and it is computed on running totals so that the parts always add up to the whole:
the premium of a quarter is floor(ceded share of the contributions to date) minus what earlier
quarters were charged, and the recovery on a claim is the recovery due on its event's total so
far minus what was already recovered. So quarterly premiums and recoveries sum exactly to the
annual ones. The stop-loss attachment is rounded UP, its caps DOWN. The stop-loss is settled on
the annual statement only; quarterly statements show it as not determined (None).

Balance = premiums ceded - recoveries due: above 0 the mutual owes the pool, below 0 the pool
owes the mutual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date

from jigi.core.money import MAX_AMOUNT, MoneyError, to_francs

BP = 10_000  # basis points in 100 %
MAX_RATIO_BP = 100 * BP  # a claims ratio of 10,000 % is already absurd


class ReinsuranceError(ValueError):
    """Treaty terms or inputs the module cannot settle (field, message)."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


def _whole(field_name: str, value: object, *, minimum: int = 0, maximum: int = MAX_AMOUNT,
           optional: bool = False) -> None:
    if value is None and optional:
        return
    if type(value) is not int or not minimum <= value <= maximum:
        raise ReinsuranceError(field_name, f"a whole number from {minimum} to {maximum}")


@dataclass(frozen=True, slots=True)
class Treaty:
    """The terms of one treaty (see the module's docstring for what each does).

    `xol_priority` None: no excess-of-loss cover; `xol_limit` None: no limit per claim.
    `stop_loss_attachment_bp` None: no stop-loss; both stop-loss limits None: no limit.
    """

    valid_from: date
    valid_to: date  # inclusive
    cession_bp: int = 0
    premium_per_beneficiary_month: int = 0
    xol_priority: int | None = None
    xol_limit: int | None = None
    xol_share_bp: int = BP
    xol_per_event: bool = False
    stop_loss_attachment_bp: int | None = None
    stop_loss_limit_bp: int | None = None
    stop_loss_limit: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.valid_from, date) or not isinstance(self.valid_to, date):
            raise ReinsuranceError("valid_from", "the treaty needs its dates")
        if self.valid_to < self.valid_from:
            raise ReinsuranceError("valid_to", "the treaty ends before it starts")
        _whole("cession_bp", self.cession_bp, maximum=BP)
        _whole("premium_per_beneficiary_month", self.premium_per_beneficiary_month)
        _whole("xol_priority", self.xol_priority, optional=True)
        _whole("xol_limit", self.xol_limit, minimum=1, optional=True)
        _whole("xol_share_bp", self.xol_share_bp, minimum=1, maximum=BP)
        if type(self.xol_per_event) is not bool:
            raise ReinsuranceError("xol_per_event", "yes or no")
        if self.xol_limit is not None and self.xol_priority is None:
            raise ReinsuranceError("xol_limit", "an excess-of-loss limit needs a priority")
        _whole("stop_loss_attachment_bp", self.stop_loss_attachment_bp, maximum=MAX_RATIO_BP,
               optional=True)
        _whole("stop_loss_limit_bp", self.stop_loss_limit_bp, minimum=1, maximum=MAX_RATIO_BP,
               optional=True)
        _whole("stop_loss_limit", self.stop_loss_limit, minimum=1, optional=True)
        if self.stop_loss_attachment_bp is None and (
                self.stop_loss_limit_bp is not None or self.stop_loss_limit is not None):
            raise ReinsuranceError("stop_loss_attachment_bp",
                                   "a stop-loss limit needs an attachment point")

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to

    @property
    def has_xol(self) -> bool:
        return self.xol_priority is not None

    @property
    def has_stop_loss(self) -> bool:
        return self.stop_loss_attachment_bp is not None


_TERMS = tuple(f.name for f in fields(Treaty) if f.name not in ("valid_from", "valid_to"))


def treaty_terms(treaty: Treaty) -> dict[str, int | bool | None]:
    """The terms as a JSON object (what health.models.ReinsuranceTreaty.terms stores)."""
    return {name: getattr(treaty, name) for name in _TERMS}


def treaty_from_terms(terms: Mapping[str, object], *, valid_from: date,
                      valid_to: date) -> Treaty:
    """A treaty from stored or submitted terms. Amounts and rates are whole numbers (int or
    decimal strings such as "250000"); floats and unknown names are refused."""
    unknown = sorted(set(terms) - set(_TERMS))
    if unknown:
        raise ReinsuranceError(unknown[0], "not a treaty term")
    values: dict[str, object] = {}
    for name, raw in terms.items():
        if name == "xol_per_event":
            if type(raw) is not bool:
                raise ReinsuranceError(name, "yes or no")
            values[name] = raw
        elif raw is None or raw == "":
            values[name] = None
        else:
            try:
                values[name] = to_francs(raw, allow_zero=True)
            except MoneyError:
                raise ReinsuranceError(name, "a whole number") from None
    for name in ("cession_bp", "premium_per_beneficiary_month"):
        if values.get(name, 0) is None:
            values[name] = 0
    if values.get("xol_share_bp", BP) is None:
        values["xol_share_bp"] = BP
    return Treaty(valid_from=valid_from, valid_to=valid_to, **values)  # type: ignore[arg-type]


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contribution:
    """Contributions earned on a day (net of reversals: the service sums a day's records)."""

    on: date
    amount: int

    def __post_init__(self) -> None:
        _whole("amount", self.amount)


@dataclass(frozen=True, slots=True)
class ClaimCost:
    """What the mutual paid for one claim (its share, after co-payment), on the day it paid.
    Claims with the same `event_id` are one event (one hospital stay) when the treaty's excess
    of loss is per event."""

    claim_id: int
    paid_on: date
    amount: int
    event_id: int | None = None

    def __post_init__(self) -> None:
        _whole("amount", self.amount)


@dataclass(frozen=True, slots=True)
class Exposure:
    """Beneficiaries covered in a month (`month`: any day of it), for the fixed premium."""

    month: date
    beneficiaries: int

    def __post_init__(self) -> None:
        _whole("beneficiaries", self.beneficiaries, maximum=10_000_000)


# --- outputs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recovery:
    """The excess-of-loss recovery due on one claim."""

    claim_id: int
    event_id: int | None
    paid_on: date
    amount: int  # what the mutual paid
    recovery: int


@dataclass(frozen=True, slots=True)
class Statement:
    """A settlement statement: quarter 1-4, or 0 for the year."""

    year: int
    quarter: int
    start: date
    end: date
    contributions: int  # earned in the period, under the treaty
    beneficiary_months: int
    claims_paid: int  # the mutual's share of claims paid in the period, under the treaty
    premium_share: int
    premium_fixed: int
    xol_recoveries: int
    stop_loss_attachment: int | None  # annual statement of a treaty with a stop-loss
    stop_loss_recovery: int | None  # None: not determined (quarters) or no stop-loss

    @property
    def premiums(self) -> int:
        return self.premium_share + self.premium_fixed

    @property
    def recoveries(self) -> int:
        return self.xol_recoveries + (self.stop_loss_recovery or 0)

    @property
    def net_claims(self) -> int:
        """Claims paid net of excess-of-loss recoveries (what the stop-loss looks at)."""
        return self.claims_paid - self.xol_recoveries

    @property
    def balance(self) -> int:
        """Premiums - recoveries: > 0 the mutual owes the pool, < 0 the pool owes the mutual."""
        return self.premiums - self.recoveries

    @property
    def claims_ratio_bp(self) -> int | None:
        """Net claims / contributions in basis points, rounded down (None without income)."""
        return self.net_claims * BP // self.contributions if self.contributions else None

    def figures(self) -> dict[str, int | str | None]:
        """Every figure as a JSON object (what health.models.ReinsuranceStatement stores)."""
        return {
            "year": self.year, "quarter": self.quarter,
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "contributions": self.contributions,
            "beneficiary_months": self.beneficiary_months, "claims_paid": self.claims_paid,
            "premium_share": self.premium_share, "premium_fixed": self.premium_fixed,
            "premiums": self.premiums, "xol_recoveries": self.xol_recoveries,
            "net_claims": self.net_claims, "claims_ratio_bp": self.claims_ratio_bp,
            "stop_loss_attachment": self.stop_loss_attachment,
            "stop_loss_recovery": self.stop_loss_recovery,
            "recoveries": self.recoveries, "balance": self.balance,
        }


@dataclass(frozen=True, slots=True)
class Settlement:
    quarters: tuple[Statement, Statement, Statement, Statement]
    annual: Statement
    recoveries: tuple[Recovery, ...]  # claims with an excess-of-loss recovery, by date paid


# --- calculation ----------------------------------------------------------------------------


def _quarter(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year, 3 * quarter + 1, 1) if quarter < 4 else date(year + 1, 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def _share(amount: int, bp: int) -> int:
    return amount * bp // BP


def xol_due(treaty: Treaty, total: int) -> int:
    """Recovery due on one claim (event) whose mutual's share adds up to `total`."""
    if treaty.xol_priority is None or total <= treaty.xol_priority:
        return 0
    due = _share(total - treaty.xol_priority, treaty.xol_share_bp)
    return due if treaty.xol_limit is None else min(due, treaty.xol_limit)


def stop_loss(treaty: Treaty, contributions: int, net_claims: int) -> tuple[int, int] | None:
    """(attachment, recovery) of the annual stop-loss, or None without one."""
    if treaty.stop_loss_attachment_bp is None:
        return None
    # The attachment rounds up and the caps down: the pool never pays a fraction it owes not.
    attachment = -(-contributions * treaty.stop_loss_attachment_bp // BP)
    recovery = max(0, net_claims - attachment)
    if treaty.stop_loss_limit_bp is not None:
        recovery = min(recovery, _share(contributions, treaty.stop_loss_limit_bp))
    if treaty.stop_loss_limit is not None:
        recovery = min(recovery, treaty.stop_loss_limit)
    return attachment, recovery


def xol_recoveries(treaty: Treaty, claims: Iterable[ClaimCost]) -> tuple[Recovery, ...]:
    """Excess-of-loss recovery of every claim under the treaty (0 included), by date paid then
    claim id. A claim's recovery is what its event's running total makes due, minus what the
    event's earlier claims recovered, so it never exceeds the claim and the event never
    exceeds the limit."""
    covered = sorted((c for c in claims if treaty.in_force(c.paid_on)),
                     key=lambda c: (c.paid_on, c.claim_id))
    totals: dict[tuple[str, int], int] = {}
    out: list[Recovery] = []
    for c in covered:
        key = ("event", c.event_id) if treaty.xol_per_event and c.event_id is not None \
            else ("claim", c.claim_id)
        before = totals.get(key, 0)
        after = before + c.amount
        totals[key] = after
        recovery = xol_due(treaty, after) - xol_due(treaty, before)
        out.append(Recovery(c.claim_id, c.event_id, c.paid_on, c.amount, recovery))
    return tuple(out)


def settle(treaty: Treaty, year: int, *, contributions: Iterable[Contribution],
           claims: Iterable[ClaimCost], exposures: Iterable[Exposure] = ()) -> Settlement:
    """The four quarterly statements and the annual statement of `year` under `treaty`."""
    _whole("year", year, minimum=1900, maximum=2999)
    contrib_q = [0] * 5
    for c in contributions:
        if c.on.year == year and treaty.in_force(c.on):
            contrib_q[_quarter(c.on)] += c.amount
    months_q = [0] * 5
    for e in exposures:
        month_start = e.month.replace(day=1)
        # A month is charged whole if the treaty is in force on any day of it.
        if month_start.year == year and treaty.valid_from <= _month_end(month_start) \
                and month_start <= treaty.valid_to:
            months_q[_quarter(month_start)] += e.beneficiaries
    year_claims = [c for c in claims if c.paid_on.year == year]
    recoveries = xol_recoveries(treaty, year_claims)
    claims_q = [0] * 5
    xol_q = [0] * 5
    for r in recoveries:
        claims_q[_quarter(r.paid_on)] += r.amount
        xol_q[_quarter(r.paid_on)] += r.recovery
    quarters: list[Statement] = []
    cumulative = charged = 0
    for q in range(1, 5):
        cumulative += contrib_q[q]
        share_to_date = _share(cumulative, treaty.cession_bp)
        start, end = _quarter_bounds(year, q)
        quarters.append(Statement(
            year, q, start, end, contrib_q[q], months_q[q], claims_q[q],
            premium_share=share_to_date - charged,
            premium_fixed=months_q[q] * treaty.premium_per_beneficiary_month,
            xol_recoveries=xol_q[q], stop_loss_attachment=None, stop_loss_recovery=None))
        charged = share_to_date
    total_c = sum(contrib_q)
    total_claims = sum(claims_q)
    total_xol = sum(xol_q)
    sl = stop_loss(treaty, total_c, total_claims - total_xol)
    annual = Statement(
        year, 0, date(year, 1, 1), date(year, 12, 31), total_c, sum(months_q), total_claims,
        premium_share=charged, premium_fixed=sum(s.premium_fixed for s in quarters),
        xol_recoveries=total_xol, stop_loss_attachment=sl[0] if sl else None,
        stop_loss_recovery=sl[1] if sl else None)
    return Settlement((quarters[0], quarters[1], quarters[2], quarters[3]), annual,
                      tuple(r for r in recoveries if r.recovery))


def _month_end(month_start: date) -> date:
    nxt = date(month_start.year + 1, 1, 1) if month_start.month == 12 else \
        date(month_start.year, month_start.month + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


# --- simulation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """A mutual's result for a quarter (1-4) or the year (0), with and without the treaty.

    Quarters leave out the stop-loss (settled on the year), so the year's `result_with` is
    the sum of the quarters' plus the stop-loss recovery.
    """

    quarter: int
    contributions: int  # everything the mutual earned in the period
    claims: int  # everything it paid
    premiums: int
    xol_recoveries: int
    stop_loss_recovery: int

    @property
    def recoveries(self) -> int:
        return self.xol_recoveries + self.stop_loss_recovery

    @property
    def result_without(self) -> int:
        return self.contributions - self.claims

    @property
    def result_with(self) -> int:
        return self.contributions - self.claims - self.premiums + self.recoveries

    @property
    def pool_result(self) -> int:
        """What the pool gained (> 0) or lost on this mutual."""
        return self.premiums - self.recoveries


@dataclass(frozen=True, slots=True)
class Simulation:
    quarters: tuple[Outcome, Outcome, Outcome, Outcome]
    annual: Outcome
    settlement: Settlement | None  # None without a treaty


def simulate(treaty: Treaty | None, year: int, *, contributions: Iterable[Contribution],
             claims: Iterable[ClaimCost], exposures: Iterable[Exposure] = ()) -> Simulation:
    """How the mutual's `year` ends with and without `treaty` (None: no treaty at all)."""
    _whole("year", year, minimum=1900, maximum=2999)
    contributions = list(contributions)
    claims = list(claims)
    contrib_q = [0] * 5
    for c in contributions:
        if c.on.year == year:
            contrib_q[_quarter(c.on)] += c.amount
    claims_q = [0] * 5
    for k in claims:
        if k.paid_on.year == year:
            claims_q[_quarter(k.paid_on)] += k.amount
    settlement = None if treaty is None else settle(
        treaty, year, contributions=contributions, claims=claims, exposures=exposures)
    quarters = []
    for q in range(1, 5):
        st = settlement.quarters[q - 1] if settlement else None
        quarters.append(Outcome(q, contrib_q[q], claims_q[q], st.premiums if st else 0,
                                st.xol_recoveries if st else 0, 0))
    annual_st = settlement.annual if settlement else None
    annual = Outcome(0, sum(contrib_q), sum(claims_q),
                     annual_st.premiums if annual_st else 0,
                     annual_st.xol_recoveries if annual_st else 0,
                     (annual_st.stop_loss_recovery or 0) if annual_st else 0)
    return Simulation((quarters[0], quarters[1], quarters[2], quarters[3]), annual, settlement)


def pool_result(simulations: Iterable[Simulation]) -> tuple[tuple[int, int, int, int], int]:
    """The pool's result over several mutuals: per quarter (before stop-loss) and the year."""
    quarters = [0, 0, 0, 0]
    annual = 0
    for sim in simulations:
        for i, o in enumerate(sim.quarters):
            quarters[i] += o.pool_result
        annual += sim.annual.pool_result
    return (quarters[0], quarters[1], quarters[2], quarters[3]), annual
