"""Reads of savings: accounts in scope, statements, drawers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import NotFound
from jigi.orgs.scoping import user_scope
from jigi.people.models import Person
from jigi.savings.models import (
    CREDIT_KINDS,
    DrawerSession,
    DrawerStatus,
    Receipt,
    SavingsAccount,
    SavingsTransaction,
    ShareAccount,
    TxStatus,
)


def accounts_for_user(user) -> QuerySet[SavingsAccount]:
    """Savings accounts of the caisses in the user's scope. Staff of other organisations see
    them only through a person's savings consent (see people.selectors)."""
    return SavingsAccount.objects.filter(user_scope(user).unit_q("caisse__")).select_related(
        "product", "caisse", "person")


def get_account_for_user(user, pk: int) -> SavingsAccount:
    acc = accounts_for_user(user).filter(pk=pk).first()
    if acc is None:
        raise NotFound("account_not_found", _("Account not found."))
    return acc


def get_account_by_number_for_user(user, number: str) -> SavingsAccount:
    acc = accounts_for_user(user).filter(number=number).first()
    if acc is None:
        raise NotFound("account_not_found", _("Account not found."))
    return acc


def accounts_of_person(user, person: Person) -> list[SavingsAccount]:
    from jigi.people.selectors import person_visible_sections

    if "savings" not in person_visible_sections(user, person):
        return []
    qs = SavingsAccount.objects.filter(person=person) | SavingsAccount.objects.filter(
        signatories__person=person)
    return list(qs.select_related("product", "caisse").distinct().order_by("opened_on", "pk"))


def shares_of_person(person: Person) -> list[ShareAccount]:
    return list(ShareAccount.objects.filter(person=person).select_related("product", "caisse"))


@dataclass(frozen=True)
class StatementRow:
    value_date: date
    kind: str
    label: str
    receipt: str
    credit: int
    debit: int
    balance: int


@dataclass(frozen=True)
class AccountStatement:
    account: SavingsAccount
    date_from: date | None
    date_to: date | None
    opening: int
    closing: int
    rows: list[StatementRow]


def _signed(tx: SavingsTransaction) -> int:
    s = tx.amount if tx.kind in CREDIT_KINDS else -tx.amount
    return -s if tx.reversal_of_id else s


def account_statement(*, account: SavingsAccount, date_from: date | None = None,
                      date_to: date | None = None) -> AccountStatement:
    """Posted movements (and reversals) with running balance; pending ones are not money yet."""
    qs = SavingsTransaction.objects.filter(account=account).exclude(
        status__in=[TxStatus.PENDING, TxStatus.REJECTED]).exclude(
        status=TxStatus.REVERSED, reversal_of__isnull=True, journal_entry__isnull=True)
    opening = 0
    if date_from:
        for tx in qs.filter(value_date__lt=date_from).only("amount", "kind", "reversal_of_id"):
            opening += _signed(tx)
        qs = qs.filter(value_date__gte=date_from)
    if date_to:
        qs = qs.filter(value_date__lte=date_to)
    rows = []
    balance = opening
    for tx in qs.order_by("value_date", "pk"):
        s = _signed(tx)
        balance += s
        label = tx.get_kind_display() if not tx.reversal_of_id else str(_("Reversal")) + \
            f" · {tx.get_kind_display()}"
        rows.append(StatementRow(
            tx.value_date, tx.kind, label,
            f"{tx.receipt_year}-{tx.receipt_number:06d}" if tx.receipt_number else "",
            s if s > 0 else 0, -s if s < 0 else 0, balance))
    return AccountStatement(account, date_from, date_to, opening, balance, rows)


def open_drawer_of(user) -> DrawerSession | None:
    return DrawerSession.objects.filter(teller=user, status=DrawerStatus.OPEN).select_related(
        "caisse").first()


def drawers_for_user(user) -> QuerySet[DrawerSession]:
    return DrawerSession.objects.filter(user_scope(user).unit_q("caisse__")).select_related(
        "teller", "caisse").order_by("-opened_at")


def pending_for_user(user) -> QuerySet[SavingsTransaction]:
    return SavingsTransaction.objects.filter(
        user_scope(user).unit_q("account__caisse__"), status=TxStatus.PENDING).select_related(
        "account", "created_by")


def get_receipt_for_user(user, pk: int) -> Receipt:
    rec = Receipt.objects.filter(user_scope(user).unit_q("caisse__"), pk=pk).select_related(
        "caisse", "person", "issued_by").first()
    if rec is None:
        raise NotFound("receipt_not_found", _("Receipt not found."))
    return rec


def caisse_totals(caisse) -> dict[str, int]:
    agg = SavingsAccount.objects.filter(caisse=caisse).aggregate(total=Sum("balance"))
    return {"deposits": agg["total"] or 0}
