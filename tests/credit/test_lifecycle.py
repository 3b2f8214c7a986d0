"""A seasonal cotton loan from application to closure, through the services."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.core.errors import ApplicationError
from jigi.credit import services
from jigi.credit.models import Installment, LoanStatus, LoanTransaction
from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify
from jigi.savings.models import SavingsAccount
from tests.credit.conftest import COTTON_INCOME, HOUSEHOLD, balances

COTTON = {"pattern": "crop", "crop": "cotton", "region": "Sikasso"}


def apply_cotton(world, credit, principal=200_000, **extra):
    return services.loan_apply(
        acting_user=world.users["loan_officer_a"], caisse=world.caisse_a, person=credit.person,
        product=credit.products["AGR"], principal=principal, repayments=3, seasonal=COTTON,
        purpose="Intrants coton", activity="cotton", **extra)


def approved(world, credit, **extra):
    loan = apply_cotton(world, credit, **extra)
    services.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                           incomes=[{"activity": "coton", "months": COTTON_INCOME}],
                           household_expenses=HOUSEHOLD)
    return services.loan_approve(acting_user=world.users["manager_a"], loan=loan,
                                 note="Comité du 12 mai")


def test_cotton_loan_schedule_follows_the_cmdt_payment(world, credit):
    loan = apply_cotton(world, credit)
    rows = list(Installment.objects.filter(loan=loan).order_by("number"))
    assert loan.status == LoanStatus.APPLIED
    assert loan.pattern == "crop"
    # Principal only in the cotton cash months (December to March), interest only before.
    assert all(r.principal == 0 for r in rows if r.due_on.month in (6, 7, 8, 9, 10, 11))
    assert sum(r.principal for r in rows) == 200_000
    assert {r.due_on.month for r in rows if r.principal} <= {12, 1, 2, 3}
    assert loan.teg_annual is not None
    assert loan.teg_annual <= loan.usury_cap
    assert loan.upfront_fees == 3_000  # 1 % application fee + 0.5 % insurance
    assert loan.compulsory_savings == 20_000


def test_application_to_closure(world, credit):
    loan = approved(world, credit)
    assert loan.status == LoanStatus.APPROVED
    op = services.loan_disburse(acting_user=world.users["teller_a"], loan=loan)
    loan = op.loan
    assert loan.status == LoanStatus.ACTIVE
    assert op.receipt is not None
    net = 200_000 - 3_000 - 20_000
    b = balances(world)
    assert b["202"] == 200_000
    assert b["2545"] == 20_000
    guarantee = SavingsAccount.objects.get(pk=loan.guarantee_account_id)
    assert guarantee.balance == 20_000
    credit.drawer.refresh_from_db()
    assert credit.drawer.cash_out == net

    first = Installment.objects.filter(loan=loan).order_by("number").first()
    pay = services.loan_repay(acting_user=world.users["teller_a"], loan=loan,
                              amount=first.total, on=first.due_on)
    assert pay.transaction.interest == first.interest
    assert pay.transaction.principal == first.principal
    first.refresh_from_db()
    assert first.paid_on == first.due_on
    assert first.outstanding == 0

    quote = services.payoff_quote(loan, first.due_on)
    done = services.loan_repay(acting_user=world.users["teller_a"], loan=loan,
                               amount=quote["total"], on=first.due_on, mode="payoff")
    assert done.loan.status == LoanStatus.CLOSED
    # Interest of periods not yet begun is not owed on a declining-balance payoff.
    assert quote["interest_waived"] > 0
    guarantee.refresh_from_db()
    assert guarantee.balance == 0
    credit.account.refresh_from_db()
    assert credit.account.balance == 100_000 + 20_000  # guarantee released to savings
    b = balances(world)
    assert "202" not in b
    assert "2545" not in b
    assert ledger_verify(book=Book.objects.get(unit=world.caisse_a)) == []


def test_the_maker_cannot_approve_her_own_application(world, credit):
    loan = apply_cotton(world, credit)
    services.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                           incomes=[{"activity": "coton", "months": COTTON_INCOME}],
                           household_expenses=HOUSEHOLD)
    with pytest.raises(ApplicationError) as exc:
        services.loan_approve(acting_user=world.users["loan_officer_a"], loan=loan)
    assert exc.value.status_code == 403


def test_repayment_allocation_penalties_then_interest(world, credit):
    loan = approved(world, credit)
    loan = services.loan_disburse(acting_user=world.users["teller_a"], loan=loan).loan
    first = Installment.objects.filter(loan=loan).order_by("number").first()
    late = date.fromordinal(first.due_on.toordinal() + 20)
    op = services.loan_repay(acting_user=world.users["teller_a"], loan=loan, amount=1_000,
                             on=late)
    first.refresh_from_db()
    assert first.penalised
    assert first.penalties > 0
    # 1,000 F go to the penalty first (the default allocation order).
    assert op.transaction.penalties == min(1_000, first.penalties)
    assert LoanTransaction.objects.filter(loan=loan).count() == 2
