"""Close-of-business benchmark (issue #5 item 7; docs/PERFORMANCE.md "Close of business").

    .venv/bin/python bench/bench_cob.py [--members 75000] [--database sqlite|postgres]
                                        [--days 30] [--celery-workers 2]

1. a demo network (`jigi demo --members N --seed 1 --today 2026-03-31`), built once and kept
   (SQLite: /tmp/jigi-bench-cob-N.sqlite3; PostgreSQL: database jigi_cob_bench_N), copied for
   every measurement (file copy / CREATE DATABASE ... TEMPLATE);
2. `jigi cob` for the first business date (2026-04-01: the whole backlog of late instalments is
   penalised and classified that day), then from that state: one ordinary day (2026-04-02), a
   30-day catch-up (2026-04-02 .. 2026-05-01, crossing a month end: savings interest), and the
   raw-SQL floor for the ordinary day: the same set-based statements for every caisse in one
   transaction, nothing else (no journal entries, savings services, audit, progress rows, one
   transaction per caisse);
3. PostgreSQL with --celery-workers N: the ordinary day and the catch-up again with N Celery
   workers (`celery -A jigi.cob.tasks worker`, Redis broker) instead of in-process.

Times are those of the run (CobRun start to finish, what `jigi cob` prints), CPU the user +
system time of the `jigi cob` process (on SQLite that includes the database's work; on
PostgreSQL the server's is not counted), peak memory the maximum resident set of that process
(/usr/bin/time); each row also gives the 1-minute load average when it ended (the two cores are
shared with other work). `--skip-catchup` leaves out the catch-up.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
PG = "postgres://postgres@127.0.0.1:5432/"
TODAY, FIRST, DAY = "2026-03-31", "2026-04-01", "2026-04-02"
BROKER = os.environ.get("JIGI_BENCH_BROKER", "redis://127.0.0.1:6379/6")


def env_for(url: str, **extra: str) -> dict:
    return {**os.environ, "JIGI_DATABASE_URL": url, "PYTHONPATH": str(ROOT / "src"), **extra}


def jigi(url: str, *args: str, **extra: str) -> tuple[str, int, float]:
    """Run `jigi ARGS`; return its stdout, peak RSS in MB and CPU seconds (user + system)."""
    cmd = ["/usr/bin/time", "-f", "MAXRSS %M CPU %U %S", PY, "-m", "jigi", *args]
    proc = subprocess.run(cmd, env=env_for(url, **extra), capture_output=True, text=True,
                          check=False, cwd="/tmp")
    if proc.returncode:
        raise SystemExit(f"jigi {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    found = re.search(r"MAXRSS (\d+) CPU ([\d.]+) ([\d.]+)", proc.stderr)
    return proc.stdout, int(found.group(1)) // 1024, float(found.group(2)) + float(found.group(3))


def cob(url: str, *args: str, **extra: str) -> tuple[float, int, float]:
    out, rss, cpu = jigi(url, "cob", "--quiet", *args, **extra)
    # The closing line is translated; its only decimal number followed by "s" is the time.
    seconds = float(re.findall(r"(\d+[.,]\d+) s", out)[-1].replace(",", "."))
    return seconds, rss, cpu


class Sqlite:
    def __init__(self, members: int) -> None:
        self.base = Path(f"/tmp/jigi-bench-cob-{members}.sqlite3")
        self.members = members

    def url(self, path: Path) -> str:
        return f"sqlite:///{path}"

    def build(self) -> None:
        if not self.base.exists():
            tmp = self.base.with_suffix(".building")
            tmp.unlink(missing_ok=True)
            jigi(self.url(tmp), "migrate", "-v0")
            jigi(self.url(tmp), "demo", "--members", str(self.members), "--seed", "1",
                 "--today", TODAY)
            tmp.rename(self.base)
        jigi(self.url(self.base), "migrate", "-v0")

    def copy(self, src: str, name: str) -> str:
        src_path = self.base if src == "base" else Path(src[len("sqlite:///"):])
        dst = Path(f"/tmp/jigi-bench-cob-{self.members}-{name}.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{dst}{suffix}").unlink(missing_ok=True)
        shutil.copy(src_path, dst)
        return self.url(dst)


class Postgres:
    def __init__(self, members: int) -> None:
        self.members = members
        self.base = f"jigi_cob_bench_{members}"

    def _sql(self, statement: str) -> None:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", statement],
                       check=True, capture_output=True)

    def build(self) -> None:
        exists = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
             f"SELECT 1 FROM pg_database WHERE datname = '{self.base}'"],
            capture_output=True, text=True, check=True).stdout.strip()
        if not exists:
            self._sql(f"CREATE DATABASE {self.base}")
            jigi(PG + self.base, "migrate", "-v0")
            jigi(PG + self.base, "demo", "--members", str(self.members), "--seed", "1",
                 "--today", TODAY)
        jigi(PG + self.base, "migrate", "-v0")
        # The demo bulk-loads; autovacuum may not have analysed yet. Without statistics the
        # planner nests loops over the instalments (72 s a day instead of a few seconds).
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", self.base, "-q",
                        "-c", "ANALYZE"], check=True, capture_output=True)

    def copy(self, src: str, name: str) -> str:
        source = self.base if src == "base" else src.rsplit("/", 1)[1]
        dst = f"{self.base}_{name}"
        self._sql(f"DROP DATABASE IF EXISTS {dst}")
        self._sql(f"CREATE DATABASE {dst} TEMPLATE {source}")
        return PG + dst


FLOOR = r"""
import os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
django.setup()
from datetime import date
from django.db import transaction
from jigi.cob import sql
from jigi.cob.services import caisses_of, default_network, partition_context, sqlite_tune
on = date.fromisoformat(sys.argv[1])
org = default_network()
ctx = partition_context(org)
caisses = caisses_of(org)
sqlite_tune()
started = time.perf_counter()
c0 = time.process_time()
with transaction.atomic():
    for c in caisses:
        book = ctx.books[c.pk]
        sql.penalties_charge(c.pk, on)
        sql.risk_refresh(c.pk, on)
        sql.risk_totals(c.pk)
        sql.ledger_state(book.pk, ctx.accounts)
        sql.reminders_queue(c.pk, on, 3)
