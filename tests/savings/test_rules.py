from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.savings.rules import (
    add_months,
    available_to_withdraw,
    early_withdrawal_penalty,
    guarantee_required,
)


def test_available_to_withdraw():
    assert available_to_withdraw(balance=20_000, held=5_000, min_balance=1_000) == 14_000
    assert available_to_withdraw(balance=500, held=0, min_balance=1_000) == 0


def test_guarantee_is_rounded_up_to_the_franc():
    assert guarantee_required(150_000, Decimal("20")) == 30_000
    assert guarantee_required(150_001, Decimal("20")) == 30_001  # 30,000.2 -> 30,001
    assert guarantee_required(0, Decimal("30")) == 0
    with pytest.raises(ValueError):
        guarantee_required(100, Decimal("101"))


def test_penalty_is_rounded_down():
    assert early_withdrawal_penalty(3_001, Decimal("50")) == 1_500
    with pytest.raises(ValueError):
        early_withdrawal_penalty(-1, Decimal("50"))


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 20), 12) == date(2027, 11, 20)
    assert add_months(date(2026, 3, 31), -13) == date(2025, 2, 28)


@given(amount=st.integers(0, 10**12), pct=st.decimals(min_value=0, max_value=100, places=2))
def test_guarantee_covers_the_percentage_by_less_than_a_franc(amount, pct):
    g = guarantee_required(amount, pct)
    exact = Decimal(amount) * pct / 100
    assert exact <= g < exact + 1
