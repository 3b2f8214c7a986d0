"""Deterministic, Mali-realistic demo data at any scale (`jigi demo --members N --seed S`).

The build is an ordered list of steps (`STEPS`), each a function taking the `DemoContext`.
Another app adds its demo data by writing a step in its own `demo.py` and adding one line
here; every step draws from its own random stream (`ctx.rng("name")`), so adding a step never
changes what the others produce for a given seed.

Small things (organisations, regions, ~100 caisses, mutuals, sections, staff) go through the
real services so they carry their books and audit rows. Persons and their links are synthetic
and numerous (75,000 in well under a minute on two cores), so they are inserted in bulk with
the same derived fields the services compute (search_name, name_key, gapless member numbers)
and one audit row per bulk step instead of one per row.
"""

from __future__ import annotations

import csv
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from jigi.channels.demo import step_channels
from jigi.core.audit import audit_log
from jigi.core.models import Counter
from jigi.demo.bulk import bulk_insert
from jigi.health.demo import step_health
from jigi.learning.demo import step_learning
from jigi.movement.demo import step_movement
from jigi.orgs.bootstrap import Orgs, accounting_unit_create, organisations_bootstrap
from jigi.orgs.models import MemberGroup, Organisation, Role, Unit, UnitKind
from jigi.orgs.services import staff_user_create
from jigi.people.models import (
    Consent,
    ConsentScope,
    Household,
    HouseholdMember,
    Literacy,
    Membership,
    MembershipStatus,
    Person,
    Relation,
)
from jigi.people.names import name_key, search_name

DEMO_PASSWORD = "jigi-demo"  # noqa: S105 - published on purpose: demo logins only
CAISSES = 100

# Operators' mobile ranges (the two digits after +223) and rough market shares (DOMAIN.md §5,
# §6: Orange holds most subscribers, Telecel is small).
OPERATORS = {
    "orange": ([70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 82, 83, 84, 85, 90, 91, 92, 93, 94], 70),
    "moov": ([60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 89, 95, 96, 97, 98, 99], 27),
    "telecel": ([50, 51, 52, 53], 3),
}

# Six urban mutuals, one per commune of Bamako; six rural ones in the farming regions.
MUTUAL_PLACES = [
    ("Bamako", "Commune I", True), ("Bamako", "Commune II", True),
    ("Bamako", "Commune III", True), ("Bamako", "Commune IV", True),
    ("Bamako", "Commune V", True), ("Bamako", "Commune VI", True),
    ("Sikasso", "Bougouni", False), ("Sikasso", "Koutiala", False),
    ("Ségou", "Bla", False), ("Ségou", "Niono", False),
    ("Mopti", "Bandiagara", False), ("Mopti", "Djenné", False),
]
SECTIONS = [
    ("S-ENS", MemberGroup.TEACHERS, "Section des enseignants sans contrat"),
    ("S-DOM", MemberGroup.DOMESTIC, "Section des travailleuses domestiques"),
    ("S-ART", MemberGroup.ARTISANS, "Section des artisans"),
    ("S-JEU", MemberGroup.YOUTH, "Section des jeunes"),
]
# Shares of all persons who are also insured by a mutual / members of an MTC section.
MUTUAL_SHARE = 0.20
SECTION_SHARE = 0.08
HISTORY_YEARS = 20  # oldest memberships
NINA_FACTOR = 3_456_789_013  # odd, not a multiple of 5: prime to 10**10

