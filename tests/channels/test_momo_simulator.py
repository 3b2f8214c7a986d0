"""The Orange Money adapter against the simulator (no Django database)."""

from __future__ import annotations

import pytest

from jigi.channels.momo.providers.base import ProviderError
from jigi.channels.momo.providers.orange import OrangeProvider, parse_statement
from jigi.channels.momo.providers.simulator import (
    SimulatorProvider,
    SimulatorServer,
    statement_csv,
)


@pytest.fixture
def server():
    sent = []
    with SimulatorServer(deliver=lambda url, payload: sent.append((url, payload))) as s:
        s.sent = sent
        yield s


def provider(server, cls=SimulatorProvider):
    return cls(name="simulator", base_url=server.url, client_id="c", client_secret="s",
               merchant_key="m")


def request(p, order_id="ORD-1", amount=5_000):
    return p.request_payment(order_id=order_id, amount=amount, reference=order_id, lang="fr",
                             notif_url=f"http://jigi/cb/{order_id}", return_url="http://r",
                             cancel_url="http://c")


def test_webpayment_answers_tokens_and_starts_pending(server):
    p = provider(server)
    answer = request(p)
    assert answer.pay_token
    assert answer.notif_token
    assert answer.payment_url.startswith(server.url)
    assert p.status(order_id="ORD-1", amount=5_000, pay_token=answer.pay_token).status \
        == "PENDING"


def test_an_order_id_is_used_once(server):
    p = provider(server)
    request(p)
    with pytest.raises(ProviderError, match="409"):
        request(p)


def test_settle_sends_the_callback_with_the_notif_token_and_status_agrees(server):
    p = provider(server)
    answer = request(p)
    server.settle("ORD-1", callbacks=2)
    assert len(server.sent) == 2
    url, payload = server.sent[0]
    assert url == "http://jigi/cb/ORD-1"
    assert payload["status"] == "SUCCESS"
    assert payload["notif_token"] == answer.notif_token
    status = p.status(order_id="ORD-1", amount=5_000, pay_token=answer.pay_token)
    assert (status.status, status.txn_id, status.amount) == ("SUCCESS", payload["txnid"], 5_000)
    assert p.parse_callback(payload).txn_id == payload["txnid"]


def test_a_wrong_pay_token_is_not_found(server):
    p = provider(server)
    request(p)
    with pytest.raises(ProviderError, match="404"):
        p.status(order_id="ORD-1", amount=5_000, pay_token="nope")


def test_bad_credentials_are_refused(server):
    p = provider(server)
    p._token = ("forged", 1e12)
    with pytest.raises(ProviderError, match="401"):
        request(p)


def test_statement_lists_successes_and_injected_money_csv_and_json(server):
    p = provider(server)
    request(p, "A", 1_000)
    request(p, "B", 2_000)
    server.settle("A", phone="+22376000001")
    server.settle("B", outcome="FAILED")
    extra = server.inject(phone="+22376000002", amount=700)
    day = extra.day
    rows = p.statement(day=day)
    assert sorted((r.order_id, r.amount) for r in rows) == [("", 700), ("A", 1_000)]
    assert parse_statement(statement_csv(rows)) == rows


def test_statement_refuses_fractional_amounts():
    with pytest.raises(ValueError, match="whole"):
        parse_statement('[{"date": "2026-11-20", "txnid": "T", "amount": 10.5, '
                        '"status": "SUCCESS"}]')


def test_refund_is_done_by_the_simulator_and_requested_at_orange(server):
    assert provider(server).refund(reference="RF-1", phone="+22376000001", amount=500) == "done"
    assert server.state.refunds[0]["reference"] == "RF-1"
    assert provider(server, OrangeProvider).refund(reference="RF-2", phone="x", amount=1) \
        == "requested"
    with pytest.raises(ProviderError):
        provider(server, OrangeProvider).statement(day="2026-11-20")


def test_unreachable_provider_is_a_provider_error():
    p = OrangeProvider(base_url="http://127.0.0.1:9", client_id="c", client_secret="s",
                       merchant_key="m", timeout=2)
    with pytest.raises(ProviderError):
        request(p)
