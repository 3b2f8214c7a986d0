"""Portfolio-quality rules for reports: PAR thresholds, ageing buckets, the BCEAO provisioning
schedule, ratios and red/green statuses, age and poverty bands.

Pure: imports nothing from Django. Amounts are integer francs; ratios are `Decimal` percents
rounded half up to two places (a ratio is never a float).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from jigi.credit.calendar_math import add_months

# CGAP/SEEP: PAR-N = outstanding principal of loans with any amount overdue *more than* N days,
# over the gross outstanding.
PAR_DAYS: tuple[int, ...] = (1, 30, 60, 90)

# Ageing table: "more than N days" limits; bucket i holds loans overdue in (N_i, N_i+1].
AGEING_LIMITS: tuple[int, ...] = (0, 30, 60, 90, 180, 365, 730)


@dataclass(frozen=True, slots=True)
class ProvisionBand:
    """Loans whose oldest unpaid instalment is more than `months` months old (and not more
    than the next band's) are provisioned at `rate` % of the base."""

    months: int
    rate: int


# BCEAO provisioning of "créances en souffrance" (RCSFD, DOMAIN.md §1): 0-3 months optional
# (0 % here), more than 3-6 months 40 %, more than 6-12 months 80 %, more than 12-24 months
# 100 %; beyond 24 months the loan should have been written off (still 100 % until it is).
PROVISION_BANDS: tuple[ProvisionBand, ...] = (
    ProvisionBand(3, 40), ProvisionBand(6, 80), ProvisionBand(12, 100), ProvisionBand(24, 100),
)

# Prudential norms (BCEAO Instruction 010-08-2010, DOMAIN.md §1).
PAR90_MAX = Decimal("3")
SINGLE_BORROWER_MAX = Decimal("10")
INSIDER_MAX = Decimal("10")
LIQUIDITY_MIN = Decimal("80")
GENERAL_RESERVE_MIN = Decimal("15")
CAPITALISATION_MIN = Decimal("15")

AGE_BANDS: tuple[tuple[int, int | None], ...] = ((0, 24), (25, 34), (35, 44), (45, 54),
                                                 (55, None))
# Simple Poverty Scorecard: 0-100, a lower score means a higher likelihood of poverty.
POVERTY_BANDS: tuple[tuple[int, int], ...] = ((0, 19), (20, 39), (40, 59), (60, 79), (80, 100))

_CENT = Decimal("0.01")


def day_limit(on: date, days: int) -> date:
    """An instalment due before this date is overdue more than `days` days at `on`
    (days overdue = on - due_on)."""
    return on - timedelta(days=days)


def month_limit(on: date, months: int) -> date:
    """An instalment due before this date is overdue more than `months` calendar months at
    `on` (the same day `months` months earlier, clamped to the month's length)."""
    return add_months(on, -months)


def ratio_pct(part: int, whole: int) -> Decimal | None:
    """part / whole in percent, rounded half up to 0.01; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_CENT, rounding=ROUND_HALF_UP)


def provision_of(base: int, rate: int) -> int:
    """rate % of base, rounded half up to the franc (provisions are whole francs)."""
    if base <= 0 or rate <= 0:
        return 0
    return (base * rate + 50) // 100


def provision_base(outstanding: int, guarantee: int) -> int:
    """Outstanding principal minus the guarantee deposits held for the loan, never below 0."""
    return max(0, outstanding - max(0, guarantee))


def status(value: Decimal | None, limit: Decimal, *, at_most: bool) -> str:
    """'green' when the norm is met, 'red' when not, 'na' without a value."""
    if value is None:
        return "na"
    ok = value <= limit if at_most else value >= limit
    return "green" if ok else "red"


def age_band(birth_year: int | None, on: date) -> str:
    """'25-34', '55+', or '' when the year of birth is unknown (age = on.year - birth_year)."""
    if not birth_year:
        return ""
    age = on.year - birth_year
    for low, high in AGE_BANDS:
        if high is None and age >= low:
            return f"{low}+"
        if high is not None and low <= age <= high:
            return f"<{high + 1}" if low == 0 else f"{low}-{high}"
    return ""


def poverty_band(score: int | None) -> str:
    if score is None:
        return ""
    for low, high in POVERTY_BANDS:
        if low <= score <= high:
            return f"{low}-{high}"
    return ""


def month_ends(on: date, count: int) -> list[date]:
    """The last days of the `count - 1` months before `on`'s month, then `on` itself, oldest
    first: the as-of points of a monthly trend ending at `on`."""
    points = [on]
    first = on.replace(day=1)
    for _k in range(count - 1):
        first_prev = add_months(first, -1)
        points.append(first - timedelta(days=1))
        first = first_prev
    return sorted(points)


def months_back(on: date, count: int) -> list[tuple[int, int]]:
    """(year, month) of the `count` months ending with `on`'s month, oldest first."""
    out = []
    year, month = on.year, on.month
    for _k in range(count):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]
