"""Reads of credit: loans, products, groups in the user's scope; the approval queue; the
portfolio at risk."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import NotFound
from jigi.core.lookup import is_id
from jigi.credit.allocation import Due, arrears
from jigi.credit.models import (
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    SolidarityGroup,
)
from jigi.credit.services._common import (
    MANAGER_ROLES,
    current_installments,
    due_of,
    dues_of,
)
from jigi.orgs.models import Role
from jigi.orgs.scoping import user_scope
from jigi.people.models import Person


def loans_for_user(user) -> QuerySet[Loan]:
    """Loans of the caisses in the user's scope (a teller or loan officer: her caisse)."""
    return Loan.objects.filter(user_scope(user).unit_q("caisse__")).select_related(
        "product", "caisse", "person", "group")


def get_loan_for_user(user, pk) -> Loan:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = 0
    loan = loans_for_user(user).filter(pk=pk).first() if is_id(pk) else None
    if loan is None:
        raise NotFound("loan_not_found", _("Loan not found."))
    return loan


def loans_of_person(user, person: Person) -> list[Loan]:
    from jigi.people.selectors import person_visible_sections

    if "credit" not in person_visible_sections(user, person):
        return []
    return list(Loan.objects.filter(person=person).select_related("product", "caisse")
                .order_by("-applied_on", "-pk"))


def products_for_user(user) -> QuerySet[LoanProduct]:
    return LoanProduct.objects.filter(
        organisation_id__in=user_scope(user).organisation_ids).order_by("code")


def get_product_for_user(user, pk) -> LoanProduct:
    product = products_for_user(user).filter(pk=pk).first()
    if product is None:
        raise NotFound("product_not_found", _("Product not found."))
    return product


def approval_queue(user) -> QuerySet[Loan]:
    """Applications waiting for a decision the user may take (appraised or not), and
    approved loans waiting for disbursement, in her scope."""
    scope = user_scope(user)
    roles = {Role.LOAN_OFFICER.value} | MANAGER_ROLES | {Role.TELLER.value}
    return Loan.objects.filter(scope.unit_q("caisse__", roles=roles)).filter(
        status__in=[LoanStatus.APPLIED, LoanStatus.APPROVED]).select_related(
        "product", "caisse", "person").order_by("applied_on", "pk")


def schedule_rows(loan: Loan, version: int | None = None) -> list[Installment]:
    return list(Installment.objects.filter(
        loan=loan, version=version or loan.schedule_version).order_by("number"))


def transactions_of(loan: Loan) -> list[LoanTransaction]:
    return list(LoanTransaction.objects.filter(loan=loan).select_related(
        "receipt", "created_by").order_by("value_date", "pk"))


def groups_for_user(user) -> QuerySet[SolidarityGroup]:
    return SolidarityGroup.objects.filter(user_scope(user).unit_q("caisse__")).select_related(
        "caisse", "leader").order_by("name")


def get_group_for_user(user, pk) -> SolidarityGroup:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = 0
    group = groups_for_user(user).filter(pk=pk).first() if is_id(pk) else None
    if group is None:
        raise NotFound("group_not_found", _("Group not found."))
    return group


def loan_arrears(loan: Loan, on: date):
    return arrears(dues_of(current_installments(loan)), on, loan.product.arrears_tolerance)


def portfolio_at_risk(user, on: date, days: int = 30) -> dict[str, int]:
    """PAR-N (CGAP): outstanding principal of active loans with an instalment more than
    `days` late, over the gross outstanding, in the user's scope."""
    loans = loans_for_user(user).filter(status=LoanStatus.ACTIVE)
    outstanding = at_risk = count = late = 0
    unpaid: dict[int, list[Due]] = {}
    for inst in Installment.objects.filter(loan__in=loans, paid_on__isnull=True,
                                           due_on__lt=on).only(
            "loan_id", "version", "number", "due_on", "principal", "interest", "fees",
            "penalties", "principal_paid", "interest_paid", "fees_paid", "penalties_paid",
            "interest_waived"):
        unpaid.setdefault(inst.loan_id, []).append((inst.version, due_of(inst)))
    for loan in loans.select_related(None).only("pk", "principal_outstanding",
                                                "schedule_version"):
        count += 1
        outstanding += loan.principal_outstanding
        dues = [d for v, d in unpaid.get(loan.pk, []) if v == loan.schedule_version and d.total]
        if dues and (on - min(d.due_on for d in dues)).days > days:
            at_risk += loan.principal_outstanding
            late += 1
    return {"loans": count, "outstanding": outstanding, "at_risk": at_risk, "late_loans": late,
            "par_basis_points": at_risk * 10_000 // outstanding if outstanding else 0}
