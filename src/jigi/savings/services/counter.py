"""Counter operations: deposit, withdrawal, transfer; maker-checker approval; reversal; the
guarantee-savings and term-deposit movements.

Every posted operation, in one transaction: the account row locked first, the balance moved
with F(), the teller's drawer moved for cash, one balanced journal entry, a receipt numbered
per caisse and year, one audit row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core import prepared
from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post, entry_reverse
from jigi.savings.idempotency import IdempotencyClaim
from jigi.savings.models import (
    AccountStatus,
    Direction,
    DrawerSession,
    DrawerStatus,
    Hold,
    ProductKind,
    Receipt,
    SavingsAccount,
    SavingsTransaction,
    TxKind,
    TxStatus,
)
from jigi.savings.rules import add_months, available_to_withdraw, early_withdrawal_penalty
from jigi.savings.services import sms
from jigi.savings.services._common import (
    DRAWER,
    FEES,
    LOANS,
    MANAGER_ROLES,
    Operation,
    add_to_balance,
    add_to_row,
    audit_posted,
    audit_statement,
    balance_statement,
    batch_transaction,
    book_of,
    clean_amount,
    clean_reason,
    conflict,
    fast_insert,
    finish,
    invalid,
    is_manager,
    issue_receipt,
    lock_account,
    lock_accounts,
    move_open_drawer,
    open_drawer_for,
    require_counter,
    service_transaction,
    setting,
)
from jigi.savings.services.sms import receipt_sms_queue

# --- checks ---------------------------------------------------------------------------------


def _check_credit(acc: SavingsAccount) -> None:
    if acc.status == AccountStatus.CLOSED:
        raise conflict("account_closed", _("This account is closed."), "account")
    if acc.status == AccountStatus.BLOCKED:
        raise ApplicationError(
            "account_blocked",
            _("This account is blocked: %(reason)s") % {"reason": acc.block_reason or "-"},
            {"account": _("This account is blocked.")}, status_code=409)


def _withdrawal_fee(acc: SavingsAccount, on: date) -> int:
    """The product's withdrawal fee; for a term deposit broken before maturity, the penalty (a
    share of the interest already credited) instead."""
    if acc.product.kind == ProductKind.TERM and acc.maturity_on and on < acc.maturity_on:
        credited = SavingsTransaction.objects.filter(
            account=acc, kind=TxKind.INTEREST, status=TxStatus.POSTED).aggregate(
            s=Sum("amount"))["s"] or 0
        return early_withdrawal_penalty(credited,
                                        Decimal(acc.product.early_withdrawal_penalty_percent))
    return int(setting(acc, "withdrawal_fee"))


def _check_debit(acc: SavingsAccount, amount: int, fee: int, *,
                 min_balance: int | None = None) -> None:
    """May `amount` (plus `fee`) leave this account now? Closed, blocked, guarantee savings,
    a blocking hold, then balance less holds and minimum balance."""
    _check_credit(acc)
    if acc.product.kind == ProductKind.GUARANTEE:
        raise ApplicationError(
            "guarantee_locked",
            _("Guarantee savings are released only with the loan (manager's release)."),
            {"account": _("Guarantee savings are blocked.")}, status_code=409)
    holds = list(Hold.objects.filter(account=acc, released_at__isnull=True))
    blocking = next((h for h in holds if h.blocks_account), None)
    if blocking is not None:
        raise ApplicationError(
            "account_on_hold",
            _("A hold stops every withdrawal: %(reason)s") % {"reason": blocking.reason},
            {"account": _("Debits are stopped by a hold.")}, status_code=409)
    if min_balance is None:
        min_balance = int(setting(acc, "min_balance"))
    available = available_to_withdraw(balance=acc.balance, held=sum(h.amount for h in holds),
                                      min_balance=min_balance)
    if amount + fee > available:
        raise ApplicationError(
            "insufficient_balance",
            _("Insufficient balance: at most %(n)s F CFA can be withdrawn.") % {
                "n": max(0, available - fee)},
            {"amount": _("Insufficient balance.")}, status_code=409)


def _check_signatories(acc: SavingsAccount, signatory_ids: Iterable[Any]) -> list[int]:
    """A group account's withdrawal needs `signatures_required` of its signatories present."""
    if acc.product.kind != ProductKind.GROUP:
        return []
    allowed = set(acc.signatories.values_list("person_id", flat=True))
    present = set()
    for raw in signatory_ids:
        try:
            present.add(int(raw))
        except (TypeError, ValueError):
            raise ApplicationError(
                "invalid", _("Some fields are not valid."),
                {"signatory_ids": _("Unknown signatory.")}, status_code=422) from None
    present &= allowed
    if len(present) < acc.signatures_required:
        raise ApplicationError(
            "signatures_missing",
            _("This group account needs %(n)d of its signatories present.") % {
                "n": acc.signatures_required},
            {"signatory_ids": _("Not enough authorised signatories.")}, status_code=422)
    return sorted(present)


