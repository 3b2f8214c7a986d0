"""A savings deposit collected by mobile money (channels.momo), made INSIDE the caller's
transaction: the payment's confirmation and the deposit commit or roll back together.

The caisse's electronic-money account (12) is debited and the member's deposits (251, the
account number as subledger) credited, in one balanced entry shared by the savings row. Roles
were checked when the collection was requested; no drawer moves (no cash). The deposit gets a
receipt numbered per caisse and year, and an opted-in member its SMS (services.sms).
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext

from jigi.core.audit import audit_log
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.savings.models import Direction, ProductKind, SavingsTransaction, TxKind
from jigi.savings.services import sms
from jigi.savings.services._common import book_of, conflict, issue_receipt, lock_account
from jigi.savings.services.loan_link import move_for_loan
from jigi.savings.services.sms import receipt_sms_queue

MOBILE_MONEY = "12"
FIELD_CASH = "102"  # caisses: cash a loan officer holds, subledger "field:<username>"
DEPOSITS = "251"


def deposit_in_transaction(*, acting_user, account_id: int, amount: int, on: date,
                           reference: str, channel: str = "mobile_money") -> SavingsTransaction:
    """Credit a voluntary savings account with money received by mobile money.

    `channel="field"`: cash a loan officer collected at a group meeting (channels.field sync),
    debited to the cash account 102 under the subledger "field:<username>" (cash held by the
    officer until she hands it in) instead of the electronic-money account."""
    acc = lock_account(account_id)
    if acc.product.kind != ProductKind.VOLUNTARY:
        raise conflict("account_not_usable",
                       gettext("Mobile money pays into a voluntary savings account."), "account")
    if channel == "field":
        description = gettext("Field collection deposit %(ref)s") % {"ref": reference}
        debit = LineSpec(FIELD_CASH, "D", amount, f"field:{acting_user.username}"[:64])
        source_type = event_type = "savings.field_deposit"
    else:
        description = gettext("Mobile money deposit %(ref)s") % {"ref": reference}
        debit = LineSpec(MOBILE_MONEY, "D", amount)
        source_type = event_type = "savings.momo_deposit"
    entry = entry_post(book=book_of(acc.caisse), value_date=on, acting_user=acting_user,
                       audit=False, source_type=source_type, source_id=reference,
                       description=description[:255],
                       lines=[debit, LineSpec(DEPOSITS, "C", amount, acc.number)])
    tx = move_for_loan(account_id=acc.pk, direction=Direction.CREDIT, amount=amount, on=on,
                       user=acting_user, entry=entry, kind=TxKind.DEPOSIT,
                       description=description)
    # Numbered like a deposit at the counter (a loan repaid by mobile money gets one too): the
    # member's SMS and the caisse's receipt page carry the same number.
    moved = tx.account
    rec = issue_receipt(caisse=acc.caisse, kind=TxKind.DEPOSIT, amount=amount, user=acting_user,
                        on=on, person_id=acc.person_id, account_number=acc.number,
                        balance_after=tx.balance_after, description=description)
    tx.receipt_year, tx.receipt_number = rec.year, rec.number
    SavingsTransaction.objects.filter(pk=tx.pk).update(receipt_year=rec.year,
                                                       receipt_number=rec.number)
    receipt_sms_queue(kind=sms.DEPOSIT, account=moved, tx=tx, receipt=str(rec))
    audit_log(actor=acting_user, event_type=event_type, subject=tx,
              after={"account": acc.number, "amount": amount, "reference": reference,
                     "receipt": str(rec)},
              unit=acc.caisse)
    return tx
