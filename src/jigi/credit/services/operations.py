"""Money of a loan: disbursement, repayments (counter, savings, guarantee), payoff and
prepayment, penalties, rescheduling, write-off and recovery, reversal.

Every operation, in one durable transaction: the loan row locked first (two tellers taking a
repayment of one loan queue, neither loses the other's update), the instalments moved, one
balanced journal entry, the savings rows sharing it, a receipt numbered per caisse and year,
one audit row. An API call's Idempotency-Key claim is recorded in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _

from jigi.channels.receipts import payment_receipt_queue
from jigi.core import prepared
from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError
from jigi.credit.allocation import (
    Allocation,
    AllocationError,
    Portion,
    allocate,
    arrears,
    payoff,
    payoff_allocation,
    penalties_to_charge,
    prepay,
)
from jigi.credit.models import (
    Guarantor,
    Installment,
    Loan,
    LoanStatus,
    LoanTransaction,
    LoanTxKind,
    Overpayment,
    RescheduleReason,
    Rescheduling,
)
from jigi.credit.services._common import (
    COUNTER_ROLES,
    DRAWER,
    FEE_INCOME,
    GUARANTEE,
    INTEREST_INCOME,
    MANAGER_ROLES,
    NON_CASH_ROLES,
    PENALTY_INCOME,
    RECOVERIES,
    RESTRUCTURED,
    VOLUNTARY,
    WRITE_OFF_LOSS,
    conflict,
    current_installments,
    dues_of,
    invalid,
    lock_loan,
    period_starts,
    refuse_usury,
    require_role,
    schedule_error,
    schedule_of,
    today,
)
from jigi.credit.services.applications import _write_schedule
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post, entry_reverse
from jigi.savings.idempotency import IdempotencyClaim
from jigi.savings.models import Direction, DrawerSession, Receipt, SavingsAccount, TxKind
from jigi.savings.services._common import (
    add_to_row,
    audit_posted,
    book_of,
    clean_amount,
    clean_reason,
    fast_insert,
    finish,
    issue_receipt,
    move_open_drawer,
    open_drawer_for,
    service_transaction,
)
from jigi.savings.services.loan_link import (
    close_if_empty,
    guarantee_account_open,
    guarantor_hold,
    hold_release_in_tx,
    move_for_loan,
    voluntary_account,
)

CHANNELS = ("cash", "savings")
# Money collected from the member's wallet by a mobile-money provider (channels.momo): it lands
# on the caisse's electronic-money account.
MOBILE_MONEY = "12"


def field_subledger(user) -> str:
    """The 102 subledger of cash a loan officer holds from field collection (channels.field)."""
    return f"field:{user.username}"[:64]


@dataclass(frozen=True)
class LoanOperation:
    loan: Loan
    transaction: LoanTransaction
    receipt: Receipt | None




def _channel(value: str, loan: Loan, user) -> str:
    if value not in CHANNELS:
        raise invalid("channel", _("Cash or savings."))
    require_role(user, loan.caisse, COUNTER_ROLES if value == "cash" else NON_CASH_ROLES)
    return value


def _savings_account_for(loan: Loan, account: SavingsAccount | None) -> SavingsAccount:
    account = account or voluntary_account(loan.person_id, loan.caisse_id)
    if account is None or account.person_id != loan.person_id or \
            account.caisse.organisation_id != loan.caisse.organisation_id:
        raise conflict("no_savings_account",
                       _("The member needs an open savings account at this caisse."),
                       "savings_account_id")
    return account


def _receipt(loan: Loan, kind: str, amount: int, user, on: date, description: str,
             balance_after: int | None = None) -> Receipt:
    return issue_receipt(caisse=loan.caisse, kind=kind, amount=amount, user=user, on=on,
                         person_id=loan.person_id, account_number=loan.number,
                         balance_after=balance_after, description=description)


# --- disbursement -----------------------------------------------------------------------------


def _disburse(loan: Loan, *, user, on: date, channel: str,
              savings_account: SavingsAccount | None, idempotency_key: str = ""
              ) -> LoanOperation:
    """Inside the caller's transaction, with the loan locked."""
    if loan.status != LoanStatus.APPROVED:
        raise conflict("not_approved", _("Only an approved loan is disbursed."))
    if on < loan.approved_on:
        raise invalid("value_date", _("A loan is disbursed after its approval."))
    terms = dict(loan.terms, disbursed_on=on.isoformat())
    first = terms.get("first_repayment_on")
    if first and date.fromisoformat(first) <= on:
        raise invalid("value_date", _("The first repayment date must come after the "
                                      "disbursement: reschedule the application."))
    schedule, teg = schedule_of(terms)
    cap = refuse_usury(teg, on)
    principal = loan.principal
    fees, savings = int(schedule.upfront_fees), int(schedule.compulsory_savings)
    net = principal - fees - savings
    book = book_of(loan.caisse)
    lines = [LineSpec(loan.gl_account, "D", principal, loan.number)]
    target = None
    drawer = None
    if channel == "cash":
        drawer = open_drawer_for(user, loan.caisse)
        lines.append(LineSpec(DRAWER, "C", net))
    else:
        target = _savings_account_for(loan, savings_account)
        lines.append(LineSpec(VOLUNTARY, "C", net, target.number))
    if fees:
        lines.append(LineSpec(FEE_INCOME, "C", fees))
    guarantee = None
    if savings:
        guarantee = guarantee_account_open(person=loan.person, caisse=loan.caisse,
                                           loan_number=loan.number, on=on)
        lines.append(LineSpec(GUARANTEE, "C", savings, guarantee.number))
    entry = entry_post(book=book, value_date=on, acting_user=user, audit=False, lines=lines,
                       description=f"Décaissement prêt {loan.number}", source_type="credit",
                       source_id=loan.number)
    if drawer is not None:
        add_to_row(DrawerSession, drawer.pk, cash_out=net)
    if target is not None:
        move_for_loan(account_id=target.pk, direction=Direction.CREDIT, amount=net, on=on,
                      user=user, entry=entry, kind=TxKind.LOAN_IN,
                      description=f"Prêt {loan.number}")
    if guarantee is not None:
        move_for_loan(account_id=guarantee.pk, direction=Direction.CREDIT, amount=savings,
                      on=on, user=user, entry=entry, kind=TxKind.LOAN_IN,
                      description=f"Épargne nantie du prêt {loan.number}")
    for g in Guarantor.objects.filter(loan=loan, hold__isnull=True).select_related(
            "savings_account"):
        g.hold = guarantor_hold(account=g.savings_account, amount=g.amount,
                                reason=f"Caution du prêt {loan.number}", user=user)
        g.save(update_fields=["hold"])
    _write_schedule(loan, schedule, loan.schedule_version)
    loan.terms, loan.status, loan.disbursed_on = terms, LoanStatus.ACTIVE, on
    loan.teg_annual, loan.teg_period = teg.annual_rate_percent, teg.period_rate_percent
    loan.usury_cap, loan.upfront_fees, loan.compulsory_savings = cap, fees, savings
    loan.principal_outstanding = principal
    loan.guarantee_account = guarantee
    loan.save()
    receipt = _receipt(loan, "loan_disbursement", net, user, on,
                       f"Prêt {loan.number}: {principal} - frais {fees} - épargne {savings}",
                       balance_after=principal)
    tx = LoanTransaction.objects.create(
        loan=loan, kind=LoanTxKind.DISBURSEMENT, amount=principal, principal=principal,
        fees=fees, value_date=on, channel=channel, savings_account=target, receipt=receipt,
        journal_entry=entry, created_by=user, idempotency_key=idempotency_key,
        note=f"net {net}")
    audit_log(actor=user, event_type="credit.loan_disbursed", subject=loan,
              after={"principal": principal, "net": net, "fees": fees,
                     "compulsory_savings": savings, "channel": channel,
                     "teg": str(loan.teg_annual), "receipt": str(receipt)}, unit=loan.caisse)
    return LoanOperation(loan, tx, receipt)


