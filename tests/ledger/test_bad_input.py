"""Hostile input on every ledger URL: a 4xx or an empty answer, never a 500 (NUL bytes, which
PostgreSQL refuses, huge ids, control characters in text)."""

from __future__ import annotations

import pytest

from jigi.ledger.models import Book, JournalEntry


@pytest.mark.parametrize("url", [
    "/api/v1/ledger/books/{b}/accounts/%00/statement",
    "/api/v1/ledger/books/{b}/accounts/101/statement?subledger=%00",
    "/api/v1/ledger/books/{b}/accounts/101/statement?subledger=%20",
    "/api/v1/ledger/audit-events?event_type=%00&actor=%00&subject_id=%00&subject_type=%01",
    "/api/v1/ledger/organisations/%00/trial-balance",
    "/api/v1/ledger/organisations/KONDO/trial-balance?unit=%00",
    "/api/v1/ledger/books/99999999999999999999/trial-balance",
    "/api/v1/ledger/entries/99999999999999999999",
    "/api/v1/ledger/books/{b}/entries?offset=1000000000",
    "/ledger/books/{b}/accounts/%00/",
    "/ledger/books/{b}/accounts/101/?subledger=%00",
    "/ledger/org/%00/",
    "/ledger/org/KONDO/?unit=%00",
    "/audit/?event_type=%00&actor=%00&subject_id=%00&subject_type=%00&page=%00",
    "/ledger/books/99999999999999999999/",
    "/ledger/entries/99999999999999999999/",
])
def test_no_server_error_on_hostile_urls(world, client_for, url):
    book = Book.objects.get(unit=world.caisse_a)
    r = client_for("admin").get(url.format(b=book.pk))
    assert r.status_code in {200, 404, 422}, (url, r.status_code)


@pytest.mark.parametrize(("line", "field"), [
    ({"account": "1\x0001"}, "lines.0.account"),
    ({"subledger": "SAV\x00"}, "lines.0.subledger"),
    ({"description": "Achat\x00"}, "description"),
])
def test_control_characters_are_field_errors(world, client_for, line, field):
    book = Book.objects.get(unit=world.caisse_a)
    first = {"account": "101", "side": "D", "amount": 1, **{k: v for k, v in line.items()
                                                            if k != "description"}}
    body = {"value_date": "2026-10-01", "description": line.get("description", "Achat"),
            "lines": [first, {"account": "251", "side": "C", "amount": 1}]}
    r = client_for("admin").post(f"/api/v1/ledger/books/{book.pk}/entries", body,
                                 content_type="application/json", HTTP_IDEMPOTENCY_KEY="k",
                                 HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422
    assert r.json()["fields"][field] == ["Remove the control characters."]
    assert JournalEntry.objects.count() == 0


def test_an_unprintable_idempotency_key_is_refused(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    body = {"value_date": "2026-10-01", "description": "Achat",
            "lines": [{"account": "62", "side": "D", "amount": 1},
                      {"account": "101", "side": "C", "amount": 1}]}
    r = client_for("admin").post(f"/api/v1/ledger/books/{book.pk}/entries", body,
                                 content_type="application/json", HTTP_IDEMPOTENCY_KEY="k\x01")
    assert (r.status_code, r.json()["code"]) == (400, "idempotency_key_required")
    assert JournalEntry.objects.count() == 0
