"""Turning the credit screens' POSTed fields into service arguments.

No business rule lives here: only the shape of the HTML forms (twelve month inputs per income
row, one custom instalment per line, comma lists) is undone, and text that is not a date or a
number is reported on its field before any service is called. Everything else (ranges, the
product's limits, the usury cap) is the services' job.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.credit.models import Pattern
from jigi.credit.seasonal import crop_calendar
from jigi.web.forms import (  # noqa: F401 (the screens read them as credit.forms.*)
    FormErrors,
    amount_text,
    clean_text,
    field_key,
    parse_date,
    parse_int,
)

MONTHS = 12
INCOME_ROWS = 3
POVERTY_QUESTIONS = 10
PATTERNS = (Pattern.REGULAR, Pattern.CROP, Pattern.INCOME, Pattern.CUSTOM)


# --- crop choices -----------------------------------------------------------------------------


def crop_choices() -> list[str]:
    return sorted({row.crop for row in crop_calendar()})


def region_choices() -> list[str]:
    return sorted({r for row in crop_calendar() for r in row.regions})


def crop_row_for(terms: dict[str, Any]):
    """The crop calendar row of a crop schedule's terms (None when not a crop schedule or the
    calendar has no single row for it)."""
    seasonal = terms.get("seasonal") or {}
    if seasonal.get("pattern") != "crop":
        return None
    from jigi.credit.schedule_errors import ScheduleError
    from jigi.credit.seasonal import crop_calendar_row

    try:
        return crop_calendar_row(seasonal.get("crop", ""), seasonal.get("region", ""),
                                 seasonal.get("zone"))
    except ScheduleError:
        return None


# --- the application and its appraisal worksheet ----------------------------------------------


def _twelve(post, prefix: str, errors: dict[str, Any], field: str) -> list[int]:
    values = []
    for m in range(1, MONTHS + 1):
        n = parse_int(post, f"{prefix}_{m}", errors)
        if f"{prefix}_{m}" in errors:
            errors[field] = errors.pop(f"{prefix}_{m}")
        values.append(n or 0)
    return values


def parse_worksheet(post) -> dict[str, Any]:
    """incomes (one row per named activity), household expenses, other debts, poverty answers
    and the override reason, in the services' shapes."""
    errors: dict[str, Any] = {}
    incomes = []
    for row in range(1, INCOME_ROWS + 1):
        activity = clean_text(post.get(f"activity_{row}", ""))[:60]
        months = _twelve(post, f"income_{row}", errors, "incomes")
        if activity:
            incomes.append({"activity": activity, "months": months})
        elif any(months):
            errors["incomes"] = _("Each income names its activity.")
    expenses = _twelve(post, "expense", errors, "household_expenses")
    debts = _twelve(post, "debt", errors, "other_debts")
    answers = {}
    for q in range(1, POVERTY_QUESTIONS + 1):
        n = parse_int(post, f"poverty_{q}", errors)
        if f"poverty_{q}" in errors:
            errors["poverty_answers"] = errors.pop(f"poverty_{q}")
        if n is not None:
            answers[str(q)] = n
    if errors:
        raise FormErrors(errors)
    return {"incomes": incomes, "household_expenses": expenses, "other_debts": debts,
            "poverty_answers": answers or None,
            "override_reason": clean_text(post.get("override_reason", ""))[:300]}


def parse_custom_lines(text: str, errors: dict[str, Any], field: str = "custom_lines"
                       ) -> list[dict[str, str]]:
    """One instalment per line: "2026-12-15 50000" (date, then principal in francs)."""
    rows = []
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        parts = line.replace(";", " ").replace(",", " ").split()
        if not parts:
            continue
        try:
            due = date.fromisoformat(parts[0])
            amount = "".join(parts[1:])
            if not amount.isdigit():
                raise ValueError
        except (ValueError, IndexError):
            errors[field] = _("Line %(n)s: a date then an amount, e.g. 2026-12-15 50000.") % {
                "n": number}
            return []
        rows.append({"due_on": due.isoformat(), "principal": amount})
    if not rows:
        errors[field] = _("Give one line per instalment: a date then an amount.")
    return rows


def parse_crop(post, errors: dict[str, Any], prefix: str = "") -> dict[str, Any] | None:
    """The crop pattern's settings (crop, region, growth interest, optional cash months)."""
    crop = clean_text(post.get(f"{prefix}crop", ""))
    region = clean_text(post.get(f"{prefix}region", ""))
    if not crop and not region:
        return None
    if not crop:
        errors["seasonal.crop"] = _("Choose the crop.")
    if not region:
        errors["seasonal.region"] = _("Choose the region.")
    out: dict[str, Any] = {"crop": crop, "region": region}
    growth = post.get(f"{prefix}interest_during_growth", "interest_only")
    if growth not in ("interest_only", "none"):
        errors["seasonal.interest_during_growth"] = _("Interest only, or nothing.")
    out["interest_during_growth"] = growth
    cash = clean_text(post.get(f"{prefix}cash_months", ""))
    if cash:
        months = [m for m in re.split(r"[\s,;]+", cash) if m]
        if not all(re.fullmatch(r"\d{4}-\d{2}", m) for m in months):
            errors["seasonal.cash_months"] = _("Months written YYYY-MM, e.g. 2027-04 2027-05.")
        out["cash_months"] = months
    return out


