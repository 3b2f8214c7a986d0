# ruff: noqa: S608  (SQL built from model table names and generated CASE bands; values are parameters)
"""The set-based statements of close of business, one caisse at a time.

Each statement works on every loan of a caisse at once (no query per loan). Table and column
names come from the models; every value is a parameter. The rules are those of
`jigi.cob.rules` (the CASE expressions are generated from its bands), checked loan by loan
against the pure functions in tests/cob.
"""

from __future__ import annotations

from datetime import date

from django.db import connection

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
    # The instalments are chosen by id through the caisse's loans (index on the loan); the
    # UPDATE then touches only them.
    sql = (f"UPDATE {_t(Installment)} SET penalties = penalties + (SELECT {own} "
           f"FROM {_t(Loan)} l JOIN {_t(LoanProduct)} p ON p.id = l.product_id "
           f"WHERE l.id = {_t(Installment)}.loan_id), penalised = %s "
           f"WHERE id IN (SELECT i.id FROM {_t(Installment)} i "
           f"JOIN {_t(Loan)} l ON l.id = i.loan_id AND i.version = l.schedule_version "
           f"JOIN {_t(LoanProduct)} p ON p.id = l.product_id "
           "WHERE l.caisse_id = %s AND l.status = 'active' AND p.penalty_percent > 0 "
           "AND i.penalised = %s AND i.paid_on IS NULL AND i.due_on < %s "
           f"AND {_days('%s', 'i.due_on')} > p.penalty_grace_days AND {amount} > 0 "
           f"AND {_TOTAL_OUT} > 0)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, caisse_id, False, _d(on), _d(on)])
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
    loans = (f"FROM {_t(Loan)} l WHERE l.caisse_id = %(c)s AND l.status = 'active' "
             "AND l.disbursed_on <= %(d)s")
    inst = (
        # paid_on first: most past instalments are paid and AND stops there, before the
        # ten-column arithmetic (an unpaid instalment may still owe 0: both tests are needed).
        "SELECT i.loan_id AS loan_id, "
        f"MIN(CASE WHEN i.due_on < %(d)s AND i.paid_on IS NULL AND {_TOTAL_OUT} > 0 THEN i.due_on END) AS oldest, "
        # CAST: PostgreSQL sums bigints as numeric, and numeric division is not integer.
        f"CAST(SUM(CASE WHEN i.due_on < %(d)s AND i.paid_on IS NULL AND {_TOTAL_OUT} > 0 THEN {_TOTAL_OUT} ELSE 0 END)"
        " AS BIGINT) AS overdue, "
        f"CAST(SUM(CASE WHEN i.due_on < %(d)s AND i.paid_on IS NULL AND {_TOTAL_OUT} > 0 THEN {_PRINCIPAL_OUT} "
        "ELSE 0 END) AS BIGINT) AS overdue_principal, "
        "MIN(CASE WHEN i.due_on > %(d)s THEN i.number END) AS cur_n, "
        "MAX(CASE WHEN i.due_on <= %(d)s THEN i.due_on END) AS prev_due "
        f"FROM {_t(Installment)} i JOIN {_t(Loan)} l ON l.id = i.loan_id "
        "AND i.version = l.schedule_version "
        "WHERE l.caisse_id = %(c)s AND l.status = 'active' AND l.disbursed_on <= %(d)s "
        "GROUP BY i.loan_id")
    pledges = (f"SELECT g.loan_id AS loan_id, CAST(SUM(g.amount) AS BIGINT) AS amount FROM {_t(Guarantor)} g "
               f"WHERE g.released_on IS NULL AND g.loan_id IN (SELECT l.id {loans}) "
               "GROUP BY g.loan_id")
    start = (f"COALESCE(a.prev_due, (SELECT MAX(r.{connection.ops.quote_name('on')}) "
             f"FROM {_t(Rescheduling)} r WHERE r.loan_id = l.id "
             "AND r.to_version = l.schedule_version), l.disbursed_on)")
    late = "(a.overdue > p.arrears_tolerance)"
    base = (
        "SELECT l.id AS loan_id, l.product_id AS product_id, l.gl_account AS loan_account, "
        "l.restructured AS restructured, l.principal_outstanding AS po, "
        f"CASE WHEN {late} THEN {_days('%(d)s', 'a.oldest')} ELSE 0 END AS dpd, "
        f"CASE WHEN {late} THEN a.overdue ELSE 0 END AS overdue, "
        f"CASE WHEN {late} THEN a.overdue_principal ELSE 0 END AS overdue_principal, "
        "COALESCE(sa.balance, 0) + COALESCE(g.amount, 0) AS guarantee, "
        "CASE WHEN p.interest_method = 'declining_balance' THEN ci.id END AS ci_id, "
        "ci.interest - ci.interest_waived AS ci_interest, ci.interest_paid AS ci_paid, "
        f"ci.due_on AS ci_due, {start} AS start "
        f"FROM {_t(Loan)} l JOIN {_t(LoanProduct)} p ON p.id = l.product_id "
        "LEFT JOIN inst a ON a.loan_id = l.id "
        f"LEFT JOIN {_t(Installment)} ci ON ci.loan_id = l.id "
        "AND ci.version = l.schedule_version AND ci.number = a.cur_n "
        f"LEFT JOIN {_t(SavingsAccount)} sa ON sa.id = l.guarantee_account_id "
        "LEFT JOIN pledges g ON g.loan_id = l.id "
        "WHERE l.caisse_id = %(c)s AND l.status = 'active' AND l.disbursed_on <= %(d)s")
    restructured = "(b.restructured OR b.loan_account = '291')" \
        if connection.vendor == "postgresql" else "(b.restructured = 1 OR b.loan_account = '291')"
    account = _case("b.dpd", lambda n, p, a: f"'{a}'" if a else "b.loan_account")
    pbase = "CASE WHEN b.po > b.guarantee THEN b.po - b.guarantee ELSE 0 END"
    rate = _case("b.dpd", lambda n, p, a: str(p))
    columns = ("loan_id", "caisse_id", "product_id", "as_of", "loan_account", "ledger_account",
               "days_past_due", "overdue_amount", "overdue_principal", "principal_outstanding",
               "guarantee", "risk_class", "provision_rate", "provision_base", "provision",
               "accrued_interest", "write_off_proposed")
    return (
        f"WITH inst AS ({inst}), pledges AS ({pledges}), b0 AS ({base}), "
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
        f"b.dpd > {rules.WRITE_OFF_AFTER_DAYS} FROM b")


_cache: dict[str, str] = {}


def risk_refresh(caisse_id: int, on: date) -> None:
    """Replace the caisse's LoanRisk rows by the state on `on` (two statements)."""
    key = f"risk:{connection.vendor}"
    if key not in _cache:
        _cache[key] = _risk_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_t(LoanRisk)} WHERE caisse_id = %s",  # noqa: S608
                       [caisse_id])
        cursor.execute(_cache[key], {"c": caisse_id, "d": _d(on)})


