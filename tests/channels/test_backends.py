"""The adapters: Africa's Talking against a local HTTP server answering like the documented
API (no internet), and the simulator's determinism, duplicates and disorder."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from jigi.channels.backends import OutgoingSms, SmsBackendError, get_backend
from jigi.channels.backends.africastalking import (
    AfricasTalkingBackend,
    parse_at_report,
    parse_cost,
)
from jigi.channels.backends.simulator import SimulatorBackend


class FakeAT:
    """A local Africa's Talking: records each request; answers with `answer(form)` ->
    (status, body)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answer = self.default_answer
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                fake.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "form": form})
                status, payload = fake.answer(form)
                data = payload.encode() if isinstance(payload, str) else json.dumps(
                    payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/version1/messaging"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def default_answer(form):
        numbers = form["to"].split(",")
        return 201, {"SMSMessageData": {
            "Message": f"Sent to {len(numbers)}/{len(numbers)} Total Cost: XOF 25",
            "Recipients": [{"statusCode": 101, "number": n, "status": "Success",
                            "cost": "XOF 25.0000", "messageId": f"ATXid_{i}"}
                           for i, n in enumerate(numbers)]}}


@pytest.fixture
def fake_at():
    fake = FakeAT()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def at(fake, **kw):
    return AfricasTalkingBackend(username="jigi", api_key="k3y", url=fake.url, sender="JIGI",
                                 timeout=5, **kw)


def test_send_posts_the_documented_form_and_headers(fake_at):
    results = at(fake_at).send([OutgoingSms(1, "+22376000001", "Bonjour", 1)])
    (req,) = fake_at.requests
    assert req["path"] == "/version1/messaging"
    assert req["headers"]["apiKey"] == "k3y"
    assert req["headers"]["Accept"] == "application/json"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert req["form"] == {"username": "jigi", "to": "+22376000001", "message": "Bonjour",
                           "from": "JIGI", "bulkSMSMode": "1"}
    assert results == [results[0]]
    r = results[0]
    assert (r.message_id, r.accepted, r.gateway_id, r.cost, r.retry) == (1, True, "ATXid_0", 25,
                                                                        False)


def test_same_text_goes_in_one_request_and_each_number_gets_its_result(fake_at):
    msgs = [OutgoingSms(i, f"+2237600000{i}", "Réunion samedi", 1) for i in range(1, 4)]
    msgs.append(OutgoingSms(9, "+22376000009", "Autre texte", 1))
    results = {r.message_id: r for r in at(fake_at).send(msgs)}
    assert len(fake_at.requests) == 2
    assert fake_at.requests[0]["form"]["to"] == "+22376000001,+22376000002,+22376000003"
    assert set(results) == {1, 2, 3, 9}
    assert all(r.accepted for r in results.values())
    assert len({r.gateway_id for r in results.values() if r.message_id != 9}) == 3


def test_per_recipient_refusals_and_passing_troubles(fake_at):
    def answer(form):
        return 201, {"SMSMessageData": {"Message": "Sent to 0/3", "Recipients": [
            {"statusCode": 403, "number": "+22376000001", "status": "InvalidPhoneNumber",
             "cost": "0", "messageId": "None"},
            {"statusCode": 405, "number": "+22376000002", "status": "InsufficientBalance",
             "cost": "0", "messageId": "None"},
        ]}}
    fake_at.answer = answer
    msgs = [OutgoingSms(i, f"+2237600000{i}", "x", 1) for i in (1, 2, 3)]
    results = {r.message_id: r for r in at(fake_at).send(msgs)}
    assert (results[1].accepted, results[1].retry, results[1].error) == (
        False, False, "403 InvalidPhoneNumber")
    assert (results[2].accepted, results[2].retry) == (False, True)
    # Not in the answer at all: not sent, offered again next run.
    assert (results[3].accepted, results[3].retry) == (False, True)


@pytest.mark.parametrize(("status", "body"), [(401, "The supplied authentication is invalid"),
                                              (500, "oops"), (201, "not json"),
                                              (201, {"unexpected": 1})])
def test_a_refused_or_garbled_request_raises_and_sends_nothing(fake_at, status, body):
    fake_at.answer = lambda form: (status, body)
    with pytest.raises(SmsBackendError):
        at(fake_at).send([OutgoingSms(1, "+22376000001", "x", 1)])


def test_an_unreachable_gateway_raises():
    backend = AfricasTalkingBackend(username="u", api_key="k", url="http://127.0.0.1:9/x",
                                    timeout=2)
    with pytest.raises(SmsBackendError):
        backend.send([OutgoingSms(1, "+22376000001", "x", 1)])


@pytest.mark.parametrize(("text", "francs"), [("XOF 25.0000", 25), ("XOF 24.5000", 25),
                                              ("KES 0.8000", 1), ("0", 0), ("None", 0),
                                              (None, 0), ("XOF -3", 0), ("XOF NaN", 0)])
def test_cost_is_whole_francs_rounded_up(text, francs):
    assert parse_cost(text) == francs


def test_delivery_report_form_is_read_and_mapped():
    u = parse_at_report({"id": "ATXid_1", "status": "Failed", "phoneNumber": "+22376000001",
                         "networkCode": "61002", "failureReason": "AbsentSubscriber",
                         "retryCount": "1"})
    assert (u.gateway_id, u.raw_status, u.status, u.reason) == (
        "ATXid_1", "Failed", "failed", "AbsentSubscriber")
    assert parse_at_report({"id": "a", "status": "Success"}).status == "delivered"
    assert parse_at_report({"id": "a", "status": "Buffered"}).status == "sent"
    assert parse_at_report({"id": "a", "status": "SomethingNew"}).status == "sent"
    with pytest.raises(ValueError):
        parse_at_report({"status": "Success"})


def test_simulator_answers_like_a_gateway_and_refuses_a_foreign_number():
    sim = SimulatorBackend(seed=3, part_price=25)
    ok, bad = sim.send([OutgoingSms(7, "+22376000001", "x", 2),
                        OutgoingSms(8, "+33612345678", "x", 1)])
    assert (ok.accepted, ok.gateway_id, ok.cost) == (True, "SIM-3-7", 50)
    assert (bad.accepted, bad.error) == (False, "InvalidPhoneNumber")


def test_simulator_reports_are_deterministic_duplicated_out_of_order_and_mixed():
    sim = SimulatorBackend(seed=8)
    sent = [(f"SIM-8-{i}", f"+223760{i:05d}") for i in range(1000)]
    reports = sim.reports_for(sent)
    assert reports == SimulatorBackend(seed=8).reports_for(sent)
    assert reports != SimulatorBackend(seed=9).reports_for(sent)
    per_id = Counter(r["id"] for r in reports)
    assert set(per_id) == {g for g, _ in sent}
    assert any(n > 1 for n in per_id.values())  # duplicates or intermediate reports
    statuses = Counter(r["status"] for r in reports)
    assert statuses["Success"] > 800
    assert statuses["Failed"] > 0
    assert statuses["Rejected"] > 0
    # Out of order: the list is not in sending order, and some "Sent"/"Buffered" report comes
    # after the final one of the same message.
    assert [r["id"] for r in reports][:50] != [g for g, _ in sent][:50]
    seen_final = set()
    late_intermediate = False
    for r in reports:
        if r["status"] in ("Success", "Failed", "Rejected"):
            seen_final.add(r["id"])
        elif r["id"] in seen_final:
            late_intermediate = True
    assert late_intermediate


def test_backend_by_setting(settings):
    assert get_backend().name == "simulator"
    settings.JIGI_SMS_BACKEND = "africastalking"
    settings.JIGI_AT_API_KEY = "k"
    assert get_backend().name == "africastalking"
    settings.JIGI_SMS_BACKEND = "pigeon"
    with pytest.raises(ValueError, match="pigeon"):
        get_backend()


def test_end_to_end_through_africastalking_shapes(world, fake_at, settings):
    """Queued -> sent through the Africa's Talking adapter (local server) -> the gateway's
    delivery report for the id it returned -> delivered; the cost is the gateway's."""
    from jigi.channels.models import OutboundMessage
    from jigi.channels.outbox import message_queue
    from jigi.channels.sender import sms_send_queued
    from jigi.channels.services import delivery_reports_record

    settings.JIGI_SMS_RATES = {"africastalking": 0}
    for i in range(3):
        message_queue(organisation=world.orgs.kondo, phone=f"+2237600000{i}",
                      text="Réunion samedi", purpose="campaign_message")
    report = sms_send_queued(backend=at(fake_at))
    assert report.sent == 3
    assert len(fake_at.requests) == 1  # one text, one request
    ids = sorted(OutboundMessage.objects.values_list("gateway_id", flat=True))
    assert ids == ["ATXid_0", "ATXid_1", "ATXid_2"]
    assert set(OutboundMessage.objects.values_list("cost", flat=True)) == {25}
    delivery_reports_record(gateway="africastalking", payloads=[
        {"id": "ATXid_1", "status": "Success", "phoneNumber": "+22376000001"},
        {"id": "ATXid_2", "status": "Rejected", "failureReason": "UserInBlackList"}])
    statuses = dict(OutboundMessage.objects.values_list("gateway_id", "status"))
    assert statuses == {"ATXid_0": "sent", "ATXid_1": "delivered", "ATXid_2": "failed"}
