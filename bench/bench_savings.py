"""Savings benchmarks (issue #3).

    .venv/bin/python bench/bench_savings.py [--deposits 5000] [--http [--workers N --threads T]]
        [--opted-in 0.5]   (share of members getting an SMS receipt: one more row per deposit)

1. deposits through the service layer on SQLite, one transaction each, vs a raw-SQL floor
   writing the same rows (operation, journal entry + 2 lines, balances, receipt, counters,
   audit row) in one transaction per deposit;
2. interest posting for one caisse of 1,000 accounts with a year of history;
3. with --http: deposits through the HTTP API (`jigi serve`: waitress, or gunicorn with
   --workers N > 1) with 8 concurrent clients on PostgreSQL (database jigi_savings_bench on
   127.0.0.1:5432), throughput, latency and the server processes' CPU per request.
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

JIGI = str(Path(sys.executable).with_name("jigi"))
# Run as a script: the repository root on the path, for `bench.http_load`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup_django(url: str) -> None:
    os.environ["JIGI_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
    import django

    django.setup()


def world(n_accounts: int, opted_in: float = 0.0):
    """One caisse with `n_accounts` member accounts (bulk-created: set-up, not measured), a
    teller with her drawer open and a manager (for the interest run). `opted_in`: the share of
    members with a phone who asked for SMS (each of their deposits queues a receipt)."""
    from django.contrib.auth import get_user_model

    from jigi.orgs.bootstrap import accounting_unit_create, organisations_bootstrap
    from jigi.orgs.models import Role, UnitKind
    from jigi.orgs.services import role_grant
    from jigi.people.models import Person
    from jigi.people.names import name_key, search_name
    from jigi.savings.models import SavingsAccount
    from jigi.savings.services import drawer_open
    from jigi.savings.setup import kondo_products_seed

    orgs = organisations_bootstrap()
    caisse = accounting_unit_create(organisation=orgs.kondo, kind=UnitKind.CAISSE, code="B001",
                                    name="Caisse de banc d'essai", parent=orgs.network)
    teller = get_user_model().objects.create_user("bench_teller", password="bench-pass-1")
    role_grant(user=teller, organisation=orgs.kondo, role=Role.TELLER, unit=caisse)
    manager = get_user_model().objects.create_user("bench_manager", password="bench-pass-1")
    role_grant(user=manager, organisation=orgs.kondo, role=Role.CAISSE_MANAGER, unit=caisse)
    _share, products = kondo_products_seed(organisation=orgs.kondo)
    persons = Person.objects.bulk_create([
        Person(first_name="Awa", last_name=f"Bench{i}", sex="F", birth_year=1980,
               search_name=search_name("Awa", f"Bench{i}"), name_key=name_key("Awa", "Bench"))
        for i in range(n_accounts)])
    start = date.today() - timedelta(days=800)
    accounts = SavingsAccount.objects.bulk_create([
        SavingsAccount(number=f"B001-EPV-{i:06d}", product=products["EPV"], caisse=caisse,
                       person=p, opened_on=start) for i, p in enumerate(persons)])
    drawer_open(acting_user=teller, caisse=caisse, amount=1_000_000)
    if opted_in:
        from jigi.channels.models import SmsPreference

        chosen = persons[:round(len(persons) * opted_in)]
        Person.objects.filter(pk__in=[p.pk for p in chosen]).update(phone="+22376543210")
        SmsPreference.objects.bulk_create([SmsPreference(person=p, opt_in=True, language="fr")
                                           for p in chosen])
    return caisse, teller, manager, products, accounts


def bench_service_vs_floor(n: int, opted_in: float = 0.0) -> tuple[float, float]:
    """Deposits per second: the service (one durable transaction each, every check, lock, entry,
    receipt, drawer move and audit row) against hand-written SQL writing the same rows."""
    from django.db import connection, transaction

    from jigi.savings.services import savings_deposit

    caisse, teller, _manager, _products, accounts = world(200, opted_in)
    rng = random.Random(1)
    for _ in range(50):  # warm caches (chart, book, scope) as a running server has them
        savings_deposit(acting_user=teller, account=rng.choice(accounts), amount=100)
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        savings_deposit(acting_user=teller, account=rng.choice(accounts),
                        amount=rng.randrange(1, 200) * 100)
    service = n / (time.perf_counter() - t)
    service_cpu = (time.process_time() - cpu) / n * 1000

    # Floor: the same rows by hand-written SQL, one transaction per deposit.
    from jigi.ledger.models import Account, Book

    book = Book.objects.get(unit=caisse)
    acc_ids = dict(Account.objects.filter(organisation=caisse.organisation,
                                          code__in=["102", "251"]).values_list("code", "pk"))
    q = connection.ops.quote_name
    today = date.today()
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    t, cpu = time.perf_counter(), time.process_time()
    for k in range(n):
        acc = rng.choice(accounts)
        amount = rng.randrange(1, 200) * 100
        with transaction.atomic(), connection.cursor() as c:
            c.execute("UPDATE core_counter SET value = value + 1 WHERE scope = %s AND year = %s "
                      "RETURNING value", [f"receipt:{caisse.pk}", today.year])
            receipt = c.fetchone()[0]
            c.execute("UPDATE core_counter SET value = value + 1 WHERE scope = %s AND year = %s "
                      "RETURNING value", [f"entry:{book.pk}", today.year])
            number = c.fetchone()[0]
            c.execute("UPDATE savings_savingsaccount SET balance = balance + %s, "
                      "last_activity_on = %s WHERE id = %s RETURNING balance",
                      [amount, today, acc.pk])
            balance = c.fetchone()[0]
            c.execute("INSERT INTO ledger_journalentry (book_id, year, number, value_date, "
                      "posting_date, description, source_type, source_id, created_at, "
                      "created_by_id) VALUES (%s, %s, %s, %s, %s, %s, 'savings', %s, %s, %s) "
                      "RETURNING id",
                      [book.pk, today.year, number, today, today, "Dépôt", acc.number, now,
                       teller.pk])
            entry = c.fetchone()[0]
            c.executemany("INSERT INTO ledger_journalline (entry_id, book_id, value_date, "
                          "account_id, side, amount, subledger) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                          [(entry, book.pk, today, acc_ids["102"], "D", amount, ""),
                           (entry, book.pk, today, acc_ids["251"], "C", amount, acc.number)])
            c.execute("UPDATE ledger_accountbalance SET debit = debit + %s WHERE book_id = %s "
                      "AND account_id = %s", [amount, book.pk, acc_ids["102"]])
            c.execute("UPDATE ledger_accountbalance SET credit = credit + %s WHERE book_id = %s "
                      "AND account_id = %s", [amount, book.pk, acc_ids["251"]])
            c.execute("INSERT INTO savings_receipt (caisse_id, year, number, kind, amount, "
                      "issued_at, issued_by_id, account_number, balance_after, description) "
                      "VALUES (%s,%s,%s,'deposit',%s,%s,%s,%s,%s,'')",
                      [caisse.pk, today.year, receipt, amount, now, teller.pk, acc.number,
                       balance])
            c.execute("INSERT INTO savings_savingstransaction (account_id, kind, direction, "
                      "amount, status, balance_after, value_date, receipt_year, receipt_number, "
                      "description, cash, journal_entry_id, created_at, created_by_id, reason, "
                      "idempotency_key) VALUES (%s,'deposit','C',%s,'posted',%s,%s,%s,%s,'',"
                      "true,%s,%s,%s,'','')", [acc.pk, amount, balance, today, today.year,
                                               receipt, entry, now, teller.pk])
            c.execute(f"UPDATE {q('savings_drawersession')} SET cash_in = cash_in + %s "  # noqa: S608
                      f"WHERE teller_id = %s AND status = 'open'", [amount, teller.pk])
            c.execute("INSERT INTO core_auditevent (event_type, subject_type, subject_id, "
                      "created_at, actor_id, unit_id) VALUES ('savings.deposit', "
                      "'savings.savingstransaction', %s, %s, %s, %s)",
                      [str(k), now, teller.pk, caisse.pk])
    floor = n / (time.perf_counter() - t)
    floor_cpu = (time.process_time() - cpu) / n * 1000
    # CPU time (this process, SQLite included) next to the wall-clock rate: on a machine shared
    # with other work the wall clock moves with the load, the CPU per deposit much less.
    print(f"deposits via the service layer (SQLite): {service:,.0f}/s "
          f"(CPU {service_cpu:.2f} ms per deposit)")
    print(f"raw-SQL floor, same rows (SQLite):        {floor:,.0f}/s "
          f"(CPU {floor_cpu:.2f} ms per deposit)")
    print(f"ratio service/floor:                      {service / floor:.2f}")
    return service, floor


def bench_interest() -> float:
    """Interest posting for one caisse of 1,000 accounts with a year of history (about 15,000
    movements), through `interest_post_caisse`."""
    from jigi.ledger.models import JournalEntry
    from jigi.savings.models import SavingsTransaction
    from jigi.savings.services import interest_post_caisse

    caisse, _teller, manager, _products, accounts = world(1000)
    entry = JournalEntry.objects.first()
    rng = random.Random(2)
    year = date.today().year - 1
    rows = []
    for acc in accounts:
        bal = 0
        for month in range(1, 13):
            amount = rng.randrange(10, 300) * 100
            bal += amount
            rows.append(SavingsTransaction(account=acc, kind="deposit", direction="C",
                                           amount=amount, balance_after=bal,
                                           value_date=date(year, month, rng.randrange(1, 29)),
                                           journal_entry=entry))
            if month in (7, 8, 9) and bal > 5000:
                rows.append(SavingsTransaction(account=acc, kind="withdrawal", direction="D",
                                               amount=2000, balance_after=bal - 2000,
                                               value_date=date(year, month, 25),
                                               journal_entry=entry))
                bal -= 2000
        acc.balance = bal
    SavingsTransaction.objects.bulk_create(rows, batch_size=5000)
    type(accounts[0]).objects.bulk_update(accounts, ["balance"], batch_size=1000)
    t = time.perf_counter()
    run = interest_post_caisse(caisse=caisse, period_end=date(year, 12, 31),
                               acting_user=manager)
    took = time.perf_counter() - t
    epv = next(p for p in run.postings if p.product.code == "EPV")
    print(f"interest posting, 1 caisse x {len(accounts)} accounts, {len(rows)} movements in a "
          f"year: {took:.2f} s (total {epv.total:,} F to {epv.accounts} accounts, "
          f"one entry)")
    return took


def bench_http(total: int = 2000, clients: int = 8, workers: int = 1, threads: int = 8,
               opted_in: float = 0.0) -> None:
    from bench.http_load import (
        cpu_seconds,
        fresh_postgres,
        process_tree,
        run_clients,
        served,
        setup_in_child,
        summary,
    )

    port = 8793
    url, env = fresh_postgres("jigi_savings_bench")
    # Eight tellers, each with her own drawer and token: one teller's operations serialise on
    # her drawer row, as they do at a real counter.
    tokens = setup_in_child(env, (
        f"import bench.bench_savings as b; caisse, *_ = b.world(200, {opted_in!r});"
        "from jigi.orgs.services import api_token_create, staff_user_create;"
        "from jigi.orgs.models import Role;"
        "from jigi.savings.services import drawer_open;"
        f"users = [staff_user_create(username=f't{{i}}', password='bench-pass-1',"
        " organisation=caisse.organisation, role=Role.TELLER, unit=caisse)"
        f" for i in range({clients})];"
        "[drawer_open(acting_user=u, caisse=caisse, amount=1_000_000) for u in users];"
        "print(' '.join(api_token_create(user=u, name='bench')[1] for u in users))"
    ))[-1].split()
    with served(env, port=port, workers=workers, threads=threads,
                log_name="jigi-bench-server.log") as server:
        os.environ.update(env)
        setup_django(url)
        from jigi.savings.models import SavingsAccount

        ids = list(SavingsAccount.objects.values_list("pk", flat=True))
        rngs = [random.Random(ci) for ci in range(clients)]

        def request(ci: int, k: int) -> tuple[str, str, dict[str, str]]:
            rng = rngs[ci]
            return (f"/api/v1/savings/accounts/{rng.choice(ids)}/deposits",
                    json.dumps({"amount": rng.randrange(1, 100) * 100}),
                    {"Authorization": f"Bearer {tokens[ci]}",
                     "Content-Type": "application/json", "Idempotency-Key": f"b-{ci}-{k}"})

        server_pids = process_tree(server.pid)
        server_cpu = sum(cpu_seconds(p) for p in server_pids)
        client_cpu = time.process_time()
        latencies, took = run_clients(port, clients, total // clients, request)
        client_cpu = time.process_time() - client_cpu
        server_cpu = sum(cpu_seconds(p) for p in server_pids) - server_cpu
        print(f"HTTP API deposits, {clients} clients, PostgreSQL, `jigi serve --workers "
              f"{workers} --threads {threads}`: {summary(latencies, took)}")
        n = len(latencies)
        # Python work per request in the server processes: what one process (one core at a
        # time, the GIL) can give is about 1 / this; the load shows what else used the cores.
        print(f"CPU per request: server processes {server_cpu / n * 1000:.1f} ms, this bench's "
              f"clients {client_cpu / n * 1000:.1f} ms; load average at the end "
              f"{os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deposits", type=int, default=5000)
    ap.add_argument("--http", action="store_true")
    ap.add_argument("--workers", type=int, default=1, help="--http: server processes")
    ap.add_argument("--threads", type=int, default=8, help="--http: threads per process")
    ap.add_argument("--part", choices=["service", "interest", "all"], default="all")
    ap.add_argument("--opted-in", type=float, default=0.0,
                    help="share of members who get an SMS receipt (0 to 1)")
    args = ap.parse_args()
    if args.http:
        bench_http(workers=args.workers, threads=args.threads, opted_in=args.opted_in)
        return
    tmp = tempfile.mkdtemp(prefix="jigi-bench-")
    url = f"sqlite:///{tmp}/bench.sqlite3"
    subprocess.run([JIGI, "migrate", "-v0"], env=dict(os.environ, JIGI_DATABASE_URL=url),
                   check=True)
    setup_django(url)
    if args.part in ("service", "all"):
        bench_service_vs_floor(args.deposits, args.opted_in)
    if args.part in ("interest", "all"):
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
        bench_interest()


if __name__ == "__main__":
    main()
