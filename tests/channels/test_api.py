"""The SMS API, mounted in a test NinjaAPI (the project mounts the router at
/api/v1/channels): the gateway's delivery reports, the outbox, the cost report, preferences and
budgets, with their refusals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.http import QueryDict
from ninja import NinjaAPI
from ninja.testing import TestClient

from jigi.channels.api import router
from jigi.channels.models import DeliveryReport, OutboundMessage, SmsBudget, SmsPreference
from jigi.channels.outbox import message_queue
from jigi.core.errors import ApplicationError

api = NinjaAPI(urls_namespace="channels-test")
api.add_router("/channels", router)


@api.exception_handler(ApplicationError)
def _on_error(request, exc):
    return api.create_response(request, exc.as_dict(), status=exc.status_code)


client = TestClient(api)
NOW = datetime(2026, 3, 9, 8, tzinfo=UTC)


@pytest.fixture
def callback_key(settings):
    settings.JIGI_SMS_CALLBACK_KEY = "s3cret"
    return "s3cret"


def sent(org, phone="+22376000001", gateway_id="ATXid_1", purpose="campaign_message",
         cost=25, unit=None):
    m = message_queue(organisation=org, phone=phone, text="Bonjour", purpose=purpose,
                      unit_id=unit.pk if unit else None)
    OutboundMessage.objects.filter(pk=m.pk).update(status="sent", gateway_id=gateway_id,
                                                   sent_at=NOW, cost=cost)
    return m


FORM = {"CONTENT_TYPE": "application/x-www-form-urlencoded", "REMOTE_ADDR": "127.0.0.1"}


def post_report(key, data, gateway="africastalking"):
    return client.post(f"/channels/sms/delivery-reports/{gateway}?key={key}",
                       data=QueryDict(data), META=dict(FORM))


def test_gateway_posts_a_form_delivery_report(world, callback_key):
    m = sent(world.orgs.kondo)
    form = ("id=ATXid_1&status=Success&phoneNumber=%2B22376000001&networkCode=61002"
            "&retryCount=0")
    r = post_report(callback_key, form)
    assert r.status_code == 200
    assert r.json() == {"received": 1}
    m.refresh_from_db()
    assert m.status == "delivered"
    assert DeliveryReport.objects.get().payload["phoneNumber"] == "+22376000001"
    # The same report again: accepted, kept, nothing changes.
    assert post_report(callback_key, form).status_code == 200
    assert DeliveryReport.objects.count() == 2


def test_delivery_report_as_json_too(world, callback_key):
    sent(world.orgs.kondo)
    r = client.post(f"/channels/sms/delivery-reports/africastalking?key={callback_key}",
                    json={"id": "ATXid_1", "status": "Failed", "failureReason": "Expired"},
                    META={"CONTENT_TYPE": "application/json"})
    assert r.status_code == 200
    assert OutboundMessage.objects.get().status == "failed"


@pytest.mark.parametrize("key", ["", "wrong"])
def test_a_report_without_the_shared_key_is_refused(world, callback_key, key):
    sent(world.orgs.kondo)
    r = post_report(key, "id=ATXid_1&status=Success")
    assert r.status_code == 403
    assert DeliveryReport.objects.count() == 0


def test_no_key_configured_refuses_every_report(world, settings):
    settings.JIGI_SMS_CALLBACK_KEY = ""
    assert post_report("", "id=ATXid_1&status=Success").status_code == 403


def test_bad_reports_and_unknown_gateways(world, callback_key):
    assert post_report(callback_key, "status=Success").status_code == 422
    assert post_report(callback_key, "id=1&status=Success", gateway="pigeon").status_code == 404
    r = client.post(f"/channels/sms/delivery-reports/africastalking?key={callback_key}",
                    data="[1]", META={"CONTENT_TYPE": "application/json"})
    assert r.status_code == 422


def test_outbox_shows_only_the_callers_organisations(world):
    # Unit-limited roles read their units' messages (tests/channels/test_outbox_scope.py).
    sent(world.orgs.kondo, phone="+22376000001", unit=world.caisse_a)
    sent(world.orgs.mtc, phone="+22376000002", gateway_id="ATXid_2",
         unit=world.section_domestic)
    r = client.get("/channels/sms/outbox", user=world.users["teller_a"])
    assert r.status_code == 200
    assert [m["phone"] for m in r.json()] == ["+22376000001"]
    assert r.json()[0]["organisation"] == "KONDO"
    r = client.get("/channels/sms/outbox?phone=76%2000%2000%2002", user=world.users["admin"])
    assert [m["phone"] for m in r.json()] == ["+22376000002"]
    r = client.get("/channels/sms/outbox?phone=0002", user=world.users["organiser"])
    assert [m["phone"] for m in r.json()] == ["+22376000002"]
    r = client.get("/channels/sms/outbox?status=delivered", user=world.users["admin"])
    assert r.json() == []


def test_outbox_refuses_a_user_without_staff_role(world, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    assert client.get("/channels/sms/outbox", user=nobody).status_code == 403


def test_cost_report_json_and_csv(world):
    kondo = world.orgs.kondo
    sent(kondo, gateway_id="a", purpose="instalment_reminder", cost=25)
    sent(kondo, gateway_id="b", purpose="instalment_reminder", cost=50)
    sent(kondo, gateway_id="c", purpose="deposit_receipt", cost=25)
    OutboundMessage.objects.filter(gateway_id="b").update(parts=2, status="failed")
    message_queue(organisation=kondo, phone="+22376000009", text="x", purpose="campaign")
    SmsBudget.objects.create(organisation=kondo, month=NOW.date().replace(day=1), amount=10_000)
    manager = world.users["manager_a"]
    r = client.get("/channels/sms/report?month=2026-03", user=manager)
    assert r.status_code == 200
    data = r.json()
    assert data["budgets"] == {"KONDO": 10_000}
    assert data["spent"] == {"KONDO": 100}
    assert data["queued"] == {"KONDO": 1}
    rows = {row["purpose"]: row for row in data["rows"]}
    assert rows["instalment_reminder"] == {"organisation": "KONDO",
                                           "purpose": "instalment_reminder", "messages": 2,
                                           "parts": 3, "cost": 75, "delivered": 0, "failed": 1}
    r = client.get("/channels/sms/report?month=2026-03&format=csv", user=manager)
    assert r.status_code == 200
    lines = list(csv.reader(io.StringIO(r.content.decode())))
    assert lines[0][:3] == ["month", "organisation", "purpose"]
    assert ["2026-03", "KONDO", "TOTAL", "3", "4", "100", "0", "1", "10000", "100", "1"] in lines
    # Another month: nothing sent then.
    assert client.get("/channels/sms/report?month=2026-04", user=manager).json()["rows"] == []


def test_cost_report_refusals(world):
    assert client.get("/channels/sms/report?month=2026-03",
                      user=world.users["teller_a"]).status_code == 403
    r = client.get("/channels/sms/report?month=March", user=world.users["manager_a"])
    assert r.status_code == 422
    assert "month" in r.json()["fields"]
    # The mutual's manager sees UTM's costs, not Kondo's.
    sent(world.orgs.kondo)
    data = client.get("/channels/sms/report?month=2026-03",
                      user=world.users["mutual_manager"]).json()
    assert data["rows"] == []


def test_preference_set_by_counter_staff(world, member):
    from jigi.people.models import Person

    person = Person.objects.create(first_name="Fanta", last_name="Keita", sex="F",
                                   phone="+22376000011")
    r = client.put(f"/channels/sms/preferences/{person.pk}", json={"opt_in": True,
                                                                   "language": "bm"},
                   user=world.users["admin"])
    assert r.status_code == 200
    assert r.json() == {"person_id": person.pk, "opt_in": True, "language": "bm"}
    assert SmsPreference.objects.get(person=person).recorded_by == world.users["admin"]
    r = client.put("/channels/sms/preferences/999999", json={"opt_in": True},
                   user=world.users["admin"])
    assert r.status_code == 404


def _network_admin(world):
    from django.contrib.auth import get_user_model

    from jigi.orgs.models import Role
    from jigi.orgs.services import role_grant

    user = get_user_model().objects.create_user("network_admin", password="x-Pass-12345")
    role_grant(user=user, organisation=world.orgs.kondo, role=Role.NETWORK_ADMIN)
    return user


def test_budget_set_by_a_manager_only(world):
    r = client.put("/channels/sms/budgets/KONDO/2026-03", json={"amount": 50_000},
                   user=_network_admin(world))
    assert r.status_code == 200
    assert SmsBudget.objects.get(organisation=world.orgs.kondo).amount == 50_000
    assert client.put("/channels/sms/budgets/KONDO/2026-03", json={"amount": 1},
                      user=world.users["teller_a"]).status_code == 403
    # A caisse manager reads the network's cost report but does not set the budget every
    # caisse shares.
    assert client.put("/channels/sms/budgets/KONDO/2026-03", json={"amount": 1},
                      user=world.users["manager_a"]).status_code == 403
    assert client.put("/channels/sms/budgets/KONDO/2026-03", json={"amount": 1},
                      user=world.users["auditor"]).status_code == 403
    # Another organisation's budget: not even visible.
    assert client.put("/channels/sms/budgets/UTM/2026-03", json={"amount": 1},
                      user=world.users["manager_a"]).status_code == 404
    assert SmsBudget.objects.get(organisation=world.orgs.kondo).amount == 50_000
