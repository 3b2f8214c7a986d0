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
    MONEY_STATUSES,
    DrawerSession,
    DrawerStatus,
    Hold,
    ProductOverride,
    Receipt,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    ShareAccount,
    ShareProduct,
    TxKind,
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


def share_product_for(caisse) -> ShareProduct | None:
    return ShareProduct.objects.filter(organisation_id=caisse.organisation_id).first()


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


def _label(tx: SavingsTransaction) -> str:
    if tx.kind == TxKind.REVERSAL and tx.reversal_of is not None:
        return f"{_('Reversal')} · {tx.reversal_of.get_kind_display()}"
    if tx.kind == TxKind.TRANSFER and tx.counterpart is not None:
        arrow = "→" if tx.direction == "D" else "←"
        return f"{tx.get_kind_display()} {arrow} {tx.counterpart.number}"
    return str(tx.get_kind_display())


def account_statement(*, account: SavingsAccount, date_from: date | None = None,
                      date_to: date | None = None) -> AccountStatement:
    """Every movement that moved money (a reversed operation and its reversal both appear),
    by value date, with the running balance; pending and rejected operations are not money."""
    qs = SavingsTransaction.objects.filter(account=account, status__in=MONEY_STATUSES)
    opening = 0
    if date_from:
        agg = qs.filter(value_date__lt=date_from).values("direction").annotate(s=Sum("amount"))
        opening = sum(r["s"] if r["direction"] == "C" else -r["s"] for r in agg)
        qs = qs.filter(value_date__gte=date_from)
    if date_to:
        qs = qs.filter(value_date__lte=date_to)
    rows = []
    balance = opening
    for tx in qs.select_related("reversal_of", "counterpart").order_by("value_date", "pk"):
        s = tx.signed_amount
        balance += s
        rows.append(StatementRow(tx.value_date, tx.kind, _label(tx), tx.receipt_label,
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
        "account", "account__caisse", "created_by", "counterpart").order_by("pk")


def transaction_for_user(user, pk: int) -> SavingsTransaction:
    tx = SavingsTransaction.objects.filter(
        user_scope(user).unit_q("account__caisse__"), pk=pk).select_related(
        "account", "account__caisse", "account__product").first()
    if tx is None:
        raise NotFound("operation_not_found", _("Operation not found."))
    return tx


def flagged_drawers_for_user(user) -> QuerySet[DrawerSession]:
    """Closed drawers whose count differed, not yet acknowledged by a manager."""
    return drawers_for_user(user).filter(flagged=True, acknowledged_at__isnull=True)


def holds_of(account: SavingsAccount) -> QuerySet[Hold]:
    return Hold.objects.filter(account=account, released_at__isnull=True).order_by("pk")


def products_for_user(user) -> QuerySet[SavingsProduct]:
    scope = user_scope(user)
    qs = SavingsProduct.objects.all() if scope.is_superuser else \
        SavingsProduct.objects.filter(organisation_id__in=scope.organisation_ids)
    return qs.order_by("code")


def overrides_of(product: SavingsProduct, caisses) -> dict[int, ProductOverride]:
    return {o.caisse_id: o for o in ProductOverride.objects.filter(product=product,
                                                                   caisse__in=caisses)}


def get_receipt_for_user(user, pk: int) -> Receipt:
    rec = Receipt.objects.filter(user_scope(user).unit_q("caisse__"), pk=pk).select_related(
        "caisse", "person", "issued_by").first()
    if rec is None:
        raise NotFound("receipt_not_found", _("Receipt not found."))
    return rec


def caisse_totals(caisse) -> dict[str, int]:
    agg = SavingsAccount.objects.filter(caisse=caisse).aggregate(total=Sum("balance"))
    return {"deposits": agg["total"] or 0}