print(f"floor in {time.perf_counter() - started:.3f} s cpu {time.process_time() - c0:.3f}")
"""


def floor(url: str, on: str) -> tuple[float, float]:
    proc = subprocess.run([PY, "-c", FLOOR, on], env=env_for(url), capture_output=True,
                          text=True, check=True, cwd="/tmp")
    found = re.search(r"floor in ([\d.]+) s cpu ([\d.]+)", proc.stdout)
    return float(found.group(1)), float(found.group(2))


def add_days(day: str, n: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


def workers(url: str, n: int) -> subprocess.Popen:
    queue = f"cob-bench-{os.getpid()}"
    proc = subprocess.Popen(
        [PY, "-m", "celery", "-A", "jigi.cob.tasks", "worker", "--concurrency", str(n),
         "--loglevel", "WARNING", "-Q", queue],
        env=env_for(url, JIGI_BROKER_URL=BROKER, JIGI_CELERY_QUEUE=queue),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")
    proc.queue = queue  # type: ignore[attr-defined]
    time.sleep(4)  # let the worker processes boot (not measured either way)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=75_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--celery-workers", type=int, default=0)
    parser.add_argument("--skip-catchup", action="store_true")
    args = parser.parse_args()
    db = Sqlite(args.members) if args.database == "sqlite" else Postgres(args.members)
    t = time.perf_counter()
    db.build()
    print(f"# {args.database}, {args.members} members (demo ready in "
          f"{time.perf_counter() - t:.0f} s)")
    rows = []

    def row(label: str, seconds: float, cpu: float, rss: int) -> None:
        rows.append((label, seconds, cpu, rss, os.getloadavg()[0]))

    first = db.copy("base", "first")
    s, rss, cpu = cob(first, "--first", FIRST, "--through", FIRST)
    row("first business date (backlog)", s, cpu, rss)
    day = db.copy(first, "day")
    s_day, rss, cpu = cob(day, "--through", DAY)
    row("one ordinary day", s_day, cpu, rss)
    f, f_cpu = floor(db.copy(first, "floor"), DAY)
    row("raw-SQL floor, same day", f, f_cpu, 0)
    last = add_days(FIRST, args.days)
    if not args.skip_catchup:
        s_cu, rss_cu, cpu = cob(db.copy(first, "catchup"), "--through", last)
        row(f"{args.days}-day catch-up", s_cu, cpu, rss_cu)
    if args.celery_workers:
        plan = [("one ordinary day", DAY)]
        if not args.skip_catchup:
            plan.append((f"{args.days}-day catch-up", last))
        for label, through in plan:
            url = db.copy(first, "celery")
            w = workers(url, args.celery_workers)
            try:
                s, rss, cpu = cob(url, "--through", through, "--mode", "celery",
                                  JIGI_BROKER_URL=BROKER, JIGI_CELERY_QUEUE=w.queue)
            finally:
                w.terminate()
                w.wait(timeout=60)
            row(f"{label}, Celery {args.celery_workers} workers", s, cpu, rss)
    print("| step | seconds | CPU s (this process) | peak RSS (MB) | load |\n"
          "|---|---:|---:|---:|---:|")
    for label, seconds, cpu, mem, load in rows:
        print(f"| {label} | {seconds:.2f} | {cpu:.2f} | {mem or ''} | {load:.1f} |")
    print(f"\nratio ordinary day / floor: {s_day / f:.1f}x"
          + ("" if args.skip_catchup else f"; catch-up per day: {s_cu / args.days:.2f} s"))


if __name__ == "__main__":
    sys.exit(main())
