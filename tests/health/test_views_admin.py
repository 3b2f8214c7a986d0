"""Health set-up screens without a browser: providers (list by kind, place and status, create,
change, clinic staff linked and unlinked), conventions per mutual or union-wide with their
tariff (item by item, CSV import all or nothing with the problems on their lines, export),
packages and their rules per service group, the mutual's profile and board, and group
enrolment through an agreement with a result per person. Refusals come back on their fields
(422/403/409) and write nothing; a Kondo teller or an MTC organiser gets 403/404; another
mutual's objects are 404."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from jigi.core.models import AuditEvent
from jigi.health.models import (
    BenefitPackage,
    BenefitRule,
    Convention,
    Coverage,
    GroupAgreement,
    MutualProfile,
    Provider,
    TariffItem,
)
from jigi.health.services import convention_create, group_agreement_create, package_create
from jigi.people.models import Consent
from jigi.people.services import consent_grant
from tests.health.conftest import counts, page_text, person
from tests.people.factories import register


@pytest.fixture(autouse=True)
def _fixture_names_left_as_found(monkeypatch):
    """The health fixture names its families from a counter shared by the whole run, and
    later modules' tests rely on the names their place in the run gives them (e.g. no
    "Lassina" yet): this module's families come from a copy, so it shifts nobody's names."""
    import tests.health.conftest as health_conftest

    monkeypatch.setattr(health_conftest, "_names", copy.copy(health_conftest._names))


_text = page_text


def _own_convention(health, world):
    """Mutual M1's own convention with the CSCom (its manager's)."""
    return convention_create(acting_user=world.users["mutual_manager"],
                             provider=health.provider, mutual=world.mutual_1,
                             reference="M01-CSCOM-2026", valid_from=health.today,
                             items=[{"code": "CONS", "label": "Consultation", "group":
                                     "consultation", "price": 1_200}])


def _own_package(health, world):
    return package_create(acting_user=world.users["mutual_manager"],
                          organisation=world.orgs.utm, mutual=world.mutual_1, code="M01-PLUS",
                          name="Garantie plus", contribution=800,
                          rules=[{"group": "consultation", "mutual_share_pct": 80}])


def _agreement(health, world, **kw):
    data = {"acting_user": world.users["mutual_manager"], "mutual": world.mutual_1,
            "package": health.package, "partner": world.orgs.mtc,
            "partner_unit": world.section_domestic, "name": "Travailleuses domestiques",
            "signed_on": health.today - timedelta(days=10), "waiting_waived": True}
    data.update(kw)
    return group_agreement_create(**data)


def _worker(world, first: str, last: str, year: int, *, consent: bool = True):
    """A domestic worker registered at MTC's section; her consent that the union sees her
    identity recorded by the section's organiser."""
    p = register(world, unit=world.section_domestic, user="organiser", first_name=first,
                 last_name=last, sex="F", birth_year=year, village="Badalabougou",
                 cercle="Commune V", region="Bamako")
    if consent:
        consent_grant(acting_user=world.users["organiser"], person=p, granted_to=world.orgs.utm,
                      scope="identity", purpose="Adhésion à la mutuelle par la section")
    return p


def _setup_counts() -> dict[str, int]:
    return counts() | {"provider": Provider.objects.count(),
                       "convention": Convention.objects.count(),
                       "item": TariffItem.objects.count(),
                       "package": BenefitPackage.objects.count(),
                       "rule": BenefitRule.objects.count(),
                       "agreement": GroupAgreement.objects.count(),
                       "profile": MutualProfile.objects.count()}


# --- who may open what ------------------------------------------------------------------------

LIST_PAGES = ["/health/providers/", "/health/providers/new/", "/health/packages/",
              "/health/packages/new/", "/health/agreements/"]


@pytest.mark.parametrize("username", ["teller_a", "organiser", "auditor"])
def test_kondo_and_mtc_staff_are_refused_every_set_up_page(world, health, client_for, username):
    own = _own_convention(health, world)
    agreement = _agreement(health, world)
    c = client_for(username)
    for url in LIST_PAGES:
        assert c.get(url).status_code == 403, url
    p, conv = health.provider.pk, health.convention.pk
    objects = [f"/health/providers/{p}/", f"/health/providers/{p}/edit/",
               f"/health/providers/{p}/conventions/new/", f"/health/conventions/{conv}/",
               f"/health/conventions/{own.pk}/", f"/health/conventions/{conv}/tariff.csv",
               f"/health/packages/{health.package.pk}/edit/",
               f"/health/mutuals/{world.mutual_1.pk}/edit/",
               f"/health/agreements/{agreement.pk}/"]
    for url in objects:
        assert c.get(url).status_code == 404, url
    before = _setup_counts()
    posts = [
        ("/health/providers/new/", {"code": "X1", "name": "X", "kind": "cscom"}, 403),
        (f"/health/providers/{p}/edit/", {"name": "X", "kind": "cscom"}, 404),
        (f"/health/providers/{p}/staff/", {"user": health.users["clinic_2"].pk}, 404),
        (f"/health/providers/{p}/conventions/new/", {"reference": "X"}, 404),
        (f"/health/conventions/{conv}/items/", {"code": "X", "label": "X", "group": "lab",
                                                "price": "1"}, 404),
        (f"/health/conventions/{conv}/import/", {"tariff_text": "X;X;act;lab;1"}, 404),
        (f"/health/packages/{health.package.pk}/edit/", {"name": "X"}, 404),
        (f"/health/mutuals/{world.mutual_1.pk}/edit/", {"area": "X"}, 404),
        ("/health/agreements/", {"name": "X"}, 403),
        (f"/health/agreements/{agreement.pk}/enrol/", {"person_ids": "1"}, 404),
    ]
    for url, data, status in posts:
        assert c.post(url, data).status_code == status, url
    assert _setup_counts() == before


