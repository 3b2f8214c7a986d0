"""Mali phone numbers: +223 and 8 digits. Pure, no Django."""

from __future__ import annotations

import phonenumbers


class PhoneError(ValueError):
    pass


def normalize_mali_phone(raw: str) -> str:
    """'76 12 34 56' / '0022376123456' / '+223 76123456' -> '+22376123456'.

    Refuses anything that is not a valid Malian mobile or fixed number (phonenumbers knows the
    operators' ranges: Orange 7x/82-85/90-94, Moov 6x/89/95-99, Telecel 50-53).
    """
    text = (raw or "").strip()
    if not text:
        raise PhoneError("empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "ML")
    except phonenumbers.NumberParseException:
        raise PhoneError("unparseable") from None
    if number.country_code != 223 or not phonenumbers.is_valid_number(number):
        raise PhoneError("invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# The operators' first two digits after +223 (ARCTEL's numbering plan, DOMAIN.md §"Phone
# numbers"): which wallet a member's number can pay from.
_OPERATOR_PREFIXES = {
    "orange": {*range(70, 80), *range(82, 86), *range(90, 95)},
    "moov": {*range(60, 70), 89, *range(95, 100)},
    "telecel": set(range(50, 54)),
}


def mali_operator(phone: str) -> str | None:
    """'+22366000001' -> 'moov'; 'orange', 'telecel', or None for a number that is not a
    clean Malian E.164 mobile number (normalize_mali_phone's output)."""
    if not (len(phone) == 12 and phone.startswith("+223") and phone[1:].isdigit()):
        return None
    prefix = int(phone[4:6])
    for name, prefixes in _OPERATOR_PREFIXES.items():
        if prefix in prefixes:
            return name
    return None
