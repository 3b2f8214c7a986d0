"""The sentence a form or API field shows for each refusal of `core.money.to_francs`.

Kept apart from core/money.py, which imports nothing from Django.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.core.money import MoneyError

MONEY_MESSAGES = {
    "zero": _("The amount must be more than zero."),
    "negative": _("The amount must be more than zero."),
    "fractional_franc": _("Whole francs only: the franc CFA has no cents."),
    "float_not_allowed": _("Whole francs only: the franc CFA has no cents."),
    "too_large": _("This amount is not plausible."),
    "not_a_number": _("Enter an amount in francs CFA."),
    "thousands_point": _("Whole francs, without a point or a comma: write 15000 or 15 000."),
}


def money_message(exc: MoneyError) -> Any:
    """The field message for a MoneyError (any unknown code reads as not a number)."""
    return MONEY_MESSAGES.get(str(exc), MONEY_MESSAGES["not_a_number"])
