"""Review of the thousands-point refusal: a million written "1.000.000" and fifteen thousand
written "15,000" get the thousands message (write 15000 or 15 000), not "not a number"."""

import pytest

from jigi.core.money import MoneyError, to_francs
from jigi.core.money_messages import money_message


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
