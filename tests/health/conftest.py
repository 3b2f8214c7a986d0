"""UTM fixtures: mutual M1 with the AMV package, a CSCom under a union-wide convention, a
polygamous family covered long enough to be past its waiting period and paid up, and a family of
mutual M2 for refusal tests.

Personas added to the shared `world` (password "pass-1234"):
- union_admin: UTM union administrator (every mutual)
- claims_officer: claims officer of M1
- manager_2: mutual manager of M2
- clinic (from tests/conftest.py): clinic staff of UTM, linked to the CSCom
- clinic_2: clinic staff of UTM linked to no provider

Time is frozen at TODAY (09:00 Bamako): the family enrolled ENROLLED_ON, 200 days before, so the
90-day waiting period is over; contributions are paid through the end of TODAY's month.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count

import pytest
from django.contrib.auth import get_user_model

from jigi.health.models import (
    Beneficiary,
    BenefitPackage,
    BenefitRule,
    Convention,
    Coverage,
    MutualProfile,
    Provider,
    TariffItem,
)
from jigi.orgs.models import Role, Unit
from jigi.orgs.services import role_grant
from jigi.people.models import Household, Person
from jigi.people.services import household_create, household_member_add
from tests.conftest import PASSWORD
from tests.people.factories import register

TODAY = date(2026, 11, 20)
ENROLLED_ON = TODAY - timedelta(days=200)  # 2026-05-04

# A dozen acts and drugs of a CSCom's agreed tariff, across the service groups:
# (code, label, kind, group, price, quantity limit)
TARIFF = [
    ("CONS", "Consultation curative", "act", "consultation", 1_500, 1),
    ("CPN", "Consultation prénatale", "act", "antenatal", 1_000, 1),
    ("GE", "Goutte épaisse (paludisme)", "act", "lab", 1_000, 1),
    ("NFS", "Numération formule sanguine", "act", "lab", 2_500, 1),
    ("PARA", "Paracétamol 500 mg (comprimé)", "drug", "drugs", 25, 30),
    ("AMOX", "Amoxicilline 500 mg (gélule)", "drug", "drugs", 50, 30),
    ("ACT", "Artéméther-luméfantrine (plaquette)", "drug", "drugs", 800, 2),
    ("SRO", "Sels de réhydratation orale (sachet)", "drug", "drugs", 150, 10),
    ("ACC", "Accouchement simple", "act", "delivery", 5_000, 1),
    ("CES", "Césarienne", "act", "delivery_complicated", 75_000, 1),
    ("HOSP", "Journée d'hospitalisation", "act", "hospitalisation", 2_500, 10),
    ("HERN", "Cure de hernie", "act", "surgery", 50_000, 1),
    ("EVAC", "Évacuation en ambulance vers le CSRef", "act", "transport", 15_000, 1),
]

_names = count(1)


@dataclass
class Family:
    """Persons of one household, registered at a mutual (not yet covered)."""

    head: Person
    spouses: list[Person]
    children: list[Person]
    household: Household
    too_old: list[Person] = field(default_factory=list)  # children over the package's age

    @property
    def persons(self) -> list[Person]:
        return [self.head, *self.spouses, *self.children, *self.too_old]


@dataclass
class Health:
    world: object
    today: date
    users: dict
    profile: MutualProfile
    package: BenefitPackage  # AMV (union-wide)
    rules: dict  # service group -> BenefitRule
    provider: Provider
    convention: Convention
    tariff: dict  # code -> TariffItem
    family: Family
    coverage: Coverage
    head: Beneficiary
    spouses: list[Beneficiary]
    children: list[Beneficiary]
    refused_child: Person  # over the child age limit: not a beneficiary
    other_family: Family  # of mutual M2
    other_coverage: Coverage
    other_beneficiary: Beneficiary

    @property
    def beneficiaries(self) -> list[Beneficiary]:
        return [self.head, *self.spouses, *self.children]


def _persona(world, username: str, role: str, unit: Unit | None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD,
                                                first_name=username.replace("_", " ").title())
    role_grant(user=user, organisation=world.orgs.utm, role=role, unit=unit)
    world.users[username] = user
    return user


# Name pools: families made in one test must not look like duplicates of each other (same
# family-name key, near-same full name, birth year within 2, same place).
LAST = ["Traoré", "Dembélé", "Keïta", "Konaté", "Sissoko", "Touré", "Cissé", "Maïga",
        "Sangaré", "Diakité", "Kanté", "Togola"]
MEN = ["Moussa", "Bakary", "Seydou", "Drissa", "Oumar", "Lassina", "Yacouba", "Adama",
       "Mamadou", "Souleymane", "Boubacar", "Ibrahim"]
WOMEN = ["Awa", "Fatoumata", "Kadiatou", "Mariam", "Aminata", "Oumou", "Rokia", "Assitan",
         "Salimata", "Djeneba", "Korotoumou", "Hawa"]


def make_family(world, *, unit: Unit | None = None, user: str = "mutual_manager",
                last_name: str | None = None, spouses: int = 1, children: int = 2,
                too_old: int = 0, today: date = TODAY) -> Family:
    """Register a household at a mutual through the people services: a head (a man of about
    45), his `spouses`, `children` aged about 14, 10, 6, 2... and `too_old` children aged about
    22, 25... (over the AMV child age limit of 18)."""
    n = next(_names)
    unit = unit or world.mutual_1
    last = last_name or LAST[n % len(LAST)]
    shift = n % 3  # birth years differ between families of the same name

    def reg(first: str, last_: str, sex: str, year: int) -> Person:
        return register(world, unit=unit, user=user, first_name=first, last_name=last_,
                        sex=sex, birth_year=year, village=unit.commune or unit.cercle,
                        cercle=unit.cercle, region=unit.region)

    head = reg(MEN[n % len(MEN)], last, "M", today.year - 44 - shift)
    hh = household_create(acting_user=world.users[user], head=head)
    wives = []
    for i in range(spouses):
        wife = reg(WOMEN[(n + i) % len(WOMEN)], LAST[(n + 5 + i) % len(LAST)], "F",
                   today.year - 38 + 4 * i - shift)
        household_member_add(acting_user=world.users[user], household=hh, person=wife,
                             relation="spouse")
        wives.append(wife)
    kids = []
    for i in range(children):
        pool = WOMEN if i % 2 else MEN
        kid = reg(pool[(n + 3 + i) % len(pool)], last, "F" if i % 2 else "M",
                  today.year - 14 + 4 * i - shift)
        household_member_add(acting_user=world.users[user], household=hh, person=kid,
                             relation="child")
        kids.append(kid)
    old = []
    for i in range(too_old):
        kid = reg(MEN[(n + 7 + i) % len(MEN)], last, "M", today.year - 22 - 3 * i)
        household_member_add(acting_user=world.users[user], household=hh, person=kid,
                             relation="child")
        old.append(kid)
    return Family(head, wives, kids, hh, old)


def make_coverage(world, family: Family, *, package: BenefitPackage, mutual: Unit | None = None,
                  user: str = "mutual_manager", enrolled_on: date = ENROLLED_ON,
                  paid_through: date | None = None):
    """Enrol `family` from its household through the service (head, spouses, children;
    over-age children are left out, in `.skipped`), and, when `paid_through` is given, pay in
    cash the card fee and the contributions of every period up to it. Returns the Enrolment
    (`.coverage`, `.beneficiaries` head first, `.skipped`)."""
    from jigi.health.selectors import contribution_quote
    from jigi.health.services import contribution_pay, coverage_enrol

    mutual = mutual or world.mutual_1
    result = coverage_enrol(acting_user=world.users[user], mutual=mutual, package=package,
                            member=family.head, household=family.household, on=enrolled_on)
    if paid_through is not None:
        amount = contribution_quote(result.coverage, through=paid_through).total
        contribution_pay(acting_user=world.users[user], coverage=result.coverage,
                         amount=amount, on=enrolled_on)
        result.coverage.refresh_from_db()
    return result


def month_end(d: date) -> date:
    nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


@pytest.fixture
def today(time_machine):
    time_machine.move_to("2026-11-20 09:00:00+00:00", tick=False)
    return TODAY


@pytest.fixture
def health(world, today) -> Health:
    from jigi.health.services import (
        arrears_run,
        convention_create,
        mutual_profile_save,
        provider_create,
        provider_staff_link,
    )
    from jigi.health.setup import health_setup

    users = world.users
    _persona(world, "union_admin", Role.UNION_ADMIN, None)
    _persona(world, "claims_officer", Role.CLAIMS_OFFICER, world.mutual_1)
    _persona(world, "manager_2", Role.MUTUAL_MANAGER, world.mutual_2)
    _persona(world, "clinic_2", Role.CLINIC_STAFF, None)
    admin = users["union_admin"]

    packages = health_setup(organisation=world.orgs.utm, acting_user=admin)
    amv = packages["AMV"]
    profile = mutual_profile_save(
        acting_user=users["mutual_manager"], mutual=world.mutual_1, area_kind="urban",
        area="Commune IV du District de Bamako", target_population=12_000,
        founded_on=date(2001, 3, 10), last_general_assembly=date(2026, 3, 14))
    provider = provider_create(acting_user=admin, code="CSCOM-HAM",
                               name="CSCom de Hamdallaye", kind="cscom", region="Bamako",
                               cercle="Commune IV", commune="Commune IV", village="Hamdallaye",
                               phone="+22320220000")
    provider_staff_link(acting_user=admin, provider=provider, user=users["clinic"])
    convention = convention_create(
        acting_user=admin, provider=provider, mutual=None, reference="UTM-CONV-2025-01",
        valid_from=date(2025, 1, 1),
        items=[{"code": c, "label": label, "kind": k, "group": g, "price": p,
                "max_quantity": q} for c, label, k, g, p, q in TARIFF])

    family = make_family(world, last_name="Traoré", spouses=2, children=3, too_old=1)
    enrolled = make_coverage(world, family, package=amv, paid_through=month_end(TODAY))
    by_person = {b.person_id: b for b in enrolled.beneficiaries}

    other = make_family(world, unit=world.mutual_2, user="manager_2", last_name="Dembélé",
                        spouses=1, children=1)
    other_enrolled = make_coverage(world, other, package=amv, mutual=world.mutual_2,
                                   user="manager_2", paid_through=month_end(TODAY))
    # Close of business up to date: advances of the months begun are income (701).
    for mutual in (world.mutual_1, world.mutual_2):
        arrears_run(mutual=mutual, on=TODAY)

    return Health(
        world=world, today=TODAY, users=users, profile=profile, package=amv,
        rules={r.group: r for r in BenefitRule.objects.filter(package=amv)},
        provider=provider, convention=convention,
        tariff={t.code: t for t in TariffItem.objects.filter(convention=convention)},
        family=family, coverage=enrolled.coverage,
        head=by_person[family.head.pk],
        spouses=[by_person[p.pk] for p in family.spouses],
        children=[by_person[p.pk] for p in family.children],
        refused_child=family.too_old[0],
        other_family=other, other_coverage=other_enrolled.coverage,
        other_beneficiary=other_enrolled.beneficiaries[0],
    )


def counts() -> dict[str, int]:
    """Rows a refused operation must leave unchanged."""
    from jigi.core.models import AuditEvent
    from jigi.health.models import (
        Contribution,
        ContributionDue,
        StandingOrder,
        SuspensionPeriod,
    )
    from jigi.ledger.models import JournalEntry
    from jigi.people.models import Membership
    from jigi.savings.models import SavingsTransaction

    models = {"coverage": Coverage, "beneficiary": Beneficiary, "due": ContributionDue,
              "contribution": Contribution, "order": StandingOrder,
              "suspension": SuspensionPeriod, "entry": JournalEntry, "membership": Membership,
              "savings_tx": SavingsTransaction, "audit": AuditEvent}
    return {name: m.objects.count() for name, m in models.items()}


def balances(unit: Unit) -> dict[str, int]:
    """A book's trial balance as {account code: signed balance}, zero rows left out."""
    from jigi.ledger.models import Book
    from jigi.ledger.selectors import trial_balance

    tb = trial_balance(book=Book.objects.get(unit=unit))
    return {r.code: r.balance for r in tb.rows if r.balance}


def person(world, *, unit: Unit | None = None, user: str = "mutual_manager", **fields) -> Person:
    """One more person registered at a mutual (a name unlike the fixture families')."""
    data = {"first_name": "Zoumana", "last_name": "Goïta", "sex": "M", "birth_year": 1979,
            "village": "Bla", "cercle": "Bla", "region": "Ségou"}
    data.update(fields)
    return register(world, unit=unit or world.mutual_1, user=user, **data)


def page_text(response) -> str:
    """A page's HTML as a reader sees its characters: entities unescaped (a French apostrophe
    is &#x27; in the markup) and the thin and no-break spaces of French numbers made plain."""
    return html.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")