def _needs_approval(user, acc: SavingsAccount, amount: int, *, debit: bool, on: date) -> bool:
    """Maker-checker: a teller's operation above the approval threshold, a withdrawal from a
    dormant account, or a term deposit broken early waits for a manager."""
    if is_manager(user, acc.caisse):
        return False
    if amount > int(setting(acc, "approval_threshold")):
        return True
    if debit and acc.status == AccountStatus.DORMANT:
        return True
    return bool(debit and acc.product.kind == ProductKind.TERM and acc.maturity_on
                and on < acc.maturity_on)


# --- posting ----------------------------------------------------------------------------------


def _move(acc: SavingsAccount, tx: SavingsTransaction, *, activity: bool = True,
          moved: bool = False) -> None:
    """Move the locked account's balance by the operation (balance = balance + signed, in the
    database: never a value read earlier). `moved`: the caller has already run that UPDATE
    (`balance_statement`, sent with the drawer's move); only the objects follow."""
    signed = tx.signed_amount
    if moved:
        acc.last_activity_on = tx.value_date
    elif not activity:
        add_to_row(SavingsAccount, acc.pk, balance=signed)
    elif acc.status != AccountStatus.DORMANT:
        add_to_balance(acc.pk, signed, tx.value_date)
        acc.last_activity_on = tx.value_date
    else:
        # A member's own movement wakes a dormant account (a withdrawal only got here with a
        # manager's approval).
        add_to_row(SavingsAccount, acc.pk, balance=signed)
        SavingsAccount.objects.filter(pk=acc.pk).update(last_activity_on=tx.value_date,
                                                        status=AccountStatus.ACTIVE)
        acc.last_activity_on, acc.status = tx.value_date, AccountStatus.ACTIVE
    acc.balance += signed
    tx.balance_after = acc.balance
    tx.status = TxStatus.POSTED


def _drawer_move(drawer: DrawerSession, *, cash_in: int = 0, cash_out: int = 0) -> None:
    if cash_in:
        add_to_row(DrawerSession, drawer.pk, cash_in=cash_in)
    if cash_out:
        add_to_row(DrawerSession, drawer.pk, cash_out=cash_out)


def _save(tx: SavingsTransaction) -> None:
    # A pending row being posted already exists; a new one is inserted.
    if tx.pk:
        tx.save()
    else:
        fast_insert(tx)


def _receipt_for(tx: SavingsTransaction, acc: SavingsAccount, user, amount: int,
                 description: str | None = None) -> Receipt:
    rec = issue_receipt(caisse=acc.caisse, kind=tx.kind, amount=amount, user=user,
                        on=tx.value_date, person_id=acc.person_id, account_number=acc.number,
                        balance_after=acc.balance,
                        description=tx.description if description is None else description)
    tx.receipt_year, tx.receipt_number = rec.year, rec.number
    return rec


def _post_deposit(tx: SavingsTransaction, acc: SavingsAccount, drawer: DrawerSession,
                  user, *, drawer_moved: bool = False, balance_moved: bool = False) -> Operation:
    _move(acc, tx, moved=balance_moved)
    if not drawer_moved:
        _drawer_move(drawer, cash_in=tx.amount)
    tx.journal_entry = entry_post(
        book=book_of(acc.caisse), value_date=tx.value_date, acting_user=user, audit=False,
        lines=[LineSpec(DRAWER, "D", tx.amount), LineSpec(acc.product.gl_account, "C",
                                                          tx.amount, acc.number)],
        description=f"Dépôt {acc.number}", source_type="savings", source_id=acc.number)
    rec = _receipt_for(tx, acc, user, tx.amount)
    _save(tx)
    receipt_sms_queue(kind=sms.DEPOSIT, account=acc, tx=tx, receipt=str(rec))
    return Operation(tx, rec)