def loan_disburse(*, acting_user, loan: Loan, on: date | None = None, channel: str = "cash",
                  savings_account: SavingsAccount | None = None,
                  idempotency: IdempotencyClaim | None = None) -> LoanOperation:
    """Pay out an approved loan, in cash from the teller's drawer or into the member's savings;
    upfront fees are withheld and compulsory savings blocked in a guarantee account."""
    _channel(channel, loan, acting_user)
    on = on or today()
    with service_transaction(idempotency):
        locked = lock_loan(loan.pk)
        op = _disburse(locked, user=acting_user, on=on, channel=channel,
                       savings_account=savings_account,
                       idempotency_key=idempotency.key if idempotency else "")
        return finish(idempotency, op)


def group_disburse(*, acting_user, group, on: date | None = None, channel: str = "cash"
                   ) -> list[LoanOperation]:
    """Disburse every approved loan of a solidarity group together (joint liability): all or
    none."""
    on = on or today()
    loans = list(group.loans.filter(status=LoanStatus.APPROVED).order_by("pk"))
    if not loans:
        raise conflict("nothing_to_disburse", _("No approved loan in this group."))
    for loan in loans:
        _channel(channel, loan, acting_user)
    with service_transaction(None):
        return [_disburse(lock_loan(loan.pk), user=acting_user, on=on, channel=channel,
                          savings_account=None) for loan in loans]


# --- penalties and repayments ---------------------------------------------------------------


