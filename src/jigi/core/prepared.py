"""Hot-path statements on the database driver's own cursor.

Every API call authenticates, computes the caller's scope and claims an idempotency key; every
deposit, repayment or eligibility check then runs a handful of statements. Through the ORM each
of those compiles its query anew (0.15-0.6 ms), and Django's cursor wrapper rewrites the
placeholders of every SQLite statement with a regular expression and goes through four layers of
wrappers: together more CPU than the database's own work (profiled in docs/PERFORMANCE.md).

So the hot paths write their statements once per process (`statement`) with `%s` placeholders
and run them through `cursor()`: the driver's cursor, the SQLite placeholders converted once per
statement, and the driver's errors turned into Django's (`IntegrityError` stays catchable as
`django.db.IntegrityError`) as Django's own wrapper does. It runs on the same connection, so it
joins the caller's transaction (`transaction.atomic`) exactly like `connection.cursor()`.
What this skips is Django's query logging (DEBUG) and `execute_wrapper` hooks: nothing here
relies on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections

_statements: dict[tuple[str, str], str] = {}
_sqlite_form: dict[str, str] = {}


def statement(name: str, build: Callable[[], str]) -> str:
    """The SQL text named `name` for this database, built once per process by `build()`
    (which may use `connection.ops` and the models' table and column names)."""
    key = (vendor(), name)
    sql = _statements.get(key)
    if sql is None:
        sql = _statements[key] = build()
    return sql


_vendor: list[str] = []


def vendor() -> str:
    """The default database's vendor ("sqlite", "postgresql"), read once per process: it never
    changes, and each `connection.vendor` looks the thread's connection up again."""
    if not _vendor:
        _vendor.append(connection.vendor)
    return _vendor[0]


class _Cursor:
    """The driver's cursor with Django's error translation; a context manager that closes it."""

    __slots__ = ("_c", "_sqlite", "_errors", "_joins", "_kept", "busy")

    def __init__(self, raw, sqlite: bool, errors, joins: bool = False,
                 kept: bool = False) -> None:
        self._c = raw
        self._sqlite = sqlite
        self._errors = errors
        self._joins = joins
        self._kept = kept
        self.busy = True

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc) -> None:
        if self._kept:
            self.busy = False  # free for the next `cursor()` of this connection
        else:
            self._c.close()

    def _sql(self, sql: str) -> str:
        if not self._sqlite:
            return sql
        converted = _sqlite_form.get(sql)
        if converted is None:
            # The statements here hold no literal "%" (they are written for parameters only).
            converted = _sqlite_form[sql] = sql.replace("%s", "?")
        return converted

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        with self._errors:
            self._c.execute(self._sql(sql), params)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> _Cursor:
        with self._errors:
            self._c.executemany(self._sql(sql), rows)
        return self

    def execute_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> _Cursor:
        """Run `statements` ((sql, params) pairs) in order; the cursor then holds the last one's
        rows. On PostgreSQL they travel as one query (psycopg's client-side binding sends it by
        the simple query protocol, which runs several statements): one round trip instead of
        one each. A failing statement fails the whole call, as it would alone (and the
        transaction it runs in, as always)."""
        if len(statements) == 1 or not self._joins:
            for sql, params in statements:
                self.execute(sql, params)
            return self
        sql = "; ".join(sql for sql, _params in statements)
        params = [p for _sql, ps in statements for p in ps]
        with self._errors:
            self._c.execute(sql, params)
            while self._c.nextset():
                pass
        return self

    def fetchone(self):
        with self._errors:
            return self._c.fetchone()

    def fetchall(self):
        with self._errors:
            return self._c.fetchall()

    @property
    def rowcount(self) -> int:
        return self._c.rowcount


def cursor() -> _Cursor:
    """`with prepared.cursor() as c: c.execute(prepared.statement(...), params)`."""
    # One look-up of the thread's connection (each `connection.x` goes through asgiref's Local).
    conn = connections[DEFAULT_DB_ALIAS]
    raw_conn = conn.connection
    if raw_conn is None:
        conn.ensure_connection()
        raw_conn = conn.connection
    kept = conn.__dict__.get("_jigi_cursor")
    if kept is not None and kept[0] is raw_conn and not kept[1].busy:
        kept[1].busy = True
        return kept[1]
    raw = raw_conn.cursor()
    sqlite = conn.vendor == "sqlite"
    joins = _joins_statements(raw)
    # PostgreSQL: one driver cursor per connection, used again by the next `with cursor()`
    # once this one's block has ended (a nested block gets its own): psycopg's cursor costs
    # more to build than a statement's parameters, and keeps no state on the server. SQLite's
    # cursors are cheap, and one left open would keep its statement (and read lock) alive.
    if not sqlite and (kept is None or kept[0] is not raw_conn):
        cursor = _Cursor(raw, sqlite, conn.wrap_database_errors, joins=joins, kept=True)
        conn.__dict__["_jigi_cursor"] = (raw_conn, cursor)
        return cursor
    return _Cursor(raw, sqlite, conn.wrap_database_errors, joins=joins)


