"""What every savings service shares: amounts, scope checks, locks, receipts, the transaction.

Transactions: every public service runs in `transaction.atomic(durable=True)` (it is the outer
transaction: when it returns, the money movement is committed). An API call's Idempotency-Key
claim is passed in (`idempotency=`) and recorded inside that same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.core.money import MoneyError, to_francs
from jigi.core.numbering import next_number
from jigi.ledger.models import Book
from jigi.orgs.models import Role, Unit
from jigi.orgs.scoping import user_scope
from jigi.savings.idempotency import IdempotencyClaim
from jigi.savings.models import (
    DrawerSession,
    DrawerStatus,
    ProductOverride,
    Receipt,
    SavingsAccount,
    SavingsTransaction,
)

# GL accounts of the RCSFD chart (jigi/ledger/charts.py) that savings posts to. Deposits go to
# the product kind's account (models.KIND_GL: 251, 252, 253, 2545).
VAULT = "101"  # caisse centrale (coffre)
DRAWER = "102"  # caisses des guichetiers
SUSPENSE = "371"  # écarts de caisse en attente
FEES = "7029"  # commissions et frais, droits d'adhésion
SHARE_CAPITAL = "57"  # parts sociales
INTEREST_EXPENSE = "6025"  # intérêts sur dépôts des membres
LOANS = "202"  # crédits à court terme (guarantee savings applied to a loan)

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
# No single counter operation of a rural caisse comes near a billion francs; above it is a
# typing error (an extra zero or two), refused before it reaches the ledger.
MAX_OPERATION = 1_000_000_000


def invalid(field: str, message: Any) -> ApplicationError:
    return ApplicationError("invalid", _("Some fields are not valid."), {field: message},
                            status_code=422)


def clean_amount(value: Any, field: str = "amount") -> int:
    """Whole francs, more than zero, at most MAX_OPERATION; a 422 naming the field otherwise."""
    try:
        amount = to_francs(value)
    except MoneyError as exc:
        raise ApplicationError(
            "invalid_amount", _("Some fields are not valid."),
            {field: _MONEY_MESSAGES.get(str(exc), _MONEY_MESSAGES["not_a_number"])},
            status_code=422) from None
    if amount > MAX_OPERATION:
        raise ApplicationError("invalid_amount", _("Some fields are not valid."),
                               {field: _MONEY_MESSAGES["too_large"]}, status_code=422)
    return amount


def clean_reason(reason: Any, message: Any, field: str = "reason") -> str:
    text = str(reason or "").strip()
    if not text:
        raise invalid(field, message)
    return text[:200]


_books: dict[int, Book] = {}


def book_of(caisse: Unit) -> Book:
    # A caisse's book never changes once opened: cache it per process (hot path of deposits).
    book = _books.get(caisse.pk)
    if book is None:
        book = _books[caisse.pk] = Book.objects.select_related("organisation").get(unit=caisse)
    return book


def require_counter(user, caisse: Unit, roles: set[str] = COUNTER_ROLES) -> None:
    """The user works at this caisse in one of `roles`; otherwise 404 (outside the scope: a
    teller must not learn what exists elsewhere) or 403 (inside it, but the wrong role)."""
    scope = user_scope(user)
    if not scope.covers_unit(caisse, write=True, roles=roles):
        if scope.covers_unit(caisse):
            raise Forbidden("forbidden", _("Your role does not allow this operation."))
        raise NotFound("account_not_found", _("Account not found."))


def is_manager(user, caisse: Unit) -> bool:
    return user_scope(user).covers_unit(caisse, write=True, roles=MANAGER_ROLES)


def setting(account: SavingsAccount, name: str) -> Any:
    """A product setting, with the caisse's override when it has one."""
    override = ProductOverride.objects.filter(product_id=account.product_id,
                                              caisse_id=account.caisse_id).first()
    value = getattr(override, name, None) if override else None
    return getattr(account.product, name) if value is None else value


def issue_receipt(*, caisse: Unit, kind: str, amount: int, user, on: date, person=None,
                  account_number: str = "", balance_after: int | None = None,
                  description: str = "") -> Receipt:
    """A receipt numbered gaplessly per caisse and year (the counter row is locked until the
    operation commits; a rolled-back operation gives its number back)."""
    number = next_number(f"receipt:{caisse.pk}", on.year)
    return Receipt.objects.create(
        caisse=caisse, year=on.year, number=number, kind=kind, amount=amount, issued_by=user,
        person=person, account_number=account_number, balance_after=balance_after,
        description=description[:200],
    )


def lock_account(account_id: int) -> SavingsAccount:
    # Lock only the account row: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join that select_related("person") needs (group accounts have no person).
    return SavingsAccount.objects.select_for_update(of=("self",)).select_related(
        "product", "caisse", "person").get(pk=account_id)


def lock_accounts(*ids: int) -> dict[int, SavingsAccount]:
    """Lock several accounts in primary-key order, so that two operations touching the same
    accounts from opposite ends (A->B and B->A) cannot deadlock."""
    return {pk: lock_account(pk) for pk in sorted(set(ids))}


def open_drawer_for(user, caisse: Unit) -> DrawerSession:
    """The teller's open drawer at this caisse, locked; every cash operation moves it."""
    drawer = DrawerSession.objects.select_for_update().filter(
        teller=user, caisse=caisse, status=DrawerStatus.OPEN).first()
    if drawer is None:
        raise ApplicationError("drawer_closed",
                               _("Open your cash drawer before taking or giving cash."),
                               {"drawer": _("No open drawer.")}, status_code=409)
    return drawer


@contextmanager
def service_transaction(idempotency: IdempotencyClaim | None) -> Iterator[None]:
    """The service's own (outermost) transaction; the API's idempotency claim is inserted first,
    so a second call with the same key waits for this one and then replays its answer."""
    with transaction.atomic(durable=True):
        if idempotency is not None:
            idempotency.begin()
        yield


def finish(idempotency: IdempotencyClaim | None, result: Any) -> Any:
    if idempotency is not None:
        idempotency.finish(result)
    return result


@dataclass(frozen=True)
class Operation:
    """What a counter operation returns: the account's row, its receipt (none while pending)
    and, for a withdrawal, the fee row."""

    transaction: SavingsTransaction
    receipt: Receipt | None
    fee: SavingsTransaction | None = None

    @property
    def pending(self) -> bool:
        return self.transaction.status == "pending"


def conflict(code: str, message: Any, field: str | None = None) -> Conflict:
    return Conflict(code, message, {field: message} if field else None)
