"""Savings interest on the daily balance. Pure: no Django, integers and Decimals only.

Rule (BCEAO practice for SFD savings, product settings):
- each calendar day earns balance x rate / days_in_year on the END-OF-DAY balance;
- a day whose end-of-day balance is below the product's minimum (or not positive) earns nothing;
- the period's interest is the exact Decimal sum, rounded ONCE, when posted, to the whole franc
  by the product's rule: DOWN by default (a member is never paid a franc the rate did not earn),
  or HALF_UP; the fraction is not carried to the next period.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum


class Rounding(StrEnum):
    DOWN = "down"
    HALF_UP = "half_up"


_DECIMAL_ROUNDING = {Rounding.DOWN: ROUND_DOWN, Rounding.HALF_UP: ROUND_HALF_UP}


@dataclass(frozen=True)
class InterestResult:
    exact: Decimal  # the unrounded sum
    amount: int  # whole francs to post
    balance_days: int  # sum of eligible balance x days (the "nombres" of French practice)


def daily_balance_interest(
    *,
    opening_balance: int,
    movements: Iterable[tuple[date, int]],
    start: date,
    end: date,
    annual_rate_percent: Decimal,
    days_in_year: int = 365,
    min_balance: int = 0,
    rounding: Rounding | str = Rounding.DOWN,
) -> InterestResult:
    """Interest earned from `start` to `end` inclusive.

    `opening_balance` is the balance at the end of the day before `start`; `movements` are
    (value date, signed amount) pairs; those before `start` must already be in the opening
    balance, those after `end` are ignored.
    """
    if end < start:
        raise ValueError("end_before_start")
    if days_in_year not in (360, 364, 365, 366):
        raise ValueError("bad_days_in_year")
    if annual_rate_percent < 0:
        raise ValueError("negative_rate")
    rule = _DECIMAL_ROUNDING[Rounding(rounding)]
    by_day: dict[date, int] = {}
    for on, amount in movements:
        if start <= on <= end:
            by_day[on] = by_day.get(on, 0) + amount
    balance = opening_balance
    balance_days = 0
    cursor = start
    # Walk segment by segment (between movement days), not day by day.
    for day in sorted(by_day):
        if day > cursor:
            span = (day - cursor).days
            if balance >= min_balance and balance > 0:
                balance_days += balance * span
        balance += by_day[day]
        cursor = day
        # The movement day itself counts with its end-of-day balance.
        if balance >= min_balance and balance > 0:
            balance_days += balance
        cursor = day + timedelta(days=1)
    if cursor <= end and balance >= min_balance and balance > 0:
        balance_days += balance * ((end - cursor).days + 1)
    exact = Decimal(balance_days) * annual_rate_percent / Decimal(100) / Decimal(days_in_year)
    return InterestResult(exact, int(exact.to_integral_value(rounding=rule)), balance_days)


def is_period_end(frequency: str, on: date) -> bool:
    try:
        period_bounds(frequency, on)
    except ValueError:
        return False
    return True


def period_bounds(frequency: str, period_end: date) -> tuple[date, date]:
    """The posting period that ends on `period_end` (which must be a month, quarter or year end).
    """
    last = calendar.monthrange(period_end.year, period_end.month)[1]
    if period_end.day != last:
        raise ValueError("not_a_month_end")
    if frequency == "monthly":
        return date(period_end.year, period_end.month, 1), period_end
    if frequency == "quarterly":
        if period_end.month % 3:
            raise ValueError("not_a_quarter_end")
        return date(period_end.year, period_end.month - 2, 1), period_end
    if frequency == "yearly":
        if period_end.month != 12:
            raise ValueError("not_a_year_end")
        return date(period_end.year, 1, 1), period_end
    raise ValueError("bad_frequency")
