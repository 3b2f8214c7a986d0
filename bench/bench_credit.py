"""Credit repayment benchmarks (issue #4, "Speed"; docs/PERFORMANCE.md "Credit").

    .venv/bin/python bench/bench_credit.py [--repayments 3000] [--http]

1. repayments through the service layer (`loan_repay`: loan lock, instalments, penalties,
   allocation, journal entry, drawer, receipt, loan transaction, audit row) on SQLite, one
   durable transaction each, against a raw-SQL floor writing the same rows;
2. with --http: POST /api/v1/credit/loans/{id}/repayments with 8 concurrent clients (one teller,
   drawer and token each) on PostgreSQL (its own database jigi_credit_bench on 127.0.0.1:5432,
   `jigi serve` on port 8794): throughput, p50, p95.

The bench world reuses bench_savings.world (one caisse, a teller with her drawer open, member
accounts); its loans are COM loans whose schedules come from the real engine, inserted as
disbursed (set-up, not measured) with one balanced disbursement entry.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_savings import JIGI, setup_django, world  # noqa: E402

PORT = 8794


def make_loans(caisse, persons: list[int], n: int, disbursed_on: date) -> list:
    """`n` active COM loans of 120,000 F over 12 months (schedules from the engine), inserted
    directly with one balanced disbursement entry (D 202 per loan, C 101)."""
    from django.db import transaction

    from jigi.credit.models import Installment, Loan, LoanStatus
    from jigi.credit.services._common import schedule_of
    from jigi.credit.services.applications import terms_for
    from jigi.credit.setup import kondo_loan_products_seed
    from jigi.ledger.rules import LineSpec
    from jigi.ledger.services import entry_post
    from jigi.savings.services._common import book_of

    product = kondo_loan_products_seed(organisation=caisse.organisation)["COM"]
    terms = terms_for(product, principal=120_000, repayments=12, disbursed_on=disbursed_on,
                      first_repayment_on=None, seasonal=None)
    schedule, teg = schedule_of(terms)
    with transaction.atomic():
        loans = Loan.objects.bulk_create([Loan(
            number=f"{caisse.code}-PB-{k:05d}", product=product, caisse=caisse,
            person_id=persons[k % len(persons)], status=LoanStatus.ACTIVE, principal=120_000,
            terms=terms, teg_annual=teg.annual_rate_percent, teg_period=teg.period_rate_percent,
            applied_on=disbursed_on, expected_disbursement_on=disbursed_on,
            approved_on=disbursed_on, disbursed_on=disbursed_on, principal_outstanding=120_000)
            for k in range(n)])
        Installment.objects.bulk_create([
            Installment(loan=loan, number=i.number, due_on=i.due_on, principal=int(i.principal),
                        interest=int(i.interest), fees=int(i.fees))
            for loan in loans for i in schedule.installments], batch_size=5000)
        for chunk in range(0, n, 400):
            part = loans[chunk:chunk + 400]
            entry_post(book=book_of(caisse), value_date=disbursed_on, acting_user=None,
                       audit=False, description="Banc d'essai: décaissements",
                       lines=[*(LineSpec("202", "D", 120_000, loan.number) for loan in part),
                              LineSpec("101", "C", 120_000 * len(part))])
    return loans


def bench_service_vs_floor(n: int) -> tuple[float, float]:
    from django.db import connection, transaction

    from jigi.credit.models import Installment
    from jigi.credit.services import loan_repay
    from jigi.ledger.models import Account, Book
    from jigi.ledger.selectors import ledger_verify

    caisse, teller, _manager, _products, accounts = world(200)
    persons = [a.person_id for a in accounts]
    today = date.today()
    # Loans disbursed 40 days ago: the first instalment is due; paying it takes the normal
    # allocation path (penalties checked, oldest instalment first, interest then principal).
    loans = make_loans(caisse, persons, max(200, n // 4), today - timedelta(days=40))
    rng = random.Random(1)
    for loan in loans[:50]:  # warm caches (chart, book, scope) as a running server has them
        loan_repay(acting_user=teller, loan=loan, amount=1_000, on=today)
    t = time.perf_counter()
    for k in range(n):
        loan_repay(acting_user=teller, loan=loans[k % len(loans)],
                   amount=rng.randrange(10, 60) * 100, on=today)
    service = n / (time.perf_counter() - t)
    assert ledger_verify(Book.objects.get(unit=caisse)) == []

    # Floor: the same rows by hand-written SQL, one transaction per repayment: lock the loan,
    # read its open instalments, pay the oldest, move the loan's totals, entry + 3 lines +
    # balances, drawer, receipt, loan transaction, audit row.
    book = Book.objects.get(unit=caisse)
    acc = dict(Account.objects.filter(organisation=caisse.organisation,
                                      code__in=["102", "202", "7021"]).values_list("code", "pk"))
    inst_table = Installment._meta.db_table
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    t = time.perf_counter()
    for k in range(n):
        loan = loans[k % len(loans)]
        amount = rng.randrange(10, 60) * 100
        with transaction.atomic(), connection.cursor() as c:
            c.execute(f"SELECT id, principal_outstanding FROM credit_loan WHERE id = %s{lock}",
                      [loan.pk])
            c.fetchone()
            c.execute(f"SELECT id, interest - interest_paid, principal - principal_paid "  # noqa: S608
                      f"FROM {inst_table} WHERE loan_id = %s AND version = 1 AND paid_on IS NULL "
                      "ORDER BY number", [loan.pk])
            rows = c.fetchall()
            inst_id, interest_due, _principal_due = rows[0]
            interest = min(amount, interest_due)
            principal = amount - interest
            c.execute(f"UPDATE {inst_table} SET interest_paid = interest_paid + %s, "  # noqa: S608
                      "principal_paid = principal_paid + %s WHERE id = %s",
                      [interest, principal, inst_id])
            c.execute("UPDATE credit_loan SET principal_paid = principal_paid + %s, "
                      "interest_paid = interest_paid + %s, principal_outstanding = "
                      "principal_outstanding - %s WHERE id = %s",
                      [principal, interest, principal, loan.pk])
            c.execute("UPDATE core_counter SET value = value + 1 WHERE scope = %s AND year = %s "
                      "RETURNING value", [f"entry:{book.pk}", today.year])
            number = c.fetchone()[0]
            c.execute("INSERT INTO ledger_journalentry (book_id, year, number, value_date, "
                      "posting_date, description, source_type, source_id, created_at, "
                      "created_by_id) VALUES (%s, %s, %s, %s, %s, %s, 'credit', %s, %s, %s) "
                      "RETURNING id", [book.pk, today.year, number, today, today,
                                       "Remboursement", loan.number, now, teller.pk])
            entry = c.fetchone()[0]
            lines = [(entry, book.pk, today, acc["102"], "D", amount, "")]
            if principal:
                lines.append((entry, book.pk, today, acc["202"], "C", principal, loan.number))
            if interest:
                lines.append((entry, book.pk, today, acc["7021"], "C", interest, loan.number))
            c.executemany("INSERT INTO ledger_journalline (entry_id, book_id, value_date, "
                          "account_id, side, amount, subledger) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                          lines)
            for _e, _b, _d, account, side, value, _s in lines:
                column = "debit" if side == "D" else "credit"
                c.execute(f"UPDATE ledger_accountbalance SET {column} = {column} + %s "  # noqa: S608
                          "WHERE book_id = %s AND account_id = %s", [value, book.pk, account])
            c.execute("UPDATE savings_drawersession SET cash_in = cash_in + %s "
                      "WHERE teller_id = %s AND status = 'open'", [amount, teller.pk])
            c.execute("UPDATE core_counter SET value = value + 1 WHERE scope = %s AND year = %s "
                      "RETURNING value", [f"receipt:{caisse.pk}", today.year])
            receipt_no = c.fetchone()[0]
            c.execute("INSERT INTO savings_receipt (caisse_id, year, number, kind, amount, "
                      "issued_at, issued_by_id, person_id, account_number, balance_after, "
                      "description) VALUES (%s,%s,%s,'repayment',%s,%s,%s,%s,%s,%s,'') "
                      "RETURNING id", [caisse.pk, today.year, receipt_no, amount, now,
                                       teller.pk, loan.person_id, loan.number, 0])
            receipt = c.fetchone()[0]
            c.execute("INSERT INTO credit_loantransaction (loan_id, kind, amount, principal, "
                      "interest, fees, penalties, excess_to_savings, portions, value_date, "
                      "channel, receipt_id, journal_entry_id, reversed, note, created_at, "
                      "created_by_id, idempotency_key) VALUES (%s, 'repayment', %s, %s, %s, 0, "
                      "0, 0, %s, %s, 'cash', %s, %s, false, '', %s, %s, '')",
                      [loan.pk, amount, principal, interest,
                       json.dumps([{"number": 1, "principal": principal, "interest": interest,
                                    "fees": 0, "penalties": 0, "waived": 0}]),
                       today, receipt, entry, now, teller.pk])
            c.execute("INSERT INTO core_auditevent (event_type, subject_type, subject_id, "
                      "created_at, actor_id, unit_id) VALUES ('credit.loan_repayment', "
                      "'credit.loan', %s, %s, %s, %s)", [str(loan.pk), now, teller.pk,
                                                         caisse.pk])
    floor = n / (time.perf_counter() - t)
    print(f"repayments via loan_repay (SQLite): {service:,.0f}/s "
          f"({1000 / service:.2f} ms each)")
    print(f"raw-SQL floor, same rows (SQLite):  {floor:,.0f}/s ({1000 / floor:.2f} ms each)")
    print(f"ratio service/floor:                {service / floor:.2f}")
    return service, floor


def bench_http(total: int = 2000, clients: int = 8, workers: int = 1, threads: int = 8) -> None:
    from bench.http_load import fresh_postgres, run_clients, served, setup_in_child, summary

    _url, env = fresh_postgres("jigi_credit_bench")
    lines = setup_in_child(env, (
        "import bench.bench_credit as b, bench.bench_savings as s; from datetime import date, "
        "timedelta; caisse, _t, _m, _p, accounts = s.world(200);"
        "loans = b.make_loans(caisse, [a.person_id for a in accounts], 400,"
        " date.today() - timedelta(days=10));"
        "from jigi.orgs.services import api_token_create, staff_user_create;"
        "from jigi.orgs.models import Role;"
        "from jigi.savings.services import drawer_open;"
        f"users = [staff_user_create(username=f't{{i}}', password='bench-pass-1',"
        " organisation=caisse.organisation, role=Role.TELLER, unit=caisse)"
        f" for i in range({clients})];"
        "[drawer_open(acting_user=u, caisse=caisse, amount=1_000_000) for u in users];"
        "print(' '.join(str(x.pk) for x in loans));"
        "print(' '.join(api_token_create(user=u, name='bench')[1] for u in users))"
    ))
    ids = [int(x) for x in lines[-2].split()]
    tokens = lines[-1].split()
    rngs = [random.Random(ci) for ci in range(clients)]

    def request(ci: int, k: int) -> tuple[str, str, dict[str, str]]:
        rng = rngs[ci]
        own = ids[ci::clients]  # each teller her own borrowers, as at a counter
        return (f"/api/v1/credit/loans/{rng.choice(own)}/repayments",
                json.dumps({"amount": rng.randrange(5, 20) * 100}),
                {"Authorization": f"Bearer {tokens[ci]}", "Content-Type": "application/json",
                 "Idempotency-Key": f"c-{ci}-{k}"})

    with served(env, port=PORT, workers=workers, threads=threads,
                log_name="jigi-credit-bench-server.log"):
        latencies, took = run_clients(PORT, clients, total // clients, request)
    print(f"HTTP API repayments, {clients} clients, PostgreSQL, `jigi serve --workers "
          f"{workers} --threads {threads}`: {summary(latencies, took)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repayments", type=int, default=3000)
    ap.add_argument("--http", action="store_true")
    ap.add_argument("--requests", type=int, default=2000, help="--http: total requests")
    ap.add_argument("--workers", type=int, default=1, help="--http: server processes")
    ap.add_argument("--threads", type=int, default=8, help="--http: threads per process")
    args = ap.parse_args()
    if args.http:
        bench_http(total=args.requests, workers=args.workers, threads=args.threads)
        return
    tmp = tempfile.mkdtemp(prefix="jigi-bench-")
    url = f"sqlite:///{tmp}/bench.sqlite3"
    subprocess.run([JIGI, "migrate", "-v0"], env=dict(os.environ, JIGI_DATABASE_URL=url),
                   check=True)
    setup_django(url)
    bench_service_vs_floor(args.repayments)


if __name__ == "__main__":
    main()
