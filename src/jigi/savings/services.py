"""Teller operations, shares, drawers and interest. Every money movement posts its ledger entry
in the same transaction, locks the account row first, and writes one audit row.

Transactions: these services use plain `transaction.atomic()` so that an API call can wrap one
in its idempotency transaction and a batch (interest, a group collection sheet) can hold many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.core.money import MoneyError, to_francs
from jigi.core.numbering import next_number
from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post, entry_reverse
from jigi.orgs.models import Role, Unit
from jigi.orgs.scoping import user_scope
from jigi.savings.interest import daily_balance_interest, period_bounds
from jigi.savings.models import (
    CREDIT_KINDS,
    DENOMINATIONS,
    AccountStatus,
    CaisseDay,
    DrawerSession,
    DrawerStatus,
    Hold,
    InterestPosting,
    ProductKind,
    ProductOverride,
    Receipt,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    ShareAccount,
    ShareProduct,
    ShareTransaction,
    Signatory,
    TxKind,
    TxStatus,
)

VAULT = "101"
DRAWER = "102"
SUSPENSE = "371"
FEES = "7029"
SHARE_CAPITAL = "57"
INTEREST_EXPENSE = "6025"
MANAGER_ROLES = {Role.CAISSE_MANAGER.value, Role.NETWORK_ADMIN.value}
COUNTER_ROLES = {Role.TELLER.value} | MANAGER_ROLES

_MONEY_MESSAGES = {
    "zero": _("The amount must be more than zero."),
    "negative": _("The amount must be more than zero."),
    "fractional_franc": _("Whole francs only: the franc CFA has no cents."),
    "float_not_allowed": _("Whole francs only: the franc CFA has no cents."),
    "too_large": _("This amount is not plausible."),
    "not_a_number": _("Enter an amount in francs CFA."),
}
# No single counter operation of a rural caisse comes near this; above it is a typing error.
MAX_OPERATION = 1_000_000_000


def clean_amount(value, field: str = "amount") -> int:
    try:
        amount = to_francs(value)
    except MoneyError as exc:
        raise ApplicationError("invalid_amount", _("Some fields are not valid."),
                               {field: _MONEY_MESSAGES.get(str(exc), _MONEY_MESSAGES["not_a_number"])},
                               status_code=422) from None
    if amount > MAX_OPERATION:
        raise ApplicationError("invalid_amount", _("Some fields are not valid."),
                               {field: _MONEY_MESSAGES["too_large"]}, status_code=422)
    return amount


_book_ids: dict[int, Book] = {}


def _book(caisse: Unit) -> Book:
    # A caisse's book never changes once opened: cache it per process (hot path).
    book = _book_ids.get(caisse.pk)
    if book is None:
        book = _book_ids[caisse.pk] = Book.objects.select_related("organisation").get(unit=caisse)
    return book


def _require_counter(user, caisse: Unit, roles: set[str] = COUNTER_ROLES) -> None:
    scope = user_scope(user)
    if not scope.covers_unit(caisse, write=True, roles=roles):
        if scope.covers_unit(caisse):
            raise Forbidden("forbidden", _("Your role does not allow this operation."))
        raise NotFound("account_not_found", _("Account not found."))


def _is_manager(user, caisse: Unit) -> bool:
    return user_scope(user).covers_unit(caisse, write=True, roles=MANAGER_ROLES)


def setting(account: SavingsAccount, name: str):
    """A product setting with the caisse's override when it has one."""
    override = ProductOverride.objects.filter(product_id=account.product_id,
                                              caisse_id=account.caisse_id).first()
    value = getattr(override, name, None) if override else None
    return getattr(account.product, name) if value is None else value


def _receipt(*, caisse: Unit, kind: str, amount: int, user, person=None, account_number="",
             balance_after=None, description="", on: date) -> Receipt:
    number = next_number(f"receipt:{caisse.pk}", on.year)
    return Receipt.objects.create(
        caisse=caisse, year=on.year, number=number, kind=kind, amount=amount, issued_by=user,
        person=person, account_number=account_number, balance_after=balance_after,
        description=description[:200],
    )


def _open_drawer(user, caisse: Unit) -> DrawerSession:
    drawer = DrawerSession.objects.select_for_update().filter(
        teller=user, caisse=caisse, status=DrawerStatus.OPEN).first()
    if drawer is None:
        raise ApplicationError("drawer_closed",
                               _("Open your cash drawer before taking or giving cash."),
                               {"drawer": _("No open drawer.")}, status_code=409)
    return drawer


def _lock(account_id: int) -> SavingsAccount:
    # Lock only the account row: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join that select_related("person") needs (group accounts have no person).
    return SavingsAccount.objects.select_for_update(of=("self",)).select_related(
        "product", "caisse", "person").get(pk=account_id)


def _check_usable(account: SavingsAccount, *, for_debit: bool) -> None:
    if account.status == AccountStatus.CLOSED:
        raise ApplicationError("account_closed", _("This account is closed."),
                               {"account": _("This account is closed.")}, status_code=409)
    if account.status == AccountStatus.BLOCKED and for_debit:
        raise ApplicationError("account_blocked",
                               _("This account is blocked: %(reason)s") % {
                                   "reason": account.block_reason or "—"},
                               {"account": _("This account is blocked.")}, status_code=409)


