"""Full-scale demo build and person search (issue #2).

    .venv/bin/python bench/bench_demo.py [--members 75000]

Builds the demo into a fresh temporary SQLite file (migrations first, timed apart), then
times person search and duplicate detection at that scale through the real selectors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JIGI = str(Path(sys.executable).with_name("jigi"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=75_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="jigi-bench-")
    env = dict(os.environ, JIGI_DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3")
    t0 = time.perf_counter()
    subprocess.run([JIGI, "migrate", "-v0"], env=env, check=True)
    t1 = time.perf_counter()
    subprocess.run([JIGI, "demo", "--members", str(args.members), "--seed", str(args.seed)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    t2 = time.perf_counter()
    print(f"migrate: {t1 - t0:.1f} s")
    print(f"jigi demo --members {args.members}: {t2 - t1:.1f} s")

    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from jigi.people.models import Person
    from jigi.people.selectors import person_find_duplicates, person_search_for_user

    users = {u.username: u for u in get_user_model().objects.all()}
    sample = list(Person.objects.order_by("pk")[:: max(1, args.members // 200)][:200])
    for username in ("guichet1", "auditeur"):
        for label, make_q in [("name prefix", lambda p: f"{p.first_name} {p.last_name[:3]}"),
                              ("family name", lambda p: p.last_name),
                              ("phone", lambda p: p.phone or "76000000")]:
            times = []
            for p in sample[:100]:
                t = time.perf_counter()
                person_search_for_user(users[username], make_q(p))
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            print(f"search {label:<12} as {username:<9}: p50 {statistics.median(times):.1f} ms, "
                  f"p95 {times[94]:.1f} ms")
    times = []
    for p in sample:
        t = time.perf_counter()
        person_find_duplicates(first_name=p.first_name, last_name=p.last_name, phone=p.phone,
                               birth_year=p.birth_year, cercle=p.cercle, village=p.village)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"duplicate check at registration: p50 {statistics.median(times):.1f} ms, "
          f"p95 {times[int(len(times) * 0.95)]:.1f} ms")


if __name__ == "__main__":
    main()
