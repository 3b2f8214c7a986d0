"""Trainings fixtures: a literacy programme of Kondo Jigima with a running session at caisse A
(6 meetings, 75 % needed: 5 meetings earn the certificate), three members of caisse A enrolled.

Time is frozen at TODAY (09:00 Bamako); the session ran from 40 days before to yesterday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count

import pytest

from jigi.learning import services
from jigi.learning.models import Enrolment, Programme, TrainingSession
from tests.people.factories import register

TODAY = date(2026, 11, 20)
_names = count(1)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to("2026-11-20 09:00:00+00:00", tick=False)
    return TODAY


@dataclass
class Learning:
    world: object
    programme: Programme
    session: TrainingSession
    enrolments: list[Enrolment]


def member(world, first_name="Awa", last_name=None, unit=None, user="manager_a", **fields):
    """A new member of the unit (look-alike names are confirmed as different persons)."""
    n = next(_names)
    return register(world, unit=unit, user=user, first_name=first_name, confirm_not_duplicate=True,
                    last_name=last_name or f"Diarra{n:03d}", birth_year=1980 + n % 20, **fields)


def plan(world, programme, *, unit=None, user="manager_a", **fields):
    data = {"place": "Niono, salle de la caisse", "trainer": "Moussa Coulibaly",
            "starts_on": TODAY - timedelta(days=40), "ends_on": TODAY - timedelta(days=1),
            "meetings": 6, "capacity": 20, "language": "bm"}
    data.update(fields)
    return services.session_create(acting_user=world.users[user], programme=programme,
                                   unit=unit or world.caisse_a, **data)


@pytest.fixture
def learning(world) -> Learning:
    manager = world.users["manager_a"]
    programme = services.programme_create(
        acting_user=manager, organisation=world.orgs.kondo, code="ALPHA", name="Alphabétisation",
        kind="literacy", min_attendance_pct=75, certificate_title="Alphabétisation en bambara")
    session = plan(world, programme)
    session = services.session_start(acting_user=manager, session=session)
    enrolments = [
        services.enrolment_create(acting_user=manager, session=session,
                                  person=member(world, first_name=name, sex=sex),
                                  literacy_before=0)
        for name, sex in (("Fatoumata", "F"), ("Kadiatou", "F"), ("Bakary", "M"))]
    return Learning(world, programme, session, enrolments)