@dataclass(frozen=True)
class Operation:
    transaction: SavingsTransaction
    receipt: Receipt | None


# --- accounts -------------------------------------------------------------------------------

def savings_account_open(*, acting_user, product: SavingsProduct, caisse: Unit, person=None,
                         group_name: str = "", signatories=(), signatures_required: int = 1,
                         on: date | None = None, maturity_on: date | None = None,
                         renew_at_maturity: bool = False, loan_reference: str = ""
                         ) -> SavingsAccount:
    _require_counter(acting_user, caisse)
    on = on or timezone.localdate()
    if product.organisation_id != caisse.organisation_id or not product.active:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"product": _("This product is not offered here.")},
                               status_code=422)
    if product.kind == ProductKind.GROUP:
        if not group_name.strip() or not signatories:
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {"signatories": _("A group account needs a name and its "
                                                     "signatories.")}, status_code=422)
        if not 1 <= signatures_required <= len(signatories):
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {"signatures_required": _("Between 1 and the number of "
                                                             "signatories.")}, status_code=422)
    elif person is None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"person": _("Choose the account holder.")}, status_code=422)
    with transaction.atomic():
        n = next_number(f"savings-account:{caisse.pk}", 0)
        account = SavingsAccount.objects.create(
            number=f"{caisse.code}-{product.code}-{n:06d}", product=product, caisse=caisse,
            person=person, group_name=group_name.strip(),
            signatures_required=signatures_required if product.kind == ProductKind.GROUP else 1,
            opened_on=on, last_activity_on=on, maturity_on=maturity_on,
            renew_at_maturity=renew_at_maturity, loan_reference=loan_reference,
            status=AccountStatus.BLOCKED if product.kind == ProductKind.GUARANTEE
            else AccountStatus.ACTIVE,
            block_reason=str(_("Guarantee of loan %(ref)s") % {"ref": loan_reference})
            if product.kind == ProductKind.GUARANTEE else "",
        )
        for sig in signatories:
            Signatory.objects.create(account=account, person=sig)
        audit_log(actor=acting_user, event_type="savings.account_opened", subject=account,
                  after={"number": account.number, "product": product.code,
                         "person": person.pk if person else None, "group": group_name},
                  organisation=caisse.organisation, unit=caisse)
    return account


def savings_account_close(*, acting_user, account: SavingsAccount, on: date | None = None
                          ) -> SavingsAccount:
    _require_counter(acting_user, account.caisse)
    with transaction.atomic():
        acc = _lock(account.pk)
        if acc.status == AccountStatus.CLOSED:
            raise ApplicationError("account_closed", _("This account is closed."), status_code=409)
        if acc.balance != 0:
            raise ApplicationError("balance_not_zero",
                                   _("Withdraw or transfer the balance before closing."),
                                   {"account": _("The balance must be zero.")}, status_code=409)
        acc.status = AccountStatus.CLOSED
        acc.closed_on = on or timezone.localdate()
        acc.save(update_fields=["status", "closed_on"])
        audit_log(actor=acting_user, event_type="savings.account_closed", subject=acc,
                  after={"closed_on": str(acc.closed_on)}, organisation=acc.caisse.organisation,
                  unit=acc.caisse)
    return acc


def savings_account_block(*, acting_user, account: SavingsAccount, reason: str
                          ) -> SavingsAccount:
    _require_counter(acting_user, account.caisse, MANAGER_ROLES)
    if not reason.strip():
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"reason": _("Say why the account is blocked.")}, status_code=422)
    with transaction.atomic():
        acc = _lock(account.pk)
        before = {"status": acc.status}
        acc.status, acc.block_reason = AccountStatus.BLOCKED, reason.strip()[:200]
        acc.save(update_fields=["status", "block_reason"])
        audit_log(actor=acting_user, event_type="savings.account_blocked", subject=acc,
                  before=before, after={"status": acc.status, "reason": acc.block_reason},
                  organisation=acc.caisse.organisation, unit=acc.caisse)
    return acc


def savings_account_unblock(*, acting_user, account: SavingsAccount) -> SavingsAccount:
    _require_counter(acting_user, account.caisse, MANAGER_ROLES)
    with transaction.atomic():
        acc = _lock(account.pk)
        if acc.status != AccountStatus.BLOCKED:
            raise ApplicationError("not_blocked", _("This account is not blocked."),
                                   status_code=409)
        acc.status, acc.block_reason = AccountStatus.ACTIVE, ""
        acc.save(update_fields=["status", "block_reason"])
        audit_log(actor=acting_user, event_type="savings.account_unblocked", subject=acc,
                  before={"status": AccountStatus.BLOCKED}, after={"status": acc.status},
                  organisation=acc.caisse.organisation, unit=acc.caisse)
    return acc


