"""Mobile-money API and screens."""

from __future__ import annotations

import json

from django.test import Client
from django.utils import timezone

from jigi.channels.models import MobileMoneyPayment, PaymentStatus, StatementLine
from tests.channels.momo_helpers import sim, split_notif_url  # noqa: F401
from tests.credit.conftest import credit, today  # noqa: F401

API = "/api/v1/channels/momo"


def post_payment(client, credit, key="ORD-1", amount=5_000):  # noqa: F811
    return client.post(f"{API}/payments", json.dumps(
        {"purpose": "savings_deposit", "target_id": credit.account.pk, "amount": amount}),
        content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_request_replay_and_conflict(world, credit, sim, client_for):  # noqa: F811
    teller = client_for("teller_a")
    first = post_payment(teller, credit)
    assert first.status_code == 201
    assert first.json()["status"] == "pending"
    assert first.json()["payment_url"]
    again = post_payment(teller, credit)
    assert again.status_code == 200
    assert again.json()["order_id"] == "ORD-1"
    other = post_payment(teller, credit, amount=9_000)
    assert other.status_code == 409
    assert other.json()["code"] == "order_id_reused"
    assert post_payment(teller, credit, key="").status_code == 400
    assert MobileMoneyPayment.objects.count() == 1


def test_refusals_404_and_403(world, credit, sim, client_for):  # noqa: F811
    assert post_payment(client_for("teller_b"), credit).status_code == 404
    assert post_payment(client_for("mutual_manager"), credit).status_code == 404
    post_payment(client_for("teller_a"), credit)
    assert client_for("teller_b").get(f"{API}/payments/ORD-1").status_code == 404
    assert client_for("teller_a").get(f"{API}/payments/ORD-1").status_code == 200
    assert Client().get(f"{API}/payments/ORD-1").status_code == 401


def test_callback_endpoint_applies_once_and_rejects_forgeries(world, credit, sim, client_for):  # noqa: F811
    post_payment(client_for("teller_a"), credit)
    sim.server.settle("ORD-1", callbacks=2)
    anonymous = Client(enforce_csrf_checks=True)  # the provider has no session nor token
    outcomes = []
    for url, payload in sim.callbacks_for("ORD-1"):
        path, _oid, _sig = split_notif_url(url)
        r = anonymous.post(path, json.dumps(payload), content_type="application/json")
        assert r.status_code == 200
        outcomes.append(r.json()["outcome"])
    assert outcomes == ["applied", "duplicate"]
    forged = anonymous.post(f"{API}/callback/ORD-1", json.dumps(
        {"status": "SUCCESS", "notif_token": "x", "txnid": "y"}), content_type="application/json")
    assert forged.status_code == 403
    garbage = anonymous.post(f"{API}/callback/NOPE", "not json", content_type="text/plain")
    assert garbage.json()["outcome"] == "unknown"
    assert MobileMoneyPayment.objects.get().status == PaymentStatus.SUCCEEDED


def test_poll_statement_and_refund_endpoints(world, credit, sim, client_for):  # noqa: F811
    teller, manager = client_for("teller_a"), client_for("manager_a")
    post_payment(teller, credit)
    sim.server.settle("ORD-1", callbacks=0)
    polled = teller.post(f"{API}/payments/ORD-1/poll")
    assert polled.json()["outcome"] == "applied"
    assert polled.json()["payment"]["status"] == "succeeded"
    sim.server.inject(phone="+22376999999", amount=2_500)
    day = timezone.now().date().isoformat()
    rows = [{"date": r.day, "txnid": r.txn_id, "order_id": r.order_id, "msisdn": r.phone,
             "amount": r.amount, "status": r.status} for r in sim.server.statement(day)]
    # No provider named: the configured Orange side's ("simulator" here).
    body = json.dumps({"unit_id": world.caisse_a.pk, "rows": rows})
    assert teller.post(f"{API}/statements", body, content_type="application/json"
                       ).status_code == 403
    imported = manager.post(f"{API}/statements", body, content_type="application/json")
    assert imported.json() == {"matched": 1, "unmatched": 1}
    assert set(StatementLine.objects.values_list("provider", flat=True)) == {"simulator"}
    line = StatementLine.objects.get(resolution="unmatched")
    refund = manager.post(f"{API}/refunds", json.dumps({"line_id": line.pk}),
                          content_type="application/json")
    assert refund.status_code == 201
    assert refund.json()["amount"] == 2_500
    # Not confirmed by the provider (its call runs after commit): a manager confirms it.
    reference = refund.json()["reference"]
    waiting = manager.get(f"{API}/refunds", {"status": "requested"}).json()
    assert [r["reference"] for r in waiting] == [reference]
    assert client_for("teller_b").get(f"{API}/refunds").json() == []
    assert manager.get(f"{API}/refunds", {"status": "lost"}).status_code == 422
    confirm = f"{API}/refunds/{reference}/confirm"
    blank = manager.post(confirm, json.dumps({"provider_ref": ""}),
                         content_type="application/json")
    assert blank.status_code == 422
    assert "provider_ref" in blank.json()["fields"]
    assert teller.post(confirm, json.dumps({"provider_ref": "OM-1"}),
                       content_type="application/json").status_code == 403
    done = manager.post(confirm, json.dumps({"provider_ref": "OM-1"}),
                        content_type="application/json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["provider_ref"]) == ("done", "OM-1")
    assert manager.post(confirm, json.dumps({"provider_ref": "OM-1"}),
                        content_type="application/json").status_code == 409
    assert manager.get(f"{API}/refunds", {"status": "requested"}).json() == []
    bad = manager.post(f"{API}/statements", json.dumps(
        {"unit_id": world.caisse_a.pk, "rows": [{"txnid": "x"}]}),
        content_type="application/json")
    assert bad.status_code == 422


def test_pay_by_mobile_money_screen(world, credit, sim, client_for):  # noqa: F811
    teller = client_for("teller_a")
    page = teller.get("/channels/momo/")
    assert page.status_code == 200
    assert b'id="momo-form"' in page.content
    form = {"purpose": "savings_deposit", "target_id": credit.account.pk, "amount": "5000",
            "phone": "", "idempotency_key": "k1"}
    card = teller.post("/channels/momo/request/", form, HTTP_HX_REQUEST="true")
    assert card.status_code == 200
    assert b'data-status="pending"' in card.content
    # A double click sends the same key: the same payment.
    teller.post("/channels/momo/request/", form, HTTP_HX_REQUEST="true")
    assert MobileMoneyPayment.objects.count() == 1
    sim.server.settle("k1", callbacks=0)
    checked = teller.post("/channels/momo/payment/k1/")
    assert b'data-status="succeeded"' in checked.content
    refused = teller.post("/channels/momo/request/", {**form, "amount": "0",
                                                       "idempotency_key": "k2"})
    assert refused.status_code == 422
    assert b'id="momo-error"' in refused.content
    by_htmx = teller.post("/channels/momo/request/", {**form, "amount": "0",
                                                       "idempotency_key": "k2"},
                          HTTP_HX_REQUEST="true")
    assert by_htmx.status_code == 200
    assert b'id="momo-error"' in by_htmx.content
    assert client_for("teller_b").get("/channels/momo/payment/k1/").status_code == 404


def test_reconciliation_screen(world, credit, sim, client_for):  # noqa: F811
    manager = client_for("manager_a")
    post_payment(client_for("teller_a"), credit)
    sim.server.settle("ORD-1", callbacks=0)
    sim.server.inject(phone="+22376999999", amount=2_500)
    day = timezone.localdate().isoformat()
    page = manager.get(f"/channels/momo/report/?day={day}")
    assert page.status_code == 200
    imported = manager.post("/channels/momo/report/import/",
                            {"day": day, "unit": world.caisse_a.pk})
    assert imported.status_code == 200
    assert b'id="momo-imported"' in imported.content
    line = StatementLine.objects.get(resolution="unmatched")
    assert line.provider_txn_id.encode() in imported.content
    refunded = manager.post(f"/channels/momo/report/refund/{line.pk}/", {"day": day})
    assert b'id="momo-refunded"' in refunded.content
    again = manager.post(f"/channels/momo/report/refund/{line.pk}/", {"day": day})
    assert again.status_code == 409
    reference = f"RF-{line.provider_txn_id}"
    assert b'id="refunds-waiting"' in again.content
    assert reference.encode() in again.content
    confirm = f"/channels/momo/report/refund/{reference}/confirm/"
    blank = manager.post(confirm, {"day": day, "provider_ref": ""})
    assert blank.status_code == 422
    assert b'id="momo-error"' in blank.content
    confirmed = manager.post(confirm, {"day": day, "provider_ref": "OM-77"})
    assert confirmed.status_code == 200
    assert b'id="momo-confirmed"' in confirmed.content
    assert b"OM-77" in confirmed.content
    teller = client_for("teller_a").post("/channels/momo/report/import/",
                                         {"day": day, "unit": world.caisse_a.pk})
    assert teller.status_code == 403


def test_import_screen_with_a_unit_that_is_not_a_number_is_a_404(world, credit, sim,  # noqa: F811
                                                                 client_for):
    manager = client_for("manager_a")
    for unit in ("abc", "-1", "1.5"):
        answer = manager.post("/channels/momo/report/import/",
                              {"day": timezone.localdate().isoformat(), "unit": unit})
        assert answer.status_code == 404
    assert not StatementLine.objects.exists()
