"""Two tellers on one account at the same moment: real threads, real PostgreSQL connections."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from jigi.core.errors import ApplicationError
from jigi.orgs.models import Role
from jigi.orgs.services import staff_user_create
from jigi.savings.models import Receipt, SavingsAccount
from jigi.savings.services import drawer_open, savings_deposit, savings_withdraw
from tests.savings.conftest import TODAY

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n, work):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except ApplicationError as exc:
            results[i] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_tellers_withdrawing_at_once_never_overdraw(world, counter):
    second = staff_user_create(username="teller_a2", password="x-123456",
                               organisation=world.orgs.kondo, role=Role.TELLER,
                               unit=world.caisse_a)
    drawer_open(acting_user=second, caisse=world.caisse_a, amount=100_000, on=TODAY)
    tellers = [world.users["teller_a"], second]
    savings_deposit(acting_user=tellers[0], account=counter.account, amount=10_000, on=TODAY)
    account_id = counter.account.pk

    # Balance 10,000, minimum 1,000: only one of two 6,000 withdrawals can pass.
    results = _race(2, lambda i: savings_withdraw(
        acting_user=tellers[i], account=SavingsAccount.objects.get(pk=account_id),
        amount=6_000, on=TODAY).transaction.balance_after)
    assert sorted(map(str, results)) == ["4000", "insufficient_balance"]
    assert SavingsAccount.objects.get(pk=account_id).balance == 4_000


def test_concurrent_deposits_lose_no_update_and_receipts_stay_gapless(world, counter):
    second = staff_user_create(username="teller_a3", password="x-123456",
                               organisation=world.orgs.kondo, role=Role.TELLER,
                               unit=world.caisse_a)
    drawer_open(acting_user=second, caisse=world.caisse_a, amount=100_000, on=TODAY)
    tellers = [world.users["teller_a"], second]
    account_id = counter.account.pk
    _race(8, lambda i: savings_deposit(
        acting_user=tellers[i % 2], account=SavingsAccount.objects.get(pk=account_id),
        amount=1_000 + i, on=TODAY))
    assert SavingsAccount.objects.get(pk=account_id).balance == sum(1_000 + i for i in range(8))
    numbers = sorted(Receipt.objects.filter(caisse=world.caisse_a).values_list("number",
                                                                               flat=True))
    assert numbers == list(range(1, 9))
