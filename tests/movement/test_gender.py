"""The gender and inclusion dashboard on real records: MTC's members, cases (counts only) and
trainings by sex, age, area and group, the rural women panel, the period and filters, CSV;
who sees what (MTC's staff their sections, a Kondo or UTM user her own trainings only, a
user with no role nothing) and that no case detail or name ever shows."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from jigi.core.errors import ApplicationError, NotFound
from jigi.learning.models import Enrolment, Programme, TrainingSession
from jigi.movement.case_rules import confidential_default
from jigi.movement.models import Case, MemberProfile
from jigi.movement.selectors_indicators import Period, gender_dashboard
from jigi.orgs.models import MemberGroup
from tests.conftest import _user
from tests.movement.conftest import make_member
from tests.people.factories import register

URL = "/movement/gender/"
YEAR = Period(date(2026, 1, 1), date(2026, 11, 20))
SECRET = "Elle a été frappée par son patron"
_numbers = iter(range(1, 1000))


def _case(mtc, profile, category, opened_on, *, urgent=False, closed=False, outcome="",
          wages=0):
    # Confidential as intake makes it (by category): the outcome of a confidential case
    # counts only for its assigned workers (tests/movement/test_case_privacy.py).
    return Case.objects.create(
        organisation=mtc.org, section=profile.section, number=f"MTC-T-{next(_numbers):04d}",
        person=profile.person, profile=profile, category=category,
        confidential=confidential_default([category]),
        urgency="urgent" if urgent else "normal", intake_channel="in_person", summary=SECRET,
        employer_name="Famille Secrète", opened_on=opened_on, first_action_due=opened_on,
        resolution_due=opened_on, status="closed" if closed else "open",
        closed_on=opened_on if closed else None, outcome=outcome, wages_recovered=wages)


def _session(org, unit, code, starts_on, *, urban=False):
    programme = Programme.objects.create(organisation=org, code=code, name=f"Programme {code}",
                                         kind="rights")
    return TrainingSession.objects.create(programme=programme, unit=unit, place="Kati",
                                          urban=urban, trainer="Mme Coulibaly",
                                          starts_on=starts_on, ends_on=starts_on, meetings=4)


@pytest.fixture
def people(mtc, time_machine):
    """Four members (two rural women among them: one lives in the countryside, one came
    from it), four cases (one of 2025), an MTC rights training in a rural place, a Kondo
    literacy class and a UTM health talk."""
    time_machine.move_to("2026-11-20 09:00:00+00:00", tick=False)
    world = mtc.world
    m1 = make_member(mtc, MemberGroup.DOMESTIC, sex="F", birth_year=2012)
    m2 = make_member(mtc, MemberGroup.DOMESTIC, sex="F", birth_year=1990)
    m3 = make_member(mtc, MemberGroup.TEACHERS, sex="M", birth_year=1980)
    m4 = make_member(mtc, MemberGroup.ARTISANS, sex="M", birth_year=1970)
    MemberProfile.objects.filter(pk=m1.pk).update(rural_origin=True)
    MemberProfile.objects.filter(pk__in=[m2.pk, m4.pk]).update(area_kind="rural")
    _case(mtc, m1, "child_labour", date(2026, 10, 1), urgent=True)
    _case(mtc, m2, "unpaid_wages", date(2026, 6, 1), closed=True, outcome="wages_recovered",
          wages=30_000)
    _case(mtc, m3, "below_smig", date(2026, 3, 1), closed=True, outcome="no_result")
    _case(mtc, m1, "no_rest_day", date(2025, 5, 1))
    rights = _session(mtc.org, mtc.sections[MemberGroup.DOMESTIC], "DROITS", date(2026, 9, 1))
    Enrolment.objects.create(session=rights, person=m1.person, status="completed",
                             certificate_number="MTC-C-1", literacy_before=0,
                             literacy_after=2)
    Enrolment.objects.create(session=rights, person=m2.person)
    kondo = _session(world.orgs.kondo, world.caisse_a, "ALPHA", date(2026, 8, 1))
    Enrolment.objects.create(session=kondo, person=register(world, sex="F"), status="completed",
                             literacy_before=1, literacy_after=3)
    utm = _session(world.orgs.utm, world.mutual_1, "SANTE", date(2026, 7, 1), urban=True)
    Enrolment.objects.create(session=utm, person=register(world, unit=world.mutual_1,
                                                          user="admin", first_name="Moussa",
                                                          sex="M", birth_year=1960))
    return m1, m2, m3, m4


def _lines(tab):
    return {v: line for v, line in tab.lines}


def test_the_movement_s_dashboard(mtc, people):
    result, view, _f = gender_dashboard(mtc.users["movement_admin"], period=YEAR)
    assert view.whole
    assert _lines(result.members["sex"]) == {"F": {"members": 2}, "M": {"members": 2}}
    assert _lines(result.members["area"]) == {"urban": {"members": 2}, "rural": {"members": 2}}
    assert _lines(result.members["age_band"])["under_15"] == {"members": 1}
    cases = _lines(result.cases["sex"])
    assert cases["F"] == {"cases": 2, "urgent": 1, "closed": 1, "resolved": 1,
                          "wages_recovered": 30_000}
    assert cases["M"] == {"cases": 1, "urgent": 0, "closed": 1, "resolved": 0,
                          "wages_recovered": 0}
    assert result.categories["child_labour"] == {"F": 1, "M": 0, "total": 1}
    assert result.outcomes["no_result"] == {"F": 0, "M": 1, "total": 1}
    # MTC's staff see MTC's trainings (with the trainees' groups), not Kondo's or UTM's.
    trainings = result.trainings["group"]
    assert trainings.total["enrolled"] == 2
    assert _lines(trainings)["domestic"] == {
        "enrolled": 2, "completed": 1, "certificates": 1, "literacy_assessed": 1,
        "literacy_gained": 1, "levels_gained": 2}
    panel = result.rural_women
    assert (panel["members"], panel["women_members"], panel["cases"], panel["urgent"],
            panel["wages_recovered"]) == (2, 2, 2, 1, 30_000)
    assert (panel["enrolled"], panel["completed"], panel["certificates"]) == (2, 1, 1)
    assert result.rural_women_by_group == {"domestic": 2}


def test_period_and_filters(mtc, people):
    admin = mtc.users["movement_admin"]
    result, _v, _f = gender_dashboard(admin, period=Period(date(2025, 1, 1), YEAR.end))
    assert result.cases["sex"].total["cases"] == 4
    result, _v, _f = gender_dashboard(admin, period=YEAR, group=MemberGroup.TEACHERS)
    assert (result.members["sex"].total["members"], result.cases["sex"].total["cases"],
            result.trainings["sex"].total["enrolled"]) == (1, 1, 0)
    section = mtc.sections[MemberGroup.DOMESTIC]
    result, _v, _f = gender_dashboard(admin, period=YEAR, section=section.pk)
    assert (result.members["sex"].total["members"], result.cases["sex"].total["cases"],
            result.trainings["sex"].total["enrolled"]) == (2, 2, 2)


def test_a_member_who_left_during_the_period_still_counts_in_it(mtc, people):
    from jigi.people.models import Membership

    m1, m2, m3, m4 = people
    admin = mtc.users["movement_admin"]
    # m3 left in June 2026, m4 in December 2025 (before the period).
    Membership.objects.filter(pk=m3.membership_id).update(status="ended",
                                                          end_date=date(2026, 6, 30))
    Membership.objects.filter(pk=m4.membership_id).update(status="ended",
                                                          end_date=date(2025, 12, 31))
    result, _v, _f = gender_dashboard(admin, period=YEAR)
    assert _lines(result.members["sex"]) == {"F": {"members": 2}, "M": {"members": 1}}
    result, _v, _f = gender_dashboard(admin, period=Period(date(2026, 7, 1), YEAR.end))
    assert _lines(result.members["sex"]) == {"F": {"members": 2}}


def test_an_organiser_sees_her_section(mtc, people):
    result, view, _f = gender_dashboard(mtc.users["organiser_art"], period=YEAR)
    assert not view.whole
    assert result.members["sex"].total["members"] == 1
    assert result.cases["sex"].total["cases"] == 0
    assert result.trainings["sex"].total["enrolled"] == 0  # held at another section
    with pytest.raises(NotFound):
        gender_dashboard(mtc.users["organiser_art"], period=YEAR,
                         section=mtc.sections[MemberGroup.DOMESTIC].pk)


def test_kondo_and_utm_see_their_own_trainings_only(mtc, people):
    for username, sex in [("teller_a", "F"), ("mutual_manager", "M")]:
        result, view, _f = gender_dashboard(mtc.users[username], period=YEAR)
        assert view is None
        assert result.members["sex"].total["members"] == 0
        assert result.cases["sex"].total["cases"] == 0
        assert result.categories == {}
        assert set(_lines(result.trainings["sex"])) == {sex}
        assert result.trainings["sex"].total["enrolled"] == 1
        assert _lines(result.trainings["group"]) == {"unknown": result.trainings["group"].total}
    result, _v, _f = gender_dashboard(mtc.users["teller_b"], period=YEAR)  # another caisse
    assert result.trainings["sex"].total["enrolled"] == 0
    with pytest.raises(NotFound):  # MTC's sections do not exist for her
        gender_dashboard(mtc.users["teller_a"], period=YEAR,
                         section=mtc.sections[MemberGroup.DOMESTIC].pk)


def test_a_user_with_no_role_gets_a_404(mtc, people):
    with pytest.raises(NotFound):
        gender_dashboard(_user("nobody"), period=YEAR)


def test_the_page(mtc, people, client_for):
    response = client_for("movement_admin").get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="rural-women"' in html
    assert 'id="members-F"' in html
    assert 'id="category-child_labour"' in html
    tables = response.context["tables"]
    assert tables["cases"]["totals"] == [3, 1, 2, 1, 30_000]
    # Counts only: no summary, employer or name reaches the page.
    assert SECRET not in html
    assert "Famille Secrète" not in html
    for member in people:
        assert member.person.first_name not in html
    fragment = client_for("movement_admin").get(URL, {"by": "area"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    assert 'id="members-rural"' in fragment.content.decode()


def _rows(response):
    text = response.content.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_csv_of_each_table(mtc, people, client_for):
    client = client_for("movement_admin")
    members = _rows(client.get(URL, {"format": "csv", "table": "members", "by": "sex"}))
    assert [row[1] for row in members[1:]] == ["2", "2", "4"]
    cases = _rows(client.get(URL, {"format": "csv", "table": "cases", "by": "group"}))
    assert cases[-1] == ["Total", "3", "1", "2", "1", "30000"]
    trainings = _rows(client.get(URL, {"format": "csv", "table": "trainings"}))
    assert trainings[-1][:4] == ["Total", "2", "1", "1"]
    categories = _rows(client.get(URL, {"format": "csv", "table": "categories"}))
    assert len(categories) == 4
    rural = _rows(client.get(URL, {"format": "csv", "table": "rural"}))
    assert [r[1] for r in rural[1:4]] == ["2", "2", "2"]  # members, women members, cases


def test_outsiders_on_the_page(mtc, people, client_for):
    client = client_for("teller_a")
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="table-cases"' not in html
    assert 'id="table-members"' not in html
    # Her rural women panel: the woman of her literacy class (a rural session), no member.
    assert response.context["panel"] == {"enrolled": 1, "completed": 1, "certificates": 0,
                                         "literacy_assessed": 1, "literacy_gained": 1,
                                         "levels_gained": 2}
    assert 'data-key="members"' not in html
    assert response.context["tables"]["trainings"]["totals"][0] == 1
    assert client.get(URL, {"section": mtc.sections[MemberGroup.DOMESTIC].pk}
                      ).status_code == 404
    nobody = _user("nobody")
    from django.test import Client

    c = Client()
    c.force_login(nobody)
    assert c.get(URL).status_code == 404


def test_a_bad_period_is_refused(mtc, people, client_for):
    response = client_for("movement_admin").get(URL, {"from": "2026-12-01",
                                                      "to": "2026-01-01"})
    assert response.status_code == 422
    assert "from" in response.context["field_errors"]
    response = client_for("movement_admin").get(URL, {"from": "hier"})
    assert response.status_code == 422


def test_a_bad_group_is_refused(mtc, people):
    with pytest.raises(ApplicationError) as exc:
        gender_dashboard(mtc.users["movement_admin"], period=YEAR, group="x")
    assert exc.value.status_code == 422


def test_a_few_statements_whatever_the_number_of_people(mtc, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = mtc.users["movement_admin"]
    gender_dashboard(admin, period=YEAR)  # the user's scope is read once per user object
    with CaptureQueriesContext(connection) as few:
        gender_dashboard(admin, period=YEAR)
    rights = TrainingSession.objects.get(programme__code="DROITS")
    for _k in range(4):
        member = make_member(mtc, MemberGroup.DOMESTIC)
        _case(mtc, member, "no_contract", date(2026, 7, 1))
        Enrolment.objects.create(session=rights, person=member.person)
    with CaptureQueriesContext(connection) as more:
        result, _v, _f = gender_dashboard(admin, period=YEAR)
    assert (result.members["sex"].total["members"], result.cases["sex"].total["cases"],
            result.trainings["sex"].total["enrolled"]) == (8, 7, 6)
    assert len(more.captured_queries) == len(few.captured_queries) <= 6
