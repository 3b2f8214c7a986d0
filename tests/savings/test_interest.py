from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.savings.interest import daily_balance_interest, period_bounds

Y = date(2026, 1, 1)


def test_constant_balance_for_a_year():
    r = daily_balance_interest(opening_balance=100_000, movements=[], start=Y,
                               end=date(2026, 12, 31), annual_rate_percent=Decimal("3"))
    assert r.balance_days == 100_000 * 365
    assert r.amount == 3_000


def test_hand_checked_movements():
    # 10,000 from Jan 1; +20,000 on Jan 11 (end of day 30,000); -5,000 on Jan 21.
    # Jan 1-10: 10 days x 10,000; Jan 11-20: 10 x 30,000; Jan 21-31: 11 x 25,000.
    r = daily_balance_interest(
        opening_balance=10_000,
        movements=[(date(2026, 1, 11), 20_000), (date(2026, 1, 21), -5_000)],
        start=Y, end=date(2026, 1, 31), annual_rate_percent=Decimal("3.65"))
    assert r.balance_days == 100_000 + 300_000 + 275_000
    # 675,000 x 3.65 % / 365 = 67.5 -> 67 (rounded down)
    assert r.exact == Decimal("67.5")
    assert r.amount == 67


def test_days_below_minimum_earn_nothing():
    r = daily_balance_interest(opening_balance=4_000, movements=[(date(2026, 1, 16), 2_000)],
                               start=Y, end=date(2026, 1, 31), annual_rate_percent=Decimal("10"),
                               days_in_year=360, min_balance=5_000)
    assert r.balance_days == 6_000 * 16


def test_bad_inputs():
    with pytest.raises(ValueError, match="end_before_start"):
        daily_balance_interest(opening_balance=1, movements=[], start=Y, end=Y - timedelta(1),
                               annual_rate_percent=Decimal(1))
    with pytest.raises(ValueError, match="bad_days_in_year"):
        daily_balance_interest(opening_balance=1, movements=[], start=Y, end=Y,
                               annual_rate_percent=Decimal(1), days_in_year=300)


def test_period_bounds():
    assert period_bounds("monthly", date(2026, 2, 28)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_bounds("quarterly", date(2026, 6, 30)) == (date(2026, 4, 1), date(2026, 6, 30))
    assert period_bounds("yearly", date(2026, 12, 31)) == (Y, date(2026, 12, 31))
    for freq, d in [("monthly", date(2026, 2, 27)), ("quarterly", date(2026, 5, 31)),
                    ("yearly", date(2026, 11, 30)), ("weekly", date(2026, 1, 31))]:
        with pytest.raises(ValueError):
            period_bounds(freq, d)


movements = st.lists(st.tuples(st.integers(0, 364), st.integers(-50_000, 200_000)), max_size=30)


@given(opening=st.integers(0, 10**7), moves=movements,
       rate=st.decimals(min_value=0, max_value=20, places=2))
def test_matches_a_day_by_day_sum_and_never_overpays(opening, moves, rate):
    dated = [(Y + timedelta(days=d), a) for d, a in moves]
    end = date(2026, 12, 31)
    r = daily_balance_interest(opening_balance=opening, movements=dated, start=Y, end=end,
                               annual_rate_percent=rate, min_balance=1_000)
    # Reference: walk every day.
    by_day: dict[date, int] = {}
    for d, a in dated:
        by_day[d] = by_day.get(d, 0) + a
    bal, total = opening, 0
    day = Y
    while day <= end:
        bal += by_day.get(day, 0)
        if bal >= 1_000:
            total += bal
        day += timedelta(days=1)
    assert r.balance_days == total
    assert 0 <= r.amount <= r.exact < r.amount + 1


def test_half_up_rounding_and_is_period_end():
    from jigi.savings.interest import Rounding, is_period_end

    # 10,950 x 61 days x 3 % / 365 = 54.9
    kw = {"opening_balance": 10_950, "movements": [], "start": date(2026, 11, 1),
          "end": date(2026, 12, 31), "annual_rate_percent": Decimal("3")}
    assert daily_balance_interest(**kw).amount == 54
    assert daily_balance_interest(**kw, rounding=Rounding.HALF_UP).amount == 55
    assert daily_balance_interest(**kw, rounding="half_up").exact == Decimal("54.9")
    assert is_period_end("quarterly", date(2026, 9, 30))
    assert not is_period_end("quarterly", date(2026, 8, 31))
    with pytest.raises(ValueError, match="negative_rate"):
        daily_balance_interest(**kw | {"annual_rate_percent": Decimal("-1")})


def test_a_360_day_year_pays_more_for_the_same_days():
    kw = {"opening_balance": 360_000, "movements": [], "start": Y, "end": date(2026, 1, 30),
          "annual_rate_percent": Decimal("12")}
    assert daily_balance_interest(**kw, days_in_year=360).amount == 3_600
    assert daily_balance_interest(**kw, days_in_year=365).amount == 3_550  # 3,550.68 down


@given(opening=st.integers(0, 10**8), moves=movements, split=st.integers(1, 364),
       rate=st.decimals(min_value=0, max_value=20, places=2))
def test_splitting_the_period_adds_up_exactly(opening, moves, split, rate):
    """Monthly posting of the same history earns the same exact interest as yearly posting
    (only the rounding, once per posting, differs): no day is counted twice or forgotten."""
    dated = [(Y + timedelta(days=d), a) for d, a in moves]
    end = date(2026, 12, 31)
    cut = Y + timedelta(days=split)
    whole = daily_balance_interest(opening_balance=opening, movements=dated, start=Y, end=end,
                                   annual_rate_percent=rate)
    first = daily_balance_interest(opening_balance=opening, movements=dated, start=Y,
                                   end=cut - timedelta(days=1), annual_rate_percent=rate)
    after_cut = opening + sum(a for d, a in dated if d < cut)
    second = daily_balance_interest(opening_balance=after_cut, movements=dated, start=cut,
                                    end=end, annual_rate_percent=rate)
    assert first.balance_days + second.balance_days == whole.balance_days
    assert first.amount + second.amount <= whole.amount <= first.amount + second.amount + 1


@given(opening=st.integers(0, 10**8), extra=st.integers(0, 10**7), moves=movements,
       rate=st.decimals(min_value=0, max_value=20, places=2))
def test_more_money_never_earns_less(opening, extra, moves, rate):
    dated = [(Y + timedelta(days=d), a) for d, a in moves]
    kw = {"movements": dated, "start": Y, "end": date(2026, 12, 31),
          "annual_rate_percent": rate}
    assert daily_balance_interest(opening_balance=opening + extra, **kw).amount >= \
        daily_balance_interest(opening_balance=opening, **kw).amount
