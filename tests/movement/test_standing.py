"""movement.standing: the pure rules of standing, periods, allocation and minors (table-driven
and hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jigi.movement import standing as s

JAN = s.Charge(date(2026, 1, 1), date(2026, 1, 31), 250)
FEB = s.Charge(date(2026, 2, 1), date(2026, 2, 28), 250)


@pytest.mark.parametrize(("charges", "as_of", "grace", "exempt", "expected"), [
    ([], date(2026, 1, 5), 3, False, s.NEW),
    ([JAN], date(2026, 1, 20), 3, False, s.NEW),  # first period still running
    ([s.Charge(JAN.period_start, JAN.period_end, 0)], date(2026, 2, 10), 3, False, s.CURRENT),
    ([JAN], date(2026, 2, 1), 3, False, s.GRACE),  # late from 1 Feb
    ([JAN], date(2026, 4, 30), 3, False, s.GRACE),
    ([JAN], date(2026, 5, 1), 3, False, s.ARREARS),  # three months after 1 Feb
    ([JAN], date(2026, 2, 1), 0, False, s.ARREARS),
    ([JAN, FEB], date(2026, 9, 1), 3, True, s.EXEMPT),
])
def test_standing_table(charges, as_of, grace, exempt, expected):
    assert s.standing_of(charges, as_of=as_of, grace_months=grace, exempt=exempt).standing \
        == expected


def test_arrears_and_owing_since_count_every_open_charge():
    r = s.standing_of([FEB, s.Charge(JAN.period_start, JAN.period_end, 100)],
                      as_of=date(2026, 2, 10), grace_months=3)
    assert (r.standing, r.owing_since, r.arrears) == (s.GRACE, date(2026, 1, 1), 350)


def test_add_months_clamps_and_periods_do_not_drift():
    assert s.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    got = s.periods(date(2026, 1, 31), 1, date(2026, 4, 30))
    assert [p[0] for p in got] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31),
                                   date(2026, 4, 30)]
    assert got[0][1] == date(2026, 2, 27)
    assert s.periods(date(2026, 1, 1), 1, date(2026, 3, 1), after=date(2026, 1, 1)) == [
        (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31))]


def test_allocate_and_spread():
    assert s.allocate([250, 250, 250], 600) == ([250, 250, 100], 0)
    assert s.allocate([250], 400) == ([250], 150)
    assert s.spread([100, 250], 200) == [100, 100]
    with pytest.raises(ValueError):
        s.spread([100], 101)
    with pytest.raises(ValueError):
        s.allocate([1], -1)


@pytest.mark.parametrize(("bd", "by", "expected"), [
    (date(2008, 11, 21), None, True),  # 18 tomorrow
    (date(2008, 11, 20), None, False),  # 18 today
    (None, 2008, True),  # may still be 17
    (None, 2007, False),
    (None, None, None),
])
def test_is_minor(bd, by, expected):
    assert s.is_minor(birth_date=bd, birth_year=by, on=date(2026, 11, 20), adult_age=18) \
        is expected


days = st.dates(min_value=date(2018, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def charge_lists(draw):
    anchor = draw(days)
    n = draw(st.integers(0, 30))
    out = []
    for start, end in s.periods(anchor, 1, s.add_months(anchor, n))[:n]:
        amount = draw(st.integers(0, 1000))
        out.append(s.Charge(start, end, draw(st.integers(0, amount))))
    return out


@settings(deadline=None)
@given(charge_lists(), days, st.integers(0, 12), st.booleans())
def test_standing_properties(charges, as_of, grace, exempt):
    r = s.standing_of(charges, as_of=as_of, grace_months=grace, exempt=exempt)
    assert r.arrears == sum(c.open_amount for c in charges)
    assert (r.owing_since is None) == (r.arrears == 0)
    if exempt:
        assert r.standing == s.EXEMPT
    elif r.arrears == 0:
        assert r.standing in (s.NEW, s.CURRENT)
    if r.standing in (s.GRACE, s.ARREARS):
        assert any(c.open_amount and c.period_end < as_of for c in charges)
    # Paying everything makes her at least "current" (or new) again, never worse.
    paid = [s.Charge(c.period_start, c.period_end, 0) for c in charges]
    assert s.standing_of(paid, as_of=as_of, grace_months=grace).standing in (s.NEW, s.CURRENT)


@settings(deadline=None)
@given(charge_lists(), days, st.integers(0, 12))
def test_standing_only_worsens_as_time_passes(charges, as_of, grace):
    order = [s.NEW, s.CURRENT, s.GRACE, s.ARREARS]
    a = s.standing_of(charges, as_of=as_of, grace_months=grace).standing
    b = s.standing_of(charges, as_of=as_of + timedelta(days=40), grace_months=grace).standing
    assert order.index(b) >= order.index(a)


@settings(deadline=None)
@given(st.lists(st.integers(0, 10_000), max_size=40), st.integers(0, 500_000))
def test_allocate_conserves_money_oldest_first(caps, money):
    parts, left = s.allocate(caps, money)
    assert sum(parts) + left == money
    assert all(0 <= p <= c for p, c in zip(parts, caps, strict=True))
    assert left == 0 or parts == caps
    # oldest first: a charge takes something only if every older one is full
    for i, p in enumerate(parts):
        if p:
            assert parts[:i] == list(caps[:i])


@settings(deadline=None)
@given(days, st.integers(1, 12), st.integers(0, 60))
def test_periods_tile_without_gaps(anchor, months, n):
    through = s.add_months(anchor, n)
    got = s.periods(anchor, months, through)
    assert got[0][0] == anchor
    for (_s1, e1), (s2, _e2) in zip(got, got[1:], strict=False):
        assert s2 == e1 + timedelta(days=1)
    assert all(start <= through for start, _e in got)
    assert s.add_months(anchor, months * len(got)) > through


def test_periods_refuse_a_zero_frequency_and_stop_at_the_limit():
    with pytest.raises(ValueError):
        s.periods(date(2026, 1, 1), 0, date(2026, 3, 1))
    assert len(s.periods(date(2000, 1, 1), 1, date(2026, 1, 1), limit=5)) == 5