def _post_withdrawal(tx: SavingsTransaction, acc: SavingsAccount, drawer: DrawerSession,
                     user, fee: int) -> Operation:
    """The cash and its fee in one journal entry (deposits D amount+fee, drawer C amount, fees
    C fee); the fee is its own row, child of the withdrawal, so a reversal undoes both."""
    gl = acc.product.gl_account
    _move(acc, tx)
    _drawer_move(drawer, cash_out=tx.amount)
    lines = [LineSpec(gl, "D", tx.amount + fee, acc.number), LineSpec(DRAWER, "C", tx.amount)]
    if fee:
        lines.append(LineSpec(FEES, "C", fee))
    entry = entry_post(book=book_of(acc.caisse), value_date=tx.value_date, acting_user=user,
                       lines=lines, description=f"Retrait {acc.number}", source_type="savings",
                       source_id=acc.number, audit=False)
    tx.journal_entry = entry
    fee_tx = None
    if fee:
        fee_tx = SavingsTransaction(
            account=acc, kind=TxKind.FEE, direction=Direction.DEBIT, amount=fee,
            value_date=tx.value_date, description=str(_("Withdrawal fee")), journal_entry=entry,
            created_by=tx.created_by, approved_by=tx.approved_by, approved_at=tx.approved_at)
        _move(acc, fee_tx, activity=False)
    label = tx.description
    if fee_tx is not None:
        label = _("%(label)s (fee %(fee)s F)") % {"label": tx.description, "fee": fee}
    rec = _receipt_for(tx, acc, user, tx.amount, str(label))
    _save(tx)
    if fee_tx is not None:
        fee_tx.parent = tx
        _save(fee_tx)
    receipt_sms_queue(kind=sms.WITHDRAWAL, account=acc, tx=tx, receipt=str(rec))
    return Operation(tx, rec, fee_tx)


def _post_transfer(tx: SavingsTransaction, src: SavingsAccount, dst: SavingsAccount,
                   user) -> Operation:
    """Two rows (out of the source, into the target) sharing one journal entry."""
    _move(src, tx)
    entry = entry_post(
        book=book_of(src.caisse), value_date=tx.value_date, acting_user=user, audit=False,
        lines=[LineSpec(src.product.gl_account, "D", tx.amount, src.number),
               LineSpec(dst.product.gl_account, "C", tx.amount, dst.number)],
        description=f"Virement {src.number} -> {dst.number}", source_type="savings",
        source_id=src.number)
    tx.journal_entry = entry
    rec = _receipt_for(tx, src, user, tx.amount)
    _save(tx)
    leg = SavingsTransaction(
        account=dst, kind=TxKind.TRANSFER, direction=Direction.CREDIT, amount=tx.amount,
        value_date=tx.value_date, description=tx.description, journal_entry=entry,
        counterpart=src, parent=tx, created_by=tx.created_by, approved_by=tx.approved_by,
        approved_at=tx.approved_at, receipt_year=tx.receipt_year,
        receipt_number=tx.receipt_number)
    _move(dst, leg)
    _save(leg)
    return Operation(tx, rec)


def _pending(tx: SavingsTransaction, user) -> Operation:
    tx.status = TxStatus.PENDING
    tx.save()
    audit_log(actor=user, event_type=f"savings.{tx.kind}_pending", subject=tx,
              after={"account": tx.account.number, "amount": tx.amount}, unit=tx.account.caisse)
    return Operation(tx, None)


def _audit_posted(op: Operation, user, event: str) -> None:
    audit_posted(**_audit_fields(op, user, event))


def _audit(op: Operation, user, event: str) -> tuple[str, list]:
    """`_audit_posted`'s statement, for `finish` to send with the key's answer."""
    return audit_statement(**_audit_fields(op, user, event))


