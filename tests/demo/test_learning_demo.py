"""The trainings part of `jigi demo` (jigi.learning.demo, docs/demo.md)."""

from __future__ import annotations

import io
import re
from collections import Counter as Tally
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from jigi.core.models import Counter
from jigi.demo import builder
from jigi.learning.demo import step_learning
from jigi.learning.models import Attendance, Enrolment, Programme, TrainingSession
from jigi.learning.services import certificate_number
from jigi.movement.demo import step_movement
from jigi.orgs.models import Organisation
from jigi.people.models import Membership

TODAY = date(2026, 11, 26)


@pytest.fixture
def learning_only(monkeypatch):
    """The steps trainings stand on (the members of the three organisations, the movement's
    minors); savings, credit and health write nothing the trainings read."""
    monkeypatch.setattr(builder, "STEPS", [
        builder.step_organisations, builder.step_staff, builder.step_persons,
        builder.step_memberships, step_movement, step_learning])


def _demo(members: int = 600, seed: int = 1) -> str:
    out = io.StringIO()
    call_command("demo", members=members, seed=seed, today=TODAY, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_programmes_and_sessions_of_the_three_organisations(learning_only):
    _demo()
    programmes = {(p.organisation.code, p.kind) for p in Programme.objects.select_related(
        "organisation")}
    assert {("KONDO", "literacy"), ("KONDO", "financial_education"),
            ("UTM", "health_education"), ("MTC", "rights"), ("MTC", "computer"),
            ("MTC", "literacy")} <= programmes
    assert set(Programme.objects.filter(tracks_literacy=True).values_list(
        "kind", flat=True)) == {"literacy"}
    sessions = list(TrainingSession.objects.select_related("programme", "unit"))
    kinds = {"KONDO": "caisse", "UTM": "mutual", "MTC": "section"}
    for s in sessions:
        # A session runs at a unit of its programme's organisation.
        assert s.unit.organisation_id == s.programme.organisation_id
        assert s.unit.kind == kinds[s.programme.organisation.code]
        assert s.ends_on >= s.starts_on
        expected = ("completed", "cancelled") if s.ends_on < TODAY else (
            ("running",) if s.starts_on <= TODAY else ("planned",))
        assert s.status in expected
    statuses = Tally(s.status for s in sessions)
    assert statuses["completed"]
    assert statuses["planned"]
    assert statuses["completed"] > statuses["planned"]
    assert TrainingSession.objects.filter(programme__code="INFO-JEUNES",
                                          unit__code="S-JEU").exists()


@pytest.mark.django_db
def test_enrolments_attendance_literacy_and_sex_shares(learning_only):
    _demo()
    enrolments = list(Enrolment.objects.select_related("session__programme", "person")
                      .annotate(present=Count("attendance", filter=Q(attendance__present=True)),
                                marked=Count("attendance")))
    assert len(enrolments) > 200
    members = set(Membership.objects.values_list("person_id", "unit_id"))
    for e in enrolments:
        s = e.session
        # Participants are members of the unit running the session, within its capacity.
        assert (e.person_id, s.unit_id) in members
        assert e.marked <= s.meetings
        if s.status == "planned":
            assert e.marked == 0
        if s.status == "completed":
            assert e.marked == s.meetings
            assert e.status in ("completed", "dropped")
            assert (e.status == "completed") == (100 * e.present >= 75 * s.meetings)
        else:
            assert e.status == "enrolled"
        if s.programme.tracks_literacy:
            assert e.literacy_before is not None
            if e.status == "completed":
                assert e.literacy_before <= e.literacy_after <= 4
        else:
            assert e.literacy_before is None
            assert e.literacy_after is None
    for session in TrainingSession.objects.annotate(n=Count("enrolments")):
        assert session.n <= session.capacity
        if session.status == "cancelled":
            assert session.n == 0
    # Literacy classes mostly women, and more women than men overall.
    literacy = [e for e in enrolments if e.session.programme.code == "ALPHA"]
    assert sum(e.person.sex == "F" for e in literacy) / len(literacy) > 0.65
    assert sum(e.person.sex == "F" for e in enrolments) / len(enrolments) > 0.55
    gains = [e.literacy_after - e.literacy_before for e in literacy if e.status == "completed"]
    assert sum(gains) > 0
    # The movement's minors take part in its trainings at S-DOM.
    assert any(e.session.unit.code == "S-DOM" and e.person.birth_year >= TODAY.year - 17
               for e in enrolments)
    assert Attendance.objects.filter(present=False).exists()


@pytest.mark.django_db
def test_certificates_are_gapless_per_organisation_and_year_and_continue(learning_only):
    _demo()
    completed = Enrolment.objects.filter(status="completed").select_related(
        "session__programme__organisation")
    assert completed.exists()
    assert not Enrolment.objects.filter(~Q(status="completed"),
                                        certificate_number__isnull=False).exists()
    numbers: dict[tuple[str, int], list[int]] = {}
    for e in completed:
        org = e.session.programme.organisation
        assert e.certificate_issued_on is not None
        assert e.session.ends_on <= e.certificate_issued_on <= TODAY
        year = e.certificate_issued_on.year
        assert re.fullmatch(rf"{org.code}-CERT-{year}-\d{{5}}", e.certificate_number)
        numbers.setdefault((org.code, year), []).append(int(e.certificate_number[-5:]))
    assert {code for code, _y in numbers} == {"KONDO", "UTM", "MTC"}
    for (code, year), got in numbers.items():
        assert sorted(got) == list(range(1, len(got) + 1))
        org = Organisation.objects.get(code=code)
        assert Counter.objects.get(scope=f"learning-cert:{org.pk}", year=year).value == len(got)
    # The next certificate the service issues follows the demo's.
    kondo = Organisation.objects.get(code="KONDO")
    last = max(n for (code, year), got in numbers.items() if code == "KONDO" and year == 2026
               for n in got)
    assert certificate_number(kondo, 2026) == f"KONDO-CERT-2026-{last + 1:05d}"