def hold_place(*, acting_user, account: SavingsAccount, amount, reason: str) -> Hold:
    _require_counter(acting_user, account.caisse, MANAGER_ROLES)
    value = clean_amount(amount)
    if not reason.strip():
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"reason": _("Say why the amount is held.")}, status_code=422)
    with transaction.atomic():
        acc = _lock(account.pk)
        hold = Hold.objects.create(account=acc, amount=value, reason=reason.strip()[:200],
                                   created_by=acting_user)
        audit_log(actor=acting_user, event_type="savings.hold_placed", subject=acc,
                  after={"hold": hold.pk, "amount": value, "reason": hold.reason},
                  organisation=acc.caisse.organisation, unit=acc.caisse)
    return hold


def hold_release(*, acting_user, hold: Hold) -> Hold:
    _require_counter(acting_user, hold.account.caisse, MANAGER_ROLES)
    with transaction.atomic():
        _lock(hold.account_id)
        h = Hold.objects.select_for_update().get(pk=hold.pk)
        if h.released_at:
            raise ApplicationError("hold_released", _("This hold is already released."),
                                   status_code=409)
        h.released_at = timezone.now()
        h.save(update_fields=["released_at"])
        audit_log(actor=acting_user, event_type="savings.hold_released", subject=h.account,
                  after={"hold": h.pk, "amount": h.amount},
                  organisation=h.account.caisse.organisation, unit=h.account.caisse)
    return h


def available_balance(account: SavingsAccount) -> int:
    held = Hold.objects.filter(account=account, released_at__isnull=True).aggregate(
        s=Sum("amount"))["s"] or 0
    return account.balance - held - int(setting(account, "min_balance"))


# --- counter operations ---------------------------------------------------------------------

def _post_movement(*, acc: SavingsAccount, kind: str, amount: int, user, on: date,
                   cash: bool, drawer: DrawerSession | None, description: str,
                   counterpart: SavingsAccount | None = None, extra_lines=(),
                   receipt: bool = True, status: str = TxStatus.POSTED) -> Operation:
    """Move the balance, post the ledger entry, issue the receipt and audit: one operation."""
    signed = amount if kind in CREDIT_KINDS else -amount
    tx = SavingsTransaction(account=acc, kind=kind, amount=amount, value_date=on, cash=cash,
                            drawer=drawer, description=description[:200], created_by=user,
                            counterpart=counterpart, status=status)
    rec = None
    if status == TxStatus.POSTED:
        SavingsAccount.objects.filter(pk=acc.pk).update(balance=F("balance") + signed,
                                                        last_activity_on=on)
        acc.balance += signed
        tx.balance_after = acc.balance
        gl = acc.product.gl_account
        if cash:
            lines = ([LineSpec(DRAWER, "D", amount), LineSpec(gl, "C", amount, acc.number)]
                     if signed > 0 else
                     [LineSpec(gl, "D", amount, acc.number), LineSpec(DRAWER, "C", amount)])
            DrawerSession.objects.filter(pk=drawer.pk).update(
                **({"cash_in": F("cash_in") + amount} if signed > 0
                   else {"cash_out": F("cash_out") + amount}))
        else:
            lines = list(extra_lines)
        entry = entry_post(book=_book(acc.caisse), lines=lines, value_date=on,
                           description=f"{tx.get_kind_display()} {acc.number}",
                           acting_user=user, source_type="savings", source_id=acc.number,
                           audit=False)
        tx.journal_entry = entry
        if receipt:
            rec = _receipt(caisse=acc.caisse, kind=kind, amount=amount, user=user,
                           person=acc.person, account_number=acc.number,
                           balance_after=acc.balance, description=description, on=on)
            tx.receipt_year, tx.receipt_number = rec.year, rec.number
    tx.save()
    audit_log(actor=user, event_type=f"savings.{kind}", subject=tx,
              after={"account": acc.number, "amount": amount, "status": status,
                     "balance_after": tx.balance_after,
                     "receipt": str(rec) if rec else None},
              unit=acc.caisse)
    return Operation(tx, rec)


def savings_deposit(*, acting_user, account: SavingsAccount, amount, on: date | None = None,
                    description: str = "") -> Operation:
    """Cash deposit at the counter, into the teller's open drawer."""
    value = clean_amount(amount)
    _require_counter(acting_user, account.caisse)
    on = on or timezone.localdate()
    with transaction.atomic():
        acc = _lock(account.pk)
        _check_usable(acc, for_debit=False)
        drawer = _open_drawer(acting_user, acc.caisse)
        if acc.status == AccountStatus.DORMANT:
            acc.status = AccountStatus.ACTIVE  # any member activity wakes the account
            SavingsAccount.objects.filter(pk=acc.pk).update(status=AccountStatus.ACTIVE)
        return _post_movement(acc=acc, kind=TxKind.DEPOSIT, amount=value, user=acting_user,
                              on=on, cash=True, drawer=drawer,
                              description=description or str(_("Cash deposit")))


def _check_withdrawable(acc: SavingsAccount, amount: int, fee: int) -> None:
    _check_usable(acc, for_debit=True)
    if acc.product.kind == ProductKind.GUARANTEE:
        raise ApplicationError("guarantee_locked",
                               _("Guarantee savings are released only with the loan."),
                               {"account": _("Guarantee savings are blocked.")}, status_code=409)
    available = available_balance(acc)
    if amount + fee > available:
        raise ApplicationError(
            "insufficient_balance",
            _("Insufficient balance: at most %(n)s F CFA can be withdrawn.") % {
                "n": max(0, available - fee)},
            {"amount": _("Insufficient balance.")}, status_code=409)


