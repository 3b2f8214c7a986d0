"""Loan products: settings checked for consistency and against the usury cap before saving."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log, snapshot
from jigi.core.errors import ApplicationError, Forbidden
from jigi.credit.allocation import AllocationError, check_order
from jigi.credit.models import LoanProduct, Overpayment, Pattern
from jigi.credit.services._common import invalid, refuse_usury, schedule_of, today
from jigi.orgs.models import Role
from jigi.orgs.scoping import user_scope

INT_FIELDS = ("min_amount", "max_amount", "min_repayments", "max_repayments", "max_term_days",
              "repayment_every", "grace_on_principal", "installment_multiples_of",
              "penalty_grace_days", "arrears_tolerance", "min_membership_months", "min_shares")
DECIMAL_FIELDS = ("interest_rate", "application_fee_percent", "insurance_percent",
                  "compulsory_savings_percent", "penalty_percent",
                  "savings_before_credit_percent", "max_installment_to_surplus_percent")
CHOICE_FIELDS = {
    "interest_rate_per": ("year", "month"),
    "interest_method": ("declining_balance", "flat"),
    "amortization": ("equal_installments", "equal_principal"),
    "interest_period": ("same_as_repayment", "daily"),
    "days_in_year": ("actual", "360", "364", "365"),
    "days_in_month": ("actual", "30"),
    "repayment_unit": ("days", "weeks", "months"),
    "overpayment": tuple(Overpayment.values),
    "gl_account": ("202", "203"),
}
TEXT_FIELDS = ("name", "code", "allocation_order")
BOOL_FIELDS = ("active", "teg_includes_compulsory_savings")
JSON_FIELDS = ("allowed_patterns", "cycle_max_amounts", "approval_levels")
EDITABLE = INT_FIELDS + DECIMAL_FIELDS + tuple(CHOICE_FIELDS) + TEXT_FIELDS + BOOL_FIELDS + \
    JSON_FIELDS
APPROVER_ROLES = (Role.LOAN_OFFICER.value, Role.CAISSE_MANAGER.value, Role.NETWORK_ADMIN.value)


def _int(name: str, value: Any, errors: dict) -> int | None:
    if isinstance(value, bool):
        errors[name] = _("Enter a whole number.")
        return None
    try:
        number = int(str(value).replace(" ", "").replace("\u202f", ""))
    except (TypeError, ValueError):
        errors[name] = _("Enter a whole number.")
        return None
    if number < 0 or number > 10**12:
        errors[name] = _("Out of range.")
        return None
    return number


def _decimal(name: str, value: Any, errors: dict) -> Decimal | None:
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        errors[name] = _("Enter a number.")
        return None
    if not number.is_finite() or number < 0 or number > 1000:
        errors[name] = _("Out of range.")
        return None
    return number.quantize(Decimal("0.001"))


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in EDITABLE:
            errors[name] = _("Unknown setting.")
        elif name in INT_FIELDS:
            out[name] = _int(name, value, errors)
        elif name in DECIMAL_FIELDS:
            out[name] = _decimal(name, value, errors)
        elif name in CHOICE_FIELDS:
            if str(value) not in CHOICE_FIELDS[name]:
                errors[name] = _("Choose one of: %(c)s.") % {"c": ", ".join(CHOICE_FIELDS[name])}
            out[name] = str(value)
        elif name in BOOL_FIELDS:
            out[name] = value in (True, "true", "on", "1", 1)
        elif name in TEXT_FIELDS:
            text = str(value or "").strip()
            if not text and name != "allocation_order":
                errors[name] = _("Required.")
            out[name] = text.upper()[:16] if name == "code" else text[:100]
        else:
            out[name] = value
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    return out


def _check(p: LoanProduct) -> None:
    errors: dict[str, Any] = {}
    if p.min_amount < 1:
        errors["min_amount"] = _("More than zero.")
    if p.max_amount < p.min_amount:
        errors["max_amount"] = _("At least the minimum amount.")
    if p.min_repayments < 1:
        errors["min_repayments"] = _("At least one repayment.")
    if p.max_repayments < p.min_repayments:
        errors["max_repayments"] = _("At least the minimum number of repayments.")
    if p.repayment_every < 1:
        errors["repayment_every"] = _("At least 1.")
    if p.interest_rate <= 0 or p.interest_rate > 100:
        errors["interest_rate"] = _("Between 0 and 100 %.")
    try:
        check_order(p.order)
    except AllocationError:
        errors["allocation_order"] = _(
            "Name penalties, fees, interest and principal once each, separated by commas.")
    patterns = p.allowed_patterns or []
    if not isinstance(patterns, list) or any(x not in Pattern.values for x in patterns):
        errors["allowed_patterns"] = _("Choose among: %(c)s.") % {"c": ", ".join(Pattern.values)}
    cycles = p.cycle_max_amounts or []
    if not isinstance(cycles, list) or any(
            isinstance(x, bool) or not isinstance(x, int) or x < p.min_amount for x in cycles):
        errors["cycle_max_amounts"] = _("A list of amounts, each at least the minimum amount.")
    levels = p.approval_levels or []
    ok = isinstance(levels, list) and all(
        isinstance(lv, dict) and lv.get("role") in APPROVER_ROLES
        and (lv.get("up_to") is None or (isinstance(lv.get("up_to"), int)
                                         and not isinstance(lv.get("up_to"), bool)
                                         and lv["up_to"] > 0))
        for lv in levels)
    if not ok:
        errors["approval_levels"] = _(
            'A list of {"up_to": amount or null, "role": "caisse_manager"|"network_admin"}.')
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)


def reference_terms(p: LoanProduct, *, principal: int, repayments: int, on: date
                    ) -> dict[str, Any]:
    """Terms of a regular loan of this product, for the TEG check of the product itself."""
    from jigi.credit.services.applications import terms_for

    return terms_for(p, principal=principal, repayments=repayments, disbursed_on=on,
                     first_repayment_on=None, seasonal=None)


def check_usury(p: LoanProduct, on: date | None = None) -> None:
    """Refuse a product whose regular loans would be usurious: both amounts at both ends of the
    term range (upfront fees weigh most on the shortest term). A product without regular
    schedules (crop, income, custom: their count of repayments says little of their length) is
    checked at its longest regular equivalent; every loan's own TEG is checked again at
    application, approval and disbursement."""
    on = on or today()
    terms = {p.min_repayments, p.max_repayments} if Pattern.REGULAR in (
        p.allowed_patterns or [Pattern.REGULAR]) else {p.max_repayments}
    for principal in {p.min_amount, p.max_amount}:
        for repayments in terms:
            _schedule, teg = schedule_of(reference_terms(p, principal=principal,
                                                         repayments=repayments, on=on))
            refuse_usury(teg, on)


def _require_admin(user, organisation) -> None:
    scope = user_scope(user)
    if not (scope.is_superuser or organisation.pk in scope.org_wide_ids(
            write=True, roles={Role.NETWORK_ADMIN.value})):
        raise Forbidden("forbidden", _("Only the network administrator sets loan products."))


def product_save(*, acting_user, organisation, values: dict[str, Any],
                 product: LoanProduct | None = None) -> LoanProduct:
    """Create or change a product; refused with field messages when inconsistent or when a
    loan of it would be usurious."""
    _require_admin(acting_user, organisation)
    cleaned = _clean(values)
    creating = product is None
    p = product or LoanProduct(organisation=organisation)
    before = {} if creating else snapshot(p, list(EDITABLE))
    for name, value in cleaned.items():
        setattr(p, name, value)
    if creating:
        missing = [f for f in ("code", "name", "min_amount", "max_amount", "interest_rate")
                   if getattr(p, f) in (None, "")]
        if missing:
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {f: _("Required.") for f in missing}, status_code=422)
        if LoanProduct.objects.filter(organisation=organisation, code=p.code).exists():
            raise invalid("code", _("This code is already used."))
    _check(p)
    check_usury(p)
    with transaction.atomic():
        p.save()
        audit_log(actor=acting_user, event_type="credit.product_saved", subject=p,
                  before=before, after=snapshot(p, list(EDITABLE)), organisation=organisation)
    return p
