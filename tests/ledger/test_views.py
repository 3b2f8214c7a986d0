from __future__ import annotations

from jigi.ledger.models import Book


def test_ledger_pages_are_scoped(world, client_for):
    a_book = Book.objects.get(unit=world.caisse_a)
    assert client_for("teller_a").get(f"/ledger/books/{a_book.pk}/").status_code == 200
    assert client_for("teller_b").get(f"/ledger/books/{a_book.pk}/").status_code == 404
    assert client_for("mutual_manager").get(f"/ledger/books/{a_book.pk}/").status_code == 404
    assert client_for("auditor").get("/ledger/org/KONDO/").status_code == 200
    assert client_for("teller_a").get("/ledger/org/KONDO/").status_code == 404
    assert client_for("teller_a").get(
        f"/ledger/books/{a_book.pk}/accounts/9999/").status_code == 404


def test_audit_page_only_for_auditors_and_managers(world, client_for):
    assert client_for("teller_a").get("/audit/").status_code == 403
    assert client_for("auditor").get("/audit/").status_code == 200
    assert client_for("manager_a").get("/audit/").status_code == 200


def test_htmx_trial_balance_returns_a_fragment(world, client_for):
    a_book = Book.objects.get(unit=world.caisse_a)
    r = client_for("teller_a").get(f"/ledger/books/{a_book.pk}/?as_of=2026-01-01",
                                   HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert b"<html" not in r.content
    assert b"trial-balance" in r.content
