"""People API: registration, 409 candidates, 422 field messages in the caller's language,
scoping refusals with nothing written, consents, duplicates and merges."""

from __future__ import annotations

import pytest
from django.utils import translation

from jigi.core.models import AuditEvent
from jigi.people.models import Consent, DuplicateCandidate, Membership, Person
from tests.people.factories import register

JSON = "application/json"


def _body(world, **over):
    body = {"unit_id": world.caisse_a.pk, "first_name": "Kadidia", "last_name": "Sanogo",
            "sex": "F", "birth_year": 1992, "phone": "77 45 12 90", "cercle": "Niono",
            "village": "Siribala"}
    body.update(over)
    return body


def _written():
    return (Person.objects.count(), Membership.objects.count(), Consent.objects.count(),
            DuplicateCandidate.objects.count(), AuditEvent.objects.count())


def test_register_and_read_back(world, client_for):
    c = client_for("teller_a")
    r = c.post("/api/v1/people/", _body(world), content_type=JSON)
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["phone"] == "+22377451290"
    assert [(m["unit_code"], m["number"], m["status"]) for m in data["memberships"]] == [
        ("C001", "C001-000001", "active")]
    assert data["visible_sections"] == ["credit", "identity", "savings"]
    again = c.get(f"/api/v1/people/{data['id']}").json()
    assert (again["last_name"], again["consents"], again["households"]) == ("Sanogo", [], [])
    assert [p["id"] for p in c.get("/api/v1/people/?q=sanogo").json()] == [data["id"]]
    assert [p["id"] for p in c.get("/api/v1/people/?q=77451290").json()] == [data["id"]]
    assert [p["id"] for p in c.get("/api/v1/people/search?q=C001-000001").json()] == [data["id"]]


def test_duplicate_returns_409_with_candidates_then_confirm(world, client_for):
    c = client_for("teller_a")
    first = c.post("/api/v1/people/", _body(world), content_type=JSON).json()
    r = c.post("/api/v1/people/", _body(world, phone="", birth_year=1993), content_type=JSON)
    assert r.status_code == 409
    body = r.json()
    assert (body["code"], body["confirmable"]) == ("possible_duplicates", True)
    assert [(x["id"], x["reasons"], x["member_numbers"]) for x in body["candidates"]] == [
        (first["id"], ["name_birth_place"], ["KONDO C001-000001"])]
    assert "confirm_not_duplicate" in body["fields"]
    assert Person.objects.count() == 1
    ok = c.post("/api/v1/people/", _body(world, phone="", birth_year=1993,
                                         confirm_not_duplicate=True), content_type=JSON)
    assert ok.status_code == 201
    for user in ("teller_a", "manager_a", "auditor"):
        dups = client_for(user).get("/api/v1/people/duplicates").json()
        assert [(d["person_id"], d["other_id"], d["status"]) for d in dups] == [
            (ok.json()["id"], first["id"], "open")]
    assert client_for("teller_b").get("/api/v1/people/duplicates").json() == []