def savings_withdraw(*, acting_user, account: SavingsAccount, amount, on: date | None = None,
                     description: str = "", signatory_ids=()) -> Operation:
    """Cash withdrawal. Above the product's approval threshold a teller's withdrawal waits for a
    manager (maker-checker): it is recorded pending and moves no money until approved."""
    value = clean_amount(amount)
    _require_counter(acting_user, account.caisse)
    on = on or timezone.localdate()
    with transaction.atomic():
        acc = _lock(account.pk)
        fee = int(setting(acc, "withdrawal_fee"))
        _check_withdrawable(acc, value, fee)
        _check_signatories(acc, signatory_ids)
        drawer = _open_drawer(acting_user, acc.caisse)
        if value > int(setting(acc, "approval_threshold")) and not _is_manager(acting_user,
                                                                              acc.caisse):
            return _post_movement(acc=acc, kind=TxKind.WITHDRAWAL, amount=value,
                                  user=acting_user, on=on, cash=True, drawer=drawer,
                                  description=description or str(_("Cash withdrawal")),
                                  status=TxStatus.PENDING)
        op = _post_movement(acc=acc, kind=TxKind.WITHDRAWAL, amount=value, user=acting_user,
                            on=on, cash=True, drawer=drawer,
                            description=description or str(_("Cash withdrawal")))
        if fee:
            _post_movement(acc=acc, kind=TxKind.FEE, amount=fee, user=acting_user, on=on,
                           cash=False, drawer=None, description=str(_("Withdrawal fee")),
                           extra_lines=[LineSpec(acc.product.gl_account, "D", fee, acc.number),
                                        LineSpec(FEES, "C", fee)], receipt=False)
        return op


def _check_signatories(acc: SavingsAccount, signatory_ids) -> None:
    if acc.product.kind != ProductKind.GROUP:
        return
    allowed = set(acc.signatories.values_list("person_id", flat=True))
    present = {int(x) for x in signatory_ids} & allowed
    if len(present) < acc.signatures_required:
        raise ApplicationError(
            "signatures_missing",
            _("This group account needs %(n)d signatories present.") % {
                "n": acc.signatures_required},
            {"signatory_ids": _("Not enough authorised signatories.")}, status_code=422)


def savings_withdrawal_approve(*, acting_user, tx: SavingsTransaction) -> Operation:
    """A manager approves a pending withdrawal: the money moves now, from the maker's drawer."""
    account = tx.account
    _require_counter(acting_user, account.caisse, MANAGER_ROLES)
    with transaction.atomic():
        acc = _lock(account.pk)
        pending = SavingsTransaction.objects.select_for_update().get(pk=tx.pk)
        if pending.status != TxStatus.PENDING:
            raise Conflict("not_pending", _("This operation is not awaiting approval."))
        if pending.created_by_id == acting_user.pk:
            raise Forbidden("maker_checker", _("Another person must approve your operation."))
        fee = int(setting(acc, "withdrawal_fee"))
        _check_withdrawable(acc, pending.amount, fee)
        drawer = DrawerSession.objects.select_for_update().filter(
            pk=pending.drawer_id, status=DrawerStatus.OPEN).first()
        if drawer is None:
            raise ApplicationError("drawer_closed", _("The teller's drawer is closed."),
                                   status_code=409)
        pending.status = TxStatus.REJECTED  # replaced by the posted operation below
        pending.approved_by = acting_user
        pending.save(update_fields=["status", "approved_by"])
        op = _post_movement(acc=acc, kind=TxKind.WITHDRAWAL, amount=pending.amount,
                            user=pending.created_by, on=pending.value_date, cash=True,
                            drawer=drawer, description=pending.description)
        SavingsTransaction.objects.filter(pk=op.transaction.pk).update(approved_by=acting_user)
        op.transaction.approved_by = acting_user
        if fee:
            _post_movement(acc=acc, kind=TxKind.FEE, amount=fee, user=acting_user,
                           on=pending.value_date, cash=False, drawer=None,
                           description=str(_("Withdrawal fee")),
                           extra_lines=[LineSpec(acc.product.gl_account, "D", fee, acc.number),
                                        LineSpec(FEES, "C", fee)], receipt=False)
        audit_log(actor=acting_user, event_type="savings.withdrawal_approved", subject=pending,
                  after={"posted": op.transaction.pk}, organisation=acc.caisse.organisation,
                  unit=acc.caisse)
        return op