def test_another_mutual_own_objects_are_404(world, health, client_for):
    own = _own_convention(health, world)
    package = _own_package(health, world)
    agreement = _agreement(health, world)
    other = client_for("manager_2")
    for url in (f"/health/conventions/{own.pk}/", f"/health/conventions/{own.pk}/tariff.csv",
                f"/health/packages/{package.pk}/edit/",
                f"/health/mutuals/{world.mutual_1.pk}/edit/",
                f"/health/agreements/{agreement.pk}/"):
        assert other.get(url).status_code == 404, url
    before = _setup_counts()
    assert other.post(f"/health/conventions/{own.pk}/import/",
                      {"tariff_text": "ECHO;Écho;act;antenatal;7500;1"}).status_code == 404
    assert other.post(f"/health/agreements/{agreement.pk}/enrol/",
                      {"person_ids": "1"}).status_code == 404
    assert _setup_counts() == before
    # The provider's page does not list M1's convention to M2; the union-wide one, yes.
    page = _text(other.get(f"/health/providers/{health.provider.pk}/"))
    assert "UTM-CONV-2025-01" in page
    assert "M01-CSCOM-2026" not in page
    # The union administrator and the centre's own clinic staff read it.
    assert client_for("union_admin").get(f"/health/conventions/{own.pk}/").status_code == 200
    assert client_for("clinic").get(f"/health/conventions/{own.pk}/").status_code == 200
    assert client_for("clinic_2").get(f"/health/conventions/{own.pk}/").status_code == 404


def test_health_home_and_mutual_page_link_to_the_set_up_screens(world, health, client_for):
    home = _text(client_for("mutual_manager").get("/health/"))
    for tile in ('id="tile-providers"', 'id="tile-packages"', 'id="tile-agreements"'):
        assert tile in home
    clinic = _text(client_for("clinic").get("/health/"))
    assert 'id="tile-providers"' in clinic
    assert 'id="tile-agreements"' not in clinic
    mutual = _text(client_for("mutual_manager").get(f"/health/mutuals/{world.mutual_1.pk}/"))
    assert f"/health/mutuals/{world.mutual_1.pk}/edit/" in mutual
    officer = _text(client_for("claims_officer").get(f"/health/mutuals/{world.mutual_1.pk}/"))
    assert 'id="profile-edit-link"' not in officer


# --- providers --------------------------------------------------------------------------------


def test_provider_list_filters_by_kind_place_and_status(world, health, client_for):
    from jigi.health.services import provider_create

    admin = world.users["union_admin"]
    provider_create(acting_user=admin, code="PH-BLA", name="Pharmacie du marché de Bla",
                    kind="pharmacy", region="Ségou", cercle="Bla", village="Marché")
    closed = provider_create(acting_user=admin, code="CSREF-SEG", name="CSRef de Ségou",
                             kind="csref", region="Ségou", cercle="Ségou")
    closed.active = False
    closed.save()
    c = client_for("claims_officer")

    def names(**query):
        page = _text(c.get("/health/providers/", query))
        return [n for n in ("CSCom de Hamdallaye", "Pharmacie du marché de Bla",
                            "CSRef de Ségou") if n in page]

    assert names() == ["CSCom de Hamdallaye", "Pharmacie du marché de Bla", "CSRef de Ségou"]
    assert names(kind="pharmacy") == ["Pharmacie du marché de Bla"]
    assert names(place="Ségou") == ["Pharmacie du marché de Bla", "CSRef de Ségou"]
    assert names(place="hamdallaye") == ["CSCom de Hamdallaye"]
    assert names(active="no") == ["CSRef de Ségou"]
    assert names(kind="garbage", active="maybe") == names()
    # A claims officer reads but does not register providers.
    assert 'id="provider-new-link"' not in _text(c.get("/health/providers/"))
    assert c.get("/health/providers/new/").status_code == 403


def test_register_a_provider_with_refusals_on_the_fields(world, health, client_for):
    c = client_for("mutual_manager")  # a mutual signs with its local centre
    url = "/health/providers/new/"
    assert 'id="provider-form"' in _text(c.get(url))
    data = {"code": "CSCOM-BAG", "name": "CSCom de Bagadadji", "kind": "cscom",
            "region": "Bamako", "cercle": "Commune II", "commune": "Commune II",
            "village": "Bagadadji", "phone": "12"}
    before = _setup_counts()
    response = c.post(url, data)
    assert response.status_code == 422
    page = _text(response)
    assert 'id="err-phone"' in page
    assert 'value="Bagadadji"' in page  # the form comes back filled in
    response = c.post(url, data | {"phone": "", "kind": "temple"})
    assert response.status_code == 422
    assert 'id="err-kind"' in _text(response)
    response = c.post(url, data | {"code": "CSCOM-HAM", "phone": "20 22 11 00"})
    assert response.status_code == 409  # the code is taken
    assert 'id="err-code"' in _text(response)
    assert _setup_counts() == before
    response = c.post(url, data | {"phone": "20 22 11 00"})
    provider = Provider.objects.get(code="CSCOM-BAG")
    assert response.status_code == 302
    assert response["Location"] == f"/health/providers/{provider.pk}/"
    assert (provider.kind, provider.village, provider.phone, provider.active) == (
        "cscom", "Bagadadji", "+22320221100", True)
    page = _text(c.get(response["Location"]))
    assert "CSCom de Bagadadji" in page
    assert "Bagadadji" in page


