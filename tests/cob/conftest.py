from __future__ import annotations

from datetime import date

import pytest

from jigi.credit import services as credit
from jigi.ledger.models import AccountBalance, Book, JournalLine
from tests.credit.conftest import credit as credit_fixture  # noqa: F401
from tests.credit.conftest import make_borrower, today  # noqa: F401
from tests.credit.test_operations import TRADE

HOUSEHOLD = [15_000] * 12


def loan_for(world, credit, person, principal=200_000, repayments=6):
    from jigi.credit import services

    loan = services.loan_apply(
        acting_user=world.users["loan_officer_a"], caisse=world.caisse_a, person=person,
        product=credit.products["COM"], principal=principal, repayments=repayments,
        purpose="Boutique", activity="trade")
    services.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                           incomes=[{"activity": "commerce", "months": TRADE}],
                           household_expenses=HOUSEHOLD)
    loan = services.loan_approve(acting_user=world.users["manager_a"], loan=loan)
    return services.loan_disburse(acting_user=world.users["teller_a"], loan=loan).loan


@pytest.fixture
def portfolio(world, credit_fixture):  # noqa: F811
    """Caisse A: a loan never repaid (Fatoumata) and one repaid on time (Awa), both
    200,000 F over 6 months disbursed on 12/05/2026."""
    late = loan_for(world, credit_fixture, credit_fixture.person)
    person, _acc = make_borrower(world, credit_fixture.savings_products, first_name="Awa",
                                 last_name="Traoré")
    good = loan_for(world, credit_fixture, person)
    return {"late": late, "good": good, "credit": credit_fixture}


def pay_due(world, loan, on: date) -> None:
    """Pay what the loan asks by `on` (the instalments due then), on that day."""
    from jigi.credit.models import Installment

    owed = sum(i.outstanding for i in Installment.objects.filter(
        loan=loan, version=loan.schedule_version, due_on__lte=on))
    if owed:
        credit.loan_repay(acting_user=world.users["teller_a"], loan=loan, amount=owed, on=on)


def ledger_snapshot(book: Book) -> list:
    return list(JournalLine.objects.filter(book=book).order_by(
        "entry__year", "entry__number", "pk").values_list(
        "entry__number", "entry__value_date", "entry__description", "account__code", "side",
        "amount", "subledger"))


def balance(book: Book, code: str) -> int:
    row = AccountBalance.objects.filter(book=book, account__code=code).first()
    return (row.debit - row.credit) if row else 0
