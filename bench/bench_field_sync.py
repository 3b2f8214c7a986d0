"""Field sync benchmark (issue #8 "Speed": a 500-item sync batch in under 5 s).

    .venv/bin/python bench/bench_field_sync.py [--members 100] [--items 500]
        [--database /tmp/jigi-bench-field.sqlite3]

On a fresh SQLite file (migrated once into a template, then copied): the test world (three
organisations, caisses A and B, the personas) and a women's group of caisse A with `--members`
members, each with a disbursed group loan and a savings account, built through the services
(tests/channels/test_field_support.py). The clock is set to 12 May 2026 (the group's first
meeting). Then, timed, through the HTTP API (Django test client, session of the loan officer,
/api/v1/field/sync):
1. one batch of `--items` records (half repayments, half savings deposits, spread over the
   members): each its own transaction, loan locked, allocation, journal entry, receipt;
2. the same batch again (an officer who never got the answer): all duplicates, nothing posted;
3. a batch cut in half and sent in full: the first half duplicates, the rest applied.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import fresh_sqlite  # noqa: E402


def batch(members, n: int) -> list[dict]:
    items = []
    for i in range(n):
        person = members[i % len(members)]
        kind = "repayment" if i % 2 == 0 else "deposit"
        items.append({"uuid": str(uuid.uuid4()), "kind": kind, "person_id": person.pk,
                      "amount": 500 + (i % 7) * 100, "collected_on": "2026-05-12"})
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--database", default="/tmp/jigi-bench-field.sqlite3")
    parser.add_argument("--profile", action="store_true", help="cProfile the first batch")
    args = parser.parse_args()
    fresh_sqlite(Path(args.database))

    import time_machine
    from django.test import Client, override_settings

    from jigi.channels.models import SyncItem
    from jigi.credit.models import LoanTransaction
    from tests.channels.test_field_support import field_world
    from tests.conftest import build_world

    with time_machine.travel("2026-05-12 09:00:00+00:00", tick=True), override_settings(
            ALLOWED_HOSTS=["*"]):
        t0 = time.perf_counter()
        world = build_world()
        field = field_world(world, members=args.members, borrowers=args.members, saved=0,
                            principal=100_000)
        t_build = time.perf_counter() - t0
        client = Client()
        client.force_login(world.users["loan_officer_a"])

        cpu_used: list[float] = []

        def send(items: list[dict]) -> tuple[float, list[dict]]:
            body = json.dumps({"device_id": "bench-tablet", "items": items})
            start, cpu = time.perf_counter(), time.process_time()
            res = client.post("/api/v1/field/sync", body, content_type="application/json")
            elapsed = time.perf_counter() - start
            cpu_used.append(time.process_time() - cpu)
            assert res.status_code == 200, res.content[:300]
            return elapsed, res.json()["results"]

        # The first request loads every router and URL: not part of a sync.
        assert client.get("/api/v1/field/sheet").status_code == 200
        items = batch(field.members, args.items)
        if args.profile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
        t1, first = send(items)
        if args.profile:
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        t2, again = send(items)
        more = batch(field.members, args.items)
        send(more[: args.items // 2])  # cut off: the answer never reached the device
        t3, rest = send(more)

    def count(results, key, value):
        return sum(1 for r in results if r.get(key) == value)

    print(f"members: {args.members} (world and group built in {t_build:.1f} s)")
    print(f"1. new batch of {args.items}: {t1:6.2f} s "
          f"({count(first, 'status', 'applied')} applied, "
          f"{count(first, 'status', 'rejected')} rejected; CPU {cpu_used[0]:.2f} s) "
          f"(target < 5 s)")
    print(f"2. same batch again:   {t2:6.2f} s ({count(again, 'duplicate', True)} duplicates)")
    print(f"3. half-sent resent:   {t3:6.2f} s ({count(rest, 'duplicate', True)} duplicates, "
          f"{count(rest, 'duplicate', False)} applied now)")
    print(f"sync items: {SyncItem.objects.count()}, field repayments posted: "
          f"{LoanTransaction.objects.filter(channel='field').count()}")
    print(f"nproc: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