_joining: dict[type, bool] = {}


def _joins_statements(raw) -> bool:
    """Can this driver cursor run several statements in one `execute`? psycopg 3's client-side
    binding cursor (Django's default for PostgreSQL) can; its server-side binding one, psycopg 2
    and SQLite cannot."""
    kind = type(raw)
    joins = _joining.get(kind)
    if joins is None:
        try:
            from psycopg import ClientCursor
        except ImportError:  # pragma: no cover - psycopg 3 is a dependency
            joins = False
        else:
            joins = issubclass(kind, ClientCursor)
        joins = _joining[kind] = joins
    return joins


# Model instances on the hot paths. `Model.from_db` and `Model(**kwargs)` go through
# `Model.__init__`, which checks every field, runs descriptors and sends the init signals:
# 30-100 microseconds an object, for objects the hot paths build from values they already hold
# (a deposit builds seven). These build the same objects directly; a model with init signal
# receivers (none on these paths) goes through `__init__` as before.
_new_plans: dict[type, list | None] = {}


def _plan(model) -> list | None:
    plan = _new_plans.get(model, False)
    if plan is False:
        from django.db.models import signals

        if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
            plan = None
        else:
            plan = [(f.name, f.attname,
                     f.target_field.attname if f.many_to_one or f.one_to_one else None, f)
                    for f in model._meta.concrete_fields]
        _new_plans[model] = plan
    return plan


def loaded(model, attnames: Sequence[str], values: Sequence[Any], alias: str = DEFAULT_DB_ALIAS):
    """`model.from_db(alias, attnames, values)` for a row of `attnames` (all the concrete
    fields, or some of them: the others load on access, as deferred fields do)."""
    if _plan(model) is None:
        return model.from_db(alias, attnames, values)
    from django.db.models.base import ModelState

    obj = model.__new__(model)
    obj.__dict__.update(zip(attnames, values, strict=True))
    state = obj._state = ModelState()
    state.adding, state.db = False, alias
    return obj


def new(model, **values: Any):
    """`model(**values)`: a new, unsaved object. Foreign keys are given as objects (by field
    name, cached on the object as the descriptor would) or ids (by attname); other fields take
    their defaults."""
    plan = _plan(model)
    if plan is None:
        return model(**values)
    from django.db.models.base import ModelState

    obj = model.__new__(model)
    d = obj.__dict__
    state = d["_state"] = ModelState()
    cache = state.fields_cache
    if "pk" in values:
        values[model._meta.pk.attname] = values.pop("pk")
    for name, attname, target, field in plan:
        if target is not None and name in values:
            related = values.pop(name)
            d[attname] = None if related is None else getattr(related, target)
            cache[name] = related
        elif attname in values:
            d[attname] = values.pop(attname)
        else:
            d[attname] = field.get_default()
    if values:
        raise TypeError(f"{model.__name__}: unknown fields {sorted(values)}")
    return obj


# --- one new row -------------------------------------------------------------------------------

# Field types whose Python value is already what the driver takes (no per-value preparation).
PLAIN = {"AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField",
          "ForeignKey", "IntegerField", "OneToOneField", "PositiveBigIntegerField",
          "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField", "TextField"}
_insert_plans: dict[str, list] = {}


def insert_plan(model) -> list:
    plan = _insert_plans.get(model._meta.label)
    if plan is None:
        plan = []
        for f in model._meta.concrete_fields:
            if f.primary_key:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                plan.append((f.attname, f.column, lambda obj, db, f=f: f.get_db_prep_save(
                    f.pre_save(obj, True), db)))
            elif f.get_internal_type() in PLAIN:
                plan.append((f.attname, f.column, None))
            else:
                plan.append((f.attname, f.column, lambda obj, db, f=f: f.get_db_prep_save(
                    getattr(obj, f.attname), db)))
        _insert_plans[model._meta.label] = plan
    return plan


def fast_insert(obj):
    """INSERT one new row with a statement prepared once per model: the same values Django's save() would write (pre_save fills auto_now_add),
    without compiling the query each time. Returns the object, now saved, with its id."""
    model = type(obj)
    plan = insert_plan(model)

    def build() -> str:
        q = connection.ops.quote_name
        columns = ", ".join(q(column) for _a, column, _c in plan)
        return (  # names from the model, values as parameters
            f"INSERT INTO {q(model._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(plan))}) RETURNING {q(model._meta.pk.column)}")

    sql = statement(f"insert:{model._meta.label}", build)
    db = connections[DEFAULT_DB_ALIAS]
    values = [getattr(obj, a) if conv is None else conv(obj, db) for a, _column, conv in plan]
    with cursor() as c:
        c.execute(sql, values)
        obj.pk = c.fetchone()[0]
    obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS
    return obj
