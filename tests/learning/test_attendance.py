"""The pure calculations of the trainings: table-driven and with hypothesis."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.learning.attendance import (
    age_band,
    attendance_pct,
    certificate_eligible,
    literacy_summary,
    meetings_needed,
)


@pytest.mark.parametrize(("attended", "meetings", "pct"), [
    (0, 1, "0.0"), (1, 1, "100.0"), (2, 3, "66.7"), (1, 3, "33.3"), (9, 12, "75.0"),
    (1, 8, "12.5"),
])
def test_attendance_pct(attended, meetings, pct):
    assert attendance_pct(attended, meetings) == Decimal(pct)


@pytest.mark.parametrize(("attended", "meetings", "min_pct", "ok"), [
    (9, 12, 75, True), (8, 12, 75, False), (2, 3, 67, False), (2, 3, 66, True),
    (0, 5, 0, True), (5, 5, 100, True), (4, 5, 100, False),
])
def test_certificate_eligible_is_exact(attended, meetings, min_pct, ok):
    assert certificate_eligible(attended, meetings, min_pct) is ok


@pytest.mark.parametrize(("attended", "meetings"), [(-1, 3), (4, 3), (0, 0), (1, 61)])
def test_impossible_counts_are_refused(attended, meetings):
    with pytest.raises(ValueError, match="must be"):
        certificate_eligible(attended, meetings, 75)


@given(meetings=st.integers(1, 60), min_pct=st.integers(0, 100))
def test_meetings_needed_is_the_threshold(meetings, min_pct):
    need = meetings_needed(meetings, min_pct)
    assert 0 <= need <= meetings
    assert certificate_eligible(need, meetings, min_pct)
    if need > 0:
        assert not certificate_eligible(need - 1, meetings, min_pct)


@given(meetings=st.integers(1, 60), data=st.data(), min_pct=st.integers(0, 100))
def test_eligibility_is_monotonic(meetings, data, min_pct):
    attended = data.draw(st.integers(0, meetings))
    if certificate_eligible(attended, meetings, min_pct) and attended < meetings:
        assert certificate_eligible(attended + 1, meetings, min_pct)
    assert Decimal(0) <= attendance_pct(attended, meetings) <= Decimal(100)


@pytest.mark.parametrize(("age", "band"), [
    (None, "?"), (-1, "?"), (0, "0-14"), (14, "0-14"), (15, "15-24"), (24, "15-24"),
    (25, "25-34"), (49, "35-49"), (50, "50+"), (130, "50+"), (250, "50+"),
])
def test_age_band(age, band):
    assert age_band(age) == band


def test_literacy_summary_counts_and_means():
    s = literacy_summary([(0, 2), (1, 1), (2, 1), (None, 3), (0, 2)])
    assert (s.assessed, s.incomplete, s.improved, s.same, s.worse) == (4, 1, 2, 1, 1)
    assert s.mean_before == Decimal("0.75")
    assert s.mean_after == Decimal("1.50")
    assert s.mean_gain == Decimal("0.75")
    assert s.transitions == ((0, 2, 2), (1, 1, 1), (2, 1, 1))


def test_literacy_summary_of_nobody():
    s = literacy_summary([])
    assert s.assessed == 0
    assert s.mean_gain is None


def test_literacy_level_out_of_scale_is_refused():
    with pytest.raises(ValueError, match="0..4"):
        literacy_summary([(0, 5)])


level = st.one_of(st.none(), st.integers(0, 4))


@given(st.lists(st.tuples(level, level), max_size=50))
def test_literacy_summary_invariants(pairs):
    s = literacy_summary(pairs)
    assert s.assessed + s.incomplete == len(pairs)
    assert s.improved + s.same + s.worse == s.assessed
    assert sum(n for _b, _a, n in s.transitions) == s.assessed
    if s.assessed:
        assert s.mean_gain == (s.mean_after - s.mean_before) or abs(
            s.mean_gain - (s.mean_after - s.mean_before)) <= Decimal("0.01")
        assert (s.mean_gain > 0) == (sum(a - b for b, a in pairs
                                         if b is not None and a is not None) > 0)