def _audit_fields(op: Operation, user, event: str) -> dict[str, Any]:
    tx = op.transaction
    return {"actor": user, "event_type": event, "subject": tx, "unit": tx.account.caisse,
            "after": {"account": tx.account.number, "amount": tx.amount,
                      "balance_after": tx.balance_after,
                      "fee": op.fee.amount if op.fee else 0,
                      "receipt": str(op.receipt) if op.receipt else None}}


def _new_tx(acc: SavingsAccount, *, kind: str, direction: str, amount: int, on: date, user,
            description: str, idempotency: IdempotencyClaim | None, cash: bool = False,
            drawer: DrawerSession | None = None, counterpart: SavingsAccount | None = None
            ) -> SavingsTransaction:
    return prepared.new(
        SavingsTransaction,
        account=acc, kind=kind, direction=direction, amount=amount, value_date=on, cash=cash,
        drawer=drawer, counterpart=counterpart, description=description[:200],
        created_by=user, idempotency_key=idempotency.key if idempotency else "")


# --- the counter ------------------------------------------------------------------------------


def _counter_lock(acting_user, account: SavingsAccount | int) -> SavingsAccount:
    """The account locked for a counter operation. Given by id (an API call names it), the
    caller's scope is checked here, on the row just read: 404 when it does not exist or lies
    outside her scope, 403 when she sees it but may not work its counter (the transaction then
    rolls back: nothing written)."""
    if not isinstance(account, int):
        return lock_account(account.pk)
    if not 0 < account < 2**63:  # no such id (and beyond the databases' integers)
        raise _account_not_found()
    try:
        acc = lock_account(account)
    except SavingsAccount.DoesNotExist:
        raise _account_not_found() from None
    require_counter(acting_user, acc.caisse)
    return acc


def _account_not_found() -> NotFound:
    return NotFound("account_not_found", _("Account not found."))


def savings_deposit(*, acting_user, account: SavingsAccount | int, amount: Any,
                    on: date | None = None, description: str = "",
                    idempotency: IdempotencyClaim | None = None) -> Operation:
    """Cash paid in at the counter, into the teller's open drawer (102 -> deposits).

    `account` may be an id (the API's call): the scope is then checked on the locked row."""
    value = clean_amount(amount)
    if not isinstance(account, int):
        require_counter(acting_user, account.caisse)
    on = on or timezone.localdate()
    with service_transaction(idempotency):
        acc = _counter_lock(acting_user, account)
        _check_credit(acc)
        pending = _needs_approval(acting_user, acc, value, debit=False, on=on)
        # Posted now: find, lock and move the drawer in one statement.
        # The balance moves in the same round trip (a dormant account wakes up in `_move`).
        moved = not pending and acc.status != AccountStatus.DORMANT
        drawer = open_drawer_for(acting_user, acc.caisse) if pending else \
            move_open_drawer(acting_user, acc.caisse, cash_in=value,
                             before=(balance_statement(acc.pk, value, on),) if moved else ())
        tx = _new_tx(acc, kind=TxKind.DEPOSIT, direction=Direction.CREDIT, amount=value, on=on,
                     user=acting_user, description=description or str(_("Cash deposit")),
                     idempotency=idempotency, cash=True, drawer=drawer)
        if pending:
            return finish(idempotency, _pending(tx, acting_user))
        op = _post_deposit(tx, acc, drawer, acting_user, drawer_moved=True, balance_moved=moved)
        return finish(idempotency, op, _audit(op, acting_user, "savings.deposit"))


