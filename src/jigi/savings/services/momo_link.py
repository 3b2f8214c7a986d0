"""A savings deposit collected by mobile money (channels.momo), made INSIDE the caller's
transaction: the payment's confirmation and the deposit commit or roll back together.

The caisse's electronic-money account (12) is debited and the member's deposits (251, the
account number as subledger) credited, in one balanced entry shared by the savings row. Roles
were checked when the collection was requested; no drawer moves (no cash).
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext

from jigi.core.audit import audit_log
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.savings.models import Direction, ProductKind, SavingsTransaction, TxKind
from jigi.savings.services._common import book_of, conflict, lock_account
from jigi.savings.services.loan_link import move_for_loan

MOBILE_MONEY = "12"
DEPOSITS = "251"


def deposit_in_transaction(*, acting_user, account_id: int, amount: int, on: date,
                           reference: str) -> SavingsTransaction:
    """Credit a voluntary savings account with money received by mobile money."""
    acc = lock_account(account_id)
    if acc.product.kind != ProductKind.VOLUNTARY:
        raise conflict("account_not_usable",
                       gettext("Mobile money pays into a voluntary savings account."), "account")
    description = gettext("Mobile money deposit %(ref)s") % {"ref": reference}
    entry = entry_post(book=book_of(acc.caisse), value_date=on, acting_user=acting_user,
                       audit=False, source_type="savings.momo_deposit", source_id=reference,
                       description=description[:255],
                       lines=[LineSpec(MOBILE_MONEY, "D", amount),
                              LineSpec(DEPOSITS, "C", amount, acc.number)])
    tx = move_for_loan(account_id=acc.pk, direction=Direction.CREDIT, amount=amount, on=on,
                       user=acting_user, entry=entry, kind=TxKind.DEPOSIT,
                       description=description)
    audit_log(actor=acting_user, event_type="savings.momo_deposit", subject=tx,
              after={"account": acc.number, "amount": amount, "reference": reference},
              unit=acc.caisse)
    return tx