BAMAKO_QUARTERS = {
    "Commune I": ["Banconi", "Boulkassoumbougou", "Djélibougou", "Korofina", "Sikoroni",
                  "Doumanzana", "Fadjiguila", "Sotuba"],
    "Commune II": ["Bagadadji", "Bozola", "Hippodrome", "Médina-Coura", "Niarela",
                   "Quinzambougou", "Missira", "Bakaribougou"],
    "Commune III": ["Bamako-Coura", "Dravéla", "Darsalam", "N'Tomikorobougou",
                    "Ouolofobougou", "Badialan", "Point G", "Koulouba"],
    "Commune IV": ["Djicoroni-Para", "Hamdallaye", "Lafiabougou", "Sébénikoro", "Taliko",
                   "Lassa", "Sibiribougou", "Kalabambougou"],
    "Commune V": ["Badalabougou", "Daoudabougou", "Kalaban-Coura", "Sabalibougou",
                  "Torokorobougou", "Garantibougou", "Quartier Mali", "Baco-Djicoroni"],
    "Commune VI": ["Banankabougou", "Faladié", "Magnambougou", "Niamakoro", "Sogoniko",
                   "Sokorodji", "Yirimadio", "Missabougou"],
}
# Quarter names found in most Malian towns.
TOWN_QUARTERS = ["Darsalam", "Hamdallaye", "Médine", "Missira", "Sans-Fil", "Château",
                 "Plateau", "Bagadadji", "Koko", "Lafiabougou"]
# Synthetic village names built from common Bambara place-name parts.
VILLAGE_STEMS = ["Sira", "Niaga", "Dougou", "Fana", "Diola", "Kalan", "Banko", "Sokoro",
                 "Massa", "Tonga", "Dialako", "Kéné", "Sanan", "Farako", "Ngolo", "Bama",
                 "Kouri", "Sama", "Tieni", "Manan"]
VILLAGE_SUFFIXES = ["", "bougou", "coura", "dougou", "kala", "koro", "ni", "sso", "wéré"]

# Family names are regional (Dogon in Bandiagara, Peul in the Inner Delta, Senufo around
# Sikasso, Soninke in Kayes, Songhai in the north): weight them up where they are common.
REGIONAL_FAMILIES = {
    "Kayes": ["Sissoko", "Kanté", "Camara", "Fofana", "Diakité", "Kouyaté", "Diallo"],
    "Koulikoro": ["Traoré", "Coulibaly", "Diarra", "Keïta", "Konaté", "Samaké", "Doumbia"],
    "Sikasso": ["Ouattara", "Sanogo", "Bengaly", "Goïta", "Dao", "Traoré", "Coulibaly"],
    "Ségou": ["Coulibaly", "Diarra", "Traoré", "Tangara", "Dembélé", "Kané", "Samaké"],
    "Mopti": ["Guindo", "Togo", "Diallo", "Sangaré", "Bah", "Sow", "Cissé"],
    "Tombouctou": ["Maïga", "Touré", "Cissé", "Sidibé", "Bah"],
    "Gao": ["Maïga", "Touré", "Cissé", "Diallo"],
    "Kidal": ["Maïga", "Touré", "Cissé"],
}


def _data(name: str) -> list[dict[str, str]]:
    text = resources.files("jigi.demo").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass(slots=True)
class DemoPerson:
    """One synthetic person while the demo is built (a light row, not a model instance)."""

    caisse: int  # index into ctx.caisses
    sex: str
    age: int
    first_name: str = ""
    last_name: str = ""
    village: str = ""
    pk: int = 0
    household: int | None = None  # index into ctx.households


@dataclass
class DemoHousehold:
    head: int  # index into ctx.people
    spouses: list[int] = field(default_factory=list)
    children: list[int] = field(default_factory=list)


@dataclass
class DemoContext:
    members: int
    seed: int
    today: date
    log: Callable[[str], None]
    orgs: Orgs | None = None
    regions: dict[str, Unit] = field(default_factory=dict)
    caisses: list[Unit] = field(default_factory=list)
    mutuals: list[Unit] = field(default_factory=list)
    sections: list[Unit] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    people: list[DemoPerson] = field(default_factory=list)
    households: list[DemoHousehold] = field(default_factory=list)
    # (person index, unit, start date) per organisation code, filled by step_memberships.
    joined: dict[str, list[tuple[int, Unit, date]]] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)

    def rng(self, stream: str) -> random.Random:
        """An independent, seeded random stream per step (string seeds are hashed stably)."""
        return random.Random(f"{self.seed}/{stream}")

    @property
    def o(self) -> Orgs:
        assert self.orgs is not None, "step_organisations must run first"
        return self.orgs


