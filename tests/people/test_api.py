from __future__ import annotations

from jigi.people.models import Person
from tests.people.factories import register


def _body(world, **over):
    body = {"unit_id": world.caisse_a.pk, "first_name": "Kadidia", "last_name": "Sanogo",
            "sex": "F", "birth_year": 1992, "phone": "77 45 12 90", "cercle": "Niono",
            "village": "Siribala"}
    body.update(over)
    return body


def test_register_and_read_back(world, client_for):
    c = client_for("teller_a")
    r = c.post("/api/v1/people/", _body(world), content_type="application/json")
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["phone"] == "+22377451290"
    assert data["memberships"][0]["unit_code"] == "C001"
    assert c.get(f"/api/v1/people/{data['id']}").json()["last_name"] == "Sanogo"


def test_duplicate_returns_409_with_candidates_then_confirm(world, client_for):
    c = client_for("teller_a")
    first = c.post("/api/v1/people/", _body(world), content_type="application/json").json()
    r = c.post("/api/v1/people/", _body(world, first_name="Kadidia", last_name="Sanogo",
                                        phone="", birth_year=1993),
               content_type="application/json")
    assert r.status_code == 409
    assert r.json()["code"] == "possible_duplicates"
    assert [x["id"] for x in r.json()["candidates"]] == [first["id"]]
    ok = c.post("/api/v1/people/", _body(world, phone="", birth_year=1993,
                                         confirm_not_duplicate=True),
                content_type="application/json")
    assert ok.status_code == 201
    dups = c.get("/api/v1/people/duplicates").json()
    assert [(d["person_id"], d["other_id"]) for d in dups] == [(ok.json()["id"], first["id"])]


def test_field_errors_in_french_by_default(world, client_for):
    c = client_for("teller_a")
    r = c.post("/api/v1/people/", _body(world, phone="123", sex="Z"),
               content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr")
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"phone", "sex"}
    assert Person.objects.count() == 0


def test_wrong_types_give_422_not_500(world, client_for):
    c = client_for("teller_a")
    r = c.post("/api/v1/people/", {"unit_id": "abc", "birth_year": "x"},
               content_type="application/json")
    assert r.status_code == 422
    assert "unit_id" in r.json()["fields"]
    r = c.post("/api/v1/people/", "not json", content_type="application/json")
    assert r.status_code in (400, 422)


def test_other_caisse_person_is_404_and_patch_writes_nothing(world, client_for):
    p = register(world)
    c = client_for("teller_b")
    assert c.get(f"/api/v1/people/{p.pk}").status_code == 404
    r = c.patch(f"/api/v1/people/{p.pk}", {"first_name": "X"}, content_type="application/json")
    assert r.status_code == 404
    p.refresh_from_db()
    assert p.first_name == "Awa"


def test_register_in_other_caisse_is_404(world, client_for):
    r = client_for("teller_b").post("/api/v1/people/", _body(world),
                                     content_type="application/json")
    assert r.status_code == 404
    assert Person.objects.count() == 0


def test_auditor_reads_but_cannot_write(world, client_for):
    p = register(world)
    c = client_for("auditor")
    assert c.get(f"/api/v1/people/{p.pk}").status_code == 200
    r = c.patch(f"/api/v1/people/{p.pk}", {"first_name": "X"}, content_type="application/json")
    assert r.status_code == 403
    p.refresh_from_db()
    assert p.first_name == "Awa"


def test_consent_api_opens_and_closes_access(world, client_for):
    p = register(world)
    utm = client_for("mutual_manager")
    assert utm.get(f"/api/v1/people/{p.pk}").status_code == 404
    r = client_for("teller_a").post(f"/api/v1/people/{p.pk}/consents",
                                    {"granted_to": "UTM", "scope": "identity",
                                     "purpose": "Adhésion AMV"}, content_type="application/json")
    assert r.status_code == 201
    assert utm.get(f"/api/v1/people/{p.pk}").status_code == 200
    w = client_for("teller_a").post(f"/api/v1/people/consents/{r.json()['id']}/withdraw")
    assert w.status_code == 200
    assert utm.get(f"/api/v1/people/{p.pk}").status_code == 404
