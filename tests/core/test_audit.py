"""The audit trail: scoping, filters, pagination (selector, screen and API)."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.core.models import AuditEvent
from jigi.core.selectors import audit_events_for_user
from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Role
from jigi.orgs.services import role_grant

API = "/api/v1/ledger/audit-events"


def _post(world, unit, amount=100, user="manager_a"):
    return entry_post(book=Book.objects.get(unit=unit),
                      lines=[LineSpec("101", "D", amount), LineSpec("251", "C", amount)]
                      if unit.organisation_id == world.orgs.kondo.pk
                      else [LineSpec("57", "D", amount), LineSpec("701", "C", amount)],
                      value_date=date(2026, 10, 1), description="x",
                      acting_user=world.users[user])


@pytest.fixture
def events(world):
    """One posting in caisse A, caisse B and mutual 1 (one ledger.entry_posted row each)."""
    return {
        "a": _post(world, world.caisse_a),
        "b": _post(world, world.caisse_b, user="teller_b"),
        "m1": _post(world, world.mutual_1, user="mutual_manager"),
    }


def _posted(user, **filters):
    qs = audit_events_for_user(user, event_type="ledger.entry_posted", **filters)
    return sorted(int(e.subject_id) for e in qs)


def test_each_reader_sees_the_rows_of_their_scope(world, events):
    u = world.users
    a, b, m1 = events["a"].pk, events["b"].pk, events["m1"].pk
    assert _posted(u["auditor"]) == sorted([a, b])  # all of Kondo, nothing of UTM
    assert _posted(u["manager_a"]) == [a]  # the caisse's rows only
    assert _posted(u["mutual_manager"]) == [m1]
    assert _posted(u["admin"]) == sorted([a, b, m1])
    # Rows of set-up without an organisation are for superusers only.
    assert not audit_events_for_user(u["auditor"]).filter(organisation__isnull=True).exists()


def test_only_audit_roles_count(world, events):
    """A teller of caisse B who manages mutual 1 reads the mutual's rows, not the caisse's."""
    user = world.users["teller_b"]
    role_grant(user=user, organisation=world.orgs.utm, role=Role.MUTUAL_MANAGER,
               unit=world.mutual_1)
    user = type(user).objects.get(pk=user.pk)
    assert _posted(user) == [events["m1"].pk]


def test_filters_by_type_subject_actor_and_day(world, events):
    auditor = world.users["auditor"]
    a = events["a"]
    assert _posted(auditor, subject_type="ledger.journalentry", subject_id=str(a.pk)) == [a.pk]
    assert _posted(auditor, actor="teller_b") == [events["b"].pk]
    assert _posted(auditor, actor="nobody") == []
    created = AuditEvent.objects.get(subject_type="ledger.journalentry",
                                     subject_id=str(a.pk)).created_at.date()
    assert len(_posted(auditor, date_from=created, date_to=created)) == 2
    assert _posted(auditor, date_to=date(2000, 1, 1)) == []
    assert _posted(auditor, date_from=date(2999, 1, 1)) == []
    assert audit_events_for_user(auditor, event_type="ledger.").filter(
        event_type="ledger.entry_posted").count() == 2


def test_audit_api_is_for_auditors_and_managers(world, events, client_for):
    for who in ("teller_a", "loan_officer_a", "clinic", "organiser"):
        r = client_for(who).get(API)
        assert r.status_code == 403, who
    r = client_for("auditor").get(f"{API}?event_type=ledger.entry&limit=1")
    assert r.status_code == 200
    body = r.json()
    assert (body["count"], body["limit"], len(body["items"])) == (2, 1, 1)
    newest = body["items"][0]
    assert newest["subject_id"] == str(events["b"].pk)
    assert newest["actor"] == "teller_b"
    assert newest["after"]["total"] == 100
    second = client_for("auditor").get(f"{API}?event_type=ledger.entry&limit=1&offset=1").json()
    assert second["items"][0]["subject_id"] == str(events["a"].pk)
    utm = client_for("mutual_manager").get(f"{API}?event_type=ledger.entry").json()
    assert [e["subject_id"] for e in utm["items"]] == [str(events["m1"].pk)]
    assert client_for("auditor").get(f"{API}?from=2026-13-01").status_code == 422


def test_a_failed_posting_leaves_no_audit_row(world, client_for):
    book = Book.objects.get(unit=world.caisse_a)
    before = AuditEvent.objects.count()
    r = client_for("manager_a").post(
        f"/api/v1/ledger/books/{book.pk}/entries",
        {"value_date": "2026-10-01", "description": "x",
         "lines": [{"account": "101", "side": "D", "amount": 100},
                   {"account": "251", "side": "C", "amount": 101}]},
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert r.status_code == 400
    assert AuditEvent.objects.count() == before


def test_audit_page_scoped_filtered_and_paginated(world, events, client_for):
    assert client_for("teller_a").get("/audit/").status_code == 403
    c = client_for("auditor")
    page = c.get("/audit/?event_type=ledger.entry_posted", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "2 events" in html
    assert f"/ledger/entries/{events['a'].pk}/" in html
    assert f"/ledger/entries/{events['m1'].pk}/" not in html
    fragment = c.get("/audit/?event_type=ledger.entry_posted&actor=teller_b",
                     HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<html" not in fragment
    assert "1 event" in fragment
    assert f"/ledger/entries/{events['b'].pk}/" in fragment
    # Bad dates are ignored, not a 500.
    assert c.get("/audit/?from=yesterday&to=2026-99-01").status_code == 200


def test_audit_pages_keep_the_filters(world, client_for):
    for amount in range(1, 53):
        _post(world, world.caisse_a, amount)
    c = client_for("auditor")
    html = c.get("/audit/?event_type=ledger.entry_posted", HTTP_ACCEPT_LANGUAGE="en"
                 ).content.decode()
    assert "52 events" in html
    assert "Page 1 of 2" in html
    assert "?event_type=ledger.entry_posted&amp;page=2" in html
    page2 = c.get("/audit/?event_type=ledger.entry_posted&page=2", HTTP_ACCEPT_LANGUAGE="en"
                  ).content.decode()
    assert page2.count("<code>ledger.entry_posted</code>") == 2
