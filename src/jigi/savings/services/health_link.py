"""Savings movements made by the health module INSIDE its own transaction.

A member of a UTM mutual who consented pays a contribution from his Kondo savings: the
withdrawal from his account and the contribution in the mutual's book are one operation, so
they commit or roll back together. Like `loan_link`, these helpers never open a transaction of
their own (the public savings services are durable and cannot be nested).

The caisse's side: the member's deposits (the product's account, 251 for voluntary savings)
are debited and 373 "virements à régler aux mutuelles de santé" credited: what the caisse owes
the mutual until it settles (the mutual's book holds the same amount in 52).
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post, entry_reverse
from jigi.savings.models import Direction, SavingsTransaction, TxKind, TxStatus
from jigi.savings.services._common import book_of, conflict, lock_account
from jigi.savings.services.counter import _check_credit, _check_debit, _move, _save

HEALTH_TRANSFERS = "373"


def pay_out_for_health(*, account_id: int, amount: int, on: date, user, payee: str,
                       reference: str, description: str) -> SavingsTransaction:
    """Withdraw `amount` from the member's account for the mutual `payee` (its code), checked
    like a withdrawal (status, holds, minimum balance: 409 insufficient_balance), with its own
    entry in the caisse's book. `reference` is the mutual's receipt number."""
    acc = lock_account(account_id)
    _check_debit(acc, amount, 0)
    entry = entry_post(
        book=book_of(acc.caisse), value_date=on, acting_user=user, audit=False,
        lines=[LineSpec(acc.product.gl_account, "D", amount, acc.number),
               LineSpec(HEALTH_TRANSFERS, "C", amount, payee)],
        description=description[:255], source_type="savings.health", source_id=reference)
    tx = SavingsTransaction(
        account=acc, kind=TxKind.TRANSFER, direction=Direction.DEBIT, amount=amount,
        value_date=on, description=description[:200], journal_entry=entry, created_by=user,
        approved_by=user, approved_at=timezone.now())
    _move(acc, tx)
    _save(tx)
    audit_log(actor=user, event_type="savings.health_transfer", subject=tx,
              after={"account": acc.number, "amount": amount, "mutual": payee,
                     "receipt": reference}, unit=acc.caisse)
    return tx


def refund_from_health(*, transaction_id: int, on: date, user, reason: str
                       ) -> SavingsTransaction:
    """Give back a contribution paid from savings (the mutual reversed it): the caisse's entry
    reversed and the member's account credited; the original row is marked reversed."""
    original = SavingsTransaction.objects.select_for_update().get(pk=transaction_id)
    if original.status != TxStatus.POSTED:
        raise conflict("not_reversible", _("Only a posted operation can be reversed."))
    acc = lock_account(original.account_id)
    _check_credit(acc)
    entry = entry_reverse(entry=original.journal_entry, reason=reason, acting_user=user,
                          value_date=on)
    tx = SavingsTransaction(
        account=acc, kind=TxKind.REVERSAL, direction=Direction.CREDIT, amount=original.amount,
        value_date=on, reversal_of=original, journal_entry=entry,
        description=f"{gettext('Reversal')}: {reason}"[:200], reason=reason[:200],
        created_by=user, approved_by=user, approved_at=timezone.now())
    _move(acc, tx, activity=False)
    _save(tx)
    original.status = TxStatus.REVERSED
    original.save(update_fields=["status"])
    return tx
