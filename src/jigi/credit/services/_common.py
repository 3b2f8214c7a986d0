"""What the credit services share: roles, schedule generation, the usury cap, dues."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.core import prepared
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


# The repayment path reads the loan (with its product and caisse) and its instalments with
# statements prepared once per process: compiling these ORM queries costs several times the
# database work (profiled: 60 % of a repayment), and the issue asks for 500 repayments a
# second. Values go through the same converters the ORM applies, so the objects are the same.
_readers: dict[tuple[str, str], tuple[list[str], list]] = {}
_sql: dict[str, str] = {}


def _reader(model) -> tuple[list[str], list]:
    key = (model._meta.label, connection.vendor)
    reader = _readers.get(key)
    if reader is None:
        fields = list(model._meta.concrete_fields)
        convs = []
        for f in fields:
            col = f.get_col(model._meta.db_table)
            convs.append((col, connection.ops.get_db_converters(col)
                          + f.get_db_converters(connection)))
        reader = _readers[key] = ([f.attname for f in fields], convs)
    return reader


def _columns(model, alias: str) -> str:
    q = connection.ops.quote_name
    return ", ".join(f"{alias}.{q(f.column)}" for f in model._meta.concrete_fields)


def _build(model, values):
    attnames, convs = _reader(model)
    out = []
    for value, (col, converters) in zip(values, convs, strict=True):
        for convert in converters:
            value = convert(value, col, connection)
        out.append(value)
    return model.from_db(connection.alias, attnames, out)


def lock_loan(pk: int) -> Loan:
    """The loan row, locked until the transaction ends, with its product and caisse."""
    key = f"lock_loan:{connection.vendor}"
    if key not in _sql:
        q = connection.ops.quote_name
        lock = " FOR UPDATE OF l" if connection.features.has_select_for_update_of else ""
        _sql[key] = (  # names from the models, values as parameters
            f"SELECT {_columns(Loan, 'l')}, {_columns(LoanProduct, 'p')}, "  # noqa: S608
            f"{_columns(Unit, 'u')} FROM {q(Loan._meta.db_table)} l "
            f"JOIN {q(LoanProduct._meta.db_table)} p ON p.id = l.product_id "
            f"JOIN {q(Unit._meta.db_table)} u ON u.id = l.caisse_id WHERE l.id = %s{lock}")
    with prepared.cursor() as cursor:
        cursor.execute(_sql[key], [pk])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("loan_not_found", _("Loan not found."))
    nl, np_ = len(Loan._meta.concrete_fields), len(LoanProduct._meta.concrete_fields)
    loan = _build(Loan, row[:nl])
    loan.product = _build(LoanProduct, row[nl:nl + np_])
    loan.caisse = _build(Unit, row[nl + np_:])
    return loan


def current_installments(loan: Loan) -> list[Installment]:
    """The instalments of the loan's current schedule version, in order."""
    key = f"installments:{connection.vendor}"
    if key not in _sql:
        q = connection.ops.quote_name
        _sql[key] = (  # names from the model, values as parameters
            f"SELECT {_columns(Installment, 'i')} FROM "  # noqa: S608
            f"{q(Installment._meta.db_table)} i WHERE i.loan_id = %s AND i.version = %s "
            f"ORDER BY i.number")
    with prepared.cursor() as cursor:
        cursor.execute(_sql[key], [loan.pk, loan.schedule_version])
        rows = cursor.fetchall()
    return [_build(Installment, row) for row in rows]


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
