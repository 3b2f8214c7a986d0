"""The ledger API: scoping, idempotent manual entries, refusals with field messages."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.core.models import AuditEvent, IdempotencyRecord
from jigi.ledger.models import AccountBalance, Book, ClosedPeriod, JournalEntry, JournalLine
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post

API = "/api/v1/ledger"
BODY = {"value_date": "2026-10-15", "description": "Achat fournitures",
        "lines": [{"account": "62", "side": "D", "amount": "12 500"},
                  {"account": "101", "side": "C", "amount": 12500}]}


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to("2026-11-20 10:00:00+00:00", tick=False)


def _book(unit):
    return Book.objects.get(unit=unit)


def _post(c, book, body=BODY, key="k-1"):
    # Messages in English so the assertions read the source strings (French is the default).
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return c.post(f"{API}/books/{book.pk}/entries", body, content_type="application/json",
                  **headers)


def _state():
    return (JournalEntry.objects.count(), JournalLine.objects.count(),
            list(AccountBalance.objects.order_by("pk").values_list("debit", "credit")),
            IdempotencyRecord.objects.count())


def test_manager_posts_a_manual_entry_once_per_key(world, client_for):
    book = _book(world.caisse_a)
    c = client_for("manager_a")
    r1 = _post(c, book)
    assert r1.status_code == 201, r1.content
    body = r1.json()
    assert (body["book"], body["number"], body["source_type"], body["created_by"]) == (
        "KONDO-C001", 1, "manual", "manager_a")
    assert body["lines"] == [{"account": "62", "side": "D", "amount": 12_500, "subledger": ""},
                             {"account": "101", "side": "C", "amount": 12_500, "subledger": ""}]
    # A resend (lost answer): the first result, nothing posted twice, even if the amounts
    # are spelt differently.
    respelt = dict(BODY, lines=[dict(BODY["lines"][0], amount=12_500),
                                dict(BODY["lines"][1], amount="12500")])
    for again in (BODY, respelt):
        r2 = _post(c, book, again)
        assert r2.status_code == 201
        assert r2.json() == body
    assert JournalEntry.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="ledger.manual_entry_posted").count() == 1
    r3 = _post(c, book, dict(BODY, description="Autre chose"))
    assert r3.status_code == 409
    assert r3.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in r3.json()["fields"]
    assert JournalEntry.objects.count() == 1
    # Keys are per user: the same key from the administrator is a new operation.
    assert _post(client_for("admin"), book).status_code == 201
    assert JournalEntry.objects.count() == 2


def test_same_key_on_another_endpoint_is_a_conflict(world, client_for):
    c = client_for("manager_a")
    entry = _post(c, _book(world.caisse_a), key="shared").json()
    r = c.post(f"{API}/entries/{entry['id']}/reverse", {"reason": "Doublon"},
               content_type="application/json", HTTP_IDEMPOTENCY_KEY="shared")
    assert r.status_code == 409
    assert JournalEntry.objects.count() == 1


@pytest.mark.parametrize("key", [None, "", "x" * 129])
def test_missing_or_bad_key_is_400_and_nothing_written(world, client_for, key):
    r = _post(client_for("manager_a"), _book(world.caisse_a), key=key)
    if key == "":
        r = client_for("manager_a").post(f"{API}/books/{_book(world.caisse_a).pk}/entries", BODY,
                                         content_type="application/json",
                                         HTTP_IDEMPOTENCY_KEY="   ")
    assert r.status_code == 400
    assert r.json()["code"] == "idempotency_key_required"
    assert "Idempotency-Key" in r.json()["fields"]
    assert JournalEntry.objects.count() == 0


def test_unbalanced_entry_is_refused_with_a_field_message(world, client_for):
    book = _book(world.caisse_a)
    before = _state()
    unbalanced = dict(BODY, lines=[{"account": "62", "side": "D", "amount": 100},
                                   {"account": "101", "side": "C", "amount": 99}])
    r = _post(client_for("manager_a"), book, unbalanced)
    assert r.status_code == 400
    assert r.json()["code"] == "entry_unbalanced"
    assert r.json()["fields"]["lines"]
    assert _state() == before
    # The refused key was not spent: the corrected entry goes through with it.
    assert _post(client_for("manager_a"), book).status_code == 201


@pytest.mark.parametrize(("amount", "message_part"), [
    ("100.5", "no cents"),
    (1.5, "floating-point"),
    (100.0, "floating-point"),
    (True, "floating-point"),
    ("1e3", "Enter an amount"),
    ("abc", "Enter an amount"),
    (None, "Enter an amount"),
    (0, "more than zero"),
    ("-5", "more than zero"),
    (10**16, "not plausible"),
])
def test_amounts_that_are_not_whole_francs_get_a_field_error(world, client_for, amount,
                                                             message_part):
    before = _state()
    body = dict(BODY, lines=[{"account": "62", "side": "D", "amount": amount},
                             {"account": "101", "side": "C", "amount": 100}])
    r = _post(client_for("manager_a"), _book(world.caisse_a), body)
    assert r.status_code == 422, r.content
    fields = r.json()["fields"]
    assert list(fields) == ["lines.0.amount"]
    assert message_part in fields["lines.0.amount"][0]
    assert _state() == before


@pytest.mark.parametrize(("body", "field"), [
    (dict(BODY, lines=[dict(BODY["lines"][0], side="X"), BODY["lines"][1]]), "lines.0.side"),
    (dict(BODY, lines=BODY["lines"][:1]), "lines"),
    (dict(BODY, description=""), "description"),
    (dict(BODY, value_date="2026-02-30"), "value_date"),
    ({k: v for k, v in BODY.items() if k != "lines"}, "lines"),
])
def test_malformed_bodies_get_field_errors(world, client_for, body, field):
    r = _post(client_for("manager_a"), _book(world.caisse_a), body)
    assert r.status_code == 422
    assert field in r.json()["fields"]
    assert JournalEntry.objects.count() == 0


def test_unknown_account_future_date_and_closed_month_are_refused(world, client_for):
    book = _book(world.caisse_a)
    c = client_for("manager_a")
    unknown = dict(BODY, lines=[dict(BODY["lines"][0], account="9999"), BODY["lines"][1]])
    r = _post(c, book, unknown, "k-a")
    assert (r.status_code, r.json()["code"]) == (400, "entry_unknown_account")
    r = _post(c, book, dict(BODY, value_date="2026-11-21"), "k-b")
    assert (r.status_code, r.json()["code"]) == (422, "value_date_in_future")
    assert "value_date" in r.json()["fields"]
    assert c.post(f"{API}/books/{book.pk}/periods", {"year": 2026, "month": 9},
                  content_type="application/json").status_code == 201
    r = _post(c, book, dict(BODY, value_date="2026-09-10"), "k-c")
    assert (r.status_code, r.json()["code"]) == (400, "period_closed")
    assert "value_date" in r.json()["fields"]
    assert JournalEntry.objects.count() == 0


def test_tellers_and_auditors_cannot_post_and_others_books_are_404(world, client_for):
    book = _book(world.caisse_a)
    for who in ("teller_a", "loan_officer_a", "auditor"):
        r = _post(client_for(who), book)
        assert r.status_code == 403, who
        assert r.json()["code"] == "forbidden"
    assert _post(client_for("manager_a"), _book(world.caisse_b)).status_code == 404
    assert _post(client_for("manager_a"), _book(world.orgs.network)).status_code == 404
    assert _post(client_for("mutual_manager"), book).status_code == 404
    assert JournalEntry.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_book_list_is_scoped(world, client_for):
    def codes(who):
        r = client_for(who).get(f"{API}/books")
        assert r.status_code == 200
        return {b["code"] for b in r.json()}

    assert codes("teller_a") == {"KONDO-C001"}
    assert codes("teller_b") == {"KONDO-C002"}
    assert codes("auditor") == {"KONDO-RES", "KONDO-C001", "KONDO-C002"}
    assert codes("mutual_manager") == {"UTM-M01"}
    assert codes("clinic") == set()


def test_teller_b_cannot_read_anything_of_caisse_a(world, client_for):
    book = _book(world.caisse_a)
    entry = entry_post(book=book, lines=[LineSpec("101", "D", 10), LineSpec("251", "C", 10)],
                       value_date=date(2026, 10, 1), description="x", acting_user=None)
    c = client_for("teller_b")
    for url in (f"/books/{book.pk}/trial-balance", f"/books/{book.pk}/accounts/101/statement",
                f"/books/{book.pk}/entries", f"/entries/{entry.pk}"):
        r = c.get(API + url)
        assert r.status_code == 404, url
        assert r.json()["code"] in {"book_not_found", "entry_not_found"}
    assert client_for("teller_a").get(f"{API}/entries/{entry.pk}").status_code == 200


def test_auditor_reads_every_kondo_book(world, client_for):
    c = client_for("auditor")
    for book in Book.objects.filter(organisation=world.orgs.kondo):
        assert c.get(f"{API}/books/{book.pk}/trial-balance").status_code == 200
    utm = _book(world.mutual_1)
    assert c.get(f"{API}/books/{utm.pk}/trial-balance").status_code == 404


def test_trial_balance_statement_and_consolidation(world, client_for):
    book = _book(world.caisse_a)
    for day, amount in [(1, 9_000), (20, 1_000)]:
        entry_post(book=book, lines=[LineSpec("101", "D", amount), LineSpec("57", "C", amount)],
                   value_date=date(2026, 10, day), description="Parts sociales",
                   acting_user=None)
    entry_post(book=_book(world.caisse_b), lines=[LineSpec("101", "D", 5),
                                                   LineSpec("57", "C", 5)],
               value_date=date(2026, 10, 1), description="Parts", acting_user=None)
    tb = client_for("teller_a").get(f"{API}/books/{book.pk}/trial-balance").json()
    assert (tb["balanced"], tb["total_debit"], tb["total_credit"]) == (True, 10_000, 10_000)
    assert [(r["code"], r["balance"]) for r in tb["rows"]] == [("101", 10_000), ("57", 10_000)]
    tb = client_for("teller_a").get(
        f"{API}/books/{book.pk}/trial-balance?as_of=2026-10-19").json()
    assert tb["total_debit"] == 9_000
    st = client_for("teller_a").get(
        f"{API}/books/{book.pk}/accounts/57/statement?from=2026-10-02&to=2026-10-31").json()
    assert (st["opening"], st["closing"], st["total_credit"]) == (9_000, 10_000, 1_000)
    assert [(ln["value_date"], ln["balance"]) for ln in st["lines"]] == [("2026-10-20", 10_000)]
    assert client_for("teller_a").get(
        f"{API}/books/{book.pk}/accounts/9999/statement").status_code == 404

    cons = client_for("auditor").get(f"{API}/organisations/kondo/trial-balance")
    assert cons.status_code == 200
    assert (cons.json()["total_credit"], cons.json()["books"]) == (10_005, 3)
    seg = client_for("auditor").get(f"{API}/organisations/KONDO/trial-balance?unit=R-SEG").json()
    assert seg["total_credit"] == 10_000
    assert client_for("auditor").get(
        f"{API}/organisations/KONDO/trial-balance?unit=NOPE").status_code == 404
    for who in ("teller_a", "manager_a", "mutual_manager", "clinic"):
        assert client_for(who).get(
            f"{API}/organisations/KONDO/trial-balance").status_code == 404, who
    assert client_for("admin").get(f"{API}/organisations/UTM/trial-balance").status_code == 200


def test_entries_are_paginated_newest_first(world, client_for):
    book = _book(world.caisse_a)
    for amount in (1, 2, 3):
        entry_post(book=book, lines=[LineSpec("101", "D", amount), LineSpec("251", "C", amount)],
                   value_date=date(2026, 10, 1), description=f"op {amount}", acting_user=None)
    c = client_for("teller_a")
    page1 = c.get(f"{API}/books/{book.pk}/entries?limit=2").json()
    assert (page1["count"], page1["offset"], page1["limit"]) == (3, 0, 2)
    assert [e["number"] for e in page1["items"]] == [3, 2]
    page2 = c.get(f"{API}/books/{book.pk}/entries?limit=2&offset=2").json()
    assert [e["description"] for e in page2["items"]] == ["op 1"]
    assert c.get(f"{API}/books/{book.pk}/entries?limit=0").status_code == 422
    assert c.get(f"{API}/books/{book.pk}/entries?limit=201").status_code == 422


def test_reverse_a_manual_entry_once(world, client_for):
    book = _book(world.caisse_a)
    c = client_for("manager_a")
    entry = _post(c, book).json()

    def reverse(entry_id, key, client=c, reason="Doublon"):
        return client.post(f"{API}/entries/{entry_id}/reverse", {"reason": reason},
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)

    for who in ("teller_a", "auditor"):
        assert reverse(entry["id"], "r-0", client_for(who)).status_code == 403
    assert reverse(entry["id"], "r-0", client_for("teller_b")).status_code == 403
    r = reverse(entry["id"], "r-1")
    assert r.status_code == 201
    rev = r.json()
    assert (rev["reversal_of"], rev["value_date"]) == (entry["id"], "2026-11-20")
    assert [(ln["account"], ln["side"]) for ln in rev["lines"]] == [("62", "C"), ("101", "D")]
    assert reverse(entry["id"], "r-1").json() == rev  # replay
    again = reverse(entry["id"], "r-2")
    assert (again.status_code, again.json()["code"]) == (409, "entry_already_reversed")
    twice = reverse(rev["id"], "r-3")
    assert (twice.status_code, twice.json()["code"]) == (409, "entry_is_reversal")
    detail = c.get(f"{API}/entries/{entry['id']}").json()
    assert detail["reversed_by"] == rev["id"]
    tb = c.get(f"{API}/books/{book.pk}/trial-balance").json()
    assert all(row["balance"] == 0 for row in tb["rows"])
    assert JournalEntry.objects.count() == 2


def test_entries_of_operations_are_not_reversed_here(world, client_for):
    entry = entry_post(book=_book(world.caisse_a), lines=[LineSpec("101", "D", 500),
                                                          LineSpec("251", "C", 500)],
                       value_date=date(2026, 10, 1), description="Dépôt", acting_user=None,
                       source_type="savings.transaction", source_id="7")
    r = client_for("manager_a").post(f"{API}/entries/{entry.pk}/reverse", {"reason": "x"},
                                     content_type="application/json", HTTP_IDEMPOTENCY_KEY="r")
    assert (r.status_code, r.json()["code"]) == (409, "entry_not_manual")
    assert JournalEntry.objects.count() == 1


def test_close_a_month(world, client_for):
    book = _book(world.caisse_a)

    def close(who, year=2026, month=10):
        return client_for(who).post(f"{API}/books/{book.pk}/periods",
                                    {"year": year, "month": month},
                                    content_type="application/json")

    assert close("teller_a").status_code == 403
    assert close("auditor").status_code == 403
    assert close("mutual_manager").status_code == 404
    r = close("manager_a")
    assert r.status_code == 201
    assert (r.json()["book"], r.json()["year"], r.json()["month"]) == ("KONDO-C001", 2026, 10)
    assert close("manager_a").status_code == 409
    r = close("manager_a", month=11)
    assert (r.status_code, r.json()["code"]) == (422, "period_not_ended")
    assert close("manager_a", month=13).status_code == 422
    assert ClosedPeriod.objects.count() == 1
