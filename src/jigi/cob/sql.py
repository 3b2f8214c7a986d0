# ruff: noqa: S608  (SQL built from model table names and generated CASE bands; values are parameters)
"""The set-based statements of close of business, one caisse at a time.

Each statement works on every loan of a caisse at once (no query per loan). Table and column
names come from the models; every value is a parameter. The rules are those of
`jigi.cob.rules` (the CASE expressions are generated from its bands), checked loan by loan
against the pure functions in tests/cob.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.db import connection
from django.utils import timezone

from jigi.cob import rules
from jigi.cob.models import LoanRisk, Reminder
from jigi.credit.models import Guarantor, Installment, Loan, LoanProduct, Rescheduling
from jigi.ledger.models import Account, JournalLine
from jigi.savings.models import SavingsAccount, SavingsProduct


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _days(later: str, earlier: str) -> str:
    """Whole days from `earlier` to `later` (two date expressions)."""
    if connection.vendor == "postgresql":
        return f"(({later})::date - ({earlier})::date)"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _d(on: date):
    return connection.ops.adapt_datefield_value(on)


class _Prepared:
    """A psycopg 3 cursor binding its parameters on the server, each statement prepared once
    per connection: the loan-state statement takes 2-5 ms to plan, a day runs it 100 times."""

    __slots__ = ("_c",)

    def __init__(self, raw) -> None:
        self._c = raw

    def execute(self, sql: str, params: Any = None) -> None:
        self._c.execute(sql, params, prepare=True)

    def fetchone(self):
        return self._c.fetchone()

    def fetchall(self):
        return self._c.fetchall()

    @property
    def rowcount(self) -> int:
        return self._c.rowcount


@contextmanager
def _cursor() -> Iterator[Any]:
    """The cursor of the per-caisse statements. SQLite's driver keeps its statements prepared
    already; Django's PostgreSQL cursor binds on the client (nothing prepared), so there a
    server-binding cursor on the same connection (same transaction)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    try:
        with connection.wrap_database_errors:
            yield _Prepared(raw)
    finally:
        raw.close()


# Outstanding parts of an instalment (as credit.services._common.due_of).
_PRINCIPAL_OUT = "(i.principal - i.principal_paid)"
_INTEREST_OUT = "(i.interest - i.interest_paid - i.interest_waived)"
_TOTAL_OUT = (f"({_PRINCIPAL_OUT} + {_INTEREST_OUT} + (i.fees - i.fees_paid) "
              "+ (i.penalties - i.penalties_paid))")


def penalties_charge(caisse_id: int, on: date) -> int:
    """credit.allocation.penalties_to_charge for every loan of the caisse, each by its
    product: a one-off penalty of `penalty_percent` of the unpaid principal and interest on
    each instalment of the current schedule overdue by more than the product's grace days,
    not yet penalised, when it comes to at least one franc. One statement; returns how many
    instalments were penalised."""
    percent = "CAST(p.penalty_percent * 100 AS INTEGER)"
    amount = f"(({_PRINCIPAL_OUT} + {_INTEREST_OUT}) * {percent} / 10000)"
    own = amount.replace("i.", f"{_t(Installment)}.")
    # The caisse's loans first (MATERIALIZED: the planners would otherwise walk every
    # instalment of the loan through the narrower loan index), then each loan's unpaid
    # instalments already due through the schedule index; the UPDATE touches only those.
    sql = (f"UPDATE {_t(Installment)} SET penalties = penalties + (SELECT {own} "
           f"FROM {_t(Loan)} l JOIN {_t(LoanProduct)} p ON p.id = l.product_id "
           f"WHERE l.id = {_t(Installment)}.loan_id), penalised = %(t)s "
           "WHERE id IN (WITH lo AS MATERIALIZED (SELECT l.id AS id, l.schedule_version AS v, "
           "p.penalty_percent AS penalty_percent, p.penalty_grace_days AS penalty_grace_days "
           f"FROM {_t(Loan)} l JOIN {_t(LoanProduct)} p ON p.id = l.product_id "
           "WHERE l.caisse_id = %(c)s AND l.status = 'active' AND p.penalty_percent > 0) "
           f"SELECT i.id FROM lo p JOIN {_t(Installment)} i ON i.loan_id = p.id "
           "AND i.version = p.v AND i.due_on < %(d)s AND i.paid_on IS NULL "
           f"WHERE i.penalised = %(f)s AND {_days('%(d)s', 'i.due_on')} > p.penalty_grace_days "
           f"AND {amount} > 0 AND {_TOTAL_OUT} > 0)")
    with _cursor() as cursor:
        cursor.execute(sql, {"t": True, "f": False, "c": caisse_id, "d": _d(on)})
        return cursor.rowcount


