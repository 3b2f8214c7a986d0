"""Money is integer francs CFA. XOF has no minor unit; no float ever touches an amount.

This module imports nothing from Django so pure calculation modules can use it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# 10^15 F CFA is far beyond Mali's GDP; anything larger is a typing error, not money.
MAX_AMOUNT = 10**15
_PLAIN = re.compile(r"[+-]?[0-9]{1,20}(\.[0-9]{1,20})?")  # ASCII digits: \d matches "١٢٣" too
# "15.000" is how many people write fifteen thousand: never read it as 15 F. Nor are
# "1.000.000" and "15,000" (a point or a comma every three digits) merely "not a number".
_THOUSANDS_POINT = re.compile(r"[+-]?[0-9]{1,3}([.,][0-9]{3})+")


class MoneyError(ValueError):
    """An amount that cannot be money (float, fraction, garbage, absurd size)."""


def to_francs(value: object, *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    """Convert a user- or API-supplied amount to integer francs CFA.

    Accepts int, Decimal and decimal strings ("1500", "1 500", "1500.00"). Refuses "15.000"
    (fifteen thousand with a thousands point, or fifteen: a person must say which), floats
    (binary fractions are how rounding errors creep into ledgers), fractional francs,
    non-numbers and absurd magnitudes.
    """
    if isinstance(value, (bool, float)):
        raise MoneyError("float_not_allowed")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        cleaned = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        # Plain decimal notation only: "1e3" or "0x10" are typing accidents, not amounts.
        if _THOUSANDS_POINT.fullmatch(cleaned):
            raise MoneyError("thousands_point")
        if not _PLAIN.fullmatch(cleaned):
            raise MoneyError("not_a_number")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise MoneyError("not_a_number") from None
    else:
        raise MoneyError("not_a_number")
    if not amount.is_finite():
        raise MoneyError("not_a_number")
    if amount != amount.to_integral_value():
        raise MoneyError("fractional_franc")
    result = int(amount)
    if abs(result) > MAX_AMOUNT:
        raise MoneyError("too_large")
    if result == 0 and not allow_zero:
        raise MoneyError("zero")
    if result < 0 and not allow_negative:
        raise MoneyError("negative")
    return result


def round_francs(value: Decimal, multiple: int = 1) -> int:
    """Round a Decimal to the nearest multiple of `multiple` francs, half up."""
    if multiple < 1:
        raise MoneyError("bad_multiple")
    q = (value / multiple).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(q) * multiple