def savings_transfer(*, acting_user, source: SavingsAccount, target: SavingsAccount, amount,
                     on: date | None = None, description: str = "", signatory_ids=()
                     ) -> Operation:
    value = clean_amount(amount)
    _require_counter(acting_user, source.caisse)
    _require_counter(acting_user, target.caisse)
    if source.pk == target.pk:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"target": _("Choose another account.")}, status_code=422)
    if source.caisse_id != target.caisse_id:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"target": _("Transfers stay within one caisse.")},
                               status_code=422)
    on = on or timezone.localdate()
    with transaction.atomic():
        # Lock both rows in primary-key order so two opposite transfers cannot deadlock.
        first, second = sorted([source.pk, target.pk])
        locked = {first: _lock(first), second: _lock(second)}
        src, dst = locked[source.pk], locked[target.pk]
        _check_withdrawable(src, value, 0)
        _check_usable(dst, for_debit=False)
        _check_signatories(src, signatory_ids)
        lines = [LineSpec(src.product.gl_account, "D", value, src.number),
                 LineSpec(dst.product.gl_account, "C", value, dst.number)]
        label = description or str(_("Transfer"))
        op = _post_movement(acc=src, kind=TxKind.TRANSFER_OUT, amount=value, user=acting_user,
                            on=on, cash=False, drawer=None, description=label, counterpart=dst,
                            extra_lines=lines)
        # The credit leg shares the debit leg's journal entry: one movement, one entry.
        SavingsAccount.objects.filter(pk=dst.pk).update(balance=F("balance") + value,
                                                        last_activity_on=on)
        dst.balance += value
        SavingsTransaction.objects.create(
            account=dst, kind=TxKind.TRANSFER_IN, amount=value, value_date=on,
            balance_after=dst.balance, description=label, created_by=acting_user,
            counterpart=src, journal_entry=op.transaction.journal_entry,
            receipt_year=op.transaction.receipt_year,
            receipt_number=op.transaction.receipt_number,
        )
        return op


def savings_transaction_reverse(*, acting_user, tx: SavingsTransaction, reason: str
                                ) -> SavingsTransaction:
    """A supervisor cancels a posted deposit, withdrawal or fee with a reason: the balance moves
    back and the ledger entry is reversed. The original stays, marked reversed."""
    _require_counter(acting_user, tx.account.caisse, MANAGER_ROLES)
    if not reason.strip():
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"reason": _("Say why the operation is reversed.")},
                               status_code=422)
    with transaction.atomic():
        acc = _lock(tx.account_id)
        original = SavingsTransaction.objects.select_for_update().get(pk=tx.pk)
        if original.status != TxStatus.POSTED or original.reversal_of_id:
            raise Conflict("not_reversible", _("Only a posted operation can be reversed."))
        if original.kind in (TxKind.TRANSFER_IN, TxKind.TRANSFER_OUT, TxKind.INTEREST):
            raise Conflict("not_reversible", _("Reverse transfers and interest from their batch."))
        undo = -original.signed_amount
        if acc.balance + undo < 0:
            raise Conflict("insufficient_balance",
                           _("The balance no longer covers this reversal."))
        reversal_entry = entry_reverse(entry=original.journal_entry, reason=reason,
                                       acting_user=acting_user)
        if original.cash and original.drawer_id:
            field = "cash_in" if original.kind in CREDIT_KINDS else "cash_out"
            DrawerSession.objects.filter(pk=original.drawer_id).update(
                **{field: F(field) - original.amount})
        SavingsAccount.objects.filter(pk=acc.pk).update(balance=F("balance") + undo)
        original.status = TxStatus.REVERSED
        original.save(update_fields=["status"])
        rev = SavingsTransaction.objects.create(
            account=acc, kind=original.kind, amount=original.amount, status=TxStatus.REVERSED,
            balance_after=acc.balance + undo, value_date=reversal_entry.value_date,
            description=f"Annulation: {reason}"[:200], journal_entry=reversal_entry,
            reversal_of=original, created_by=acting_user, approved_by=acting_user,
        )
        audit_log(actor=acting_user, event_type="savings.reversed", subject=original,
                  after={"reversal": rev.pk, "reason": reason},
                  organisation=acc.caisse.organisation, unit=acc.caisse)
    return rev


def accounts_mark_dormant(*, caisse: Unit, as_of: date, acting_user=None) -> int:
    """Active accounts without activity for the product's dormancy months become dormant."""
    count = 0
    with transaction.atomic():
        for product in SavingsProduct.objects.filter(organisation_id=caisse.organisation_id,
                                                     kind=ProductKind.VOLUNTARY):
            months = product.dormancy_months
            y, m = divmod(as_of.month - 1 - months, 12)
            limit = date(as_of.year + y, m + 1, min(as_of.day, 28))
            ids = list(SavingsAccount.objects.filter(
                caisse=caisse, product=product, status=AccountStatus.ACTIVE,
                last_activity_on__lt=limit).values_list("pk", flat=True))
            SavingsAccount.objects.filter(pk__in=ids).update(status=AccountStatus.DORMANT)
            count += len(ids)
        if count:
            audit_log(actor=acting_user, event_type="savings.dormancy", subject=caisse,
                      after={"accounts": count, "as_of": str(as_of)},
                      organisation=caisse.organisation, unit=caisse)
    return count


# --- shares ---------------------------------------------------------------------------------

