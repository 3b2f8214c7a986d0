"""Concurrent postings on one book: real threads, real PostgreSQL connections."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import connection, transaction

from jigi.core.errors import ApplicationError
from jigi.ledger.models import Account, AccountBalance, Book, JournalEntry
from jigi.ledger.rules import LineSpec
from jigi.ledger.selectors import ledger_verify, trial_balance
from jigi.ledger.services import chart_cache_clear, entry_post, period_close

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _threads(n, work):
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


def test_concurrent_first_postings_to_a_new_account_lose_nothing(world):
    """Eight postings race on an account that has no balance row yet (added to the chart after
    the book opened): the upsert creates it once and adds every amount; numbers stay gapless."""
    Account.objects.create(organisation=world.orgs.kondo, code="6299", name="Frais divers",
                           kind="expense", postable=True)
    chart_cache_clear()
    book_id = Book.objects.get(unit=world.caisse_a).pk

    def post(i):
        return entry_post(book=Book.objects.get(pk=book_id),
                          lines=[LineSpec("6299", "D", 100 + i), LineSpec("101", "C", 100 + i)],
                          value_date=date(2026, 10, 1), description=f"frais {i}",
                          acting_user=None).number

    numbers = _threads(8, post)
    assert sorted(numbers) == list(range(1, 9))
    book = Book.objects.get(pk=book_id)
    row = AccountBalance.objects.get(book=book, account__code="6299")
    assert (row.debit, row.credit) == (sum(100 + i for i in range(8)), 0)
    assert trial_balance(book).balanced
    assert ledger_verify(book) == []


def test_a_posting_racing_a_month_close_is_refused(world):
    """The close holds the book's counters until it commits; a posting into that month that
    arrives meanwhile waits, then sees the closed month and is refused."""
    book_id = Book.objects.get(unit=world.caisse_a).pk
    entry_post(book=Book.objects.get(pk=book_id), lines=[LineSpec("101", "D", 1),
                                                         LineSpec("251", "C", 1)],
               value_date=date(2026, 9, 1), description="avant", acting_user=None)
    closed = threading.Event()

    def work(i):
        book = Book.objects.get(pk=book_id)
        if i == 0:
            with transaction.atomic():
                period_close(book=book, year=2026, month=9, acting_user=None)
                closed.set()
                # Keep the close uncommitted while the other thread tries to post.
                time.sleep(0.5)
            return "closed"
        closed.wait(timeout=30)
        return entry_post(book=book, lines=[LineSpec("101", "D", 5), LineSpec("251", "C", 5)],
                          value_date=date(2026, 9, 30), description="pendant",
                          acting_user=None).number

    assert _threads(2, work) == ["closed", "period_closed"]
    assert list(JournalEntry.objects.values_list("description", flat=True)) == ["avant"]
