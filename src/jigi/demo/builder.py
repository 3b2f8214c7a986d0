"""Deterministic, Mali-realistic demo data at any scale (`jigi demo --members N --seed S`).

Small things (organisations, ~100 caisses, mutuals, sections, staff) go through the real
services so they carry their books and audit rows. Persons and their links are synthetic and
numerous (75,000 in under two minutes on two cores), so they are bulk-inserted with the same
derived fields the services would compute (search_name, name_key, gapless member numbers);
each bulk step writes one audit row with its counts instead of one per person.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from jigi.core.audit import audit_log
from jigi.core.models import Counter
from jigi.orgs.bootstrap import Orgs, accounting_unit_create, organisations_bootstrap
from jigi.orgs.models import MemberGroup, Role, Unit, UnitKind
from jigi.orgs.services import role_grant
from jigi.people.models import (
    Consent,
    Household,
    HouseholdMember,
    Literacy,
    Membership,
    MembershipStatus,
    Person,
    Relation,
)
from jigi.people.names import name_key, search_name

DEMO_PASSWORD = "jigi-demo"
BATCH = 5000

# Operators' mobile ranges (first two digits after +223), DOMAIN.md §5.
ORANGE = [70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 82, 83, 84, 85, 90, 91, 92, 93, 94]
MOOV = [60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 89, 95, 96, 97, 98, 99]
TELECEL = [50, 51, 52, 53]

VILLAGE_STEMS = ["Dougou", "Bougou", "Koro", "Sira", "Niaga", "Fana", "Diola", "Kalan", "Banko",
                 "Sokoro", "Bénin", "Massa", "Tonga", "Dialakoro", "Kéné", "Sanan"]
VILLAGE_SUFFIXES = ["", "ba", "bougou", "coura", "dougou", "ni", "kala", "ké"]


def _data(name: str) -> list[dict[str, str]]:
    text = resources.files("jigi.demo").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass
class DemoContext:
    members: int
    seed: int
    today: date
    rng: random.Random
    log: Callable[[str], None]
    orgs: Orgs | None = None
    caisses: list[Unit] = field(default_factory=list)
    mutuals: list[Unit] = field(default_factory=list)
    sections: list[Unit] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)


def _allocate(weights: list[float], total: int) -> list[int]:
    """Largest-remainder split of `total` proportional to `weights` (sums exactly to total)."""
    s = sum(weights)
    raw = [w * total / s for w in weights]
    base = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[: total - sum(base)]:
        base[i] += 1
    return base


def step_organisations(ctx: DemoContext) -> None:
    ctx.orgs = organisations_bootstrap()
    places = _data("mali_places.csv")
    regions: dict[str, Unit] = {}
    kondo = ctx.orgs.kondo
    for i, region in enumerate(dict.fromkeys(p["region"] for p in places), start=1):
        regions[region] = accounting_unit_create(
            organisation=kondo, kind=UnitKind.REGION, code=f"R{i:02d}",
            name=f"Union régionale de {region}", parent=ctx.orgs.network, region=region,
        )
    per_cercle = _allocate([float(p["weight"]) for p in places], 100)
    n = 0
    for place, count in zip(places, per_cercle, strict=True):
        for k in range(count):
            n += 1
            town = place["cercle"] if k == 0 else f"{place['cercle']} {_village(ctx.rng)}"
            ctx.caisses.append(accounting_unit_create(
                organisation=kondo, kind=UnitKind.CAISSE, code=f"C{n:03d}",
                name=f"Caisse de {town}", parent=regions[place["region"]],
                region=place["region"], cercle=place["cercle"],
                commune=town if place["region"] != "Bamako" else place["cercle"],
                urban=place["urban"] == "yes" and k == 0,
            ))
    mutual_places = [
        ("Bamako", "Commune I", True), ("Bamako", "Commune II", True),
        ("Bamako", "Commune III", True), ("Bamako", "Commune IV", True),
        ("Bamako", "Commune V", True), ("Bamako", "Commune VI", True),
        ("Ségou", "Bla", False), ("Ségou", "Niono", False), ("Sikasso", "Koutiala", False),
        ("Sikasso", "Bougouni", False), ("Mopti", "Bandiagara", False), ("Kayes", "Kita", False),
    ]
    for i, (region, cercle, urban) in enumerate(mutual_places, start=1):
        kind = "Mutuelle" if urban else "Mutuelle rurale"
        ctx.mutuals.append(accounting_unit_create(
            organisation=ctx.orgs.utm, kind=UnitKind.MUTUAL, code=f"M{i:02d}",
            name=f"{kind} de {cercle}", parent=ctx.orgs.union, region=region, cercle=cercle,
            urban=urban,
        ))
    for code, group, name in [
        ("S-ENS", MemberGroup.TEACHERS, "Section des enseignants sans contrat"),
        ("S-DOM", MemberGroup.DOMESTIC, "Section des travailleuses domestiques"),
        ("S-ART", MemberGroup.ARTISANS, "Section des artisans"),
        ("S-JEU", MemberGroup.YOUTH, "Section des jeunes"),
    ]:
        ctx.sections.append(accounting_unit_create(
            organisation=ctx.orgs.mtc, kind=UnitKind.SECTION, code=code, name=name,
            parent=ctx.orgs.movement, region="Bamako", cercle="Bamako", urban=True,
            member_group=group,
        ))
    ctx.counts["caisses"] = len(ctx.caisses)
    ctx.counts["mutuals"] = len(ctx.mutuals)
    ctx.log(f"organisations: {len(ctx.caisses)} caisses, {len(ctx.mutuals)} mutuals, "
            f"{len(ctx.sections)} sections")


def step_staff(ctx: DemoContext) -> None:
    assert ctx.orgs is not None
    User = get_user_model()
    o = ctx.orgs
    staff = [
        ("guichet1", "Aminata", "Traoré", o.kondo, Role.TELLER, ctx.caisses[0]),
        ("guichet2", "Seydou", "Coulibaly", o.kondo, Role.TELLER, ctx.caisses[1]),
        ("gerant1", "Mariam", "Diarra", o.kondo, Role.CAISSE_MANAGER, ctx.caisses[0]),
        ("agentcredit1", "Bakary", "Keïta", o.kondo, Role.LOAN_OFFICER, ctx.caisses[0]),
        ("auditeur", "Oumar", "Sangaré", o.kondo, Role.NETWORK_AUDITOR, None),
        ("mutuelle1", "Fatoumata", "Koné", o.utm, Role.MUTUAL_MANAGER, ctx.mutuals[0]),
        ("clinique", "Awa", "Sidibé", o.utm, Role.CLINIC_STAFF, None),
        ("gestionnaire", "Ibrahim", "Cissé", o.utm, Role.CLAIMS_OFFICER, None),
        ("animatrice", "Kadiatou", "Dembélé", o.mtc, Role.ORGANISER, ctx.sections[1]),
        ("travailleur_social", "Modibo", "Doumbia", o.mtc, Role.CASE_WORKER, None),
    ]
    for username, first, last, org, role, unit in staff:
        if User.objects.filter(username=username).exists():
            continue
        user = User.objects.create_user(username=username, password=DEMO_PASSWORD,
                                        first_name=first, last_name=last)
        role_grant(user=user, organisation=org, role=role, unit=unit)
        ctx.logins.append((username, str(role.label), unit.name if unit else org.name))
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@jigi.invalid", DEMO_PASSWORD)
        ctx.logins.append(("admin", "superuser", "Jigi"))


def _village(rng: random.Random) -> str:
    return rng.choice(VILLAGE_STEMS) + rng.choice(VILLAGE_SUFFIXES)


def step_persons(ctx: DemoContext) -> None:
    """N adults, mostly Kondo members; some also insured by a mutual or in an MTC section."""
    assert ctx.orgs is not None
    rng = ctx.rng
    names = _data("mali_names.csv")
    family = [r["name"] for r in names if r["kind"] == "family"]
    female = [r["name"] for r in names if r["kind"] == "female"]
    male = [r["name"] for r in names if r["kind"] == "male"]
    year = ctx.today.year
    # Caisses are not equal: town caisses are bigger than village ones.
    weights = [3.0 if c.urban else 1.0 + rng.random() for c in ctx.caisses]
    if ctx.members < 5000:
        # A small demo spreads thin over 100 caisses: give the demo tellers' caisses a crowd.
        weights[0] = weights[1] = 25.0
    caisse_of = rng.choices(range(len(ctx.caisses)), weights=weights, k=ctx.members)
    phones: set[str] = set()
    villages = {c.pk: [_village(rng) for _ in range(6)] for c in ctx.caisses}
    persons: list[Person] = []
    for i in range(ctx.members):
        caisse = ctx.caisses[caisse_of[i]]
        sex = "F" if rng.random() < 0.52 else "M"
        first = rng.choice(female if sex == "F" else male)
        last = rng.choice(family)
        age = min(75, 18 + int(rng.expovariate(1 / 17)))
        exact = rng.random() < 0.35  # most rural adults know only an approximate year
        birth_year = year - age
        birth_date = (date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))) if exact \
            else None
        while True:
            prefix = rng.choices([ORANGE, MOOV, TELECEL], weights=[78, 20, 2])[0]
            phone = f"+223{rng.choice(prefix)}{rng.randrange(10**6):06d}"
            if phone not in phones:
                phones.add(phone)
                break
        lit_roll = rng.random() + (0.12 if sex == "F" else 0.0)
        literacy = (Literacy.LITERATE_FRENCH if lit_roll < 0.22 else
                    Literacy.LITERATE_LOCAL if lit_roll < 0.30 else
                    Literacy.BASIC if lit_roll < 0.42 else Literacy.NONE)
        persons.append(Person(
            first_name=first, last_name=last, sex=sex, birth_date=birth_date,
            birth_year=birth_year, birth_year_estimated=not exact,
            phone=phone if rng.random() < 0.85 else "",
            nina=f"{birth_year % 100:02d}{i:09d}{'ABCDEFGHJK'[i % 10]}" if rng.random() < 0.3
            else None,
            village=rng.choice(villages[caisse.pk]) if not caisse.urban else caisse.commune,
            commune=caisse.commune, cercle=caisse.cercle, region=caisse.region,
            literacy=literacy, language="fr" if literacy == Literacy.LITERATE_FRENCH else "bm",
            search_name=search_name(first, last), name_key=name_key(first, last),
        ))
    Person.objects.bulk_create(persons, batch_size=BATCH)
    if persons and persons[0].pk is None:  # backends without RETURNING
        persons = list(Person.objects.order_by("pk"))
    ctx.counts["persons"] = len(persons)

    kondo, utm, mtc = ctx.orgs.kondo, ctx.orgs.utm, ctx.orgs.mtc
    memberships: list[Membership] = []
    numbers = {kondo.pk: 0, utm.pk: 0, mtc.pk: 0}

    def member(person: Person, unit: Unit, since: date) -> None:
        numbers[unit.organisation_id] += 1
        memberships.append(Membership(
            person=person, organisation_id=unit.organisation_id, unit=unit,
            number=f"{unit.code}-{numbers[unit.organisation_id]:06d}",
            status=MembershipStatus.ACTIVE, start_date=since,
        ))

    urban_mutuals = [m for m in ctx.mutuals if m.urban]
    rural_by_cercle = {m.cercle: m for m in ctx.mutuals if not m.urban}
    consents: list[Consent] = []
    now = timezone.now()
    for i, p in enumerate(persons):
        caisse = ctx.caisses[caisse_of[i]]
        member(p, caisse, ctx.today - timedelta(days=90 + rng.randrange(365 * 12)))
        mutual = urban_mutuals[i % len(urban_mutuals)] if caisse.region == "Bamako" \
            else rural_by_cercle.get(caisse.cercle)
        if mutual is not None and rng.random() < 0.45 or rng.random() < 0.05:
            member(p, mutual or rng.choice(ctx.mutuals),
                   ctx.today - timedelta(days=30 + rng.randrange(365 * 5)))
            if rng.random() < 0.5:
                # Contributions paid by standing order from Kondo savings need this consent.
                for scope in ("identity", "savings"):
                    consents.append(Consent(person=p, granted_to=utm, scope=scope,
                                            purpose="Cotisations par virement d'épargne",
                                            given_at=now))
        if caisse.region == "Bamako" and rng.random() < 0.35 or rng.random() < 0.02:
            if p.sex == "F" and rng.random() < 0.6:
                section = ctx.sections[1]  # domestic workers
            else:
                section = rng.choice(ctx.sections)
            member(p, section, ctx.today - timedelta(days=30 + rng.randrange(365 * 8)))
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    Consent.objects.bulk_create(consents, batch_size=BATCH)
    for org_id, value in numbers.items():
        Counter.objects.update_or_create(scope=f"member:{org_id}", year=0,
                                         defaults={"value": value})
    ctx.counts["memberships"] = len(memberships)
    ctx.counts["consents"] = len(consents)
    ctx.counts["persons_in_2_orgs"] = len(memberships) - len(persons)

    # Households: a head with one to three spouses (polygamy is legal) among people of the
    # same caisse; the rest live in households the registry does not know yet.
    by_caisse: dict[int, list[Person]] = {}
    for i, p in enumerate(persons):
        by_caisse.setdefault(caisse_of[i], []).append(p)
    households: list[Household] = []
    links: list[tuple[int, Person, str]] = []
    for people in by_caisse.values():
        men = [p for p in people if p.sex == "M" and ctx.today.year - p.birth_year >= 25]
        women = [p for p in people if p.sex == "F"]
        rng.shuffle(women)
        for head in men:
            if rng.random() > 0.55 or not women:
                continue
            n_spouses = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
            households.append(Household(name=f"Famille {head.last_name}", village=head.village))
            idx = len(households) - 1
            links.append((idx, head, Relation.HEAD))
            for _ in range(n_spouses):
                if women:
                    links.append((idx, women.pop(), Relation.SPOUSE))
    Household.objects.bulk_create(households, batch_size=BATCH)
    HouseholdMember.objects.bulk_create(
        [HouseholdMember(household=households[i], person=p, relation=r) for i, p, r in links],
        batch_size=BATCH)
    ctx.counts["households"] = len(households)
    audit_log(actor=None, event_type="demo.loaded", subject=ctx.orgs.kondo,
              after={k: v for k, v in ctx.counts.items()}, organisation=ctx.orgs.kondo)
    ctx.log(f"persons: {len(persons)}, memberships: {len(memberships)}, "
            f"households: {len(households)}, consents: {len(consents)}")


def step_savings(ctx: DemoContext) -> None:
    try:
        from jigi.savings.demo import savings_demo_build
    except ImportError:
        return
    result = savings_demo_build(seed=ctx.seed, today=ctx.today)
    ctx.counts["savings"] = result
    ctx.log(f"savings: {result}")


STEPS: list[Callable[[DemoContext], None]] = [
    step_organisations,
    step_staff,
    step_persons,
    step_savings,
]


def build_demo(*, members: int, seed: int, today: date | None = None,
               log: Callable[[str], None] = print) -> DemoContext:
    ctx = DemoContext(members=members, seed=seed, today=today or timezone.localdate(),
                      rng=random.Random(seed), log=log)
    for step in STEPS:
        # One transaction per step: a large demo commits in a few big writes (fast on SQLite),
        # and a failed step leaves the earlier ones usable.
        with transaction.atomic():
            step(ctx)
    return ctx
