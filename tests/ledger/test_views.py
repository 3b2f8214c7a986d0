"""Ledger screens through Django's test client (the browser test drives the main path)."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import book_open, entry_post, entry_reverse


def _book(unit):
    return Book.objects.get(unit=unit)


def _get(client, url, **headers):
    # English pages so the assertions read the source strings.
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en", **headers)


@pytest.fixture
def posted(world):
    book = _book(world.caisse_a)
    entries = [
        entry_post(book=book, lines=[LineSpec("101", "D", amount),
                                     LineSpec("251", "C", amount, "SAV-7")],
                   value_date=date(2026, 10, day), description=f"Dépôt {day}",
                   acting_user=world.users["manager_a"])
        for day, amount in [(3, 25_000), (12, 1_234_567)]
    ]
    return book, entries


def test_books_page_lists_the_books_in_scope(world, client_for):
    page = _get(client_for("teller_a"), "/ledger/").content.decode()
    assert "KONDO-C001" in page
    assert "KONDO-C002" not in page
    assert "/ledger/org/" not in page  # no consolidation for a unit role
    page = _get(client_for("auditor"), "/ledger/").content.decode()
    for text in ("KONDO-C001", "KONDO-C002", "KONDO-RES", "/ledger/org/KONDO/"):
        assert text in page
    assert "UTM-M01" not in page


def test_ledger_pages_are_scoped(world, client_for, posted):
    book, entries = posted
    assert _get(client_for("teller_a"), f"/ledger/books/{book.pk}/").status_code == 200
    for who in ("teller_b", "mutual_manager", "clinic"):
        c = client_for(who)
        assert _get(c, f"/ledger/books/{book.pk}/").status_code == 404, who
        assert _get(c, f"/ledger/books/{book.pk}/accounts/101/").status_code == 404, who
        assert _get(c, f"/ledger/entries/{entries[0].pk}/").status_code == 404, who
    assert _get(client_for("auditor"), "/ledger/org/KONDO/").status_code == 200
    for who in ("teller_a", "manager_a", "mutual_manager"):
        assert _get(client_for(who), "/ledger/org/KONDO/").status_code == 404, who
    assert _get(client_for("auditor"), "/ledger/org/NOPE/").status_code == 404
    assert _get(client_for("auditor"), "/ledger/org/KONDO/?unit=NOPE").status_code == 404
    assert _get(client_for("teller_a"),
                f"/ledger/books/{book.pk}/accounts/9999/").status_code == 404
    assert client_for("teller_a").get("/ledger/books/999999/").status_code == 404


def test_trial_balance_page_shows_equal_totals(world, client_for, posted):
    book, _ = posted
    r = _get(client_for("teller_a"), f"/ledger/books/{book.pk}/")
    page = r.content.decode()
    assert 'id="balanced"' in page
    # 101 debit and balance, 251 credit and balance, both totals.
    assert page.count("1,259,567\xa0F\xa0CFA") == 6
    assert f"/ledger/books/{book.pk}/accounts/251/" in page


def test_htmx_as_of_returns_the_fragment_for_that_date(world, client_for, posted):
    book, _ = posted
    r = _get(client_for("teller_a"), f"/ledger/books/{book.pk}/?as_of=2026-10-05",
             HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    page = r.content.decode()
    assert "<html" not in page
    assert "trial-balance" in page
    assert "25,000\xa0F\xa0CFA" in page
    assert "1,234,567" not in page
    # A date that is not a date is ignored (today's position), never a 500.
    assert _get(client_for("teller_a"), f"/ledger/books/{book.pk}/?as_of=31/10").status_code \
        == 200


def test_statement_page_with_period_and_subledger(world, client_for, posted):
    book, entries = posted
    c = client_for("teller_a")
    page = _get(c, f"/ledger/books/{book.pk}/accounts/251/?from=2026-10-05&to=2026-10-31"
                   "&subledger=SAV-7").content.decode()
    assert "Dépôt 12" in page
    assert "Dépôt 3" not in page
    assert "25,000\xa0F\xa0CFA" in page  # opening balance
    assert "1,259,567\xa0F\xa0CFA" in page  # closing balance
    assert f"/ledger/entries/{entries[1].pk}/" in page
    empty = _get(c, f"/ledger/books/{book.pk}/accounts/251/?subledger=OTHER").content.decode()
    assert "No movement in this period." in empty


def test_entry_page_shows_lines_and_reversal(world, client_for, posted):
    book, entries = posted
    reversal = entry_reverse(entry=entries[0], reason="Erreur", acting_user=None,
                             value_date=date(2026, 10, 20))
    page = _get(client_for("teller_a"), f"/ledger/entries/{entries[0].pk}/").content.decode()
    assert "KONDO-C001/2026/1" in page
    assert "SAV-7" in page
    assert f"/ledger/entries/{reversal.pk}/" in page
    page = _get(client_for("teller_a"), f"/ledger/entries/{reversal.pk}/").content.decode()
    assert "This entry reverses" in page


def test_consolidated_page_with_region_perimeter(world, client_for, posted):
    entry_post(book=_book(world.caisse_b), lines=[LineSpec("101", "D", 7),
                                                   LineSpec("251", "C", 7)],
               value_date=date(2026, 10, 1), description="x", acting_user=None)
    c = client_for("auditor")
    page = _get(c, "/ledger/org/KONDO/").content.decode()
    assert "1,259,574\xa0F\xa0CFA" in page
    assert "R-SEG" in page  # the perimeter choices
    r = _get(c, "/ledger/org/KONDO/?unit=R-SIK", HTTP_HX_REQUEST="true")
    assert "7\xa0F\xa0CFA" in r.content.decode()
    assert "1,259,5" not in r.content.decode()


def test_a_head_office_book_without_unit_is_shown_to_the_auditor_only(world, client_for):
    hq = book_open(organisation=world.orgs.kondo, code="KONDO-HQ", name="Siège")
    assert _get(client_for("auditor"), f"/ledger/books/{hq.pk}/").status_code == 200
    assert _get(client_for("manager_a"), f"/ledger/books/{hq.pk}/").status_code == 404
