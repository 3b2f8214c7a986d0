"""Providers, their clinic staff, conventions per mutual or union-wide with their tariffs, and
`tariff_for` (the convention in force, the mutual's own overriding the union's)."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.health.models import Convention, Provider, TariffItem
from jigi.health.selectors import tariff_for
from jigi.health.services import (
    convention_create,
    convention_update,
    provider_create,
    provider_staff_link,
    provider_staff_unlink,
    provider_update,
    tariff_item_save,
)
from tests.health.conftest import TODAY

ITEM = {"code": "CONS", "label": "Consultation", "kind": "act", "group": "consultation",
        "price": 2_000, "max_quantity": 1}


def _provider(health, code="CSREF-K", user="union_admin", **kw):
    data = {"name": "CSRef de Kati", "kind": "csref", "region": "Koulikoro", "cercle": "Kati"}
    data.update(kw)
    return provider_create(acting_user=health.users[user], code=code, **data)


# --- providers --------------------------------------------------------------------------------


def test_provider_registered_with_its_place(health):
    p = _provider(health, phone="76 12 34 56")
    assert (p.code, p.kind, p.cercle, p.phone) == ("CSREF-K", "csref", "Kati", "+22376123456")
    assert p.organisation_id == health.world.orgs.utm.pk
    assert AuditEvent.objects.filter(event_type="health.provider_created",
                                     subject_id=str(p.pk)).exists()


def test_a_mutual_manager_may_register_a_provider_but_not_clinic_staff(health):
    assert _provider(health, user="mutual_manager").pk
    with pytest.raises(ApplicationError) as exc:
        _provider(health, code="X1", user="clinic")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        _provider(health, code="X2", user="teller_a")
    assert exc.value.status_code == 404


@pytest.mark.parametrize(("field", "value"), [("kind", "sorcier"), ("phone", "12"),
                                              ("name", ""), ("name", "x" * 201)])
def test_provider_bad_input(health, field, value):
    before = Provider.objects.count()
    with pytest.raises(ApplicationError) as exc:
        _provider(health, **{field: value})
    assert field in exc.value.fields
    assert Provider.objects.count() == before


def test_provider_code_is_unique(health):
    with pytest.raises(ApplicationError) as exc:
        _provider(health, code="cscom-ham")
    assert exc.value.code == "provider_code_taken"


def test_provider_update_and_deactivate(health):
    p = provider_update(acting_user=health.users["union_admin"], provider=health.provider,
                        name="CSCom ASACOHAM", active=False)
    assert (p.name, p.active) == ("CSCom ASACOHAM", False)
    with pytest.raises(ApplicationError):
        provider_update(acting_user=health.users["union_admin"], provider=p, colour="blue")


def test_clinic_staff_linked_and_unlinked(health):
    p = _provider(health)
    provider_staff_link(acting_user=health.users["union_admin"], provider=p,
                        user=health.users["clinic_2"])
    assert list(p.staff.values_list("username", flat=True)) == ["clinic_2"]
    with pytest.raises(ApplicationError) as exc:
        provider_staff_link(acting_user=health.users["union_admin"], provider=p,
                            user=health.users["clinic_2"])
    assert exc.value.code == "already_linked"
    with pytest.raises(ApplicationError) as exc:
        provider_staff_link(acting_user=health.users["union_admin"], provider=p,
                            user=health.users["teller_a"])
    assert "user" in exc.value.fields
    provider_staff_unlink(acting_user=health.users["union_admin"], provider=p,
                          user=health.users["clinic_2"])
    assert not p.staff.exists()


# --- conventions and tariff_for ---------------------------------------------------------------


def test_union_wide_convention_is_the_tariff_of_every_mutual(health):
    for mutual in (health.world.mutual_1, health.world.mutual_2, None):
        t = tariff_for(health.provider, mutual, TODAY)
        assert t.convention.pk == health.convention.pk
    t = tariff_for(health.provider, health.world.mutual_1, TODAY)
    assert len(t.items) == 13
    assert t.item("para").price == 25
    assert t.item("ACT").max_quantity == 2
    assert t.tolerance_pct == 50
    assert t.item("NOPE") is None


def test_mutual_convention_overrides_the_unions_while_in_force(health):
    own = convention_create(
        acting_user=health.users["mutual_manager"], provider=health.provider,
        mutual=health.world.mutual_1, reference="M01-HAM-2026", valid_from=date(2026, 7, 1),
        valid_until=date(2026, 12, 31), items=[dict(ITEM, price=1_750)])
    assert tariff_for(health.provider, health.world.mutual_1, TODAY).convention.pk == own.pk
    assert tariff_for(health.provider, health.world.mutual_1, TODAY).item("CONS").price == 1_750
    assert tariff_for(health.provider, health.world.mutual_2, TODAY).convention.pk == \
        health.convention.pk
    assert tariff_for(health.provider, health.world.mutual_1,
                      date(2027, 1, 1)).convention.pk == health.convention.pk
    assert tariff_for(health.provider, health.world.mutual_1,
                      date(2026, 6, 30)).convention.pk == health.convention.pk


def test_no_convention_means_no_tariff(health):
    p = _provider(health)
    assert tariff_for(p, health.world.mutual_1, TODAY) is None
    c = convention_create(acting_user=health.users["union_admin"], provider=p,
                          reference="K-1", valid_from=date(2026, 1, 1),
                          valid_until=date(2026, 6, 30), items=[ITEM])
    assert tariff_for(p, health.world.mutual_1, date(2026, 3, 1)).convention.pk == c.pk
    assert tariff_for(p, health.world.mutual_1, TODAY) is None


def test_union_wide_convention_only_by_the_union_administrator(health):
    with pytest.raises(ApplicationError) as exc:
        convention_create(acting_user=health.users["mutual_manager"], provider=health.provider,
                          reference="X", valid_from=date(2027, 1, 1))
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        convention_create(acting_user=health.users["manager_2"], provider=health.provider,
                          mutual=health.world.mutual_1, reference="X",
                          valid_from=date(2027, 1, 1))
    assert exc.value.status_code == 404


def test_overlapping_conventions_are_refused(health):
    with pytest.raises(ApplicationError) as exc:
        convention_create(acting_user=health.users["union_admin"], provider=health.provider,
                          reference="UTM-2", valid_from=date(2026, 1, 1))
    assert exc.value.code == "convention_overlap"
    convention_update(acting_user=health.users["union_admin"], convention=health.convention,
                      valid_until=date(2026, 12, 31))
    c = convention_create(acting_user=health.users["union_admin"], provider=health.provider,
                          reference="UTM-2027", valid_from=date(2027, 1, 1), items=[ITEM])
    assert tariff_for(health.provider, None, date(2027, 2, 1)).convention.pk == c.pk
    with pytest.raises(ApplicationError) as exc:
        convention_update(acting_user=health.users["union_admin"], convention=health.convention,
                          valid_until=None)
    assert exc.value.code == "convention_overlap"


@pytest.mark.parametrize(("item", "field"), [
    (dict(ITEM, price=-5), "items.1.price"), (dict(ITEM, price=0), "items.1.price"),
    (dict(ITEM, price=12.5), "items.1.price"), (dict(ITEM, group="spa"), "items.1.group"),
    (dict(ITEM, kind="service"), "items.1.kind"), (dict(ITEM, code="A B"), "items.1.code"),
    (dict(ITEM, max_quantity=0), "items.1.max_quantity"), (dict(ITEM), "items.1.code"),
])
def test_bad_tariff_items_refuse_the_whole_convention(health, item, field):
    p = _provider(health)
    before = (Convention.objects.count(), TariffItem.objects.count())
    with pytest.raises(ApplicationError) as exc:
        convention_create(acting_user=health.users["union_admin"], provider=p, reference="K",
                          valid_from=date(2026, 1, 1), items=[ITEM, item])
    assert field in exc.value.fields
    assert (Convention.objects.count(), TariffItem.objects.count()) == before


def test_convention_dates_checked(health):
    p = _provider(health)
    with pytest.raises(ApplicationError) as exc:
        convention_create(acting_user=health.users["union_admin"], provider=p, reference="K",
                          valid_from=date(2026, 6, 1), valid_until=date(2026, 5, 1))
    assert "valid_until" in exc.value.fields


def test_tariff_item_added_then_repriced(health):
    item = tariff_item_save(acting_user=health.users["union_admin"],
                            convention=health.convention,
                            item={"code": "ECHO", "label": "Échographie obstétricale",
                                  "group": "antenatal", "price": 7_500})
    assert item.price == 7_500
    again = tariff_item_save(acting_user=health.users["union_admin"],
                             convention=health.convention,
                             item={"code": "echo", "label": "Échographie", "group": "antenatal",
                                   "price": 8_000})
    assert again.pk == item.pk
    assert tariff_for(health.provider, None, TODAY).item("ECHO").price == 8_000


# --- API --------------------------------------------------------------------------------------


def test_api_providers_conventions_and_tariff(health, client_for):
    admin = client_for("union_admin")
    r = admin.post("/api/v1/health/providers", {"code": "PH-1", "name": "Pharmacie Kanu",
                                                 "kind": "pharmacy", "commune": "Commune IV"},
                   content_type="application/json")
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    r = admin.post(f"/api/v1/health/providers/{pid}/conventions", {
        "reference": "PH-2026", "valid_from": "2026-01-01",
        "items": [{"code": "PARA", "label": "Paracétamol", "kind": "drug", "group": "drugs",
                   "price": "30", "max_quantity": 30}]}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["items"][0]["price"] == 30
    r = admin.post(f"/api/v1/health/providers/{pid}/staff", {"username": "clinic_2"},
                   content_type="application/json")
    assert r.status_code == 201
    clinic = client_for("clinic")
    r = clinic.get(f"/api/v1/health/providers/{health.provider.pk}/tariff",
                   {"mutual_id": health.world.mutual_1.pk})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 13
    r = clinic.get(f"/api/v1/health/providers/{pid}")
    assert r.json()["conventions"][0]["reference"] == "PH-2026"
    r = admin.post(f"/api/v1/health/providers/{pid}/conventions", {
        "reference": "PH-BAD", "valid_from": "2026-01-01",
        "items": [{"code": "X", "label": "x", "group": "drugs", "price": -1}]},
        content_type="application/json")
    assert r.status_code == 422


def test_api_providers_hidden_from_other_organisations(health, client_for):
    for username in ("teller_a", "organiser"):
        c = client_for(username)
        assert c.get("/api/v1/health/providers").json() == []
        r = c.get(f"/api/v1/health/providers/{health.provider.pk}")
        assert r.status_code == 404
        r = c.get(f"/api/v1/health/providers/{health.provider.pk}/tariff")
        assert r.status_code == 404
