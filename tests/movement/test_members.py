"""MTC member registration, record updates, section changes, exemption and the end of a
membership: the services, their refusals and their all-or-nothing transaction."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.models import AuditEvent
from jigi.movement import selectors
from jigi.movement.models import DomesticWorkerRecord, MemberProfile
from jigi.movement.services import members as svc
from jigi.orgs.bootstrap import accounting_unit_create
from jigi.orgs.models import MemberGroup, UnitKind
from jigi.people.errors import PossibleDuplicates
from jigi.people.models import Consent, ConsentScope, Membership, Person
from jigi.people.services import consent_grant
from tests.movement.conftest import make_member
from tests.people.factories import register

CHILD = {"first_name": "Mariam", "last_name": "Coulibaly", "sex": "F", "birth_year": 2012,
         "phone": "76 12 34 56", "village": "Kolokani", "cercle": "Kolokani",
         "region": "Koulikoro", "language": "bm"}
DOMESTIC = {"employer_name": "Famille Diallo", "district": "Commune V, Kalaban Coura",
            "monthly_pay": 10_000, "daily_hours": 14, "weekly_rest_half_days": 0,
            "live_in": True}


def _register(mtc, user="organiser", group=MemberGroup.DOMESTIC, person=None, **kw):
    fields = kw.pop("person_fields", None if person else dict(CHILD))
    return svc.member_register(acting_user=mtc.users[user], section=mtc.sections[group],
                               person=person, person_fields=fields,
                               record=kw.pop("record", dict(DOMESTIC)), **kw)


def _counts():
    return (Person.objects.count(), Membership.objects.count(), MemberProfile.objects.count(),
            DomesticWorkerRecord.objects.count())


def test_organiser_registers_a_minor_domestic_worker(mtc):
    reg = _register(mtc, profile={"rural_origin": True, "home_village": "Kolokani"})
    p = reg.profile
    assert reg.minor is True
    assert p.group == "domestic"
    assert p.section == mtc.sections["domestic"]
    assert p.membership.unit == mtc.sections["domestic"]
    assert p.membership.number.startswith("S-DOM-")
    assert p.person.phone == "+22376123456"
    assert p.domestic.daily_hours == 14
    assert p.domestic.live_in is True
    assert p.rural_origin is True
    assert p.registered_by == mtc.users["organiser"]
    assert p.standing == "new"
    events = set(AuditEvent.objects.filter(subject_id=str(p.pk))
                 .values_list("event_type", flat=True))
    assert {"movement.member_registered", "movement.minor_registered"} <= events
    assert selectors.members_for_user(mtc.users["organiser"]).filter(
        selectors.minors_q()).get() == p


@pytest.mark.parametrize(("group", "birth_year", "field_message"), [
    (MemberGroup.DOMESTIC, date.today().year, "Un membre a au moins 10 ans."),
    (MemberGroup.YOUTH, date.today().year - 5, "Un membre a au moins 10 ans."),
    (MemberGroup.TEACHERS, date.today().year - 16,
     "Un enseignant est majeur (au moins 18 ans)."),
])
def test_a_baby_member_or_a_child_teacher_is_refused_and_leaves_nothing(mtc, group, birth_year,
                                                                        field_message):
    before = _counts()
    record = {MemberGroup.DOMESTIC: DOMESTIC, MemberGroup.YOUTH: {"schooling": "none"},
              MemberGroup.TEACHERS: {"school": "École de Sabalibougou", "status": "volunteer",
                                     "paid_by": "nobody", "monthly_pay": 0}}[group]
    with pytest.raises(ApplicationError) as err:
        _register(mtc, user="movement_admin", group=group,
                  person_fields={**CHILD, "birth_year": birth_year}, record=dict(record))
    assert err.value.status_code == 422
    assert err.value.fields == {"birth_year": field_message}
    assert _counts() == before


def test_an_adult_teacher_is_not_flagged(mtc):
    reg = svc.member_register(
        acting_user=mtc.users["movement_admin"], section=mtc.sections["teachers"],
        person_fields={"first_name": "Oumar", "last_name": "Sangaré", "sex": "M",
                       "birth_year": 1988},
        record={"school": "École de Sabalibougou", "status": "community",
                "paid_by": "community", "monthly_pay": 25_000, "pay_arrears": 75_000,
                "pay_arrears_months": 3})
    assert reg.minor is False
    assert reg.profile.teacher.pay_arrears == 75_000
    assert not AuditEvent.objects.filter(event_type="movement.minor_registered").exists()


def test_bad_fields_are_refused_together_and_nothing_is_written(mtc):
    before = _counts()
    with pytest.raises(ApplicationError) as exc:
        _register(mtc, record={"employer_name": "", "district": "Banconi",
                               "monthly_pay": 10_000_000, "daily_hours": 25,
                               "weekly_rest_half_days": 15, "employer_phone": "12",
                               "start_date": date(2999, 1, 1), "salary": 3})
    assert exc.value.status_code == 422
    assert set(exc.value.fields) == {"employer_name", "monthly_pay", "daily_hours",
                                     "weekly_rest_half_days", "employer_phone", "start_date",
                                     "salary"}
    with pytest.raises(ApplicationError) as exc:
        _register(mtc, person_fields={**CHILD, "phone": "12345", "birth_year": 1800})
    assert exc.value.status_code == 422
    assert {"phone", "birth_year"} <= set(exc.value.fields)
    with pytest.raises(ApplicationError) as exc:
        _register(mtc, record={**DOMESTIC, "monthly_pay": -1})
    assert "monthly_pay" in exc.value.fields
    assert _counts() == before


def test_a_failure_mid_registration_leaves_no_person_membership_or_profile(mtc, monkeypatch):
    before = _counts()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(svc, "is_minor_member", boom)
    with pytest.raises(RuntimeError):
        _register(mtc)
    assert _counts() == before
    assert not AuditEvent.objects.filter(event_type="person.registered").exists()


def test_group_must_match_the_section(mtc):
    with pytest.raises(ApplicationError) as exc:
        svc.member_register(acting_user=mtc.users["organiser"], section=mtc.sections["domestic"],
                            group="artisans", person_fields=dict(CHILD), record=dict(DOMESTIC))
    assert exc.value.fields.keys() == {"group"}


def test_refusals_outside_the_section_and_outside_the_movement(mtc):
    before = _counts()
    with pytest.raises(NotFound):
        _register(mtc, user="organiser_art")  # S-ART's organiser, S-DOM's section
    with pytest.raises(NotFound):
        _register(mtc, user="teller_a")
    with pytest.raises(NotFound):
        _register(mtc, user="mutual_manager")
    with pytest.raises(Forbidden):
        _register(mtc, user="case_worker_1")  # sees the section, does not register
    assert _counts() == before


def test_duplicates_go_through_the_registry_rules(mtc):
    _register(mtc)
    with pytest.raises(PossibleDuplicates):
        _register(mtc)
    reg = _register(mtc, confirm_not_duplicate=True,
                    person_fields={**CHILD, "phone": "", "first_name": "Mariam"})
    assert reg.profile.pk


def test_an_existing_person_of_kondo_needs_her_identity_consent(mtc):
    world = mtc.world
    awa = register(world, unit=world.caisse_a, user="teller_a", birth_year=1995)
    with pytest.raises(NotFound):
        _register(mtc, person=awa)
    assert not MemberProfile.objects.exists()
    consent_grant(acting_user=world.users["teller_a"], person=awa, granted_to=mtc.org,
                  scope=ConsentScope.IDENTITY, purpose="Adhésion au MTC")
    assert Consent.objects.filter(person=awa).exists()
    reg = _register(mtc, person=awa)
    assert reg.profile.person == awa
    assert reg.minor is False
    assert awa.memberships.count() == 2
    with pytest.raises(ApplicationError) as exc:
        _register(mtc, person=awa)  # already an MTC member
    assert exc.value.code == "already_member"


def test_update_record_and_profile(mtc):
    p = make_member(mtc)
    p = svc.member_update(acting_user=mtc.users["organiser"], profile=p,
                          record={"daily_hours": 10, "weekly_rest_half_days": 2,
                                  "declared": True},
                          details={"area_kind": "rural"})
    p.refresh_from_db()
    assert (p.domestic.daily_hours, p.domestic.weekly_rest_half_days, p.domestic.declared) == \
        (10, 2, True)
    assert p.domestic.employer_name == "Famille Keïta"  # untouched
    assert p.area_kind == "rural"
    ev = AuditEvent.objects.get(event_type="movement.member_updated")
    assert ev.before["daily_hours"] == 12
    assert ev.after["daily_hours"] == 10
    with pytest.raises(ApplicationError) as exc:
        svc.member_update(acting_user=mtc.users["organiser"], profile=p,
                          record={"daily_hours": -1})
    assert exc.value.fields.keys() == {"daily_hours"}
    with pytest.raises(NotFound):
        svc.member_update(acting_user=mtc.users["organiser_art"], profile=p,
                          record={"daily_hours": 8})


def test_section_change(mtc):
    p = make_member(mtc)
    other = accounting_unit_create(
        organisation=mtc.org, kind=UnitKind.SECTION, code="S-DOM2",
        name="Travailleuses domestiques de Kati", parent=mtc.world.orgs.movement,
        member_group="domestic")
    with pytest.raises(NotFound):  # the S-DOM organiser does not organise S-DOM2
        svc.member_section_change(acting_user=mtc.users["organiser"], profile=p, section=other)
    with pytest.raises(ApplicationError) as exc:
        svc.member_section_change(acting_user=mtc.users["movement_admin"], profile=p,
                                  section=mtc.sections["artisans"])
    assert exc.value.fields.keys() == {"section"}
    moved = svc.member_section_change(acting_user=mtc.users["movement_admin"], profile=p,
                                      section=other)
    assert moved.section == other
    assert Membership.objects.get(pk=p.membership_id).unit == other


def test_only_an_officer_ends_a_membership(mtc):
    p = make_member(mtc)
    with pytest.raises(Forbidden):
        svc.member_end(acting_user=mtc.users["organiser"], profile=p, reason="Partie au village")
    with pytest.raises(ApplicationError) as exc:
        svc.member_end(acting_user=mtc.users["movement_admin"], profile=p, reason="")
    assert exc.value.fields.keys() == {"reason"}
    svc.member_end(acting_user=mtc.users["movement_admin"], profile=p,
                   reason="Partie au village")
    assert Membership.objects.get(pk=p.membership_id).status == "ended"
    with pytest.raises(ApplicationError) as exc:
        svc.member_end(acting_user=mtc.users["movement_admin"], profile=p, reason="encore")
    assert exc.value.code == "already_ended"


def test_exemption_is_an_administrator_decision(mtc):
    p = make_member(mtc)
    with pytest.raises(Forbidden):
        svc.member_exempt_set(acting_user=mtc.users["organiser"], profile=p, exempt=True,
                              reason="Mineure")
    p = svc.member_exempt_set(acting_user=mtc.users["movement_admin"], profile=p, exempt=True,
                              reason="Mineure")
    assert p.dues_exempt is True
    assert p.standing == "exempt"


def test_selectors_scope_members(mtc):
    dom = make_member(mtc)
    art = make_member(mtc, MemberGroup.ARTISANS)
    users = mtc.users
    assert set(selectors.members_for_user(users["organiser"])) == {dom}
    assert set(selectors.members_for_user(users["organiser_art"])) == {art}
    assert set(selectors.members_for_user(users["case_worker_1"])) == {dom, art}
    assert not selectors.members_for_user(users["teller_a"]).exists()
    assert not selectors.members_for_user(users["mutual_manager"]).exists()
    with pytest.raises(NotFound):
        selectors.get_member_for_user(users["organiser_art"], dom.pk)
    with pytest.raises(NotFound):
        selectors.get_member_for_user(users["teller_a"], "x")


@pytest.mark.parametrize(("group", "raw", "bad"), [
    ("domestic", {"employer_name": 5, "district": "x\x01", "live_in": "yes",
                  "daily_hours": "8", "employer_phone": 7, "start_date": "2020-01-01"},
     {"employer_name", "district", "live_in", "daily_hours", "employer_phone", "start_date"}),
    ("teachers", {"school": "É" * 201, "status": "boss", "paid_by": "state",
                  "pay_arrears_months": True},
     {"school", "status", "pay_arrears_months"}),
    ("artisans", {"trade": "  ", "apprentices": 501, "monthly_income": 1.5},
     {"trade", "apprentices", "monthly_income"}),
    ("youth", {"schooling": "primary", "computer_access": "laptop", "seeking_work": 1},
     {"computer_access", "seeking_work"}),
])
def test_clean_record_reports_every_bad_field(group, raw, bad):
    with pytest.raises(ApplicationError) as exc:
        svc.clean_record(group, raw)
    assert set(exc.value.fields) == bad


def test_clean_record_accepts_good_values_and_blank_phone():
    out = svc.clean_record("domestic", {"employer_name": " Famille Bah ", "district": "Hippodrome",
                                        "employer_phone": " ", "monthly_pay": "12 500",
                                        "start_date": date(2024, 3, 1), "declared": False})
    assert out == {"employer_name": "Famille Bah", "district": "Hippodrome",
                   "employer_phone": "", "monthly_pay": 12_500,
                   "start_date": date(2024, 3, 1), "declared": False}
    assert svc.clean_profile({"home_village": "Bla"}) == {"home_village": "Bla"}
    with pytest.raises(ApplicationError) as exc:
        svc.clean_profile({"area_kind": "moon", "extra": 1})
    assert set(exc.value.fields) == {"area_kind", "extra"}


def test_register_needs_exactly_one_person_and_end_dates_are_checked(mtc):
    with pytest.raises(ApplicationError) as exc:
        svc.member_register(acting_user=mtc.users["organiser"],
                            section=mtc.sections["domestic"], record=dict(DOMESTIC))
    assert exc.value.fields.keys() == {"person"}
    p = make_member(mtc)
    with pytest.raises(ApplicationError) as exc:
        svc.member_end(acting_user=mtc.users["movement_admin"], profile=p, reason="x",
                       on=date(2999, 1, 1))
    assert exc.value.fields.keys() == {"on"}
    with pytest.raises(ApplicationError) as exc:
        svc.member_end(acting_user=mtc.users["movement_admin"], profile=p, reason="x",
                       on=date(2000, 1, 1))
    assert exc.value.fields.keys() == {"on"}
    with pytest.raises(ApplicationError) as exc:
        svc.member_section_change(acting_user=mtc.users["movement_admin"], profile=p,
                                  section=mtc.sections["domestic"])
    assert exc.value.code == "same_section"
    with pytest.raises(NotFound):
        svc.member_section_change(acting_user=mtc.users["movement_admin"], profile=p,
                                  section=mtc.world.caisse_a)
