"""Eligibility at the point of care: by card or phone, for a date and a service group; every
reason why not; who may check; a bounded number of queries; the pure decision under
hypothesis."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from hypothesis import given
from hypothesis import strategies as st

from jigi.core.errors import ApplicationError, Forbidden
from jigi.health import eligibility as el
from jigi.health.cards import card_number
from jigi.health.models import BenefitUsage
from jigi.health.selectors import eligibility_check
from jigi.health.services import (
    beneficiary_remove,
    coverage_end,
    coverage_enrol,
    package_create,
    provider_create,
)
from tests.health.conftest import TODAY, make_family


def _check(health, user="clinic", **kw):
    return eligibility_check(health.users[user], **kw)


def _codes(match_or_answer):
    decision = getattr(match_or_answer, "decision", None)
    reasons = decision.reasons if decision else match_or_answer.reasons
    return [r.code for r in reasons]


def test_covered_member_with_copayments_per_group(health):
    answer = _check(health, card=health.head.card_number)
    assert answer.covered
    (m,) = answer.matches
    assert m.beneficiary.pk == health.head.pk
    groups = {g.group: g for g in m.decision.groups}
    assert (groups["consultation"].mutual_share_pct, groups["consultation"].copay_pct) == (60,
                                                                                         40)
    assert groups["delivery_complicated"].copay_pct == 25
    assert groups["drugs"].remaining_this_year == 100_000
    assert m.age == 2026 - health.family.head.birth_year


def test_card_typed_with_spaces_and_lower_case_is_found(health):
    typed = health.spouses[0].card_number.lower().replace("-", " ")
    assert _check(health, card=typed).matches[0].beneficiary.pk == health.spouses[0].pk


def test_typing_error_and_non_card_are_refused_before_lookup(health):
    good = health.head.card_number
    typo = good[:-2] + str((int(good[-2]) + 1) % 10) + good[-1]
    with pytest.raises(ApplicationError) as exc:
        _check(health, card=typo)
    assert exc.value.status_code == 422
    assert "clé de contrôle" in str(exc.value.fields["card"])
    with pytest.raises(ApplicationError):
        _check(health, card="bonjour")
    with pytest.raises(ApplicationError):
        _check(health)  # neither card nor phone
    with pytest.raises(ApplicationError):
        _check(health, card=good, group="massage")


def test_unknown_card_is_not_a_beneficiary(health):
    answer = _check(health, card=card_number("M01", 999_999))
    assert not answer.covered
    assert answer.matches == []
    assert _codes(answer) == ["NOT_A_BENEFICIARY"]


def test_phone_lists_the_whole_family_of_the_member(health):
    answer = _check(health, phone=health.family.head.phone.replace("+223", "00223 "))
    assert sorted(m.beneficiary.pk for m in answer.matches) == sorted(
        b.pk for b in health.beneficiaries)
    wife = _check(health, phone=health.family.spouses[0].phone)
    assert [m.beneficiary.pk for m in wife.matches] == [health.spouses[0].pk]
    with pytest.raises(ApplicationError) as exc:
        _check(health, phone="12345")
    assert "phone" in exc.value.fields


def test_waiting_period_after_enrolment(world, health):
    family = make_family(world, children=0)
    result = coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                            package=health.package, member=family.head, on=TODAY)
    answer = _check(health, card=result.beneficiaries[0].card_number)
    reasons = answer.matches[0].decision.reasons
    assert [(r.code, r.until) for r in reasons] == [("WAITING_PERIOD",
                                                     TODAY + timedelta(days=90))]
    assert _check(health, card=result.beneficiaries[0].card_number,
                  on=TODAY + timedelta(days=90)).covered


def test_ended_coverage_and_removed_beneficiary(world, health):
    beneficiary_remove(acting_user=world.users["mutual_manager"], beneficiary=health.spouses[1],
                       reason="Divorce", on=TODAY - timedelta(days=10))
    assert _codes(_check(health, card=health.spouses[1].card_number).matches[0]) == ["ENDED"]
    # Care before she left is still covered (a claim entered late).
    assert _check(health, card=health.spouses[1].card_number,
                  on=TODAY - timedelta(days=20)).covered
    coverage_end(acting_user=world.users["mutual_manager"], coverage=health.coverage,
                 reason="Départ", on=TODAY - timedelta(days=1))
    assert _codes(_check(health, card=health.head.card_number).matches[0]) == ["ENDED"]


def test_before_enrolment_is_not_a_beneficiary(health):
    answer = _check(health, card=health.head.card_number, on=date(2026, 1, 1))
    assert _codes(answer.matches[0]) == ["NOT_A_BENEFICIARY"]


def test_child_over_the_age_limit(health):
    eldest = health.children[0]  # born 14 years before 2026
    assert _check(health, card=eldest.card_number).covered
    answer = _check(health, card=eldest.card_number, on=date(2031, 6, 1))
    assert _codes(answer.matches[0]) == ["AGE_LIMIT"]


def test_service_group_not_in_package_and_group_age_limits(world, health):
    package = package_create(
        acting_user=world.users["mutual_manager"], organisation=world.orgs.utm,
        mutual=world.mutual_1, code="MAT", name="Maternité", contribution=300, waiting_days=0,
        rules=[{"group": "antenatal", "mutual_share_pct": 80, "min_age": 12, "max_age": 49},
               {"group": "consultation", "mutual_share_pct": 0}])
    family = make_family(world, children=0)
    wife = coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                          package=package, member=family.spouses[0], on=TODAY
                          ).beneficiaries[0]
    assert _check(health, card=wife.card_number, group="antenatal").covered
    assert _codes(_check(health, card=wife.card_number, group="surgery").matches[0]) == [
        "SERVICE_NOT_COVERED"]
    assert _codes(_check(health, card=wife.card_number, group="consultation").matches[0]) == [
        "SERVICE_NOT_COVERED"]
    later = _check(health, card=wife.card_number, group="antenatal", on=date(2040, 1, 1))
    assert _codes(later.matches[0]) == ["AGE_LIMIT"]


def test_yearly_ceiling_reached(health):
    BenefitUsage.objects.create(beneficiary=health.head, year=2026, group="drugs",
                                amount=100_000)
    BenefitUsage.objects.create(beneficiary=health.head, year=2025, group="lab", amount=50_000)
    answer = _check(health, card=health.head.card_number, group="drugs")
    assert _codes(answer.matches[0]) == ["CEILING_REACHED"]
    assert _check(health, card=health.head.card_number, group="lab").covered
    assert _check(health, card=health.head.card_number, group="drugs",
                  on=date(2027, 1, 5)).covered  # a new year


def test_provider_in_network(world, health):
    assert _check(health, card=health.head.card_number,
                  provider=health.provider).matches[0].in_network is True
    other = provider_create(acting_user=world.users["union_admin"], code="PHARMA-1",
                            name="Pharmacie du Fleuve", kind="pharmacy")
    answer = _check(health, user="mutual_manager", card=health.head.card_number,
                    provider=other)
    assert answer.matches[0].in_network is False


# --- who may check ----------------------------------------------------------------------------


def test_clinic_staff_check_any_card_of_the_union(health):
    assert _check(health, card=health.other_beneficiary.card_number).covered


def test_clinic_staff_without_a_provider_or_for_another_provider_are_refused(world, health):
    with pytest.raises(Forbidden) as exc:
        _check(health, user="clinic_2", card=health.head.card_number)
    assert exc.value.code == "no_provider"
    other = provider_create(acting_user=world.users["union_admin"], code="CSREF-4",
                            name="CSRef de la Commune IV", kind="csref")
    with pytest.raises(Forbidden) as exc:
        _check(health, card=health.head.card_number, provider=other)
    assert exc.value.code == "not_your_provider"


def test_mutual_staff_see_only_their_mutuals_cards(health):
    assert _check(health, user="mutual_manager", card=health.head.card_number).covered
    assert _check(health, user="claims_officer", card=health.head.card_number).covered
    assert _check(health, user="mutual_manager",
                  card=health.other_beneficiary.card_number).matches == []
    assert _check(health, user="manager_2", card=health.head.card_number).matches == []
    assert _check(health, user="union_admin", card=health.other_beneficiary.card_number).covered


@pytest.mark.parametrize("username", ["teller_a", "organiser", "auditor"])
def test_other_organisations_staff_are_refused(health, username):
    with pytest.raises(Forbidden):
        _check(health, user=username, card=health.head.card_number)


def test_a_check_costs_a_bounded_number_of_queries(health, django_assert_max_num_queries):
    user = get_user_model().objects.get(username="clinic")  # no cached scope
    with django_assert_max_num_queries(7):
        answer = eligibility_check(user, card=health.head.card_number,
                                   provider=health.provider, group="drugs")
    assert answer.covered
    user = get_user_model().objects.get(username="clinic")
    with django_assert_max_num_queries(9):
        answer = eligibility_check(user, phone=health.family.head.phone)
    assert len(answer.matches) == 6


# --- API --------------------------------------------------------------------------------------


def test_api_eligibility_by_card(health, client_for):
    r = client_for("clinic").get("/api/v1/health/eligibility", {
        "card": health.children[1].card_number, "group": "delivery_complicated",
        "provider_id": health.provider.pk})
    assert r.status_code == 200
    body = r.json()
    assert body["covered"] is True
    (m,) = body["matches"]
    assert m["relation"] == "child"
    assert m["in_network"] is True
    assert {g["group"]: g["copay_pct"] for g in m["groups"]}["delivery_complicated"] == 25
    assert "payments" not in m
    assert "claims" not in m


def test_api_eligibility_reasons_have_codes_and_messages(world, health, client_for):
    family = make_family(world, children=0)
    b = coverage_enrol(acting_user=world.users["mutual_manager"], mutual=world.mutual_1,
                       package=health.package, member=family.head, on=TODAY).beneficiaries[0]
    r = client_for("clinic").get("/api/v1/health/eligibility", {"card": b.card_number})
    body = r.json()
    assert body["covered"] is False
    assert body["reasons"][0]["code"] == "WAITING_PERIOD"
    assert body["reasons"][0]["until"] == (TODAY + timedelta(days=90)).isoformat()
    assert "2027-02-18" in body["reasons"][0]["message"]


def test_api_eligibility_refusals(health, client_for):
    r = client_for("teller_a").get("/api/v1/health/eligibility",
                                   {"card": health.head.card_number})
    assert r.status_code == 403
    r = client_for("organiser").get("/api/v1/health/eligibility",
                                    {"card": health.head.card_number})
    assert r.status_code == 403
    r = client_for("clinic").get("/api/v1/health/eligibility", {"card": "M01-0000011"})
    assert r.status_code == 422
    r = client_for("clinic").get("/api/v1/health/eligibility", {"phone": "+22376000000"})
    assert r.status_code == 200
    assert r.json()["reasons"][0]["code"] == "NOT_A_BENEFICIARY"


# --- the pure decision ------------------------------------------------------------------------

RULES = {"consultation": el.Rule("consultation", 60),
         "drugs": el.Rule("drugs", 60, 25_000, 100_000),
         "antenatal": el.Rule("antenatal", 80, min_age=12, max_age=49)}


def _facts(**kw) -> el.Facts:
    base = dict(on=date(2026, 11, 20), relation="spouse", since=date(2026, 5, 4), until=None,
                age=30, age_at_since=30, enrolled_on=date(2026, 5, 4),
                covered_from=date(2026, 8, 2), ended_on=None, waiting_days=90,
                waiting_waived=False, child_max_age=18, rules=RULES)
    base.update(kw)
    return el.Facts(**base)


@given(on=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
       age=st.integers(0, 90), relation=st.sampled_from(["head", "spouse", "child", "other"]),
       used=st.integers(0, 200_000), group=st.sampled_from([None, "drugs", "antenatal",
                                                            "surgery"]),
       suspended=st.booleans())
def test_decision_is_consistent(on, age, relation, used, group, suspended):
    f = _facts(on=on, age=age, relation=relation, usage={"drugs": used},
               suspensions=(el.Suspension(date(2027, 1, 1), None),) if suspended else ())
    d = el.decide(f, group)
    assert d.covered == (not d.reasons)
    assert all(g.copay_pct + g.mutual_share_pct == 100 for g in d.groups)
    for r in d.reasons:
        if r.code == el.WAITING_PERIOD:
            assert r.until > on
    codes = {r.code for r in d.reasons}
    if on < date(2026, 5, 4):
        assert codes == {el.NOT_A_BENEFICIARY}
    if on >= date(2026, 8, 2) and not (suspended and on >= date(2027, 1, 1)) and (
            relation != "child" or age <= 18) and group in (None, "drugs") and (
            group is None or used < 100_000):
        assert d.covered


def test_added_later_waits_unless_a_baby_or_waived():
    later = date(2026, 10, 1)
    assert el.beneficiary_covered_from(_facts(since=later)) == later + timedelta(days=90)
    assert el.beneficiary_covered_from(_facts(since=later, age_at_since=0)) == later
    assert el.beneficiary_covered_from(_facts(since=later, waiting_waived=True)) == later
    waiting = el.decide(_facts(since=later, on=date(2026, 11, 1)))
    assert [(r.code, r.until) for r in waiting.reasons] == [(el.WAITING_PERIOD,
                                                             date(2026, 12, 30))]


def test_api_eligibility_with_an_unknown_or_foreign_provider(world, health, client_for):
    c = client_for("clinic")
    r = c.get("/api/v1/health/eligibility", {"card": health.head.card_number,
                                             "provider_id": 999_999})
    assert r.status_code == 404
    assert r.json()["code"] == "provider_not_found"
    other = provider_create(acting_user=world.users["union_admin"], code="CSREF-5",
                            name="CSRef de la Commune V", kind="csref")
    r = c.get("/api/v1/health/eligibility", {"card": health.head.card_number,
                                             "provider_id": other.pk})
    assert r.status_code == 403
    assert r.json()["code"] == "not_your_provider"
    r = client_for("mutual_manager").get("/api/v1/health/eligibility", {
        "card": health.head.card_number, "provider_id": other.pk})
    assert r.json()["matches"][0]["in_network"] is False
