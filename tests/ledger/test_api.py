from __future__ import annotations

from datetime import date

from jigi.ledger.models import Book, JournalEntry
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post

BODY = {"value_date": "2026-10-15", "description": "Achat fournitures",
        "lines": [{"account": "62", "side": "D", "amount": "12 500"},
                  {"account": "101", "side": "C", "amount": 12500}]}


def _post(c, book, body=BODY, key="k-1"):
    return c.post(f"/api/v1/ledger/books/{book.pk}/entries", body,
                  content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_manager_posts_a_manual_entry_once_per_key(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    c = client_for("manager_a")
    r1 = _post(c, book)
    assert r1.status_code == 201, r1.content
    r2 = _post(c, book)
    assert r2.status_code == 201
    assert r2.json() == r1.json()
    assert JournalEntry.objects.count() == 1
    other = dict(BODY, description="Autre chose")
    r3 = _post(c, book, other)
    assert r3.status_code == 409
    assert r3.json()["code"] == "idempotency_key_reused"
    assert JournalEntry.objects.count() == 1


def test_missing_key_is_400_and_nothing_written(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    r = client_for("manager_a").post(f"/api/v1/ledger/books/{book.pk}/entries", BODY,
                                     content_type="application/json")
    assert r.status_code == 400
    assert "Idempotency-Key" in r.json()["fields"]
    assert JournalEntry.objects.count() == 0


def test_unbalanced_or_fractional_entries_are_refused(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    c = client_for("manager_a")
    unbalanced = dict(BODY, lines=[{"account": "62", "side": "D", "amount": 100},
                                   {"account": "101", "side": "C", "amount": 99}])
    r = _post(c, book, unbalanced, "k-2")
    assert r.status_code == 400
    assert r.json()["code"] == "entry_unbalanced"
    frac = dict(BODY, lines=[{"account": "62", "side": "D", "amount": "100.5"},
                             {"account": "101", "side": "C", "amount": 1.5}])
    r = _post(c, book, frac, "k-3")
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"lines.0.amount", "lines.1.amount"}
    assert JournalEntry.objects.count() == 0


def test_tellers_and_auditors_cannot_post(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    assert _post(client_for("teller_a"), book).status_code == 403
    assert _post(client_for("auditor"), book).status_code == 403
    other = Book.objects.get(unit=world.caisse_b)
    assert _post(client_for("manager_a"), other).status_code == 404
    assert JournalEntry.objects.count() == 0


def test_book_visibility(world, client_for):
    codes = {b["code"] for b in client_for("teller_a").get("/api/v1/ledger/books").json()}
    assert codes == {"KONDO-C001"}
    kondo = {b["code"] for b in client_for("auditor").get("/api/v1/ledger/books").json()}
    assert {"KONDO-C001", "KONDO-C002", "KONDO-RES"} <= kondo
    assert not any(code.startswith("UTM") for code in kondo)
    utm = {b["code"] for b in client_for("mutual_manager").get("/api/v1/ledger/books").json()}
    assert utm == {"UTM-M01"}
    b_book = Book.objects.get(unit=world.caisse_b)
    r = client_for("teller_a").get(f"/api/v1/ledger/books/{b_book.pk}/trial-balance")
    assert r.status_code == 404


def test_trial_balance_statement_and_consolidation(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    entry_post(book=book, lines=[LineSpec("101", "D", 9_000), LineSpec("57", "C", 9_000)],
               value_date=date(2026, 10, 1), description="Parts sociales", acting_user=None)
    tb = client_for("teller_a").get(f"/api/v1/ledger/books/{book.pk}/trial-balance").json()
    assert tb["balanced"]
    assert tb["total_debit"] == 9_000
    st = client_for("teller_a").get(
        f"/api/v1/ledger/books/{book.pk}/accounts/57/statement?from=2026-10-01&to=2026-10-31")
    assert st.json()["closing"] == 9_000
    cons = client_for("auditor").get("/api/v1/ledger/organisations/KONDO/trial-balance")
    assert cons.status_code == 200
    assert cons.json()["total_credit"] == 9_000
    assert client_for("teller_a").get(
        "/api/v1/ledger/organisations/KONDO/trial-balance").status_code == 404
    assert client_for("mutual_manager").get(
        "/api/v1/ledger/organisations/KONDO/trial-balance").status_code == 404


def test_reverse_via_api_and_close_period(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    c = client_for("manager_a")
    entry = _post(c, book).json()
    r = c.post(f"/api/v1/ledger/entries/{entry['id']}/reverse", {"reason": "Doublon"},
               content_type="application/json", HTTP_IDEMPOTENCY_KEY="rev-1")
    assert r.status_code == 201
    assert r.json()["reversal_of"] == entry["id"]
    p = c.post(f"/api/v1/ledger/books/{book.pk}/periods", {"year": 2026, "month": 9},
               content_type="application/json")
    assert p.status_code == 201
    closed = dict(BODY, value_date="2026-09-10")
    r = _post(c, book, closed, "k-9")
    assert r.status_code == 400
    assert r.json()["code"] == "period_closed"


def test_audit_events_api_scoped(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    _post(client_for("manager_a"), book)
    events = client_for("auditor").get("/api/v1/ledger/audit-events?event_type=ledger.entry").json()
    assert [e["event_type"] for e in events] == ["ledger.entry_posted"]
    assert client_for("teller_a").get("/api/v1/ledger/audit-events").status_code == 403
    assert client_for("mutual_manager").get(
        "/api/v1/ledger/audit-events?event_type=ledger.entry").json() == []
