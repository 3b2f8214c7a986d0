"""Reading POSTed fields the same way on every screen: text cleaned, dates and whole numbers
parsed, and what is not one reported on its field before any service is called.

Each app's `forms` module re-exports these next to its own form shapes (credit.forms,
health.forms); no business rule lives here.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.core.errors import ApplicationError

# Spaces a user or a phone keyboard puts inside a number ("1 250 000", no-break, narrow).
SPACES = re.compile(r"[\s\u00a0\u202f]")


class FormErrors(Exception):
    """Field messages found while reading the form (raised before any service call)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__("invalid form")
        self.fields = fields

    def as_application_error(self) -> ApplicationError:
        return ApplicationError("invalid", _("Some fields are not valid."), self.fields,
                                status_code=422)


def field_key(name: str) -> str:
    """A service's field name as a template variable: "lines.2.quantity" -> "lines_2_quantity",
    "lines[2].repayment" -> "lines_2_repayment"."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_")


def clean_text(value: Any) -> str:
    return " ".join("".join(c for c in str(value or "") if c.isprintable()).split())


def parse_date(data, name: str, errors: dict[str, Any], *, required: bool = False
               ) -> date | None:
    text = clean_text(data.get(name, ""))
    if not text:
        if required:
            errors[name] = _("Required.")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Enter a date like 2026-05-12.")
        return None


def parse_int(data, name: str, errors: dict[str, Any], *, required: bool = False
              ) -> int | None:
    text = SPACES.sub("", str(data.get(name, "") or ""))
    if not text:
        if required:
            errors[name] = _("Required.")
        return None
    if not text.isdigit() or len(text) > 12:
        errors[name] = _("Enter a whole number.")
        return None
    return int(text)


def amount_text(data, name: str) -> str:
    """An amount as typed, spaces removed; the service checks it (integer francs, > 0)."""
    return SPACES.sub("", str(data.get(name, "") or ""))
