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

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import SmsPreference
from jigi.core import prepared
from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.core.models import AuditEvent, Counter
from jigi.core.money import MoneyError, to_francs
from jigi.core.money_messages import MONEY_MESSAGES, money_message
from jigi.core.numbering import next_number
from jigi.core.prepared import fast_insert
from jigi.ledger.models import Book
from jigi.orgs.models import Role, Unit
from jigi.orgs.scoping import user_scope
from jigi.savings.idempotency import IdempotencyClaim
from jigi.savings.models import (
    OVERRIDABLE,
    DrawerSession,
    DrawerStatus,
    ProductOverride,
    Receipt,
    SavingsAccount,
    SavingsProduct,
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

# No single counter operation of a rural caisse comes near a billion francs; above it is a
# typing error (an extra zero or two), refused before it reaches the ledger.
MAX_OPERATION = 1_000_000_000


def invalid(field: str, message: Any) -> ApplicationError:
    return ApplicationError("invalid", _("Some fields are not valid."), {field: message},
                            status_code=422)


def refuse_decimal_mark(value: Any, field: str = "amount") -> None:
    """A typed amount with a point or a comma is refused, never read: "15.000" is how many
    people write fifteen thousand, and `to_francs` would read it as 15 F (whole francs have
    no decimals to write anyway)."""
    if isinstance(value, str) and ("." in value or "," in value):
        raise ApplicationError(
            "invalid_amount", _("Some fields are not valid."),
            {field: _("Whole francs, without a point or a comma: write 15000 or 15 000.")},
            status_code=422)


def clean_amount(value: Any, field: str = "amount") -> int:
    """Whole francs, more than zero, at most MAX_OPERATION; a 422 naming the field otherwise."""
    refuse_decimal_mark(value, field)
    try:
        amount = to_francs(value)
    except MoneyError as exc:
        raise ApplicationError(
            "invalid_amount", _("Some fields are not valid."),
            {field: money_message(exc)},
            status_code=422) from None
    if amount > MAX_OPERATION:
        raise ApplicationError("invalid_amount", _("Some fields are not valid."),
                               {field: MONEY_MESSAGES["too_large"]}, status_code=422)
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
    # An id may come back for another caisse (a test database emptied and refilled, a
    # restored backup): the cached book must still be this caisse's, in its organisation.
    if book is None or book.organisation_id != caisse.organisation_id:
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
    """A product setting, with the caisse's override when it has one (read with the account's
    lock when the account came from `lock_account`)."""
    overrides = getattr(account, "_overrides", None)
    if overrides is None:
        override = ProductOverride.objects.filter(product_id=account.product_id,
                                                  caisse_id=account.caisse_id).first()
        overrides = {k: getattr(override, k) for k in OVERRIDABLE} if override else {}
        account._overrides = overrides
    value = overrides.get(name)
    return getattr(account.product, name) if value is None else value


def issue_receipt(*, caisse: Unit, kind: str, amount: int, user, on: date, person=None,
                  person_id: int | None = None, account_number: str = "",
                  balance_after: int | None = None, description: str = "") -> Receipt:
    """A receipt numbered gaplessly per caisse and year (the counter row is locked until the
    operation commits; a rolled-back operation gives its number back)."""
    receipt = prepared.new(
        Receipt, caisse=caisse, year=on.year, number=0, kind=kind, amount=amount, issued_by=user,
        person_id=person.pk if person is not None else person_id,
        account_number=account_number, balance_after=balance_after,
        description=description[:200],
    )
    scope = f"receipt:{caisse.pk}"
    if prepared.vendor() == "postgresql" and _numbered_insert(receipt, "number", scope, on.year):
        return receipt
    receipt.number = next_number(scope, on.year)
    return fast_insert(receipt)


def _numbered_insert(obj, number_attname: str, scope: str, year: int) -> bool:
    """PostgreSQL: `next_number` and `fast_insert` in one statement (the counter's UPDATE locks
    its row exactly as next_number does, and feeds the insert). False, with nothing done, when
    the counter has no row for the year yet: the caller then takes the two statements."""
    model = type(obj)
    plan = prepared.insert_plan(model)
    key = f"numbered:{model._meta.label}:{number_attname}"
    if key not in _sql_cache:
        q = connection.ops.quote_name
        columns = ", ".join(q(column) for _a, column, _c in plan)
        values = ", ".join("n.value" if a == number_attname else "%s" for a, _c, _v in plan)
        _sql_cache[key] = (  # names from the model, values as parameters
            f"WITH n AS (UPDATE {q(Counter._meta.db_table)} SET value = value + 1 "  # noqa: S608
            f"WHERE scope = %s AND year = %s RETURNING value) "
            f"INSERT INTO {q(model._meta.db_table)} ({columns}) SELECT {values} FROM n "
            f"RETURNING {q(model._meta.pk.column)}, {q(number_attname)}")
    db = connections[DEFAULT_DB_ALIAS]
    values = [getattr(obj, a) if conv is None else conv(obj, db) for a, _column, conv in plan
              if a != number_attname]
    with prepared.cursor() as cursor:
        row = cursor.execute(_sql_cache[key], [scope, year, *values]).fetchone()
    if row is None:
        return False
    obj.pk, number = row
    setattr(obj, number_attname, number)
    obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS
    return True


def add_to_row(model, pk: int, **deltas: int) -> None:
    """UPDATE one row: column = column + delta for each keyword (a prepared statement, as
    above); only ever on a row this transaction has locked."""
    q = connection.ops.quote_name
    names = sorted(deltas)
    key = f"add:{model._meta.label}:{','.join(names)}"
    if key not in _sql_cache:
        sets = ", ".join(f"{q(n)} = {q(n)} + %s" for n in names)
        _sql_cache[key] = (  # names from the model, values as parameters
            f"UPDATE {q(model._meta.db_table)} SET {sets} WHERE {q(model._meta.pk.column)} = %s")  # noqa: S608
    with prepared.cursor() as cursor:
        cursor.execute(_sql_cache[key], [deltas[n] for n in names] + [pk])


def add_to_balance(account_id: int, delta: int, activity_on: date) -> None:
    """balance = balance + delta and the day of the member's last activity, in one statement
    (on the account row this transaction has locked)."""
    with prepared.cursor() as cursor:
        cursor.execute(*balance_statement(account_id, delta, activity_on))


def balance_statement(account_id: int, delta: int, activity_on: date) -> tuple[str, list]:
    """`add_to_balance`'s statement, to run with others (`move_open_drawer(before=...)`)."""
    key = f"balance_activity:{prepared.vendor()}"
    if key not in _sql_cache:
        q = connection.ops.quote_name
        _sql_cache[key] = (  # names from the model, values as parameters
            f"UPDATE {q(SavingsAccount._meta.db_table)} SET {q('balance')} = "  # noqa: S608
            f"{q('balance')} + %s, {q('last_activity_on')} = %s WHERE {q('id')} = %s")
    return _sql_cache[key], [delta, connection.ops.adapt_datefield_value(activity_on),
                             account_id]


_AUDIT_COLUMNS = ("actor_id", "organisation_id", "unit_id", "event_type", "subject_type",
                  "subject_id", "created_at", "after")


def audit_posted(*, actor, event_type: str, subject, after: dict[str, Any], unit: Unit) -> None:
    """The row `core.audit.audit_log` writes for a counter operation, by a prepared statement
    (one per deposit: the ORM's create costs more than the insert)."""
    with prepared.cursor() as cursor:
        cursor.execute(*audit_statement(actor=actor, event_type=event_type, subject=subject,
                                        after=after, unit=unit))


def audit_statement(*, actor, event_type: str, subject, after: dict[str, Any], unit: Unit
                    ) -> tuple[str, list]:
    """`audit_posted`'s statement, to run with others (`finish(..., statements)`)."""
    key = f"audit:{prepared.vendor()}"
    if key not in _sql_cache:
        q = connection.ops.quote_name
        _sql_cache[key] = (  # names from the model, values as parameters
            f"INSERT INTO {q(AuditEvent._meta.db_table)} "  # noqa: S608
            f"({', '.join(q(c) for c in _AUDIT_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_AUDIT_COLUMNS))})")
    ops = connection.ops
    return _sql_cache[key], [
        actor.pk if getattr(actor, "pk", None) else None, unit.organisation_id, unit.pk,
        event_type, subject._meta.label_lower, str(subject.pk),
        ops.adapt_datetimefield_value(timezone.now()), ops.adapt_json_value(after, None)]


# The counter's hot path (every deposit and withdrawal) reads the account with its product,
# caisse and the caisse's overrides, finds the teller's drawer, moves balances and inserts its
# rows with statements prepared once per process: the ORM compiles every query anew (0.15 ms
# for an insert, 0.3-0.6 ms for these joins: more than the database work), and the issue's
# benchmark asks for 1,000 deposits a second. Everything else uses the ORM.
_FIELDS = {model: [f for f in model._meta.concrete_fields]
           for model in (SavingsAccount, SavingsProduct, Unit, DrawerSession)}
_sql_cache: dict[str, str] = {}


def _columns(model, alias: str) -> str:
    q = connection.ops.quote_name
    return ", ".join(f"{alias}.{q(f.column)}" for f in _FIELDS[model])


_CONVERT = {model: [None if f.get_internal_type() in prepared.PLAIN else f.to_python for f in fields]
            for model, fields in _FIELDS.items()}
_ATTNAMES = {model: [f.attname for f in fields] for model, fields in _FIELDS.items()}


def _from_row(model, values):
    # to_python turns SQLite's storage (ints for decimals, ISO text for dates) into the field's
    # type; PostgreSQL's values pass through unchanged.
    return prepared.loaded(model, _ATTNAMES[model],
                           [v if conv is None or v is None else conv(v)
                            for conv, v in zip(_CONVERT[model], values, strict=True)])


def _lock_sql() -> str:
    key = f"lock:{prepared.vendor()}"
    sql = _sql_cache.get(key)
    if sql is None:
        q = connection.ops.quote_name
        t = {m: q(m._meta.db_table) for m in (SavingsAccount, SavingsProduct, Unit,
                                              ProductOverride, SmsPreference)}
        overrides = ", ".join(f"o.{q(name)}" for name in OVERRIDABLE)
        # Only the account row is locked (PostgreSQL: FOR UPDATE OF a; the override and the
        # SMS preference are on the nullable side of outer joins). SQLite's BEGIN IMMEDIATE
        # already serialises writers.
        lock = " FOR UPDATE OF a" if connection.features.has_select_for_update_of else ""
        sql = _sql_cache[key] = (  # names from the model, values as parameters
            f"SELECT {_columns(SavingsAccount, 'a')}, {_columns(SavingsProduct, 'p')}, "  # noqa: S608
            f"{_columns(Unit, 'u')}, o.{q('id')}, {overrides}, s.{q('opt_in')} "
            f"FROM {t[SavingsAccount]} a JOIN {t[SavingsProduct]} p ON p.id = a.product_id "
            f"JOIN {t[Unit]} u ON u.id = a.caisse_id "
            f"LEFT JOIN {t[ProductOverride]} o ON o.product_id = a.product_id "
            f"AND o.caisse_id = a.caisse_id "
            f"LEFT JOIN {t[SmsPreference]} s ON s.{q('person_id')} = a.{q('person_id')} "
            f"WHERE a.id = %s{lock}")
    return sql


def lock_account(account_id: int) -> SavingsAccount:
    """The account row, locked until the transaction ends, with its product, caisse and the
    caisse's overrides of the product (so `setting` needs no further query), and the holder's
    SMS opt-in as `sms_opt_in` (None: no preference row), which decides without a further
    query that most members get no receipt by SMS (services.sms)."""
    with prepared.cursor() as cursor:
        cursor.execute(_lock_sql(), [account_id])
        row = cursor.fetchone()
    if row is None:
        raise SavingsAccount.DoesNotExist(account_id)
    na, np_, nu = (len(_FIELDS[m]) for m in (SavingsAccount, SavingsProduct, Unit))
    acc = _from_row(SavingsAccount, row[:na])
    acc.product = _from_row(SavingsProduct, row[na:na + np_])
    acc.caisse = _from_row(Unit, row[na + np_:na + np_ + nu])
    override_id, values = row[na + np_ + nu], row[na + np_ + nu + 1:-1]
    acc.sms_opt_in = None if row[-1] is None else bool(row[-1])
    acc._overrides = {} if override_id is None else {
        name: ProductOverride._meta.get_field(name).to_python(v) if v is not None else None
        for name, v in zip(OVERRIDABLE, values, strict=True)}
    return acc


def lock_accounts(*ids: int) -> dict[int, SavingsAccount]:
    """Lock several accounts in primary-key order, so that two operations touching the same
    accounts from opposite ends (A->B and B->A) cannot deadlock."""
    return {pk: lock_account(pk) for pk in sorted(set(ids))}


def open_drawer_for(user, caisse: Unit) -> DrawerSession:
    """The teller's open drawer at this caisse, locked; every cash operation moves it."""
    key = f"drawer:{prepared.vendor()}"
    if key not in _sql_cache:
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        _sql_cache[key] = (  # names from the model, values as parameters
            f"SELECT {_columns(DrawerSession, 'd')} FROM "  # noqa: S608
            f"{connection.ops.quote_name(DrawerSession._meta.db_table)} d "
            f"WHERE d.teller_id = %s AND d.caisse_id = %s AND d.status = %s{lock}")
    with prepared.cursor() as cursor:
        cursor.execute(_sql_cache[key], [user.pk, caisse.pk, DrawerStatus.OPEN.value])
        row = cursor.fetchone()
    if row is None:
        raise _drawer_closed()
    return _from_row(DrawerSession, row)


def move_open_drawer(user, caisse: Unit, *, cash_in: int = 0, cash_out: int = 0,
                     before: tuple[tuple[str, list], ...] = ()) -> DrawerSession:
    """`open_drawer_for` and the drawer's move in one statement: UPDATE ... RETURNING locks the
    row as SELECT ... FOR UPDATE does (a teller has at most one open drawer: unique index).
    `before`: statements to run first, in the same round trip where the driver allows it (the
    account's balance: a missing drawer then fails the transaction, which rolls it back)."""
    key = f"drawer_move:{prepared.vendor()}"
    if key not in _sql_cache:
        q = connection.ops.quote_name
        _sql_cache[key] = (  # names from the model, values as parameters
            f"UPDATE {q(DrawerSession._meta.db_table)} SET "  # noqa: S608
            f"{q('cash_in')} = {q('cash_in')} + %s, {q('cash_out')} = {q('cash_out')} + %s "
            f"WHERE {q('teller_id')} = %s AND {q('caisse_id')} = %s AND {q('status')} = %s "
            f"RETURNING {', '.join(q(f.column) for f in _FIELDS[DrawerSession])}")
    with prepared.cursor() as cursor:
        cursor.execute_all([*before, (_sql_cache[key], [cash_in, cash_out, user.pk, caisse.pk,
                                                         DrawerStatus.OPEN.value])])
        row = cursor.fetchone()
    if row is None:
        raise _drawer_closed()
    return _from_row(DrawerSession, row)


def _drawer_closed() -> ApplicationError:
    return ApplicationError("drawer_closed",
                            _("Open your cash drawer before taking or giving cash."),
                            {"drawer": _("No open drawer.")}, status_code=409)


@contextmanager
def service_transaction(idempotency: IdempotencyClaim | None) -> Iterator[None]:
    """The service's own (outermost) transaction; the API's idempotency claim is inserted first,
    so a second call with the same key waits for this one and then replays its answer."""
    with transaction.atomic(durable=True):
        if idempotency is not None:
            idempotency.begin()
        yield


def batch_transaction():
    """The transaction of a batch run over a whole caisse (interest, maturities, dormancy):
    its own when a manager runs it, part of the caller's when close of business runs it as one
    step of a caisse's day (so the step commits or vanishes with the rest of that day). Counter
    operations keep `service_transaction`: they are always the outermost transaction."""
    return transaction.atomic()


def finish(idempotency: IdempotencyClaim | None, result: Any,
           *statements: tuple[str, list]) -> Any:
    """The service's last writes: `statements` (its audit row), then the key's answer, in one
    round trip where the driver allows it."""
    if idempotency is not None:
        idempotency.finish(result, statements)
    elif statements:
        with prepared.cursor() as cursor:
            cursor.execute_all(statements)
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