def share_purchase(*, acting_user, product: ShareProduct, person, caisse: Unit, shares: int,
                   on: date | None = None) -> tuple[ShareAccount, Receipt]:
    """Buy member shares in cash (plus the entry fee the first time): capital 57, fees 7029."""
    _require_counter(acting_user, caisse)
    if not isinstance(shares, int) or isinstance(shares, bool) or shares < 1:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"shares": _("At least one share.")}, status_code=422)
    on = on or timezone.localdate()
    with transaction.atomic():
        account, _created = ShareAccount.objects.select_for_update().get_or_create(
            product=product, person=person, defaults={"caisse": caisse, "opened_on": on})
        account = ShareAccount.objects.select_for_update().get(pk=account.pk)
        if account.shares + shares > product.max_shares:
            raise ApplicationError("too_many_shares",
                                   _("A member may hold at most %(n)d shares.") % {
                                       "n": product.max_shares},
                                   {"shares": _("Above the maximum per member.")},
                                   status_code=422)
        if account.shares + shares < product.min_shares:
            raise ApplicationError("too_few_shares",
                                   _("Membership needs at least %(n)d shares.") % {
                                       "n": product.min_shares},
                                   {"shares": _("Below the minimum for membership.")},
                                   status_code=422)
        drawer = _open_drawer(acting_user, caisse)
        amount = shares * product.nominal_value
        fee = 0 if account.entry_fee_paid else product.entry_fee
        lines = [LineSpec(DRAWER, "D", amount + fee), LineSpec(SHARE_CAPITAL, "C", amount)]
        if fee:
            lines.append(LineSpec(FEES, "C", fee))
        entry = entry_post(book=_book(caisse), lines=lines, value_date=on,
                           description=f"Parts sociales {person}", acting_user=acting_user,
                           source_type="shares", source_id=str(account.pk), audit=False)
        DrawerSession.objects.filter(pk=drawer.pk).update(cash_in=F("cash_in") + amount + fee)
        account.shares += shares
        account.entry_fee_paid = True
        account.save(update_fields=["shares", "entry_fee_paid"])
        rec = _receipt(caisse=caisse, kind="shares", amount=amount + fee, user=acting_user,
                       person=person, description=f"{shares} part(s) sociale(s)", on=on)
        ShareTransaction.objects.create(account=account, kind="purchase", shares=shares,
                                        amount=amount, entry_fee=fee, value_date=on, receipt=rec,
                                        journal_entry=entry, created_by=acting_user)
        audit_log(actor=acting_user, event_type="shares.purchased", subject=account,
                  after={"shares": shares, "amount": amount, "entry_fee": fee,
                         "total_shares": account.shares},
                  organisation=caisse.organisation, unit=caisse)
    return account, rec


def share_redeem(*, acting_user, account: ShareAccount, shares: int, member_exit: bool,
                 on: date | None = None) -> Receipt:
    """Shares are paid back on exit, or when the general assembly allowed redemption."""
    caisse = account.caisse
    _require_counter(acting_user, caisse, MANAGER_ROLES)
    on = on or timezone.localdate()
    with transaction.atomic():
        acc = ShareAccount.objects.select_for_update().select_related("product").get(pk=account.pk)
        if not member_exit and not acc.product.redemption_allowed:
            raise ApplicationError("redemption_not_allowed",
                                   _("Shares are paid back only when the member leaves."),
                                   {"shares": _("Redemption is not open.")}, status_code=409)
        remaining = acc.shares - shares
        if shares < 1 or remaining < 0 or (not member_exit and remaining < acc.product.min_shares):
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {"shares": _("Not that many shares can be paid back.")},
                                   status_code=422)
        drawer = _open_drawer(acting_user, caisse)
        amount = shares * acc.product.nominal_value
        entry = entry_post(book=_book(caisse), lines=[LineSpec(SHARE_CAPITAL, "D", amount),
                                                      LineSpec(DRAWER, "C", amount)],
                           value_date=on, description=f"Remboursement parts {acc.person}",
                           acting_user=acting_user, source_type="shares",
                           source_id=str(acc.pk), audit=False)
        DrawerSession.objects.filter(pk=drawer.pk).update(cash_out=F("cash_out") + amount)
        acc.shares = remaining
        acc.save(update_fields=["shares"])
        rec = _receipt(caisse=caisse, kind="shares_redeemed", amount=amount, user=acting_user,
                       person=acc.person, description=f"{shares} part(s) remboursée(s)", on=on)
        ShareTransaction.objects.create(account=acc, kind="redemption", shares=shares,
                                        amount=amount, value_date=on, receipt=rec,
                                        journal_entry=entry, created_by=acting_user)
        audit_log(actor=acting_user, event_type="shares.redeemed", subject=acc,
                  after={"shares": shares, "amount": amount, "exit": member_exit},
                  organisation=caisse.organisation, unit=caisse)
    return rec


def is_kondo_member(person, product: ShareProduct) -> bool:
    acc = ShareAccount.objects.filter(product=product, person=person).first()
    return bool(acc and acc.shares >= product.min_shares)


# --- cash drawers ---------------------------------------------------------------------------

