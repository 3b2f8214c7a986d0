"""Moov Money: a member with a Moov number (6x, 89, 95-99) pays from her Moov wallet. The
adapter pushes a prompt (`POST transfer`, type cashin, Basic auth, msisdn without "+"),
Moov sends no callback, so the poll is the only way a payment is confirmed; refunds are a
cash-out. Everything against the local simulator's /moov/v1."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from jigi.channels.models import MobileMoneyPayment, PaymentStatus, Refund, StatementLine
from jigi.channels.momo import providers, services
from jigi.channels.momo.providers.base import FAILED, PENDING, SUCCESS, ProviderError
from jigi.channels.momo.providers.moov import MoovProvider, msisdn, status_of
from jigi.channels.momo.providers.simulator import MoovSimulatorProvider, SimulatorServer
from jigi.core.errors import ApplicationError
from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify, unbalanced_entries
from jigi.people.phones import mali_operator
from jigi.savings.models import SavingsTransaction
from tests.channels.momo_helpers import sim, split_notif_url  # noqa: F401
from tests.credit.conftest import balances, credit, today  # noqa: F401

MOOV_PHONE = "+22366000001"


# --- the operator of a number (pure) ----------------------------------------------------------


@pytest.mark.parametrize(("phone", "operator"), [
    ("+22366000001", "moov"), ("+22360123456", "moov"), ("+22389123456", "moov"),
    ("+22395123456", "moov"), ("+22399123456", "moov"),
    ("+22376123456", "orange"), ("+22370000001", "orange"), ("+22382123456", "orange"),
    ("+22390123456", "orange"), ("+22394123456", "orange"),
    ("+22350123456", "telecel"), ("+22353123456", "telecel"),
    ("+22320221234", None),  # a fixed line in Bamako
    ("66000001", None), ("+22166000001", None), ("", None), ("+2236600000a", None),
])
def test_mali_operator(phone, operator):
    assert mali_operator(phone) == operator


def test_msisdn_and_status_mapping():
    assert msisdn("+22366000001") == "22366000001"
    assert status_of({"status": "successful", "transactionId": "T1", "amount": "500"}) \
        .__eq__(status_of({"status": "SUCCESS", "transactionId": "T1", "amount": 500}))
    assert status_of({"status": "SUCCESS", "amount": 500}).amount == 500
    assert status_of({"status": "REJECTED"}).status == FAILED
    # A word we do not know is still pending: asked again, then expired after the hour.
    assert status_of({"status": "PROCESSING"}).status == PENDING
    assert status_of({"status": "SUCCESS", "amount": 12.5}).amount is None


# --- the adapter against the simulator ----------------------------------------------------------


@pytest.fixture
def server():
    with SimulatorServer(auto_delay=None) as s:
        yield s


def adapter(server, cls=MoovProvider):
    return cls(base_url=f"{server.url}/moov/v1", username="u", password="p", partner_id="P1")


def test_adapter_pushes_a_cashin_and_reads_its_status(server):
    moov = adapter(server)
    pay = moov.request_payment(order_id="ORD-M1", amount=2_500, reference="Loan 17", lang="fr",
                               notif_url="", return_url="", cancel_url="", phone=MOOV_PHONE)
    assert pay.pay_token.startswith("MV")
    assert (pay.payment_url, pay.notif_token) == ("", "")
    tx = server.state.txs["ORD-M1"]
    assert (tx.kind, tx.amount, tx.phone) == ("moov", 2_500, MOOV_PHONE)
    assert moov.status(order_id="ORD-M1", amount=2_500, pay_token=pay.pay_token).status \
        == PENDING
    server.settle("ORD-M1")
    done = moov.status(order_id="ORD-M1", amount=2_500, pay_token=pay.pay_token)
    assert (done.status, done.txn_id, done.amount) == (SUCCESS, pay.pay_token, 2_500)
    # The reference is the idempotency key: a second request with it is refused.
    with pytest.raises(ProviderError, match="409"):
        moov.request_payment(order_id="ORD-M1", amount=2_500, reference="x", lang="fr",
                             notif_url="", return_url="", cancel_url="", phone=MOOV_PHONE)


def test_adapter_sends_basic_auth_and_the_number_without_plus(server, monkeypatch):
    sent = []
    real = MoovProvider._call

    def spy(self, method, path, data=None):
        sent.append((method, path, data, self._basic))
        return real(self, method, path, data)

    monkeypatch.setattr(MoovProvider, "_call", spy)
    adapter(server).request_payment(order_id="ORD-M2", amount=100, reference="r", lang="fr",
                                    notif_url="", return_url="", cancel_url="",
                                    phone=MOOV_PHONE)
    method, path, data, basic = sent[0]
    assert (method, path) == ("POST", "transfer")
    assert data == {"partner_id": "P1", "type": "cashin", "msisdn": "22366000001",
                    "amount": 100, "currency": "XOF", "reference": "ORD-M2",
                    "description": "r"}
    assert base64.b64decode(basic) == b"u:p"


def test_adapter_refuses_without_a_number_and_reports_errors(server):
    moov = adapter(server)
    with pytest.raises(ProviderError, match="number"):
        moov.request_payment(order_id="O", amount=100, reference="r", lang="fr", notif_url="",
                             return_url="", cancel_url="")
    with pytest.raises(ProviderError, match="404"):
        moov.status(order_id="O", amount=100, pay_token="MVNOPE")
    with pytest.raises(ProviderError):
        moov.parse_callback({"status": "SUCCESS"})
    with pytest.raises(ProviderError):
        moov.statement(day="2026-11-27")
    unreachable = MoovProvider(base_url="http://127.0.0.1:9/moov/v1", username="u",
                               password="p", partner_id="P", timeout=1)
    with pytest.raises(ProviderError):
        unreachable.status(order_id="O", amount=1, pay_token="T")


def test_refund_is_a_cashout(server):
    assert adapter(server).refund(reference="RF-1", phone=MOOV_PHONE, amount=700) == "done"
    assert server.state.refunds == [{"reference": "RF-1", "msisdn": "22366000001",
                                     "amount": 700, "provider": "moov"}]


def test_simulator_statement_keeps_the_wallets_apart(server):
    moov = adapter(server, MoovSimulatorProvider)
    moov.request_payment(order_id="ORD-M3", amount=900, reference="r", lang="fr",
                         notif_url="", return_url="", cancel_url="", phone=MOOV_PHONE)
    server.settle("ORD-M3")
    server.inject(phone="+22376999999", amount=1_000)  # Orange money
    day = timezone.now().date().isoformat()
    rows = moov.statement(day=day)
    assert [(r.order_id, r.amount, r.phone) for r in rows] == [("ORD-M3", 900, MOOV_PHONE)]
    assert [r.amount for r in server.statement(day, "orange")] == [1_000]


# --- the service: routing, poll only, no callbacks ----------------------------------------------


def ask(world, credit, order_id="ORD-M", amount=5_000, phone=MOOV_PHONE, provider=None):  # noqa: F811
    return services.payment_request(acting_user=world.users["teller_a"],
                                    purpose="savings_deposit", target_id=credit.account.pk,
                                    amount=amount, order_id=order_id, phone=phone,
                                    provider=provider)


def later(minutes=2):
    return timezone.now() + timedelta(minutes=minutes)


def books_ok(world):
    book = Book.objects.get(unit=world.caisse_a)
    assert unbalanced_entries(book) == []
    assert ledger_verify(book) == []


def test_a_moov_number_pays_from_moov_and_an_orange_number_from_orange(world, credit, sim):  # noqa: F811
    moov = ask(world, credit, "ORD-M")
    orange = ask(world, credit, "ORD-O", phone="+22376123456")
    assert (moov.provider, moov.status, moov.payment_url) == ("simulator-moov", "pending", "")
    assert moov.pay_token == sim.server.state.txs["ORD-M"].pay_token
    assert sim.server.state.txs["ORD-M"].kind == "moov"
    assert (orange.provider, sim.server.state.txs["ORD-O"].kind) == ("simulator", "orange")
    assert orange.payment_url


def test_without_a_moov_provider_every_number_goes_to_orange(world, credit, sim, settings):  # noqa: F811
    settings.JIGI_MOMO = {**settings.JIGI_MOMO, "moov_provider": ""}
    assert ask(world, credit).provider == "simulator"


def test_an_unknown_provider_is_refused(world, credit, sim):  # noqa: F811
    with pytest.raises(ApplicationError) as err:
        ask(world, credit, provider="wave")
    assert err.value.status_code == 422
    assert "provider" in err.value.fields
    assert not MobileMoneyPayment.objects.exists()


def test_a_named_moov_wallet_takes_only_a_moov_number(world, credit, sim):  # noqa: F811
    # Moov pushes its prompt to the number: an Orange number is refused here (422 on the
    # phone), not sent to Moov to fail as "provider unavailable" and be retried for an hour.
    with pytest.raises(ApplicationError) as err:
        ask(world, credit, "ORD-W", phone="+22376123456", provider="simulator-moov")
    assert err.value.status_code == 422
    assert "phone" in err.value.fields
    assert not MobileMoneyPayment.objects.exists()
    assert sim.server.state.txs == {}
    # A Moov number may name it; an Orange wallet may still be named for a Moov number (the
    # member pays on Orange's page).
    assert ask(world, credit, "ORD-M1", provider="simulator-moov").provider == "simulator-moov"
    assert ask(world, credit, "ORD-O1", provider="simulator").provider == "simulator"


def test_a_provider_this_installation_does_not_use_is_refused(world, credit, sim):  # noqa: F811
    # "moov" is a known name, but the simulator's Moov side is the one configured: a 422, no
    # payment row left behind for the poll to retry.
    for name in ("moov", "orange"):
        with pytest.raises(ApplicationError) as err:
            ask(world, credit, f"ORD-{name}", provider=name)
        assert err.value.status_code == 422
        assert "provider" in err.value.fields
    assert not MobileMoneyPayment.objects.exists()


def test_moov_payment_is_confirmed_by_the_poll_exactly_once(world, credit, sim):  # noqa: F811
    before = balances(world)
    ask(world, credit)
    assert services.payments_poll(now=later()) == {"pending": 1}
    sim.server.settle("ORD-M")
    assert sim.sent == []  # Moov calls nobody back
    assert services.payments_poll(now=later()) == {"applied": 1}
    p = MobileMoneyPayment.objects.get(order_id="ORD-M")
    assert p.status == PaymentStatus.SUCCEEDED
    assert p.provider_txn_id == p.pay_token
    assert services.payments_poll(now=later()) == {}  # nothing left to ask
    assert services.payment_poll(p) == "duplicate"  # "check now" twice
    assert SavingsTransaction.objects.filter(account=credit.account, kind="deposit",
                                             description__contains="ORD-M").count() == 1
    after = balances(world)
    assert after.get("12", 0) - before.get("12", 0) == 5_000
    assert after["251"] - before["251"] == 5_000
    books_ok(world)


def test_moov_failure_and_expiry(world, credit, sim):  # noqa: F811
    ask(world, credit, "ORD-F")
    ask(world, credit, "ORD-E")
    sim.server.settle("ORD-F", outcome="FAILED")
    assert services.payments_poll(now=later()) == {"applied": 1, "pending": 1}
    assert MobileMoneyPayment.objects.get(order_id="ORD-F").status == PaymentStatus.FAILED
    assert services.payments_poll(now=later(120)) == {"applied": 1}
    assert MobileMoneyPayment.objects.get(order_id="ORD-E").status == PaymentStatus.EXPIRED
    assert not SavingsTransaction.objects.filter(description__contains="ORD-").exists()


def test_a_callback_for_a_moov_payment_is_rejected_even_signed(world, credit, sim):  # noqa: F811
    p = ask(world, credit)
    sim.server.settle("ORD-M")
    notif, _back, _cancel = services._urls(p.order_id)
    _path, oid, sig = split_notif_url(notif)
    cb = services.callback_receive(provider="simulator-moov", order_id=oid, signature=sig,
                                   payload={"status": "SUCCESS", "notif_token": "",
                                            "txnid": "forged"})
    assert cb.outcome == "rejected"
    assert MobileMoneyPayment.objects.get(pk=p.pk).status == PaymentStatus.PENDING
    # Through the API: refused (403, as any callback whose token does not match), nothing
    # posted.
    from django.test import Client

    resp = Client().post(f"/api/v1/channels/momo/callback/{oid}?sig={sig}",
                         data=json.dumps({"status": "SUCCESS"}),
                         content_type="application/json")
    assert resp.status_code == 403
    assert not SavingsTransaction.objects.filter(description__contains="ORD-M").exists()


def test_moov_provider_down_keeps_the_row_and_a_retry_sends_it(world, credit, sim, settings):  # noqa: F811
    settings.JIGI_MOMO = {**settings.JIGI_MOMO, "moov_base_url": "http://127.0.0.1:9/moov/v1",
                          "timeout": 1}
    with pytest.raises(ApplicationError) as err:
        ask(world, credit)
    assert err.value.status_code == 502
    p = MobileMoneyPayment.objects.get(order_id="ORD-M")
    assert (p.status, p.pay_token) == (PaymentStatus.INITIATED, "")
    settings.JIGI_MOMO = {**settings.JIGI_MOMO, "moov_base_url": ""}
    again = ask(world, credit)
    assert (again.pk, again.status) == (p.pk, PaymentStatus.PENDING)
    assert len(sim.server.state.txs) == 1


def test_moov_statement_reconciles_and_unmatched_money_is_refunded_by_cashout(
        world, credit, sim, django_capture_on_commit_callbacks):  # noqa: F811
    ask(world, credit, "ORD-S")
    sim.server.settle("ORD-S")  # never polled: the statement finds it
    sim.server.inject(phone="+22366999999", amount=2_500, kind="moov")
    rows = providers.get_provider("simulator-moov").statement(
        day=timezone.now().date().isoformat())
    counts = services.statement_import(acting_user=world.users["manager_a"],
                                       provider="simulator-moov", unit=world.caisse_a,
                                       rows=rows)
    assert counts == {"fixed": 1, "unmatched": 1}
    assert MobileMoneyPayment.objects.get(order_id="ORD-S").status == PaymentStatus.SUCCEEDED
    line = StatementLine.objects.get(resolution="unmatched")
    assert line.provider == "simulator-moov"
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_create(acting_user=world.users["manager_a"], line=line)
    refund.refresh_from_db()
    assert refund.status == "done"
    assert Refund.objects.count() == 1
    assert sim.server.state.refunds[-1] == {"reference": refund.reference,
                                            "msisdn": "22366999999", "amount": 2_500,
                                            "provider": "moov"}
    books_ok(world)


def test_statement_import_refuses_an_unknown_provider(world, credit, sim):  # noqa: F811
    with pytest.raises(ApplicationError) as err:
        services.statement_import(acting_user=world.users["manager_a"], provider="wave",
                                  unit=world.caisse_a, rows=[])
    assert err.value.status_code == 422


def test_command_reconciles_the_moov_statement(world, credit, sim):  # noqa: F811
    from io import StringIO

    from django.core.management import call_command

    ask(world, credit, "ORD-C")
    sim.server.settle("ORD-C")
    out = StringIO()
    call_command("momo", "reconcile", "--unit", world.caisse_a.code, "--provider",
                 "simulator-moov", "--user", world.users["manager_a"].username, stdout=out)
    assert json.loads(out.getvalue()) == {"fixed": 1}
    assert MobileMoneyPayment.objects.get(order_id="ORD-C").status == PaymentStatus.SUCCEEDED


def test_callbacks_with_non_ascii_signature_or_token_are_refused_not_500(world, credit, sim):  # noqa: F811
    from django.test import Client

    p = ask(world, credit, "ORD-X", phone="+22376123456")  # an Orange payment
    client = Client()
    for sig, token in [("é" * 32, "x"), ("", "jeton-é"), ("🙂", "🙂")]:
        resp = client.post(f"/api/v1/channels/momo/callback/{p.order_id}?sig={sig}",
                           data=json.dumps({"status": "SUCCESS", "notif_token": token}),
                           content_type="application/json")
        assert resp.status_code == 403
    assert MobileMoneyPayment.objects.get(pk=p.pk).status == PaymentStatus.PENDING


def test_a_moov_order_id_on_the_orange_statement_is_not_that_payment(world, credit, sim):  # noqa: F811
    from jigi.channels.momo.providers.base import StatementRow

    payment = ask(world, credit, "ORD-X")
    assert payment.provider == "simulator-moov"
    row = StatementRow(day=timezone.now().date().isoformat(), txn_id="MP-ORANGE-1",
                       order_id="ORD-X", phone="+22376999999", amount=5_000, status=SUCCESS)
    counts = services.statement_import(acting_user=world.users["manager_a"],
                                       provider="simulator", unit=world.caisse_a, rows=[row])
    assert counts == {"unmatched": 1}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert StatementLine.objects.get().payment is None
    books_ok(world)
