"""The demo savings history: every Kondo member gets the minimum shares and a savings account
whose rows replay to its balance; the ledger (aggregated per caisse and month) balances and
agrees with the accounts; counters continue where the demo stopped."""

from __future__ import annotations

from collections import Counter
from datetime import date

from django.db.models import Sum

from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify
from jigi.people.models import Membership
from jigi.savings.demo import savings_demo_build
from jigi.savings.models import (
    Receipt,
    SavingsAccount,
    SavingsTransaction,
    ShareAccount,
    ShareProduct,
)
from jigi.savings.services import drawer_open, savings_account_open, savings_deposit
from tests.people.factories import register
from tests.savings.conftest import balances

TODAY = date(2026, 11, 20)


def _members(world, n):
    names = ["Awa", "Fatoumata", "Mariam", "Oumar", "Seydou", "Kadiatou", "Moussa", "Aminata"]
    people = []
    for i in range(n):
        unit = world.caisse_a if i % 3 else world.caisse_b
        people.append(register(world, unit=unit, user="teller_a" if i % 3 else "teller_b",
                               first_name=names[i % len(names)], last_name=f"Traoré{i}",
                               birth_year=1950 + i % 50, confirm_not_duplicate=True))
    return people


def test_every_member_gets_shares_and_a_history_that_adds_up(world):
    people = _members(world, 60)
    Membership.objects.filter(person=people[0]).update(status="ended")
    result = savings_demo_build(seed=7, today=TODAY)
    assert result["share_accounts"] == result["savings_accounts"] == 59
    product = ShareProduct.objects.get()
    assert not ShareAccount.objects.filter(person=people[0]).exists()
    assert set(ShareAccount.objects.values_list("shares", flat=True)) == {product.min_shares}
    for acc in SavingsAccount.objects.all():
        moved = SavingsTransaction.objects.filter(account=acc)
        credit = moved.filter(direction="C").aggregate(s=Sum("amount"))["s"] or 0
        debit = moved.filter(direction="D").aggregate(s=Sum("amount"))["s"] or 0
        assert acc.balance == credit - debit >= 0
        assert acc.opened_on == date(2025, 11, 1)
    for caisse in (world.caisse_a, world.caisse_b):
        assert ledger_verify(Book.objects.get(unit=caisse)) == []
        total = SavingsAccount.objects.filter(caisse=caisse).aggregate(s=Sum("balance"))["s"]
        members = ShareAccount.objects.filter(caisse=caisse).count()
        bal = balances(world, caisse)
        assert bal.get("251", 0) == total
        assert bal["57"] == members * product.min_shares * product.nominal_value
        assert bal["7029"] == members * product.entry_fee
        numbers = list(Receipt.objects.filter(caisse=caisse, year=2026).order_by("number")
                       .values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
    assert SavingsTransaction.objects.filter(value_date__gt=TODAY).count() == 0


def test_deposits_follow_the_harvest_and_withdrawals_the_lean_season(world):
    _members(world, 90)
    savings_demo_build(seed=3, today=TODAY)
    by_month = Counter()
    for kind, on in SavingsTransaction.objects.values_list("kind", "value_date"):
        by_month[(kind, on.month)] += 1
    harvest = sum(by_month[("deposit", m)] for m in (10, 11, 12, 1))
    lean = sum(by_month[("deposit", m)] for m in (7, 8, 9))
    assert harvest > 3 * lean
    assert sum(by_month[("withdrawal", m)] for m in (7, 8, 9)) > \
        sum(by_month[("withdrawal", m)] for m in (10, 11, 12))


def test_the_same_seed_gives_the_same_history_and_counters_continue(world):
    people = _members(world, 12)
    first = savings_demo_build(seed=5, today=TODAY)
    history = list(SavingsTransaction.objects.order_by("pk").values_list(
        "account__number", "kind", "amount", "value_date"))
    assert savings_demo_build(seed=5, today=TODAY) == {"already_present": 12}
    assert first["transactions"] == len(history)
    teller = world.users["teller_a"]
    drawer_open(acting_user=teller, caisse=world.caisse_a, amount=0, on=TODAY)
    acc = SavingsAccount.objects.filter(caisse=world.caisse_a).order_by("pk").first()
    last = Receipt.objects.filter(caisse=world.caisse_a, year=2026).count()
    op = savings_deposit(acting_user=teller, account=acc, amount=1_000, on=TODAY)
    assert op.receipt.number == last + 1
    person = next(p for p in people if SavingsAccount.objects.filter(
        person=p, caisse=world.caisse_a).exists())
    count = SavingsAccount.objects.filter(caisse=world.caisse_a).count()
    extra = savings_account_open(acting_user=teller, product=acc.product,
                                 caisse=world.caisse_a, person=person, on=TODAY)
    assert extra.number.endswith(f"{count + 1:06d}")