def _charge_penalties(loan: Loan, installments: list[Installment], on: date) -> int:
    """Charge the product's one-off penalty on every instalment late beyond the grace days."""
    product = loan.product
    if not product.penalty_percent:
        return 0
    by_number = {i.number: i for i in installments}
    due = [d for d in dues_of(installments) if d.due_on < on]
    charges = penalties_to_charge(
        due, on, percent_x100=int(product.penalty_percent * 100),
        grace_days=product.penalty_grace_days,
        already={i.number for i in installments if i.penalised})
    for number, amount in charges.items():
        inst = by_number[number]
        inst.penalties += amount
        inst.penalised = True
        _installment_update(inst, ("penalties", "penalised"))
    return sum(charges.values())


# The repayment's hot path writes instalment and loan rows with statements prepared once per
# process (the ORM's bulk_update builds a CASE WHEN per column: several times the cost of the
# database work for the one or two rows a payment touches).
_PAID_COLUMNS = ("principal_paid", "interest_paid", "fees_paid", "penalties_paid",
                 "interest_waived", "paid_on")
_TOTAL_COLUMNS = ("principal_paid", "interest_paid", "fees_paid", "penalties_paid",
                  "interest_waived", "principal_outstanding")
_update_sql: dict[tuple[str, tuple[str, ...], str], str] = {}


def _row_update(model, pk: int, columns: tuple[str, ...], values: list) -> None:
    key = (model._meta.label, columns, connection.vendor)
    sql = _update_sql.get(key)
    if sql is None:
        q = connection.ops.quote_name
        sql = _update_sql[key] = (  # names from the model, values as parameters
            f"UPDATE {q(model._meta.db_table)} SET "  # noqa: S608
            f"{', '.join(f'{q(c)} = %s' for c in columns)} WHERE {q('id')} = %s")
    with prepared.cursor() as cursor:
        cursor.execute(sql, [*values, pk])


def _installment_update(inst: Installment, columns: tuple[str, ...]) -> None:
    ops = connection.ops
    _row_update(Installment, inst.pk, columns, [
        ops.adapt_datefield_value(getattr(inst, c)) if c == "paid_on" else getattr(inst, c)
        for c in columns])


def _apply(installments: list[Installment], allocation: Allocation, on: date) -> None:
    by_number = {i.number: i for i in installments}
    changed = []
    for p in allocation.portions:
        inst = by_number[p.number]
        inst.principal_paid += p.principal
        inst.interest_paid += p.interest
        inst.fees_paid += p.fees
        inst.penalties_paid += p.penalties
        inst.interest_waived += p.interest_waived
        # A reversal (negative portions) reopens the instalment.
        inst.paid_on = (inst.paid_on or on) if inst.outstanding == 0 else None
        changed.append(inst)
    for inst in changed:
        _installment_update(inst, _PAID_COLUMNS)


def _portions_json(allocation: Allocation) -> list[dict[str, int]]:
    return [{"number": p.number, "principal": p.principal, "interest": p.interest,
             "fees": p.fees, "penalties": p.penalties, "waived": p.interest_waived}
            for p in allocation.portions]


def _income_lines(loan: Loan, allocation: Allocation) -> list[LineSpec]:
    principal = interest = fees = penalties = 0
    for p in allocation.portions:  # one pass instead of four sums
        principal += p.principal
        interest += p.interest
        fees += p.fees
        penalties += p.penalties
    return [LineSpec(account, "C", amount, loan.number)
            for account, amount in ((loan.gl_account, principal), (INTEREST_INCOME, interest),
                                    (FEE_INCOME, fees), (PENALTY_INCOME, penalties)) if amount]


def _close_if_repaid(loan: Loan, installments: list[Installment], user, on: date) -> bool:
    """Closing a repaid loan releases its guarantee savings to the member's savings account
    and the guarantors' holds."""
    if loan.principal_outstanding or any(i.outstanding for i in installments):
        return False
    loan.status, loan.closed_on = LoanStatus.CLOSED, on
    loan.save(update_fields=["status", "closed_on"])
    _release_guarantees(loan, user, on)
    audit_log(actor=user, event_type="credit.loan_closed", subject=loan,
              after={"closed_on": on.isoformat()}, unit=loan.caisse)
    return True