def parse_application(post) -> dict[str, Any]:
    """The application's figures: product, amount, repayments, dates, the schedule kind."""
    errors: dict[str, Any] = {}
    kind = post.get("kind", Pattern.REGULAR)
    if kind not in PATTERNS:
        errors["seasonal"] = _("Choose a kind of schedule.")
        kind = Pattern.REGULAR
    data: dict[str, Any] = {
        "product_code": clean_text(post.get("product", ""))[:16],
        "principal": amount_text(post, "principal"),
        "repayments": parse_int(post, "repayments", errors, required=kind != Pattern.CUSTOM),
        "disbursed_on": parse_date(post, "disbursed_on", errors),
        "first_repayment_on": parse_date(post, "first_repayment_on", errors),
        "purpose": clean_text(post.get("purpose", ""))[:200],
        "activity": clean_text(post.get("activity", ""))[:32],
        "kind": kind,
        "crop": None,
        "custom": None,
    }
    if not data["product_code"]:
        errors["product_code"] = _("Choose a product.")
    if not data["principal"]:
        errors["principal"] = _("Required.")
    crop = parse_crop(post, errors)
    if kind == Pattern.CROP and crop is None:
        errors["seasonal.crop"] = _("Choose the crop and the region.")
    data["crop"] = crop
    if kind == Pattern.CUSTOM:
        rows = parse_custom_lines(post.get("custom_lines", ""), errors)
        data["custom"] = {"pattern": "custom", "installments": rows}
        data["repayments"] = len(rows) or None
    if errors:
        raise FormErrors(errors)
    return data


# --- products ---------------------------------------------------------------------------------

PRODUCT_INT = ("min_amount", "max_amount", "min_repayments", "max_repayments",
               "max_term_days", "repayment_every", "grace_on_principal",
               "installment_multiples_of", "penalty_grace_days", "arrears_tolerance",
               "min_membership_months", "min_shares")
PRODUCT_DECIMAL = ("interest_rate", "application_fee_percent", "insurance_percent",
                   "compulsory_savings_percent", "penalty_percent",
                   "savings_before_credit_percent", "max_installment_to_surplus_percent")
PRODUCT_CHOICE = ("interest_rate_per", "interest_method", "amortization", "interest_period",
                  "days_in_year", "repayment_unit", "overpayment", "gl_account")
PRODUCT_TEXT = ("name", "allocation_order")


def parse_product(post, *, creating: bool) -> dict[str, Any]:
    """The product form's values for `product_save` (it validates them)."""
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if creating:
        values["code"] = clean_text(post.get("code", ""))
    for name in PRODUCT_TEXT + PRODUCT_CHOICE:
        if name in post:
            values[name] = clean_text(post.get(name, ""))
    for name in PRODUCT_INT + PRODUCT_DECIMAL:
        text = amount_text(post, name)
        if text:
            values[name] = text
        elif creating and name in ("min_amount", "max_amount", "interest_rate"):
            errors[name] = _("Required.")
    values["active"] = post.get("active") == "on"
    values["teg_includes_compulsory_savings"] = post.get("teg_includes_compulsory_savings") \
        == "on"
    values["allowed_patterns"] = [p for p in post.getlist("allowed_patterns") if p]
    cycles = [c for c in re.split(r"[\s;,]+", amount_text_keep_commas(post, "cycle_max_amounts"))
              if c]
    if not all(c.isdigit() for c in cycles):
        errors["cycle_max_amounts"] = _("Amounts separated by commas.")
    else:
        values["cycle_max_amounts"] = [int(c) for c in cycles]
    levels = []
    for number, line in enumerate(str(post.get("approval_levels", "")).splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not (parts[0].isdigit() or parts[0] == "-"):
            errors["approval_levels"] = _(
                "Line %(n)s: an amount (or - for any amount) then a role.") % {"n": number}
            break
        levels.append({"up_to": None if parts[0] == "-" else int(parts[0]), "role": parts[1]})
    values["approval_levels"] = levels
    if errors:
        raise FormErrors(errors)
    return values


def amount_text_keep_commas(post, name: str) -> str:
    return str(post.get(name, "") or "").replace("\u00a0", "").replace("\u202f", "")


def approval_levels_text(levels: list[dict[str, Any]]) -> str:
    return "\n".join(f"{'-' if lv.get('up_to') is None else lv['up_to']} {lv.get('role', '')}"
                     for lv in levels or [])


# --- collection sheet -------------------------------------------------------------------------


def parse_sheet_lines(post, person_ids: list[int]) -> list[dict[str, Any]]:
    """One line per member of the sheet (`repay_<person>` and `save_<person>` inputs); members
    with nothing entered are left out."""
    lines = []
    for pk in person_ids:
        repay = amount_text(post, f"repay_{pk}")
        save = amount_text(post, f"save_{pk}")
        if repay in ("", "0") and save in ("", "0"):
            continue
        lines.append({"person_id": pk, "repayment": repay or None, "savings": save or None})
    return lines
