from __future__ import annotations

from datetime import date

import pytest

from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.ledger.models import AccountBalance, Book, JournalEntry, JournalLine
from jigi.ledger.rules import LineSpec
from jigi.ledger.selectors import (
    account_statement,
    consolidated_trial_balance,
    ledger_verify,
    trial_balance,
)
from jigi.ledger.services import entry_post, entry_reverse, period_close

D = date(2026, 10, 15)


def _book(unit):
    return Book.objects.get(unit=unit)


def _counts():
    return (JournalEntry.objects.count(), JournalLine.objects.count(),
            sum(AccountBalance.objects.values_list("debit", flat=True)),
            AuditEvent.objects.filter(event_type__startswith="ledger.entry").count())


def test_balanced_entry_is_posted_with_numbers_balances_and_audit(world):
    book = _book(world.caisse_a)
    user = world.users["manager_a"]
    e1 = entry_post(book=book, lines=[LineSpec("101", "D", 50_000), LineSpec("251", "C", 50_000)],
                    value_date=D, description="Dépôt", acting_user=user, posting_date=D)
    e2 = entry_post(book=book, lines=[LineSpec("102", "D", 10_000), LineSpec("101", "C", 10_000)],
                    value_date=D, description="Dotation guichet", acting_user=user, posting_date=D)
    assert (e1.number, e2.number, e1.year) == (1, 2, 2026)
    tb = trial_balance(book=book)
    assert tb.balanced
    assert {r.code: r.balance for r in tb.rows} == {"101": 40_000, "102": 10_000, "251": 50_000}
    assert ledger_verify(book) == []
    assert AuditEvent.objects.filter(event_type="ledger.entry_posted", actor=user).count() == 2


@pytest.mark.parametrize(
    "lines",
    [
        [LineSpec("101", "D", 100), LineSpec("251", "C", 99)],
        [LineSpec("101", "D", 100)],
        [LineSpec("101", "D", 0), LineSpec("251", "C", 0)],
        [LineSpec("101", "D", -5), LineSpec("251", "C", -5)],
        [LineSpec("101", "D", 100.0), LineSpec("251", "C", 100.0)],
        [LineSpec("101", "X", 100), LineSpec("251", "C", 100)],
        [LineSpec("999", "D", 100), LineSpec("251", "C", 100)],
        [LineSpec("25", "D", 100), LineSpec("251", "C", 100)],  # a heading, not postable
    ],
)
def test_invalid_entries_are_refused_and_write_nothing(world, lines):
    book = _book(world.caisse_a)
    before = _counts()
    with pytest.raises(ApplicationError):
        entry_post(book=book, lines=lines, value_date=D, description="x",
                   acting_user=world.users["manager_a"])
    assert _counts() == before


def test_closed_month_refuses_postings(world):
    book = _book(world.caisse_a)
    period_close(book=book, year=2026, month=9, acting_user=world.users["manager_a"])
    before = _counts()
    with pytest.raises(ApplicationError) as exc:
        entry_post(book=book, lines=[LineSpec("101", "D", 5), LineSpec("251", "C", 5)],
                   value_date=date(2026, 9, 30), description="x", acting_user=None)
    assert exc.value.code == "period_closed"
    assert _counts() == before
    # October is still open.
    entry_post(book=book, lines=[LineSpec("101", "D", 5), LineSpec("251", "C", 5)],
               value_date=date(2026, 10, 1), description="x", acting_user=None)
    with pytest.raises(ApplicationError):
        period_close(book=book, year=2026, month=9, acting_user=None)


def test_reversal_restores_balances_once(world):
    book = _book(world.caisse_a)
    e = entry_post(book=book, lines=[LineSpec("101", "D", 7_500), LineSpec("7029", "C", 7_500)],
                   value_date=D, description="Frais", acting_user=None)
    r = entry_reverse(entry=e, reason="Erreur de saisie", acting_user=world.users["manager_a"],
                      value_date=D)
    assert r.reversal_of == e
    assert [(ln.account.code, ln.side, ln.amount) for ln in r.lines.order_by("pk")] == [
        ("101", "C", 7_500), ("7029", "D", 7_500)]
    assert all(row.balance == 0 for row in trial_balance(book=book).rows)
    with pytest.raises(ApplicationError) as exc:
        entry_reverse(entry=e, reason="encore", acting_user=None)
    assert exc.value.code == "entry_already_reversed"
    with pytest.raises(ApplicationError) as exc:
        entry_reverse(entry=r, reason="annuler l'annulation", acting_user=None)
    assert exc.value.code == "entry_is_reversal"
    with pytest.raises(ApplicationError):
        entry_reverse(entry=e, reason="  ", acting_user=None)


def test_statement_running_balance_and_opening(world):
    book = _book(world.caisse_a)
    for day, side, amount in [(1, "C", 10_000), (5, "D", 3_000), (20, "C", 2_500)]:
        other = "D" if side == "C" else "C"
        entry_post(book=book, lines=[LineSpec("251", side, amount, "SAV-1"),
                                     LineSpec("101", other, amount)],
                   value_date=date(2026, 10, day), description=f"op {day}", acting_user=None)
    st = account_statement(book=book, account_code="251", date_from=date(2026, 10, 2),
                           date_to=date(2026, 10, 31), subledger="SAV-1")
    assert st.opening == 10_000
    assert [ln.balance for ln in st.lines] == [7_000, 9_500]
    assert (st.closing, st.total_debit, st.total_credit) == (9_500, 3_000, 2_500)


def test_trial_balance_as_of_uses_value_dates(world):
    book = _book(world.caisse_a)
    entry_post(book=book, lines=[LineSpec("101", "D", 1_000), LineSpec("57", "C", 1_000)],
               value_date=date(2026, 1, 10), description="parts", acting_user=None)
    entry_post(book=book, lines=[LineSpec("101", "D", 4_000), LineSpec("57", "C", 4_000)],
               value_date=date(2026, 3, 10), description="parts", acting_user=None)
    assert trial_balance(book=book, as_of=date(2026, 2, 1)).total_debit == 1_000
    assert trial_balance(book=book).total_debit == 5_000


def test_consolidated_is_the_sum_of_books_and_region_filters(world):
    for unit, amount in [(world.caisse_a, 1_000), (world.caisse_b, 2_000)]:
        entry_post(book=_book(unit), lines=[LineSpec("101", "D", amount),
                                            LineSpec("251", "C", amount)],
                   value_date=D, description="x", acting_user=None)
    tb = consolidated_trial_balance(organisation=world.orgs.kondo)
    assert {r.code: r.balance for r in tb.rows} == {"101": 3_000, "251": 3_000}
    seg = consolidated_trial_balance(organisation=world.orgs.kondo, unit=world.region_segou)
    assert {r.code: r.balance for r in seg.rows} == {"101": 1_000, "251": 1_000}