def _release_guarantees(loan: Loan, user, on: date) -> None:
    if loan.guarantee_account_id:
        guarantee = SavingsAccount.objects.get(pk=loan.guarantee_account_id)
        if guarantee.balance:
            target = voluntary_account(loan.person_id, loan.caisse_id)
            if target is not None:
                entry = entry_post(
                    book=book_of(loan.caisse), value_date=on, acting_user=user, audit=False,
                    lines=[LineSpec(GUARANTEE, "D", guarantee.balance, guarantee.number),
                           LineSpec(VOLUNTARY, "C", guarantee.balance, target.number)],
                    description=f"Libération épargne nantie {loan.number}",
                    source_type="credit", source_id=loan.number)
                amount = guarantee.balance
                move_for_loan(account_id=guarantee.pk, direction=Direction.DEBIT, amount=amount,
                              on=on, user=user, entry=entry, check=False,
                              description=f"Prêt {loan.number} remboursé")
                move_for_loan(account_id=target.pk, direction=Direction.CREDIT, amount=amount,
                              on=on, user=user, entry=entry,
                              description=f"Épargne nantie libérée ({loan.number})")
                close_if_empty(guarantee.pk, on)
    for g in Guarantor.objects.filter(loan=loan, released_on__isnull=True):
        if g.hold_id:
            hold_release_in_tx(g.hold, user)
        g.released_on = on
        g.save(update_fields=["released_on"])


MODES = ("normal", "prepay", "payoff")


def loan_repay(*, acting_user, loan: Loan, amount: Any, on: date | None = None,
               channel: str = "cash", savings_account: SavingsAccount | None = None,
               mode: str = "normal", idempotency: IdempotencyClaim | None = None
               ) -> LoanOperation:
    """A repayment at the counter (cash) or from the member's savings.

    `normal`: by the product's allocation order, oldest instalment first; what is left pays
    the next instalments in advance. `prepay`: after what is due, the rest reduces principal
    from the last instalment (declining balance: later interest recalculated). `payoff`: the
    amount must be the payoff quote; the loan closes. A payment above everything owed goes to
    the member's savings or is refused, by product setting.
    """
    value = clean_amount(amount)
    _channel(channel, loan, acting_user)
    if mode not in MODES:
        raise invalid("mode", _("normal, prepay or payoff."))
    on = on or today()
    with service_transaction(idempotency):
        locked = lock_loan(loan.pk)
        if locked.status != LoanStatus.ACTIVE:
            raise conflict("not_active", _("This loan is not being repaid."))
        if on < locked.disbursed_on:
            raise invalid("value_date", _("A repayment cannot precede the disbursement."))
        op = _repay(locked, value=value, on=on, channel=channel, user=acting_user, mode=mode,
                    savings_account=savings_account,
                    idempotency_key=idempotency.key if idempotency else "")
        return finish(idempotency, op)


def loan_repay_in_transaction(*, acting_user, loan_id: int, amount: int, on: date,
                              reference: str, channel: str = "mobile_money") -> LoanOperation:
    """A repayment collected by mobile money, INSIDE the caller's transaction (channels.momo
    posts it in the same transaction as the payment's confirmation): the loan locked, the
    normal allocation, the electronic-money account (12) debited. Roles were checked when the
    collection was requested; `reference` (the order id) is kept as the idempotency key.

    `channel="field"`: cash a loan officer collected at a group meeting (channels.field sync),
    debited to the cash account 102 under the subledger "field:<username>" (cash held by the
    officer until she hands it in); the loan officer's role is checked by the caller."""
    if channel not in ("mobile_money", "field"):
        raise invalid("channel", _("Mobile money or field collection."))
    locked = lock_loan(loan_id)
    if locked.status != LoanStatus.ACTIVE:
        raise conflict("not_active", _("This loan is not being repaid."))
    on = max(on, locked.disbursed_on)
    return _repay(locked, value=amount, on=on, channel=channel, user=acting_user,
                  mode="normal", savings_account=None, idempotency_key=reference)


