"""Delivery reports: every one kept, duplicates harmless, disorder harmless (a status only
moves forward), unknown ids applied when the message appears."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from jigi.channels.models import DeliveryReport, MessageStatus, OutboundMessage
from jigi.channels.outbox import message_queue
from jigi.channels.sender import sms_send_queued
from jigi.channels.services import delivery_reports_record, sms_simulate_reports
from jigi.core.errors import ApplicationError

NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def sent_message(org, gateway_id="ATXid_1", status=MessageStatus.SENT):
    m = message_queue(organisation=org, phone="+22376000001", text="x", purpose="campaign")
    OutboundMessage.objects.filter(pk=m.pk).update(status=status, gateway_id=gateway_id,
                                                   sent_at=NOW)
    m.refresh_from_db()
    return m


def report(status, gid="ATXid_1", **extra):
    return {"id": gid, "status": status, "phoneNumber": "+22376000001", "networkCode": "61002",
            **extra}


def record(*payloads, gateway="africastalking"):
    return delivery_reports_record(gateway=gateway, payloads=list(payloads), now=NOW)


def test_a_report_moves_the_message_and_is_kept(world):
    m = sent_message(world.orgs.kondo)
    (r,) = record(report("Success"))
    m.refresh_from_db()
    assert (m.status, m.status_at) == (MessageStatus.DELIVERED, NOW)
    r.refresh_from_db()
    assert (r.applied, r.message_id, r.gateway, r.status) == (True, m.pk, "africastalking",
                                                              "Success")
    assert r.payload["networkCode"] == "61002"


def test_duplicates_are_kept_and_change_nothing_more(world):
    m = sent_message(world.orgs.kondo)
    record(report("Success"))
    record(report("Success"), report("Success"))
    m.refresh_from_db()
    assert m.status == MessageStatus.DELIVERED
    assert DeliveryReport.objects.filter(message=m, applied=True).count() == 3


@pytest.mark.parametrize(("order", "final"), [
    (["Success", "Sent"], "delivered"),
    (["Buffered", "Success", "Submitted"], "delivered"),
    (["Failed", "Buffered"], "failed"),
    (["Success", "Failed"], "delivered"),  # a final status never changes
    (["Rejected", "Success"], "failed"),
    (["Sent"], "sent"),
])
def test_disorder_never_moves_a_status_back(world, order, final):
    m = sent_message(world.orgs.kondo)
    for status in order:
        record(report(status, failureReason="AbsentSubscriber"))
    m.refresh_from_db()
    assert m.status == final
    if final == "failed":
        assert m.error == "AbsentSubscriber"


def test_disorder_within_one_batch(world):
    m = sent_message(world.orgs.kondo)
    record(report("Success"), report("Buffered"), report("Sent"))
    m.refresh_from_db()
    assert m.status == MessageStatus.DELIVERED


def test_an_unknown_id_is_kept_and_applied_when_the_message_appears(world):
    (r,) = record(report("Failed", gid="ATXid_later", failureReason="DeliveryFailure"))
    r.refresh_from_db()
    assert (r.applied, r.message_id) == (False, None)
    # The message gets that id later (the send's answer arrives after the report).
    m = message_queue(organisation=world.orgs.kondo, phone="+22376000001", text="x",
                      purpose="campaign")

    class Gateway:
        name = "africastalking"

        def send(self, messages):
            from jigi.channels.backends import SendResult

            return [SendResult(x.message_id, True, gateway_id="ATXid_later", cost=25)
                    for x in messages]

    sms_send_queued(now=NOW, backend=Gateway())
    m.refresh_from_db()
    r.refresh_from_db()
    assert (m.status, m.error) == (MessageStatus.FAILED, "DeliveryFailure")
    assert (r.applied, r.message_id) == (True, m.pk)


def test_a_cancelled_or_queued_message_is_not_moved_by_a_stray_report(world):
    m = sent_message(world.orgs.kondo, status=MessageStatus.CANCELLED)
    record(report("Success"))
    m.refresh_from_db()
    assert m.status == MessageStatus.CANCELLED


def test_a_bad_report_is_refused_and_nothing_is_kept(world):
    with pytest.raises(ApplicationError) as exc:
        record(report("Success"), {"status": "Success"})
    assert exc.value.status_code == 422
    assert DeliveryReport.objects.count() == 0
    with pytest.raises(ApplicationError) as exc:
        record(report("Success"), gateway="pigeon")
    assert exc.value.status_code == 404


def test_the_simulators_reports_end_to_end(world):
    for i in range(300):
        message_queue(organisation=world.orgs.kondo, phone=f"+223760{i:05d}", text=f"m{i}",
                      purpose="campaign")
    assert sms_send_queued(now=NOW).sent == 300
    received = sms_simulate_reports(now=NOW)
    assert received > 300  # duplicates and intermediate reports
    assert DeliveryReport.objects.count() == received
    assert DeliveryReport.objects.filter(applied=False).count() == 0
    statuses = Counter(OutboundMessage.objects.values_list("status", flat=True))
    assert statuses["delivered"] > 250
    assert statuses["failed"] > 0
    assert statuses["delivered"] + statuses["failed"] + statuses["sent"] == 300
    # Once reported, a message gets no second round of reports.
    assert sms_simulate_reports(now=NOW) == 0
    # Deterministic: exactly the messages whose seeded final report is a failure failed.
    from jigi.channels.backends.simulator import SimulatorBackend

    pairs = list(OutboundMessage.objects.values_list("gateway_id", "phone"))
    expected = {r["id"] for r in SimulatorBackend(seed=8).reports_for(pairs)
                if r["status"] in ("Failed", "Rejected")}
    assert set(OutboundMessage.objects.filter(status="failed")
               .values_list("gateway_id", flat=True)) == expected


def test_a_report_left_unapplied_by_a_race_is_applied_by_the_next_send(world):
    """The report arrived while the sender was recording its id (neither saw the other): it
    is stored unapplied though its message is known; the next run of the sender applies it."""
    m = sent_message(world.orgs.kondo, gateway_id="ATXid_race")
    DeliveryReport.objects.create(gateway="africastalking", gateway_id="ATXid_race",
                                  status="Success", payload={})
    DeliveryReport.objects.create(gateway="africastalking", gateway_id="ATXid_nobody",
                                  status="Success", payload={})
    report = sms_send_queued(now=NOW)
    assert report.reports_applied == 1
    m.refresh_from_db()
    assert m.status == MessageStatus.DELIVERED
    assert list(DeliveryReport.objects.filter(applied=False)
                .values_list("gateway_id", flat=True)) == ["ATXid_nobody"]
