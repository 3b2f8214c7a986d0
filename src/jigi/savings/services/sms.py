"""SMS receipts of savings deposits and withdrawals (channels.receipts), queued inside the
operation's own transaction once its row and its numbered receipt exist: the message exists
exactly when the money movement does (a refused or rolled-back operation leaves none).

Queued for a cash deposit or withdrawal posted at the counter (also when a manager approves a
pending one, and the balance paid out at closing) and for a deposit by mobile money or collected
in the field. Nothing for a pending operation (no money moved yet), a reversal (as for loan
repayments), a transfer, interest or fees.

Cheap on the counter's hot path: `lock_account` reads the member's SMS opt-in in the statement
that locks the account (`SavingsAccount.sms_opt_in`), so for the many members who never said
yes the policy answers here and no further query runs. For an opted-in member
`payment_receipt_queue` reads her preference, phone and language and writes the message, with
the account's caisse as its unit (its staff read it in the outbox).
"""

from __future__ import annotations

from jigi.channels import policy
from jigi.channels.receipts import payment_receipt_queue
from jigi.savings.models import SavingsAccount, SavingsTransaction

DEPOSIT = "deposit_receipt"
WITHDRAWAL = "withdrawal_receipt"

_UNREAD = object()


def receipt_sms_queue(*, kind: str, account: SavingsAccount, tx: SavingsTransaction,
                      receipt: str) -> None:
    """Queue the `kind` receipt (DEPOSIT or WITHDRAWAL) of the posted `tx` to the account's
    holder, with the account's balance after the operation (and its fee). `account` is the
    locked row, its balance already moved."""
    if account.person_id is None:  # a group's account: no one member to tell
        return
    opted_in = getattr(account, "sms_opt_in", _UNREAD)
    if opted_in is not _UNREAD and not policy.may_send(kind, has_person=True,
                                                       opted_in=opted_in):
        return
    payment_receipt_queue(kind=kind, organisation_id=account.caisse.organisation_id,
                          person_id=account.person_id, unit_id=account.caisse_id,
                          amount=tx.amount, on=tx.value_date, receipt=receipt,
                          ref=f"savings.savingstransaction:{tx.pk}", balance=account.balance)