def _repay(loan: Loan, *, value: int, on: date, channel: str, user, mode: str,
           savings_account: SavingsAccount | None, idempotency_key: str = "",
           kind: str = LoanTxKind.REPAYMENT, source: SavingsAccount | None = None
           ) -> LoanOperation:
    installments = current_installments(loan)
    _charge_penalties(loan, installments, on)
    dues = dues_of(installments)
    declining = loan.terms.get("interest_method") == "declining_balance"
    excess = 0
    try:
        if mode == "payoff":
            quote = payoff(dues, on, loan.disbursed_on, period_starts(installments,
                                                                      loan.disbursed_on),
                           recalculate=declining)
            if value < quote.total:
                raise invalid("amount", _("The payoff today is %(n)s F CFA.") % {
                    "n": quote.total})
            allocation = payoff_allocation(dues, on, loan.disbursed_on,
                                           period_starts(installments, loan.disbursed_on),
                                           recalculate=declining)
            excess = value - quote.total
            kind = LoanTxKind.PAYOFF
        elif mode == "prepay":
            result = prepay(dues, value, on, loan.product.order, recalculate=declining)
            allocation = result.allocation
            kind = LoanTxKind.PREPAYMENT
        else:
            allocation = allocate(dues, value, loan.product.order)
            excess = allocation.excess
    except AllocationError as exc:
        raise schedule_error(exc) from None
    paid = allocation.total
    excess_target = None
    if excess:
        if loan.product.overpayment != Overpayment.TO_SAVINGS or channel == "savings":
            owed = sum(d.total for d in dues) if mode != "payoff" else paid
            raise conflict("above_payoff", _(
                "More than the loan owes: at most %(n)s F CFA.") % {"n": owed}, "amount")
        excess_target = _savings_account_for(loan, None)
    book = book_of(loan.caisse)
    lines = _income_lines(loan, allocation)
    source_account = source
    if kind == LoanTxKind.GUARANTEE:
        lines.insert(0, LineSpec(GUARANTEE, "D", value, source.number))
    elif channel == "mobile_money":
        lines.insert(0, LineSpec(MOBILE_MONEY, "D", value))
    elif channel == "field":
        lines.insert(0, LineSpec(DRAWER, "D", value, field_subledger(user)))
    elif channel == "cash":
        # The drawer is moved (and locked) first: no open drawer, nothing else is written.
        move_open_drawer(user, loan.caisse, cash_in=value)
        lines.insert(0, LineSpec(DRAWER, "D", value))
    else:
        source_account = _savings_account_for(loan, savings_account)
        lines.insert(0, LineSpec(VOLUNTARY, "D", value, source_account.number))
    if excess_target is not None:
        lines.append(LineSpec(VOLUNTARY, "C", excess, excess_target.number))
    entry = entry_post(book=book, value_date=on, acting_user=user, audit=False, lines=lines,
                       description=f"Remboursement prêt {loan.number}", source_type="credit",
                       source_id=loan.number)
    if source_account is not None:
        move_for_loan(account_id=source_account.pk, direction=Direction.DEBIT, amount=value,
                      on=on, user=user, entry=entry, check=kind != LoanTxKind.GUARANTEE,
                      kind=TxKind.LOAN_COVER if kind == LoanTxKind.GUARANTEE
                      else TxKind.LOAN_REPAYMENT, description=f"Prêt {loan.number}")
    if excess_target is not None:
        move_for_loan(account_id=excess_target.pk, direction=Direction.CREDIT, amount=excess,
                      on=on, user=user, entry=entry, description=f"Trop-perçu {loan.number}")
    _apply(installments, allocation, on)
    _add_totals(loan, allocation, sign=1)
    receipt = _receipt(loan, kind, value, user, on, f"Prêt {loan.number}",
                       balance_after=loan.principal_outstanding)
    tx = fast_insert(LoanTransaction(
        loan=loan, kind=kind, amount=value, principal=allocation.sum("principal"),
        interest=allocation.sum("interest"), fees=allocation.sum("fees"),
        penalties=allocation.sum("penalties"), excess_to_savings=excess if excess_target else 0,
        portions=_portions_json(allocation), value_date=on, channel=channel,
        savings_account=source_account, receipt=receipt, journal_entry=entry, created_by=user,
        idempotency_key=idempotency_key))
    closed = _close_if_repaid(loan, installments, user, on)
    if kind != LoanTxKind.GUARANTEE:  # an SMS receipt, opted-in borrowers only (channels)
        payment_receipt_queue(kind="repayment_receipt",
                              organisation_id=loan.caisse.organisation_id,
                              unit_id=loan.caisse_id, person_id=loan.person_id, amount=value, on=on,
                              receipt=str(receipt), ref=f"credit.loantransaction:{tx.pk}",
                              loan=loan.number, balance=sum(i.outstanding for i in installments))
    audit_posted(actor=user, event_type=f"credit.loan_{kind}", subject=loan,
              after={"amount": value, "principal": tx.principal, "interest": tx.interest,
                     "fees": tx.fees, "penalties": tx.penalties, "excess": tx.excess_to_savings,
                     "waived": allocation.sum("interest_waived"), "channel": channel,
                     "receipt": str(receipt), "closed": closed}, unit=loan.caisse)
    return LoanOperation(loan, tx, receipt)


def _add_totals(loan: Loan, allocation: Allocation, *, sign: int) -> None:
    deltas = {"principal_paid": allocation.sum("principal"),
              "interest_paid": allocation.sum("interest"),
              "fees_paid": allocation.sum("fees"),
              "penalties_paid": allocation.sum("penalties"),
              "interest_waived": allocation.sum("interest_waived")}
    for name, delta in deltas.items():
        setattr(loan, name, getattr(loan, name) + sign * delta)
    loan.principal_outstanding -= sign * deltas["principal_paid"]
    _row_update(Loan, loan.pk, _TOTAL_COLUMNS, [getattr(loan, c) for c in _TOTAL_COLUMNS])


