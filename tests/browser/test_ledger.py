from __future__ import annotations

from datetime import date

import pytest

from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post

pytestmark = pytest.mark.browser


def test_trial_balance_statement_and_audit(world, login, page):
    book = Book.objects.get(unit=world.caisse_a)
    for amount in (25_000, 1_234_567):
        entry_post(book=book, lines=[LineSpec("101", "D", amount), LineSpec("251", "C", amount)],
                   value_date=date(2026, 10, 5), description="Dépôt", acting_user=world.users[
                       "manager_a"])
    login("manager_a")
    page.goto("/ledger/")
    page.click(f"text={book.code}")
    page.wait_for_selector("#balanced")
    total = page.locator("#total-debit").inner_text()
    assert total.replace("\u202f", " ").replace("\xa0", " ") == "1 259 567 F CFA"
    assert page.locator("#total-credit").inner_text() == total
    page.click("table.trial-balance >> text=251")
    page.wait_for_selector("#statement")
    assert page.locator("#closing").inner_text() == total

    page.goto("/audit/?event_type=ledger.entry")
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 2
    assert "ledger.entry_posted" in rows.first.inner_text()
