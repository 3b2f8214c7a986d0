"""The SMS screens and the gateway's delivery-report URL over real HTTP form posts."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse
from django.utils import timezone

from jigi.channels.models import OutboundMessage, SmsBudget
from jigi.channels.outbox import message_queue
from jigi.orgs.models import Role
from jigi.orgs.services import role_grant
from tests.conftest import PASSWORD, _user


def queue(org, phone="+22376000001", text="Bonjour", purpose="campaign_message", unit=None):
    return message_queue(organisation=org, phone=phone, text=text, purpose=purpose,
                         unit_id=unit.pk if unit else None)


def test_outbox_lists_the_organisations_messages_only(world, client_for):
    queue(world.orgs.kondo, text="Message Kondo", unit=world.caisse_a)
    queue(world.orgs.mtc, text="Message MTC", phone="+22376000002")
    r = client_for("teller_a").get(reverse("web:channels_outbox"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Message Kondo" in body
    assert "Message MTC" not in body
    assert 'id="send-now"' not in body  # a teller does not send


def test_outbox_search_by_phone_returns_the_table_for_htmx(world, client_for):
    queue(world.orgs.kondo, text="Pour Awa", phone="+22376000001", unit=world.caisse_a)
    queue(world.orgs.kondo, text="Pour Fanta", phone="+22366000002", unit=world.caisse_a)
    r = client_for("manager_a").get(reverse("web:channels_outbox"),
                                    {"phone": "66 00 00 02"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.startswith('<div class="scroll"><table id="outbox-table">')
    assert "Pour Fanta" in body
    assert "Pour Awa" not in body
    r = client_for("manager_a").get(reverse("web:channels_outbox"), {"status": "delivered"})
    assert "Pour Fanta" not in r.content.decode()


def test_outbox_refuses_a_user_without_a_staff_role(world, client, django_user_model):
    django_user_model.objects.create_user("nobody", password="pass-1234")
    client.login(username="nobody", password="pass-1234")
    assert client.get(reverse("web:channels_outbox")).status_code == 403
    assert client.post(reverse("web:channels_send")).status_code == 403


def test_send_now_sends_and_receives_the_simulators_reports(world, client_for):
    for i in range(5):
        queue(world.orgs.kondo, phone=f"+2237600000{i}", unit=world.caisse_a)
    r = client_for("manager_a").post(reverse("web:channels_send"))
    assert r.status_code == 302
    assert OutboundMessage.objects.filter(status="queued").count() == 0
    assert OutboundMessage.objects.filter(status__in=["delivered", "failed", "sent"]).count() == 5
    assert client_for("teller_a").post(reverse("web:channels_send")).status_code == 403


def test_send_now_sends_only_what_the_manager_may_read(world, client_for):
    """Caisse A's manager sends caisse A's messages; caisse B's, the network's and another
    organisation's stay queued (and their budget unspent) until someone who holds them sends."""
    mine = queue(world.orgs.kondo, phone="+22376000010", unit=world.caisse_a)
    others = [queue(world.orgs.kondo, phone="+22376000011", unit=world.caisse_b),
              queue(world.orgs.kondo, phone="+22376000012"),
              queue(world.orgs.mtc, phone="+22376000013")]
    assert client_for("manager_a").post(reverse("web:channels_send")).status_code == 302
    mine.refresh_from_db()
    assert mine.status != "queued"
    assert [OutboundMessage.objects.get(pk=m.pk).status for m in others] == ["queued"] * 3
    role_grant(user=_user("manager_b"), organisation=world.orgs.kondo,
               role=Role.CAISSE_MANAGER, unit=world.caisse_b)
    assert client_for("manager_b").post(reverse("web:channels_send")).status_code == 302
    assert OutboundMessage.objects.get(pk=others[0].pk).status != "queued"
    assert OutboundMessage.objects.get(pk=others[1].pk).status == "queued"
    assert client_for("admin").post(reverse("web:channels_send")).status_code == 302
    assert not OutboundMessage.objects.filter(status="queued").exists()


def test_cost_report_page_and_csv(world, client_for):
    m = queue(world.orgs.kondo)
    OutboundMessage.objects.filter(pk=m.pk).update(status="delivered", cost=25,
                                                   sent_at=timezone.now())
    month = timezone.localdate().strftime("%Y-%m")
    SmsBudget.objects.create(organisation=world.orgs.kondo,
                             month=timezone.localdate().replace(day=1), amount=25)
    c = client_for("manager_a")
    r = c.get(reverse("web:channels_report"), {"month": month})
    assert r.status_code == 200
    assert 'id="budget-KONDO"' in r.content.decode()
    assert "⚠️" in r.content.decode()  # the budget is used up
    r = c.get(reverse("web:channels_report"), {"month": month, "format": "csv"})
    assert r["Content-Type"] == "text/csv"
    assert f"{month},KONDO,campaign_message,1,1,25,1,0" in r.content.decode()
    assert client_for("teller_a").get(reverse("web:channels_report")).status_code == 403


