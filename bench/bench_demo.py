"""Full-scale demo build and person search (issue #2, docs/PERFORMANCE.md "Demo data").

    .venv/bin/python bench/bench_demo.py [--members 75000] [--seed 1] [--keep]

Builds `jigi demo --members N --seed S` into a fresh temporary SQLite file (migrations first,
timed apart), prints the demo's counts and the wall time, then times 100 person searches by
name and by phone through the real selector (jigi.people.selectors.person_search_for_user),
as a teller of one caisse and as the network auditor who sees everyone, and the duplicate
check a registration runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JIGI = str(Path(sys.executable).with_name("jigi"))


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered):6.1f} ms, p95 {p95:6.1f} ms"


def _time_searches(user, queries: list[str]) -> list[float]:
    from jigi.people.selectors import person_search_for_user

    times = []
    for q in queries:
        started = time.perf_counter()
        person_search_for_user(user, q)
        times.append((time.perf_counter() - started) * 1000)
    return times


def search_bench() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from jigi.people.models import Person
    from jigi.people.selectors import person_find_duplicates

    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["guichet1", "auditeur"])}
    everyone = Person.objects.exclude(phone="").order_by("pk")
    own = everyone.filter(memberships__unit__code="C001")
    samples = {
        "guichet1": list(own[:: max(1, own.count() // 100)][:100]),
        "auditeur": list(everyone[:: max(1, everyone.count() // 100)][:100]),
    }
    for username, persons in samples.items():
        kinds = {
            "full name": [f"{p.first_name} {p.last_name}" for p in persons],
            "name prefix": [f"{p.first_name} {p.last_name[:3]}" for p in persons],
            "family name": [p.last_name for p in persons],
            # As a teller types it: the 8 local digits in pairs.
            "phone": [" ".join(p.phone[i:i + 2] for i in range(4, 12, 2)) for p in persons],
        }
        for label, queries in kinds.items():
            print(f"search {label:<12} as {username:<9} ({len(queries)} searches): "
                  f"{_ms(_time_searches(users[username], queries))}")
    # The duplicate check a registration runs (phone, NINA, phonetic name + year + place).
    times = []
    for p in samples["auditeur"]:
        started = time.perf_counter()
        person_find_duplicates(first_name=p.first_name, last_name=p.last_name, phone=p.phone,
                               nina=p.nina, birth_year=p.birth_year, cercle=p.cercle,
                               village=p.village)
        times.append((time.perf_counter() - started) * 1000)
    print(f"duplicate check at registration ({len(times)} checks): {_ms(times)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=75_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file afterwards")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="jigi-bench-demo-")
    db = Path(tmp) / "bench.sqlite3"
    env = dict(os.environ, JIGI_DATABASE_URL=f"sqlite:///{db}")
    try:
        started = time.perf_counter()
        subprocess.run([JIGI, "migrate", "-v0"], env=env, check=True)
        migrated = time.perf_counter()
        command = [JIGI, "demo", "--members", str(args.members), "--seed", str(args.seed)]
        out = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{' '.join(command)} failed:\n{out.stdout}\n{out.stderr}")
        built = time.perf_counter()
        for line in out.stdout.splitlines():
            if line.startswith("demo:"):
                print(line)
        print(f"migrate (empty SQLite file): {migrated - started:.1f} s")
        print(f"{' '.join(['jigi', *command[1:]])}: {built - migrated:.1f} s wall "
              f"(target < 120 s); database {db.stat().st_size / 2**20:.0f} MiB")
        os.environ.update(env)
        search_bench()
    finally:
        if args.keep:
            print(f"kept {db}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