def risk_totals(caisse_id: int) -> dict:
    """Targets of the caisse's balance adjustments, from its LoanRisk rows."""
    sql = (f"SELECT loan_account, ledger_account, COUNT(*), SUM(principal_outstanding), "  # noqa: S608
           f"SUM(provision), SUM(accrued_interest), SUM(CASE WHEN days_past_due > 0 "
           f"THEN 1 ELSE 0 END) FROM {_t(LoanRisk)} WHERE caisse_id = %s "
           "GROUP BY loan_account, ledger_account")
    out = {"classified": {}, "provision": 0, "accrued": 0, "loans": 0, "late": 0,
           "outstanding": 0}
    with connection.cursor() as cursor:
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
    with connection.cursor() as cursor:
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
    sql = (f"INSERT INTO {_t(Reminder)} (installment_id, loan_id, caisse_id, due_on, "  # noqa: S608
           "amount, queued_for, status, created_at) "
           f"SELECT i.id, i.loan_id, l.caisse_id, i.due_on, {_TOTAL_OUT}, %s, 'queued', %s "
           f"FROM {_t(Installment)} i JOIN {_t(Loan)} l ON l.id = i.loan_id "
           "AND i.version = l.schedule_version WHERE l.caisse_id = %s "
           f"AND l.status = 'active' AND i.paid_on IS NULL AND i.due_on = %s "
           f"AND {_TOTAL_OUT} > 0 "
           "ON CONFLICT DO NOTHING")
    from django.utils import timezone

    with connection.cursor() as cursor:
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
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bool(row[0]), bool(row[1]) if dormant_before is not None else False