def test_change_a_provider_and_take_it_out_of_service(world, health, client_for):
    c = client_for("union_admin")
    url = f"/health/providers/{health.provider.pk}/edit/"
    page = _text(c.get(url))
    assert 'value="CSCom de Hamdallaye"' in page
    assert 'id="active" checked' in page
    response = c.post(url, {"name": "CSCom de Hamdallaye (ASACOHAM)", "kind": "cscom",
                            "region": "Bamako", "cercle": "Commune IV",
                            "commune": "Commune IV", "village": "Hamdallaye",
                            "phone": "+22320220000"})
    assert response.status_code == 302
    health.provider.refresh_from_db()
    assert health.provider.name == "CSCom de Hamdallaye (ASACOHAM)"
    assert health.provider.active is False  # the box was not ticked
    event = AuditEvent.objects.filter(event_type="health.provider_updated").latest("pk")
    assert event.before["active"] is True
    assert event.after["active"] is False
    assert client_for("claims_officer").get(url).status_code == 403
    assert client_for("clinic").post(url, {"name": "X", "kind": "cscom"}).status_code == 403


def test_link_and_unlink_clinic_staff(world, health, client_for):
    c = client_for("union_admin")
    url = f"/health/providers/{health.provider.pk}/"
    page = _text(c.get(url))
    clinic, clinic_2 = health.users["clinic"], health.users["clinic_2"]
    assert 'id="staff-form"' in page
    assert f'<option value="{clinic_2.pk}">' in page  # offered
    assert f'<option value="{clinic.pk}">' not in page  # already linked
    assert f'<option value="{health.users["teller_a"].pk}">' not in page
    staff_url = f"/health/providers/{health.provider.pk}/staff/"
    # Only clinic staff of the union: a teller is refused on the field.
    response = c.post(staff_url, {"action": "link", "user": health.users["teller_a"].pk})
    assert response.status_code == 422
    assert 'id="err-user"' in _text(response)
    assert c.post(staff_url, {"action": "link", "user": "abc"}).status_code == 422
    assert list(health.provider.staff.all()) == [clinic]
    assert c.post(staff_url, {"action": "link", "user": clinic_2.pk}).status_code == 302
    assert set(health.provider.staff.all()) == {clinic, clinic_2}
    # Now linked, clinic_2 checks cards at the centre.
    assert client_for("clinic_2").get("/health/eligibility/", {
        "q": health.head.card_number}).status_code == 200
    assert c.post(staff_url, {"action": "unlink", "user": clinic.pk}).status_code == 302
    assert list(health.provider.staff.all()) == [clinic_2]
    assert AuditEvent.objects.filter(event_type="health.provider_staff_unlinked").exists()
    # A claims officer may not link anyone.
    response = client_for("claims_officer").post(staff_url, {"action": "link",
                                                             "user": clinic.pk})
    assert response.status_code == 403
    assert list(health.provider.staff.all()) == [clinic_2]


# --- conventions and tariffs ------------------------------------------------------------------


def test_conventions_union_wide_by_the_union_and_per_mutual_by_its_manager(world, health,
                                                                           client_for):
    url = f"/health/providers/{health.provider.pk}/conventions/new/"
    manager = client_for("mutual_manager")
    page = _text(manager.get(url))
    assert '<option value="">' not in page  # union-wide is the union administrator's
    assert f'<option value="{world.mutual_1.pk}"' in page
    assert f'<option value="{world.mutual_2.pk}"' not in page
    before = _setup_counts()
    # The manager may not sign union-wide (empty choice) nor for another mutual.
    for mutual in ("", str(world.mutual_2.pk)):
        response = manager.post(url, {"mutual": mutual, "reference": "X",
                                      "valid_from": "2026-11-01", "tolerance_pct": "50"})
        assert response.status_code == 422
        assert 'id="err-mutual"' in _text(response)
    response = manager.post(url, {"mutual": world.mutual_1.pk, "reference": "M01-2026",
                                  "valid_from": "2026-12-01", "valid_until": "2026-11-01",
                                  "tolerance_pct": "50"})
    assert response.status_code == 422
    assert 'id="err-valid-until"' in _text(response)
    response = manager.post(url, {"mutual": world.mutual_1.pk, "reference": "M01-2026",
                                  "valid_from": "1er décembre", "tolerance_pct": "beaucoup"})
    assert response.status_code == 422
    assert 'id="err-valid-from"' in _text(response)
    assert 'id="err-tolerance"' in _text(response)
    assert _setup_counts() == before
    response = manager.post(url, {"mutual": world.mutual_1.pk, "reference": "M01-2026",
                                  "valid_from": "2026-11-01", "tolerance_pct": "30"})
    conv = Convention.objects.get(reference="M01-2026")
    assert response["Location"] == f"/health/conventions/{conv.pk}/"
    assert (conv.mutual_id, conv.tolerance_pct, conv.valid_until) == (world.mutual_1.pk, 30,
                                                                      None)
    # The union's convention overlaps none of M1's, but two of M1's may not overlap.
    response = manager.post(url, {"mutual": world.mutual_1.pk, "reference": "M01-BIS",
                                  "valid_from": "2026-11-15", "tolerance_pct": "30"})
    assert response.status_code == 409
    assert 'id="err-valid-from"' in _text(response)
    # The union administrator signs union-wide.
    admin = client_for("union_admin")
    assert '<option value="">' in _text(admin.get(url))
    new = {"mutual": "", "reference": "UTM-2027", "valid_from": "2027-01-01",
           "tolerance_pct": "50"}
    assert admin.post(url, new).status_code == 409  # the 2025 tariff is still open-ended
    # A new tariff from 2027: the union closes the old convention at the end of 2026 first.
    assert admin.post(f"/health/conventions/{health.convention.pk}/", {
        "reference": "UTM-CONV-2025-01", "valid_from": "2025-01-01",
        "valid_until": "2026-12-31", "tolerance_pct": "50"}).status_code == 302
    assert admin.post(url, new).status_code == 302
    assert Convention.objects.get(reference="UTM-2027").mutual_id is None
    # Clinic staff read the provider but sign nothing.
    assert client_for("clinic").get(url).status_code == 403


