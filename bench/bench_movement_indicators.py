"""Decent-work indicators and the gender dashboard at MTC's scale (issue #7: ~6,000 members
must be a few grouped queries).

    .venv/bin/python bench/bench_movement_indicators.py [--members 6000] [--repeat 5] [--db PATH]

Builds, in a fresh temporary SQLite file (or --db, or JIGI_DATABASE_URL with --db -), the
organisations, MTC's four sections and N members with bulk inserts (person, membership,
profile, group record; 1 case per 10 members, 1 enrolment per 5 in MTC trainings), then times
in-process (Django set up, warm connection), median and worst of --repeat runs, with the
number of SQL statements of one run:
- the indicators now for the movement's administrator (every breakdown), and for a section's
  organiser;
- the monthly snapshot (computed and written once), and the 12-month series;
- the gender dashboard for the administrator (members, cases, trainings, rural women).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    statements = len(ctx.captured_queries)
    runs = []
    for _k in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), max(runs), statements


def build(n: int, seed: int):  # noqa: PLR0915 - one linear script of inserts
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from jigi.learning.models import Enrolment, Programme, TrainingSession
    from jigi.movement.models import (
        ArtisanRecord,
        Case,
        DomesticWorkerRecord,
        MemberProfile,
        TeacherRecord,
        YouthRecord,
    )
    from jigi.movement.setup import movement_setup
    from jigi.orgs.bootstrap import accounting_unit_create, organisations_bootstrap
    from jigi.orgs.models import MemberGroup, Role, UnitKind
    from jigi.orgs.services import role_grant
    from jigi.people.models import Membership, Person

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    orgs = organisations_bootstrap()
    movement_setup(orgs.mtc)
    groups = [MemberGroup.DOMESTIC, MemberGroup.TEACHERS, MemberGroup.ARTISANS,
              MemberGroup.YOUTH]
    sections = {}
    for code, group in zip(["B-DOM", "B-ENS", "B-ART", "B-JEU"], groups, strict=True):
        sections[group] = accounting_unit_create(
            organisation=orgs.mtc, kind=UnitKind.SECTION, code=code, name=f"Section {code}",
            parent=orgs.movement, region="Bamako", cercle="Bamako", urban=True,
            member_group=group)
    User = get_user_model()
    admin = User.objects.create_user("bench_admin", password="x")  # noqa: S106
    role_grant(user=admin, organisation=orgs.mtc, role=Role.MOVEMENT_ADMIN)
    organiser = User.objects.create_user("bench_organiser", password="x")  # noqa: S106
    role_grant(user=organiser, organisation=orgs.mtc, role=Role.ORGANISER,
               unit=sections[MemberGroup.DOMESTIC])

    t = time.perf_counter()
    # Domestic workers are the movement's largest group.
    member_groups = rng.choices(groups, weights=[45, 20, 20, 15], k=n)
    persons = Person.objects.bulk_create([
        Person(first_name=f"Bench{i}", last_name="Traoré",
               sex="F" if rng.random() < (0.85 if g == MemberGroup.DOMESTIC else 0.45) else "M",
               birth_year=rng.randint(2008, 2014) if g == MemberGroup.DOMESTIC
               and rng.random() < 0.3 else rng.randint(1960, 2008),
               search_name=f"bench{i} traore")
        for i, g in enumerate(member_groups)], batch_size=2000)
    memberships = Membership.objects.bulk_create([
        Membership(person=p, organisation=orgs.mtc, unit=sections[g], number=f"B-{i:06d}",
                   start_date=date(2024, 1, 1))
        for i, (p, g) in enumerate(zip(persons, member_groups, strict=True))], batch_size=2000)
    profiles = MemberProfile.objects.bulk_create([
        MemberProfile(membership=m, person=m.person, section=sections[g], group=g,
                      area_kind="rural" if rng.random() < 0.3 else "urban",
                      rural_origin=rng.random() < 0.6)
        for m, g in zip(memberships, member_groups, strict=True)], batch_size=2000)
    records: dict[str, list] = {g: [] for g in groups}
    for p in profiles:
        if p.group == MemberGroup.DOMESTIC:
            records[p.group].append(DomesticWorkerRecord(
                profile=p, employer_name="Famille", district="Commune IV",
                monthly_pay=rng.randrange(5_000, 45_000, 500), daily_hours=rng.randint(8, 16),
                weekly_rest_half_days=rng.randint(0, 3), written_contract=rng.random() < 0.1,
                declared=rng.random() < 0.05))
        elif p.group == MemberGroup.TEACHERS:
            status = rng.choice(["community", "community", "volunteer", "local_contract"])
            records[p.group].append(TeacherRecord(
                profile=p, school="École", status=status, paid_by="community",
                monthly_pay=rng.choice([0, 25_000, 25_000, 45_000]),
                pay_arrears=rng.randrange(0, 300_000, 25_000)))
        elif p.group == MemberGroup.ARTISANS:
            records[p.group].append(ArtisanRecord(
                profile=p, trade="Tisserand", monthly_income=rng.randrange(10_000, 90_000, 1_000)))
        else:
            records[p.group].append(YouthRecord(
                profile=p, schooling="secondary",
                computer_access=rng.choice(["none", "none", "shared", "own"])))
    for model, rows in [(DomesticWorkerRecord, records[MemberGroup.DOMESTIC]),
                        (TeacherRecord, records[MemberGroup.TEACHERS]),
                        (ArtisanRecord, records[MemberGroup.ARTISANS]),
                        (YouthRecord, records[MemberGroup.YOUTH])]:
        model.objects.bulk_create(rows, batch_size=2000)
    opened = date(2026, 3, 1)
    Case.objects.bulk_create([
        Case(organisation=orgs.mtc, section=p.section, number=f"BENCH-{i:06d}",
             person_id=p.person_id, profile=p, category=rng.choice(
                 ["unpaid_wages", "child_labour", "no_rest_day", "below_smig"]),
             urgency="urgent" if rng.random() < 0.1 else "normal", intake_channel="phone",
             summary="-", opened_on=opened, first_action_due=opened, resolution_due=opened,
             status="closed" if rng.random() < 0.5 else "open",
             outcome=rng.choice(["resolved", "wages_recovered", "no_result"]),
             wages_recovered=rng.randrange(0, 100_000, 5_000))
        for i, p in enumerate(profiles[::10])], batch_size=2000)
    programme = Programme.objects.create(organisation=orgs.mtc, code="DROITS",
                                         name="Droits", kind="rights")
    sessions = [TrainingSession.objects.create(
        programme=programme, unit=sections[g], place="Bamako", trainer="T",
        starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 30), urban=i % 2 == 0)
        for i, g in enumerate(groups)]
    Enrolment.objects.bulk_create([
        Enrolment(session=sessions[i % 4], person_id=p.person_id,
                  status=rng.choice(["enrolled", "completed"]),
                  literacy_before=rng.randint(0, 2), literacy_after=rng.randint(0, 4))
        for i, p in enumerate(profiles[::5])], batch_size=2000)
    print(f"built {n} members in {time.perf_counter() - t:.1f} s")
    return orgs, admin, organiser


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=6000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    if args.db != "-":
        path = args.db or str(Path(tempfile.mkdtemp()) / "bench_movement_indicators.sqlite3")
        os.environ["JIGI_DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from jigi.core.cleaning import today
    from jigi.movement.models import IndicatorSnapshot
    from jigi.movement.selectors_indicators import (
        Period,
        decent_work_now,
        gender_dashboard,
        indicator_series,
    )
    from jigi.movement.services.indicators import indicator_snapshot_take

    orgs, admin, organiser = build(args.members, args.seed)
    on = today()
    year = Period(date(on.year, 1, 1), on)

    def snapshot():
        IndicatorSnapshot.objects.all().delete()
        indicator_snapshot_take(organisation=orgs.mtc, month=on)

    lines = [
        ("indicators now, whole movement (administrator)", lambda: decent_work_now(admin)),
        ("indicators now, one section (organiser)", lambda: decent_work_now(organiser)),
        ("monthly snapshot (compute and write)", snapshot),
        ("12-month series", lambda: indicator_series(admin)),
        ("gender dashboard (administrator)", lambda: gender_dashboard(admin, period=year)),
    ]
    print(f"{args.members} members, median / worst of {args.repeat}, SQL statements per run")
    for label, fn in lines:
        median, worst, statements = timed(fn, args.repeat)
        print(f"  {label:<50} {median * 1000:8.1f} ms  {worst * 1000:8.1f} ms  "
              f"{statements:3d} statements")
    result, _v, _f = decent_work_now(admin)
    print(f"check: {result.members} members counted; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
