"""Shared fixtures: the three organisations and named personas.

Personas (all with password "pass-1234"):
- teller_a / teller_b: tellers of caisse A (Ségou) and caisse B (Sikasso)
- manager_a: manager of caisse A; loan_officer_a: loan officer of caisse A
- auditor: Kondo network auditor (reads all of Kondo, changes nothing)
- mutual_manager: manager of mutual M1 (UTM); clinic: clinic staff of UTM
- organiser: MTC organiser of the domestic workers' section
- admin: superuser
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from jigi.orgs.bootstrap import Orgs, accounting_unit_create, organisations_bootstrap
from jigi.orgs.models import Role, Unit, UnitKind
from jigi.orgs.services import role_grant

PASSWORD = "pass-1234"


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need row locks and real concurrent connections: they run in
    CI's second pass (JIGI_DATABASE_URL=postgres://...), not on the embedded SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    reason = pytest.mark.skipif(True, reason="needs PostgreSQL (CI runs it on its second pass)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(reason)


def pytest_configure(config):
    from django.conf import settings

    # Real PBKDF2 costs ~0.3 s per user; personas are rebuilt per test. Tests only.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    orgs: Orgs
    region_segou: Unit
    caisse_a: Unit
    caisse_b: Unit
    mutual_1: Unit
    mutual_2: Unit
    section_domestic: Unit
    users: dict


def _user(username, **extra):
    User = get_user_model()
    return User.objects.create_user(username=username, password=PASSWORD, **extra)


def build_world() -> World:
    orgs = organisations_bootstrap()
    region = accounting_unit_create(organisation=orgs.kondo, kind=UnitKind.REGION, code="R-SEG",
                                    name="Région de Ségou", parent=orgs.network, region="Ségou")
    region_sik = accounting_unit_create(organisation=orgs.kondo, kind=UnitKind.REGION,
                                        code="R-SIK", name="Région de Sikasso",
                                        parent=orgs.network, region="Sikasso")
    caisse_a = accounting_unit_create(organisation=orgs.kondo, kind=UnitKind.CAISSE, code="C001",
                                      name="Caisse de Niono", parent=region, region="Ségou",
                                      cercle="Niono")
    caisse_b = accounting_unit_create(organisation=orgs.kondo, kind=UnitKind.CAISSE, code="C002",
                                      name="Caisse de Koutiala", parent=region_sik,
                                      region="Sikasso", cercle="Koutiala")
    mutual_1 = accounting_unit_create(organisation=orgs.utm, kind=UnitKind.MUTUAL, code="M01",
                                      name="Mutuelle de Bamako Commune IV", parent=orgs.union,
                                      region="Bamako", cercle="Commune IV", urban=True)
    mutual_2 = accounting_unit_create(organisation=orgs.utm, kind=UnitKind.MUTUAL, code="M02",
                                      name="Mutuelle rurale de Bla", parent=orgs.union,
                                      region="Ségou", cercle="Bla")
    section = accounting_unit_create(organisation=orgs.mtc, kind=UnitKind.SECTION, code="S-DOM",
                                     name="Section des travailleuses domestiques",
                                     parent=orgs.movement, member_group="domestic")
    users = {}
    grants = [
        ("teller_a", orgs.kondo, Role.TELLER, caisse_a),
        ("teller_b", orgs.kondo, Role.TELLER, caisse_b),
        ("manager_a", orgs.kondo, Role.CAISSE_MANAGER, caisse_a),
        ("loan_officer_a", orgs.kondo, Role.LOAN_OFFICER, caisse_a),
        ("auditor", orgs.kondo, Role.NETWORK_AUDITOR, None),
        ("mutual_manager", orgs.utm, Role.MUTUAL_MANAGER, mutual_1),
        ("clinic", orgs.utm, Role.CLINIC_STAFF, None),
        ("organiser", orgs.mtc, Role.ORGANISER, section),
    ]
    for username, org, role, unit in grants:
        users[username] = _user(username, first_name=username.replace("_", " ").title())
        role_grant(user=users[username], organisation=org, role=role, unit=unit)
    users["admin"] = get_user_model().objects.create_superuser(
        "admin", "admin@example.org", PASSWORD
    )
    return World(orgs, region, caisse_a, caisse_b, mutual_1, mutual_2, section, users)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def client_for(client):
    """client_for("teller_a") -> a Django test client logged in as that persona."""
    from django.test import Client

    def make(username: str) -> Client:
        c = Client()
        assert c.login(username=username, password=PASSWORD)
        return c

    return make


@pytest.fixture(autouse=True)
def _french_by_default():
    """Every test starts in French (the default language): a test or request that activated
    another language in the same worker process must not change what the next one reads."""
    from django.utils import translation

    with translation.override("fr"):
        yield
