"""Invariants of the ledger under random sequences of postings (hypothesis)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jigi.core.errors import ApplicationError
from jigi.ledger.charts import RCSFD
from jigi.ledger.models import AccountBalance, Book, JournalEntry, JournalLine
from jigi.ledger.rules import LineSpec
from jigi.ledger.selectors import consolidated_trial_balance, ledger_verify, trial_balance
from jigi.ledger.services import entry_post

POSTABLE = [code for code, _n, _k, _p, postable in RCSFD if postable]

amounts = st.integers(min_value=1, max_value=10**12)


@st.composite
def balanced_lines(draw):
    debits = draw(st.lists(amounts, min_size=1, max_size=4))
    total = sum(debits)
    # Split the same total over 1-4 credit lines.
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=max(1, total - 1)),
                                max_size=3, unique=True))) if total > 1 else []
    credits = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    lines = [LineSpec(draw(st.sampled_from(POSTABLE)), "D", a) for a in debits]
    lines += [LineSpec(draw(st.sampled_from(POSTABLE)), "C", a) for a in credits if a > 0]
    return draw(st.permutations(lines))


@st.composite
def unbalanced_lines(draw):
    lines = list(draw(balanced_lines()))
    i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    bad = draw(st.sampled_from(["skew", "zero", "negative", "float", "side", "account"]))
    ln = lines[i]
    lines[i] = {
        "skew": LineSpec(ln.account, ln.side, ln.amount + 1),
        "zero": LineSpec(ln.account, ln.side, 0),
        "negative": LineSpec(ln.account, ln.side, -ln.amount),
        "float": LineSpec(ln.account, ln.side, float(ln.amount)),
        "side": LineSpec(ln.account, "X", ln.amount),
        "account": LineSpec("0000", ln.side, ln.amount),
    }[bad]
    return lines


def _snapshot():
    return (JournalEntry.objects.count(), JournalLine.objects.count(),
            list(AccountBalance.objects.order_by("pk").values_list("debit", "credit")))


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(postings=st.lists(st.tuples(st.integers(0, 2), balanced_lines(),
                                   st.dates(date(2025, 1, 1), date(2027, 12, 31))),
                         min_size=1, max_size=8))
def test_valid_postings_keep_every_book_balanced(world, postings):
    books = [Book.objects.get(unit=u) for u in (world.caisse_a, world.caisse_b, world.orgs.network)]
    sid = transaction.savepoint()
    try:
        for book_index, lines, value_date in postings:
            entry_post(book=books[book_index], lines=list(lines), value_date=value_date,
                       description="prop", acting_user=None)
        per_book = [trial_balance(book=b) for b in books]
        assert all(tb.balanced for tb in per_book)
        assert all(ledger_verify(b) == [] for b in books)
        cons = consolidated_trial_balance(organisation=world.orgs.kondo)
        assert cons.balanced
        assert cons.total_debit == sum(tb.total_debit for tb in per_book)
    finally:
        transaction.savepoint_rollback(sid)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(lines=unbalanced_lines())
def test_invalid_postings_change_nothing(world, lines):
    book = Book.objects.get(unit=world.caisse_a)
    if not JournalEntry.objects.exists():
        entry_post(book=book, lines=[LineSpec("101", "D", 10), LineSpec("251", "C", 10)],
                   value_date=date(2026, 1, 1), description="seed", acting_user=None)
    before = _snapshot()
    with pytest.raises(ApplicationError):
        entry_post(book=book, lines=lines, value_date=date(2026, 1, 2), description="bad",
                   acting_user=None)
    assert _snapshot() == before