def savings_withdraw(*, acting_user, account: SavingsAccount | int, amount: Any,
                     on: date | None = None, description: str = "", signatory_ids=(),
                     idempotency: IdempotencyClaim | None = None) -> Operation:
    """Cash paid out at the counter from the teller's open drawer.

    Refused (nothing written) when the balance less holds and minimum balance does not cover
    the amount and the fee, or the account is closed, blocked, stopped by a hold, guarantee
    savings, or a group account without enough signatories. A teller's withdrawal above the
    approval threshold (or from a dormant account, or a term deposit before maturity) is
    recorded pending and moves no money until a manager approves it.
    """
    value = clean_amount(amount)
    if not isinstance(account, int):
        require_counter(acting_user, account.caisse)
    on = on or timezone.localdate()
    with service_transaction(idempotency):
        acc = _counter_lock(acting_user, account)
        fee = _withdrawal_fee(acc, on)
        _check_debit(acc, value, fee)
        _check_signatories(acc, signatory_ids)
        drawer = open_drawer_for(acting_user, acc.caisse)
        tx = _new_tx(acc, kind=TxKind.WITHDRAWAL, direction=Direction.DEBIT, amount=value,
                     on=on, user=acting_user,
                     description=description or str(_("Cash withdrawal")),
                     idempotency=idempotency, cash=True, drawer=drawer)
        if _needs_approval(acting_user, acc, value, debit=True, on=on):
            return finish(idempotency, _pending(tx, acting_user))
        op = _post_withdrawal(tx, acc, drawer, acting_user, fee)
        return finish(idempotency, op, _audit(op, acting_user, "savings.withdrawal"))


def close_out(acc: SavingsAccount, user, on: date) -> Operation:
    """Pay out the whole balance of an account being closed (inside its closing transaction):
    no minimum balance, no fee; holds, blocks and guarantee savings were checked or apply."""
    _check_debit(acc, acc.balance, 0, min_balance=0)
    drawer = open_drawer_for(user, acc.caisse)
    tx = _new_tx(acc, kind=TxKind.WITHDRAWAL, direction=Direction.DEBIT, amount=acc.balance,
                 on=on, user=user, description=str(_("Balance paid out at closing")),
                 idempotency=None, cash=True, drawer=drawer)
    op = _post_withdrawal(tx, acc, drawer, user, 0)
    _audit_posted(op, user, "savings.withdrawal")
    return op


def savings_transfer(*, acting_user, source: SavingsAccount, target: SavingsAccount,
                     amount: Any, on: date | None = None, description: str = "",
                     signatory_ids=(), idempotency: IdempotencyClaim | None = None
                     ) -> Operation:
    """Move money between two accounts of one caisse (no cash): e.g. savings into a term
    deposit. Same checks as a withdrawal on the source, no fee."""
    value = clean_amount(amount)
    require_counter(acting_user, source.caisse)
    if source.pk == target.pk:
        raise invalid("target_account_id", _("Choose another account."))
    if source.caisse_id != target.caisse_id:
        raise invalid("target_account_id", _("Transfers stay within one caisse."))
    on = on or timezone.localdate()
    with service_transaction(idempotency):
        locked = lock_accounts(source.pk, target.pk)
        src, dst = locked[source.pk], locked[target.pk]
        _check_debit(src, value, 0)
        try:
            _check_credit(dst)
        except ApplicationError as exc:
            raise ApplicationError(exc.code, exc.message,
                                   {"target_account_id": exc.message},
                                   status_code=exc.status_code) from None
        _check_signatories(src, signatory_ids)
        tx = _new_tx(src, kind=TxKind.TRANSFER, direction=Direction.DEBIT, amount=value, on=on,
                     user=acting_user, description=description or str(_("Transfer")),
                     idempotency=idempotency, counterpart=dst)
        if _needs_approval(acting_user, src, value, debit=True, on=on):
            return finish(idempotency, _pending(tx, acting_user))
        op = _post_transfer(tx, src, dst, acting_user)
        return finish(idempotency, op, _audit(op, acting_user, "savings.transfer"))


