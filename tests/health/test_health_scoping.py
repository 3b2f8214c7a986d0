"""Who sees and changes the UTM coverage side: health roles of the mutual (and the union
administrator for all mutuals) read and write; clinic staff check eligibility only; another
mutual's data is a 404; a Kondo teller, a Kondo auditor or an MTC organiser see nothing (404 for
objects, empty lists, 403 for the eligibility check)."""

from __future__ import annotations

import pytest

from jigi.core.errors import ApplicationError
from jigi.health.models import Contribution
from jigi.health.selectors import (
    coverage_list,
    get_contribution_for_user,
    get_coverage_for_user,
    get_mutual_visible,
    mutuals_visible,
    packages_visible,
)
from jigi.health.services import beneficiary_remove, coverage_end, mutual_profile_save
from tests.health.conftest import counts

OUTSIDERS = ["teller_a", "manager_a", "auditor", "organiser"]


def _urls(health) -> list[str]:
    cov = health.coverage.pk
    contribution = Contribution.objects.filter(coverage=health.coverage).first().pk
    return [f"/api/v1/health/coverages/{cov}", f"/api/v1/health/coverages/{cov}/dues",
            f"/api/v1/health/coverages/{cov}/contributions",
            f"/api/v1/health/coverages/{cov}/standing-orders",
            f"/api/v1/health/contributions/{contribution}",
            f"/api/v1/health/mutuals/{health.world.mutual_1.pk}"]


@pytest.mark.parametrize("username", OUTSIDERS)
def test_other_organisations_get_404_on_health_objects(health, client_for, username):
    c = client_for(username)
    for url in _urls(health):
        r = c.get(url)
        assert r.status_code == 404, url
        assert r.json()["code"].endswith("not_found")


@pytest.mark.parametrize("username", OUTSIDERS)
def test_other_organisations_get_empty_lists(health, client_for, username):
    c = client_for(username)
    for url in ("/api/v1/health/coverages", "/api/v1/health/mutuals",
                "/api/v1/health/packages", "/api/v1/health/agreements",
                "/api/v1/health/providers"):
        r = c.get(url)
        assert r.status_code == 200
        assert r.json() == [], url


@pytest.mark.parametrize("username", OUTSIDERS)
def test_other_organisations_cannot_write(health, client_for, username):
    c = client_for(username)
    before = counts()
    r = c.post(f"/api/v1/health/coverages/{health.coverage.pk}/contributions",
               {"amount": 550}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="x")
    assert r.status_code == 404
    r = c.post("/api/v1/health/coverages", {
        "mutual_id": health.world.mutual_1.pk, "package_id": health.package.pk,
        "member_id": health.family.head.pk}, content_type="application/json")
    assert r.status_code == 404
    assert counts() == before


def test_clinic_staff_see_no_coverage_nor_payments(health, client_for):
    c = client_for("clinic")
    for url in _urls(health):
        assert c.get(url).status_code == 404, url
    assert c.get("/api/v1/health/coverages").json() == []
    # ... but check the card.
    r = c.get("/api/v1/health/eligibility", {"card": health.head.card_number})
    assert r.json()["covered"] is True


def test_another_mutuals_manager_gets_404(health, client_for):
    c = client_for("manager_2")
    for url in _urls(health):
        assert c.get(url).status_code == 404, url
    assert [x["number"] for x in c.get("/api/v1/health/coverages").json()] == [
        health.other_coverage.number]
    before = counts()
    with pytest.raises(ApplicationError) as exc:
        coverage_end(acting_user=health.users["manager_2"], coverage=health.coverage,
                     reason="Essai")
    assert exc.value.status_code == 404
    with pytest.raises(ApplicationError) as exc:
        beneficiary_remove(acting_user=health.users["manager_2"], beneficiary=health.spouses[0],
                           reason="Essai")
    assert exc.value.status_code == 404
    with pytest.raises(ApplicationError) as exc:
        mutual_profile_save(acting_user=health.users["manager_2"], mutual=health.world.mutual_1,
                            area="Ailleurs")
    assert exc.value.status_code == 404
    assert counts() == before


def test_claims_officer_reads_but_does_not_collect(health, client_for):
    c = client_for("claims_officer")
    assert c.get(f"/api/v1/health/coverages/{health.coverage.pk}").status_code == 200
    r = c.post(f"/api/v1/health/coverages/{health.coverage.pk}/contributions",
               {"amount": 550}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="x")
    assert r.status_code == 403


def test_union_administrator_sees_every_mutual(health):
    admin = health.users["union_admin"]
    assert {u.code for u in mutuals_visible(admin)} == {"M01", "M02"}
    assert {c.number for c in coverage_list(admin)} == {health.coverage.number,
                                                        health.other_coverage.number}
    assert get_coverage_for_user(admin, health.other_coverage.pk).pk == health.other_coverage.pk


def test_selectors_refuse_outsiders(health):
    teller = health.users["teller_a"]
    for get, pk in ((get_coverage_for_user, health.coverage.pk),
                    (get_mutual_visible, health.world.mutual_1.pk),
                    (get_contribution_for_user, Contribution.objects.first().pk)):
        with pytest.raises(ApplicationError) as exc:
            get(teller, pk)
        assert exc.value.status_code == 404
    assert not packages_visible(teller).exists()
    assert not coverage_list(teller).exists()


@pytest.mark.parametrize("pk", ["abc", "0", "-1", "99999999999999999999999"])
def test_absurd_ids_are_404_not_500(health, client_for, pk):
    r = client_for("mutual_manager").get(f"/api/v1/health/coverages/{pk}")
    assert r.status_code in (404, 422)


def test_anonymous_is_401(health, client):
    assert client.get("/api/v1/health/coverages").status_code == 401
    assert client.get("/api/v1/health/eligibility",
                      {"card": health.head.card_number}).status_code == 401


def test_coverage_search_by_number_card_or_name(health):
    manager = health.users["mutual_manager"]
    head = health.family.head
    assert [c.pk for c in coverage_list(manager, q=health.coverage.number.lower())] == [
        health.coverage.pk]
    assert [c.pk for c in coverage_list(manager, q=health.children[0].card_number)] == [
        health.coverage.pk]
    assert [c.pk for c in coverage_list(manager, q=f"{head.first_name.upper()} TRAORE")] == [
        health.coverage.pk]
    assert list(coverage_list(manager, q=health.other_beneficiary.card_number)) == []
