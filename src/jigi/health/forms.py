"""Turning the health screens' POSTed fields into service arguments.

No business rule lives here: only the shape of the HTML forms (numbered claim lines, one
decision per flagged line, percentages typed where a treaty stores basis points, the
dependants ticked on the enrolment form) is undone, and text that is not a date or a number is
reported on its field before any service is called. Everything else (coverage, tariffs, the
package's age limits, the treaty's consistency) is the services' job.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.web.forms import (  # noqa: F401 (the screens read them as health.forms.*)
    FormErrors,
    amount_text,
    clean_text,
    field_key,
    parse_date,
    parse_int,
)

# Blank lines drawn on the claim form; "more lines" draws this many again.
CLAIM_LINES = 6
MAX_CLAIM_LINES = 50


def looks_like_card(text: str) -> bool:
    """Card numbers start with the mutual's code ("M01-0001234"); a phone number has no
    letter. The eligibility check takes either in one field."""
    return any(c.isalpha() for c in text)


# --- claims -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypedLine:
    """A claim line as typed on row `row` of the form (1-based)."""

    row: int
    item_code: str
    quantity: int | None
    unit_price: str


def line_rows(data) -> int:
    """How many line rows the form draws (at least CLAIM_LINES, more when asked)."""
    try:
        n = int(str(data.get("rows", "") or CLAIM_LINES))
    except ValueError:
        n = CLAIM_LINES
    return max(CLAIM_LINES, min(n, MAX_CLAIM_LINES))


def parse_claim_lines(data, errors: dict[str, Any]) -> list[TypedLine]:
    """The filled rows of the claim form, in order; a row with only a price or a quantity is
    reported on its item field (an empty row is simply skipped)."""
    out = []
    for row in range(1, line_rows(data) + 1):
        code = clean_text(data.get(f"item_{row}", "")).upper()
        qty_text = clean_text(data.get(f"qty_{row}", ""))
        price = amount_text(data, f"price_{row}")
        if not code and not qty_text and not price:
            continue
        if not code:
            errors[f"item_{row}"] = _("Enter the code of an act or drug.")
        quantity = parse_int(data, f"qty_{row}", errors, required=True)
        out.append(TypedLine(row, code, quantity, price))
    if not out and not errors:
        errors["lines"] = _("Enter at least one act or drug.")
    return out


@dataclass(frozen=True)
class TypedDecision:
    line_no: int
    action: str
    reason: str
    quantity: int | None
    unit_price: int | None


def parse_decisions(data, line_nos: list[int], errors: dict[str, Any]) -> list[TypedDecision]:
    """One decision per flagged line: action_<n>, reason_<n>, and for a reduction qty_<n> and
    price_<n> (left empty: unchanged)."""
    out = []
    for no in line_nos:
        action = clean_text(data.get(f"action_{no}", ""))
        if not action:
            errors[f"action_{no}"] = _("Accept, reduce or reject.")
            continue
        quantity = parse_int(data, f"qty_{no}", errors)
        price = parse_int(data, f"price_{no}", errors)
        out.append(TypedDecision(no, action, clean_text(data.get(f"reason_{no}", "")),
                                 quantity, price))
    return out


# --- reinsurance terms ------------------------------------------------------------------------

# Treaty terms typed as a percentage on the form but stored in basis points.
PERCENT_TERMS = ("cession_bp", "xol_share_bp", "stop_loss_attachment_bp", "stop_loss_limit_bp")
AMOUNT_TERMS = ("premium_per_beneficiary_month", "xol_priority", "xol_limit", "stop_loss_limit")


def percent_to_bp(text: str) -> int:
    """ "2,5" or "2.5" (%) -> 250 basis points; at most two decimals (a basis point)."""
    value = Decimal(text.replace(",", "."))
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or bp < 0:
        raise InvalidOperation
    return int(bp)


def bp_to_percent(bp: int) -> str:
    """250 basis points -> "2.5" (no trailing zeros, none lost from a whole number)."""
    text = f"{Decimal(bp) / 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_terms(data, errors: dict[str, Any]) -> dict[str, Any]:
    """The treaty's terms from the form: percentages to basis points, amounts as typed (the
    pure module checks them), empty fields left out (no such cover)."""
    terms: dict[str, Any] = {}
    for name in PERCENT_TERMS:
        text = amount_text(data, name)  # spaces removed, as for the amounts
        if not text:
            continue
        try:
            terms[name] = percent_to_bp(text)
        except (InvalidOperation, ValueError):
            errors[f"terms.{name}"] = _("A percentage such as 5 or 2.5.")
    for name in AMOUNT_TERMS:
        text = amount_text(data, name)
        if text:
            terms[name] = text
    terms["xol_per_event"] = data.get("xol_per_event") in ("on", "1", "true")
    return terms


def terms_initial(terms: dict[str, Any]) -> dict[str, str]:
    """Stored terms as the form shows them (percentages for basis points)."""
    out: dict[str, str] = {}
    for name, value in terms.items():
        if value is None:
            out[name] = ""
        elif name in PERCENT_TERMS:
            out[name] = bp_to_percent(value)
        elif name == "xol_per_event":
            out[name] = "on" if value else ""
        else:
            out[name] = str(value)
    return out
