"""What the credit services share: roles, schedule generation, the usury cap, dues."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.credit.allocation import AllocationError, Due
from jigi.credit.models import Installment, Loan, LoanProduct, UsuryCap
from jigi.credit.schedule import Schedule, generate_schedule
from jigi.credit.schedule_errors import ScheduleError
from jigi.credit.schedule_json import terms_from_json
from jigi.credit.teg import DEFAULT_USURY_CAPS, Teg, teg_of_schedule, usury_cap_on
from jigi.credit.teg import UsuryCap as CapRow
from jigi.orgs.models import Role, Unit
from jigi.orgs.scoping import user_scope

OFFICER_ROLES = {Role.LOAN_OFFICER.value, Role.CAISSE_MANAGER.value, Role.NETWORK_ADMIN.value}
MANAGER_ROLES = {Role.CAISSE_MANAGER.value, Role.NETWORK_ADMIN.value}
COUNTER_ROLES = {Role.TELLER.value} | MANAGER_ROLES
# Savings disbursements and repayments move no cash: the loan officer may record them too.
NON_CASH_ROLES = COUNTER_ROLES | {Role.LOAN_OFFICER.value}

# RCSFD accounts (jigi/ledger/charts.py) the credit module posts to, besides the product's
# loan account (202 short term, 203 medium term; 291 once restructured).
DRAWER = "102"
VOLUNTARY = "251"
GUARANTEE = "2545"
RESTRUCTURED = "291"
INTEREST_INCOME = "7021"
PENALTY_INCOME = "7022"
RECOVERIES = "7025"
FEE_INCOME = "7029"
WRITE_OFF_LOSS = "669"


def invalid(field: str, message: Any) -> ApplicationError:
    return ApplicationError("invalid", _("Some fields are not valid."), {field: message},
                            status_code=422)


def conflict(code: str, message: Any, field: str | None = None) -> Conflict:
    return Conflict(code, message, {field: message} if field else None)


def require_role(user, caisse: Unit, roles: set[str]) -> None:
    """The user works at this caisse in one of `roles`: otherwise 404 outside her scope (she
    must not learn what exists elsewhere), 403 inside it with the wrong role."""
    scope = user_scope(user)
    if not scope.covers_unit(caisse, write=True, roles=roles):
        if scope.covers_unit(caisse):
            raise Forbidden("forbidden", _("Your role does not allow this operation."))
        raise NotFound("loan_not_found", _("Loan not found."))


def has_role(user, caisse: Unit, roles: set[str]) -> bool:
    return user_scope(user).covers_unit(caisse, write=True, roles=roles)


def schedule_error(exc: ScheduleError | AllocationError) -> ApplicationError:
    field = exc.field
    message = exc.translated(gettext) if isinstance(exc, ScheduleError) else exc.message
    return ApplicationError("invalid_schedule", _("Some fields are not valid."),
                            {field: message}, status_code=422)


def schedule_of(terms: dict[str, Any]) -> tuple[Schedule, Teg]:
    """The schedule and TEG of stored terms; a 422 naming the field when impossible."""
    try:
        schedule = generate_schedule(terms_from_json(terms))
        return schedule, teg_of_schedule(schedule)
    except ScheduleError as exc:
        raise schedule_error(exc) from None


def cap_on(on: date) -> Any:
    caps = [CapRow(c.lender, c.since, c.rate) for c in UsuryCap.objects.all()]
    return usury_cap_on(on, "sfd", caps or DEFAULT_USURY_CAPS)


def refuse_usury(teg: Teg, on: date, field: str = "interest_rate") -> Any:
    """The cap in force on `on`; a 422 when the TEG is above it (a TEG equal to it is legal)."""
    cap = cap_on(on)
    annual = teg.annual_rate_percent
    if annual > cap:
        raise ApplicationError(
            "usurious",
            _("The TEG of %(teg)s %% is above the usury cap of %(cap)s %%.") % {
                "teg": f"{annual:.2f}", "cap": f"{cap:.2f}"},
            {field: _("TEG %(teg)s %% above the cap %(cap)s %%.") % {
                "teg": f"{annual:.2f}", "cap": f"{cap:.2f}"}}, status_code=422)
    return cap


def current_installments(loan: Loan, *, lock: bool = False) -> list[Installment]:
    qs = Installment.objects.filter(loan_id=loan.pk, version=loan.schedule_version)
    if lock:
        qs = qs.select_for_update()
    return list(qs.order_by("number"))


def due_of(inst: Installment) -> Due:
    return Due(number=inst.number, due_on=inst.due_on,
               principal=inst.principal - inst.principal_paid,
               interest=inst.interest - inst.interest_paid - inst.interest_waived,
               fees=inst.fees - inst.fees_paid,
               penalties=inst.penalties - inst.penalties_paid)


def dues_of(installments: list[Installment]) -> list[Due]:
    return [due_of(i) for i in installments if due_of(i).total > 0]


def period_starts(installments: list[Installment], disbursed_on: date) -> dict[int, date]:
    """Each instalment's period start: the previous due date, the disbursement for the
    first."""
    starts, previous = {}, disbursed_on
    for inst in sorted(installments, key=lambda i: i.number):
        starts[inst.number] = previous
        previous = inst.due_on
    return starts


def today() -> date:
    return timezone.localdate()


def product_for(organisation_id: int, code: str) -> LoanProduct:
    product = LoanProduct.objects.filter(organisation_id=organisation_id,
                                         code=str(code or "").strip().upper(),
                                         active=True).first()
    if product is None:
        raise invalid("product_code", _("Unknown loan product."))
    return product