def _allocate(weights: list[float], total: int, minimum: list[int] | None = None) -> list[int]:
    """Largest-remainder split of `total` proportional to `weights`, after giving each item
    its `minimum`. Sums exactly to `total`."""
    floor = minimum or [0] * len(weights)
    left = total - sum(floor)
    s = sum(weights)
    raw = [w * left / s for w in weights]
    base = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[: left - sum(base)]:
        base[i] += 1
    return [b + f for b, f in zip(base, floor, strict=True)]


def _village(rng: random.Random) -> str:
    return rng.choice(VILLAGE_STEMS) + rng.choice(VILLAGE_SUFFIXES)


def _audit(ctx: DemoContext, org: Organisation, step: str, counts: dict[str, int]) -> None:
    # Synthetic rows loaded in bulk get one audit row per step and organisation, with the
    # counts, instead of one per row: the trail still says who loaded what, and when.
    audit_log(actor=None, event_type="demo.loaded", subject=org,
              after={"step": step, "seed": ctx.seed, **counts}, organisation=org)


# --- steps ------------------------------------------------------------------------------------


def step_organisations(ctx: DemoContext) -> None:
    """The three organisations; Kondo's regions and ~100 caisses spread over the cercles by
    weight; UTM's 12 mutuals; MTC's 4 Bamako sections. Each through the services, with books."""
    rng = ctx.rng("organisations")
    ctx.orgs = organisations_bootstrap()
    o = ctx.orgs
    places = _data("mali_places.csv")
    # Bamako first: the first caisse (the demo teller's) is in the capital, near the mutuals
    # and MTC sections, so one person can show all three organisations.
    places.sort(key=lambda p: p["region"] != "Bamako")
    for i, region in enumerate(dict.fromkeys(p["region"] for p in places), start=1):
        ctx.regions[region] = accounting_unit_create(
            organisation=o.kondo, kind=UnitKind.REGION, code=f"R{i:02d}",
            name=f"Union régionale de {region}", parent=o.network, region=region,
        )
    # Split by region first (every region keeps at least one caisse, in its capital, even
    # where the weight is tiny in the north), then over the region's cercles by weight.
    region_names = list(ctx.regions)
    region_weight = [sum(float(p["weight"]) for p in places if p["region"] == r)
                     for r in region_names]
    per_region = dict(zip(region_names, _allocate(region_weight, CAISSES,
                                                  minimum=[1] * len(region_names)), strict=True))
    per_cercle: list[int] = []
    for region in region_names:
        cercles = [p for p in places if p["region"] == region]
        capital = [1 if p["urban"] == "yes" and region != "Bamako" else 0 for p in cercles]
        per_cercle += _allocate([float(p["weight"]) for p in cercles], per_region[region],
                                minimum=capital if sum(capital) <= per_region[region] else None)
    used: set[str] = set()
    for place, count in zip(places, per_cercle, strict=True):
        region, cercle = place["region"], place["cercle"]
        bamako = region == "Bamako"
        quarters = list(BAMAKO_QUARTERS.get(cercle, []))
        for k in range(count):
            if bamako:
                # Bamako's communes are the "cercles" of the district: caisses sit in quarters.
                town, commune, urban = quarters[k % len(quarters)], cercle, True
            elif k == 0:
                town, commune, urban = cercle, cercle, place["urban"] == "yes"
            else:
                town = _village(rng)
                while town in used:
                    town = _village(rng)
                commune, urban = town, False
            used.add(town)
            name = f"Caisse de {town}" if bamako or k == 0 else f"Caisse de {town} ({cercle})"
            ctx.caisses.append(accounting_unit_create(
                organisation=o.kondo, kind=UnitKind.CAISSE, code=f"C{len(ctx.caisses) + 1:03d}",
                name=name, parent=ctx.regions[region], region=region, cercle=cercle,
                commune=commune, urban=urban,
            ))
    for i, (region, cercle, urban) in enumerate(MUTUAL_PLACES, start=1):
        label = "Mutuelle de santé" if urban else "Mutuelle rurale de santé"
        ctx.mutuals.append(accounting_unit_create(
            organisation=o.utm, kind=UnitKind.MUTUAL, code=f"M{i:02d}",
            name=f"{label} de {cercle}", parent=o.union, region=region, cercle=cercle,
            commune=cercle, urban=urban,
        ))
    for code, group, name in SECTIONS:
        ctx.sections.append(accounting_unit_create(
            organisation=o.mtc, kind=UnitKind.SECTION, code=code, name=name,
            parent=o.movement, region="Bamako", cercle="Bamako", urban=True, member_group=group,
        ))
    ctx.counts.update(regions=len(ctx.regions), caisses=len(ctx.caisses),
                      mutuals=len(ctx.mutuals), sections=len(ctx.sections))
    ctx.log(f"organisations: {len(ctx.regions)} regions, {len(ctx.caisses)} caisses, "
            f"{len(ctx.mutuals)} mutuals, {len(ctx.sections)} sections")


