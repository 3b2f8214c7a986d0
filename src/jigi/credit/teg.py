"""TEG (taux effectif global) from dated cash flows, and the usury check (BCEAO, DOMAIN.md §1).

Pure: imports nothing from Django.

Method (francophone practice, UMOA usury law): find the period rate *i* that makes the net
amount actually put in the borrower's hands equal to the discounted dated repayments,

    net_disbursed = sum_k  payment_k / (1 + i) ** t_k

where t_k is the time of payment k in periods since the disbursement; then the TEG is the
*proportional* annual rate i x periods-per-year. Both figures are kept.

- Net disbursed = principal - upfront fees (application fee, insurance, ... withheld at
  disbursement) and, only when the product says so, - compulsory savings (blocked at
  disbursement and released as the loan is repaid, in proportion to the principal repaid by
  each instalment, which lowers that instalment's outflow; interest on those savings is
  ignored).
- Payments = each instalment's total (principal + interest + per-instalment fees).
- Period base: the month for monthly (and seasonal) schedules, the week for weekly ones, the day
  for schedules in days. Time in months counts whole calendar months from the disbursement date
  plus the fraction of the next month (days elapsed / days in that month), so irregular seasonal
  dates are measured exactly; periods per year are 12, 52 and 365.
- Rates are returned as fractions (Decimal); the CLI prints percent.

The equation is solved in binary floating point (Newton's method, safeguarded by bisection) to
about 1e-13, which is far below the 4 decimals of a percent that are kept: this is a rate, not
money, so the "no float on money" rule is not at stake; amounts enter as exact Decimals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from jigi.credit.calendar_math import add_months, months_between
from jigi.credit.schedule import RepaymentUnit, Schedule
from jigi.credit.schedule_errors import ScheduleError
from jigi.credit.schedule_errors import gettext_noop as _

__all__ = [
    "DEFAULT_USURY_CAPS",
    "Teg",
    "TegBase",
    "UsuryCap",
    "UsuryCheck",
    "periods_since",
    "teg_from_cash_flows",
    "teg_of_schedule",
    "usury_cap_on",
    "usury_check",
]

PERCENT_PLACES = Decimal("0.0001")


class TegBase(StrEnum):
    MONTH = "month"
    WEEK = "week"
    DAY = "day"


PERIODS_PER_YEAR = {TegBase.MONTH: 12, TegBase.WEEK: 52, TegBase.DAY: 365}


@dataclass(frozen=True, slots=True)
class Teg:
    period_rate: Decimal  # fraction per period of `base`
    annual_rate: Decimal  # fraction per year: period_rate x periods per year (proportional)
    base: TegBase

    @property
    def period_rate_percent(self) -> Decimal:
        return _percent(self.period_rate)

    @property
    def annual_rate_percent(self) -> Decimal:
        return _percent(self.annual_rate)


def _percent(fraction: Decimal) -> Decimal:
    """Percent with 4 decimals; a rate that rounds to zero is 0, never -0."""
    value = (fraction * 100).quantize(PERCENT_PLACES, rounding=ROUND_HALF_EVEN)
    return value.copy_abs() if value == 0 else value


def periods_since(start: date, on: date, base: TegBase) -> float:
    """Time from `start` to `on` in periods of `base` (months: whole months + day fraction)."""
    days = (on - start).days
    if base is TegBase.DAY:
        return float(days)
    if base is TegBase.WEEK:
        return days / 7
    months = months_between(start, on)
    anchor = add_months(start, months)
    if anchor == on:  # the usual case: due on the disbursement's day of the month
        return float(months)
    following = add_months(start, months + 1)
    return months + (on - anchor).days / (following - anchor).days


def _npv(rate: float, net: float, flows: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Net present value at `rate` (borrower's view: - net + payments) and its derivative."""
    value = -net
    slope = 0.0
    growth = 1.0 + rate
    try:
        for time, amount in flows:
            discounted = amount * growth ** (-time)
            value += discounted
            slope -= time * discounted / growth
    except OverflowError:
        # Near a rate of -100 % long discount factors overflow: the value is "very positive".
        return math.inf, -math.inf
    return value, slope


