"""The sender: oldest first, opt-in, monthly budget, throttling, gateway failures, claims that
keep two senders from sending one message twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from jigi.channels.backends import SendResult, SmsBackendError
from jigi.channels.backends.simulator import SimulatorBackend
from jigi.channels.models import DeliveryReport, MessageStatus, OutboundMessage, SmsBudget
from jigi.channels.outbox import message_queue
from jigi.channels.sender import OPTED_OUT, OVER_BUDGET, sms_send_queued

NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


class Recording(SimulatorBackend):
    """The simulator, remembering what it was asked to send."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls: list[list[int]] = []

    def send(self, messages):
        self.calls.append([m.message_id for m in messages])
        return super().send(messages)


def queue(org, phone="+22376000001", text="Bonjour", purpose="campaign_message", person=None):
    return message_queue(organisation=org, phone=phone, text=text, purpose=purpose,
                         person=person)


def test_queued_messages_go_oldest_first_and_record_the_answer(world, member):
    kondo = world.orgs.kondo
    people = [member() for _ in range(3)]
    msgs = [queue(kondo, p.phone, person=p) for p in people]
    backend = Recording()
    report = sms_send_queued(limit=2, now=NOW, backend=backend)
    assert backend.calls == [[msgs[0].pk, msgs[1].pk]]
    assert (report.claimed, report.sent, report.failed) == (2, 2, 0)
    first = OutboundMessage.objects.get(pk=msgs[0].pk)
    assert first.status == MessageStatus.SENT
    assert first.gateway_id == f"SIM-8-{first.pk}"
    assert first.cost == 25
    assert first.sent_at == NOW
    assert OutboundMessage.objects.get(pk=msgs[2].pk).status == MessageStatus.QUEUED
    sms_send_queued(limit=10, now=NOW, backend=backend)
    assert backend.calls[1] == [msgs[2].pk]


def test_opt_in_rule_cancels_what_the_member_did_not_ask_for(world, member):
    kondo, mtc = world.orgs.kondo, world.orgs.mtc
    yes, no, none = member(opt_in=True), member(opt_in=False), member(opt_in=None)
    sent = [queue(kondo, yes.phone, person=yes),
            queue(mtc, no.phone, purpose="petition_code", person=no),
            queue(mtc, none.phone, purpose="case_alert", person=none),
            queue(mtc, "+22376999999", purpose="movement_case_urgent"),
            queue(kondo, no.phone, purpose="staff_cash_alert", person=no),
            queue(kondo, "+22376999998", purpose="campaign_message")]  # no member: exempt
    cancelled = [queue(kondo, no.phone, purpose="instalment_reminder", person=no),
                 queue(kondo, none.phone, purpose="deposit_receipt", person=none)]
    report = sms_send_queued(now=NOW, backend=Recording())
    assert (report.sent, report.cancelled) == (6, 2)
    for m in sent:
        assert OutboundMessage.objects.get(pk=m.pk).status == MessageStatus.SENT
    for m in cancelled:
        m.refresh_from_db()
        assert (m.status, m.error) == (MessageStatus.CANCELLED, OPTED_OUT)


def test_over_budget_messages_stay_queued_and_are_reported(world, member):
    kondo, utm = world.orgs.kondo, world.orgs.utm
    SmsBudget.objects.create(organisation=kondo, month=NOW.date().replace(day=1), amount=60)
    long_text = "x" * 200  # two parts: 50 F
    k1, k2, k3 = (queue(kondo, text="court"), queue(kondo, text=long_text),
                  queue(kondo, text="court"))
    u1 = queue(utm)  # no budget set for UTM: no cap
    report = sms_send_queued(now=NOW, backend=Recording())
    # 25 F for k1 leaves 35 F: k2 (50 F) waits, k3 (25 F) fits.
    assert [OutboundMessage.objects.get(pk=m.pk).status for m in (k1, k2, k3, u1)] == [
        "sent", "queued", "sent", "sent"]
    assert report.held == 1
    assert report.held_by_organisation == {kondo.pk: 1}
    k2.refresh_from_db()
    assert k2.error == OVER_BUDGET
    assert k2.sent_at is None
    # Nothing more this month (and the report still says what waits); the next month's
    # budget lets it go.
    again = sms_send_queued(now=NOW + timedelta(hours=1), backend=Recording())
    assert again.sent == 0
    assert (again.held, again.held_by_organisation) == (1, {kondo.pk: 1})
    SmsBudget.objects.create(organisation=kondo, month=(NOW.date().replace(day=1)
                                                        + timedelta(days=31)).replace(day=1),
                             amount=1000)
    later = sms_send_queued(now=datetime(2026, 4, 1, 8, tzinfo=UTC),
                            backend=Recording())
    assert later.sent == 1
    k2.refresh_from_db()
    assert (k2.status, k2.error) == ("sent", "")