def savings_transaction_approve(*, acting_user, tx: SavingsTransaction,
                                idempotency: IdempotencyClaim | None = None) -> Operation:
    """A manager (never the maker) approves a pending operation: the checks run again on
    today's balance and the money moves now, cash through the maker's drawer."""
    require_counter(acting_user, tx.account.caisse, MANAGER_ROLES)
    with service_transaction(idempotency):
        ids = [tx.account_id] + ([tx.counterpart_id] if tx.counterpart_id else [])
        locked = lock_accounts(*ids)
        acc = locked[tx.account_id]
        pending = SavingsTransaction.objects.select_for_update().get(pk=tx.pk)
        if pending.status != TxStatus.PENDING:
            raise conflict("not_pending", _("This operation is not awaiting approval."))
        if pending.created_by_id == acting_user.pk:
            raise Forbidden("maker_checker", _("Another person must approve your operation."))
        pending.approved_by, pending.approved_at = acting_user, timezone.now()
        drawer = None
        if pending.cash:
            drawer = DrawerSession.objects.select_for_update().filter(
                pk=pending.drawer_id, status=DrawerStatus.OPEN).first()
            if drawer is None:
                raise conflict("drawer_closed", _("The teller's drawer is closed."), "drawer")
        maker = pending.created_by
        if pending.kind == TxKind.DEPOSIT:
            _check_credit(acc)
            op = _post_deposit(pending, acc, drawer, maker)
        elif pending.kind == TxKind.WITHDRAWAL:
            fee = _withdrawal_fee(acc, pending.value_date)
            _check_debit(acc, pending.amount, fee)
            op = _post_withdrawal(pending, acc, drawer, maker, fee)
        else:
            dst = locked[pending.counterpart_id]
            _check_debit(acc, pending.amount, 0)
            _check_credit(dst)
            op = _post_transfer(pending, acc, dst, maker)
        return finish(idempotency, op, _audit(op, acting_user, f"savings.{pending.kind}_approved"))


def savings_transaction_reject(*, acting_user, tx: SavingsTransaction, reason: str
                               ) -> SavingsTransaction:
    """A manager refuses a pending operation: nothing moves, the row stays with the reason."""
    require_counter(acting_user, tx.account.caisse, MANAGER_ROLES)
    text = clean_reason(reason, _("Say why the operation is refused."))
    with service_transaction(None):
        lock_account(tx.account_id)
        pending = SavingsTransaction.objects.select_for_update().get(pk=tx.pk)
        if pending.status != TxStatus.PENDING:
            raise conflict("not_pending", _("This operation is not awaiting approval."))
        pending.status, pending.reason = TxStatus.REJECTED, text
        pending.approved_by, pending.approved_at = acting_user, timezone.now()
        pending.save(update_fields=["status", "reason", "approved_by", "approved_at"])
        audit_log(actor=acting_user, event_type="savings.rejected", subject=pending,
                  after={"reason": text}, unit=pending.account.caisse)
    return pending


REVERSIBLE = {TxKind.DEPOSIT, TxKind.WITHDRAWAL, TxKind.TRANSFER, TxKind.LOAN_COVER}


