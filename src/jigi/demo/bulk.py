"""Fast inserts of synthetic rows for the demo (tens of thousands at a time).

Django's `bulk_create` builds a model instance and runs every field's preparation for each
value; at 75,000 persons and their links that Python work, not the database, is most of the
time. Here rows are plain tuples in a fixed column order, only dates, datetimes and JSON are
converted, and ids are assigned by us so the caller knows them without a round trip (SQLite
returns no ids from `executemany`). Only for synthetic data loaded into an otherwise idle
database; application writes go through the services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone

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