def teg_from_cash_flows(
    *,
    disbursed_on: date,
    net_disbursed: Decimal,
    payments: Sequence[tuple[date, Decimal]],
    base: TegBase,
) -> Teg:
    """The TEG of receiving `net_disbursed` on `disbursed_on` and paying `payments` later."""
    if net_disbursed <= 0:
        raise ScheduleError("fees", _("nothing is left to disburse after the withheld amounts"))
    flows = [(periods_since(disbursed_on, on, base), float(amount)) for on, amount in payments]
    if not flows or any(time <= 0 for time, _amount in flows):
        raise ScheduleError("installments", _("payments must fall after the disbursement"))
    if any(amount < 0 for _time, amount in flows):
        raise ScheduleError("installments", _("payments cannot be negative"))
    net = float(net_disbursed)
    # NPV falls as the rate rises (all payments come after the disbursement), so the root is
    # unique; bracket it, then Newton steps that stay inside the bracket.
    low, high = -0.999999, 1.0
    while _npv(high, net, flows)[0] > 0:
        high *= 2
        if high > 1e6:
            raise ScheduleError("interest_rate", _("the effective rate is beyond any sense"))
    if _npv(low, net, flows)[0] < 0:
        raise ScheduleError("installments", _("the payments do not even give back the amount lent"))
    rate = 0.01
    for _iteration in range(200):  # pragma: no branch (converges in a few steps)
        value, slope = _npv(rate, net, flows)
        if value > 0:
            low = rate
        else:
            high = rate
        step = value / slope if slope else 0.0
        candidate = rate - step
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - rate) < 1e-15:
            rate = candidate
            break
        rate = candidate
    period = Decimal(repr(rate))
    return Teg(period_rate=period, annual_rate=period * PERIODS_PER_YEAR[base], base=base)


def teg_base_for(schedule: Schedule) -> TegBase:
    terms = schedule.terms
    if terms.seasonal is not None or terms.repayment_unit is RepaymentUnit.MONTHS:
        return TegBase.MONTH
    if terms.repayment_unit is RepaymentUnit.WEEKS:
        return TegBase.WEEK
    return TegBase.DAY


def teg_of_schedule(schedule: Schedule, *, include_compulsory_savings: bool | None = None) -> Teg:
    """The TEG of a schedule: upfront fees withheld, every instalment total paid on its date.

    `include_compulsory_savings` defaults to the terms' setting; with it, the blocked savings
    reduce the amount disbursed and come back as the principal is repaid.
    """
    terms = schedule.terms
    include = (
        terms.teg_includes_compulsory_savings
        if include_compulsory_savings is None
        else include_compulsory_savings
    )
    net = schedule.net_disbursed
    payments = [(i.due_on, i.total) for i in schedule.installments]
    savings = schedule.compulsory_savings
    if include and savings:
        # Blocked at disbursement, released as the loan is repaid: each instalment gets back
        # the savings' share of the principal it repays (cumulative rounding to the currency
        # unit, so that exactly the whole savings comes back).
        net -= savings
        quantum = Decimal(1).scaleb(-terms.currency_digits)
        repaid = Decimal(0)
        released = Decimal(0)
        for index, installment in enumerate(schedule.installments):
            repaid += installment.principal
            target = (savings * repaid / terms.principal).quantize(quantum, ROUND_HALF_EVEN)
            on, total = payments[index]
            payments[index] = (on, total - (target - released))
            released = target
    return teg_from_cash_flows(
        disbursed_on=terms.disbursed_on,
        net_disbursed=net,
        payments=payments,
        base=teg_base_for(schedule),
    )


@dataclass(frozen=True, slots=True)
class UsuryCheck:
    annual_rate: Decimal  # percent
    cap: Decimal  # percent
    usurious: bool

    @property
    def headroom(self) -> Decimal:
        """Percentage points left under the cap (negative when usurious)."""
        return self.cap - self.annual_rate


def usury_check(annual_rate: Decimal, cap: Decimal) -> UsuryCheck:
    """Is a TEG usurious? Both in percent: a TEG strictly above the cap is usurious.

    The UMOA usury law sets the threshold as a maximum rate, so a TEG equal to the cap is
    allowed. Compare the TEG rounded as stated in the contract (4 decimals of a percent).
    """
    if cap <= 0:
        raise ScheduleError("cap", _("the usury cap must be positive"))
    return UsuryCheck(annual_rate=annual_rate, cap=cap, usurious=annual_rate > cap)


@dataclass(frozen=True, slots=True)
class UsuryCap:
    lender: str  # "sfd" or "bank"
    since: date
    rate: Decimal  # percent


# DOMAIN.md §1 (Décision CM/UMOA/009/06/2013; BCEAO Council, Dec 2025). Defaults only: the
# credit settings hold the dated caps in force.
DEFAULT_USURY_CAPS: tuple[UsuryCap, ...] = (
    UsuryCap("sfd", date(2014, 1, 1), Decimal(24)),
    UsuryCap("bank", date(2014, 1, 1), Decimal(15)),
    UsuryCap("bank", date(2026, 6, 1), Decimal(14)),
)


def usury_cap_on(
    on: date, lender: str = "sfd", caps: Sequence[UsuryCap] = DEFAULT_USURY_CAPS
) -> Decimal:
    """The cap in force on `on` for `lender`: the latest one that started on or before it."""
    in_force = [c for c in caps if c.lender == lender and c.since <= on]
    if not in_force:
        raise ScheduleError(
            "cap",
            _("no usury cap is known for %(lender)s on %(on)s"),
            lender=lender,
            on=on.isoformat(),
        )
    return max(in_force, key=lambda c: c.since).rate
