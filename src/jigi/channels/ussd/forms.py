"""The counter's PIN and language form, read field by field (no business rule here: the PIN's
rules are in pins.clean_pin)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from jigi.channels.ussd.menu import LANGUAGES
from jigi.web.forms import FormErrors


@dataclass(frozen=True)
class PinForm:
    pin: str  # "" = keep the PIN
    language: str


def read_pin_form(data) -> PinForm:
    errors = {}
    pin = str(data.get("pin", "") or "").strip()
    again = str(data.get("pin_again", "") or "").strip()
    language = str(data.get("language", "") or "")
    if language not in LANGUAGES:
        errors["language"] = _("Choose French or Bambara.")
    if pin != again:
        errors["pin_again"] = _("The two PINs are not the same.")
    if len(pin) > 12:
        errors["pin"] = _("The PIN is 4 to 6 digits.")
    if errors:
        raise FormErrors(errors)
    return PinForm(pin, language)
