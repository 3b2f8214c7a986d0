"""The campaigns API: staff calls with their refusals, and the public sign/confirm calls."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from jigi.channels.models import OutboundMessage
from jigi.core.cleaning import today
from jigi.movement.models import Signature

API = "/api/v1/movement"
JSON = "application/json"


def _post(client, url, data):
    return client.post(url, data, content_type=JSON)


def _code(phone):
    text = OutboundMessage.objects.filter(phone=phone).order_by("-pk").first().text
    return re.search(r"\b(\d{6})\b", text).group(1)


@pytest.fixture
def setup(mtc, client_for):
    org = client_for("organiser")
    r = _post(org, f"{API}/partners", {"name": "UTM", "kind": "mutual_union",
                                      "jigi_organisation_id": mtc.world.orgs.utm.pk})
    assert r.status_code == 201, r.content
    partner = r.json()["id"]
    r = _post(org, f"{API}/campaigns", {
        "code": "REPOS", "title": "Repos hebdomadaire", "goal": "Deux demi-journées de repos.",
        "starts_on": today().isoformat(), "groups": ["domestic"], "partner_ids": [partner]})
    assert r.status_code == 201, r.content
    campaign = r.json()
    r = _post(org, f"{API}/campaigns/{campaign['id']}/petitions", {
        "title": "Pour le repos", "text": "Appliquez le décret 96-178.", "target": 10,
        "opens_on": today().isoformat()})
    assert r.status_code == 201, r.content
    return {"org": org, "campaign": campaign, "partner": partner, "petition": r.json()}


def test_campaign_life_through_the_api(setup):
    org, cid = setup["org"], setup["campaign"]["id"]
    assert setup["campaign"]["partners"][0]["name"] == "UTM"
    r = _post(org, f"{API}/campaigns/{cid}/milestones",
              {"title": "Audience", "due_on": today().isoformat()})
    assert r.status_code == 201
    mid = r.json()["id"]
    r = _post(org, f"{API}/campaigns/{cid}/milestones/{mid}/reach", {})
    assert r.json()["reached_on"] == today().isoformat()
    r = _post(org, f"{API}/campaigns/{cid}/actions", {
        "kind": "march", "held_on": today().isoformat(), "place": "Bamako",
        "partner_id": setup["partner"], "women": 120, "men": 30})
    assert r.status_code == 201
    r = _post(org, f"{API}/campaigns/{cid}/status", {"status": "active"})
    assert r.json()["status"] == "active"
    r = _post(org, f"{API}/campaigns/{cid}/status", {"status": "planned"})
    assert r.status_code == 409
    r = org.patch(f"{API}/campaigns/{cid}", {"title": "Repos pour toutes"}, content_type=JSON)
    assert r.json()["title"] == "Repos pour toutes"
    detail = org.get(f"{API}/campaigns/{cid}").json()
    assert detail["taking_part"] == {"women": 120, "men": 30}
    assert detail["petitions"][0]["counts"]["confirmed"] == 0
    assert [c["code"] for c in org.get(f"{API}/campaigns?status=active").json()] == ["REPOS"]
    assert org.get(f"{API}/campaigns?status=bogus").json() == []


def test_organiser_collects_and_confirms(setup):
    org, pid = setup["org"], setup["petition"]["id"]
    r = _post(org, f"{API}/petitions/{pid}/signatures", {
        "name": "Awa", "phone": "76 12 34 56", "sex": "F", "region": "Bamako",
        "commune": "Commune IV"})
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "pending"
    r = _post(org, f"{API}/petitions/{pid}/signatures/confirm",
              {"phone": "+22376123456", "code": _code("+22376123456")})
    assert r.json() == {"id": Signature.objects.get().pk, "status": "confirmed"}
    r = _post(org, f"{API}/petitions/{pid}/signatures", {
        "name": "Awa", "phone": "76123456", "sex": "F"})
    assert r.status_code == 409
    assert r.json()["code"] == "already_signed"
    counts = org.get(f"{API}/petitions/{pid}/counts").json()
    assert counts["by_sex"] == {"F": 1, "M": 0}
    assert counts["by_commune"] == [{"region": "Bamako", "commune": "Commune IV", "count": 1}]
    csv = org.get(f"{API}/petitions/{pid}/signatures.csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert b"Awa" in csv.content
    assert b"+223" not in csv.content
    assert b"123456" not in csv.content


def test_invalid_phone_is_422(setup):
    r = _post(setup["org"], f"{API}/petitions/{setup['petition']['id']}/signatures",
              {"name": "Awa", "phone": "12", "sex": "F"})
    assert r.status_code == 422
    assert "phone" in r.json()["fields"]


def test_refusals(setup, client_for):
    pid, cid = setup["petition"]["id"], setup["campaign"]["id"]
    cw = client_for("case_worker_1")
    assert cw.get(f"{API}/campaigns/{cid}").status_code == 200
    assert _post(cw, f"{API}/campaigns/{cid}/status", {"status": "active"}).status_code == 403
    assert _post(cw, f"{API}/petitions/{pid}/signatures",
                 {"name": "X", "phone": "70000000", "sex": "F"}).status_code == 403
    for outsider in ("teller_a", "mutual_manager"):
        c = client_for(outsider)
        assert c.get(f"{API}/campaigns/{cid}").status_code == 404
        assert c.get(f"{API}/campaigns").json() == []
        assert c.get(f"{API}/petitions/{pid}/signatures.csv").status_code == 404
        assert _post(c, f"{API}/campaigns/{cid}/petitions", {
            "title": "X", "text": "X", "opens_on": today().isoformat()}).status_code == 404
    assert Client().get(f"{API}/campaigns").status_code == 401
    assert Signature.objects.count() == 0


def test_public_sign_and_confirm_without_login(setup):
    pid = setup["petition"]["id"]
    anon = Client()
    info = anon.get(f"{API}/petitions/{pid}/public").json()
    assert info["open"] is True
    assert info["confirmed"] == 0
    r = _post(anon, f"{API}/petitions/{pid}/public/sign",
              {"name": "Fanta", "phone": "66000001", "sex": "F", "region": "Ségou"})
    assert r.status_code == 202
    assert r.json() == {"status": "code_sent"}
    bad = _post(anon, f"{API}/petitions/{pid}/public/confirm",
                {"phone": "66000001", "code": "000000" if _code("+22366000001") != "000000"
                 else "111111"})
    unknown = _post(anon, f"{API}/petitions/{pid}/public/confirm",
                    {"phone": "66000009", "code": "123456"})
    assert bad.status_code == unknown.status_code == 422
    assert bad.json() == unknown.json()
    r = _post(anon, f"{API}/petitions/{pid}/public/confirm",
              {"phone": "66000001", "code": _code("+22366000001")})
    assert r.json() == {"status": "confirmed"}
    again = _post(anon, f"{API}/petitions/{pid}/public/sign",
                  {"name": "Autre", "phone": "66000001", "sex": "M"})
    assert again.status_code == 202
    assert again.json() == {"status": "code_sent"}
    assert anon.get(f"{API}/petitions/{pid}/public").json()["confirmed"] == 1
    # The staff calls stay closed to the public.
    assert anon.get(f"{API}/petitions/{pid}/counts").status_code == 401


def test_public_rate_limit_and_unknown_petition(setup):
    pid = setup["petition"]["id"]
    anon = Client()
    body = {"name": "Fanta", "phone": "66000001", "sex": "F"}
    assert [_post(anon, f"{API}/petitions/{pid}/public/sign", body).status_code
            for _ in range(4)] == [202, 202, 202, 429]
    assert _post(anon, f"{API}/petitions/999999/public/sign", body).status_code == 404
    assert anon.get(f"{API}/petitions/{2**70}/public").status_code in (404, 422)


def test_public_sign_is_limited_per_client_address(setup, monkeypatch):
    from jigi.movement.services import campaigns as svc

    monkeypatch.setattr(svc, "PUBLIC_CODES_PER_ADDRESS_HOUR", 2)
    pid = setup["petition"]["id"]
    anon = Client(REMOTE_ADDR="10.9.8.7")
    statuses = [_post(anon, f"{API}/petitions/{pid}/public/sign",
                      {"name": "X", "phone": f"6600001{i}", "sex": "F"}).status_code
                for i in range(3)]
    assert statuses == [202, 202, 429]
    assert OutboundMessage.objects.count() == 2
    other = Client(REMOTE_ADDR="10.9.8.8")
    assert _post(other, f"{API}/petitions/{pid}/public/sign",
                 {"name": "Y", "phone": "66000020", "sex": "F"}).status_code == 202