def drawer_open(*, acting_user, caisse: Unit, amount, on: date | None = None) -> DrawerSession:
    """Open the teller's drawer for the day with cash taken from the vault (101 -> 102)."""
    value = clean_amount(amount)
    _require_counter(acting_user, caisse)
    on = on or timezone.localdate()
    with transaction.atomic():
        if CaisseDay.objects.filter(caisse=caisse, business_date=on,
                                    closed_at__isnull=False).exists():
            raise Conflict("day_closed", _("The caisse has closed this day."))
        if DrawerSession.objects.filter(teller=acting_user, status=DrawerStatus.OPEN).exists():
            raise Conflict("drawer_open", _("Your drawer is already open."))
        drawer = DrawerSession.objects.create(caisse=caisse, teller=acting_user,
                                              business_date=on, opening_amount=value)
        entry_post(book=_book(caisse), lines=[LineSpec(DRAWER, "D", value),
                                              LineSpec(VAULT, "C", value)],
                   value_date=on, description=f"Ouverture guichet {acting_user}",
                   acting_user=acting_user, source_type="drawer", source_id=str(drawer.pk),
                   audit=False)
        audit_log(actor=acting_user, event_type="drawer.opened", subject=drawer,
                  after={"amount": value}, organisation=caisse.organisation, unit=caisse)
    return drawer


def clean_count(count: dict) -> tuple[int, dict[str, int]]:
    """Total of a cash count {denomination: pieces}; refuses unknown notes or bad numbers."""
    detail: dict[str, int] = {}
    errors = {}
    for key, pieces in (count or {}).items():
        try:
            denom = int(key)
        except (TypeError, ValueError):
            errors[str(key)] = _("Unknown note or coin.")
            continue
        if denom not in DENOMINATIONS:
            errors[str(key)] = _("Unknown note or coin.")
            continue
        if isinstance(pieces, bool) or not isinstance(pieces, int) or not 0 <= pieces <= 10**7:
            errors[str(key)] = _("Enter a number of pieces.")
            continue
        if pieces:
            detail[str(denom)] = pieces
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors, status_code=422)
    return sum(int(d) * n for d, n in detail.items()), detail


def drawer_close(*, acting_user, drawer: DrawerSession, count: dict) -> DrawerSession:
    """Close with a count by denomination. The counted cash goes back to the vault; a
    difference goes to suspense (371) and is flagged to the manager."""
    counted, detail = clean_count(count)
    with transaction.atomic():
        d = DrawerSession.objects.select_for_update().select_related("caisse").get(pk=drawer.pk)
        if d.teller_id != acting_user.pk and not _is_manager(acting_user, d.caisse):
            raise Forbidden("forbidden", _("Only the teller or a manager closes a drawer."))
        if d.status != DrawerStatus.OPEN:
            raise Conflict("drawer_closed", _("This drawer is already closed."))
        expected = d.expected
        diff = counted - expected
        lines = []
        if counted:
            lines += [LineSpec(VAULT, "D", counted), LineSpec(DRAWER, "C", counted)]
        if diff < 0:
            lines += [LineSpec(SUSPENSE, "D", -diff), LineSpec(DRAWER, "C", -diff)]
        elif diff > 0:
            lines += [LineSpec(DRAWER, "D", diff), LineSpec(SUSPENSE, "C", diff)]
        if lines:
            entry_post(book=_book(d.caisse), lines=lines, value_date=d.business_date,
                       description=f"Fermeture guichet {d.teller}", acting_user=acting_user,
                       source_type="drawer", source_id=str(d.pk), audit=False)
        d.status = DrawerStatus.CLOSED
        d.counted_amount, d.count_detail, d.difference = counted, detail, diff
        d.flagged = diff != 0
        d.closed_at = timezone.now()
        d.save()
        audit_log(actor=acting_user, event_type="drawer.closed", subject=d,
                  after={"expected": expected, "counted": counted, "difference": diff,
                         "flagged": d.flagged}, organisation=d.caisse.organisation,
                  unit=d.caisse)
    return d


def caisse_day_close(*, acting_user, caisse: Unit, on: date) -> CaisseDay:
    _require_counter(acting_user, caisse, MANAGER_ROLES)
    with transaction.atomic():
        day, _created = CaisseDay.objects.select_for_update().get_or_create(
            caisse=caisse, business_date=on)
        if day.closed_at:
            raise Conflict("day_closed", _("This day is already closed."))
        open_drawers = DrawerSession.objects.filter(caisse=caisse, status=DrawerStatus.OPEN)
        if open_drawers.exists():
            names = ", ".join(sorted(str(d.teller) for d in open_drawers.select_related("teller")))
            raise Conflict("drawers_open",
                           _("Close every drawer first (still open: %(names)s).") % {
                               "names": names})
        day.closed_at, day.closed_by = timezone.now(), acting_user
        day.save()
        audit_log(actor=acting_user, event_type="caisse.day_closed", subject=day,
                  after={"date": str(on)}, organisation=caisse.organisation, unit=caisse)
    return day


# --- interest -------------------------------------------------------------------------------

@dataclass(frozen=True)
class InterestRun:
    posting: InterestPosting
    created: bool