def test_an_exhausted_budget_does_not_block_other_organisations(world):
    kondo, utm = world.orgs.kondo, world.orgs.utm
    SmsBudget.objects.create(organisation=kondo, month=NOW.date().replace(day=1), amount=0)
    for _ in range(5):
        queue(kondo)
    u = [queue(utm), queue(utm)]
    report = sms_send_queued(limit=2, now=NOW, backend=Recording())
    assert report.sent == 2
    assert [OutboundMessage.objects.get(pk=m.pk).status for m in u] == ["sent", "sent"]


def test_throttled_to_the_backends_rate(world, settings):
    settings.JIGI_SMS_RATES = {"simulator": 2}
    for _ in range(5):
        queue(world.orgs.kondo)
    clock = [100.0]
    slept: list[float] = []

    def sleep(s):
        slept.append(round(s, 3))
        clock[0] += s

    backend = Recording()
    report = sms_send_queued(now=NOW, backend=backend, sleep=sleep, clock=lambda: clock[0])
    assert report.sent == 5
    assert [len(c) for c in backend.calls] == [2, 2, 1]
    assert slept == [1.0, 1.0]  # 2 a second: 5 messages take 2 s


def test_an_unreachable_gateway_leaves_messages_queued_for_the_next_run(world):
    m = queue(world.orgs.kondo)

    class Down(SimulatorBackend):
        def send(self, messages):
            raise SmsBackendError("africastalking unreachable: ConnectTimeout")

    report = sms_send_queued(now=NOW, backend=Down())
    assert report.error.startswith("africastalking unreachable")
    m.refresh_from_db()
    assert (m.status, m.sent_at) == ("queued", None)
    assert "unreachable" in m.error
    assert sms_send_queued(now=NOW, backend=Recording()).sent == 1


def test_refused_and_retry_answers(world):
    refused, later = queue(world.orgs.kondo), queue(world.orgs.kondo)

    class Picky(SimulatorBackend):
        def send(self, messages):
            return [SendResult(refused.pk, False, error="403 InvalidPhoneNumber"),
                    SendResult(later.pk, False, error="405 InsufficientBalance", retry=True)]

    report = sms_send_queued(now=NOW, backend=Picky())
    assert (report.failed, report.retry) == (1, 1)
    refused.refresh_from_db()
    later.refresh_from_db()
    assert (refused.status, refused.error) == ("failed", "403 InvalidPhoneNumber")
    assert (later.status, later.sent_at, later.error) == ("queued", None,
                                                          "405 InsufficientBalance")


def test_a_message_claimed_by_another_sender_is_not_sent_twice(world):
    """Sender B runs while sender A waits for the gateway (no transaction open then): B finds
    A's messages claimed and sends nothing."""
    msgs = [queue(world.orgs.kondo) for _ in range(3)]
    inner: list = []

    class SlowGateway(Recording):
        def send(self, messages):
            if not inner:
                inner.append(sms_send_queued(now=NOW, backend=Recording()))
            return super().send(messages)

    report = sms_send_queued(now=NOW, backend=SlowGateway())
    assert report.sent == 3
    assert inner[0].claimed == 0
    assert inner[0].sent == 0
    assert {m.status for m in OutboundMessage.objects.filter(pk__in=[m.pk for m in msgs])} == {
        "sent"}


def test_a_claim_left_by_a_dead_sender_is_offered_again_after_the_timeout(world, settings):
    settings.JIGI_SMS_CLAIM_TIMEOUT = 600
    m = queue(world.orgs.kondo)
    OutboundMessage.objects.filter(pk=m.pk).update(sent_at=NOW)  # claimed, then the sender died
    assert sms_send_queued(now=NOW + timedelta(minutes=5), backend=Recording()).claimed == 0
    assert sms_send_queued(now=NOW + timedelta(minutes=11), backend=Recording()).sent == 1


def test_a_delivery_report_that_beat_the_answer_is_applied_when_the_answer_is_recorded(world):
    m = queue(world.orgs.kondo)
    DeliveryReport.objects.create(gateway="simulator", gateway_id=f"SIM-8-{m.pk}",
                                  status="Success", payload={"id": f"SIM-8-{m.pk}"})
    report = sms_send_queued(now=NOW, backend=Recording())
    assert report.reports_applied == 1
    m.refresh_from_db()
    assert m.status == MessageStatus.DELIVERED
    assert DeliveryReport.objects.get().applied is True
    assert DeliveryReport.objects.get().message_id == m.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_send_one_message_twice():
    from tests.conftest import build_world

    world = build_world()
    ids = [queue(world.orgs.kondo, text=f"m{i}").pk for i in range(300)]
    backends = [Recording(), Recording()]
    barrier = threading.Barrier(2)

    def run(backend):
        try:
            barrier.wait()
            for _ in range(10):
                sms_send_queued(limit=40, now=NOW, backend=backend)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b,)) for b in backends]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [i for b in backends for call in b.calls for i in call]
    assert sorted(sent) == sorted(ids)  # each exactly once
    assert all(b.calls for b in backends)  # both took part
    assert OutboundMessage.objects.filter(status="sent").count() == 300
