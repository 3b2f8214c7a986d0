"""The eligibility check at the clinic's counter over HTTP, on the demo's data (issue #6: p95
under 50 ms with 8 concurrent clients). bench/bench_health_eligibility.py measures the same
endpoint on synthetic families of four and card checks only; this one uses the full-scale demo
(the registry's households, a year of contributions, claims and suspensions) and mixes in phone
lookups and unknown or mistyped cards, as a clinic's counter sees them.

    .venv/bin/python bench/bench_health_eligibility_demo.py [--members 75000] [--requests 4000]
        [--clients 8] [--database postgres|sqlite] [--workers 1 --threads 8] [--full]
        [--reuse] [--profile 500]

1. a fresh database (PostgreSQL: its own `jigi_elig_bench`; SQLite: a file under /tmp),
   migrated, with the demo built into it (`jigi.demo.builder`, seed 1): the registry, the
   twelve mutuals, every UTM member's family covered, a year of contributions and claims
   (jigi.health.demo). The savings and credit steps are left out unless `--full`: they touch no
   table the check reads. `--reuse` keeps the database of an earlier run;
   The tables are then analysed (ANALYZE), as after any bulk load;
2. an API token for the demo's clinic staff login (`clinique`, linked to a CSCom of M01);
3. `jigi serve` (waitress; gunicorn with --workers > 1) on port 8795;
4. `--clients` threads, each with its own connection, send GET
   /api/v1/health/eligibility?card=... (70 % cards of beneficiaries, with the provider id one
   time in three), ?phone=... (15 %, the phones of covered persons), and cards that no one
   holds or with a typing error (15 %: answered 200 NOT_A_BENEFICIARY or 422). A first pass of
   200 requests warms the server (connections, statements prepared once per process) and is
   not counted;
5. prints the throughput, p50, p95 and p99 of the counted requests per kind and overall, the
   server processes' CPU per request, the load average, `nproc` and the CPU model.

`--profile N` then runs N checks in this process through Django's test client with cProfile
(what one request costs in Python, without the network and the server's threads), and prints
the functions that cost most.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

# Run as a script: the repository root on the path, for `bench.http_load`.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import (  # noqa: E402
    JIGI,
    cpu_seconds,
    fresh_postgres,
    process_tree,
    served,
    setup_in_child,
)

PORT = 8795
PG_NAME = "jigi_elig_bench"
SQLITE = Path(tempfile.gettempdir()) / "jigi-bench-eligibility.sqlite3"


def _machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    return f"nproc {os.cpu_count()}, CPU {model!r}"


def _build(env: dict[str, str], members: int, full: bool) -> None:
    skip = "" if full else ("builder.STEPS[:] = [s for s in builder.STEPS if s not in "
                            "(builder.step_savings, builder.step_credit)];")
    started = time.perf_counter()
    lines = setup_in_child(env, (
        "from jigi.demo import builder;" + skip +
        f"ctx = builder.build_demo(members={members}, seed=1, log=print);"
        "print('seconds', ctx.counts['seconds'])"))
    for line in lines:
        if line.startswith(("health:", "persons:", "seconds")):
            print(f"  {line[:400]}")
    # A million rows just loaded in one transaction: the planner's statistics are those of the
    # empty tables until autovacuum comes by (PostgreSQL) or ANALYZE runs (SQLite). What an
    # administrator runs after a bulk load; without it PostgreSQL scanned every coverage of
    # the union for a phone lookup.
    setup_in_child(env, "from django.db import connection;"
                        "connection.cursor().execute('ANALYZE')")
    print(f"demo built and analysed in {time.perf_counter() - started:.0f} s")


def _token(env: dict[str, str]) -> str:
    return setup_in_child(env, (
        "from django.contrib.auth import get_user_model;"
        "from jigi.orgs.services import api_token_create;"
        "u = get_user_model().objects.get(username='clinique');"
        "print(api_token_create(user=u, name='bench')[1])"))[-1]


def _requests(n: int, seed: int) -> list[tuple[str, str]]:
    """(kind, path) for `n` checks, drawn from the database the bench points at."""
    from jigi.health.cards import card_number
    from jigi.health.models import Beneficiary, Provider
    from jigi.orgs.models import Unit

    rng = random.Random(seed)
    cards = list(Beneficiary.objects.values_list("card_number", flat=True))
    phones = list(Beneficiary.objects.exclude(person__phone="").values_list(
        "person__phone", flat=True).distinct())
    provider = Provider.objects.get(staff__username="clinique").pk
    codes = list(Unit.objects.filter(kind="mutual").values_list("code", flat=True))
    print(f"data: {len(cards):,} beneficiaries' cards, {len(phones):,} distinct phones, "
          f"{Beneficiary.objects.values('coverage').distinct().count():,} coverages")
    out = []
    for _k in range(n):
        roll = rng.random()
        if roll < 0.70:
            path = f"card={rng.choice(cards)}"
            if rng.random() < 1 / 3:
                path += f"&provider_id={provider}"
            out.append(("card", path))
        elif roll < 0.85:
            phone = rng.choice(phones).replace("+", "%2B")
            out.append(("phone", f"phone={phone}"))
        elif roll < 0.95:
            # A card no one holds: a valid check digit, a serial never issued.
            out.append(("unknown", f"card={card_number(rng.choice(codes), 900_000 + _k)}"))
        else:
            good = rng.choice(cards)
            typo = good[:-1] + str((int(good[-1]) + 1) % 10)
            out.append(("typo", f"card={typo}"))
    return [(kind, f"/api/v1/health/eligibility?{q}") for kind, q in out]


def _run(port: int, token: str, jobs: list[list[tuple[str, str]]]
         ) -> tuple[dict[str, list[float]], float, dict[int, int]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[int, int] = defaultdict(int)
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "fr"}

    def client(mine: list[tuple[str, str]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for kind, path in mine:
            t = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            dt = (time.perf_counter() - t) * 1000
            if resp.status not in (200, 422) or (resp.status == 422) != (kind == "typo"):
                raise RuntimeError(f"{kind} {path}: {resp.status} {body[:300]!r}")
            with lock:
                latencies[kind].append(dt)
                statuses[resp.status] += 1

    pool = [threading.Thread(target=client, args=(mine,)) for mine in jobs]
    t0 = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return latencies, time.perf_counter() - t0, statuses


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _line(label: str, values: list[float]) -> str:
    return (f"{label:<8} {len(values):>6,} requests  p50 {statistics.median(values):6.1f} ms  "
            f"p95 {_pct(values, 0.95):6.1f} ms  p99 {_pct(values, 0.99):6.1f} ms")


def _profile(n: int, token: str, paths: list[tuple[str, str]]) -> None:
    """N card checks, then N phone checks, in this process under cProfile: the statements
    each runs and the functions that cost most."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="fr")
    for _kind, path in paths[:50]:
        client.get(path)  # warm: statements prepared, translations loaded
    for kind in ("card", "phone"):
        chosen = [p for k, p in paths if k == kind][:n]
        statements: list[str] = []

        def count(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(chosen[0])
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for path in chosen:
            client.get(path)
        prof.disable()
        took = time.perf_counter() - t0
        print(f"\nin process, {len(chosen)} {kind} checks through the test client under "
              f"cProfile: {took / len(chosen) * 1000:.2f} ms each (profiled); "
              f"{len(statements)} statements through Django's cursor per check (those "
              "prepared on the driver's cursor, jigi.core.prepared, are not counted here):")
        for sql in statements:
            print(f"  {sql[:150]}")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(28)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=75_000)
    ap.add_argument("--requests", type=int, default=4_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--full", action="store_true", help="the savings and credit steps too")
    ap.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    ap.add_argument("--profile", type=int, default=0, help="then N checks under cProfile")
    args = ap.parse_args()

    if args.database == "postgres":
        url = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
        env = dict(os.environ, JIGI_DATABASE_URL=url, JIGI_DB_CONN_MAX_AGE="60")
        if not args.reuse:
            url, env = fresh_postgres(PG_NAME)
    else:
        url = f"sqlite:///{SQLITE}"
        env = dict(os.environ, JIGI_DATABASE_URL=url)
        if not args.reuse:
            SQLITE.unlink(missing_ok=True)
            subprocess.run([JIGI, "migrate", "-v0"], env=env, check=True)
    if not args.reuse:
        _build(env, args.members, args.full)
    token = _token(env)

    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
    import django

    django.setup()
    warm = _requests(200, seed=1)
    paths = _requests(args.requests, seed=2)
    per = len(paths) // args.clients
    jobs = [paths[i * per:(i + 1) * per] for i in range(args.clients)]
    with served(env, port=PORT, workers=args.workers, threads=args.threads,
                log_name="jigi-bench-eligibility.log") as server:
        _run(PORT, token, [warm[i::args.clients] for i in range(args.clients)])
        pids = process_tree(server.pid)
        cpu0 = sum(cpu_seconds(p) for p in pids)
        load0 = os.getloadavg()
        latencies, took, statuses = _run(PORT, token, jobs)
        cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        load1 = os.getloadavg()
    everything = [v for values in latencies.values() for v in values]
    server_kind = "waitress" if args.workers == 1 else "gunicorn"
    print(f"\nGET /api/v1/health/eligibility, {args.database}, {args.clients} clients, "
          f"`jigi serve --workers {args.workers} --threads {args.threads}` ({server_kind}), "
          f"clinic staff token: {len(everything) / took:,.0f} requests/s over {took:.1f} s "
          f"(statuses {dict(statuses)})")
    for kind in ("card", "phone", "unknown", "typo"):
        if latencies.get(kind):
            print(_line(kind, latencies[kind]))
    print(_line("all", everything))
    print(f"server CPU {cpu / len(everything) * 1000:.2f} ms a request; load average "
          f"{load0[0]:.2f} before, {load1[0]:.2f} after; {_machine()}")
    if args.profile:
        _profile(args.profile, token, paths)


if __name__ == "__main__":
    main()