def _second_caisse(ctx: DemoContext) -> Unit:
    """The demo's second teller works in a rural caisse of the cotton zone with a mutual."""
    rural_mutual_cercles = {m.cercle for m in ctx.mutuals if not m.urban}
    return next(c for c in ctx.caisses if not c.urban and c.cercle in rural_mutual_cercles)


def step_staff(ctx: DemoContext) -> None:
    """Demo logins, one per role, all with DEMO_PASSWORD (printed by the command)."""
    o = ctx.o
    User = get_user_model()
    caisse_a, caisse_b = ctx.caisses[0], _second_caisse(ctx)
    staff = [
        ("guichet1", "Aminata", "Traoré", o.kondo, Role.TELLER, caisse_a),
        ("guichet2", "Seydou", "Coulibaly", o.kondo, Role.TELLER, caisse_b),
        ("gerant1", "Mariam", "Diarra", o.kondo, Role.CAISSE_MANAGER, caisse_a),
        ("agentcredit1", "Bakary", "Keïta", o.kondo, Role.LOAN_OFFICER, caisse_a),
        ("auditeur", "Oumar", "Sangaré", o.kondo, Role.NETWORK_AUDITOR, None),
        ("mutuelle1", "Fatoumata", "Koné", o.utm, Role.MUTUAL_MANAGER, ctx.mutuals[0]),
        ("clinique", "Awa", "Sidibé", o.utm, Role.CLINIC_STAFF, None),
        ("gestionnaire", "Ibrahim", "Cissé", o.utm, Role.CLAIMS_OFFICER, None),
        ("animatrice", "Kadiatou", "Dembélé", o.mtc, Role.ORGANISER, ctx.sections[1]),
        ("travailleur_social", "Modibo", "Doumbia", o.mtc, Role.CASE_WORKER, None),
        ("travailleur_social2", "Assétou", "Konaté", o.mtc, Role.CASE_WORKER, None),
        ("mtc_admin", "Salimata", "Maïga", o.mtc, Role.MOVEMENT_ADMIN, None),
    ]
    # PBKDF2 is slow on purpose (~0.3 s a hash on this hardware): hash the published demo
    # password once and give it to every demo login instead of hashing it eleven times.
    hashed = make_password(DEMO_PASSWORD)
    created = []
    for username, first, last, org, role, unit in staff:
        if User.objects.filter(username=username).exists():
            continue
        user = staff_user_create(username=username, password=None, first_name=first,
                                 last_name=last, organisation=org, role=role, unit=unit)
        created.append(user.pk)
        ctx.logins.append((username, str(role.label), unit.name if unit else org.name))
    if not User.objects.filter(username="admin").exists():
        admin = User.objects.create_superuser("admin", "admin@jigi.invalid", None)
        created.append(admin.pk)
        ctx.logins.insert(0, ("admin", "superuser", "Jigi"))
    User.objects.filter(pk__in=created).update(password=hashed)
    ctx.counts["staff"] = len(created)