def payoff_quote(loan: Loan, on: date | None = None) -> dict[str, int]:
    """What closes the loan on `on` (penalties that would be charged by then included)."""
    on = on or today()
    installments = current_installments(loan)
    dues = dues_of(installments)
    product = loan.product
    penalties = penalties_to_charge(
        [d for d in dues if d.due_on < on], on,
        percent_x100=int(product.penalty_percent * 100),
        grace_days=product.penalty_grace_days,
        already={i.number for i in installments if i.penalised})
    q = payoff(dues, on, loan.disbursed_on or on,
               period_starts(installments, loan.disbursed_on or on),
               recalculate=loan.terms.get("interest_method") == "declining_balance")
    extra = sum(penalties.values())
    return {"principal": q.principal, "interest": q.interest, "fees": q.fees,
            "penalties": q.penalties + extra, "interest_waived": q.interest_waived,
            "total": q.total + extra}


def loan_cover_from_guarantee(*, acting_user, loan: Loan, amount: Any, reason: str,
                              on: date | None = None) -> LoanOperation:
    """Use the loan's guarantee savings to pay what is overdue: an explicit, audited manager
    action (2545 debited; the instalments settled by the allocation order)."""
    require_role(acting_user, loan.caisse, MANAGER_ROLES)
    value = clean_amount(amount)
    text = clean_reason(reason, _("Say which arrears are covered."))
    on = on or today()
    with service_transaction(None):
        locked = lock_loan(loan.pk)
        if locked.status != LoanStatus.ACTIVE or not locked.guarantee_account_id:
            raise conflict("no_guarantee", _("This loan has no guarantee savings to use."))
        guarantee = SavingsAccount.objects.get(pk=locked.guarantee_account_id)
        if value > guarantee.balance:
            raise conflict("insufficient_balance",
                           _("The guarantee holds %(n)s F CFA.") % {"n": guarantee.balance},
                           "amount")
        overdue = arrears(dues_of(current_installments(locked)), on + timedelta(days=1), 0).overdue
        if value > overdue:
            raise conflict("above_arrears", _(
                "Only what is due can be covered: %(n)s F CFA.") % {"n": overdue}, "amount")
        op = _repay(locked, value=value, on=on, channel="guarantee", user=acting_user,
                    mode="normal", savings_account=None, kind=LoanTxKind.GUARANTEE,
                    source=guarantee)
        op.transaction.note = text
        op.transaction.save(update_fields=["note"])
    return op


# --- rescheduling, write-off, recovery ------------------------------------------------------


