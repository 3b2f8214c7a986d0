"""Ledger and audit screens in a real browser: trial balance (with the htmx as-of picker),
an account statement, an entry, and the audit trail."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post, manual_entry_post

pytestmark = pytest.mark.browser


def _text(locator) -> str:
    # Babel's French grouping uses narrow no-break spaces; compare with plain spaces.
    return locator.inner_text().replace("\u202f", " ").replace("\xa0", " ")


def test_trial_balance_statement_and_audit(world, login, page):
    book = Book.objects.get(unit=world.caisse_a)
    manager = world.users["manager_a"]
    for day, amount in ((5, 25_000), (12, 1_234_567)):
        entry_post(book=book, lines=[LineSpec("101", "D", amount), LineSpec("251", "C", amount)],
                   value_date=date(2026, 10, day), description=f"Dépôt du {day}",
                   acting_user=manager)
    manual_entry_post(book=book, lines=[LineSpec("62", "D", 5_000), LineSpec("101", "C", 5_000)],
                      value_date=date(2026, 10, 20), description="Fournitures",
                      acting_user=manager)

    login("manager_a")
    page.goto("/ledger/")
    page.click(f"#books >> text={book.code}")
    page.wait_for_selector("#balanced")
    assert _text(page.locator("#total-debit")) == "1 264 567 F CFA"
    assert _text(page.locator("#total-credit")) == "1 264 567 F CFA"

    # The as-of picker reloads the table only (htmx): on 10 October only the first deposit.
    page.fill("#as_of", "2026-10-10")
    page.dispatch_event("#as_of", "change")
    page.wait_for_function(
        "document.querySelector('#total-debit').innerText.replace(/\\s/g, '') === '25000FCFA'")
    assert _text(page.locator("#total-credit")) == "25 000 F CFA"
    assert page.locator("#balanced").is_visible()

    page.click("table.trial-balance >> text=101")
    page.wait_for_selector("#statement")
    assert _text(page.locator("#closing")) == "25 000 F CFA"
    page.fill("input[name=to]", "2026-10-31")
    with page.expect_navigation():
        page.click("#period button[type=submit]")
    assert _text(page.locator("#closing")) == "1 254 567 F CFA"
    page.click("#statement >> text=2026/3")
    page.wait_for_selector("#lines")
    assert "Fournitures" in page.content()

    # A fresh session (the login form's page also carries the logout button of the first).
    page.context.clear_cookies()
    login("auditor")
    page.goto("/audit/")
    page.fill("input[name=event_type]", "ledger.")
    page.fill("input[name=actor]", "manager_a")
    page.click("#audit-filter button[type=submit]")
    # The form also sends on each change (the first one without the actor), and the count
    # before filtering could start with a 3 too: wait for the filtered answer's address.
    expect(page).to_have_url(re.compile(r"[?&]actor=manager_a(&|$)"))
    page.wait_for_function("document.querySelector('#audit-count').innerText.startsWith('3')")
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 3
    assert "ledger.manual_entry_posted" in rows.first.inner_text()
    assert "ledger.entry_posted" in rows.nth(2).inner_text()