def _plan_people(ctx: DemoContext, rng: random.Random) -> None:
    """Who lives where, with whom: caisse, sex, age, households (head, spouses, children)."""
    weights = [3.0 if c.urban else 1.0 + rng.random() for c in ctx.caisses]
    caisse_b = ctx.caisses.index(_second_caisse(ctx))
    if ctx.members < 5000:
        # A small demo spreads thin over 100 caisses: give the demo tellers' caisses a crowd.
        weights[0] = weights[caisse_b] = 25.0
    where = rng.choices(range(len(ctx.caisses)), weights=weights, k=ctx.members)
    for caisse in where:
        # Adults 18-75, young-heavy like Mali's population; women's groups make women a
        # little over half of the cooperative's members.
        age = 18 + int(rng.gammavariate(2.2, 8.5))
        while age > 75:
            age = 18 + int(rng.gammavariate(2.2, 8.5))
        ctx.people.append(DemoPerson(caisse=caisse, sex="F" if rng.random() < 0.52 else "M",
                                     age=age))
    by_caisse: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(ctx.people):
        by_caisse[p.caisse].append(i)
    for caisse in sorted(by_caisse):
        idx = by_caisse[caisse]
        women = [i for i in idx if ctx.people[i].sex == "F"]
        rng.shuffle(women)
        young = [i for i in idx if ctx.people[i].age <= 35]
        rng.shuffle(young)
        for h in idx:
            head = ctx.people[h]
            if head.sex != "M" or head.age < 28 or head.household is not None:
                continue
            if rng.random() > 0.5:
                continue  # his household is not (yet) in the registry
            n = len(ctx.households)
            household = DemoHousehold(head=h)
            head.household = n
            # Polygamy is legal: about a quarter of married men here have two or more wives,
            # usually younger than their husband.
            wanted = rng.choices([1, 2, 3, 4], weights=[75, 19, 5, 1])[0]
            for w in women:
                if len(household.spouses) >= wanted:
                    break
                wife = ctx.people[w]
                if wife.household is None and head.age - 25 <= wife.age <= head.age + 2:
                    wife.household = n
                    household.spouses.append(w)
            wanted = rng.choices([0, 1, 2, 3], weights=[35, 35, 20, 10])[0]
            for c in young:
                if len(household.children) >= wanted:
                    break
                child = ctx.people[c]
                if child.household is None and child.age <= head.age - 18:
                    child.household = n
                    household.children.append(c)
            ctx.households.append(household)


def _name_people(ctx: DemoContext, rng: random.Random) -> None:
    names = _data("mali_names.csv")
    family = [r["name"] for r in names if r["kind"] == "family"]
    first = {"F": [r["name"] for r in names if r["kind"] == "female"],
             "M": [r["name"] for r in names if r["kind"] == "male"]}
    pickers: list[Callable[[], str]] = []
    villages: list[list[str]] = []
    for caisse in ctx.caisses:
        regional = set(REGIONAL_FAMILIES.get(caisse.region, []))
        # Each village has a few dominant lineages on top of the region's names.
        lineages = set(rng.sample(family, 3))
        w = [1 + 6 * (n in regional) + 8 * (n in lineages) for n in family]
        pickers.append(lambda w=w: rng.choices(family, weights=w)[0])
        if caisse.region == "Bamako":
            villages.append(BAMAKO_QUARTERS[caisse.cercle])
        elif caisse.urban:
            villages.append(TOWN_QUARTERS)
        else:
            villages.append([caisse.commune, *(_village(rng) for _ in range(5))])
    for p in ctx.people:
        p.first_name = rng.choice(first[p.sex])
        p.last_name = pickers[p.caisse]()
        p.village = rng.choice(villages[p.caisse])
    for hh in ctx.households:
        head = ctx.people[hh.head]
        # Children carry their father's name; wives keep their own (Malian usage).
        for c in hh.children:
            ctx.people[c].last_name = head.last_name
        for m in (*hh.spouses, *hh.children):
            ctx.people[m].village = head.village


