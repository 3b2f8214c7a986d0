"""The trainings' services: who may do what, validation, capacity, attendance, completion with
gapless certificate numbers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from jigi.core.audit import AuditEvent  # noqa: F401  (the table the services write)
from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.learning import selectors, services
from jigi.learning.models import Attendance, Enrolment, SessionStatus, TrainingSession
from tests.learning.conftest import TODAY, member, plan


def _err(exc_info) -> ApplicationError:
    return exc_info.value


# --- programmes -------------------------------------------------------------------------------


def test_literacy_programme_records_levels_by_default(learning):
    assert learning.programme.tracks_literacy is True
    assert learning.programme.organisation == learning.world.orgs.kondo


@pytest.mark.parametrize("username", ["teller_a", "auditor", "loan_officer_a"])
def test_kondo_readers_cannot_create_programmes(world, username):
    with pytest.raises(Forbidden):
        services.programme_create(acting_user=world.users[username],
                                  organisation=world.orgs.kondo, code="X", name="X",
                                  kind="rights")


def test_another_organisations_manager_gets_404_for_kondo_programmes(world):
    with pytest.raises(NotFound):
        services.programme_create(acting_user=world.users["mutual_manager"],
                                  organisation=world.orgs.kondo, code="X", name="X",
                                  kind="rights")


def test_each_organisation_creates_its_own(world):
    utm = services.programme_create(acting_user=world.users["mutual_manager"],
                                    organisation=world.orgs.utm, code="PALU",
                                    name="Paludisme", kind="health_education")
    mtc = services.programme_create(acting_user=world.users["organiser"],
                                    organisation=world.orgs.mtc, code="DROITS",
                                    name="Droits des travailleuses", kind="rights")
    assert (utm.tracks_literacy, mtc.tracks_literacy) == (False, False)


def test_programme_validation_collects_every_field(world):
    with pytest.raises(ApplicationError) as exc:
        services.programme_create(acting_user=world.users["manager_a"],
                                  organisation=world.orgs.kondo, code="a b", name=" ",
                                  kind="magic", min_attendance_pct=101)
    assert exc.value.status_code == 422
    assert set(exc.value.fields) == {"code", "name", "kind", "min_attendance_pct"}


def test_programme_code_unique_per_organisation(learning):
    with pytest.raises(Conflict) as exc:
        services.programme_create(acting_user=learning.world.users["manager_a"],
                                  organisation=learning.world.orgs.kondo, code="alpha",
                                  name="Encore", kind="literacy")
    assert exc.value.code == "code_taken"


# --- sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "field"), [
    ({"meetings": 0}, "meetings"), ({"meetings": 61}, "meetings"),
    ({"capacity": 0}, "capacity"), ({"language": "xx"}, "language"),
    ({"ends_on": TODAY - timedelta(days=50)}, "ends_on"),
    ({"starts_on": TODAY + timedelta(days=400), "ends_on": TODAY + timedelta(days=401)},
     "starts_on"),
    ({"place": ""}, "place"), ({"trainer": "a\x00b"}, "trainer"),
])
def test_session_validation(learning, fields, field):
    with pytest.raises(ApplicationError) as exc:
        plan(learning.world, learning.programme, **fields)
    assert exc.value.status_code == 422
    assert field in exc.value.fields


def test_session_unit_must_be_covered_and_of_the_programmes_organisation(learning):
    w = learning.world
    with pytest.raises(NotFound):
        plan(w, learning.programme, unit=w.caisse_b)
    with pytest.raises(NotFound):
        plan(w, learning.programme, unit=w.mutual_1)
    with pytest.raises(Forbidden):
        plan(w, learning.programme, user="teller_a")


def test_state_transitions(learning):
    w = learning.world
    manager = w.users["manager_a"]
    s = plan(w, learning.programme, starts_on=TODAY + timedelta(days=3),
             ends_on=TODAY + timedelta(days=10))
    with pytest.raises(Conflict):  # not before the first day
        services.session_start(acting_user=manager, session=s)
    with pytest.raises(Conflict):  # planned cannot complete
        services.session_complete(acting_user=manager, session=s)
    s = services.session_cancel(acting_user=manager, session=s, reason="Hivernage")
    assert s.status == SessionStatus.CANCELLED
    with pytest.raises(Conflict):
        services.session_start(acting_user=manager, session=s)
    with pytest.raises(Conflict):
        services.session_update(acting_user=manager, session=s, place="Ailleurs")


def test_update_keeps_recorded_meetings_and_enrolled_places(learning):
    manager = learning.world.users["manager_a"]
    services.attendance_record(acting_user=manager, session=learning.session, meeting=5,
                               marks={learning.enrolments[0].pk: True})
    with pytest.raises(ApplicationError) as exc:
        services.session_update(acting_user=manager, session=learning.session, meetings=4)
    assert "meetings" in exc.value.fields
    with pytest.raises(ApplicationError) as exc:
        services.session_update(acting_user=manager, session=learning.session, capacity=2)
    assert "capacity" in exc.value.fields
    s = services.session_update(acting_user=manager, session=learning.session, capacity=3,
                                meetings=5)
    assert (s.capacity, s.meetings) == (3, 5)


# --- enrolment --------------------------------------------------------------------------------


def test_enrol_twice_is_a_conflict(learning):
    e = learning.enrolments[0]
    with pytest.raises(Conflict) as exc:
        services.enrolment_create(acting_user=learning.world.users["manager_a"],
                                  session=learning.session, person=e.person)
    assert exc.value.code == "already_enrolled"


def test_person_of_another_caisse_is_not_found(learning):
    w = learning.world
    other = member(w, unit=w.caisse_b, user="teller_b")
    with pytest.raises(NotFound):
        services.enrolment_create(acting_user=w.users["manager_a"], session=learning.session,
                                  person=other)
    assert not Enrolment.objects.filter(person=other).exists()


def test_capacity_is_enforced(learning):
    w = learning.world
    manager = w.users["manager_a"]
    services.session_update(acting_user=manager, session=learning.session, capacity=4)
    services.enrolment_create(acting_user=manager, session=learning.session,
                              person=member(w))
    with pytest.raises(Conflict) as exc:
        services.enrolment_create(acting_user=manager, session=learning.session,
                                  person=member(w))
    assert exc.value.code == "session_full"
    # A dropped participant frees her place.
    services.enrolment_update(acting_user=manager, enrolment=learning.enrolments[2],
                              dropped=True)
    services.enrolment_create(acting_user=manager, session=learning.session, person=member(w))
    assert learning.session.enrolments.count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_enrolments_never_exceed_capacity(world):
    """Two managers enrol at the same moment for the last place: one wins, one gets a 409
    (the session row lock; real concurrent connections need PostgreSQL)."""
    from django.db import connection

    manager = world.users["manager_a"]
    programme = services.programme_create(acting_user=manager, organisation=world.orgs.kondo,
                                          code="FIN", name="Éducation financière",
                                          kind="financial_education")
    session = plan(world, programme, capacity=1)
    people = [member(world), member(world)]
    results: list[str] = []
    barrier = threading.Barrier(2)

    def enrol(person):
        try:
            barrier.wait()
            services.enrolment_create(acting_user=manager, session=session, person=person)
            results.append("ok")
        except Conflict as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "session_full"]
    assert Enrolment.objects.filter(session=session).count() == 1


def test_register_a_new_participant_on_the_spot(learning):
    from jigi.people.models import Membership, MembershipStatus
    from jigi.web.selectors import dashboard_for_user

    w = learning.world
    members_before = dashboard_for_user(w.users["teller_a"]).active_members
    e = services.enrolment_register_person(
        acting_user=w.users["manager_a"], session=learning.session, first_name="Ɲɛnɛba",
        last_name="Dembélé", sex="F", birth_year=1975, literacy_before=1)
    assert e.person.full_name == "Ɲɛnɛba Dembélé"
    assert e.literacy_before == 1
    # A participant, not a member: her membership at the caisse is pending, so she is not
    # counted among Kondo's active members (she can join later: pending -> active).
    membership = Membership.objects.get(person=e.person)
    assert membership.status == MembershipStatus.PENDING
    assert membership.unit == learning.session.unit
    assert dashboard_for_user(w.users["teller_a"]).active_members == members_before
    # Visible to caisse A's staff, not to another caisse's or organisation's.
    from jigi.people.selectors import persons_visible_to
    assert persons_visible_to(w.users["teller_a"]).filter(pk=e.person_id).exists()
    assert not persons_visible_to(w.users["teller_b"]).filter(pk=e.person_id).exists()
    assert not persons_visible_to(w.users["mutual_manager"]).filter(pk=e.person_id).exists()


def test_a_participant_who_joins_later_gets_her_pending_membership_activated(learning):
    from jigi.people.models import Membership, MembershipStatus
    from jigi.people.services import membership_add

    w = learning.world
    e = services.enrolment_register_person(
        acting_user=w.users["manager_a"], session=learning.session, first_name="Salimata",
        last_name="Togola", sex="F", birth_year=1988)
    pending = Membership.objects.get(person=e.person)
    joined = membership_add(acting_user=w.users["teller_a"], person=e.person,
                            unit=w.caisse_a)
    assert (joined.pk, joined.number) == (pending.pk, pending.number)
    assert joined.status == MembershipStatus.ACTIVE
    assert Membership.objects.filter(person=e.person).count() == 1


def test_register_refused_before_any_write_when_full(learning):
    from jigi.people.models import Person

    w = learning.world
    services.session_update(acting_user=w.users["manager_a"], session=learning.session,
                            capacity=3)
    before = Person.objects.count()
    with pytest.raises(Conflict):
        services.enrolment_register_person(acting_user=w.users["manager_a"],
                                           session=learning.session, first_name="Sali",
                                           last_name="Keïta", sex="F", birth_year=1990)
    assert Person.objects.count() == before


def test_literacy_level_only_for_programmes_that_record_it(world):
    manager = world.users["manager_a"]
    programme = services.programme_create(acting_user=manager, organisation=world.orgs.kondo,
                                          code="FIN", name="Éducation financière",
                                          kind="financial_education")
    session = plan(world, programme)
    with pytest.raises(ApplicationError) as exc:
        services.enrolment_create(acting_user=manager, session=session, person=member(world),
                                  literacy_before=2)
    assert "literacy_before" in exc.value.fields


# --- attendance -------------------------------------------------------------------------------


def test_attendance_is_idempotent_and_replaceable(learning):
    manager = learning.world.users["manager_a"]
    e = learning.enrolments[0]
    assert services.attendance_record(acting_user=manager, session=learning.session,
                                      meeting=1, marks={e.pk: True}) == 1
    assert services.attendance_record(acting_user=manager, session=learning.session,
                                      meeting=1, marks={e.pk: True}) == 0
    assert services.attendance_record(acting_user=manager, session=learning.session,
                                      meeting=1, marks={e.pk: False}) == 1
    row = Attendance.objects.get(enrolment=e, meeting=1)
    assert row.present is False
    assert Attendance.objects.filter(enrolment=e).count() == 1


@pytest.mark.parametrize(("meeting", "marks", "field"), [
    (0, None, "meeting"), (7, None, "meeting"), (1, {}, "marks"), (1, {"x": True}, "marks"),
    (1, "bad", "marks"),
])
def test_attendance_validation(learning, meeting, marks, field):
    e = learning.enrolments[0]
    with pytest.raises(ApplicationError) as exc:
        services.attendance_record(acting_user=learning.world.users["manager_a"],
                                   session=learning.session, meeting=meeting,
                                   marks={e.pk: True} if marks is None else marks)
    assert field in exc.value.fields


def test_attendance_of_another_sessions_participant_is_refused(learning):
    w = learning.world
    other = plan(w, learning.programme)
    services.session_start(acting_user=w.users["manager_a"], session=other)
    with pytest.raises(NotFound):
        services.attendance_record(acting_user=w.users["manager_a"], session=other, meeting=1,
                                   marks={learning.enrolments[0].pk: True})


def test_teller_reads_but_cannot_take_attendance(learning):
    w = learning.world
    with pytest.raises(Forbidden):
        services.attendance_record(acting_user=w.users["teller_a"], session=learning.session,
                                   meeting=1, marks={learning.enrolments[0].pk: True})
    assert selectors.get_session_for_user(w.users["teller_a"], learning.session.pk)
    with pytest.raises(NotFound):
        selectors.get_session_for_user(w.users["teller_b"], learning.session.pk)
    with pytest.raises(NotFound):
        services.attendance_record(acting_user=w.users["mutual_manager"],
                                   session=learning.session, meeting=1,
                                   marks={learning.enrolments[0].pk: True})


# --- completion -------------------------------------------------------------------------------


def _attend(learning, enrolment, meetings):
    manager = learning.world.users["manager_a"]
    for m in meetings:
        services.attendance_record(acting_user=manager, session=learning.session, meeting=m,
                                   marks={enrolment.pk: True})


def test_completion_issues_gapless_certificates_by_attendance(learning):
    manager = learning.world.users["manager_a"]
    fatou, kadi, bakary = learning.enrolments
    _attend(learning, fatou, range(1, 7))  # 6/6
    _attend(learning, kadi, range(1, 6))  # 5/6 = 83 %
    _attend(learning, bakary, range(1, 5))  # 4/6 = 67 % < 75 %
    rows = {r.enrolment.pk: r for r in selectors.session_roll(learning.session)}
    assert (rows[kadi.pk].attended, str(rows[kadi.pk].pct), rows[kadi.pk].eligible) == (
        5, "83.3", True)
    services.session_complete(acting_user=manager, session=learning.session,
                              literacy_after={fatou.pk: 3, kadi.pk: 2})
    done = {e.pk: e for e in Enrolment.objects.filter(session=learning.session)}
    assert done[fatou.pk].status == "completed"
    assert done[fatou.pk].certificate_number == "KONDO-CERT-2026-00001"
    assert done[kadi.pk].certificate_number == "KONDO-CERT-2026-00002"
    assert done[kadi.pk].certificate_issued_on == TODAY
    assert done[bakary.pk].status == "dropped"
    assert done[bakary.pk].certificate_number is None
    assert TrainingSession.objects.get(pk=learning.session.pk).status == "completed"
    # The next session's certificates continue the sequence.
    s2 = services.session_start(acting_user=manager, session=plan(learning.world,
                                                                  learning.programme))
    e = services.enrolment_create(acting_user=manager, session=s2, person=fatou.person)
    services.attendance_record(acting_user=manager, session=s2, meeting=1, marks={e.pk: True})
    services.session_update(acting_user=manager, session=s2, meetings=1)
    services.session_complete(acting_user=manager, session=s2, literacy_after={e.pk: 4})
    e.refresh_from_db()
    assert e.certificate_number == "KONDO-CERT-2026-00003"


def test_completion_needs_the_level_reached_and_writes_nothing_otherwise(learning):
    manager = learning.world.users["manager_a"]
    fatou = learning.enrolments[0]
    _attend(learning, fatou, range(1, 7))
    with pytest.raises(ApplicationError) as exc:
        services.session_complete(acting_user=manager, session=learning.session)
    assert exc.value.status_code == 422
    assert f"literacy_after.{fatou.pk}" in exc.value.fields
    assert TrainingSession.objects.get(pk=learning.session.pk).status == "running"
    assert not Enrolment.objects.filter(certificate_number__isnull=False).exists()


def test_completion_not_before_the_last_day(learning):
    manager = learning.world.users["manager_a"]
    services.session_update(acting_user=manager, session=learning.session,
                            ends_on=TODAY + timedelta(days=2))
    with pytest.raises(Conflict) as exc:
        services.session_complete(acting_user=manager, session=learning.session)
    assert exc.value.code == "not_ended"


def test_certificate_pdf_has_the_name_in_bambara_letters(learning):
    from jigi.learning.certificates import certificate_pdf
    from tests.learning.pdftext import pdf_strings

    w = learning.world
    manager = w.users["manager_a"]
    e = services.enrolment_register_person(
        acting_user=manager, session=learning.session, first_name="Ɲɛnɛba",
        last_name="Sɔgɔba Traoré", sex="F", birth_year=1970, literacy_before=0)
    _attend(learning, e, range(1, 7))
    services.session_complete(acting_user=manager, session=learning.session,
                              literacy_after={e.pk: 2})
    e = selectors.get_enrolment_for_user(manager, e.pk)
    pdf = certificate_pdf(selectors.certificate_text(e), compress=False)
    assert pdf.startswith(b"%PDF-")
    text = pdf_strings(pdf)
    assert "Ɲɛnɛba Sɔgɔba Traoré" in text
    assert any(e.certificate_number in t for t in text)
    assert "Kondo Jigima" in " ".join(text) or any("Kondo" in t for t in text)


def test_report_by_sex_age_and_literacy_gain(learning):
    manager = learning.world.users["manager_a"]
    fatou, kadi, bakary = learning.enrolments
    _attend(learning, fatou, range(1, 7))
    _attend(learning, bakary, range(1, 7))
    services.session_complete(acting_user=manager, session=learning.session,
                              literacy_after={fatou.pk: 3, bakary.pk: 1})
    [r] = selectors.learning_report(manager, start=TODAY - timedelta(days=365), end=TODAY)
    assert (r.sessions, r.sessions_completed, r.enrolled, r.completed, r.certificates) == (
        1, 1, 3, 2, 2)
    assert (r.by_sex["F"].enrolled, r.by_sex["F"].completed, r.by_sex["M"].completed) == (
        2, 1, 1)
    assert sum(b.enrolled for b in r.by_age.values()) == 3
    assert (r.literacy.assessed, r.literacy.improved, str(r.literacy.mean_gain)) == (
        2, 2, "2.00")
    # Another organisation's manager sees nothing of it.
    assert selectors.learning_report(learning.world.users["mutual_manager"],
                                     start=TODAY - timedelta(days=365), end=TODAY) == []
