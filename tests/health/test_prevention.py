"""Prevention and health-education sessions: planned by mutual staff, attendance of persons of
the registry, seen by health roles only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.core.models import AuditEvent
from jigi.health.models import PreventionSession
from jigi.health.selectors_claims import (
    get_prevention_session_for_user,
    prevention_attendees,
    prevention_sessions_for_user,
)
from jigi.health.services.prevention import (
    prevention_attendance_record,
    prevention_attendance_remove,
    prevention_session_create,
)
from tests.people.factories import register


def session(health, user="mutual_manager", unit=None, **extra):
    fields = {"topic": "Paludisme : dormir sous moustiquaire", "place": "CSCom de Hamdallaye",
              "held_on": health.today - timedelta(days=2), "facilitator": "Awa Coulibaly, sage-femme"}
    fields.update(extra)
    return prevention_session_create(acting_user=health.users[user],
                                     unit=unit or health.world.mutual_1, **fields)


def test_a_mutual_records_a_session_and_who_came(health):
    s = session(health)
    family = [b.person_id for b in health.beneficiaries]

    added = prevention_attendance_record(acting_user=health.users["claims_officer"], session=s,
                                         person_ids=family)
    again = prevention_attendance_record(acting_user=health.users["mutual_manager"], session=s,
                                         person_ids=family[:2])

    assert (added, again) == (len(family), 0)
    assert sorted(p.pk for p in prevention_attendees(s)) == sorted(family)
    assert AuditEvent.objects.filter(event_type="health.prevention_attendance").count() == 1


def test_someone_recorded_by_mistake_is_taken_off(health):
    s = session(health)
    head = health.head.person_id
    prevention_attendance_record(acting_user=health.users["mutual_manager"], session=s,
                                 person_ids=[head])

    removed = prevention_attendance_remove(acting_user=health.users["mutual_manager"],
                                           session=s, person_ids=[head])

    assert removed == 1
    assert not prevention_attendees(s).exists()


def test_a_neighbour_registered_elsewhere_comes_in_only_if_visible(health, world):
    kondo_member = register(world, first_name="Fanta", last_name="Coulibaly",
                            birth_year=1985)
    s = session(health)

    with pytest.raises(NotFound) as exc:
        prevention_attendance_record(acting_user=health.users["mutual_manager"], session=s,
                                     person_ids=[kondo_member.pk])

    assert "person_ids" in exc.value.fields
    assert not prevention_attendees(s).exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"topic": ""}, "topic"),
    ({"place": "x" * 201}, "place"),
    ({"facilitator": None}, "facilitator"),
    ({"held_on": "2026-11-18"}, "held_on"),
    ({"held_on": date(2028, 1, 1)}, "held_on"),
])
def test_bad_input_is_refused(health, change, field):
    with pytest.raises(ApplicationError) as exc:
        session(health, **change)

    assert exc.value.status_code == 422
    assert field in exc.value.fields
    assert not PreventionSession.objects.exists()


def test_attendance_waits_for_the_session_to_be_held(health):
    planned = session(health, held_on=health.today + timedelta(days=10))

    with pytest.raises(Conflict):
        prevention_attendance_record(acting_user=health.users["mutual_manager"],
                                     session=planned, person_ids=[health.head.person_id])


@pytest.mark.parametrize("bad", [[], ["12"], [1, 1], [True], "1"])
def test_bad_person_lists_are_refused(health, bad):
    s = session(health)

    with pytest.raises(ApplicationError) as exc:
        prevention_attendance_record(acting_user=health.users["mutual_manager"], session=s,
                                     person_ids=bad)

    assert exc.value.status_code == 422


def test_health_roles_only(health):
    with pytest.raises(NotFound):
        session(health, user="teller_a")
    with pytest.raises(NotFound):
        session(health, user="organiser")
    with pytest.raises(Forbidden):
        session(health, user="clinic")
    with pytest.raises(NotFound):
        session(health, user="manager_2")  # another mutual's
    union_session = session(health, user="union_admin", unit=health.world.orgs.union)
    s = session(health)

    assert set(prevention_sessions_for_user(health.users["clinic"])) == {s, union_session}
    assert set(prevention_sessions_for_user(health.users["mutual_manager"])) == {s}
    assert not prevention_sessions_for_user(health.users["teller_a"]).exists()
    with pytest.raises(NotFound):
        get_prevention_session_for_user(health.users["manager_2"], s.pk)
    with pytest.raises(NotFound):
        get_prevention_session_for_user(health.users["organiser"], s.pk)