def step_persons(ctx: DemoContext) -> None:
    """N adults with Malian names, plausible ages, literacy, phones and some NINA numbers."""
    rng = ctx.rng("persons")
    _plan_people(ctx, rng)
    _name_people(ctx, rng)
    phones: set[str] = set()
    operators = list(OPERATORS.values())
    year = ctx.today.year
    rows = []
    for i, p in enumerate(ctx.people):
        caisse = ctx.caisses[p.caisse]
        urban = caisse.urban
        birth_year = year - p.age
        if rng.random() < (0.6 if urban else 0.3):
            birth_date = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
            estimated = False
        else:
            # Most rural adults know only an approximate year, and estimates heap on 0 and 5.
            birth_date, estimated = None, True
            heaped = 5 * round(birth_year / 5)
            if rng.random() < 0.6 and year - 75 <= heaped <= year - 18:
                birth_year = heaped
        # Adult literacy is about a third, far lower among women (DOMAIN.md §5).
        roll = rng.random() + (0.15 if p.sex == "F" else 0.0) - (0.15 if urban else 0.0) \
            + (0.1 if p.age > 50 else 0.0)
        literacy = (Literacy.LITERATE_FRENCH if roll < 0.2 else
                    Literacy.LITERATE_LOCAL if roll < 0.27 else
                    Literacy.BASIC if roll < 0.37 else Literacy.NONE)
        phone = ""
        if rng.random() < (0.93 if urban else 0.8):
            ranges = rng.choices([r for r, _ in operators], weights=[s for _, s in operators])[0]
            while True:
                phone = f"+223{rng.choice(ranges)}{rng.randrange(10**6):06d}"
                if phone not in phones:
                    phones.add(phone)
                    break
        # Synthetic NINA shape: birth year, ten digits, a letter. The digits are the running
        # number times a constant prime to 10**10, a bijection: unique, but not 0000000001.
        nina = f"{birth_year % 100:02d}{(i + 1) * NINA_FACTOR % 10**10:010d}" \
            f"{'ABCDEFGHJKLM'[(i * 7) % 12]}" \
            if rng.random() < (0.5 if urban else 0.2) else None
        language = "fr" if literacy == Literacy.LITERATE_FRENCH and urban else "bm"
        rows.append((
            p.first_name, p.last_name, p.sex, birth_date, birth_year, estimated, phone, nina,
            p.village, caisse.commune, caisse.cercle, caisse.region, literacy, language,
            search_name(p.first_name, p.last_name), name_key(p.first_name, p.last_name),
        ))
    ids = bulk_insert(Person, [
        "first_name", "last_name", "sex", "birth_date", "birth_year", "birth_year_estimated",
        "phone", "nina", "village", "commune", "cercle", "region", "literacy", "language",
        "search_name", "name_key",
    ], rows)
    for p, pk in zip(ctx.people, ids, strict=True):
        p.pk = pk
    ctx.counts["persons"] = len(ids)
    ctx.counts["women"] = sum(p.sex == "F" for p in ctx.people)
    _audit(ctx, ctx.o.kondo, "persons", {"persons": len(ids)})


def _joined_on(rng: random.Random, today: date, age: int, mean_years: float) -> date:
    """A join date after the person's 18th birthday and within the network's history,
    recent joins more frequent (the networks grow)."""
    limit = min((age - 18) * 365, HISTORY_YEARS * 365)
    return today - timedelta(days=min(limit, int(rng.expovariate(1 / (mean_years * 365)))))


