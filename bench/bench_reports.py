"""Reports at full scale (issue #5 item 7: "PAR report for the network in <= 1 s").

    .venv/bin/python bench/bench_reports.py [--db PATH] [--on 2026-10-31] [--repeat 5]

Without --db: `jigi migrate` then `jigi demo --members 75000 --seed 1 --today 2026-11-20` into
a fresh temporary SQLite file (about 7 minutes), then the timings. With --db: an existing
database file built that way (or JIGI_DATABASE_URL for PostgreSQL, --db -).

Timed in-process (Django set up, warm connection): the PAR report of the whole network by
caisse (the figure of the target) and by the other dimensions, the ageing and provisions
reports, and the dashboard's 12-point PAR trend, cold (Django's cache emptied: every month
end computed) and warm (the month ends kept in the cache, checked); median and worst of
--repeat runs, with this process's CPU time and the load average after each line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JIGI = str(ROOT / ".venv" / "bin" / "jigi")


def build(path: str) -> None:
    env = dict(os.environ, JIGI_DATABASE_URL=f"sqlite:///{path}")
    subprocess.run([JIGI, "migrate", "-v0"], check=True, env=env)
    t = time.perf_counter()
    subprocess.run([JIGI, "demo", "--members", "75000", "--seed", "1", "--today", "2026-11-20"],
                   check=True, env=env)
    print(f"demo built in {time.perf_counter() - t:.1f} s")


def timed(fn, repeat: int) -> tuple[float, float, float]:
    """Median and worst wall time, and the median CPU time of this process plus the database
    work it does in-process (SQLite): the figure that load from other work does not inflate."""
    runs, cpu = [], []
    for _k in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        runs.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(runs), max(runs), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None)
    ap.add_argument("--on", default="2026-10-31")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if args.db != "-":
        path = args.db or str(Path(tempfile.mkdtemp()) / "bench_reports.sqlite3")
        if not args.db:
            build(path)
        os.environ["JIGI_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    from jigi.credit.models import Installment, Loan, LoanTransaction
    from jigi.reports import selectors
    from jigi.reports.registry import build_report
    from jigi.reports.selectors import Params

    call_command("migrate", "reports", verbosity=0)
    on = date.fromisoformat(args.on)
    perimeter = selectors.network_perimeter()
    print(f"database: {connection.vendor}; loans {Loan.objects.count():,}, instalments "
          f"{Installment.objects.count():,}, loan transactions "
          f"{LoanTransaction.objects.count():,}; caisses {len(perimeter.caisse_ids)}")
    rep = build_report("par", perimeter, Params(on, "caisse", None))
    total = rep.table("par").total
    print(f"PAR at {on}: gross outstanding {total['outstanding']:,} F, loans {total['loans']:,}, "
          f"PAR1 {total['par1']} %, PAR30 {total['par30']} %, PAR60 {total['par60']} %, "
          f"PAR90 {total['par90']} %")
    cases = [(f"par --by {by}", "par", by) for by in selectors.DIMENSIONS]
    cases += [("ageing", "ageing", "caisse"), ("provisions --by caisse", "provisions", "caisse")]
    def show(label: str, med: float, worst: float, cpu: float) -> None:
        print(f"{label:28s} median {med * 1000:7.0f} ms   worst {worst * 1000:7.0f} ms   "
              f"CPU {cpu * 1000:7.0f} ms   load {os.getloadavg()[0]:.1f}")

    for label, name, by in cases:
        show(label, *timed(
            lambda n=name, b=by: build_report(n, perimeter, Params(on, b, None)), args.repeat))

    def cold() -> None:
        cache.clear()
        selectors.par_trend(perimeter, on)

    show("dashboard PAR trend, cold", *timed(cold, args.repeat))
    show("dashboard PAR trend, warm", *timed(lambda: selectors.par_trend(perimeter, on),
                                             args.repeat))


if __name__ == "__main__":
    main()