def savings_transaction_reverse(*, acting_user, tx: SavingsTransaction, reason: str,
                                on: date | None = None,
                                idempotency: IdempotencyClaim | None = None) -> Operation:
    """A supervisor (caisse manager, never the maker) cancels a posted operation with a reason.

    The journal entry is reversed (the original stays as it was), every row of the operation
    (a withdrawal's fee, a transfer's other leg) gets a reversal row going the other way and is
    marked reversed. Cash goes back through the original drawer if still open, else the
    manager's own open drawer.
    """
    require_counter(acting_user, tx.account.caisse, MANAGER_ROLES)
    text = clean_reason(reason, _("Say why the operation is reversed."))
    on = on or timezone.localdate()
    with service_transaction(idempotency):
        original = SavingsTransaction.objects.get(pk=tx.pk)
        if original.reversal_of_id is not None or original.kind not in REVERSIBLE:
            raise conflict("not_reversible",
                           _("Only a deposit, withdrawal, transfer or loan cover can be "
                             "reversed (a fee with its withdrawal, interest by its batch)."))
        if original.parent_id is not None:
            original = SavingsTransaction.objects.get(pk=original.parent_id)
        rows = [original, *SavingsTransaction.objects.filter(parent=original).order_by("pk")]
        locked = lock_accounts(*(r.account_id for r in rows))
        rows = list(SavingsTransaction.objects.select_for_update().filter(
            pk__in=[r.pk for r in rows]).order_by("pk"))
        original = next(r for r in rows if r.pk == original.pk)
        if original.status != TxStatus.POSTED:
            raise conflict("not_reversible", _("Only a posted operation can be reversed."))
        if original.created_by_id == acting_user.pk:
            raise Forbidden("maker_checker",
                            _("Another supervisor must reverse your own operation."))
        for row in rows:
            if locked[row.account_id].status == AccountStatus.CLOSED:
                # The money would come back into an account nobody can use any more (the
                # closing pay-out reversed: a closed account holding a balance).
                raise conflict("account_closed",
                               _("This account is closed: its operations can no longer be "
                                 "reversed."), "account")
            if locked[row.account_id].balance - row.signed_amount < 0:
                raise conflict("insufficient_balance",
                               _("The balance no longer covers this reversal."), "amount")
        drawer = None
        if original.cash:
            drawer = DrawerSession.objects.select_for_update().filter(
                pk=original.drawer_id, status=DrawerStatus.OPEN).first() or \
                DrawerSession.objects.select_for_update().filter(
                    teller=acting_user, caisse=original.account.caisse,
                    status=DrawerStatus.OPEN).first()
            if drawer is None:
                raise conflict("drawer_closed",
                               _("Open your cash drawer to give or take back the cash."),
                               "drawer")
        entry = entry_reverse(entry=original.journal_entry, reason=text,
                              acting_user=acting_user, value_date=on)
        first = None
        for row in rows:
            acc = locked[row.account_id]
            rev = SavingsTransaction(
                account=acc, kind=TxKind.REVERSAL,
                direction=Direction.CREDIT if row.direction == Direction.DEBIT
                else Direction.DEBIT,
                amount=row.amount, value_date=on, reversal_of=row, journal_entry=entry,
                description=f"{_('Reversal')}: {text}"[:200], reason=text,
                cash=row.cash, drawer=drawer if row.cash else None, created_by=acting_user,
                approved_by=acting_user, approved_at=timezone.now(),
                idempotency_key=idempotency.key if idempotency and row is original else "")
            _move(acc, rev, activity=False)
            row.status = TxStatus.REVERSED
            row.save(update_fields=["status"])
            if first is None:
                first = rev
            else:
                rev.parent = first
            rev.save()
        assert first is not None
        rec = None
        if drawer is not None:
            if original.direction == Direction.CREDIT:
                _drawer_move(drawer, cash_out=original.amount)
            else:
                _drawer_move(drawer, cash_in=original.amount)
            rec = _receipt_for(first, locked[original.account_id], acting_user, original.amount)
            first.save(update_fields=["receipt_year", "receipt_number"])
        audit_log(actor=acting_user, event_type="savings.reversed", subject=original,
                  after={"reversal": first.pk, "reason": text, "amount": original.amount},
                  unit=original.account.caisse)
        return finish(idempotency, Operation(first, rec))


# --- guarantee savings and term deposits ---------------------------------------------------


def _voluntary_account_of(acc: SavingsAccount) -> SavingsAccount:
    target = SavingsAccount.objects.filter(
        person_id=acc.person_id, caisse_id=acc.caisse_id, product__kind=ProductKind.VOLUNTARY,
        status__in=[AccountStatus.ACTIVE, AccountStatus.DORMANT]).order_by("pk").first()
    if target is None or acc.person_id is None:
        raise conflict("no_savings_account",
                       _("The member needs an open savings account at this caisse."),
                       "account")
    return target


def guarantee_release(*, acting_user, account: SavingsAccount, amount: Any, reason: str,
                      on: date | None = None) -> Operation:
    """Release guarantee savings (the loan is repaid, or partly): the amount moves to the
    member's voluntary savings account (2545 -> 251). Manager only, with a reason."""
    require_counter(acting_user, account.caisse, MANAGER_ROLES)
    value = clean_amount(amount)
    text = clean_reason(reason, _("Say why the guarantee is released."))
    if account.product.kind != ProductKind.GUARANTEE:
        raise invalid("account", _("This is not a guarantee savings account."))
    on = on or timezone.localdate()
    with service_transaction(None):
        target = _voluntary_account_of(account)
        locked = lock_accounts(account.pk, target.pk)
        src, dst = locked[account.pk], locked[target.pk]
        _check_credit(src)
        if value > src.balance:
            raise conflict("insufficient_balance",
                           _("The guarantee holds less than this amount."), "amount")
        _check_credit(dst)
        tx = _new_tx(src, kind=TxKind.TRANSFER, direction=Direction.DEBIT, amount=value, on=on,
                     user=acting_user, description=f"{_('Guarantee released')}: {text}",
                     idempotency=None, counterpart=dst)
        tx.reason = text
        op = _post_transfer(tx, src, dst, acting_user)
        _audit_posted(op, acting_user, "savings.guarantee_released")
    return op