def step_memberships(ctx: DemoContext) -> None:
    """Every person a Kondo member of their caisse; ~20 % also insured by a mutual (Bamako and
    the rural mutuals' cercles); ~8 % in an MTC section (Bamako)."""
    rng = ctx.rng("memberships")
    o = ctx.o
    kondo = [(i, ctx.caisses[p.caisse], _joined_on(rng, ctx.today, p.age, 4))
             for i, p in enumerate(ctx.people)]
    mutual_of = {m.cercle: m for m in ctx.mutuals}
    eligible = [i for i, p in enumerate(ctx.people) if ctx.caisses[p.caisse].cercle in mutual_of]
    insured = sorted(rng.sample(eligible, min(len(eligible), round(MUTUAL_SHARE * ctx.members))))
    utm = [(i, mutual_of[ctx.caisses[ctx.people[i].caisse].cercle],
            _joined_on(rng, ctx.today, ctx.people[i].age, 2)) for i in insured]
    bamako = [i for i, p in enumerate(ctx.people) if ctx.caisses[p.caisse].region == "Bamako"]
    organised = sorted(rng.sample(bamako, min(len(bamako), round(SECTION_SHARE * ctx.members))))
    teachers, domestic, artisans, youth = ctx.sections
    mtc = []
    for i in organised:
        p = ctx.people[i]
        if p.sex == "F" and rng.random() < 0.6:
            section = domestic
        elif p.age < 30:
            section = youth
        else:
            section = rng.choice([teachers, artisans, artisans])
        mtc.append((i, section, _joined_on(rng, ctx.today, p.age, 3)))
    ctx.joined = {"KONDO": kondo, "UTM": utm, "MTC": mtc}
    total = 0
    for org in (o.kondo, o.utm, o.mtc):
        # Member numbers follow seniority and continue gaplessly after the demo through the
        # organisation's counter (same format as people.services).
        joined = sorted(ctx.joined[org.code], key=lambda j: (j[2], j[0]))
        rows = [(ctx.people[i].pk, org.pk, unit.pk, f"{unit.code}-{n:06d}",
                 MembershipStatus.ACTIVE, since) for n, (i, unit, since) in enumerate(joined, 1)]
        bulk_insert(Membership, ["person_id", "organisation_id", "unit_id", "number", "status",
                                 "start_date"], rows)
        Counter.objects.update_or_create(scope=f"member:{org.pk}", year=0,
                                         defaults={"value": len(rows)})
        _audit(ctx, org, "memberships", {"memberships": len(rows)})
        ctx.counts[f"members_{org.code.lower()}"] = len(rows)
        total += len(rows)
    ctx.counts["memberships"] = total


def step_households(ctx: DemoContext) -> None:
    """Households planned with the persons: a head, one to four spouses, adult children."""
    hh_ids = bulk_insert(Household, ["name", "village"], [
        (f"Famille {ctx.people[h.head].first_name} {ctx.people[h.head].last_name}",
         ctx.people[h.head].village) for h in ctx.households])
    rows = []
    for pk, hh in zip(hh_ids, ctx.households, strict=True):
        rows.append((pk, ctx.people[hh.head].pk, Relation.HEAD))
        rows.extend((pk, ctx.people[s].pk, Relation.SPOUSE) for s in hh.spouses)
        rows.extend((pk, ctx.people[c].pk, Relation.CHILD) for c in hh.children)
    bulk_insert(HouseholdMember, ["household_id", "person_id", "relation"], rows)
    polygamous = sum(len(h.spouses) > 1 for h in ctx.households)
    ctx.counts.update(households=len(hh_ids), household_members=len(rows),
                      polygamous_households=polygamous)
    _audit(ctx, ctx.o.kondo, "households", {"households": len(hh_ids),
                                            "household_members": len(rows)})