def test_same_nina_is_409_and_not_confirmable(world, client_for):
    c = client_for("teller_a")
    r = c.post("/api/v1/people/", _body(world, nina="ML-1"), content_type=JSON)
    assert (r.status_code, list(r.json()["fields"])) == (422, ["nina"])
    r = c.post("/api/v1/people/", _body(world, nina="ML1"), content_type=JSON)
    assert r.json()["nina"] == "ML1"
    before = _written()
    r = c.post("/api/v1/people/", _body(world, first_name="Oumou", last_name="Bah",
                                        nina="ml 1", phone="", confirm_not_duplicate=True),
               content_type=JSON)
    assert r.status_code == 409
    assert r.json()["confirmable"] is False
    assert list(r.json()["fields"]) == ["nina"]
    assert _written() == before


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_field_errors_in_the_callers_language(world, client_for, lang):
    c = client_for("teller_a")
    r = c.post("/api/v1/people/", _body(world, phone="123", sex="Z"), content_type=JSON,
               HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 422
    body = r.json()
    assert set(body["fields"]) == {"phone", "sex"}
    with translation.override(lang):
        assert body["fields"]["phone"] == [
            translation.gettext("Enter a Mali number: +223 and 8 digits.")]
        assert body["message"] == translation.gettext("Some fields are not valid.")
    if lang == "fr":
        assert body["fields"]["phone"] != ["Enter a Mali number: +223 and 8 digits."]
    else:
        assert body["fields"]["phone"] == ["Enter a Mali number: +223 and 8 digits."]
    assert Person.objects.count() == 0


@pytest.mark.parametrize(("over", "field"), [
    ({"unit_id": "abc"}, "unit_id"),
    ({"unit_id": 10**30}, "unit_id"),
    ({"birth_date": "2024-02-30"}, "birth_date"),
    ({"birth_date": "9999-12-31"}, "birth_date"),
    ({"birth_date": "0001-01-01"}, "birth_date"),
    ({"birth_year": 10**12}, "birth_year"),
    ({"first_name": "x" * 100_000}, "first_name"),
    ({"first_name": "Awa\u0000"}, "first_name"),
    ({"nina": "ÉÉ"}, "nina"),
    ({"sex": None}, "sex"),
    ({"literacy": "x"}, "literacy"),
])
def test_bad_input_gives_422_on_the_field_and_writes_nothing(world, client_for, over, field):
    before = _written()
    r = client_for("teller_a").post("/api/v1/people/", _body(world, **over), content_type=JSON)
    assert r.status_code == 422, r.content
    assert list(r.json()["fields"]) == [field]
    assert _written() == before


def test_malformed_bodies_and_ids_never_give_500(world, client_for):
    c = client_for("teller_a")
    p = register(world)
    assert c.post("/api/v1/people/", "not json", content_type=JSON).status_code in (400, 422)
    assert c.post("/api/v1/people/", [1, 2], content_type=JSON).status_code == 422
    assert c.get("/api/v1/people/99999999999999999999999").status_code == 404
    assert c.get("/api/v1/people/-1").status_code == 404
    assert c.get("/api/v1/people/abc").status_code == 422
    assert c.get("/api/v1/people/?q=%00").json() == []
    assert c.get("/api/v1/people/?q=" + "a" * 5000).json() == []
    assert c.get("/api/v1/people/?q=awa&limit=99999999999999999999").status_code == 200
    assert c.post("/api/v1/people/99999999999999999999/consents",
                  {"granted_to": "UTM", "scope": "identity", "purpose": "x"},
                  content_type=JSON).status_code == 404
    assert c.post("/api/v1/people/consents/99999999999999999999/withdraw").status_code == 404
    assert c.post("/api/v1/people/duplicates/99999999999999999999/dismiss").status_code == 404
    assert c.post("/api/v1/people/memberships/99999999999999999999/status",
                  {"status": "ended"}, content_type=JSON).status_code == 404
    r = c.post("/api/v1/people/merge", {"survivor_id": 10**30, "merged_id": p.pk, "reason": "x"},
               content_type=JSON)
    assert r.status_code == 422
    r = c.post(f"/api/v1/people/{p.pk}/memberships", {"unit_id": 987654}, content_type=JSON)
    assert r.status_code == 404
    r = c.patch(f"/api/v1/people/{p.pk}", {"birth_date": "1990-13-01"}, content_type=JSON)
    assert r.status_code == 422


def test_patch_changes_fields_and_audits(world, client_for):
    p = register(world)
    r = client_for("teller_a").patch(f"/api/v1/people/{p.pk}",
                                     {"village": "Kolongo", "phone": "0022366554433"},
                                     content_type=JSON)
    assert r.status_code == 200
    assert (r.json()["village"], r.json()["phone"]) == ("Kolongo", "+22366554433")
    ev = AuditEvent.objects.get(event_type="person.updated")
    assert (ev.before["village"], ev.after["village"]) == ("Siribala", "Kolongo")
    r = client_for("teller_a").patch(f"/api/v1/people/{p.pk}", {"first_name": None},
                                     content_type=JSON)
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["first_name"]


def test_other_caisse_person_is_404_and_nothing_written(world, client_for):
    p = register(world)
    c = client_for("teller_b")
    before = _written()
    assert c.get(f"/api/v1/people/{p.pk}").status_code == 404
    assert c.get("/api/v1/people/?q=awa").json() == []
    assert c.patch(f"/api/v1/people/{p.pk}", {"first_name": "X"},
                   content_type=JSON).status_code == 404
    assert c.post(f"/api/v1/people/{p.pk}/consents",
                  {"granted_to": "UTM", "scope": "identity", "purpose": "x"},
                  content_type=JSON).status_code == 404
    assert c.post(f"/api/v1/people/{p.pk}/memberships", {"unit_id": world.caisse_b.pk},
                  content_type=JSON).status_code == 404
    p.refresh_from_db()
    assert p.first_name == "Awa"
    assert _written() == before


def test_register_in_other_caisse_is_404(world, client_for):
    r = client_for("teller_b").post("/api/v1/people/", _body(world), content_type=JSON)
    assert r.status_code == 404
    assert Person.objects.count() == 0


def test_auditor_reads_all_kondo_but_cannot_write(world, client_for):
    p = register(world)
    q = register(world, first_name="Nana", cercle="Koutiala", village="Molobala",
                 unit=world.caisse_b, user="teller_b")
    c = client_for("auditor")
    assert c.get(f"/api/v1/people/{p.pk}").status_code == 200
    assert {x["id"] for x in c.get("/api/v1/people/?q=diarra").json()} == {p.pk, q.pk}
    before = _written()
    assert c.post("/api/v1/people/", _body(world), content_type=JSON).status_code == 404
    r = c.patch(f"/api/v1/people/{p.pk}", {"first_name": "X"}, content_type=JSON)
    assert r.status_code == 403
    r = c.post(f"/api/v1/people/{p.pk}/consents",
               {"granted_to": "UTM", "scope": "identity", "purpose": "x"}, content_type=JSON)
    assert r.status_code == 403
    p.refresh_from_db()
    assert p.first_name == "Awa"
    assert _written() == before


def test_consent_api_opens_and_closes_access(world, client_for):
    p = register(world)
    utm = client_for("mutual_manager")
    assert utm.get(f"/api/v1/people/{p.pk}").status_code == 404
    teller = client_for("teller_a")
    r = teller.post(f"/api/v1/people/{p.pk}/consents",
                    {"granted_to": "utm", "scope": "identity", "purpose": "Adhésion AMV"},
                    content_type=JSON)
    assert r.status_code == 201
    seen = utm.get(f"/api/v1/people/{p.pk}").json()
    assert (seen["visible_sections"], seen["memberships"]) == (["identity"], [])
    assert [c["scope"] for c in seen["consents"]] == ["identity"]
    w = teller.post(f"/api/v1/people/consents/{r.json()['id']}/withdraw")
    assert w.status_code == 200
    assert w.json()["withdrawn_at"]
    assert utm.get(f"/api/v1/people/{p.pk}").status_code == 404
    assert teller.post(f"/api/v1/people/consents/{r.json()['id']}/withdraw").status_code == 409
    bad = teller.post(f"/api/v1/people/{p.pk}/consents",
                      {"granted_to": "NOPE", "scope": "all", "purpose": ""}, content_type=JSON)
    assert bad.status_code == 422


def test_membership_api(world, client_for):
    p = register(world)
    teller = client_for("teller_a")
    r = client_for("admin").post(f"/api/v1/people/{p.pk}/memberships",
                                 {"unit_id": world.mutual_1.pk, "start_date": "2025-01-15"},
                                 content_type=JSON)
    assert r.status_code == 201
    assert (r.json()["number"], r.json()["organisation"]) == ("M01-000001", "UTM")
    m = p.memberships.get(organisation=world.orgs.kondo)
    r = teller.post(f"/api/v1/people/memberships/{m.pk}/status", {"status": "ended"},
                    content_type=JSON)
    assert (r.status_code, r.json()["status"]) == (200, "ended")
    r = teller.post(f"/api/v1/people/memberships/{m.pk}/status", {"status": "active"},
                    content_type=JSON)
    assert r.status_code == 409
    r = teller.post(f"/api/v1/people/memberships/{m.pk}/status", {"status": "gone"},
                    content_type=JSON)
    assert (r.status_code, list(r.json()["fields"])) == (422, ["status"])
    # The teller does not learn about the UTM membership.
    assert [x["organisation"] for x in teller.get(f"/api/v1/people/{p.pk}").json()[
        "memberships"]] == ["KONDO"]


def test_merge_api(world, client_for):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988,
                 confirm_not_duplicate=True)
    body = {"survivor_id": a.pk, "merged_id": b.pk, "reason": "Même personne"}
    assert client_for("teller_a").post("/api/v1/people/merge", body,
                                       content_type=JSON).status_code == 403
    r = client_for("manager_a").post("/api/v1/people/merge", body, content_type=JSON)
    assert r.status_code == 200
    assert r.json()["id"] == a.pk
    assert sorted(m["number"] for m in r.json()["memberships"]) == ["C001-000001", "C001-000002"]
    # The merged record's address now answers with the survivor.
    assert client_for("teller_a").get(f"/api/v1/people/{b.pk}").json()["id"] == a.pk
    again = client_for("manager_a").post("/api/v1/people/merge", body, content_type=JSON)
    assert again.status_code == 422


def test_flag_and_dismiss_api(world, client_for):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    c = register(world, first_name="Nafi", last_name="Sylla", birth_year=1970)
    manager = client_for("manager_a")
    r = manager.post("/api/v1/people/duplicates",
                     {"person_id": c.pk, "other_id": a.pk, "reason": "Carte papier"},
                     content_type=JSON)
    assert (r.status_code, r.json()["status"]) == (201, "confirmed")
    # The teller sees the pair but does not decide; the other caisse does not even see it.
    assert client_for("teller_a").post(
        f"/api/v1/people/duplicates/{r.json()['id']}/dismiss").status_code == 403
    assert client_for("teller_b").post(
        f"/api/v1/people/duplicates/{r.json()['id']}/dismiss").status_code == 404
    d = manager.post(f"/api/v1/people/duplicates/{r.json()['id']}/dismiss")
    assert (d.status_code, d.json()["status"]) == (200, "dismissed")
    assert manager.get("/api/v1/people/duplicates").json() == []
