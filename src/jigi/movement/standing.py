"""Where an MTC member stands with her dues, and the arithmetic of dues periods and allocation.

Pure: no Django import. The services persist what these functions return.

Standing (CiviCRM's New/Current/Grace/Expired, without Expired: an informal worker who pays
irregularly stays a member "in arrears" until an officer ends her membership):
- exempt: the member is exempt from dues (whatever she owes);
- a charge is *late* when it is still open (not fully paid or waived) after its period ended;
- nothing late: "new" while none of her periods has ended yet, "current" otherwise;
- something late: "grace" for `grace_months` months after the day following the end of the
  oldest late period, "arrears" from then on (grace_months = 0: arrears at once).
`arrears` is every open amount (the running period's included); `owing_since` the first day of
the oldest open charge.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

NEW = "new"
CURRENT = "current"
GRACE = "grace"
ARREARS = "arrears"
EXEMPT = "exempt"

FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


@dataclass(frozen=True)
class Charge:
    period_start: date
    period_end: date
    open_amount: int  # amount - paid - waived, >= 0


@dataclass(frozen=True)
class Result:
    standing: str
    owing_since: date | None
    arrears: int


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def standing_of(charges: Iterable[Charge], *, as_of: date, grace_months: int,
                exempt: bool = False) -> Result:
    """The member's standing on `as_of` from all her charges (any order)."""
    charges = list(charges)
    open_ = [c for c in charges if c.open_amount > 0]
    arrears = sum(c.open_amount for c in open_)
    owing_since = min((c.period_start for c in open_), default=None)
    if exempt:
        return Result(EXEMPT, owing_since, arrears)
    late = [c for c in open_ if c.period_end < as_of]
    if not late:
        ended = any(c.period_end < as_of for c in charges)
        return Result(CURRENT if ended else NEW, owing_since, arrears)
    late_since = min(c.period_end for c in late) + timedelta(days=1)
    if as_of < add_months(late_since, max(0, grace_months)):
        return Result(GRACE, owing_since, arrears)
    return Result(ARREARS, owing_since, arrears)


def periods(anchor: date, frequency_months: int, through: date, *,
            after: date | None = None, limit: int = 1200) -> list[tuple[date, date]]:
    """The dues periods (start, end) from `anchor`, every `frequency_months` months, that start
    on or before `through` and after `after` (the last period already charged). Each start is
    computed from the anchor, not from the previous period, so a 31st never drifts to a 28th."""
    if frequency_months < 1:
        raise ValueError("frequency_months must be at least 1")
    out: list[tuple[date, date]] = []
    k = 0
    while len(out) < limit:
        start = add_months(anchor, k)
        if start > through:
            break
        end = add_months(anchor, k + frequency_months) - timedelta(days=1)
        if after is None or start > after:
            out.append((start, end))
        k += frequency_months
    return out


def allocate(capacities: Sequence[int], money: int) -> tuple[list[int], int]:
    """Money spread over charges oldest first: (what each takes, what is left = the advance).
    `capacities` are what each charge can take (amount - waived), in period order."""
    if money < 0:
        raise ValueError("money must not be negative")
    parts: list[int] = []
    left = money
    for cap in capacities:
        take = min(max(cap, 0), left)
        parts.append(take)
        left -= take
    return parts, left


def spread(open_amounts: Sequence[int], amount: int) -> list[int]:
    """A waiver of `amount` over the open charges, oldest first; refuses more than is open."""
    if amount < 0 or amount > sum(max(a, 0) for a in open_amounts):
        raise ValueError("amount beyond what is open")
    parts, _left = allocate(open_amounts, amount)
    return parts


def is_minor(*, birth_date: date | None, birth_year: int | None, on: date,
             adult_age: int) -> bool | None:
    """Whether a person is (or may be) under `adult_age` on `on`. With only a year of birth
    she counts as a minor while she could still be one (born late in the year): for child
    protection a doubt is a flag. None when nothing is known of her age."""
    if birth_date is not None:
        age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
        return age < adult_age
    if birth_year is not None:
        return on.year - birth_year - 1 < adult_age
    return None


__all__ = [
    "ARREARS", "CURRENT", "EXEMPT", "FREQUENCY_MONTHS", "GRACE", "NEW", "Charge", "Result",
    "add_months", "allocate", "is_minor", "periods", "spread", "standing_of",
]
