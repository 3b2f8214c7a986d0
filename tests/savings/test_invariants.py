"""Whatever sequence of counter operations (accepted or refused), the books agree: each
account's balance is the sum of its movements and never negative, the deposits accounts of the
ledger equal the sum of the account balances, the drawer's expected cash equals account 102,
the ledger balances and receipts stay gapless."""

from __future__ import annotations

from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jigi.core.errors import ApplicationError
from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify
from jigi.savings.models import (
    MONEY_STATUSES,
    DrawerSession,
    Receipt,
    SavingsAccount,
    SavingsTransaction,
)
from jigi.savings.services import (
    savings_account_open,
    savings_deposit,
    savings_transaction_approve,
    savings_transaction_reverse,
    savings_transfer,
    savings_withdraw,
)
from tests.savings.conftest import TODAY, balances

operation = st.one_of(
    st.tuples(st.just("deposit"), st.integers(1, 900_000)),
    st.tuples(st.just("withdraw"), st.integers(1, 900_000)),
    st.tuples(st.just("transfer"), st.integers(1, 200_000)),
    st.tuples(st.just("reverse"), st.integers(0, 5)),
    st.tuples(st.just("approve"), st.integers(0, 5)),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_any_sequence_keeps_the_books_consistent(world, counter, ops):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    account = savings_account_open(acting_user=teller, product=counter.products["EPV"],
                                   caisse=world.caisse_a, person=counter.person, on=TODAY)
    done = []
    for kind, n in ops:
        try:
            if kind == "deposit":
                done.append(savings_deposit(acting_user=teller, account=account, amount=n,
                                            on=TODAY).transaction)
            elif kind == "withdraw":
                done.append(savings_withdraw(acting_user=teller, account=account, amount=n,
                                             on=TODAY).transaction)
            elif kind == "transfer":
                done.append(savings_transfer(acting_user=teller, source=account,
                                             target=counter.account, amount=n,
                                             on=TODAY).transaction)
            elif kind == "reverse" and done:
                savings_transaction_reverse(acting_user=manager, tx=done[n % len(done)],
                                            reason="test", on=TODAY)
            elif kind == "approve" and done:
                savings_transaction_approve(acting_user=manager, tx=done[n % len(done)])
        except ApplicationError:
            pass  # a refusal must leave everything consistent: checked below
    for acc in SavingsAccount.objects.filter(caisse=world.caisse_a):
        moved = SavingsTransaction.objects.filter(account=acc, status__in=MONEY_STATUSES)
        credit = moved.filter(direction="C").aggregate(s=Sum("amount"))["s"] or 0
        debit = moved.filter(direction="D").aggregate(s=Sum("amount"))["s"] or 0
        assert acc.balance == credit - debit >= 0
    total = SavingsAccount.objects.filter(caisse=world.caisse_a).aggregate(
        s=Sum("balance"))["s"]
    bal = balances(world)
    assert bal.get("251", 0) == total
    drawer = DrawerSession.objects.get(pk=counter.drawer.pk)
    assert bal["102"] == drawer.expected
    assert ledger_verify(Book.objects.get(unit=world.caisse_a)) == []
    numbers = list(Receipt.objects.filter(caisse=world.caisse_a, year=2026).order_by(
        "number").values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
