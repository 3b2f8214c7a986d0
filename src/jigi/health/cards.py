"""Membership card numbers: short, typed by clinic staff on a keypad, with a check digit.

A card number is `<mutual code>-<serial, 6 digits><check digit>`, e.g. "M01-0001234". The check
digit is Luhn's (mod 10) over the whole text with letters read as two digits (A=10 ... Z=35,
as IBANs do), so a wrong digit anywhere, and most swaps of two neighbouring digits, are caught
at the counter before any lookup. Pure, no Django.
"""

from __future__ import annotations

import re

SERIAL_DIGITS = 6
_PREFIX = re.compile(r"^[A-Z0-9]{1,12}$")


class CardNumberError(ValueError):
    """Not a card number (wrong shape) or a typing error (check digit)."""


def _digits(text: str) -> str:
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(ch)
        elif "A" <= ch <= "Z":
            out.append(str(ord(ch) - ord("A") + 10))
        else:
            raise CardNumberError("shape")
    return "".join(out)


def luhn_digit(text: str) -> int:
    """The Luhn check digit that makes `text` + digit valid."""
    total = 0
    # Doubling starts from the rightmost digit of the payload (the check digit goes after it).
    for i, ch in enumerate(reversed(_digits(text))):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def card_number(prefix: str, serial: int) -> str:
    """The card number of the `serial`-th card of a mutual whose code is `prefix`."""
    prefix = prefix.upper().replace("-", "")
    if not _PREFIX.match(prefix):
        raise CardNumberError("prefix")
    if not 0 < serial < 10**SERIAL_DIGITS:
        raise CardNumberError("serial")
    body = f"{serial:0{SERIAL_DIGITS}d}"
    return f"{prefix}-{body}{luhn_digit(prefix + body)}"


def normalise_card(text: str) -> str:
    """What a person typed ("m01 000123 4", "M01-0001234") as the stored form, or
    CardNumberError: "shape" when it cannot be a card number, "check" when a digit is wrong."""
    raw = re.sub(r"[\s\-./]", "", (text or "").upper())
    if len(raw) < SERIAL_DIGITS + 2 or len(raw) > SERIAL_DIGITS + 1 + 12:
        raise CardNumberError("shape")
    prefix, body, check = raw[:-(SERIAL_DIGITS + 1)], raw[-(SERIAL_DIGITS + 1):-1], raw[-1]
    if not _PREFIX.match(prefix) or not body.isdigit() or not check.isdigit():
        raise CardNumberError("shape")
    if luhn_digit(prefix + body) != int(check):
        raise CardNumberError("check")
    return f"{prefix}-{body}{check}"
