"""Pure calculations of the trainings: attendance rates, who earns a certificate, literacy
gains and the age bands of the reports. No Django import; integers in, frozen dataclasses out.

Eligibility is exact integer arithmetic (attended x 100 >= minimum % x meetings), never a
rounded percentage: 2 meetings out of 3 is 66.67 %, and must not pass a 67 % minimum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MAX_MEETINGS = 60
MAX_LEVEL = 4  # learning.models.LiteracyLevel: 0 (cannot read or write) .. 4 (fluent)

# The age bands of the reports (youth programmes target 15-24 and 25-34 separately).
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-14", 0, 14),
    ("15-24", 15, 24),
    ("25-34", 25, 34),
    ("35-49", 35, 49),
    ("50+", 50, 200),
)
UNKNOWN_AGE = "?"


def _check(attended: int, meetings: int) -> None:
    if not 1 <= meetings <= MAX_MEETINGS:
        raise ValueError("meetings must be 1..60")
    if not 0 <= attended <= meetings:
        raise ValueError("attended must be 0..meetings")


def attendance_pct(attended: int, meetings: int) -> Decimal:
    """The share of meetings attended, in percent with one decimal (half up), for display."""
    _check(attended, meetings)
    return (Decimal(attended * 100) / Decimal(meetings)).quantize(Decimal("0.1"),
                                                                   rounding=ROUND_HALF_UP)


def certificate_eligible(attended: int, meetings: int, min_pct: int) -> bool:
    """Attended at least `min_pct` percent of the meetings (exact, no rounding)."""
    _check(attended, meetings)
    if not 0 <= min_pct <= 100:
        raise ValueError("min_pct must be 0..100")
    return attended * 100 >= min_pct * meetings


def meetings_needed(meetings: int, min_pct: int) -> int:
    """The fewest meetings that earn the certificate (what a trainer tells the participants)."""
    _check(0, meetings)
    return -(-min_pct * meetings // 100)  # ceiling without floats


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return UNKNOWN_AGE
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return AGE_BANDS[-1][0]


@dataclass(frozen=True)
class LiteracySummary:
    """Levels before and after of the participants assessed both times.

    `assessed` counts the pairs with both levels; the others (no level before or after) are
    `incomplete` and excluded from the means. Means are levels (0..4) with two decimals.
    """

    assessed: int
    incomplete: int
    improved: int
    same: int
    worse: int
    mean_before: Decimal | None
    mean_after: Decimal | None
    mean_gain: Decimal | None
    # How many moved from level b to level a: {(b, a): n}, only pairs that occur.
    transitions: tuple[tuple[int, int, int], ...]


def _mean(total: int, n: int) -> Decimal | None:
    if n == 0:
        return None
    return (Decimal(total) / Decimal(n)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def literacy_summary(pairs: Iterable[tuple[int | None, int | None]]) -> LiteracySummary:
    assessed = incomplete = improved = same = worse = 0
    before_total = after_total = 0
    moves: dict[tuple[int, int], int] = {}
    for before, after in pairs:
        if before is None or after is None:
            incomplete += 1
            continue
        if not (0 <= before <= MAX_LEVEL and 0 <= after <= MAX_LEVEL):
            raise ValueError("literacy levels are 0..4")
        assessed += 1
        before_total += before
        after_total += after
        if after > before:
            improved += 1
        elif after == before:
            same += 1
        else:
            worse += 1
        moves[(before, after)] = moves.get((before, after), 0) + 1
    return LiteracySummary(
        assessed=assessed, incomplete=incomplete, improved=improved, same=same, worse=worse,
        mean_before=_mean(before_total, assessed), mean_after=_mean(after_total, assessed),
        mean_gain=_mean(after_total - before_total, assessed),
        transitions=tuple(sorted((b, a, n) for (b, a), n in moves.items())),
    )
