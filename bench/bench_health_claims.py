"""Claim adjudication through the service (issue #6: 100,000 claim lines in <= 20 s).

    .venv/bin/python bench/bench_health_claims.py [--lines 100000] [--database sqlite|postgres]
                                                   [--seed 6]

1. a fresh database (SQLite: /tmp/jigi-bench-claims.sqlite3; PostgreSQL: jigi_claims_bench),
   migrated;
2. a network of three mutuals under the union with the AMV package and 12 providers under
   union-wide conventions of ~200 acts and drugs each; the large urban mutual has one
   beneficiary per five claim lines (20,000 for 100,000 lines) in families, some in their
   waiting period, some suspended for arrears, some back from a lapse, some with hospital
   ceilings partly used; 5 % of the claims of the year already approved (history for
   duplicates and per-event limits); then the entered claims, 1 to 6 lines each, with prices
   above and far above the tariff, bad quantities, unknown items, duplicate sheets. All of it
   bulk-inserted (not through the services: only adjudication is measured);
3. `claims_adjudicate(mutual=...)` over every entered claim of the mutual, timed: wall time,
   this process's CPU, SQL statements, lines/s.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
PG = "postgres://postgres@127.0.0.1:5432/"
SQLITE = Path("/tmp/jigi-bench-claims.sqlite3")
PG_NAME = "jigi_claims_bench"

# (group, items, price range, quantity limit, weight among lines)
GROUPS = [
    ("consultation", 10, (1_000, 3_000), 1, 30),
    ("drugs", 120, (25, 3_500), 60, 45),
    ("lab", 30, (500, 6_000), 2, 12),
    ("antenatal", 8, (500, 2_500), 1, 4),
    ("delivery", 4, (5_000, 15_000), 1, 2),
    ("delivery_complicated", 4, (60_000, 200_000), 1, 0.5),
    ("hospitalisation", 6, (2_500, 10_000), 15, 3),
    ("surgery", 12, (50_000, 350_000), 1, 1),
    ("transport", 4, (5_000, 40_000), 1, 1),
]
DIAGNOSES = ["B54", "B50.9", "A09", "J06.9", "J18.9", "O80", "O82.0", "K35.8", "S52.5",
             "PALU", ""]
DIAGNOSIS_WEIGHTS = [30, 8, 15, 15, 5, 6, 2, 2, 3, 2, 40]
PROVIDERS = 12


def env_for(url: str) -> dict:
    return {**os.environ, "JIGI_DATABASE_URL": url, "PYTHONPATH": str(ROOT / "src"),
            "DJANGO_SETTINGS_MODULE": "jigi.settings"}


def fresh_database(kind: str) -> str:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE}"
    else:
        for statement in (f"DROP DATABASE IF EXISTS {PG_NAME}", f"CREATE DATABASE {PG_NAME}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", statement],
                           check=True, capture_output=True)
        url = PG + PG_NAME
    subprocess.run([PY, "-m", "jigi", "migrate", "-v0"], env=env_for(url), check=True,
                   cwd="/tmp")
    return url


# --- the child: build and measure -------------------------------------------------------------


def build(lines_wanted: int, seed: int):  # noqa: C901 (a data generator, read top to bottom)
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from jigi.health.models import (
        Beneficiary,
        BenefitUsage,
        Claim,
        ClaimLine,
        Convention,
        Coverage,
        MutualProfile,
        Provider,
        SuspensionPeriod,
        TariffItem,
    )
    from jigi.health.setup import health_setup
    from jigi.orgs.bootstrap import accounting_unit_create, organisations_bootstrap
    from jigi.orgs.models import Role, UnitKind
    from jigi.orgs.services import role_grant
    from jigi.people.models import Person

    rnd = random.Random(seed)
    today = timezone.localdate()
    year_start = date(today.year, 1, 1)
    orgs = organisations_bootstrap()
    utm = orgs.utm
    mutuals = [accounting_unit_create(organisation=utm, kind=UnitKind.MUTUAL, code=f"M{i:02d}",
                                      name=f"Mutuelle {i}", parent=orgs.union, region="Bamako")
               for i in (1, 2, 3)]
    for m in mutuals:
        MutualProfile.objects.create(unit=m, area_kind="urban", target_population=60_000)
    admin = get_user_model().objects.create_user("bench_union_admin", password="x")
    role_grant(user=admin, organisation=utm, role=Role.UNION_ADMIN, unit=None)
    amv = health_setup(organisation=utm, acting_user=admin)["AMV"]

    with transaction.atomic():
        providers = Provider.objects.bulk_create([
            Provider(organisation=utm, code=f"CS{p:02d}", name=f"CSCom {p}", kind="cscom")
            for p in range(1, PROVIDERS + 1)])
        conventions = Convention.objects.bulk_create([
            Convention(provider=p, mutual=None, reference=f"CONV-{p.code}",
                       valid_from=date(2025, 1, 1)) for p in providers])
        reference = []
        for group, count, (low, high), max_q, _w in GROUPS:
            for n in range(count):
                reference.append((f"{group[:3].upper()}{len(reference):03d}", group,
                                  rnd.randrange(low, high + 1, 25), max_q if n % 3 else None))
        prices: dict[tuple[int, str], int] = {}
        items = []
        for conv in conventions:
            for code, group, price, max_q in reference:
                own = price * rnd.randint(90, 110) // 100
                prices[(conv.provider_id, code)] = own
                items.append(TariffItem(convention=conv, code=code, label=code, group=group,
                                        price=own, max_quantity=max_q))
        TariffItem.objects.bulk_create(items, batch_size=2_000)

        # Beneficiaries: one per five lines in the big mutual, a tenth of that in the others.
        per_mutual = [max(50, lines_wanted // 5), max(20, lines_wanted // 50),
                      max(20, lines_wanted // 50)]
        def person(i: int, adult: bool) -> Person:
            year = rnd.randint(1950, today.year - 19) if adult else rnd.randint(
                today.year - 17, today.year - 1)
            exact = rnd.random() < 0.3  # most rural births are known by the year only
            return Person(first_name=f"P{i}", last_name=f"F{i // 4}", sex=rnd.choice("MF"),
                          birth_year=year,
                          birth_date=date(year, rnd.randint(1, 12), 15) if exact else None)

        # Families: a head, a spouse, then children (the family sizes drawn below).
        sizes = []
        for wanted in per_mutual:
            left = wanted
            while left > 0:
                sizes.append(min(rnd.choice((1, 2, 3, 3, 4, 5, 6)), left))
                left -= sizes[-1]
        persons = Person.objects.bulk_create(
            [person(i, adult=k < 2) for i, k in enumerate(
                k for size in sizes for k in range(size))], batch_size=2_000)
        coverages, bens_spec = [], []
        pos = 0
        serial = 0
        family_sizes = iter(sizes)
        for mutual, count in zip(mutuals, per_mutual, strict=True):
            end = pos + count
            while pos < end:
                size = next(family_sizes)
                enrolled = year_start - timedelta(days=rnd.randint(-150, 1_500))
                ended = None if rnd.random() > 0.04 else enrolled + timedelta(
                    days=rnd.randint(100, 500))
                serial += 1
                coverages.append(Coverage(
                    organisation=utm, mutual=mutual, package=amv, member=persons[pos],
                    number=f"{mutual.code}-F{serial:06d}",
                    status="ended" if ended else "active", enrolled_on=enrolled,
                    covered_from=enrolled + timedelta(days=amv.waiting_days), ended_on=ended,
                    renewal_due=enrolled + timedelta(days=365)))
                bens_spec.append((persons[pos:pos + size], enrolled))
                pos += size
        coverages = Coverage.objects.bulk_create(coverages, batch_size=2_000)
        bens, suspensions = [], []
        card = 0
        for cov, (members, enrolled) in zip(coverages, bens_spec, strict=True):
            for i, person in enumerate(members):
                card += 1
                bens.append(Beneficiary(
                    coverage=cov, person=person,
                    relation="head" if i == 0 else ("spouse" if i == 1 else "child"),
                    card_number=f"{cov.mutual.code}-{card:07d}", since=enrolled))
            r = rnd.random()
            if r < 0.06:
                s = year_start + timedelta(days=rnd.randint(0, 250))
                e = s + timedelta(days=rnd.randint(15, 90))
                suspensions.append(SuspensionPeriod(coverage=cov, start=s, end=e))
                if r < 0.04:
                    suspensions.append(SuspensionPeriod(
                        coverage=cov, start=e + timedelta(days=1),
                        end=e + timedelta(days=amv.waiting_days_lapse), reason="waiting"))
        bens = Beneficiary.objects.bulk_create(bens, batch_size=2_000)
        SuspensionPeriod.objects.bulk_create(suspensions, batch_size=2_000)
        big = [b for b in bens if b.coverage.mutual_id == mutuals[0].pk]
        BenefitUsage.objects.bulk_create([
            BenefitUsage(beneficiary=b, year=today.year, group="hospitalisation",
                         amount=rnd.choice((100_000, 150_000, 200_000)))
            for b in big if rnd.random() < 0.03], batch_size=2_000)

        # Claims of the year: 5 % already approved (history), the rest entered.
        names = [g[0] for g in GROUPS]
        weights = [g[4] for g in GROUPS]
        by_group: dict[str, list[str]] = {}
        for code, group, _p, _q in reference:
            by_group.setdefault(group, []).append(code)
        days = (today - year_start).days
        claims, lines_of = [], []
        count = number = 0
        history_share = 0.05
        while count < lines_wanted:
            ben = rnd.choice(big)
            provider = rnd.choice(providers)
            care = year_start + timedelta(days=rnd.randint(0, days - 1))
            n = rnd.choice((1, 2, 3, 3, 4, 4, 5, 6))
            lines = []
            for _ in range(n):
                group = rnd.choices(names, weights)[0]
                code = rnd.choice(by_group[group])
                price = prices[(provider.pk, code)]
                r = rnd.random()
                if r < 0.06:
                    price = price * rnd.randint(105, 150) // 100
                elif r < 0.07:
                    price = price * rnd.randint(160, 400) // 100
                elif r < 0.10:
                    price = price * rnd.randint(70, 99) // 100
                qty = rnd.randint(1, 20) if group in ("drugs", "hospitalisation") else 1
                if rnd.random() < 0.003:
                    qty = rnd.choice((0, -1))
                if rnd.random() < 0.004:
                    code = "X999"
                lines.append((code, qty, max(0, price)))
            diagnosis = rnd.choices(DIAGNOSES, DIAGNOSIS_WEIGHTS)[0]
            history = rnd.random() < history_share
            copies = 2 if not history and rnd.random() < 0.02 else 1  # a sheet sent twice
            for _copy in range(copies):
                number += 1
                claims.append(Claim(
                    organisation=utm, mutual=mutuals[0], beneficiary=ben, provider=provider,
                    number=f"B{number:07d}", care_date=care, diagnosis=diagnosis,
                    status="approved" if history else "entered",
                    claimed=sum(max(q, 0) * p for _c, q, p in lines), entered_by=admin))
                lines_of.append((lines, history))
                if not history:
                    count += len(lines)
        claims = Claim.objects.bulk_create(claims, batch_size=2_000)
        rows = []
        for claim, (lines, history) in zip(claims, lines_of, strict=True):
            for no, (code, qty, price) in enumerate(lines, start=1):
                rows.append(ClaimLine(
                    claim=claim, line_no=no, item_code=code, quantity=qty, unit_price=price,
                    claimed=max(qty, 0) * price,
                    status="accepted" if history else "",
                    allowed_quantity=max(qty, 0) if history else 0,
                    allowed_unit_price=price if history else 0,
                    allowed=max(qty, 0) * price if history else 0))
        ClaimLine.objects.bulk_create(rows, batch_size=2_000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return mutuals[0], admin, count


def child(lines_wanted: int, seed: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from jigi.health.models import BenefitUsage, Claim, ClaimEvent, ClaimLine
    from jigi.health.services.claims import claims_adjudicate

    started = time.perf_counter()
    mutual, admin, lines = build(lines_wanted, seed)
    entered = Claim.objects.filter(mutual=mutual, status="entered").count()
    print(f"# {connection.vendor}: built {entered} entered claims, {lines} lines, in "
          f"{time.perf_counter() - started:.0f} s")

    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    cpu0, t0 = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(count):
        run = claims_adjudicate(acting_user=admin, mutual=mutual)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"claims_adjudicate: {run.claims} claims, {run.lines} lines in {elapsed:.2f} s "
          f"(this process's CPU {cpu:.2f} s, {statements[0]} SQL statements): "
          f"{run.lines / elapsed:,.0f} lines/s")
    print("claims:", {str(k): n for k, n in sorted(run.by_status.items())})
    print("reasons:", dict(Counter(run.reasons).most_common()))
    print(f"mutual share {run.mutual_share:,} F")
    left = Claim.objects.filter(mutual=mutual, status="entered").count()
    unvalued = ClaimLine.objects.filter(claim__mutual=mutual, status="").count()
    print(f"check: {left} claims still entered, {unvalued} lines without status, "
          f"{ClaimEvent.objects.count()} events, {BenefitUsage.objects.count()} usage rows")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.lines, args.seed)
        return
    url = fresh_database(args.database)
    proc = subprocess.run([PY, __file__, "--child", "--lines", str(args.lines), "--seed",
                           str(args.seed)], env=env_for(url), cwd="/tmp", check=False)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