def guarantee_apply_to_loan(*, acting_user, account: SavingsAccount, amount: Any,
                            loan_reference: str, reason: str, on: date | None = None
                            ) -> Operation:
    """Use guarantee savings to cover a loan's arrears: an explicit, audited manager action
    (2545 debit, loans 202 credit with the loan as sub-ledger). The credit module settles the
    instalment from this entry."""
    require_counter(acting_user, account.caisse, MANAGER_ROLES)
    value = clean_amount(amount)
    text = clean_reason(reason, _("Say which arrears are covered."))
    loan = clean_reason(loan_reference, _("Name the loan."), "loan_reference")
    if account.product.kind != ProductKind.GUARANTEE:
        raise invalid("account", _("This is not a guarantee savings account."))
    on = on or timezone.localdate()
    with service_transaction(None):
        acc = lock_account(account.pk)
        _check_credit(acc)
        if value > acc.balance:
            raise conflict("insufficient_balance",
                           _("The guarantee holds less than this amount."), "amount")
        tx = _new_tx(acc, kind=TxKind.LOAN_COVER, direction=Direction.DEBIT, amount=value,
                     on=on, user=acting_user, description=f"{_('Loan')} {loan}: {text}",
                     idempotency=None)
        tx.reason = text
        _move(acc, tx, activity=False)
        tx.journal_entry = entry_post(
            book=book_of(acc.caisse), value_date=on, acting_user=acting_user, audit=False,
            lines=[LineSpec(acc.product.gl_account, "D", value, acc.number),
                   LineSpec(LOANS, "C", value, loan)],
            description=f"Épargne nantie -> prêt {loan}", source_type="savings",
            source_id=acc.number)
        rec = _receipt_for(tx, acc, acting_user, value)
        tx.save()
        op = Operation(tx, rec)
        _audit_posted(op, acting_user, "savings.guarantee_applied")
    return op


def term_deposits_mature(*, caisse, as_of: date, acting_user) -> dict[str, int]:
    """Maturity action for every term deposit of a caisse due on or before `as_of`: renew for
    another term, or move the balance to the member's savings account (and close the deposit).
    Deposits without such an account wait (counted as `waiting`)."""
    require_counter(acting_user, caisse, MANAGER_ROLES)
    done = {"renewed": 0, "paid_out": 0, "waiting": 0}
    with batch_transaction():
        due = list(SavingsAccount.objects.select_for_update(of=("self",)).filter(
            caisse=caisse, product__kind=ProductKind.TERM, maturity_on__lte=as_of,
            status=AccountStatus.ACTIVE).select_related("product", "caisse", "person")
            .order_by("pk"))
        for acc in due:
            if acc.renew_at_maturity:
                before = acc.maturity_on
                while acc.maturity_on <= as_of:
                    acc.maturity_on = add_months(acc.maturity_on, acc.product.term_months or 12)
                acc.save(update_fields=["maturity_on"])
                audit_log(actor=acting_user, event_type="savings.term_renewed", subject=acc,
                          before={"maturity_on": str(before)},
                          after={"maturity_on": str(acc.maturity_on)}, unit=caisse)
                done["renewed"] += 1
                continue
            try:
                target = _voluntary_account_of(acc)
            except ApplicationError:
                done["waiting"] += 1
                continue
            if acc.balance:
                dst = lock_account(target.pk)
                tx = _new_tx(acc, kind=TxKind.TRANSFER, direction=Direction.DEBIT,
                             amount=acc.balance, on=as_of, user=acting_user,
                             description=str(_("Term deposit matured")), idempotency=None,
                             counterpart=dst)
                _post_transfer(tx, acc, dst, acting_user)
            acc.status, acc.closed_on = AccountStatus.CLOSED, as_of
            acc.save(update_fields=["status", "closed_on"])
            audit_log(actor=acting_user, event_type="savings.term_paid_out", subject=acc,
                      after={"to": target.number}, unit=caisse)
            done["paid_out"] += 1
    return done
