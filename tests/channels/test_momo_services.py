"""Mobile-money collection exactly once: request, callback, poll, expiry, amounts, targets."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations

import pytest
from django.utils import timezone

from jigi.channels.models import MobileMoneyPayment, PaymentStatus, ProviderCallback
from jigi.channels.momo import services
from jigi.channels.momo.providers.base import TxStatus
from jigi.core.errors import ApplicationError
from jigi.credit.models import LoanTransaction
from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify, unbalanced_entries
from jigi.savings.models import SavingsTransaction
from tests.channels.momo_helpers import sim, split_notif_url  # noqa: F401
from tests.credit.conftest import balances, credit, today  # noqa: F401
from tests.credit.test_operations import active


def ask(world, credit, order_id="ORD-1", amount=5_000, purpose="savings_deposit", target=None,  # noqa: F811
        user="teller_a"):
    return services.payment_request(
        acting_user=world.users[user], purpose=purpose,
        target_id=target if target is not None else credit.account.pk, amount=amount,
        order_id=order_id)


def deliver(sim, order_id, index=0):  # noqa: F811
    url, payload = sim.callbacks_for(order_id)[index]
    _path, oid, sig = split_notif_url(url)
    return services.callback_receive(provider="simulator", order_id=oid, payload=payload,
                                     signature=sig)


def deposits(account):
    return list(SavingsTransaction.objects.filter(account=account, kind="deposit",
                                                  description__contains="ORD"))


def books_ok(world):
    book = Book.objects.get(unit=world.caisse_a)
    assert unbalanced_entries(book) == []
    assert ledger_verify(book) == []


def test_request_stores_the_provider_answer_and_is_pending(world, credit, sim):  # noqa: F811
    p = ask(world, credit)
    assert p.status == PaymentStatus.PENDING
    assert p.pay_token
    assert p.notif_token == sim.server.state.txs["ORD-1"].notif_token
    assert p.phone == credit.person.phone
    assert p.unit_id == world.caisse_a.pk


def test_a_retry_returns_the_same_payment_and_other_content_is_409(world, credit, sim):  # noqa: F811
    first = ask(world, credit)
    again = ask(world, credit)
    assert again.pk == first.pk
    assert len(sim.server.state.txs) == 1
    with pytest.raises(ApplicationError) as err:
        ask(world, credit, amount=6_000)
    assert err.value.status_code == 409
    assert err.value.code == "order_id_reused"


def test_callback_twice_posts_once(world, credit, sim):  # noqa: F811
    before = balances(world)
    ask(world, credit)
    sim.server.settle("ORD-1", callbacks=2)
    first, second = deliver(sim, "ORD-1", 0), deliver(sim, "ORD-1", 1)
    assert (first.outcome, second.outcome) == ("applied", "duplicate")
    assert first.verified
    p = MobileMoneyPayment.objects.get(order_id="ORD-1")
    assert p.status == PaymentStatus.SUCCEEDED
    assert p.provider_txn_id == sim.server.state.txs["ORD-1"].txnid
    assert p.posting_ref.startswith("savings.savingstransaction:")
    assert len(deposits(credit.account)) == 1
    credit.account.refresh_from_db()
    after = balances(world)
    assert after.get("12", 0) - before.get("12", 0) == 5_000
    assert after["251"] - before["251"] == 5_000
    books_ok(world)


def test_callback_never_comes_poll_finds_the_success(world, credit, sim):  # noqa: F811
    ask(world, credit)
    sim.server.settle("ORD-1", callbacks=0)
    # Too recent: not asked yet.
    assert services.payments_poll() == {}
    later = timezone.now() + timedelta(minutes=2)
    assert services.payments_poll(now=later) == {"applied": 1}
    assert MobileMoneyPayment.objects.get(order_id="ORD-1").status == PaymentStatus.SUCCEEDED
    # The late callback after the poll changes nothing.
    sim.server.send_callback("ORD-1")
    assert deliver(sim, "ORD-1").outcome == "duplicate"
    assert len(deposits(credit.account)) == 1


def test_pending_payments_stay_pending_then_expire(world, credit, sim):  # noqa: F811
    ask(world, credit)
    assert services.payments_poll(now=timezone.now() + timedelta(minutes=2)) == {"pending": 1}
    assert services.payments_poll(now=timezone.now() + timedelta(hours=2)) == {"applied": 1}
    assert MobileMoneyPayment.objects.get(order_id="ORD-1").status == PaymentStatus.EXPIRED


def test_callback_before_the_request_returned(world, credit, sim, monkeypatch):  # noqa: F811
    # The provider settles and calls back while our request is still waiting for its answer:
    # the row exists (committed before the call) but has no notif_token yet.
    real_webpayment = services._call_provider

    def racing(payment):
        # Make the provider answer, settle and call back, then store the answer.
        from jigi.channels.momo import providers

        notif, back, cancel = services._urls(payment.order_id)
        answer = providers.get_provider().request_payment(
            order_id=payment.order_id, amount=payment.amount, reference=payment.order_id,
            lang="fr", notif_url=notif, return_url=back, cancel_url=cancel)
        sim.server.settle(payment.order_id, callbacks=0)
        payload = sim.server.callback_payload(payment.order_id)
        _path, oid, sig = split_notif_url(notif)
        early = services.callback_receive(provider="simulator", order_id=oid, payload=payload,
                                          signature=sig)
        assert early.outcome == "early"
        assert MobileMoneyPayment.objects.get(pk=payment.pk).status == PaymentStatus.INITIATED

        real = providers.get_provider()

        class Stub:
            def request_payment(self, **kw):
                return answer

            def parse_callback(self, data):
                return real.parse_callback(data)

        providers.use_provider(Stub())  # type: ignore[arg-type]
        try:
            return real_webpayment(payment)
        finally:
            providers.use_provider(None)

    monkeypatch.setattr(services, "_call_provider", racing)
    p = ask(world, credit)
    assert p.status == PaymentStatus.SUCCEEDED
    cb = ProviderCallback.objects.get(order_id="ORD-1")
    assert (cb.outcome, cb.verified) == ("applied", True)
    assert len(deposits(credit.account)) == 1


def test_forged_callback_is_rejected_and_posts_nothing(world, credit, sim):  # noqa: F811
    p = ask(world, credit)
    sim.server.settle("ORD-1", callbacks=0)
    forged = {"status": "SUCCESS", "notif_token": "forged", "txnid": "X"}
    cb = services.callback_receive(provider="simulator", order_id="ORD-1", payload=forged,
                                   signature=services.callback_signature("ORD-1"))
    assert cb.outcome == "rejected"
    assert not cb.verified
    p.refresh_from_db()
    assert p.status == PaymentStatus.PENDING
    assert deposits(credit.account) == []
    unknown = services.callback_receive(provider="simulator", order_id="NOPE", payload=forged)
    assert unknown.outcome == "unknown"


def test_failure_is_recorded_and_a_later_success_callback_cannot_be_forged(world, credit, sim):  # noqa: F811
    ask(world, credit)
    sim.server.settle("ORD-1", outcome="FAILED")
    assert deliver(sim, "ORD-1").outcome == "applied"
    p = MobileMoneyPayment.objects.get(order_id="ORD-1")
    assert (p.status, p.failure_reason) == (PaymentStatus.FAILED, "failed")
    assert deposits(credit.account) == []


def test_late_success_after_expiry_is_applied(world, credit, sim):  # noqa: F811
    ask(world, credit)
    services.payments_poll(now=timezone.now() + timedelta(hours=2))
    sim.server.state.txs["ORD-1"].status = "PENDING"  # the member paid at the last second
    sim.server.settle("ORD-1")
    assert deliver(sim, "ORD-1").outcome == "late"
    p = MobileMoneyPayment.objects.get(order_id="ORD-1")
    assert p.status == PaymentStatus.SUCCEEDED
    assert len(deposits(credit.account)) == 1


def test_another_amount_is_refused_and_parked_in_suspense(world, credit, sim,  # noqa: F811
                                                          django_capture_on_commit_callbacks):
    before = balances(world)
    ask(world, credit)
    sim.server.settle("ORD-1", callbacks=0, paid_amount=4_000)
    assert services.payments_poll(now=timezone.now() + timedelta(minutes=2)) == {"suspense": 1}
    p = MobileMoneyPayment.objects.get(order_id="ORD-1")
    assert p.status == PaymentStatus.FAILED
    assert p.failure_reason.startswith("amount_mismatch")
    assert deposits(credit.account) == []
    after = balances(world)
    assert after.get("12", 0) - before.get("12", 0) == 4_000
    assert after.get("372", 0) - before.get("372", 0) == 4_000
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_create(acting_user=world.users["manager_a"], payment=p)
    refund.refresh_from_db()
    assert refund.amount == 4_000
    assert refund.status == "done"  # the simulator confirmed it after commit
    assert sim.server.state.refunds[0]["amount"] == 4_000
    p.refresh_from_db()
    assert p.status == PaymentStatus.REFUNDED
    final = balances(world)
    assert final.get("12", 0) == before.get("12", 0)
    assert final.get("372", 0) == before.get("372", 0)
    with pytest.raises(ApplicationError) as err:
        services.refund_create(acting_user=world.users["manager_a"], payment=p)
    assert err.value.status_code == 409
    books_ok(world)


def test_loan_repayment_by_mobile_money_posts_the_repayment_once(world, credit, sim):  # noqa: F811
    loan = active(world, credit)
    before = balances(world)
    p = ask(world, credit, purpose="loan_repayment", target=loan.pk, amount=20_000,
            user="loan_officer_a")
    sim.server.settle(p.order_id, callbacks=2)
    assert [deliver(sim, p.order_id, i).outcome for i in (0, 1)] == ["applied", "duplicate"]
    txs = LoanTransaction.objects.filter(loan=loan, channel="mobile_money")
    assert txs.count() == 1
    assert txs[0].amount == 20_000
    p.refresh_from_db()
    assert p.posting_ref == f"credit.loantransaction:{txs[0].pk}"
    assert balances(world).get("12", 0) - before.get("12", 0) == 20_000
    books_ok(world)


def test_a_target_that_refuses_the_money_sends_it_to_suspense(world, credit, sim):  # noqa: F811
    loan = active(world, credit)
    p = ask(world, credit, purpose="loan_repayment", target=loan.pk, amount=20_000)
    type(loan).objects.filter(pk=loan.pk).update(status="closed")
    sim.server.settle(p.order_id)
    assert deliver(sim, p.order_id).outcome == "suspense"
    p.refresh_from_db()
    assert p.status == PaymentStatus.FAILED
    assert p.failure_reason.startswith("target_refused")
    assert not LoanTransaction.objects.filter(loan=loan, channel="mobile_money").exists()
    books_ok(world)


def test_confirm_is_forward_only(world, credit, sim):  # noqa: F811
    p = ask(world, credit)
    sim.server.settle("ORD-1")
    deliver(sim, "ORD-1")
    assert services._confirm(p.pk, TxStatus("FAILED"), source="test") == "duplicate"
    assert MobileMoneyPayment.objects.get(pk=p.pk).status == PaymentStatus.SUCCEEDED


def test_refusals_outside_scope_404_wrong_role_403(world, credit, sim):  # noqa: F811
    with pytest.raises(ApplicationError) as err:
        ask(world, credit, user="teller_b")
    assert err.value.status_code == 404
    with pytest.raises(ApplicationError) as err:
        ask(world, credit, user="auditor")
    assert err.value.status_code in (403, 404)
    with pytest.raises(ApplicationError) as err:
        ask(world, credit, purpose="other")
    assert err.value.status_code == 422
    assert not MobileMoneyPayment.objects.exists()


def test_invalid_input_is_422_and_writes_nothing(world, credit, sim):  # noqa: F811
    for kwargs in ({"amount": 0}, {"amount": 1.5}, {"order_id": "a b"}, {"order_id": ""}):
        with pytest.raises(ApplicationError) as err:
            ask(world, credit, **kwargs)
        assert err.value.status_code == 422
    assert not MobileMoneyPayment.objects.exists()


def test_unreachable_provider_keeps_the_row_and_a_retry_completes(world, credit, sim, settings):  # noqa: F811
    url = settings.JIGI_MOMO["base_url"]
    settings.JIGI_MOMO = {**settings.JIGI_MOMO, "base_url": "http://127.0.0.1:9", "timeout": 2}
    with pytest.raises(ApplicationError) as err:
        ask(world, credit)
    assert err.value.status_code == 502
    p = MobileMoneyPayment.objects.get(order_id="ORD-1")
    assert p.status == PaymentStatus.INITIATED
    settings.JIGI_MOMO = {**settings.JIGI_MOMO, "base_url": url}
    assert ask(world, credit).status == PaymentStatus.PENDING


# Every distinct order of two callbacks, a poll and a statement import (12).
ORDERS = sorted(set(permutations(["callback", "callback", "poll", "statement"])))


@pytest.mark.parametrize("order", ORDERS)
def test_any_order_of_confirmations_posts_exactly_once(world, credit, sim, order):  # noqa: F811
    before = balances(world)
    p = ask(world, credit)
    sim.server.settle("ORD-1", callbacks=2)
    callbacks = iter(range(2))
    for event in order:
        if event == "callback":
            deliver(sim, "ORD-1", next(callbacks))
        elif event == "poll":
            services.payment_poll(MobileMoneyPayment.objects.get(pk=p.pk))
        else:
            services.statement_import(
                acting_user=world.users["manager_a"], provider="simulator", unit=world.caisse_a,
                rows=sim.server.statement(timezone.now().date().isoformat()))
    p.refresh_from_db()
    assert p.status == PaymentStatus.SUCCEEDED
    assert p.version == 2  # pending, then succeeded: once
    assert len(deposits(credit.account)) == 1
    assert balances(world).get("12", 0) - before.get("12", 0) == 5_000
    books_ok(world)
