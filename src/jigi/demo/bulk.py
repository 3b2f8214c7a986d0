"""Fast inserts of synthetic rows for the demo (tens of thousands at a time).

Django's `bulk_create` builds a model instance and runs every field's preparation for each
value; at 75,000 persons and their links that Python work, not the database, is most of the
time. Here rows are plain tuples in a fixed column order, only dates, datetimes and JSON are
converted, and ids are assigned by us so the caller knows them without a round trip (SQLite
returns no ids from `executemany`). Only for synthetic data loaded into an otherwise idle
database; application writes go through the services.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone

from jigi.core.models import Counter
from jigi.ledger.models import Account, AccountBalance, JournalEntry, JournalLine
from jigi.ledger.rules import LineSpec, check_lines

CHUNK = 10_000

# Values of these field types go to the driver as they are (ints, strings, booleans, ids).
_AS_IS = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "ForeignKey",
    "IntegerField", "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "SmallIntegerField", "TextField",
}


class BulkInsertError(RuntimeError):
    pass


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    if kind in _AS_IS:
        return None
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def _constant_for(field: models.Field, now) -> Any:
    """The value a column the caller did not list gets: auto_now(_add), its default, NULL or
    an empty string when the field may be left blank."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if field.blank and field.empty_strings_allowed:
        return ""  # an optional text field (phone, village...) is stored empty, not NULL
    raise BulkInsertError(
        f"{field.model.__name__}.{field.name} is required and has no default: list it"
    )


def bulk_insert(model: type[models.Model], columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> list[int]:
    """Insert `rows` (values in the order of `columns`, given as attnames such as `person_id`)
    into `model`'s table and return the primary keys given to them, in order.

    Columns not listed get their auto_now/default/NULL value, so a field added to the model
    later with a default does not break the demo. Must run inside the caller's transaction.
    """
    if not connection.in_atomic_block:
        raise BulkInsertError("bulk_insert must run inside a transaction")
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    unknown = [c for c in columns if c not in by_attname or c == meta.pk.attname]
    if unknown:
        raise BulkInsertError(f"{model.__name__}: unknown or primary-key columns {unknown}")
    listed = [by_attname[c] for c in columns]
    now = timezone.now()
    rest = [f for f in meta.concrete_fields if f.attname not in columns and f is not meta.pk]
    constants = tuple(
        (_converter(f) or (lambda v: v))(_constant_for(f, now)) for f in rest
    )
    converters = [(i, conv) for i, f in enumerate(listed) if (conv := _converter(f)) is not None]
    quote = connection.ops.quote_name
    names = [meta.pk.column, *(f.column for f in listed), *(f.column for f in rest)]
    # Table and column names come from the model and are quoted; values are parameters.
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(names))})")

    next_id = (model._base_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
    ids: list[int] = []
    chunk: list[tuple[Any, ...]] = []

    def flush(cursor) -> None:
        cursor.executemany(sql, chunk)
        chunk.clear()

    with connection.cursor() as cursor:
        for row in rows:
            values = list(row)
            for i, conv in converters:
                values[i] = conv(values[i])
            chunk.append((next_id, *values, *constants))
            ids.append(next_id)
            next_id += 1
            if len(chunk) >= CHUNK:
                flush(cursor)
        if chunk:
            flush(cursor)
        # Ids were given explicitly: move the backend's sequence past them (PostgreSQL needs
        # it; on SQLite it keeps AUTOINCREMENT's bookkeeping explicit).
        for statement in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(statement)
    return ids


# --- for the demos of health, movement and learning ------------------------------------------


_moments: dict[tuple[date, int, int], datetime] = {}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware moment of the day in Bamako's time (cached: a few hundred distinct days
    stamp a hundred thousand rows)."""
    key = (day, hour, minute)
    moment = _moments.get(key)
    if moment is None:
        moment = _moments[key] = timezone.make_aware(datetime.combine(day, time(hour, minute)))
    return moment


def balances_add(totals: dict[tuple[int, int], list[int]]) -> None:
    """Add each (book id, account id) -> [debit, credit] to the account balances (created when
    missing), as entry_post does for one entry, for the whole of a bulk load at once."""
    table = connection.ops.quote_name(AccountBalance._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (book_id, account_id, debit, credit) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s) ON CONFLICT (book_id, account_id) DO UPDATE SET "
            f"debit = {table}.debit + excluded.debit, "
            f"credit = {table}.credit + excluded.credit",
            [(b, a, d, c) for (b, a), (d, c) in sorted(totals.items())])


class BulkLedger:
    """Balanced entries gathered in memory, written in bulk with their numbers, lines and
    account balances (what entry_post writes, for thousands of entries at once)."""

    def __init__(self, organisation_id: int) -> None:
        self.accounts = dict(Account.objects.filter(organisation_id=organisation_id)
                             .values_list("code", "pk"))
        self.pending: list[tuple[Any, int, date, str, str, str, list[LineSpec]]] = []

    def add(self, key: Any, book: int, day: date, description: str, source_type: str,
            source_id: str, lines: list[LineSpec]) -> None:
        lines = [ln for ln in lines if ln.amount]
        if not lines:
            return
        check_lines(lines)  # the rule entry_post applies: balanced to the franc, or raise
        self.pending.append((key, book, day, description[:255], source_type, source_id[:64],
                             lines))

    def flush(self) -> dict[Any, int]:
        """Write what was added; returns the entry id of each key."""
        rows = sorted(self.pending, key=lambda e: (e[1], e[2], e[4], e[5]))
        self.pending = []
        if not rows:
            return {}
        counters = Counters([f"entry:{book}" for book in {r[1] for r in rows}])
        entry_rows = [(book, day.year, counters.take(f"entry:{book}", day.year), day, day,
                       text, stype, sid) for _k, book, day, text, stype, sid, _l in rows]
        ids = bulk_insert(JournalEntry, ["book_id", "year", "number", "value_date",
                                         "posting_date", "description", "source_type",
                                         "source_id"], entry_rows)
        totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
        lines = []
        for entry_id, (_k, book, day, _t, _s, _i, specs) in zip(ids, rows, strict=True):
            for ln in specs:
                account = self.accounts[ln.account]
                totals[(book, account)][0 if ln.side == "D" else 1] += ln.amount
                lines.append((entry_id, book, day, account, ln.side, ln.amount, ln.subledger))
        bulk_insert(JournalLine, ["entry_id", "book_id", "value_date", "account_id", "side",
                                  "amount", "subledger"], lines)
        balances_add(totals)
        counters.save()
        return {r[0]: pk for r, pk in zip(rows, ids, strict=True)}


class Counters:
    """Gapless counters (core.numbering) continued after rows numbered here."""

    def __init__(self, scopes: Iterable[str]) -> None:
        self.existing = {(s, y): v for s, y, v in Counter.objects.filter(
            scope__in=list(scopes)).values_list("scope", "year", "value")}
        self.values: dict[tuple[str, int], int] = {}

    def take(self, scope: str, year: int) -> int:
        key = (scope, year)
        value = self.values.get(key, self.existing.get(key, 0)) + 1
        self.values[key] = value
        return value

    def save(self) -> None:
        for (scope, year), value in self.values.items():
            Counter.objects.update_or_create(scope=scope, year=year, defaults={"value": value})