def test_gateway_form_post_over_http(world, client, settings):
    settings.JIGI_SMS_CALLBACK_KEY = "k"
    m = queue(world.orgs.kondo)
    OutboundMessage.objects.filter(pk=m.pk).update(status="sent", gateway_id="ATXid_9",
                                                   sent_at=datetime(2026, 3, 9, tzinfo=UTC))
    url = "/api/v1/channels/sms/delivery-reports/africastalking"
    r = client.post(f"{url}?key=k", {"id": "ATXid_9", "status": "Success",
                                      "phoneNumber": "+22376000001", "networkCode": "61002"})
    assert r.status_code == 200
    m.refresh_from_db()
    assert m.status == "delivered"
    assert client.post(f"{url}?key=x", {"id": "ATXid_9", "status": "Failed"}).status_code == 403


def test_a_manager_sets_the_monthly_budget_on_the_report_page(world, client_for):
    from django.contrib.auth import get_user_model

    from jigi.orgs.models import Role
    from jigi.orgs.services import role_grant

    month = timezone.localdate().strftime("%Y-%m")
    url = reverse("web:channels_report")
    # A caisse manager reads the report, but the budget is the network's to set.
    caisse_manager = client_for("manager_a")
    assert 'id="budget-form"' not in caisse_manager.get(url).content.decode()
    assert caisse_manager.post(url, {"month": month, "organisation": "KONDO",
                                     "amount": "1"}).status_code == 403
    admin = get_user_model().objects.create_user("network_admin", password=PASSWORD)
    role_grant(user=admin, organisation=world.orgs.kondo, role=Role.NETWORK_ADMIN)
    c = client_for("network_admin")
    assert 'id="budget-form"' in c.get(url).content.decode()
    r = c.post(url, {"month": month, "organisation": "KONDO", "amount": "50 000"})
    assert r.status_code == 302
    budget = SmsBudget.objects.get(organisation=world.orgs.kondo)
    assert (budget.amount, budget.month) == (50_000, timezone.localdate().replace(day=1))
    r = c.post(url, {"month": month, "organisation": "KONDO", "amount": "12.5"})
    assert r.status_code == 422
    assert 'id="budget-error"' in r.content.decode()
    assert SmsBudget.objects.get(organisation=world.orgs.kondo).amount == 50_000
    # Another organisation's budget, or a read-only auditor: refused.
    assert c.post(url, {"month": month, "organisation": "UTM", "amount": "1"}).status_code == 403
    auditor = client_for("auditor")
    assert 'id="budget-form"' not in auditor.get(url).content.decode()
    assert auditor.post(url, {"month": month, "organisation": "KONDO",
                              "amount": "1"}).status_code == 403
    assert SmsBudget.objects.get(organisation=world.orgs.kondo).amount == 50_000


def test_counter_staff_record_a_members_sms_choice(world, client_for):
    from jigi.channels.models import SmsPreference
    from jigi.people.models import Person

    person = Person.objects.create(first_name="Fanta", last_name="Keita", sex="F",
                                   phone="+22376000011", language="bm")
    url = reverse("web:channels_preference", args=[person.pk])
    admin = client_for("admin")
    r = admin.get(url)
    assert r.status_code == 200
    assert 'value="bm" selected' in r.content.decode()
    r = admin.post(url, {"opt_in": "yes", "language": "bm"})
    assert r.status_code == 302
    pref = SmsPreference.objects.get(person=person)
    assert (pref.opt_in, pref.language, pref.recorded_by) == (True, "bm", world.users["admin"])
    r = admin.post(url, {"opt_in": "no", "language": "wo"})
    assert r.status_code == 422
    assert 'id="preference-error"' in r.content.decode()
    assert SmsPreference.objects.get(person=person).opt_in is True
    assert client_for("admin").get(reverse("web:channels_preference",
                                           args=[999_999])).status_code == 404
    # A member of no organisation of hers: the teller may not see her (404, nothing saved).
    teller = client_for("teller_b")
    assert teller.get(url).status_code == 404
    assert teller.post(url, {"opt_in": "no", "language": "fr"}).status_code == 404
    assert SmsPreference.objects.get(person=person).opt_in is True
