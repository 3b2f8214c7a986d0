"""The field API (sheet with ETag, batch sync, conflicts, cash) and screens (offline page,
service worker, review, cash count): answers, refusals and scoping over HTTP."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from jigi.channels.field import services
from jigi.channels.models import FieldCashCount, SyncItem
from tests.channels.test_field_support import field_world


@pytest.fixture
def field(world, time_machine):
    time_machine.move_to("2026-05-12 09:00:00+00:00", tick=False)
    return field_world(world, members=3, borrowers=2)


def item(person, amount, kind="repayment", uid=None):
    return {"uuid": uid or str(uuid.uuid4()), "kind": kind, "person_id": person.pk,
            "amount": amount, "collected_on": "2026-05-12"}


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_sheet_with_etag_and_not_modified(world, field, client_for):
    c = client_for("loan_officer_a")
    day = (field.today + timedelta(days=14)).isoformat()
    res = c.get(f"/api/v1/field/sheet?on={day}")
    assert res.status_code == 200
    body = res.json()
    assert res["ETag"] == f'"{body["version"]}"'
    assert [len(g["members"]) for g in body["groups"]] == [3]
    again = c.get(f"/api/v1/field/sheet?on={day}", HTTP_IF_NONE_MATCH=res["ETag"])
    assert again.status_code == 304
    # Something changed (a repayment): a new version.
    services.field_sync(acting_user=world.users["loan_officer_a"], device_id="t",
                        items=[item(field.members[0], 1_000)])
    changed = c.get(f"/api/v1/field/sheet?on={day}", HTTP_IF_NONE_MATCH=res["ETag"])
    assert changed.status_code == 200
    assert changed.json()["version"] != body["version"]
    assert c.get("/api/v1/field/sheet?on=garbage").status_code == 422


def test_sync_over_http_answers_per_item_and_resend_is_a_no_op(world, field, client_for):
    c = client_for("loan_officer_a")
    items = [item(field.members[0], 2_000), item(field.members[1], 500, "deposit"),
             item(field.other_caisse_member, 700, "deposit")]
    res = post(c, "/api/v1/field/sync", {"device_id": "tab", "items": items})
    assert res.status_code == 200
    results = res.json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
    assert results[2]["code"] == "not_your_member"
    again = post(c, "/api/v1/field/sync", {"device_id": "tab", "items": items}).json()
    assert [r["duplicate"] for r in again["results"]] == [True, True, True]
    assert SyncItem.objects.count() == 3
    assert post(c, "/api/v1/field/sync", {"device_id": "tab"}).status_code == 422
    assert post(client_for("auditor"), "/api/v1/field/sync",
                {"device_id": "tab", "items": items}).status_code == 403


def test_sync_needs_a_login(field, client):
    res = post(client, "/api/v1/field/sync", {"device_id": "tab", "items": []})
    assert res.status_code == 401


def test_conflicts_listed_and_resolved_by_the_manager_only(world, field, client_for):
    officer = world.users["loan_officer_a"]
    uid = str(uuid.uuid4())
    services.field_sync(acting_user=officer, device_id="t",
                        items=[item(field.members[0], 1_000, uid=uid)])
    services.field_sync(acting_user=officer, device_id="t",
                        items=[item(field.members[0], 9_000, uid=uid)])
    manager = client_for("manager_a")
    [row] = manager.get("/api/v1/field/conflicts").json()
    assert row["payload"]["amount"] == 1_000
    assert row["conflict_payload"]["amount"] == 9_000
    assert client_for("teller_b").get("/api/v1/field/conflicts").json() == []
    assert post(client_for("teller_b"), f"/api/v1/field/conflicts/{row['id']}/resolve",
                {}).status_code == 404
    assert post(client_for("teller_a"), f"/api/v1/field/conflicts/{row['id']}/resolve",
                {}).status_code == 403
    res = post(manager, f"/api/v1/field/conflicts/{row['id']}/resolve", {"note": "vu"})
    assert res.status_code == 200
    assert res.json()["status"] == "resolved"
    # The review screen: empty now.
    page = manager.get("/field/review/")
    assert page.status_code == 200
    assert b'id="no-conflicts"' in page.content


def test_cash_api_expected_and_count(world, field, client_for):
    officer = world.users["loan_officer_a"]
    services.field_sync(acting_user=officer, device_id="t",
                        items=[item(field.members[0], 3_000)])
    teller = client_for("teller_a")
    url = (f"/api/v1/field/cash?caisse_id={world.caisse_a.pk}&officer_id={officer.pk}"
           f"&day=2026-05-12")
    assert teller.get(url).json()["expected"]["total"] == 3_000
    body = {"caisse_id": world.caisse_a.pk, "officer_id": officer.pk, "day": "2026-05-12",
            "counted": 3_000}
    res = post(teller, "/api/v1/field/cash", body)
    assert res.status_code == 201
    assert res.json()["difference"] == 0
    assert post(teller, "/api/v1/field/cash", body).status_code == 409
    assert client_for("teller_b").get(url).status_code == 404
    assert post(client_for("auditor"), "/api/v1/field/cash", body).status_code == 403


def test_offline_page_and_service_worker(world, field, client_for, client):
    c = client_for("loan_officer_a")
    page = c.get("/field/")
    assert page.status_code == 200
    assert b"field/app.js" in page.content
    assert b'id="field-strings"' in page.content
    assert client.get("/field/").status_code == 302  # login first
    sw = client.get("/field/sw.js")
    assert sw.status_code == 200
    assert sw["Content-Type"].startswith("application/javascript")
    assert sw["Service-Worker-Allowed"] == "/field/"
    assert b"caches.open" in sw.content


def test_cash_screen_shows_the_difference_and_refuses_without_note(world, field, client_for):
    officer = world.users["loan_officer_a"]
    services.field_sync(acting_user=officer, device_id="t",
                        items=[item(field.members[0], 3_000)])
    teller = client_for("teller_a")
    page = teller.get(f"/field/cash/?officer={officer.pk}&day=2026-05-12")
    assert page.status_code == 200
    assert b'id="expected-total"' in page.content
    form = {"caisse": world.caisse_a.pk, "officer": officer.pk, "day": "2026-05-12",
            "counted": "2500"}
    refused = teller.post("/field/cash/", form, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert b'id="err-note"' in refused.content
    assert not FieldCashCount.objects.exists()
    saved = teller.post("/field/cash/", {**form, "note": "500 F manquants"},
                        HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    assert b'id="cash-difference"' in saved.content
    assert FieldCashCount.objects.get().counted == 2_500
    assert client_for("auditor").get("/field/cash/").status_code == 403


def test_absurd_ids_and_shapes_answer_4xx(world, field, client_for):
    big = 2**70
    teller = client_for("teller_a")
    manager = client_for("manager_a")
    assert post(manager, f"/api/v1/field/conflicts/{big}/resolve", {}).status_code == 404
    assert teller.get(f"/api/v1/field/cash?caisse_id={big}&officer_id=1&day=2026-05-12"
                      ).status_code in (404, 422)
    assert teller.get(f"/api/v1/field/cash?caisse_id={world.caisse_a.pk}&officer_id={big}"
                      "&day=2026-05-12").status_code in (404, 422)
    body = {"caisse_id": world.caisse_a.pk, "officer_id": big, "day": "2026-05-12",
            "counted": {"x": 1}}
    assert post(teller, "/api/v1/field/cash", body).status_code == 422
    officer = client_for("loan_officer_a")
    res = post(officer, "/api/v1/field/sync", {"device_id": "t", "items": [
        None, 3, [], {"uuid": str(uuid.uuid4()), "kind": "deposit", "person_id": big,
                      "amount": {"a": 1}, "collected_on": ["x"]}]})
    assert res.status_code == 200
    assert [r["status"] for r in res.json()["results"]] == ["rejected"] * 4
