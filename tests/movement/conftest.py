"""MTC fixtures: the four sections, the movement's staff, the settings, and `make_member`.

Personas added to the shared `world` (password "pass-1234"):
- organiser (from tests/conftest.py): organiser of S-DOM, the domestic workers' section
- organiser_art: organiser of S-ART
- case_worker_1, case_worker_2: case workers of the whole movement
- movement_admin: the movement's administrator
Outsiders for refusal tests: teller_a (Kondo), mutual_manager (UTM).

`make_member` writes the records directly (not through the registration service) so each
module's tests stand on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import count

import pytest

from jigi.movement.models import (
    ArtisanRecord,
    DomesticWorkerRecord,
    MemberProfile,
    TeacherRecord,
    YouthRecord,
)
from jigi.movement.setup import movement_setup
from jigi.orgs.bootstrap import accounting_unit_create
from jigi.orgs.models import MemberGroup, Role, Unit, UnitKind
from jigi.orgs.services import role_grant
from tests.conftest import _user
from tests.people.factories import register

TODAY = date(2026, 11, 20)
_n = count(1)


@dataclass
class Mtc:
    world: object
    sections: dict[str, Unit]  # by group

    @property
    def org(self):
        return self.world.orgs.mtc

    @property
    def users(self):
        return self.world.users


def make_member(mtc: Mtc, group: str = MemberGroup.DOMESTIC, *, sex: str = "F",
                birth_year: int = 1998, birth_date: date | None = None,
                joined: date = date(2025, 1, 1), **record) -> MemberProfile:
    """A registered MTC member of `group` with her group record (fields overridable)."""
    section = mtc.sections[group]
    person = register(mtc.world, unit=section, user="admin", first_name=f"Membre{next(_n)}",
                      last_name="Traoré", sex=sex, birth_year=birth_year, birth_date=birth_date,
                      village="Banconi", cercle="Bamako", region="Bamako", start_date=joined,
                      confirm_not_duplicate=True)
    membership = person.memberships.get(organisation=mtc.org)
    profile = MemberProfile.objects.create(membership=membership, person=person, section=section,
                                           group=group)
    if group == MemberGroup.DOMESTIC:
        DomesticWorkerRecord.objects.create(profile=profile, **{
            "employer_name": "Famille Keïta", "district": "Commune IV, Lafiabougou",
            "monthly_pay": 15_000, "daily_hours": 12, "weekly_rest_half_days": 0,
            "live_in": True, **record})
    elif group == MemberGroup.TEACHERS:
        TeacherRecord.objects.create(profile=profile, **{
            "school": "École communautaire de Sabalibougou", "status": "community",
            "monthly_pay": 25_000, "paid_by": "community", **record})
    elif group == MemberGroup.ARTISANS:
        ArtisanRecord.objects.create(profile=profile, **{
            "trade": "Tisserand", "workshop": "Atelier du marché", "apprentices": 2, **record})
    else:
        YouthRecord.objects.create(profile=profile, **{"schooling": "secondary", **record})
    return profile


@pytest.fixture
def mtc(world) -> Mtc:
    orgs = world.orgs
    movement_setup(orgs.mtc)
    sections = {MemberGroup.DOMESTIC: world.section_domestic}
    for code, group, name in [
        ("S-ENS", MemberGroup.TEACHERS, "Section des enseignants sans contrat"),
        ("S-ART", MemberGroup.ARTISANS, "Section des artisans"),
        ("S-JEU", MemberGroup.YOUTH, "Section des jeunes"),
    ]:
        sections[group] = accounting_unit_create(
            organisation=orgs.mtc, kind=UnitKind.SECTION, code=code, name=name,
            parent=orgs.movement, region="Bamako", cercle="Bamako", urban=True,
            member_group=group)
    for username, role, unit in [
        ("organiser_art", Role.ORGANISER, sections[MemberGroup.ARTISANS]),
        ("case_worker_1", Role.CASE_WORKER, None),
        ("case_worker_2", Role.CASE_WORKER, None),
        ("movement_admin", Role.MOVEMENT_ADMIN, None),
    ]:
        world.users[username] = _user(username, first_name=username.replace("_", " ").title())
        role_grant(user=world.users[username], organisation=orgs.mtc, role=role, unit=unit)
    return Mtc(world=world, sections=sections)
