"""Savings movements made by the credit module INSIDE its own transaction.

A loan disbursed to savings, a repayment taken from savings, compulsory savings blocked at
disbursement and released at closure, a guarantor's hold: each is one part of a credit
operation, so it must commit or roll back with the loan's rows and share the loan's journal
entry. These helpers therefore never open a transaction of their own (the public savings
services do, durably) and expect the caller to hold the account lock from `lock_account`.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.numbering import next_number
from jigi.ledger.models import JournalEntry
from jigi.savings.models import (
    AccountStatus,
    Direction,
    Hold,
    ProductKind,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    TxKind,
)
from jigi.savings.services._common import conflict, lock_account
from jigi.savings.services.counter import _check_credit, _check_debit, _move, _save


def voluntary_account(person_id: int, caisse_id: int) -> SavingsAccount | None:
    """The member's first open voluntary savings account at the caisse."""
    return SavingsAccount.objects.filter(
        person_id=person_id, caisse_id=caisse_id, product__kind=ProductKind.VOLUNTARY,
        status__in=[AccountStatus.ACTIVE, AccountStatus.DORMANT]).order_by("pk").first()


def guarantee_account_open(*, person, caisse, loan_number: str, on: date) -> SavingsAccount:
    """Open the blocked guarantee savings account (épargne nantie) of one loan."""
    product = SavingsProduct.objects.filter(organisation_id=caisse.organisation_id,
                                            kind=ProductKind.GUARANTEE, active=True
                                            ).order_by("pk").first()
    if product is None:
        raise conflict("no_guarantee_product",
                       _("The network has no guarantee savings product."), "product")
    n = next_number(f"savings-account:{caisse.pk}", 0)
    return SavingsAccount.objects.create(
        number=f"{caisse.code}-{product.code}-{n:06d}", product=product, caisse=caisse,
        person=person, opened_on=on, last_activity_on=on, loan_reference=loan_number[:64])


def move_for_loan(*, account_id: int, direction: str, amount: int, on: date, user,
                  entry: JournalEntry, description: str, kind: str = TxKind.TRANSFER,
                  check: bool = True) -> SavingsTransaction:
    """Move a savings account by `amount` as part of a loan operation posted in `entry`.

    A debit is checked like a withdrawal (balance, holds, minimum, blocked) unless `check` is
    False: releasing or applying guarantee savings, which a withdrawal may never touch.
    """
    acc = lock_account(account_id)
    if direction == Direction.DEBIT:
        if check:
            _check_debit(acc, amount, 0)
        elif amount > acc.balance:
            raise conflict("insufficient_balance",
                           _("The guarantee holds less than this amount."), "amount")
    else:
        _check_credit(acc)
    tx = SavingsTransaction(
        account=acc, kind=kind, direction=direction, amount=amount, value_date=on,
        description=description[:200], journal_entry=entry, created_by=user,
        approved_by=user, approved_at=timezone.now())
    _move(acc, tx)
    _save(tx)
    return tx


def guarantor_hold(*, account: SavingsAccount, amount: int, reason: str, user) -> Hold:
    acc = lock_account(account.pk)
    _check_debit(acc, amount, 0)  # the pledged amount must be there, free, now
    return Hold.objects.create(account=acc, amount=amount, reason=reason[:200],
                               created_by=user)


def hold_release_in_tx(hold: Hold, user) -> None:
    Hold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
        released_at=timezone.now(), released_by=user)


def close_if_empty(account_id: int, on: date) -> None:
    SavingsAccount.objects.filter(pk=account_id, balance=0).exclude(
        status=AccountStatus.CLOSED).update(status=AccountStatus.CLOSED, closed_on=on)