def test_change_a_convention_on_its_page(world, health, client_for):
    c = client_for("union_admin")
    url = f"/health/conventions/{health.convention.pk}/"
    page = _text(c.get(url))
    assert "UTM-CONV-2025-01" in page
    assert 'id="item-CONS"' in page
    assert "1 500 F CFA" in page
    response = c.post(url, {"reference": "UTM-CONV-2025-01", "valid_from": "2025-01-01",
                            "valid_until": "2024-12-31", "tolerance_pct": "40"})
    assert response.status_code == 422
    assert 'id="err-valid-until"' in _text(response)
    response = c.post(url, {"reference": "UTM-CONV-2025-01", "valid_from": "2025-01-01",
                            "valid_until": "2027-12-31", "tolerance_pct": "40"})
    assert response.status_code == 302
    health.convention.refresh_from_db()
    assert (health.convention.tolerance_pct, health.convention.valid_until) == (
        40, date(2027, 12, 31))
    # The mutual's manager reads the union-wide convention; changing it is the union's.
    manager = client_for("mutual_manager")
    assert 'id="convention-edit"' not in _text(manager.get(url))
    response = manager.post(url, {"reference": "X", "valid_from": "2025-01-01",
                                  "tolerance_pct": "10"})
    assert response.status_code == 403
    health.convention.refresh_from_db()
    assert health.convention.tolerance_pct == 40


def test_add_and_change_a_tariff_item(world, health, client_for):
    c = client_for("union_admin")
    conv = health.convention
    url = f"/health/conventions/{conv.pk}/items/"
    before = _setup_counts()
    for data, error in (
            ({"code": "ECHO", "label": "Échographie", "kind": "act", "group": "antenatal",
              "price": "7500,5"}, "err-item-price"),
            ({"code": "ECHO", "label": "", "kind": "act", "group": "antenatal",
              "price": "7500"}, "err-item-label"),
            ({"code": "EC HO", "label": "Échographie", "kind": "act", "group": "antenatal",
              "price": "7500"}, "err-item-code"),
            ({"code": "ECHO", "label": "Échographie", "kind": "act", "group": "imaging",
              "price": "7500"}, "err-item-group"),
            ({"code": "ECHO", "label": "Échographie", "kind": "act", "group": "antenatal",
              "price": "7500", "max_quantity": "un"}, "err-item-qty")):
        response = c.post(url, data)
        assert response.status_code == 422, data
        page = _text(response)
        assert f'id="{error}"' in page, data
        assert 'value="Échographie"' in page or data["label"] == ""
    assert _setup_counts() == before
    response = c.post(url, {"code": "echo", "label": "Échographie obstétricale", "kind": "act",
                            "group": "antenatal", "price": "7 500", "max_quantity": "1"})
    assert response.status_code == 302
    echo = TariffItem.objects.get(convention=conv, code="ECHO")
    assert (echo.price, echo.group, echo.max_quantity) == (7_500, "antenatal", 1)
    # "Change" prefills the form with the item; saving the same code changes it.
    page = _text(c.get(f"/health/conventions/{conv.pk}/", {"edit": "PARA"}))
    assert 'value="Paracétamol 500 mg (comprimé)"' in page
    assert c.post(url, {"code": "PARA", "label": "Paracétamol 500 mg (comprimé)",
                        "kind": "drug", "group": "drugs", "price": "30",
                        "max_quantity": "20"}).status_code == 302
    para = TariffItem.objects.get(convention=conv, code="PARA")
    assert (para.price, para.max_quantity) == (30, 20)
    assert TariffItem.objects.filter(convention=conv).count() == before["item"] + 1


BAD_CSV = ("code;label;kind;group;price;max_quantity\n"
           "ECHO;Échographie obstétricale;act;antenatal;7500;1\n"
           "RX;Radiographie du thorax;act;imagerie;12000,5;1\n"
           "CONS;Consultation curative;act;consultation;1750;1\n")


def test_tariff_import_refuses_the_whole_file_for_one_bad_line_then_takes_it_fixed(
        world, health, client_for):
    c = client_for("union_admin")
    conv = health.convention
    url = f"/health/conventions/{conv.pk}/import/"
    before = _setup_counts()
    response = c.post(url, {"tariff_file": SimpleUploadedFile(
        "tarif.csv", BAD_CSV.encode("cp1252"), content_type="text/csv")})
    assert response.status_code == 422
    page = _text(response)
    assert 'id="problem-line-3"' in page
    assert 'id="problem-line-2"' not in page
    assert "RX;Radiographie du thorax" in page
    # The file's lines come back in the box, accents intact, to be fixed there.
    assert "Échographie obstétricale;act;antenatal" in page
    assert _setup_counts() == before
    assert TariffItem.objects.get(convention=conv, code="CONS").price == 1_500
    fixed = BAD_CSV.replace("imagerie;12000,5", "lab;12000")
    response = c.post(url, {"tariff_text": fixed})
    assert response.status_code == 302
    assert TariffItem.objects.get(convention=conv, code="RX").price == 12_000
    assert TariffItem.objects.get(convention=conv, code="CONS").price == 1_750
    assert TariffItem.objects.filter(convention=conv).count() == before["item"] + 2
    page = _text(c.get(response["Location"]))
    assert _("Tariff imported: %(added)s added, %(changed)s changed, %(same)s unchanged.") % {
        "added": 2, "changed": 1, "same": 0} in page
    assert 'id="item-RX"' in page