def _case(days: str, pick) -> str:
    whens = []
    for upper, name, percent, account in rules.BANDS:
        value = pick(name, percent, account)
        if upper is None:
            whens.append(f"ELSE {value}")
        else:
            whens.append(f"WHEN {days} <= {upper} THEN {value}")
    return f"CASE {' '.join(whens)} END"


def _risk_sql() -> str:
    inst, on = _t(Installment), connection.ops.quote_name("on")
    schedule = f"FROM {inst} i WHERE i.loan_id = l.id AND i.version = l.schedule_version "
    unpaid = f"AND i.due_on < %(d)s AND i.paid_on IS NULL AND {_TOTAL_OUT} > 0"
    # Each loan's schedule is read through its index (credit migration 0003: loan, version,
    # due_on, paid_on, number): the instalment due next and the last due date passed from the
    # index alone, and only the unpaid instalments already due from the table. Walking every
    # instalment row (13 a loan, of which one or two matter) was most of the time of a day.
    # An unpaid instalment may still owe nothing (everything waived): the outstanding test
    # stays.
    loans = (
        "SELECT l.id AS loan_id, l.product_id AS product_id, l.gl_account AS loan_account, "
        "l.restructured AS restructured, l.principal_outstanding AS po, "
        "l.disbursed_on AS disbursed_on, l.schedule_version AS v, "
        "l.guarantee_account_id AS guarantee_account_id, "
        f"(SELECT MIN(i.number) {schedule}AND i.due_on > %(d)s) AS cur_n, "
        f"(SELECT MAX(i.due_on) {schedule}AND i.due_on <= %(d)s) AS prev_due "
        f"FROM {_t(Loan)} l WHERE l.caisse_id = %(c)s AND l.status = 'active' "
        "AND l.disbursed_on <= %(d)s")
    # Arrears in one pass over each loan's unpaid instalments already due (grouped by every
    # column of lo: PostgreSQL wants them named, SQLite then needs no second look-up).
    # CAST: PostgreSQL sums bigints as numeric, and numeric division is not integer.
    names = ("loan_id", "product_id", "loan_account", "restructured", "po", "disbursed_on",
             "v", "guarantee_account_id", "cur_n", "prev_due")
    overdue = (
        f"SELECT {', '.join(f'lo.{n} AS {n}' for n in names)}, MIN(i.due_on) AS oldest, "
        f"CAST(COALESCE(SUM({_TOTAL_OUT}), 0) AS BIGINT) AS overdue, "
        f"CAST(COALESCE(SUM({_PRINCIPAL_OUT}), 0) AS BIGINT) AS overdue_principal "
        f"FROM lo LEFT JOIN {inst} i ON i.loan_id = lo.loan_id AND i.version = lo.v "
        f"{unpaid} GROUP BY {', '.join(f'lo.{n}' for n in names)}")
    is_late = "(a.overdue > p.arrears_tolerance)"
    base = (
        "SELECT a.loan_id AS loan_id, a.product_id AS product_id, "
        "a.loan_account AS loan_account, a.restructured AS restructured, a.po AS po, "
        f"CASE WHEN {is_late} THEN {_days('%(d)s', 'a.oldest')} ELSE 0 END AS dpd, "
        f"CASE WHEN {is_late} THEN a.overdue ELSE 0 END AS overdue, "
        f"CASE WHEN {is_late} THEN a.overdue_principal ELSE 0 END AS overdue_principal, "
        "COALESCE(sa.balance, 0) + COALESCE((SELECT CAST(SUM(g.amount) AS BIGINT) "
        f"FROM {_t(Guarantor)} g WHERE g.loan_id = a.loan_id AND g.released_on IS NULL), 0) "
        "AS guarantee, "
        "CASE WHEN p.interest_method = 'declining_balance' THEN ci.id END AS ci_id, "
        "ci.interest - ci.interest_waived AS ci_interest, ci.interest_paid AS ci_paid, "
        "ci.due_on AS ci_due, "
        # Accrual starts at the last due date passed, else at the rescheduling that made this
        # version, else at the disbursement.
        f"COALESCE(a.prev_due, (SELECT MAX(r.{on}) FROM {_t(Rescheduling)} r "
        "WHERE r.loan_id = a.loan_id AND r.to_version = a.v), a.disbursed_on) AS start "
        f"FROM ov a JOIN {_t(LoanProduct)} p ON p.id = a.product_id "
        f"LEFT JOIN {inst} ci ON ci.loan_id = a.loan_id AND ci.version = a.v "
        "AND ci.number = a.cur_n "
        f"LEFT JOIN {_t(SavingsAccount)} sa ON sa.id = a.guarantee_account_id")
    restructured = "(b.restructured OR b.loan_account = '291')" \
        if connection.vendor == "postgresql" else "(b.restructured = 1 OR b.loan_account = '291')"
    account = _case("b.dpd", lambda n, p, a: f"'{a}'" if a else "b.loan_account")
    pbase = "CASE WHEN b.po > b.guarantee THEN b.po - b.guarantee ELSE 0 END"
    rate = _case("b.dpd", lambda n, p, a: str(p))
    columns = ("loan_id", "caisse_id", "product_id", "as_of", "loan_account", "ledger_account",
               "days_past_due", "overdue_amount", "overdue_principal", "principal_outstanding",
               "guarantee", "risk_class", "provision_rate", "provision_base", "provision",
               "accrued_interest", "write_off_proposed")
    # MATERIALIZED: each loan's look-ups run once (inlined, they ran once per use: the start
    # of the period eight times).
    return (
        f"WITH lo AS MATERIALIZED ({loans}), ov AS MATERIALIZED ({overdue}), "
        f"b0 AS MATERIALIZED ({base}), "
        f"b AS (SELECT b0.*, CASE WHEN b0.ci_id IS NOT NULL "
        f"AND {_days('%(d)s', 'b0.start')} > 0 AND {_days('b0.ci_due', 'b0.start')} > 0 "
        f"THEN b0.ci_interest * {_days('%(d)s', 'b0.start')} "
        f"/ {_days('b0.ci_due', 'b0.start')} - b0.ci_paid ELSE 0 END AS accrued FROM b0) "
        f"INSERT INTO {_t(LoanRisk)} ({', '.join(columns)}) "  # noqa: S608
        "SELECT b.loan_id, %(c)s, b.product_id, %(d)s, b.loan_account, "
        f"CASE WHEN {restructured} THEN '291' ELSE {account} END, "
        "b.dpd, b.overdue, b.overdue_principal, b.po, b.guarantee, "
        f"{_case('b.dpd', lambda n, p, a: repr(n))}, {rate}, {pbase}, "
        f"({pbase} * {rate} + 99) / 100, "
        "CASE WHEN b.accrued > 0 THEN b.accrued ELSE 0 END, "
        f"b.dpd > {rules.WRITE_OFF_AFTER_DAYS} FROM b "
        # Each loan's row is rewritten in place: accrual moves every row every day, but an
        # UPDATE leaves the loan's primary-key entry alone and, on PostgreSQL, stays on its
        # page (HOT, cob/0002 leaves room) where DELETE + INSERT wrote each row, its two index
        # entries and the dead copies to the log. "WHERE true": SQLite's upsert after SELECT.
        "WHERE true ON CONFLICT (loan_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns if c != "loan_id"))


_cache: dict[str, str] = {}


def risk_refresh(caisse_id: int, on: date) -> None:
    """Make the caisse's LoanRisk rows the state on `on`: one row written per active loan
    disbursed by then, and the rows of loans no longer there (closed, written off, not yet
    disbursed on `on`) removed (two statements)."""
    key = f"risk:{connection.vendor}"
    if key not in _cache:
        _cache[key] = _risk_sql()
    with _cursor() as cursor:
        cursor.execute(_cache[key], {"c": caisse_id, "d": _d(on)})
        cursor.execute(f"DELETE FROM {_t(LoanRisk)} WHERE caisse_id = %s "  # noqa: S608
                       "AND as_of <> %s", [caisse_id, _d(on)])


def risk_totals(caisse_id: int) -> dict:
    """Targets of the caisse's balance adjustments, from its LoanRisk rows."""
    sql = (f"SELECT loan_account, ledger_account, COUNT(*), SUM(principal_outstanding), "  # noqa: S608
           f"SUM(provision), SUM(accrued_interest), SUM(CASE WHEN days_past_due > 0 "
           f"THEN 1 ELSE 0 END) FROM {_t(LoanRisk)} WHERE caisse_id = %s "
           "GROUP BY loan_account, ledger_account")
    out = {"classified": {}, "provision": 0, "accrued": 0, "loans": 0, "late": 0,
           "outstanding": 0}
    with _cursor() as cursor:
        cursor.execute(sql, [caisse_id])
        for source, target, n, po, prov, acc, late in cursor.fetchall():
            out["loans"] += n
            out["late"] += int(late or 0)
            out["outstanding"] += int(po or 0)
            out["provision"] += int(prov or 0)
            out["accrued"] += int(acc or 0)
            if target in rules.SOUFFRANCE:
                out["classified"][(source, target)] = int(po or 0)
    return out


def adjusted_accounts(organisation_id: int) -> dict[int, str]:
    """Ids of the accounts close of business adjusts (27, 292-294, 299) in the chart."""
    codes = [rules.ACCRUED_INTEREST, rules.PROVISIONS, *rules.SOUFFRANCE]
    return dict(Account.objects.filter(organisation_id=organisation_id, code__in=codes)
                .values_list("pk", "code"))


def ledger_state(book_id: int, ids: dict[int, str]) -> dict:
    """What the book holds on the accounts close of business adjusts: 27 (debit balance), 299
    (credit balance), and 292-294 per "source>target" subledger (close of business is the
    only poster to them)."""
    placeholders = ", ".join(["%s"] * len(ids))
    sql = (f"SELECT account_id, subledger, SUM(CASE WHEN side = 'D' THEN amount "  # noqa: S608
           f"ELSE -amount END) FROM {_t(JournalLine)} WHERE book_id = %s "
           f"AND account_id IN ({placeholders}) GROUP BY account_id, subledger")
    out = {"accrued": 0, "provision": 0, "classified": {}}
    with _cursor() as cursor:
        cursor.execute(sql, [book_id, *ids])
        for account_id, subledger, amount in cursor.fetchall():
            code = ids[account_id]
            amount = int(amount)
            if code == rules.ACCRUED_INTEREST:
                out["accrued"] += amount
            elif code == rules.PROVISIONS:
                out["provision"] -= amount
            elif ">" in (subledger or ""):
                source, target = subledger.split(">", 1)
                key = (source, code)
                out["classified"][key] = out["classified"].get(key, 0) + amount
    return out


def reminders_queue(caisse_id: int, on: date, days: int) -> int:
    """Queue a reminder for every unpaid instalment of the current schedule due `days` after
    `on` (once per instalment and due date)."""
    due = date.fromordinal(on.toordinal() + days)
    # CROSS JOIN: SQLite then walks the caisse's loans and looks each one's due date up in the
    # schedule index. Left to itself it read every unpaid instalment of the network due that
    # day (the partial index on due_on) for each caisse: 100 x 8,000 rows on a busy day.
    sql = (f"INSERT INTO {_t(Reminder)} (installment_id, loan_id, caisse_id, due_on, "  # noqa: S608
           "amount, queued_for, status, created_at) "
           f"SELECT i.id, i.loan_id, l.caisse_id, i.due_on, {_TOTAL_OUT}, %s, 'queued', %s "
           f"FROM {_t(Loan)} l CROSS JOIN {_t(Installment)} i WHERE i.loan_id = l.id "
           "AND i.version = l.schedule_version AND l.caisse_id = %s "
           f"AND l.status = 'active' AND i.paid_on IS NULL AND i.due_on = %s "
           f"AND {_TOTAL_OUT} > 0 "
           "ON CONFLICT DO NOTHING")
    with _cursor() as cursor:
        cursor.execute(sql, [_d(on), connection.ops.adapt_datetimefield_value(timezone.now()),
                             caisse_id, _d(due)])
        return cursor.rowcount


def savings_due(caisse_id: int, on: date, dormant_before: date | None) -> tuple[bool, bool]:
    """(a term deposit reaches maturity, an account may turn dormant) in the caisse on `on`:
    one query deciding whether the savings services need to run at all. The dormancy test
    uses the shortest dormancy period of the network (a superset; the service decides)."""
    table = _t(SavingsAccount)
    product = _t(SavingsProduct)
    sql = (f"SELECT EXISTS(SELECT 1 FROM {table} a JOIN {product} p ON p.id = a.product_id "  # noqa: S608
           "WHERE a.caisse_id = %s AND p.kind = 'term' AND a.status = 'active' "
           "AND a.maturity_on <= %s)")
    params: list = [caisse_id, _d(on)]
    if dormant_before is not None:
        sql += (f", EXISTS(SELECT 1 FROM {table} a JOIN {product} p ON p.id = a.product_id "
                "WHERE a.caisse_id = %s AND p.kind IN ('voluntary', 'group') "
                "AND a.status = 'active' AND a.last_activity_on < %s)")
        params += [caisse_id, _d(dormant_before)]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bool(row[0]), bool(row[1]) if dormant_before is not None else False