def interest_post_caisse(*, caisse: Unit, product: SavingsProduct, period_end: date,
                         acting_user=None) -> InterestRun:
    """Post the period's interest for every account of one product in one caisse: one batch,
    one aggregated ledger entry (6025 -> deposits), idempotent per (caisse, product, period)."""
    try:
        start, end = period_bounds(product.interest_posting, period_end)
    except ValueError:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"period_end": _("Not the end of a posting period.")},
                               status_code=422) from None
    with transaction.atomic():
        done = InterestPosting.objects.filter(caisse=caisse, product=product,
                                              period_end=end).first()
        if done:
            return InterestRun(done, False)
        override = ProductOverride.objects.filter(product=product, caisse=caisse).first()
        rate = Decimal(override.interest_rate) if override and override.interest_rate is not None \
            else Decimal(product.interest_rate)
        accounts = list(SavingsAccount.objects.select_for_update().filter(
            caisse=caisse, product=product, opened_on__lte=end).exclude(
            status=AccountStatus.CLOSED).order_by("pk"))
        ids = [a.pk for a in accounts]
        # Opening balances and the period's movements in two queries for the whole caisse.
        opening: dict[int, int] = {}
        movements: dict[int, list[tuple[date, int]]] = {}
        rows = SavingsTransaction.objects.filter(
            account_id__in=ids, value_date__lte=end, journal_entry__isnull=False,
        ).values_list("account_id", "kind", "amount", "value_date", "status", "reversal_of_id")
        for account_id, kind, amount, on, status, reversal_of in rows:
            if status == TxStatus.PENDING or status == TxStatus.REJECTED:
                continue
            signed = amount if kind in CREDIT_KINDS else -amount
            if reversal_of is not None:
                signed = -signed  # a reversal row undoes its original
            if on < start:
                opening[account_id] = opening.get(account_id, 0) + signed
            else:
                movements.setdefault(account_id, []).append((on, signed))
        total = 0
        credited: list[tuple[SavingsAccount, int]] = []
        for acc in accounts:
            first_day = max(start, acc.opened_on)
            moves = movements.get(acc.pk, [])
            # Movements dated before the account's first day in the period open its balance.
            opening_balance = opening.get(acc.pk, 0) + sum(a for d, a in moves if d < first_day)
            result = daily_balance_interest(
                opening_balance=opening_balance, movements=moves,
                start=first_day, end=end, annual_rate_percent=rate,
                days_in_year=product.days_in_year, min_balance=product.min_balance_for_interest,
            )
            if result.amount > 0:
                credited.append((acc, result.amount))
                total += result.amount
        posting = InterestPosting.objects.create(caisse=caisse, product=product,
                                                 period_start=start, period_end=end,
                                                 accounts=len(credited), total=total)
        if total:
            entry = entry_post(book=_book(caisse), lines=[
                LineSpec(INTEREST_EXPENSE, "D", total), LineSpec(product.gl_account, "C", total)],
                value_date=end, description=f"Intérêts {product.code} {start}..{end}",
                acting_user=acting_user, source_type="savings.interest",
                source_id=str(posting.pk), posting_date=max(end, timezone.localdate()),
                audit=False)
            posting.journal_entry = entry
            posting.save(update_fields=["journal_entry"])
            txs = []
            for acc, amount in credited:
                SavingsAccount.objects.filter(pk=acc.pk).update(balance=F("balance") + amount)
                txs.append(SavingsTransaction(
                    account=acc, kind=TxKind.INTEREST, amount=amount, value_date=end,
                    balance_after=acc.balance + amount, description=f"Intérêts {start}..{end}",
                    journal_entry=entry, created_by=acting_user))
            SavingsTransaction.objects.bulk_create(txs, batch_size=2000)
        audit_log(actor=acting_user, event_type="savings.interest_posted", subject=posting,
                  after={"accounts": len(credited), "total": total, "rate": str(rate)},
                  organisation=caisse.organisation, unit=caisse)
    return InterestRun(posting, True)


PRODUCT_EDITABLE = {
    "interest_rate": "decimal", "min_balance_for_interest": "francs", "min_balance": "francs",
    "withdrawal_fee": "francs", "approval_threshold": "francs", "dormancy_months": "int",
    "guarantee_percent": "decimal",
}


def product_update(*, acting_user, product: SavingsProduct, values) -> SavingsProduct:
    """Change a network product's settings (network administrators)."""
    scope = user_scope(acting_user)
    if not (scope.is_superuser or product.organisation_id in scope.org_wide_ids(
            write=True, roles={Role.NETWORK_ADMIN.value})):
        raise Forbidden("forbidden", _("Only the network administrator changes products."))
    errors = {}
    clean = {}
    for name, kind in PRODUCT_EDITABLE.items():
        raw = values.get(name)
        if raw in (None, ""):
            continue
        try:
            if kind == "decimal":
                value = Decimal(str(raw).replace(",", "."))
                if not Decimal(0) <= value <= Decimal(100):
                    raise ValueError
                clean[name] = value
            elif kind == "int":
                if not str(raw).isdigit() or int(raw) > 240:
                    raise ValueError
                clean[name] = int(raw)
            else:
                clean[name] = to_francs(raw, allow_zero=True)
        except (ValueError, ArithmeticError, MoneyError):
            errors[name] = _("This value is not valid.")
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    with transaction.atomic():
        p = SavingsProduct.objects.select_for_update().get(pk=product.pk)
        before = {k: str(getattr(p, k)) for k in clean}
        for k, v in clean.items():
            setattr(p, k, v)
        p.save()
        audit_log(actor=acting_user, event_type="savings.product_changed", subject=p,
                  before=before, after={k: str(v) for k, v in clean.items()},
                  organisation=p.organisation)
    return p