def test_tariff_import_of_what_is_not_a_tariff(world, health, client_for):
    c = client_for("union_admin")
    url = f"/health/conventions/{health.convention.pk}/import/"
    before = _setup_counts()
    response = c.post(url, {})
    assert response.status_code == 422
    assert 'id="err-tariff-file"' in _text(response)
    response = c.post(url, {"tariff_file": SimpleUploadedFile(
        "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, content_type="image/png")})
    assert response.status_code == 422
    assert 'id="err-tariff-file"' in _text(response)
    response = c.post(url, {"tariff_text": "code;label;kind;colour;price\nA;B;act;lab;1"})
    assert response.status_code == 422
    assert 'id="problem-line-1"' in _text(response)
    assert _setup_counts() == before
    # Nor may a mutual's manager import into the union-wide tariff.
    response = client_for("mutual_manager").post(url, {"tariff_text": BAD_CSV})
    assert response.status_code == 403
    assert _setup_counts() == before


def test_the_exported_tariff_imports_back_unchanged(world, health, client_for):
    c = client_for("union_admin")
    conv = health.convention
    response = c.get(f"/health/conventions/{conv.pk}/tariff.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="tarif-UTM-CONV-2025-01.csv"'
    body = response.content
    assert body.startswith("\ufeff".encode())
    assert "CES;Césarienne;act;delivery_complicated;75000;1" in body.decode("utf-8-sig")
    prices = dict(TariffItem.objects.filter(convention=conv).values_list("code", "price"))
    response = c.post(f"/health/conventions/{conv.pk}/import/", {
        "tariff_file": SimpleUploadedFile("t.csv", body, content_type="text/csv")})
    assert response.status_code == 302
    assert dict(TariffItem.objects.filter(convention=conv).values_list("code", "price")) == \
        prices
    assert AuditEvent.objects.get(event_type="health.tariff_imported").after["unchanged"] == \
        len(prices)


# --- packages ---------------------------------------------------------------------------------


def _package_post(**over):
    data = {"owner": "", "code": "M01-PLUS", "name": "Garantie plus", "active": "on",
            "card_fee": "1 000", "contribution": "800", "contribution_basis": "per_person",
            "frequency": "monthly", "child_max_age": "18", "waiting_days": "60",
            "waiting_days_lapse": "30", "grace_days": "60", "exclusions": "amox, ces",
            "valid_from": "2026-11-01",
            "rule_consultation": "on", "share_consultation": "80",
            "event_consultation": "", "year_consultation": "20 000",
            "qty_consultation": "1", "min_age_consultation": "", "max_age_consultation": "",
            "rule_delivery": "on", "share_delivery": "75", "event_delivery": "10000",
            "year_delivery": "", "qty_delivery": "", "min_age_delivery": "12",
            "max_age_delivery": "55"}
    data.update(over)
    return data


def test_a_mutual_creates_its_own_package_with_rules_per_service_group(world, health,
                                                                       client_for):
    c = client_for("mutual_manager")
    url = "/health/packages/new/"
    page = _text(c.get(url))
    assert f'<option value="{world.mutual_1.pk}"' in page
    assert '<option value="union"' not in page  # union-wide is the union's
    before = _setup_counts()
    owner = str(world.mutual_1.pk)
    for over, error in (
            ({"share_delivery": "120"}, "err-share-delivery"),
            ({"min_age_delivery": "50", "max_age_delivery": "12"}, "err-max-age-delivery"),
            ({"year_consultation": "20000,5"}, "err-year-consultation"),
            ({"frequency": "seasonal"}, "err-season-months"),
            ({"contribution": "0"}, "err-contribution"),
            ({"waiting_days": "beaucoup"}, "err-waiting-days"),
            ({"exclusions": "A B C! D"}, "err-exclusions"),
            ({"owner": "union"}, None),
            ({"owner": str(world.mutual_2.pk)}, None)):
        response = c.post(url, _package_post(owner=owner) | over)
        assert response.status_code == 422, over
        page = _text(response)
        if error:
            assert f'id="{error}"' in page, over
        assert 'value="Garantie plus"' in page
    assert _setup_counts() == before
    response = c.post(url, _package_post(owner=owner, frequency="seasonal",
                                         season_months=["11", "12", "1"]))
    assert response.status_code == 302
    package = BenefitPackage.objects.get(code="M01-PLUS")
    assert (package.mutual_id, package.card_fee, package.contribution, package.frequency,
            package.season_months, package.exclusions) == (
        world.mutual_1.pk, 1_000, 800, "seasonal", [1, 11, 12], ["AMOX", "CES"])
    rules = {r.group: r for r in package.rules.all()}
    assert set(rules) == {"consultation", "delivery"}
    assert (rules["consultation"].mutual_share_pct, rules["consultation"].ceiling_per_year,
            rules["consultation"].ceiling_per_event) == (80, 20_000, None)
    assert (rules["delivery"].ceiling_per_event, rules["delivery"].min_age,
            rules["delivery"].max_age) == (10_000, 12, 55)
    # The same code again in the same mutual is a conflict on the code.
    response = c.post(url, _package_post(owner=owner))
    assert response.status_code == 409
    assert 'id="err-code"' in _text(response)
    # The mutual's page now offers it; M2 does not even see it.
    assert 'id="package-M01-PLUS"' in _text(c.get(f"/health/mutuals/{world.mutual_1.pk}/"))
    assert "M01-PLUS" not in _text(client_for("manager_2").get("/health/packages/"))


def test_the_union_changes_a_rule_of_the_amv_package(world, health, client_for):
    admin = client_for("union_admin")
    url = f"/health/packages/{health.package.pk}/edit/"
    page = _text(admin.get(url))
    assert 'id="in-use"' in page  # families are covered under it
    assert 'name="rule_consultation" id="rule_consultation" checked' in page
    # The form as drawn, sent back with one change: the mutual pays 70 % of consultations.
    rules = {r.group: r for r in health.package.rules.all()}
    post = {"name": health.package.name, "active": "on", "card_fee": "2500",
            "contribution": "550", "contribution_basis": health.package.contribution_basis,
            "frequency": health.package.frequency, "child_max_age": "18",
            "waiting_days": str(health.package.waiting_days),
            "waiting_days_lapse": str(health.package.waiting_days_lapse),
            "grace_days": str(health.package.grace_days),
            "valid_from": health.package.valid_from.isoformat(), "exclusions": ""}
    for group, r in rules.items():
        post[f"rule_{group}"] = "on"
        post[f"share_{group}"] = str(r.mutual_share_pct)
        for name, prefix in (("ceiling_per_event", "event"), ("ceiling_per_year", "year"),
                             ("max_quantity", "qty"), ("min_age", "min_age"),
                             ("max_age", "max_age")):
            value = getattr(r, name)
            post[f"{prefix}_{group}"] = "" if value is None else str(value)
    post["share_consultation"] = "70"
    response = admin.post(url, post)
    assert response.status_code == 302
    assert response["Location"] == f"/health/packages/#package-{health.package.pk}"
    after = {r.group: r for r in BenefitRule.objects.filter(package=health.package)}
    assert after["consultation"].mutual_share_pct == 70
    assert {g: r.mutual_share_pct for g, r in after.items() if g != "consultation"} == {
        g: r.mutual_share_pct for g, r in rules.items() if g != "consultation"}
    assert {g: (r.ceiling_per_event, r.ceiling_per_year) for g, r in after.items()} == {
        g: (r.ceiling_per_event, r.ceiling_per_year) for g, r in rules.items()}
    page = _text(admin.get("/health/packages/"))
    assert f'id="rule-{health.package.pk}-consultation"' in page
    # A mutual's manager reads the union's package but may not change it.
    manager = client_for("mutual_manager")
    assert f"/health/packages/{health.package.pk}/edit/" not in _text(
        manager.get("/health/packages/"))
    assert manager.get(url).status_code == 403
    assert manager.post(url, post | {"share_consultation": "10"}).status_code == 403
    assert BenefitRule.objects.get(package=health.package,
                                   group="consultation").mutual_share_pct == 70


def test_an_unticked_group_is_no_longer_covered(world, health, client_for):
    package = _own_package(health, world)
    c = client_for("mutual_manager")
    url = f"/health/packages/{package.pk}/edit/"
    post = _package_post()
    post.pop("code")
    post.pop("rule_consultation")
    assert c.post(url, post).status_code == 302
    assert list(BenefitRule.objects.filter(package=package).values_list("group", flat=True)
                ) == ["delivery"]


# --- the mutual's profile ---------------------------------------------------------------------


def test_edit_the_profile_and_pick_the_board_from_the_registry(world, health, client_for):
    c = client_for("mutual_manager")
    url = f"/health/mutuals/{world.mutual_1.pk}/edit/"
    page = _text(c.get(url))
    assert 'value="Commune IV du District de Bamako"' in page
    president = health.family.head
    treasurer = person(world, first_name="Aminata", last_name="Coulibaly", sex="F",
                       birth_year=1975)
    # The board search (htmx) finds persons of the registry.
    found = _text(c.get(url, {"board_q": "Coulibaly"}, HTTP_HX_REQUEST="true"))
    assert "<html" not in found
    assert f'id="add-person-{treasurer.pk}"' in found
    base = {"area_kind": "urban", "area": "Commune IV", "target_population": "15 000",
            "founded_on": "2001-03-10", "approval_ref": "AGR-2001-045",
            "last_general_assembly": "2026-03-14"}
    response = c.post(url, base | {"add_person": president.pk, "add_office": "president",
                                   "add_since": "2024-03-16"})
    assert response.status_code == 302
    response = c.post(url, base | {"board_person_0": president.pk,
                                   "board_office_0": "president",
                                   "board_since_0": "2024-03-16", "add_person": treasurer.pk,
                                   "add_office": "treasurer", "add_since": ""})
    assert response.status_code == 302
    profile = MutualProfile.objects.get(unit=world.mutual_1)
    assert (profile.area, profile.target_population, profile.approval_ref) == (
        "Commune IV", 15_000, "AGR-2001-045")
    assert profile.board == [
        {"person_id": president.pk, "office": "president", "since": "2024-03-16"},
        {"person_id": treasurer.pk, "office": "treasurer", "since": None}]
    page = _text(c.get(url))
    assert president.full_name in page
    assert treasurer.full_name in page
    # Take the treasurer off.
    response = c.post(url, base | {"board_person_0": president.pk,
                                   "board_office_0": "president",
                                   "board_since_0": "2024-03-16",
                                   "board_person_1": treasurer.pk,
                                   "board_office_1": "treasurer", "board_remove_1": "on"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert [s["person_id"] for s in profile.board] == [president.pk]


def test_profile_refusals_write_nothing(world, health, client_for):
    c = client_for("mutual_manager")
    url = f"/health/mutuals/{world.mutual_1.pk}/edit/"
    profile = MutualProfile.objects.get(unit=world.mutual_1)
    board, area = list(profile.board), profile.area
    outsider = register(world, unit=world.caisse_a, user="teller_a", first_name="Kadidia",
                        last_name="Fofana", sex="F", birth_year=1993)
    base = {"area_kind": "urban", "area": "Ailleurs", "target_population": "100"}
    future = (health.today + timedelta(days=3)).isoformat()
    for data, status, marker in (
            ({"founded_on": future}, 422, 'id="err-founded-on"'),
            ({"target_population": "-5"}, 422, 'id="err-target"'),
            ({"area_kind": "desert"}, 422, "urban"),
            ({"add_person": outsider.pk, "add_office": "member"}, 422, 'id="err-add"'),
            ({"add_person": health.family.head.pk, "add_office": "king"}, 422, 'id="err-add"'),
            ({"add_person": health.family.head.pk, "add_office": "member",
              "add_since": future}, 422, 'id="err-add"'),
            ({"board_person_0": "99999999", "board_office_0": "member"}, 422,
             'class="row-bad"')):
        response = c.post(url, base | data)
        assert response.status_code == status, data
        assert marker in _text(response), data
    profile.refresh_from_db()
    assert (profile.board, profile.area) == (board, area)
    assert client_for("claims_officer").get(url).status_code == 403
    assert client_for("claims_officer").post(url, base).status_code == 403
    profile.refresh_from_db()
    assert profile.area == area


# --- group agreements -------------------------------------------------------------------------


def test_sign_an_agreement_with_the_mtc_section(world, health, client_for):
    c = client_for("mutual_manager")
    url = "/health/agreements/"
    page = _text(c.get(url))
    partners = page.split('id="partner"')[1].split("</select>")[0]
    units = page.split('id="partner_unit"')[1].split("</select>")[0]
    assert f'<option value="{world.section_domestic.pk}"' in units
    assert f'<option value="{world.orgs.mtc.pk}"' in partners
    assert f'<option value="{world.orgs.utm.pk}"' not in partners  # not its own partner
    assert f'<option value="{world.mutual_2.pk}"' not in units
    data = {"name": "Travailleuses domestiques de S-DOM", "mutual": world.mutual_1.pk,
            "package": health.package.pk, "partner": world.orgs.mtc.pk,
            "partner_unit": world.section_domestic.pk, "signed_on": "2026-11-01",
            "payer": "member", "waiting_waived": "on"}
    before = _setup_counts()
    for over, marker in (({"partner_unit": world.caisse_a.pk}, None),
                         ({"partner": world.orgs.kondo.pk}, 'id="err-partner-unit"'),
                         ({"signed_on": "2027-01-01"}, 'id="err-signed-on"'),
                         ({"name": ""}, 'id="err-name"'),
                         ({"package": "999999"}, 'id="err-package"'),
                         ({"mutual": world.mutual_2.pk}, None)):
        response = c.post(url, data | over)
        assert response.status_code == 422, over
        if marker:
            assert marker in _text(response), over
    assert _setup_counts() == before
    response = c.post(url, data)
    agreement = GroupAgreement.objects.get()
    assert response["Location"] == f"/health/agreements/{agreement.pk}/"
    assert (agreement.partner_unit_id, agreement.waiting_waived, agreement.payer) == (
        world.section_domestic.pk, True, "member")
    # Clinic staff have no business here.
    assert client_for("clinic").get(url).status_code == 403


def test_group_enrolment_gives_a_result_per_person(world, health, client_for):
    agreement = _agreement(health, world)
    sitan = _worker(world, "Sitan", "Samaké", 1998)
    bintou = _worker(world, "Bintou", "Dao", 2001)
    _worker(world, "Fanta", "Keïta", 1995, consent=False)
    _worker(world, "Nana", "Kanté", 1990, consent=False)
    c = client_for("mutual_manager")
    url = f"/health/agreements/{agreement.pk}/"
    page = _text(c.get(url))
    assert f'id="pick-{sitan.pk}"' in page
    assert f'id="pick-{bintou.pk}"' in page
    assert "Fanta" not in page  # no consent yet: not shown, only counted
    assert 'id="hidden-members"' in page
    assert "🔒 2 " in page
    # The search narrows the list.
    found = _text(c.get(url, {"q": "Samaké"}))
    assert f'id="pick-{sitan.pk}"' in found
    assert f'id="pick-{bintou.pk}"' not in found
    before = _setup_counts()
    for data, marker in (({"enrolled_on": health.today.isoformat()}, 'id="err-person-ids"'),
                         ({"person_ids": ["x"], "enrolled_on": health.today.isoformat()},
                          'id="err-person-ids"'),
                         ({"person_ids": [sitan.pk], "enrolled_on": "2026-01-01"},
                          'id="err-enrolled-on"')):
        response = c.post(f"{url}enrol/", data)
        assert response.status_code == 422, data
        assert marker in _text(response), data
    assert _setup_counts() == before
    # Enrol both, and a person of Kondo who is no member of the section, and one twice.
    kondo = register(world, unit=world.caisse_a, user="teller_a", first_name="Kadidia",
                     last_name="Fofana", sex="F", birth_year=1993)
    consent_grant(acting_user=world.users["teller_a"], person=kondo, granted_to=world.orgs.utm,
                  scope="identity", purpose="Mutuelle")
    response = c.post(f"{url}enrol/", {"person_ids": [sitan.pk, bintou.pk, kondo.pk,
                                                      sitan.pk],
                                       "enrolled_on": health.today.isoformat()})
    assert response.status_code == 302
    assert response["Location"] == url
    covs = {cov.member_id: cov for cov in Coverage.objects.filter(agreement=agreement)}
    assert set(covs) == {sitan.pk, bintou.pk}
    assert covs[sitan.pk].covered_from == health.today  # the waiting period is waived
    page = _text(c.get(url))
    rows = page.split('id="results"')[1].split("</table>")[0]
    sitan_card = covs[sitan.pk].beneficiaries.get().card_number
    assert sitan_card in rows
    assert covs[bintou.pk].beneficiaries.get().card_number in rows
    assert f'id="result-{kondo.pk}" class="row-bad"' in rows
    assert _("This person is not a member of the partner.") in rows
    assert rows.count("row-bad") == 2  # Kondo's client, and Sitan listed twice
    # Shown once: the next visit lists the coverages, not the results.
    again = _text(c.get(url))
    assert 'id="results"' not in again
    assert sitan_card in again.split('id="agreement-coverages"')[1]
    assert 'class="state-wait"' in again.split(f'id="candidate-{sitan.pk}"')[1][:400]
    # Enrolling her again is refused for her alone, with the reason.
    c.post(f"{url}enrol/", {"person_ids": [sitan.pk], "enrolled_on":
                            health.today.isoformat()})
    assert Coverage.objects.filter(member=sitan).count() == 1
    assert 'class="row-bad"' in _text(c.get(url)).split('id="results"')[1]
    assert Consent.objects.filter(person=sitan, scope="identity").count() == 1


def test_only_managers_enrol_a_group(world, health, client_for):
    agreement = _agreement(health, world)
    sitan = _worker(world, "Sitan", "Samaké", 1998)
    url = f"/health/agreements/{agreement.pk}/"
    officer = client_for("claims_officer")
    page = _text(officer.get(url))
    assert 'id="group-form"' not in page
    before = _setup_counts()
    assert officer.post(f"{url}enrol/", {"person_ids": [sitan.pk],
                                         "enrolled_on": health.today.isoformat()}
                        ).status_code == 403
    assert client_for("organiser").post(f"{url}enrol/", {"person_ids": [sitan.pk]}
                                        ).status_code == 404
    assert _setup_counts() == before


# --- garbage never gives a 500 ----------------------------------------------------------------

GARBAGE = ["", "abc", "-1", "99999999999999999999999", "1e5", "12.5", "\u202f", "<script>",
           "2026-13-45", "0", "\x00"]


def test_garbage_in_any_set_up_field_is_refused_not_a_server_error(world, health, client_for):
    agreement = _agreement(health, world)
    package = _own_package(health, world)
    admin = client_for("union_admin")
    manager = client_for("mutual_manager")
    p, conv = health.provider.pk, health.convention.pk
    before = _setup_counts()
    for value in GARBAGE:
        posts = [
            (admin, "/health/providers/new/", {k: value for k in (
                "code", "name", "kind", "region", "phone")}),
            (admin, f"/health/providers/{p}/edit/", {k: value for k in (
                "name", "kind", "village", "phone")}),
            (admin, f"/health/providers/{p}/staff/", {"action": value, "user": value}),
            (admin, f"/health/providers/{p}/conventions/new/", {k: value for k in (
                "mutual", "reference", "valid_from", "valid_until", "tolerance_pct")}),
            (admin, f"/health/conventions/{conv}/", {k: value for k in (
                "reference", "valid_from", "valid_until", "tolerance_pct")}),
            (admin, f"/health/conventions/{conv}/items/", {k: value for k in (
                "code", "label", "kind", "group", "price", "max_quantity")}),
            (admin, f"/health/conventions/{conv}/import/", {"tariff_text": value or "x"}),
            (manager, "/health/packages/new/", _package_post(owner=value, code=value) | {
                k: value for k in ("card_fee", "contribution", "frequency", "season_months",
                                   "child_max_age", "share_delivery", "year_delivery",
                                   "valid_from", "exclusions")}),
            (manager, f"/health/packages/{package.pk}/edit/", _package_post() | {
                k: value for k in ("contribution_basis", "max_beneficiaries",
                                   "min_age_delivery", "event_delivery", "valid_until")}),
            (manager, f"/health/mutuals/{world.mutual_1.pk}/edit/", {
                k: value for k in ("area_kind", "target_population", "founded_on",
                                   "board_person_0", "board_office_0", "board_since_0",
                                   "add_person", "add_office")}),
            (manager, "/health/agreements/", {k: value for k in (
                "name", "mutual", "package", "partner", "partner_unit", "signed_on",
                "payer")}),
            (manager, f"/health/agreements/{agreement.pk}/enrol/",
             {"person_ids": value, "enrolled_on": value}),
        ]
        for client, url, data in posts:
            status = client.post(url, data).status_code
            assert status in (302, 403, 404, 409, 422), (url, value, status)
        gets = [f"/health/providers/?kind={value}&place={value}&active={value}",
                f"/health/conventions/{conv}/?edit={value}",
                f"/health/agreements/{agreement.pk}/?q={value}",
                f"/health/mutuals/{world.mutual_1.pk}/edit/?board_q={value}"]
        for url in gets:
            assert manager.get(url).status_code == 200, (url, value)
    assert _setup_counts() == before