def step_consents(ctx: DemoContext) -> None:
    """A few persons let one organisation see what another holds, for a stated purpose."""
    rng = ctx.rng("consents")
    o = ctx.o
    rows = []

    def given(since: date) -> datetime:
        return timezone.make_aware(datetime.combine(since, datetime.min.time())
                                   + timedelta(hours=9 + rng.randrange(8)))

    for i, _unit, since in ctx.joined["UTM"]:
        if rng.random() < 0.25:
            # Contributions paid by standing order from Kondo savings: UTM must see the account.
            for scope in (ConsentScope.IDENTITY, ConsentScope.SAVINGS):
                rows.append((ctx.people[i].pk, o.utm.pk, scope,
                             "Cotisations par virement depuis l'épargne Kondo", given(since)))
    for i, _unit, since in ctx.joined["MTC"]:
        if rng.random() < 0.2:
            # The domestic workers' section vouches for its members' loans at Kondo.
            rows.append((ctx.people[i].pk, o.kondo.pk, ConsentScope.MOVEMENT,
                         "Caution de la section pour un prêt Kondo", given(since)))
    bulk_insert(Consent, ["person_id", "granted_to_id", "scope", "purpose", "given_at"], rows)
    ctx.counts["consents"] = len(rows)
    _audit(ctx, o.kondo, "consents", {"consents": len(rows)})


def step_summary(ctx: DemoContext) -> None:
    n = max(1, len(ctx.people))
    women = ctx.counts.get("women", 0)
    ctx.log(f"persons: {len(ctx.people)} ({100 * women / n:.0f} % women), memberships: "
            f"{ctx.counts.get('memberships', 0)} (Kondo {ctx.counts.get('members_kondo', 0)}, "
            f"UTM {ctx.counts.get('members_utm', 0)}, MTC {ctx.counts.get('members_mtc', 0)}), "
            f"households: {ctx.counts.get('households', 0)} "
            f"({ctx.counts.get('polygamous_households', 0)} polygamous), "
            f"consents: {ctx.counts.get('consents', 0)}")


def step_savings(ctx: DemoContext) -> None:
    """Shares and a 12-month savings history for every Kondo member, when the savings app
    provides it (jigi.savings.demo)."""
    try:
        from jigi.savings.demo import savings_demo_build
    except ImportError:
        return
    result = savings_demo_build(seed=ctx.seed, today=ctx.today)
    ctx.counts["savings"] = result
    ctx.log("savings: " + ", ".join(f"{k} {v}" for k, v in result.items()))


def step_credit(ctx: DemoContext) -> None:
    """A loan portfolio with 12-18 months of history (jigi.credit.demo), after savings."""
    from jigi.credit.demo import credit_demo_build

    result = credit_demo_build(seed=ctx.seed, today=ctx.today)
    ctx.counts["credit"] = result
    ctx.log("credit: " + ", ".join(f"{k} {v}" for k, v in result.items()))


STEPS: list[Callable[[DemoContext], None]] = [
    step_organisations,
    step_staff,
    step_persons,
    step_memberships,
    step_households,
    step_consents,
    step_summary,
    step_savings,
    step_credit,
    step_health,
    step_movement,
    step_learning,
    step_channels,
]


def build_demo(*, members: int, seed: int, today: date | None = None,
               log: Callable[[str], None] = print) -> DemoContext:
    """Run every step in one transaction: a failed demo leaves nothing half-written (and
    `--if-empty` can simply try again). Steps must not open durable transactions."""
    ctx = DemoContext(members=members, seed=seed, today=today or timezone.localdate(), log=log)
    with transaction.atomic():
        for step in STEPS:
            started = time.perf_counter()
            step(ctx)
            ctx.counts.setdefault("seconds", {})[step.__name__.removeprefix("step_")] = round(
                time.perf_counter() - started, 1)
    return ctx
