"""Mutual profiles and governance, the default packages (setup) and package settings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.health.models import BenefitPackage, BenefitRule, MutualProfile
from jigi.health.services import mutual_profile_save, package_create, package_update
from jigi.health.setup import health_setup
from tests.health.conftest import TODAY


def test_profile_created_then_changed_field_by_field(health):
    p = health.profile
    assert (p.area_kind, p.target_population, p.last_general_assembly) == (
        "urban", 12_000, date(2026, 3, 14))
    board = [{"person_id": health.family.head.pk, "office": "president", "since": "2024-03-02"},
             {"person_id": health.family.spouses[0].pk, "office": "treasurer"}]
    p = mutual_profile_save(acting_user=health.users["mutual_manager"],
                            mutual=health.world.mutual_1, board=board, target_population=15_000)
    assert p.board[0] == {"person_id": health.family.head.pk, "office": "president",
                          "since": "2024-03-02"}
    assert p.area == "Commune IV du District de Bamako"  # unchanged
    assert MutualProfile.objects.count() == 1
    event = AuditEvent.objects.filter(event_type="health.mutual_profile_saved").latest("pk")
    assert event.before["target_population"] == 12_000
    assert event.after["target_population"] == 15_000


def test_rural_mutual_profile_defaults_from_its_unit(health):
    p = mutual_profile_save(acting_user=health.users["manager_2"], mutual=health.world.mutual_2,
                            area="Cercle de Bla", target_population=30_000)
    assert p.area_kind == "rural"


@pytest.mark.parametrize(("fields", "bad"), [
    ({"area_kind": "suburban"}, "area_kind"),
    ({"target_population": -1}, "target_population"),
    ({"last_general_assembly": TODAY + timedelta(days=1)}, "last_general_assembly"),
    ({"board": [{"person_id": 10**9, "office": "president"}]}, "board.0.person_id"),
    ({"board": [{"person_id": 1, "office": "king"}]}, "board.0.office"),
    ({"colour": "green"}, "colour"),
])
def test_profile_bad_input(health, fields, bad):
    with pytest.raises(ApplicationError) as exc:
        mutual_profile_save(acting_user=health.users["mutual_manager"],
                            mutual=health.world.mutual_1, **fields)
    assert bad in exc.value.fields
    health.profile.refresh_from_db()
    assert health.profile.target_population == 12_000


def test_profile_roles(health):
    with pytest.raises(ApplicationError) as exc:
        mutual_profile_save(acting_user=health.users["claims_officer"],
                            mutual=health.world.mutual_1, area="x")
    assert exc.value.status_code == 403
    p = mutual_profile_save(acting_user=health.users["union_admin"],
                            mutual=health.world.mutual_1, approval_ref="AGR-2001-014")
    assert p.approval_ref == "AGR-2001-014"


# --- packages ---------------------------------------------------------------------------------


def test_setup_seeds_amv_and_rural_once(health):
    again = health_setup(organisation=health.world.orgs.utm)
    assert again["AMV"].pk == health.package.pk
    assert BenefitPackage.objects.filter(mutual__isnull=True).count() == 2
    amv = again["AMV"]
    assert (amv.card_fee, amv.contribution, amv.contribution_basis, amv.frequency,
            amv.child_max_age) == (2_500, 550, "per_person", "monthly", 18)
    shares = dict(BenefitRule.objects.filter(package=amv).values_list("group",
                                                                      "mutual_share_pct"))
    assert shares["consultation"] == 60
    assert shares["delivery_complicated"] == 75
    assert shares["hospitalisation"] == 75
    assert len(shares) == 9
    rural = again["RUR"]
    assert (rural.frequency, rural.season_months) == ("seasonal", [11, 12])


def test_union_wide_package_only_by_the_union_administrator(health):
    with pytest.raises(ApplicationError) as exc:
        package_create(acting_user=health.users["mutual_manager"],
                       organisation=health.world.orgs.utm, code="NEW", name="Nouveau",
                       contribution=500)
    assert exc.value.status_code == 403
    p = package_create(acting_user=health.users["union_admin"],
                       organisation=health.world.orgs.utm, code="fam", name="Forfait famille",
                       contribution=1_500, contribution_basis="per_family", frequency="yearly",
                       rules=[{"group": "consultation", "mutual_share_pct": 70}])
    assert (p.code, p.mutual_id, p.valid_from) == ("FAM", None, TODAY)


@pytest.mark.parametrize(("fields", "bad"), [
    ({"contribution": 0}, "contribution"),
    ({"contribution": 550.5}, "contribution"),
    ({"frequency": "seasonal"}, "season_months"),
    ({"frequency": "seasonal", "season_months": [13]}, "season_months"),
    ({"frequency": "weekly"}, "frequency"),
    ({"contribution_basis": "per_cow"}, "contribution_basis"),
    ({"waiting_days": -1}, "waiting_days"),
    ({"valid_from": date(2026, 1, 1), "valid_until": date(2025, 1, 1)}, "valid_until"),
    ({"rules": [{"group": "drugs", "mutual_share_pct": 120}]}, "rules.0.mutual_share_pct"),
    ({"rules": [{"group": "drugs", "mutual_share_pct": 60},
                {"group": "drugs", "mutual_share_pct": 70}]}, "rules.1.group"),
    ({"rules": [{"group": "drugs", "mutual_share_pct": 60, "min_age": 50, "max_age": 10}]},
     "rules.0.max_age"),
    ({"rules": [{"group": "drugs", "mutual_share_pct": 60, "ceiling_per_year": -5}]},
     "rules.0.ceiling_per_year"),
])
def test_package_bad_settings(health, fields, bad):
    data = {"name": "Essai", "contribution": 500} | fields
    before = BenefitPackage.objects.count()
    with pytest.raises(ApplicationError) as exc:
        package_create(acting_user=health.users["mutual_manager"],
                       organisation=health.world.orgs.utm, mutual=health.world.mutual_1,
                       code="TRY", **data)
    assert bad in exc.value.fields
    assert BenefitPackage.objects.count() == before


def test_package_code_unique_per_mutual(health):
    kw = {"acting_user": health.users["mutual_manager"], "organisation": health.world.orgs.utm,
          "mutual": health.world.mutual_1, "name": "X", "contribution": 100}
    package_create(code="M1", **kw)
    with pytest.raises(ApplicationError) as exc:
        package_create(code="M1", **kw)
    assert exc.value.code == "package_code_taken"


def test_package_update_replaces_rules_and_is_audited(health):
    p = package_update(acting_user=health.users["union_admin"], package=health.package,
                       contribution_basis="per_family", grace_days=30,
                       rules=[{"group": "consultation", "mutual_share_pct": 70}])
    assert (p.contribution_basis, p.grace_days) == ("per_family", 30)
    assert list(p.rules.values_list("group", "mutual_share_pct")) == [("consultation", 70)]
    assert AuditEvent.objects.filter(event_type="health.package_updated").exists()
    with pytest.raises(ApplicationError) as exc:
        package_update(acting_user=health.users["mutual_manager"], package=health.package,
                       grace_days=10)
    assert exc.value.status_code == 403


# --- API --------------------------------------------------------------------------------------


def test_api_mutual_profile_and_packages(health, client_for):
    c = client_for("mutual_manager")
    r = c.patch(f"/api/v1/health/mutuals/{health.world.mutual_1.pk}",
                {"target_population": 14_000,
                 "board": [{"person_id": health.family.head.pk, "office": "president",
                            "since": "2025-01-10"}]}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["profile"]["target_population"] == 14_000
    assert r.json()["profile"]["board"][0]["since"] == "2025-01-10"
    r = c.get("/api/v1/health/packages", {"mutual_id": health.world.mutual_1.pk})
    assert {p["code"] for p in r.json()} == {"AMV", "RUR"}
    amv = next(p for p in r.json() if p["code"] == "AMV")
    assert {x["group"]: x["copay_pct"] for x in amv["rules"]}["consultation"] == 40
    r = c.post("/api/v1/health/packages", {
        "code": "PLUS", "mutual_id": health.world.mutual_1.pk, "name": "Complémentaire",
        "contribution": "300", "rules": [{"group": "surgery", "mutual_share_pct": 90,
                                          "ceiling_per_event": "250 000"}]},
        content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["rules"][0]["ceiling_per_event"] == 250_000
    r = c.patch(f"/api/v1/health/packages/{r.json()['id']}", {"waiting_days": 30},
                content_type="application/json")
    assert r.json()["waiting_days"] == 30
    r = c.post("/api/v1/health/packages", {"code": "BAD", "name": "x", "contribution": -1},
               content_type="application/json")
    assert r.status_code in (403, 422)


def test_api_day_run(health, client_for):
    r = client_for("mutual_manager").post(
        f"/api/v1/health/mutuals/{health.world.mutual_1.pk}/day-runs", {"on": "2026-11-20"},
        content_type="application/json")
    assert r.status_code == 200
    assert r.json()["checked"] == 1
    assert r.json()["suspended"] == []
    r = client_for("claims_officer").post(
        f"/api/v1/health/mutuals/{health.world.mutual_1.pk}/day-runs", {"on": "2026-11-20"},
        content_type="application/json")
    assert r.status_code == 403


def test_cli_setup_and_day(health):
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("health", "setup", stdout=out)
    assert json.loads(out.getvalue()) == {"UTM": ["AMV", "RUR"]}
    out = io.StringIO()
    call_command("health", "day", "--on", "2026-11-20", "--mutual", "M01", stdout=out)
    (day,) = json.loads(out.getvalue())
    assert (day["mutual"], day["checked"], day["suspended"]) == ("M01", 1, [])


def test_admin_lists_coverages_read_only(health, client_for):
    c = client_for("admin")
    r = c.get("/admin/health/coverage/")
    assert r.status_code == 200
    assert health.coverage.number in r.content.decode()
    assert c.get("/admin/health/coverage/add/").status_code == 403
