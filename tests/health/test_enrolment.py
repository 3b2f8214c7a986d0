"""Enrolment of families: beneficiaries from the household, cards, refusals (unknown person,
child over the age limit, duplicate coverage, package not offered), changes of beneficiaries,
end and renewal of coverage, group enrolment through an agreement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.core.errors import ApplicationError, NotFound
from jigi.health.cards import CardNumberError, card_number, luhn_digit, normalise_card
from jigi.health.models import Beneficiary, ContributionDue, Coverage, SuspensionPeriod
from jigi.health.selectors import dues_of
from jigi.health.services import (
    beneficiary_add,
    beneficiary_remove,
    contribution_pay,
    coverage_end,
    coverage_enrol,
    coverage_renew,
    group_agreement_create,
    group_enrol,
    package_create,
)
from jigi.people.models import Membership
from jigi.people.services import consent_grant
from tests.health.conftest import ENROLLED_ON, TODAY, counts, make_family, person
from tests.people.factories import register

# --- the fixture's family ---------------------------------------------------------------------


def test_family_enrolled_from_household_with_over_age_child_left_out(health):
    cov = health.coverage
    relations = sorted(b.relation for b in health.beneficiaries)
    assert relations == ["child", "child", "child", "head", "spouse", "spouse"]
    assert cov.member_id == health.family.head.pk
    assert cov.household_id == health.family.household.pk
    assert cov.covered_from == ENROLLED_ON + timedelta(days=90)
    assert cov.renewal_due == date(2027, 5, 4)
    assert cov.number == "M01-F000001"
    assert not Beneficiary.objects.filter(person=health.refused_child).exists()


def test_every_beneficiary_has_a_distinct_card_with_a_valid_check_digit(health):
    cards = [b.card_number for b in health.beneficiaries]
    assert len(set(cards)) == 6
    assert all(normalise_card(c) == c for c in cards)
    assert cards[0] == "M01-0000010"


def test_member_holds_a_membership_of_the_union_at_the_mutual(health):
    m = health.coverage.membership
    assert m.person_id == health.family.head.pk
    assert m.unit_id == health.world.mutual_1.pk
    assert m.status == "active"


def test_enrolment_schedules_the_first_month_and_the_payment_settles_it(health):
    dues = list(dues_of(health.coverage))
    assert [d.period_start for d in dues][:2] == [date(2026, 5, 1), date(2026, 6, 1)]
    assert all(d.amount == 6 * 550 and d.paid == d.amount for d in dues)
    assert len(dues) == 7  # May to November


def test_skipped_child_is_reported_with_a_reason(world, health):
    family = make_family(world, children=1, too_old=1)
    result = coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                            package=health.package, member=family.head,
                            household=family.household, on=TODAY)
    assert [(s.person.pk, s.code) for s in result.skipped] == [(family.too_old[0].pk,
                                                                 "AGE_LIMIT")]
    assert len(result.beneficiaries) == 3


# --- refusals ---------------------------------------------------------------------------------


def test_listed_child_over_the_age_limit_refuses_the_whole_enrolment(world, health):
    family = make_family(world, children=1, too_old=1)
    before = counts()
    with pytest.raises(ApplicationError) as exc:
        coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                       package=health.package, member=family.head,
                       dependants=[(family.spouses[0], "spouse"), (family.children[0], "child"),
                                   (family.too_old[0], "child")], on=TODAY)
    assert exc.value.code == "age_limit"
    assert exc.value.status_code == 422
    assert "dependants.2.person" in exc.value.fields
    assert counts() == before


def test_unknown_person_is_404_and_nothing_written(world, health):
    before = counts()
    with pytest.raises(NotFound) as exc:
        coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                       package=health.package, member=10**9, on=TODAY)
    assert exc.value.code == "person_not_found"
    with pytest.raises(NotFound):
        coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                       package=health.package, member=health.family.head,
                       dependants=[(10**9, "child")], on=TODAY)
    assert counts() == before


def test_second_active_coverage_under_the_same_package_code_is_refused(world, health):
    wife = health.family.spouses[0]
    before = counts()
    with pytest.raises(ApplicationError) as exc:
        coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                       package=health.package, member=wife, on=TODAY)
    assert exc.value.code == "already_covered"
    assert exc.value.status_code == 409
    # Another mutual, same package code: still refused (one mutual at a time per product).
    with pytest.raises(ApplicationError) as exc:
        coverage_enrol(acting_user=world.users["union_admin"], mutual=world.mutual_2,
                       package=health.package, member=wife, on=TODAY)
    assert exc.value.code == "already_covered"
    assert counts() == before


def test_another_package_code_may_cover_the_same_person(world, health):
    plus = package_create(acting_user=world.users["mutual_manager"],
                          organisation=world.orgs.utm, mutual=world.mutual_1, code="PLUS",
                          name="Complémentaire hospitalisation", contribution=300,
                          rules=[{"group": "hospitalisation", "mutual_share_pct": 90}])
    result = coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                            package=plus, member=health.family.head, on=TODAY)
    assert result.coverage.package.code == "PLUS"
    assert result.coverage.membership_id == health.coverage.membership_id


def test_a_person_covered_again_after_the_coverage_ended(world, health):
    coverage_end(acting_user=world.users["mutual_manager"], coverage=health.coverage,
                 reason="Départ du quartier", on=TODAY)
    result = coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                            package=health.package, member=health.family.spouses[0], on=TODAY)
    assert result.coverage.status == "active"


def test_polygamous_household_with_three_wives(world, health):
    family = make_family(world, spouses=3, children=0)
    result = coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                            package=health.package, member=family.head,
                            household=family.household, on=TODAY)
    assert [b.relation for b in result.beneficiaries] == ["head", "spouse", "spouse", "spouse"]


def test_parent_refused_unless_the_package_covers_other_dependants(world, health):
    mother = person(world, first_name="Nana", last_name="Bagayoko", sex="F", birth_year=1950)
    family = make_family(world, children=0)
    with pytest.raises(ApplicationError) as exc:
        coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                       package=health.package, member=family.head,
                       dependants=[(mother, "parent")], on=TODAY)
    assert exc.value.code == "relation_not_covered"
    rural = health.package.__class__.objects.get(code="RUR", mutual__isnull=True)
    result = coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                            package=rural, member=family.head, dependants=[(mother, "parent")],
                            on=TODAY)
    assert [b.relation for b in result.beneficiaries] == ["head", "parent"]


def test_package_of_another_mutual_or_inactive_is_not_offered(world, health):
    own = package_create(acting_user=world.users["manager_2"], organisation=world.orgs.utm,
                         mutual=world.mutual_2, code="BLA", name="Garantie de Bla",
                         contribution=400, rules=[{"group": "consultation",
                                                   "mutual_share_pct": 60}])
    family = make_family(world, children=0)
    before = counts()
    with pytest.raises(ApplicationError) as exc:
        coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                       package=own, member=family.head, on=TODAY)
    assert exc.value.code == "package_not_offered"
    assert counts() == before


def test_enrolment_date_in_the_future_is_refused(world, health):
    family = make_family(world, children=0)
    with pytest.raises(ApplicationError) as exc:
        coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                       package=health.package, member=family.head,
                       on=TODAY + timedelta(days=1))
    assert exc.value.status_code == 422
    assert "enrolled_on" in exc.value.fields


def test_claims_officer_may_not_enrol(world, health):
    family = make_family(world, children=0)
    with pytest.raises(ApplicationError) as exc:
        coverage_enrol(acting_user=world.users["claims_officer"], mutual=world.mutual_1,
                       package=health.package, member=family.head, on=TODAY)
    assert exc.value.status_code == 403


# --- changes of beneficiaries -----------------------------------------------------------------


def test_newborn_added_is_covered_at_once_and_pays_from_next_month(world, health):
    baby = person(world, first_name="Nafissatou", last_name="Traoré", sex="F",
                  birth_year=2026)
    # December paid ahead for six persons.
    contribution_pay(acting_user=world.users["mutual_manager"], coverage=health.coverage,
                     amount=3_300, on=TODAY)
    b = beneficiary_add(acting_user=world.users["mutual_manager"], coverage=health.coverage,
                        person=baby, relation="child", on=TODAY)
    assert b.card_number.startswith("M01-")
    december = ContributionDue.objects.get(coverage=health.coverage,
                                           period_start=date(2026, 12, 1))
    assert december.amount == 7 * 550
    assert december.paid == 3_300
    health.coverage.refresh_from_db()
    assert health.coverage.paid_through == date(2026, 11, 30)


def test_removed_spouse_stops_paying_and_money_ahead_moves_to_later_months(world, health):
    contribution_pay(acting_user=world.users["mutual_manager"], coverage=health.coverage,
                     amount=3_300, on=TODAY)  # December for six
    beneficiary_remove(acting_user=world.users["mutual_manager"],
                       beneficiary=health.spouses[1], reason="Divorce", on=TODAY)
    dues = {d.period_start: (d.amount, d.paid) for d in dues_of(health.coverage)}
    assert dues[date(2026, 12, 1)] == (5 * 550, 5 * 550)
    assert dues[date(2027, 1, 1)] == (5 * 550, 550)
    health.spouses[1].refresh_from_db()
    assert health.spouses[1].until == TODAY


def test_member_cannot_be_removed(world, health):
    with pytest.raises(ApplicationError) as exc:
        beneficiary_remove(acting_user=world.users["mutual_manager"], beneficiary=health.head,
                           reason="Erreur")
    assert exc.value.code == "member_not_removable"


def test_adding_someone_already_covered_elsewhere_is_refused(world, health):
    other = make_family(world, children=0)
    coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                   package=health.package, member=other.head, on=TODAY)
    before = counts()
    with pytest.raises(ApplicationError) as exc:
        beneficiary_add(acting_user=world.users["mutual_manager"], coverage=health.coverage,
                        person=other.head, relation="other", on=TODAY)
    assert exc.value.code == "relation_not_covered"
    with pytest.raises(ApplicationError) as exc:
        beneficiary_add(acting_user=world.users["mutual_manager"], coverage=health.coverage,
                        person=other.head, relation="spouse", on=TODAY)
    assert exc.value.code == "already_covered"
    assert counts() == before


# --- end and renewal --------------------------------------------------------------------------


def test_ending_a_coverage_stops_every_card_and_drops_unpaid_future_periods(world, health):
    cov = health.coverage
    cov = coverage_end(acting_user=world.users["mutual_manager"], coverage=cov,
                       reason="Famille partie à Kayes", on=TODAY)
    assert cov.status == "ended"
    assert cov.ended_on == TODAY
    assert set(Beneficiary.objects.filter(coverage=cov).values_list("until", flat=True)) == {
        TODAY}
    with pytest.raises(ApplicationError) as exc:
        coverage_end(acting_user=world.users["mutual_manager"], coverage=cov, reason="Encore")
    assert exc.value.code == "coverage_ended"


def test_renewal_opens_sixty_days_before_the_renewal_date(world, health):
    cov = health.coverage
    with pytest.raises(ApplicationError) as exc:
        coverage_renew(acting_user=world.users["mutual_manager"], coverage=cov, on=TODAY)
    assert exc.value.code == "renewal_too_early"
    Coverage.objects.filter(pk=cov.pk).update(renewal_due=TODAY + timedelta(days=10))
    result = coverage_renew(acting_user=world.users["mutual_manager"], coverage=cov, on=TODAY)
    assert result.coverage.renewal_due == date(2027, 11, 30)
    assert result.removed == []


def test_renewal_removes_a_child_past_the_age_limit(world, health):
    cov = health.coverage
    teen = person(world, first_name="Mahamane", last_name="Traoré", birth_year=2007,
                  birth_date=date(2007, 12, 1))
    beneficiary_add(acting_user=world.users["mutual_manager"], coverage=cov, person=teen,
                    relation="child", on=TODAY)  # 18 today
    Coverage.objects.filter(pk=cov.pk).update(renewal_due=date(2026, 12, 15))  # 19 by then
    result = coverage_renew(acting_user=world.users["mutual_manager"], coverage=cov, on=TODAY)
    assert [b.person_id for b in result.removed] == [teen.pk]
    assert Beneficiary.objects.get(person=teen).until == date(2026, 12, 14)
    assert result.coverage.renewal_due == date(2027, 12, 15)


# --- group enrolment --------------------------------------------------------------------------


def _worker(world, first: str, last: str, year: int):
    return register(world, unit=world.section_domestic, user="organiser", first_name=first,
                    last_name=last, sex="F", birth_year=year, village="Badalabougou",
                    cercle="Commune V", region="Bamako")


def test_group_enrolment_reports_each_person(world, health):
    agreement = group_agreement_create(
        acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
        package=health.package, partner=world.orgs.mtc, partner_unit=world.section_domestic,
        name="Travailleuses domestiques de la section", signed_on=TODAY - timedelta(days=30),
        waiting_waived=True)
    ok = _worker(world, "Sitan", "Samaké", 1998)
    no_consent = _worker(world, "Bintou", "Dao", 2001)
    for p in (ok,):
        consent_grant(acting_user=world.users["organiser"], person=p,
                      granted_to=world.orgs.utm, scope="identity",
                      purpose="Adhésion à la mutuelle par la section")
    kondo = register(world, unit=world.caisse_a, user="teller_a", first_name="Kadidia",
                     last_name="Fofana", sex="F", birth_year=1993)
    consent_grant(acting_user=world.users["teller_a"], person=kondo, granted_to=world.orgs.utm,
                  scope="identity", purpose="Mutuelle")
    results = group_enrol(acting_user=world.users["mutual_manager"], agreement=agreement,
                          persons=[ok.pk, no_consent.pk, kondo.pk, 10**9, ok.pk], on=TODAY)
    assert [(r.person_id, r.ok, r.code) for r in results] == [
        (ok.pk, True, ""), (no_consent.pk, False, "person_not_found"),
        (kondo.pk, False, "not_a_partner_member"), (10**9, False, "person_not_found"),
        (ok.pk, False, "listed_twice")]
    cov = results[0].coverage
    assert cov.agreement_id == agreement.pk
    assert cov.covered_from == TODAY  # waiting period waived by the agreement
    assert Membership.objects.filter(person=ok, organisation=world.orgs.utm,
                                     unit=world.mutual_1).exists()


def test_group_enrolment_needs_the_persons_consent(world, health):
    agreement = group_agreement_create(
        acting_user=world.users["union_admin"], mutual=world.mutual_1, package=health.package,
        partner=world.orgs.mtc, name="Section domestique", signed_on=TODAY)
    worker = _worker(world, "Bintou", "Dao", 2001)
    # The system administrator sees every record, yet the union may not take the person's
    # data from the movement without her consent.
    results = group_enrol(acting_user=world.users["admin"], agreement=agreement,
                          persons=[worker.pk], on=TODAY)
    assert (results[0].ok, results[0].code) == (False, "consent_missing")
    assert not Coverage.objects.filter(member=worker).exists()


# --- cards (pure) -----------------------------------------------------------------------------


@given(serial=st.integers(min_value=1, max_value=999_999),
       prefix=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=6))
def test_card_numbers_round_trip_through_what_people_type(serial, prefix):
    number = card_number(prefix, serial)
    assert normalise_card(number) == number
    assert normalise_card(number.lower().replace("-", " ")) == number


@given(serial=st.integers(min_value=1, max_value=999_999), position=st.integers(0, 6),
       delta=st.integers(1, 9))
def test_any_single_wrong_digit_is_caught(serial, position, delta):
    number = card_number("M01", serial)
    body = number[4:]
    wrong = str((int(body[position]) + delta) % 10)
    typo = "M01-" + body[:position] + wrong + body[position + 1:]
    with pytest.raises(CardNumberError):
        normalise_card(typo)


def test_card_shapes_refused():
    for text in ("", "M01", "M01-12345", "M01-00000A1", "--------", "M01-0000010X"):
        with pytest.raises(CardNumberError):
            normalise_card(text)
    assert luhn_digit("M01000001") == 0
    with pytest.raises(CardNumberError):
        card_number("M-01!", 1)
    with pytest.raises(CardNumberError):
        card_number("M01", 0)


# --- API --------------------------------------------------------------------------------------


def test_api_enrols_a_household_and_reports_the_skipped(world, health, client_for):
    family = make_family(world, children=1, too_old=1)
    c = client_for("mutual_manager")
    r = c.post("/api/v1/health/coverages", {
        "mutual_id": world.mutual_1.pk, "package_id": health.package.pk,
        "member_id": family.head.pk, "household_id": family.household.pk,
        "enrolled_on": TODAY.isoformat()}, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert [b["relation"] for b in body["beneficiaries"]] == ["head", "spouse", "child"]
    assert body["skipped"][0]["code"] == "AGE_LIMIT"
    assert body["skipped"][0]["person_id"] == family.too_old[0].pk
    assert body["covered_from"] == (TODAY + timedelta(days=90)).isoformat()


def test_api_refuses_over_age_child_and_unknown_person(world, health, client_for):
    family = make_family(world, children=0, too_old=1)
    c = client_for("mutual_manager")
    before = counts()
    r = c.post("/api/v1/health/coverages", {
        "mutual_id": world.mutual_1.pk, "package_id": health.package.pk,
        "member_id": family.head.pk,
        "dependants": [{"person_id": family.too_old[0].pk, "relation": "child"}]},
        content_type="application/json")
    assert r.status_code == 422
    assert r.json()["code"] == "age_limit"
    r = c.post("/api/v1/health/coverages", {
        "mutual_id": world.mutual_1.pk, "package_id": health.package.pk,
        "member_id": 999_999}, content_type="application/json")
    assert r.status_code == 404
    assert r.json()["code"] == "person_not_found"
    assert counts() == before


def test_api_adds_and_removes_a_beneficiary_and_ends_the_coverage(world, health, client_for):
    c = client_for("mutual_manager")
    baby = person(world, first_name="Nafissatou", last_name="Traoré", sex="F", birth_year=2026)
    r = c.post(f"/api/v1/health/coverages/{health.coverage.pk}/beneficiaries",
               {"person_id": baby.pk, "relation": "child"}, content_type="application/json")
    assert r.status_code == 201
    bid = r.json()["id"]
    r = c.post(f"/api/v1/health/beneficiaries/{bid}/remove", {"reason": "Erreur de saisie"},
               content_type="application/json")
    assert r.status_code == 200
    assert r.json()["until"] == TODAY.isoformat()
    r = c.post(f"/api/v1/health/coverages/{health.coverage.pk}/end",
               {"reason": "Départ"}, content_type="application/json")
    assert r.json()["status"] == "ended"
    assert SuspensionPeriod.objects.filter(coverage=health.coverage).count() == 0


def test_a_training_participant_becomes_an_active_member_when_enrolled(world, health):
    from jigi.people.services import person_register

    participant = person_register(
        acting_user=world.users["mutual_manager"], unit=world.mutual_1, first_name="Oumou",
        last_name="Sangaré", sex="F", birth_year=1990, phone="+22365443322",
        membership_status="pending")
    coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                   package=health.package, member=participant, dependants=[], on=TODAY)
    memberships = list(Membership.objects.filter(person=participant))
    assert [(m.status, m.unit_id) for m in memberships] == [("active", world.mutual_1.pk)]
