"""Date arithmetic shared by the schedule engine, the seasonal patterns and the TEG.

Pure: imports nothing from Django. The month arithmetic follows java.time (which Apache Fineract
uses) so that due dates agree with Fineract's: adding months keeps the day of the month and
clamps it to the length of the target month (31 January + 1 month = 28/29 February).
"""

from __future__ import annotations

import calendar
from datetime import date

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_length(year: int, month: int) -> int:
    """Days in a month (a table lookup: calendar.monthrange is slow in the schedule loop)."""
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


def add_months(on: date, months: int) -> date:
    """`LocalDate.plusMonths`: same day of month, clamped to the target month's length."""
    year, month0 = divmod(on.year * 12 + on.month - 1 + months, 12)
    day = on.day
    if day > 28:
        day = min(day, month_length(year, month0 + 1))
    return date(year, month0 + 1, day)


def months_between(start: date, end: date) -> int:
    """`ChronoUnit.MONTHS.between`: whole months from start to end, truncated towards zero.

    java.time packs (month, day) as month * 32 + day and divides the difference by 32; this is
    the same computation, so 31 January -> 28 February counts as 0 months.
    """
    packed_start = (start.year * 12 + start.month - 1) * 32 + start.day
    packed_end = (end.year * 12 + end.month - 1) * 32 + end.day
    diff = packed_end - packed_start
    return diff // 32 if diff >= 0 else -((-diff) // 32)


def adjust_to_seed(on: date, seed: date) -> date:
    """Fineract's `adjustDate` for monthly schedules: keep the seed's day of month (29-31).

    When the schedule started on a 29th-31st, a date that was clamped to a shorter month (say 28
    February) returns to the seed's day in the following months (31 March, not 28 March).
    """
    if seed.day > 28 and on.day >= 28:
        return on.replace(day=min(month_length(on.year, on.month), seed.day))
    return on


def days360(start: date, end: date) -> int:
    """Days between two dates counting every month as 30 days (European 30E/360).

    Used when a product says "days in month: 30" for the dated (seasonal) schedules, so that an
    irregular period of two calendar months always counts 60 days of interest.
    """
    d1 = min(start.day, 30)
    d2 = min(end.day, 30)
    return (end.year - start.year) * 360 + (end.month - start.month) * 30 + (d2 - d1)
