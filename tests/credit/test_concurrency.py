"""Tellers racing on one loan, real threads and PostgreSQL connections (skipped on SQLite,
which serialises writers; CI runs these on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from jigi.credit import services
from jigi.credit.models import Installment, Loan, LoanStatus, LoanTransaction
from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify
from jigi.savings.models import Receipt
from tests.credit.test_operations import active
from tests.savings.test_concurrency import _race, _second_teller

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_repayments_lose_no_update(world, credit):
    loan = active(world, credit)
    tellers = [world.users["teller_a"]] + [_second_teller(world, f"teller_c{i}")
                                           for i in range(3)]
    results = _race(4, lambda i: services.loan_repay(
        acting_user=tellers[i], loan=Loan.objects.get(pk=loan.pk), amount=10_000
    ).transaction.pk)
    assert all(isinstance(r, int) for r in results), results
    loan.refresh_from_db()
    paid = Installment.objects.filter(loan=loan).aggregate(
        p=Sum("principal_paid"), i=Sum("interest_paid"))
    assert paid["p"] + paid["i"] == 40_000
    assert loan.principal_paid == paid["p"]
    assert loan.interest_paid == paid["i"]
    assert loan.principal_outstanding == loan.principal - paid["p"]
    numbers = sorted(Receipt.objects.filter(kind="repayment").values_list("number", flat=True))
    assert len(numbers) == 4
    assert numbers == list(range(numbers[0], numbers[0] + 4))
    assert ledger_verify(book=Book.objects.get(unit=world.caisse_a)) == []


def test_two_payoffs_at_once_close_the_loan_once(world, credit):
    loan = active(world, credit)
    tellers = [world.users["teller_a"], _second_teller(world, "teller_p")]
    quote = services.payoff_quote(loan)
    results = _race(2, lambda i: services.loan_repay(
        acting_user=tellers[i], loan=Loan.objects.get(pk=loan.pk), amount=quote["total"],
        mode="payoff").loan.status)
    assert sorted(map(str, results)) == ["closed", "not_active"]
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.CLOSED
    assert LoanTransaction.objects.filter(loan=loan, kind="payoff").count() == 1
