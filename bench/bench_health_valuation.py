"""Claim adjudication speed (issue #6): 100,000 claim lines over ~30,000 claims in one process.

    .venv/bin/python bench/bench_health_valuation.py [--lines 100000] [--seed 6]

Synthetic but shaped like a mutual's year: the AMV package (60 % ambulatory, 75 % hospital
and complicated delivery, ceilings, 90-day stage, 270 days for deliveries), a convention
tariff of 200 items for each of 12 providers, 20,000 beneficiaries (some in their stage,
lapsed, suspended for arrears, unknown), and claims of 1 to 6 lines with over-tariff and
far-over-tariff prices, bad quantities, duplicates of history and within the batch, and
yearly hospital ceilings already partly used. Only `adjudicate` is timed (the service layer
loads the same inputs from the database).
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections import Counter
from datetime import date, timedelta

from jigi.health.valuation import (
    Claim,
    ClaimLine,
    Coverage,
    Package,
    Period,
    ServiceGroup,
    Tariff,
    TariffItem,
    adjudicate,
)

TODAY = date(2026, 12, 31)
YEAR_START = date(2026, 1, 1)
PACKAGE = Package(
    "AMV",
    (
        ServiceGroup("consultation", 6_000),
        ServiceGroup("drugs", 6_000),
        ServiceGroup("lab", 6_000),
        ServiceGroup("antenatal", 6_000, min_age=12, max_age=55),
        ServiceGroup("delivery", 6_000, waiting_days=270, ceiling_per_event=20_000),
        ServiceGroup("delivery_complicated", 7_500, waiting_days=270, ceiling_per_event=150_000,
                     requires_diagnosis=True),
        ServiceGroup("hospitalisation", 7_500, max_quantity_per_event=10,
                     ceiling_per_year=150_000),
        ServiceGroup("surgery", 7_500, ceiling_per_event=300_000, ceiling_per_year=500_000,
                     requires_diagnosis=True),
        ServiceGroup("transport", 5_000, ceiling_per_event=15_000),
    ),
    waiting_days=90,
    waiting_days_after_lapse=30,
    excluded_items=frozenset({"D199"}),
    excluded_diagnoses=("Z41",),
)
# (group, share of the tariff's items, price range, max quantity, weight in claims)
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
    ("dental", 2, (3_000, 10_000), 1, 1.5),  # not in the AMV package
]
# ICD-10 as clinics write it: mostly malaria, diarrhoea, respiratory infections, deliveries;
# now and then a word instead of a code (review) or an excluded cosmetic act.
DIAGNOSES = ["B54", "B50.9", "A09", "J06.9", "J18.9", "O80", "O82.0", "K35.8", "S52.5",
             "paludisme", "Z41.1"]
DIAGNOSIS_WEIGHTS = [30, 8, 15, 15, 5, 6, 2, 2, 3, 3, 0.5]
PROVIDERS = 12


def build(lines_wanted: int, seed: int):
    rnd = random.Random(seed)
    items: list[TariffItem] = []
    by_group: dict[str, list[TariffItem]] = {}
    for group, count, (low, high), max_q, _w in GROUPS:
        for n in range(count):
            item = TariffItem(f"{group[0].upper()}{len(items):03d}", group,
                              rnd.randrange(low, high + 1, 25), max_q if n % 3 else None)
            items.append(item)
            by_group.setdefault(group, []).append(item)
    tariffs = {}
    for provider in range(1, PROVIDERS + 1):
        # each facility negotiated its own prices, within 10 % of the union's reference
        own = tuple(TariffItem(i.code, i.group, i.price * rnd.randint(90, 110) // 100,
                               i.max_quantity) for i in items)
        tariffs[provider] = Tariff(own, far_above_bp=5_000, valid_from=date(2025, 1, 1))
    coverages = {}
    beneficiaries = 20_000
    for ben in range(1, beneficiaries + 1):
        enrolled = YEAR_START - timedelta(days=rnd.randint(-120, 1_500))
        end = None if rnd.random() > 0.05 else enrolled + timedelta(days=rnd.randint(100, 500))
        suspensions = ()
        if rnd.random() < 0.06:
            s = YEAR_START + timedelta(days=rnd.randint(0, 300))
            suspensions = (Period(s, s + timedelta(days=rnd.randint(15, 90))),)
        resumed = (YEAR_START + timedelta(days=rnd.randint(0, 300)),) \
            if rnd.random() < 0.04 else ()
        consumed = {("hospitalisation", 2026): rnd.choice((100_000, 140_000, 150_000))} \
            if rnd.random() < 0.03 else {}
        coverages[ben] = Coverage(
            ben, (Period(enrolled, end),), suspensions=suspensions, enrolled_on=enrolled,
            resumed_on=resumed,
            birth_date=None if rnd.random() < 0.02 else date(rnd.randint(1950, 2025), 6, 15),
            consumed=consumed)
    group_names = [g[0] for g in GROUPS]
    weights = [g[4] for g in GROUPS]
    claims: list[Claim] = []
    history: set = set()
    count = 0
    claim_id = 0
    while count < lines_wanted:
        claim_id += 1
        ben = rnd.randint(1, beneficiaries + 150)  # ~0.75 % unknown beneficiaries
        provider = rnd.randint(1, PROVIDERS)
        care = YEAR_START + timedelta(days=rnd.randint(0, 366))  # a few in the future
        n = min(rnd.choice((1, 2, 3, 3, 4, 4, 5, 6)), lines_wanted - count)
        lines = []
        for _ in range(n):
            group = rnd.choices(group_names, weights)[0]
            ref = rnd.choice(by_group[group])
            price = tariffs[provider].item(ref.code).price
            r = rnd.random()
            if r < 0.06:
                price = price * rnd.randint(105, 150) // 100  # above tariff
            elif r < 0.07:
                price = price * rnd.randint(160, 400) // 100  # far above: review
            elif r < 0.10:
                price = price * rnd.randint(70, 99) // 100  # below tariff
            qty = rnd.randint(1, 20) if group in ("drugs", "hospitalisation") else 1
            if rnd.random() < 0.003:
                qty = rnd.choice((0, -1))
            if rnd.random() < 0.004:
                lines.append(ClaimLine("X999", 1, price))  # unknown to the tariff
            else:
                lines.append(ClaimLine(ref.code, qty, max(1, price)))
            if rnd.random() < 0.01:
                history.add((ben, provider, care, ref.code))  # already paid
        diagnosis = rnd.choices(DIAGNOSES, DIAGNOSIS_WEIGHTS)[0] if rnd.random() < 0.6 \
            else None
        claims.append(Claim(claim_id, ben, provider, care, tuple(lines), diagnosis))
        count += n
        if rnd.random() < 0.02:  # the same care sheet sent twice
            claim_id += 1
            claims.append(Claim(claim_id, ben, provider, care, tuple(lines), diagnosis))
            count += n
    rnd.shuffle(claims)
    return claims, tariffs, coverages, frozenset(history)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=6)
    args = ap.parse_args()
    claims, tariffs, coverages, history = build(args.lines, args.seed)
    lines = sum(len(c.lines) for c in claims)
    cpu_started = time.process_time()
    started = time.perf_counter()
    result = adjudicate(claims, package=PACKAGE, tariffs=tariffs, coverages=coverages,
                        today=TODAY, paid_keys=history)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    statuses = Counter(line.status.value for c in result.claims for line in c.lines)
    outcomes = Counter(c.status.value for c in result.claims)
    reasons = Counter(r.value for c in result.claims for line in c.lines for r in line.reasons)
    print(f"python {platform.python_version()} on {platform.machine()}")
    print(f"{len(claims)} claims, {lines} lines, {len(history)} care keys of history")
    print(f"adjudicated in {elapsed:.2f} s (CPU {cpu:.2f} s): {lines / elapsed:,.0f} lines/s")
    print("lines:", dict(sorted(statuses.items())))
    print("claims:", dict(sorted(outcomes.items())))
    print("reasons:", dict(reasons.most_common()))
    print(f"claimed {sum(c.claimed for c in result.claims):,} F, allowed "
          f"{sum(c.allowed for c in result.claims):,} F, mutual share "
          f"{sum(c.mutual_share for c in result.claims):,} F, co-payments "
          f"{sum(c.copay for c in result.claims):,} F")


if __name__ == "__main__":
    main()
