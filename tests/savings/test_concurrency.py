"""Tellers racing on one account: real threads, each with its own PostgreSQL connection.

Skipped on SQLite only (tests/conftest.py: SQLite serialises writers, so there is no race to
prove there); CI runs the suite again on PostgreSQL where these run.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from django.db import connection

from jigi.core.errors import ApplicationError
from jigi.core.models import IdempotencyRecord
from jigi.orgs.models import Role
from jigi.orgs.services import staff_user_create
from jigi.savings.api import operation_out
from jigi.savings.idempotency import idempotent_call
from jigi.savings.models import Receipt, SavingsAccount, SavingsTransaction
from jigi.savings.services import (
    drawer_open,
    savings_deposit,
    savings_transfer,
    savings_withdraw,
)
from tests.savings.conftest import TODAY, make_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n, work):
    """Run work(0..n-1) in n threads released together; return results or error codes."""
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
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return results


def _second_teller(world, name):
    teller = staff_user_create(username=name, password="x-123456",
                               organisation=world.orgs.kondo, role=Role.TELLER,
                               unit=world.caisse_a)
    drawer_open(acting_user=teller, caisse=world.caisse_a, amount=100_000, on=TODAY)
    return teller


def test_two_tellers_withdrawing_at_once_never_overdraw(world, counter):
    tellers = [world.users["teller_a"], _second_teller(world, "teller_a2")]
    savings_deposit(acting_user=tellers[0], account=counter.account, amount=10_000, on=TODAY)
    account_id = counter.account.pk

    # Balance 10,000, minimum 1,000: only one of two 6,000 withdrawals can pass.
    results = _race(2, lambda i: savings_withdraw(
        acting_user=tellers[i], account=SavingsAccount.objects.get(pk=account_id),
        amount=6_000, on=TODAY).transaction.balance_after)
    assert sorted(map(str, results)) == ["4000", "insufficient_balance"]
    assert SavingsAccount.objects.get(pk=account_id).balance == 4_000
    assert SavingsTransaction.objects.filter(kind="withdrawal").count() == 1


def test_many_withdrawals_at_once_take_exactly_what_is_available(world, counter):
    tellers = [world.users["teller_a"], _second_teller(world, "teller_a4")]
    savings_deposit(acting_user=tellers[0], account=counter.account, amount=31_000, on=TODAY)
    account_id = counter.account.pk
    # 30,000 available above the minimum: exactly three of eight 10,000 withdrawals pass.
    results = _race(8, lambda i: savings_withdraw(
        acting_user=tellers[i % 2], account=SavingsAccount.objects.get(pk=account_id),
        amount=10_000, on=TODAY).transaction.balance_after)
    assert sorted(r for r in results if isinstance(r, int)) == [1_000, 11_000, 21_000]
    assert results.count("insufficient_balance") == 5
    assert SavingsAccount.objects.get(pk=account_id).balance == 1_000


def test_concurrent_deposits_lose_no_update_and_receipts_stay_gapless(world, counter):
    tellers = [world.users["teller_a"], _second_teller(world, "teller_a3")]
    account_id = counter.account.pk
    _race(8, lambda i: savings_deposit(
        acting_user=tellers[i % 2], account=SavingsAccount.objects.get(pk=account_id),
        amount=1_000 + i, on=TODAY))
    assert SavingsAccount.objects.get(pk=account_id).balance == sum(1_000 + i for i in range(8))
    numbers = sorted(Receipt.objects.filter(caisse=world.caisse_a).values_list("number",
                                                                               flat=True))
    assert numbers == list(range(1, 10))  # 1 was the member's shares


def test_the_same_idempotency_key_twice_at_once_posts_once(world, counter):
    teller = world.users["teller_a"]
    account_id = counter.account.pk

    def call(_i):
        request = SimpleNamespace(headers={"Idempotency-Key": "same-key"}, user=teller)
        return idempotent_call(
            request, endpoint=f"savings.deposit:{account_id}", body={"amount": 5_000},
            render=operation_out,
            run=lambda claim: savings_deposit(
                acting_user=teller, account=SavingsAccount.objects.get(pk=account_id),
                amount=5_000, on=TODAY, idempotency=claim))

    results = _race(4, call)
    assert all(r == results[0] for r in results)  # every caller got the first answer
    assert results[0][0] == 201
    assert SavingsAccount.objects.get(pk=account_id).balance == 5_000
    assert SavingsTransaction.objects.filter(kind="deposit").count() == 1
    assert IdempotencyRecord.objects.filter(key="same-key").count() == 1


def test_opposite_transfers_at_once_do_not_deadlock(world, counter):
    teller = world.users["teller_a"]
    _p, other = make_member(world, counter, first_name="Ramata", last_name="Cissé")
    savings_deposit(acting_user=teller, account=counter.account, amount=50_000, on=TODAY)
    savings_deposit(acting_user=teller, account=other, amount=50_000, on=TODAY)
    a, b = counter.account.pk, other.pk

    def move(i):
        src, dst = (a, b) if i % 2 else (b, a)
        return savings_transfer(acting_user=teller,
                                source=SavingsAccount.objects.get(pk=src),
                                target=SavingsAccount.objects.get(pk=dst),
                                amount=1_000, on=TODAY).transaction.pk

    results = _race(6, move)
    assert all(isinstance(r, int) for r in results)
    balances = SavingsAccount.objects.filter(pk__in=[a, b]).values_list("balance", flat=True)
    assert sorted(balances) == [50_000, 50_000]
