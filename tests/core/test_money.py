from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.core.money import MAX_AMOUNT, MoneyError, round_francs, to_francs
from jigi.core.money_messages import money_message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1500, 1500), ("1500", 1500), ("1 500", 1500), ("1500.00", 1500), (Decimal("25"), 25),
     ("15.00", 15), ("1500.000", 1500)],
)
def test_to_francs_accepts_whole_francs(value, expected):
    assert to_francs(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1500.0, "float_not_allowed"),
        (True, "float_not_allowed"),
        ("12.5", "fractional_franc"),
        # Fifteen thousand with a thousands point, or fifteen? Refused, never guessed.
        ("15.000", "thousands_point"),
        ("1.500", "thousands_point"),
        (" -250.000 ", "thousands_point"),
        ("abc", "not_a_number"),
        ("NaN", "not_a_number"),
        ("1e3", "not_a_number"),
        ("0x10", "not_a_number"),
        ("١٢٣", "not_a_number"),  # Arabic-Indic digits: int() would read 123
        (None, "not_a_number"),
        (0, "zero"),
        (-5, "negative"),
        (MAX_AMOUNT + 1, "too_large"),
    ],
)
def test_to_francs_refuses_what_is_not_money(value, code):
    with pytest.raises(MoneyError) as exc:
        to_francs(value)
    assert str(exc.value) == code


@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_to_francs_round_trips_every_valid_amount(n):
    assert to_francs(n) == n
    assert to_francs(str(n)) == n


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.sampled_from([1, 5, 25, 100]))
def test_round_francs_is_a_multiple_within_half_a_step(value, multiple):
    r = round_francs(value, multiple)
    assert r % multiple == 0
    assert abs(Decimal(r) - value) <= Decimal(multiple) / 2


# Thousands separators: a million written "1.000.000" and fifteen thousand "15,000" get the
# thousands message (write 15000 or 15 000), not "not a number".
@pytest.mark.parametrize("value", ["1.000.000", "15,000", "1,500,000", "-2.500.000"])
def test_thousands_separators_get_their_own_message(value):
    with pytest.raises(MoneyError) as exc:
        to_francs(value, allow_negative=True)
    assert str(exc.value) == "thousands_point"
    assert "15 000" in str(money_message(exc.value))


@pytest.mark.parametrize(("value", "code"), [("15,5", "not_a_number"),
                                             ("1.000,50", "not_a_number"),
                                             ("1.5", "fractional_franc")])
def test_other_writings_keep_their_refusal(value, code):
    with pytest.raises(MoneyError) as exc:
        to_francs(value)
    assert str(exc.value) == code


def test_plain_amounts_are_still_read():
    assert to_francs("15000") == 15_000
    assert to_francs("1 500 000") == 1_500_000
    assert to_francs("1500.000") == 1_500
