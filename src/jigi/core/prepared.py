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
    key = (connection.vendor, name)
    sql = _statements.get(key)
    if sql is None:
        sql = _statements[key] = build()
    return sql


class _Cursor:
    """The driver's cursor with Django's error translation; a context manager that closes it."""

    __slots__ = ("_c", "_sqlite", "_errors", "_joins")

    def __init__(self, raw, sqlite: bool, errors, joins: bool = False) -> None:
        self._c = raw
        self._sqlite = sqlite
        self._errors = errors
        self._joins = joins

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc) -> None:
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
    if conn.connection is None:
        conn.ensure_connection()
    raw = conn.connection.cursor()
    return _Cursor(raw, conn.vendor == "sqlite", conn.wrap_database_errors,
                   joins=_joins_statements(raw))


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