def loan_reschedule(*, acting_user, loan: Loan, reason: str, note: str = "",
                    repayments: Any = None, first_repayment_on: date | None = None,
                    seasonal: dict[str, Any] | None = None, on: date | None = None
                    ) -> Rescheduling:
    """A new schedule for the outstanding principal from `on` (crop failure, late cotton
    payment, illness, flood): interest, fees and penalties already due are carried into the
    first new instalment; the old schedule stays as history; the loan moves to the
    restructured loans account (291)."""
    require_role(acting_user, loan.caisse, MANAGER_ROLES)
    if reason not in RescheduleReason.values:
        raise invalid("reason", _("Choose the reason for rescheduling."))
    on = on or today()
    with service_transaction(None):
        locked = lock_loan(loan.pk)
        if locked.status != LoanStatus.ACTIVE:
            raise conflict("not_active", _("Only a loan being repaid is rescheduled."))
        installments = current_installments(locked)
        dues = dues_of(installments)
        outstanding = locked.principal_outstanding
        if outstanding <= 0:
            raise conflict("nothing_to_reschedule", _("No principal is left to reschedule."))
        carried_interest = sum(d.interest for d in dues if d.due_on <= on)
        carried_fees = sum(d.fees for d in dues if d.due_on <= on)
        carried_penalties = sum(d.penalties for d in dues)
        n = repayments if repayments is not None else max(
            1, len([d for d in dues if d.due_on > on]))
        try:
            n = int(n)
        except (TypeError, ValueError):
            raise invalid("repayments", _("Enter a whole number.")) from None
        if not 1 <= n <= locked.product.max_repayments:
            raise invalid("repayments", _("Between 1 and %(n)s repayments.") % {
                "n": locked.product.max_repayments})
        if first_repayment_on is not None and first_repayment_on <= on:
            raise invalid("first_repayment_on",
                          _("The first repayment comes after the rescheduling date."))
        if isinstance(seasonal, dict) and seasonal.get("pattern") == "crop":
            seasonal = dict(seasonal, rescheduled=True)
        terms = dict(locked.terms, principal=str(outstanding), repayments=n,
                     disbursed_on=on.isoformat(), fees=[], compulsory_savings_percent="0",
                     first_repayment_on=first_repayment_on.isoformat()
                     if first_repayment_on else None, seasonal=seasonal,
                     grace_on_principal=0)
        schedule, teg = schedule_of(terms)
        refuse_usury(teg, on, "repayments")
        old_version = locked.schedule_version
        # What the old schedule no longer asks for: later interest, and the principal and
        # charges now carried into the new one.
        changed = []
        for inst in installments:
            if inst.outstanding:
                inst.interest_waived += inst.interest - inst.interest_paid - inst.interest_waived
                changed.append(inst)
        Installment.objects.bulk_update(changed, ["interest_waived"])
        locked.schedule_version = old_version + 1
        _write_schedule(locked, schedule, locked.schedule_version)
        first = Installment.objects.get(loan=locked, version=locked.schedule_version, number=1)
        first.interest += carried_interest
        first.fees += carried_fees
        first.penalties += carried_penalties
        first.penalised = carried_penalties > 0
        first.save(update_fields=["interest", "fees", "penalties", "penalised"])
        if locked.gl_account != RESTRUCTURED:
            entry_post(book=book_of(locked.caisse), value_date=on, acting_user=acting_user,
                       audit=False, lines=[LineSpec(RESTRUCTURED, "D", outstanding,
                                                    locked.number),
                                           LineSpec(locked.gl_account, "C", outstanding,
                                                    locked.number)],
                       description=f"Prêt {locked.number} restructuré", source_type="credit",
                       source_id=locked.number)
            locked.gl_account = RESTRUCTURED
        locked.restructured = True
        locked.terms = terms
        locked.teg_annual, locked.teg_period = teg.annual_rate_percent, teg.period_rate_percent
        locked.save()
        record = Rescheduling.objects.create(
            loan=locked, reason=reason, note=str(note or "")[:300], from_version=old_version,
            to_version=locked.schedule_version, outstanding_principal=outstanding,
            carried_interest=carried_interest, new_terms=terms, on=on, created_by=acting_user)
        LoanTransaction.objects.create(loan=locked, kind=LoanTxKind.RESCHEDULE, amount=0,
                                       value_date=on, channel="none", created_by=acting_user,
                                       note=f"{reason}: {note}"[:200])
        audit_log(actor=acting_user, event_type="credit.loan_rescheduled", subject=locked,
                  before={"version": old_version},
                  after={"version": locked.schedule_version, "reason": reason, "note": note,
                         "outstanding": outstanding, "carried_interest": carried_interest,
                         "repayments": n}, unit=locked.caisse)
    return record


def loan_write_off(*, acting_user, loan: Loan, reason: str, on: date | None = None) -> Loan:
    """Write off the outstanding principal (669 debited): the loan stays recoverable."""
    require_role(acting_user, loan.caisse, MANAGER_ROLES)
    text = clean_reason(reason, _("Say why the loan is written off."))
    on = on or today()
    with service_transaction(None):
        locked = lock_loan(loan.pk)
        if locked.status != LoanStatus.ACTIVE:
            raise conflict("not_active", _("Only a loan being repaid is written off."))
        amount = locked.principal_outstanding
        entry = entry_post(book=book_of(locked.caisse), value_date=on, acting_user=acting_user,
                           audit=False,
                           lines=[LineSpec(WRITE_OFF_LOSS, "D", amount, locked.number),
                                  LineSpec(locked.gl_account, "C", amount, locked.number)],
                           description=f"Passage en perte prêt {locked.number}",
                           source_type="credit", source_id=locked.number)
        locked.status, locked.written_off_on = LoanStatus.WRITTEN_OFF, on
        locked.written_off_amount, locked.principal_outstanding = amount, 0
        locked.save(update_fields=["status", "written_off_on", "written_off_amount",
                                   "principal_outstanding"])
        LoanTransaction.objects.create(loan=locked, kind=LoanTxKind.WRITE_OFF, amount=amount,
                                       principal=amount, value_date=on, channel="none",
                                       journal_entry=entry, created_by=acting_user, note=text)
        audit_log(actor=acting_user, event_type="credit.loan_written_off", subject=locked,
                  after={"amount": amount, "reason": text}, unit=locked.caisse)
    return locked


