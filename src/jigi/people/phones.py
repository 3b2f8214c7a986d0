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
