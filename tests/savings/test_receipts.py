"""SMS receipts of savings deposits and withdrawals (savings.services.sms): queued in the
operation's own transaction for opted-in members only, in their language, with the receipt
number, the amount and the balance; nothing for a refused or rolled-back operation, a pending
one, a reversal or a replayed API call; the mobile-money and field deposits queue one too."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction

from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.channels.momo import services as momo
from jigi.core.errors import ApplicationError
from jigi.people.models import Person
from jigi.savings.models import Receipt, SavingsTransaction
from jigi.savings.services import (
    savings_account_block,
    savings_account_close,
    savings_account_open,
    savings_deposit,
    savings_transaction_approve,
    savings_transaction_reverse,
    savings_withdraw,
)
from jigi.savings.services._common import lock_account
from jigi.savings.services.momo_link import deposit_in_transaction
from tests.channels.momo_helpers import sim, split_notif_url  # noqa: F401
from tests.savings.conftest import TODAY, make_member

PHONE = "+22376543210"


def _opt(person: Person, opt_in: bool | None, language: str = "fr", phone: str = PHONE
         ) -> Person:
    Person.objects.filter(pk=person.pk).update(phone=phone)
    if opt_in is not None:
        SmsPreference.objects.update_or_create(person=person, defaults={
            "opt_in": opt_in, "language": language})
    return person


def _sms(kind: str) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(purpose=kind).order_by("pk"))


def _deposit(world, counter, amount=15_000, user="teller_a", **kw):
    return savings_deposit(acting_user=world.users[user], account=counter.account,
                           amount=amount, on=TODAY, **kw)


def _withdraw(world, counter, amount=5_000, user="teller_a", **kw):
    return savings_withdraw(acting_user=world.users[user], account=counter.account,
                            amount=amount, on=TODAY, **kw)


# --- deposits at the counter ------------------------------------------------------------------


def test_an_opted_in_member_gets_one_receipt_per_deposit(world, counter):
    _opt(counter.person, True)
    op = _deposit(world, counter, 125_000)
    msgs = _sms("deposit_receipt")
    assert len(msgs) == 1
    m = msgs[0]
    assert (m.person_id, m.phone, m.language, m.status) == (counter.person.pk, PHONE, "fr",
                                                            "queued")
    assert (m.organisation_id, m.unit_id) == (world.orgs.kondo.pk, world.caisse_a.pk)
    assert m.ref == f"savings.savingstransaction:{op.transaction.pk}"
    assert m.text == (f"Kondo Jigima: versement de 125 000 F enregistré le 20/11/2026. "
                      f"Solde: 125 000 F. Ref {op.receipt}")
    assert (m.encoding, m.parts) == ("gsm7", 1)


def test_the_receipt_carries_the_new_balance_and_the_members_language(world, counter):
    _opt(counter.person, True, "bm")
    _deposit(world, counter, 15_000)
    second = _deposit(world, counter, 2_500)
    msgs = _sms("deposit_receipt")
    assert len(msgs) == 2
    assert msgs[1].language == "bm"
    assert msgs[1].text == (f"Kondo Jigima: i ye 2 500 F bila 20/11/2026. I ka wari: "
                            f"17 500 F. Ref {second.receipt}")


@pytest.mark.parametrize("choice", [False, None])
def test_a_member_who_said_no_or_never_chose_gets_none(world, counter, choice):
    _opt(counter.person, choice)
    op = _deposit(world, counter)
    assert op.receipt is not None
    assert _sms("deposit_receipt") == []


def test_a_member_without_a_phone_gets_none(world, counter):
    _opt(counter.person, True, phone="")
    _deposit(world, counter)
    assert OutboundMessage.objects.count() == 0


def test_the_opt_in_is_read_with_the_accounts_lock(world, counter):
    with transaction.atomic():
        assert lock_account(counter.account.pk).sms_opt_in is None
    _opt(counter.person, False)
    with transaction.atomic():
        assert lock_account(counter.account.pk).sms_opt_in is False
    _opt(counter.person, True)
    with transaction.atomic():
        assert lock_account(counter.account.pk).sms_opt_in is True


def test_a_refused_deposit_leaves_no_message(world, counter):
    _opt(counter.person, True)
    with pytest.raises(ApplicationError) as exc:
        _deposit(world, counter, amount="12.5")
    assert exc.value.status_code == 422
    savings_account_block(acting_user=world.users["manager_a"], account=counter.account,
                          reason="Litige")
    with pytest.raises(ApplicationError) as exc:
        _deposit(world, counter)
    assert exc.value.code == "account_blocked"
    assert OutboundMessage.objects.count() == 0
    assert SavingsTransaction.objects.filter(kind="deposit").count() == 0


def test_a_deposit_rolled_back_after_its_message_leaves_no_message(world, counter):
    _opt(counter.person, True)
    # The audit row is the service's last write, after the message: it fails, all rolls back.
    with mock.patch("jigi.savings.services.counter.finish",
                    side_effect=RuntimeError("boom")), pytest.raises(RuntimeError):
        _deposit(world, counter)
    assert OutboundMessage.objects.count() == 0
    assert Receipt.objects.filter(kind="deposit").count() == 0
    counter.account.refresh_from_db()
    assert counter.account.balance == 0


def test_a_pending_deposit_queues_nothing_until_approved(world, counter):
    _opt(counter.person, True)
    op = _deposit(world, counter, 600_000)  # above the teller's approval threshold
    assert op.pending
    assert _sms("deposit_receipt") == []
    posted = savings_transaction_approve(acting_user=world.users["manager_a"],
                                         tx=op.transaction)
    msgs = _sms("deposit_receipt")
    assert len(msgs) == 1
    assert "versement de 600 000 F" in msgs[0].text
    assert msgs[0].text.endswith(f"Solde: 600 000 F. Ref {posted.receipt}")


def test_a_reversal_queues_nothing(world, counter):
    _opt(counter.person, True)
    op = _deposit(world, counter, 40_000)
    savings_transaction_reverse(acting_user=world.users["manager_a"], tx=op.transaction,
                                reason="Montant saisi deux fois")
    assert OutboundMessage.objects.count() == 1  # the deposit's own receipt only


def test_a_group_account_queues_nothing(world, counter):
    a = make_member(world, counter, first_name="Kadiatou", last_name="Traoré")[0]
    group = savings_account_open(acting_user=world.users["teller_a"],
                                 product=counter.products["GRP"], caisse=world.caisse_a,
                                 group_name="Groupement Benkadi", signatories=[a],
                                 signatures_required=1, on=TODAY)
    _opt(a, True)
    savings_deposit(acting_user=world.users["teller_a"], account=group, amount=10_000, on=TODAY)
    assert OutboundMessage.objects.count() == 0


# --- withdrawals ------------------------------------------------------------------------------


def test_an_opted_in_member_gets_a_withdrawal_receipt_with_the_balance_left(world, counter):
    _opt(counter.person, True, "en")
    _deposit(world, counter, 50_000)
    op = _withdraw(world, counter, 20_000)
    msgs = _sms("withdrawal_receipt")
    assert len(msgs) == 1
    m = msgs[0]
    assert (m.person_id, m.phone, m.language) == (counter.person.pk, PHONE, "en")
    assert m.unit_id == world.caisse_a.pk
    assert m.ref == f"savings.savingstransaction:{op.transaction.pk}"
    assert m.text == (f"Kondo Jigima: withdrawal of 20 000 F recorded on 20/11/2026. "
                      f"Balance: 30 000 F. Ref {op.receipt}")


def test_the_withdrawal_receipts_balance_is_after_the_fee(world, counter):
    _opt(counter.person, True)
    from jigi.savings.services import product_override_set

    product_override_set(acting_user=world.users["manager_a"], product=counter.products["EPV"],
                         caisse=world.caisse_a, values={"withdrawal_fee": 200})
    _deposit(world, counter, 50_000)
    op = _withdraw(world, counter, 20_000)
    assert op.fee is not None
    assert op.fee.amount == 200
    text = _sms("withdrawal_receipt")[0].text
    assert "retrait de 20 000 F" in text
    assert f"Solde: 29 800 F. Ref {op.receipt}" in text


@pytest.mark.parametrize("choice", [False, None])
def test_withdrawals_of_members_who_did_not_opt_in_queue_none(world, counter, choice):
    _opt(counter.person, choice)
    _deposit(world, counter, 50_000)
    _withdraw(world, counter, 20_000)
    assert OutboundMessage.objects.count() == 0


def test_a_refused_withdrawal_leaves_no_message(world, counter):
    _opt(counter.person, True)
    _deposit(world, counter, 10_000)
    with pytest.raises(ApplicationError) as exc:
        _withdraw(world, counter, 50_000)
    assert exc.value.code == "insufficient_balance"
    with pytest.raises(ApplicationError) as exc:
        _withdraw(world, counter, 0)
    assert exc.value.status_code == 422
    assert _sms("withdrawal_receipt") == []


def test_a_reversed_withdrawal_queues_nothing_more(world, counter):
    _opt(counter.person, True)
    _deposit(world, counter, 50_000)
    op = _withdraw(world, counter, 20_000)
    savings_transaction_reverse(acting_user=world.users["manager_a"], tx=op.transaction,
                                reason="Erreur de compte")
    assert len(_sms("withdrawal_receipt")) == 1
    assert len(_sms("deposit_receipt")) == 1


def test_the_balance_paid_out_at_closing_gets_a_withdrawal_receipt(world, counter):
    _opt(counter.person, True)
    _deposit(world, counter, 30_000)
    savings_account_close(acting_user=world.users["teller_a"], account=counter.account,
                          reason="Départ du village", pay_out=True, on=TODAY)
    text = _sms("withdrawal_receipt")[0].text
    assert "retrait de 30 000 F" in text
    assert "Solde: 0 F." in text


# --- the API: a replayed call queues no second message ----------------------------------------


def _post(c, account, what, body, key):
    return c.post(f"/api/v1/savings/accounts/{account.pk}/{what}", body,
                  content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_an_api_deposit_replayed_with_the_same_key_queues_one_message(world, counter,
                                                                       client_for):
    _opt(counter.person, True)
    c = client_for("teller_a")
    first = _post(c, counter.account, "deposits", {"amount": 15_000}, "dep-1")
    assert first.status_code == 201, first.content
    again = _post(c, counter.account, "deposits", {"amount": 15_000}, "dep-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    msgs = _sms("deposit_receipt")
    assert len(msgs) == 1
    assert f"Ref {first.json()['receipt']}" in msgs[0].text
    # A refused call (same key, other amount) queues nothing either.
    assert _post(c, counter.account, "deposits", {"amount": 16_000}, "dep-1").status_code == 409
    assert len(_sms("deposit_receipt")) == 1


def test_an_api_withdrawal_replayed_with_the_same_key_queues_one_message(world, counter,
                                                                          client_for):
    _opt(counter.person, True)
    _deposit(world, counter, 50_000)
    c = client_for("teller_a")
    first = _post(c, counter.account, "withdrawals", {"amount": 10_000}, "wd-1")
    assert first.status_code == 201, first.content
    assert _post(c, counter.account, "withdrawals", {"amount": 10_000}, "wd-1").json() \
        == first.json()
    msgs = _sms("withdrawal_receipt")
    assert len(msgs) == 1
    assert msgs[0].text.endswith(f"Solde: 40 000 F. Ref {first.json()['receipt']}")


# --- mobile money and field collection --------------------------------------------------------


def _in_transaction(world, counter, channel="mobile_money", reference="ORD-7"):
    with transaction.atomic():
        return deposit_in_transaction(acting_user=world.users["teller_a"],
                                      account_id=counter.account.pk, amount=5_000, on=TODAY,
                                      reference=reference, channel=channel)


@pytest.mark.parametrize("channel", ["mobile_money", "field"])
def test_a_mobile_money_or_field_deposit_is_numbered_and_queues_one_receipt(world, counter,
                                                                            channel):
    _opt(counter.person, True)
    tx = _in_transaction(world, counter, channel)
    tx.refresh_from_db()
    rec = Receipt.objects.get(caisse=world.caisse_a, year=tx.receipt_year,
                              number=tx.receipt_number)
    assert (rec.kind, rec.amount, rec.balance_after, rec.person_id) == (
        "deposit", 5_000, 5_000, counter.person.pk)
    msgs = _sms("deposit_receipt")
    assert len(msgs) == 1
    assert msgs[0].ref == f"savings.savingstransaction:{tx.pk}"
    assert msgs[0].text == (f"Kondo Jigima: versement de 5 000 F enregistré le 20/11/2026. "
                            f"Solde: 5 000 F. Ref {rec}")


def test_a_mobile_money_deposit_of_a_member_not_opted_in_queues_none(world, counter):
    _opt(counter.person, None)
    tx = _in_transaction(world, counter)
    assert tx.receipt_number is not None
    assert OutboundMessage.objects.count() == 0


def test_a_refused_mobile_money_deposit_leaves_no_receipt_and_no_message(world, counter):
    _opt(counter.person, True)
    savings_account_block(acting_user=world.users["manager_a"], account=counter.account,
                          reason="Litige")
    with pytest.raises(ApplicationError):
        _in_transaction(world, counter)
    assert OutboundMessage.objects.count() == 0
    assert Receipt.objects.filter(kind="deposit").count() == 0


def test_a_mobile_money_collection_confirmed_twice_queues_one_receipt(world, counter, sim):  # noqa: F811
    _opt(counter.person, True)
    momo.payment_request(acting_user=world.users["teller_a"], purpose="savings_deposit",
                         target_id=counter.account.pk, amount=5_000, order_id="ORD-1")
    sim.server.settle("ORD-1", callbacks=2)
    outcomes = []
    for url, payload in sim.callbacks_for("ORD-1"):
        _path, oid, sig = split_notif_url(url)
        outcomes.append(momo.callback_receive(provider="simulator", order_id=oid,
                                              payload=payload, signature=sig).outcome)
    assert outcomes == ["applied", "duplicate"]
    msgs = _sms("deposit_receipt")
    assert len(msgs) == 1
    assert "versement de 5 000 F" in msgs[0].text

