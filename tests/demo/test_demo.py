from __future__ import annotations

import hashlib
import io
from collections import Counter as Tally
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q, Sum

from jigi.demo.builder import _allocate, build_demo
from jigi.ledger.models import JournalLine
from jigi.orgs.models import Unit
from jigi.people.models import Membership, Person
from jigi.people.phones import normalize_mali_phone

TODAY = date(2026, 11, 26)


def _digest() -> str:
    rows = Person.objects.order_by("pk").values_list("first_name", "last_name", "phone", "nina",
                                                     "birth_year", "village")
    units = Unit.objects.order_by("code").values_list("code", "name", "cercle")
    text = repr(list(rows)) + repr(list(units))
    return hashlib.sha256(text.encode()).hexdigest()


def test_allocation_is_exact_and_proportional():
    assert sum(_allocate([10, 18, 20, 3], 100)) == 100
    assert _allocate([1, 1], 3) in ([2, 1], [1, 2])


@pytest.mark.django_db
def test_demo_builds_a_mali_network(capsys):
    build_demo(members=200, seed=3, today=TODAY, log=lambda m: None)
    caisses = Unit.objects.filter(kind="caisse")
    assert caisses.count() == 100
    regions = set(caisses.values_list("region", flat=True))
    assert {"Sikasso", "Ségou", "Koulikoro", "Bamako", "Kayes", "Mopti"} <= regions
    # Sikasso and Ségou (weight 20 and 18 per cercle) hold more caisses than Kidal (1).
    per_region = Tally(caisses.values_list("region", flat=True))
    assert per_region["Sikasso"] > per_region.get("Kidal", 0)
    persons = Person.objects.all()
    assert persons.count() == 200
    phones = [p for p in persons.values_list("phone", flat=True) if p]
    assert len(phones) == len(set(phones))
    assert all(normalize_mali_phone(p) == p for p in phones)
    ninas = [n for n in persons.values_list("nina", flat=True) if n]
    assert len(ninas) == len(set(ninas))
    women = persons.filter(sex="F").count()
    assert 0.40 < women / 200 < 0.65
    assert not persons.annotate(n=Count("memberships")).filter(n=0).exists()
    # Member numbers continue gaplessly after the demo.
    kondo = Membership.objects.filter(organisation__code="KONDO").count()
    assert Membership.objects.filter(organisation__code="KONDO",
                                     number__endswith=f"-{kondo:06d}").exists()


@pytest.mark.django_db
def test_savings_history_balances_the_ledger_and_the_accounts():
    from jigi.ledger.selectors import ledger_verify
    from jigi.savings.models import Receipt, SavingsAccount, SavingsTransaction, ShareAccount

    build_demo(members=120, seed=5, today=TODAY, log=lambda m: None)
    per_book = list(JournalLine.objects.values("book").annotate(
        d=Sum("amount", filter=Q(side="D")), c=Sum("amount", filter=Q(side="C"))))
    assert per_book
    assert all(row["d"] == row["c"] for row in per_book)
    assert ShareAccount.objects.count() == SavingsAccount.objects.count() == 120
    # The GL deposits account equals the sum of the members' balances.
    deposits = JournalLine.objects.filter(account__code="251").aggregate(
        d=Sum("amount", filter=Q(side="D")), c=Sum("amount", filter=Q(side="C")))
    assert deposits["c"] - deposits["d"] == SavingsAccount.objects.aggregate(
        s=Sum("balance"))["s"]
    # Every account's last transaction carries its balance; receipts are gapless per caisse.
    for acc in SavingsAccount.objects.all()[:30]:
        last = SavingsTransaction.objects.filter(account=acc).order_by("value_date", "pk").last()
        assert (last.balance_after if last else 0) == acc.balance
    for caisse_id, year in Receipt.objects.values_list("caisse_id", "year").distinct():
        numbers = list(Receipt.objects.filter(caisse_id=caisse_id, year=year).order_by(
            "number").values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
    from jigi.ledger.models import Book

    assert all(ledger_verify(b) == [] for b in Book.objects.all())


@pytest.mark.django_db(transaction=True)
def test_same_seed_same_data():
    build_demo(members=150, seed=7, today=TODAY, log=lambda m: None)
    first = _digest()
    call_command("flush", interactive=False, verbosity=0)
    build_demo(members=150, seed=7, today=TODAY, log=lambda m: None)
    assert _digest() == first
    call_command("flush", interactive=False, verbosity=0)
    build_demo(members=150, seed=8, today=TODAY, log=lambda m: None)
    assert _digest() != first


@pytest.mark.django_db
def test_command_if_empty_and_refusal():
    out = io.StringIO()
    call_command("demo", members=50, seed=1, today=TODAY, stdout=out)
    assert "guichet1" in out.getvalue()
    assert "jigi-demo" in out.getvalue()
    out = io.StringIO()
    call_command("demo", members=50, seed=1, if_empty=True, stdout=out)
    assert "nothing to do" in out.getvalue()
    assert Person.objects.count() == 50
    with pytest.raises(CommandError):
        call_command("demo", members=50, seed=1, stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("demo", members=0, seed=1, reset=True, stdout=io.StringIO())
