"""Eligibility check at the point of care through the HTTP API (issue #6: p95 under 50 ms with
8 concurrent clients).

    .venv/bin/python bench/bench_health_eligibility.py [--families 5000] [--requests 2000]
                                                       [--clients 8] [--workers 1]

1. a fresh PostgreSQL database (jigi_eligibility_bench), migrated;
2. three mutuals with the AMV package, a CSCom under a union-wide convention, `families`
   families of four (bulk-inserted: only the check is measured) with a year of dues, 5 % of
   them suspended for arrears, some in their waiting period, some drug ceilings partly used;
   a clinic staff user linked to the CSCom, with an API token;
3. `jigi serve`, then `clients` threads sending `GET /api/v1/health/eligibility?card=...&
   group=drugs&provider_id=...` for random cards (a few mistyped: 422, a few unknown: no
   match), timed: requests/s, p50, p95, and the server's CPU per request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

# Run as a script: the repository root on the path, for `bench.http_load`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PORT = 8796
TODAY = date.today()  # noqa: DTZ011 (the server checks cards for its own today)


def world(families: int) -> None:
    """Set up in the child process (Django configured); prints the token and provider id."""
    from django.contrib.auth import get_user_model

    from jigi.health.cards import card_number
    from jigi.health.models import (
        Beneficiary,
        BenefitUsage,
        ContributionDue,
        Coverage,
        SuspensionPeriod,
    )
    from jigi.health.services import convention_create, provider_create, provider_staff_link
    from jigi.health.setup import health_setup
    from jigi.orgs.bootstrap import accounting_unit_create, organisations_bootstrap
    from jigi.orgs.models import Role, UnitKind
    from jigi.orgs.services import api_token_create, staff_user_create
    from jigi.people.models import Person
    from jigi.people.names import name_key, search_name

    rng = random.Random(6)
    orgs = organisations_bootstrap()
    admin = get_user_model().objects.create_superuser("bench-admin", "b@example.org", "x-1234")
    amv = health_setup(organisation=orgs.utm)["AMV"]
    mutuals = [accounting_unit_create(organisation=orgs.utm, kind=UnitKind.MUTUAL,
                                      code=f"M0{i}", name=f"Mutuelle {i}", parent=orgs.union)
               for i in (1, 2, 3)]
    provider = provider_create(acting_user=admin, organisation=orgs.utm, code="CSCOM-B",
                               name="CSCom du banc d'essai", kind="cscom")
    convention_create(acting_user=admin, provider=provider, reference="B-1",
                      valid_from=date(2025, 1, 1),
                      items=[{"code": f"I{i}", "label": f"Item {i}", "group": g, "price": 500}
                             for i, g in enumerate(["consultation", "drugs", "lab"])])
    clinic = staff_user_create(username="bench-clinic", password="bench-pass-1",
                               organisation=orgs.utm, role=Role.CLINIC_STAFF)
    provider_staff_link(acting_user=admin, provider=provider, user=clinic)
    first, last = ["Awa", "Moussa", "Fatoumata", "Seydou"], ["Traoré", "Diarra", "Keïta"]
    persons = Person.objects.bulk_create([
        Person(first_name=first[k % 4], last_name=last[k % 3], sex="MF"[k % 2],
               birth_year=1960 + k % 50, phone=f"+2237{k:07d}" if k % 4 == 0 else "",
               search_name=search_name(first[k % 4], last[k % 3]),
               name_key=name_key(first[k % 4], last[k % 3]))
        for k in range(families * 4)], batch_size=2000)
    covs, serial = [], {m.pk: 0 for m in mutuals}
    for f in range(families):
        m = mutuals[f % 3]
        enrolled = TODAY - timedelta(days=rng.choice([30, 200, 400]))
        covs.append(Coverage(organisation=orgs.utm, mutual=m, package=amv,
                             member=persons[4 * f], number=f"{m.code}-F{f:06d}",
                             enrolled_on=enrolled, covered_from=enrolled + timedelta(days=90),
                             status="suspended" if f % 20 == 0 else "active"))
    covs = Coverage.objects.bulk_create(covs, batch_size=2000)
    bens = []
    for f, cov in enumerate(covs):
        for j, rel in enumerate(["head", "spouse", "child", "child"]):
            serial[cov.mutual_id] += 1
            bens.append(Beneficiary(coverage=cov, person=persons[4 * f + j], relation=rel,
                                    since=cov.enrolled_on,
                                    card_number=card_number(cov.mutual.code,
                                                            serial[cov.mutual_id])))
    bens = Beneficiary.objects.bulk_create(bens, batch_size=5000)
    dues = []
    for cov in covs:
        start = cov.enrolled_on.replace(day=1)
        for _ in range(12):
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            paid = 2_200 if cov.status == "active" else 0
            dues.append(ContributionDue(coverage=cov, period_start=start, period_end=end,
                                        amount=2_200, paid=paid, recognised=paid))
            start = end + timedelta(days=1)
    ContributionDue.objects.bulk_create(dues, batch_size=5000)
    SuspensionPeriod.objects.bulk_create([
        SuspensionPeriod(coverage=c, start=TODAY - timedelta(days=10))
        for c in covs if c.status == "suspended"])
    BenefitUsage.objects.bulk_create([
        BenefitUsage(beneficiary=b, year=TODAY.year, group="drugs", amount=rng.randrange(100_000))
        for b in bens[::7]], batch_size=5000)
    _token, raw = api_token_create(user=clinic, name="bench")
    print(json.dumps({"token": raw, "provider": provider.pk}))


def main() -> None:
    from bench.http_load import fresh_postgres, served, setup_in_child

    ap = argparse.ArgumentParser()
    ap.add_argument("--families", type=int, default=5000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    url, env = fresh_postgres("jigi_eligibility_bench")
    t = time.perf_counter()
    out = json.loads(setup_in_child(env, (
        f"import bench.bench_health_eligibility as b; b.world({args.families})"))[-1])
    print(f"set-up: {args.families} families of 4 in {time.perf_counter() - t:.0f} s")
    import psycopg

    with psycopg.connect(url) as conn:
        cards = [r[0] for r in conn.execute("SELECT card_number FROM health_beneficiary")]
    rng = random.Random(1)
    headers = {"Authorization": f"Bearer {out['token']}"}
    per_client = args.requests // args.clients
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def query(k: int) -> str:
        card = rng.choice(cards)
        if k % 50 == 7:
            card = card[:-1] + str((int(card[-1]) + 1) % 10)  # mistyped: 422
        elif k % 50 == 13:
            card = card.split("-")[0] + "-9999990"  # unknown card
        return "/api/v1/health/eligibility?" + urlencode(
            {"card": card, "group": "drugs", "provider_id": out["provider"]})

    def client(ci: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        paths = [query(ci * per_client + k) for k in range(per_client)]
        for path in paths:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(dt)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

    with served(env, port=PORT, workers=args.workers, threads=args.threads,
                log_name="jigi-bench-eligibility.log") as server:
        from bench.http_load import cpu_seconds, process_tree

        # Warm-up: statements prepared, connections open.
        warm = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        for _ in range(20):
            warm.request("GET", query(0), headers=headers)
            warm.getresponse().read()
        pids = process_tree(server.pid)
        cpu = sum(cpu_seconds(p) for p in pids)
        pool = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        t0 = time.perf_counter()
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        took = time.perf_counter() - t0
        cpu = sum(cpu_seconds(p) for p in pids) - cpu
    latencies.sort()
    n = len(latencies)
    print(f"eligibility by card, {args.clients} clients, PostgreSQL, `jigi serve --workers "
          f"{args.workers} --threads {args.threads}`: {n / took:,.0f}/s, "
          f"p50 {latencies[n // 2]:.1f} ms, p95 {latencies[int(n * 0.95)]:.1f} ms "
          f"({n} requests, statuses {dict(sorted(statuses.items()))})")
    print(f"server CPU per request {cpu / n * 1000:.1f} ms; load average at the end "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