def loan_recover(*, acting_user, loan: Loan, amount: Any, on: date | None = None,
                 idempotency: IdempotencyClaim | None = None) -> LoanOperation:
    """Cash recovered on a written-off loan (income 7025), up to what was written off."""
    value = clean_amount(amount)
    require_role(acting_user, loan.caisse, COUNTER_ROLES)
    on = on or today()
    with service_transaction(idempotency):
        locked = lock_loan(loan.pk)
        if locked.status != LoanStatus.WRITTEN_OFF:
            raise conflict("not_written_off", _("Only a written-off loan is recovered."))
        left = locked.written_off_amount - locked.recovered
        if value > left:
            raise conflict("above_payoff", _("More than the loan owes: at most %(n)s F CFA.")
                           % {"n": left}, "amount")
        drawer = open_drawer_for(acting_user, locked.caisse)
        entry = entry_post(book=book_of(locked.caisse), value_date=on, acting_user=acting_user,
                           audit=False, lines=[LineSpec(DRAWER, "D", value),
                                               LineSpec(RECOVERIES, "C", value, locked.number)],
                           description=f"Récupération prêt {locked.number}",
                           source_type="credit", source_id=locked.number)
        add_to_row(DrawerSession, drawer.pk, cash_in=value)
        locked.recovered += value
        locked.save(update_fields=["recovered"])
        receipt = _receipt(locked, LoanTxKind.RECOVERY, value, acting_user, on,
                           f"Récupération prêt {locked.number}")
        tx = LoanTransaction.objects.create(
            loan=locked, kind=LoanTxKind.RECOVERY, amount=value, value_date=on, channel="cash",
            receipt=receipt, journal_entry=entry, created_by=acting_user,
            idempotency_key=idempotency.key if idempotency else "")
        audit_log(actor=acting_user, event_type="credit.loan_recovered", subject=locked,
                  after={"amount": value, "receipt": str(receipt)}, unit=locked.caisse)
        return finish(idempotency, LoanOperation(locked, tx, receipt))


REVERSIBLE = (LoanTxKind.REPAYMENT, LoanTxKind.PREPAYMENT)


def loan_transaction_reverse(*, acting_user, tx: LoanTransaction, reason: str,
                             on: date | None = None) -> LoanTransaction:
    """A supervisor cancels the loan's latest repayment (never the maker): its journal entry is
    reversed, the instalments and totals go back, the savings or cash move back."""
    loan = tx.loan
    require_role(acting_user, loan.caisse, MANAGER_ROLES)
    text = clean_reason(reason, _("Say why the repayment is reversed."))
    on = on or today()
    with service_transaction(None):
        locked = lock_loan(loan.pk)
        original = LoanTransaction.objects.select_for_update().get(pk=tx.pk)
        if original.kind not in REVERSIBLE or original.reversed:
            raise conflict("not_reversible", _("Only a repayment not yet reversed can be "
                                               "reversed."))
        if locked.status != LoanStatus.ACTIVE or original.excess_to_savings:
            raise conflict("not_reversible", _(
                "The loan is closed or the payment's excess went to savings: correct it "
                "with a new operation."))
        later = LoanTransaction.objects.filter(loan=locked, pk__gt=original.pk,
                                               reversed=False).exclude(
            kind=LoanTxKind.REVERSAL).exists()
        if later:
            raise conflict("not_reversible", _("Reverse the later operations first."))
        if original.created_by_id == acting_user.pk:
            raise ApplicationError("maker_checker",
                                   _("Another supervisor must reverse your own operation."),
                                   status_code=403)
        installments = current_installments(locked)
        allocation = Allocation(tuple(
            Portion(number=p["number"], principal=-p["principal"], interest=-p["interest"],
                    fees=-p["fees"], penalties=-p["penalties"], interest_waived=-p["waived"])
            for p in original.portions), 0)
        _apply(installments, allocation, on)
        _add_totals(locked, allocation, sign=1)
        entry = entry_reverse(entry=original.journal_entry, reason=text,
                              acting_user=acting_user, value_date=on)
        if original.channel == "cash":
            drawer = DrawerSession.objects.select_for_update().filter(
                teller=acting_user, caisse=locked.caisse, status="open").first()
            if drawer is None:
                raise conflict("drawer_closed",
                               _("Open your cash drawer to give back the cash."), "drawer")
            add_to_row(DrawerSession, drawer.pk, cash_out=original.amount)
        elif original.savings_account_id:
            move_for_loan(account_id=original.savings_account_id, direction=Direction.CREDIT,
                          amount=original.amount, on=on, user=acting_user, entry=entry,
                          kind=TxKind.REVERSAL, description=f"Annulation {locked.number}")
        original.reversed = True
        original.save(update_fields=["reversed"])
        rev = LoanTransaction.objects.create(
            loan=locked, kind=LoanTxKind.REVERSAL, amount=original.amount,
            principal=original.principal, interest=original.interest, fees=original.fees,
            penalties=original.penalties, value_date=on, channel=original.channel,
            journal_entry=entry, reversal_of=original, created_by=acting_user, note=text)
        audit_log(actor=acting_user, event_type="credit.repayment_reversed", subject=locked,
                  after={"transaction": original.pk, "amount": original.amount,
                         "reason": text}, unit=locked.caisse)
    return rev
