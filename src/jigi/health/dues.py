"""The contribution schedule of a coverage, and how payments settle it. Pure, no Django.

Periods
- monthly: calendar months, the first being the month of enrolment (a member who joins on the
  20th pays that month: receipts say "cotisation de mai", not "du 20 mai au 19 juin");
- seasonal: a contribution falls due on the first day of each of the package's season months
  (after the harvest, e.g. November and December); a period runs to the day before the next
  season month, so the last instalment of the season carries the coverage to the next harvest;
- yearly: years from the enrolment date.

Amount of a period: the package's contribution, times the number of beneficiaries covered on the
period's first day (per-beneficiary packages) or once (per-family packages). For the first
period, beneficiaries enrolled with the family count even though the period began before the
enrolment date: a beneficiary added later pays from the next period.

Settlement: the money paid for a coverage (payments less reversals, card fees apart) settles the
periods oldest first; `paid_through` is the end of the last period of the fully paid run from
the first. A coverage is in arrears when a period that began more than `grace_days` ago is not
fully paid.

Accounting split: money settling a period that has begun is the mutual's income (701); money
settling a later period is an advance (412) until that period begins (close of business moves it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

MONTHLY, SEASONAL, YEARLY = "monthly", "seasonal", "yearly"
PER_PERSON, PER_FAMILY = "per_person", "per_family"


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    start: date
    end: date


@dataclass(frozen=True)
class Span:
    """When one beneficiary is covered: from `since` to `until` (inclusive; None = open)."""

    since: date
    until: date | None = None

    def covers(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


@dataclass(frozen=True)
class Due:
    start: date
    end: date
    amount: int
    paid: int = 0
    recognised: int = 0

    @property
    def outstanding(self) -> int:
        return self.amount - self.paid


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a common year
        return d.replace(year=d.year + years, day=28)


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _season_starts_around(months: Sequence[int], year: int) -> list[date]:
    return [date(y, m, 1) for y in (year - 1, year, year + 1) for m in sorted(set(months))]


def period_containing(frequency: str, season_months: Sequence[int], anchor: date,
                      day: date) -> Period:
    """The schedule period of a coverage enrolled on `anchor` that contains `day`."""
    if frequency == MONTHLY:
        start = _month_start(day)
        return Period(start, _next_month(start) - timedelta(days=1))
    if frequency == YEARLY:
        years = day.year - anchor.year
        start = add_years(anchor, years)
        if start > day:
            start = add_years(anchor, years - 1)
        return Period(start, add_years(start, 1) - timedelta(days=1))
    if frequency == SEASONAL:
        if not season_months or any(not 1 <= m <= 12 for m in season_months):
            raise ScheduleError("season_months")
        starts = _season_starts_around(season_months, day.year)
        start = max(s for s in starts if s <= day)
        nxt = min(s for s in starts + _season_starts_around(season_months, day.year + 1)
                  if s > start)
        return Period(start, nxt - timedelta(days=1))
    raise ScheduleError("frequency")


def periods(frequency: str, season_months: Sequence[int], anchor: date, through: date,
            after: date | None = None) -> list[Period]:
    """The periods of a coverage enrolled on `anchor`, from the first (or the one after
    `after`'s period) to the one containing `through`, in order."""
    current = period_containing(frequency, season_months, anchor,
                                anchor if after is None else after + timedelta(days=1))
    out = []
    while current.start <= through:
        out.append(current)
        current = period_containing(frequency, season_months, anchor,
                                    current.end + timedelta(days=1))
    return out


def next_period(frequency: str, season_months: Sequence[int], anchor: date,
                last: Period | None) -> Period:
    day = anchor if last is None else last.end + timedelta(days=1)
    return period_containing(frequency, season_months, anchor, day)


def persons_counted(period: Period, enrolled_on: date, spans: Sequence[Span]) -> int:
    """Beneficiaries who pay for `period`: covered on its first day (on the enrolment date for
    the period in which the family enrolled)."""
    day = max(period.start, enrolled_on)
    return sum(1 for s in spans if s.covers(day))


def period_amount(basis: str, contribution: int, persons: int) -> int:
    if type(contribution) is not int or contribution < 0 or persons < 0:
        raise ScheduleError("amount")
    if basis == PER_FAMILY:
        return contribution if persons else 0
    if basis == PER_PERSON:
        return contribution * persons
    raise ScheduleError("basis")


def allocate(amounts: Sequence[int], total: int) -> tuple[list[int], int]:
    """Settle periods (their amounts, oldest first) with `total` francs: each period is paid in
    full before the next gets anything. Returns the paid part of each and what is left over."""
    if total < 0 or any(a < 0 for a in amounts):
        raise ScheduleError("amount")
    paid = []
    left = total
    for amount in amounts:
        part = min(amount, left)
        paid.append(part)
        left -= part
    return paid, left


def paid_through(dues: Sequence[Due]) -> date | None:
    """The end of the last period of the fully paid run from the first (None: the first period
    is not fully paid). `dues` in order."""
    last = None
    for d in dues:
        if d.paid < d.amount:
            break
        last = d.end
    return last


def oldest_unpaid(dues: Sequence[Due], on: date) -> Due | None:
    """The first period begun by `on` that is not fully paid."""
    for d in dues:
        if d.start > on:
            return None
        if d.paid < d.amount:
            return d
    return None


def in_arrears(dues: Sequence[Due], on: date, grace_days: int) -> bool:
    """A period that began more than `grace_days` before `on` is not fully paid."""
    oldest = oldest_unpaid(dues, on)
    return oldest is not None and (on - oldest.start).days > grace_days


def amount_due(dues: Sequence[Due], on: date) -> int:
    """What is owed for the periods begun by `on`."""
    return sum(d.outstanding for d in dues if d.start <= on)


def recognised_after(due: Due, paid: int, on: date) -> int:
    """The part of a period's payment that is income after a settlement dated `on`: all of it
    once the period has begun; otherwise what was already income, if the period still holds
    that much (a later reversal may take money back from it)."""
    if due.start <= on:
        return paid
    return min(due.recognised, paid)
