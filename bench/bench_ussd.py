"""The members' USSD menu over HTTP with 20 sessions at once (issue #8: reply p95 under 300 ms).

    .venv/bin/python bench/bench_ussd.py [--members 3000] [--clients 20] [--flows 10]
        [--database sqlite|postgres] [--threads 20] [--workers 1] [--reuse]

1. a fresh database (SQLite: a file under /tmp; PostgreSQL: its own `jigi_ussd_bench`),
   migrated, with the demo built into it (`jigi.demo.builder`, seed 1, every step: savings,
   loans, mutuals), then ANALYZE; `--reuse` keeps the database of an earlier run;
2. up to 500 demo members alone on their phone get a USSD PIN and a language (half French,
   half Bambara; the PIN hashed as the counter screen does);
3. `jigi serve` on port 8796 (jigi/web/urls.py mounts the gateway first);
4. `--clients` threads, each with its own connection, run `--flows` whole sessions one after
   the other as a phone would: dial, PIN, savings, back, next instalment, back, mutual, back,
   receipts, back, quit (11 gateway requests a session; a member who receives a reply types
   the next choice at once unless `--think S`: then she takes S/2 to 3S/2 seconds, as a
   person reading and typing does). One session per client first warms the server and is
   not counted;
5. prints the throughput, p50, p95 and p99 of the counted replies overall and per step, the
   server's CPU per reply, `nproc` and the load average.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

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

PORT = 8796
PG_NAME = "jigi_ussd_bench"
SQLITE = Path(tempfile.gettempdir()) / "jigi-bench-ussd.sqlite3"
PIN = "2580"
FLOW = [("dial", None), ("pin", PIN), ("savings", "1"), ("back", "0"), ("loan", "2"),
        ("back", "0"), ("mutual", "3"), ("back", "0"), ("receipts", "4"), ("back", "0"),
        ("quit", "0")]


def _prepare(env: dict[str, str], members: int, reuse: bool) -> None:
    if not reuse:
        started = time.perf_counter()
        lines = setup_in_child(env, (
            "from jigi.demo import builder;"
            f"ctx = builder.build_demo(members={members}, seed=1, log=print);"
            "print('seconds', ctx.counts['seconds'])"))
        print(f"  {lines[-1][:300]}")
        setup_in_child(env, "from django.db import connection;"
                            "connection.cursor().execute('ANALYZE')")
        print(f"demo built and analysed in {time.perf_counter() - started:.0f} s")
    out = setup_in_child(env, f"""
import json
from django.db.models import Count
from jigi.channels.models import SmsPreference, UssdPin, UssdSession
from jigi.channels.ussd import pins
from jigi.people.models import Person
UssdSession.objects.all().delete()
alone = (Person.objects.filter(merged_into__isnull=True).exclude(phone='')
         .values('phone').annotate(n=Count('id')).filter(n=1).values_list('phone', flat=True))
people = list(Person.objects.filter(phone__in=list(alone[:5000])).order_by('pk')
              .values_list('pk', 'phone')[:500])
UssdPin.objects.filter(person_id__in=[p for p, _ in people]).delete()
UssdPin.objects.bulk_create([UssdPin(person_id=p, pin_hash=pins.pin_hash(p, {PIN!r}))
                             for p, _ in people])
for i, (p, _) in enumerate(people):
    SmsPreference.objects.update_or_create(person_id=p,
                                           defaults={{'language': 'bm' if i % 2 else 'fr'}})
print(json.dumps([ph for _, ph in people]))
""")
    Path(SQLITE.with_suffix(".phones.json")).write_text(out[-1])


def _run(port: int, phones: list[str], clients: int, flows: int, warm: bool,
         think: float = 0.0) -> tuple[dict[str, list[float]], float, list[str]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    rng = random.Random(8)
    assigned = [[rng.choice(phones) for _ in range(flows)] for _ in range(clients)]

    def client(ci: int) -> None:
        rng_think = random.Random(ci)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for fi, phone in enumerate(assigned[ci]):
            session = f"bench-{'w' if warm else 'm'}-{ci}-{fi}-{time.time_ns()}"
            inputs: list[str] = []
            for step, typed in FLOW:
                if typed is not None:
                    inputs.append(typed)
                body = urllib.parse.urlencode({
                    "sessionId": session, "serviceCode": "*144#", "phoneNumber": phone,
                    "text": "*".join(inputs), "networkCode": "61002"})
                t = time.perf_counter()
                conn.request("POST", "/channels/ussd/gateway/", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded"})
                resp = conn.getresponse()
                text = resp.read().decode()
                dt = (time.perf_counter() - t) * 1000
                with lock:
                    latencies[step].append(dt)
                    if resp.status != 200 or (step != "quit" and not text.startswith("CON ")):
                        errors.append(f"{step} {resp.status} {text[:80]!r}")
                if not text.startswith("CON "):
                    break
                if think:
                    time.sleep(rng_think.uniform(think / 2, think * 1.5))

    pool = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return latencies, time.perf_counter() - t0, errors


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--flows", type=int, default=10)
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--threads", type=int, default=20)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--think", type=float, default=0.0,
                    help="seconds a member takes to read and type (0: none, the worst case)")
    args = ap.parse_args()

    if args.database == "postgres":
        if args.reuse:
            env = dict(os.environ, JIGI_DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/"
                                                     f"{PG_NAME}", JIGI_DB_CONN_MAX_AGE="60")
        else:
            _url, env = fresh_postgres(PG_NAME)
    else:
        env = dict(os.environ, JIGI_DATABASE_URL=f"sqlite:///{SQLITE}")
        if not args.reuse:
            SQLITE.unlink(missing_ok=True)
            subprocess.run([JIGI, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    _prepare(env, args.members, args.reuse)
    phones = json.loads(Path(SQLITE.with_suffix(".phones.json")).read_text())
    print(f"{len(phones)} members with a PIN, {args.clients} sessions at once, "
          f"{args.flows} sessions each, {len(FLOW)} replies a session")

    with served(env, port=PORT, workers=args.workers, threads=args.threads,
                log_name="jigi-bench-ussd.log") as server:
        _lat, _took, errors = _run(PORT, phones, args.clients, 1, warm=True)
        if errors:
            sys.exit(f"warm-up failed: {errors[:3]}")
        pids = process_tree(server.pid)
        cpu0 = sum(cpu_seconds(p) for p in pids)
        latencies, took, errors = _run(PORT, phones, args.clients, args.flows, warm=False,
                                       think=args.think)
        cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    every = [x for v in latencies.values() for x in v]
    print(f"{len(every)} replies in {took:.1f} s: {len(every) / took:,.0f}/s; "
          f"p50 {statistics.median(every):.0f} ms, p95 {_pct(every, 0.95):.0f} ms, "
          f"p99 {_pct(every, 0.99):.0f} ms, max {max(every):.0f} ms; "
          f"server CPU {cpu * 1000 / len(every):.1f} ms a reply")
    for step in dict.fromkeys(s for s, _t in FLOW):
        v = latencies.get(step, [])
        if v:
            print(f"  {step:9} n={len(v):5}  p50 {statistics.median(v):6.0f} ms  "
                  f"p95 {_pct(v, 0.95):6.0f} ms")
    print(f"errors: {len(errors)} {errors[:3]}")
    print(f"nproc {os.cpu_count()}, load {os.getloadavg()}, database {args.database}, "
          f"server threads {args.threads}, workers {args.workers}, think {args.think} s")
    if errors or _pct(every, 0.95) >= 300:
        sys.exit(1)


if __name__ == "__main__":
    main()
