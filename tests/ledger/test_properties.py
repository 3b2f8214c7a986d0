"""Invariants of the ledger under random sequences of postings (hypothesis).

The `world` fixture is built once per test function; each hypothesis example runs inside a
savepoint that is rolled back, so examples start from the same empty books.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.ledger.charts import MUTUAL, RCSFD
from jigi.ledger.models import AccountBalance, Book, JournalEntry, JournalLine
from jigi.ledger.rules import LineSpec
from jigi.ledger.selectors import (
    account_statement,
    consolidated_trial_balance,
    ledger_verify,
    trial_balance,
    unbalanced_entries,
)
from jigi.ledger.services import entry_post, entry_reverse, period_close

KONDO_POSTABLE = [code for code, _n, _k, _p, postable in RCSFD if postable]
KONDO_HEADINGS = [code for code, _n, _k, _p, postable in RCSFD if not postable]
UTM_POSTABLE = [code for code, _n, _k, _p, postable in MUTUAL if postable]
# Books drawn from: Kondo's head office, caisse A, caisse B (RCSFD chart); UTM's union and
# mutual 1 (the mutuals' chart).
BOOKS = [("KONDO", "network"), ("KONDO", "caisse_a"), ("KONDO", "caisse_b"),
         ("UTM", "union"), ("UTM", "mutual_1")]
CLOSED_MONTH = (2025, 6)

PROPERTY_SETTINGS = settings(
    max_examples=30, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

amounts = st.integers(min_value=1, max_value=10**12)
open_dates = st.dates(date(2025, 7, 1), date(2027, 12, 31))


@st.composite
def balanced_lines(draw, chart=KONDO_POSTABLE):
    """1-4 debit lines and the same total split over 1-4 credit lines, in random order."""
    debits = draw(st.lists(amounts, min_size=1, max_size=4))
    total = sum(debits)
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=max(1, total - 1)),
                                max_size=3, unique=True))) if total > 1 else []
    credits = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    lines = [LineSpec(draw(st.sampled_from(chart)), "D", a) for a in debits]
    lines += [LineSpec(draw(st.sampled_from(chart)), "C", a) for a in credits]
    return draw(st.permutations(lines))


@st.composite
def postings(draw):
    book_index = draw(st.integers(0, len(BOOKS) - 1))
    chart = KONDO_POSTABLE if BOOKS[book_index][0] == "KONDO" else UTM_POSTABLE
    return book_index, draw(balanced_lines(chart)), draw(open_dates), draw(st.booleans())


def _books(world) -> list[Book]:
    units = {"network": world.orgs.network, "caisse_a": world.caisse_a,
             "caisse_b": world.caisse_b, "union": world.orgs.union, "mutual_1": world.mutual_1}
    return [Book.objects.get(unit=units[name]) for _org, name in BOOKS]


def _snapshot():
    return (JournalEntry.objects.count(), JournalLine.objects.count(),
            list(AccountBalance.objects.order_by("pk").values_list("debit", "credit")),
            AuditEvent.objects.filter(event_type__startswith="ledger.entry").count())


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(steps=st.lists(postings(), min_size=1, max_size=8))
def test_valid_postings_keep_every_book_balanced_and_verified(world, steps):
    books = _books(world)
    sid = transaction.savepoint()
    try:
        posted = []
        for book_index, lines, value_date, reverse_it in steps:
            entry = entry_post(book=books[book_index], lines=list(lines),
                               value_date=value_date, description="prop", acting_user=None)
            posted.append(entry)
            if reverse_it:
                entry_reverse(entry=entry, reason="prop", acting_user=None,
                              value_date=value_date)
        per_book = {b.pk: trial_balance(b) for b in books}
        for book in books:
            tb = per_book[book.pk]
            assert tb.balanced
            assert ledger_verify(book) == []
            assert unbalanced_entries(book) == []
            # Lines summed "as of" the last date give exactly the kept totals.
            assert trial_balance(book, as_of=date(2027, 12, 31)).rows == tb.rows
            # Each account's statement closes on its trial-balance balance.
            for row in tb.rows[:3]:
                assert account_statement(book, row.code).closing == row.balance
        for org, members in (("KONDO", books[:3]), ("UTM", books[3:])):
            organisation = members[0].organisation
            assert organisation.code == org
            cons = consolidated_trial_balance(organisation)
            assert cons.balanced
            assert cons.total_debit == sum(per_book[b.pk].total_debit for b in members)
            expected: dict[str, tuple[int, int]] = {}
            for b in members:
                for row in per_book[b.pk].rows:
                    d, c = expected.get(row.code, (0, 0))
                    expected[row.code] = (d + row.debit, c + row.credit)
            assert {r.code: (r.debit, r.credit) for r in cons.rows} == expected
    finally:
        transaction.savepoint_rollback(sid)


@st.composite
def invalid_postings(draw):
    """A balanced entry spoilt in one way; returns (lines, value_date)."""
    lines = list(draw(balanced_lines()))
    i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    ln = lines[i]
    bad = draw(st.sampled_from(["skew", "zero", "negative", "float", "bool", "string", "side",
                                "account", "heading", "other_chart", "single", "closed"]))
    value_date = draw(open_dates)
    if bad == "closed":
        return lines, date(*CLOSED_MONTH, draw(st.integers(1, 30)))
    if bad == "single":
        return [ln], value_date
    lines[i] = {
        "skew": LineSpec(ln.account, ln.side, ln.amount + draw(st.integers(1, 10))),
        "zero": LineSpec(ln.account, ln.side, 0),
        "negative": LineSpec(ln.account, ln.side, -ln.amount),
        "float": LineSpec(ln.account, ln.side, float(ln.amount)),
        "bool": LineSpec(ln.account, ln.side, True),
        "string": LineSpec(ln.account, ln.side, str(ln.amount)),
        "side": LineSpec(ln.account, draw(st.sampled_from(["X", "d", "", "DC"])), ln.amount),
        "account": LineSpec(draw(st.sampled_from(["0000", "", "1011", "25 1"])), ln.side,
                            ln.amount),
        "heading": LineSpec(draw(st.sampled_from(KONDO_HEADINGS)), ln.side, ln.amount),
        "other_chart": LineSpec("701", ln.side, ln.amount),
    }[bad]
    return lines, value_date


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(case=invalid_postings())
def test_invalid_postings_raise_and_change_nothing(world, case):
    lines, value_date = case
    book = Book.objects.get(unit=world.caisse_a)
    if not JournalEntry.objects.exists():
        # Some history, and a closed month, built once for all examples.
        entry_post(book=book, lines=[LineSpec("101", "D", 10), LineSpec("251", "C", 10)],
                   value_date=date(2025, 6, 1), description="seed", acting_user=None)
        period_close(book=book, year=CLOSED_MONTH[0], month=CLOSED_MONTH[1], acting_user=None)
    before = _snapshot()
    with pytest.raises(ApplicationError):
        entry_post(book=book, lines=lines, value_date=value_date, description="bad",
                   acting_user=None)
    assert _snapshot() == before
    assert ledger_verify(book) == []
