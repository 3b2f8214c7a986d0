from __future__ import annotations

import pytest

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.models import AuditEvent
from jigi.orgs.models import Role, StaffRole, Unit
from jigi.orgs.scoping import user_scope
from jigi.orgs.selectors import get_unit_for_user
from jigi.orgs.services import api_token_create, role_grant, role_revoke


def test_teller_scope_covers_only_her_caisse(world):
    scope = user_scope(world.users["teller_a"])
    assert scope.covers_unit(world.caisse_a)
    assert scope.covers_unit(world.caisse_a, write=True)
    assert not scope.covers_unit(world.caisse_b)
    assert not scope.covers_unit(world.mutual_1)
    assert set(scope.units().values_list("code", flat=True)) == {"C001"}


def test_region_scope_covers_the_caisses_below_it(world):
    kondo = world.orgs.kondo
    role_grant(user=world.users["teller_b"], organisation=kondo, role=Role.CAISSE_MANAGER,
               unit=world.region_segou)
    world.users["teller_b"]._jigi_scope = None
    del world.users["teller_b"]._jigi_scope
    scope = user_scope(world.users["teller_b"])
    assert scope.covers_unit(world.caisse_a)  # Niono is in the Ségou region
    assert scope.covers_unit(world.caisse_b)  # her own caisse still


def test_auditor_reads_all_kondo_and_writes_nothing(world):
    scope = user_scope(world.users["auditor"])
    kondo_units = Unit.objects.filter(organisation=world.orgs.kondo).count()
    assert scope.units().count() == kondo_units
    assert scope.covers_unit(world.caisse_b)
    assert not scope.covers_unit(world.caisse_b, write=True)
    assert scope.units(write=True).count() == 0
    assert not scope.covers_unit(world.mutual_1)


def test_health_data_only_for_health_roles(world):
    assert user_scope(world.users["mutual_manager"]).sees_health_data
    assert user_scope(world.users["clinic"]).sees_health_data
    assert not user_scope(world.users["teller_a"]).sees_health_data
    assert not user_scope(world.users["organiser"]).sees_health_data
    assert not user_scope(world.users["auditor"]).sees_health_data


def test_get_unit_for_user_hides_other_units_as_not_found(world):
    assert get_unit_for_user(world.users["teller_a"], world.caisse_a.pk) == world.caisse_a
    with pytest.raises(NotFound):
        get_unit_for_user(world.users["teller_a"], world.caisse_b.pk)
    with pytest.raises(NotFound):
        get_unit_for_user(world.users["mutual_manager"], world.caisse_a.pk)
    with pytest.raises(NotFound):
        get_unit_for_user(world.users["teller_a"], 999_999)


def test_a_role_must_belong_to_the_organisation_kind(world):
    before = StaffRole.objects.count()
    with pytest.raises(ApplicationError) as exc:
        role_grant(user=world.users["teller_a"], organisation=world.orgs.utm, role=Role.TELLER)
    assert exc.value.code == "role_wrong_org"
    with pytest.raises(ApplicationError) as exc:
        role_grant(user=world.users["teller_a"], organisation=world.orgs.kondo,
                   role=Role.TELLER, unit=world.mutual_1)
    assert exc.value.code == "role_unit_other_org"
    assert StaffRole.objects.count() == before


def test_granting_and_revoking_a_role_is_audited(world):
    admin = world.users["admin"]
    sr = role_grant(user=world.users["teller_a"], organisation=world.orgs.kondo,
                    role=Role.LOAN_OFFICER, unit=world.caisse_a, acting_user=admin)
    assert AuditEvent.objects.filter(event_type="role.granted", subject_id=str(sr.pk),
                                     actor=admin).exists()
    role_revoke(staff_role=sr, acting_user=admin)
    ev = AuditEvent.objects.get(event_type="role.revoked", subject_id=str(sr.pk))
    assert ev.before == {"revoked_at": None}
    assert ev.after["revoked_at"] is not None


def test_units_api_lists_only_what_the_user_may_see(world, client_for):
    codes = {u["code"] for u in client_for("teller_a").get("/api/v1/orgs/units").json()}
    assert codes == {"C001"}
    r = client_for("teller_a").get(f"/api/v1/orgs/units/{world.caisse_b.pk}")
    assert r.status_code == 404
    assert r.json()["code"] == "unit_not_found"
    utm_codes = {u["code"] for u in client_for("mutual_manager").get("/api/v1/orgs/units").json()}
    assert utm_codes == {"M01"}


def test_api_requires_authentication(client, world):
    r = client.get("/api/v1/orgs/units")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"


def test_bearer_token_authenticates_and_a_wrong_one_does_not(client, world):
    _, raw = api_token_create(user=world.users["teller_a"], name="test")
    ok = client.get("/api/v1/orgs/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert ok.status_code == 200
    assert ok.json()["username"] == "teller_a"
    assert ok.json()["grants"][0]["role"] == "teller"
    bad = client.get("/api/v1/orgs/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.status_code == 401


def test_token_clients_need_no_csrf_but_sessions_do(world):
    from django.test import Client

    from tests.conftest import PASSWORD

    _, raw = api_token_create(user=world.users["teller_a"], name="gateway")
    strict = Client(enforce_csrf_checks=True)
    r = strict.post("/api/v1/people/", {"unit_id": world.caisse_a.pk},
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 422  # authenticated, validated: no CSRF wall for a token
    session = Client(enforce_csrf_checks=True)
    assert session.login(username="teller_a", password=PASSWORD)
    r = session.post("/api/v1/people/", {"unit_id": world.caisse_a.pk},
                     content_type="application/json")
    assert r.status_code == 403
