"""The campaign screens, the organisers' collection page and the public signing page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from jigi.channels.models import OutboundMessage
from jigi.core.cleaning import today
from jigi.movement.models import Campaign, CampaignAction, Milestone, Petition, Signature
from tests.movement.conftest import make_member


def _code(phone):
    text = OutboundMessage.objects.filter(phone=phone).order_by("-pk").first().text
    return re.search(r"\b(\d{6})\b", text).group(1)


@pytest.fixture
def campaign(mtc, client_for):
    c = client_for("organiser")
    r = c.post("/movement/campaigns/", {
        "form": "campaign", "code": "repos", "title": "Repos hebdomadaire",
        "goal": "Deux demi-journées de repos.", "starts_on": today().isoformat(),
        "groups": ["domestic"]})
    assert r.status_code == 302, r.content.decode()[:2000]
    return Campaign.objects.get()


def test_campaign_forms(campaign, client_for):
    c = client_for("organiser")
    base = f"/movement/campaigns/{campaign.pk}"
    assert c.post("/movement/campaigns/", {"form": "partner", "name": "UNTM",
                                           "kind": "union"}).status_code == 302
    assert c.post(f"{base}/milestone/", {"title": "Audience",
                                         "due_on": today().isoformat()}).status_code == 302
    m = Milestone.objects.get()
    assert c.post(f"{base}/reach/", {"milestone": m.pk}).status_code == 302
    assert c.post(f"{base}/action/", {"kind": "meeting", "held_on": today().isoformat(),
                                      "place": "Banconi", "women": "25",
                                      "men": "3"}).status_code == 302
    assert c.post(f"{base}/petition/", {"title": "Pour le repos", "text": "Ligne 1\r\nLigne 2",
                                        "target": "100", "opens_on": today().isoformat()}
                  ).status_code == 302
    assert c.post(f"{base}/status/", {"status": "active"}).status_code == 302
    page = c.get(f"{base}/").content.decode()
    assert "Banconi" in page
    assert "UNTM" in c.get("/movement/campaigns/").content.decode()
    assert Milestone.objects.get().reached_on == today()
    assert CampaignAction.objects.get().women == 25
    assert Petition.objects.get().text == "Ligne 1\nLigne 2"
    # Refusals are drawn on the page with the service's status.
    assert c.post(f"{base}/status/", {"status": "planned"}).status_code == 409
    r = c.post(f"{base}/action/", {"kind": "meeting", "held_on": "hier", "women": "x"})
    assert r.status_code == 422
    assert 'id="form-error"' in r.content.decode()
    assert c.post(f"{base}/bogus/", {}).status_code == 404


def test_screens_refuse_outsiders_and_readers(campaign, client_for):
    base = f"/movement/campaigns/{campaign.pk}"
    for outsider in ("teller_a", "mutual_manager"):
        c = client_for(outsider)
        assert c.get("/movement/campaigns/").status_code == 404
        assert c.get(f"{base}/").status_code == 404
        assert c.post(f"{base}/status/", {"status": "active"}).status_code == 404
    cw = client_for("case_worker_1")
    page = cw.get(f"{base}/")
    assert page.status_code == 200
    assert 'id="milestone-form"' not in page.content.decode()
    assert cw.post(f"{base}/status/", {"status": "active"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "planned"
    assert Client().get("/movement/campaigns/").status_code == 302  # to the login page


def test_collection_page_collects_and_confirms(campaign, mtc, client_for):
    c = client_for("organiser")
    p = Petition.objects.create(campaign=campaign, title="Repos", text="Texte", target=2,
                                opens_on=today())
    r = c.post(f"/movement/petitions/{p.pk}/", {
        "name": "Awa", "phone": "76 12 34 56", "sex": "F", "region": "Bamako",
        "commune": "Commune IV", "language": "fr"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="petition-work"' in body
    assert "<html" not in body  # the fragment only
    r = c.post(f"/movement/petitions/{p.pk}/confirm/", {"phone": "+22376123456",
                                                        "code": "000000" if _code(
                                                            "+22376123456") != "000000"
                                                        else "111111"})
    assert r.status_code == 422
    r = c.post(f"/movement/petitions/{p.pk}/confirm/", {"phone": "+22376123456",
                                                        "code": _code("+22376123456")})
    assert r.status_code == 200
    assert Signature.objects.get().status == "confirmed"
    r = c.post(f"/movement/petitions/{p.pk}/", {"name": "Awa", "phone": "76123456", "sex": "F"})
    assert r.status_code == 409
    csv = c.get(f"/movement/petitions/{p.pk}/signatures.csv")
    assert b"Awa" in csv.content
    assert b"+223" not in csv.content
    assert client_for("teller_a").get(f"/movement/petitions/{p.pk}/").status_code == 404
    assert client_for("teller_a").get(
        f"/movement/petitions/{p.pk}/signatures.csv").status_code == 404


def test_public_page_works_without_login(campaign):
    p = Petition.objects.create(campaign=campaign, title="Repos", text="Texte", target=2,
                                opens_on=today())
    anon = Client()
    assert anon.get(f"/p/{p.pk}/").status_code == 200
    r = anon.post(f"/p/{p.pk}/", {"name": "Fanta", "phone": "12", "sex": "F"})
    assert r.status_code == 422
    r = anon.post(f"/p/{p.pk}/", {"name": "Fanta", "phone": "66 00 00 01", "sex": "F",
                                  "region": "Kayes", "commune": "Kayes"})
    assert r.status_code == 200
    assert 'id="public-confirm"' in r.content.decode()
    r = anon.post(f"/p/{p.pk}/confirm/", {"phone": "66 00 00 01", "code": "12"})
    assert r.status_code == 422
    r = anon.post(f"/p/{p.pk}/confirm/", {"phone": "66 00 00 01",
                                          "code": _code("+22366000001")})
    assert r.status_code == 200
    assert 'id="public-done"' in r.content.decode()
    sig = Signature.objects.get()
    assert (sig.status, sig.region, sig.collected_by) == ("confirmed", "Kayes", None)
    # The page never shows a signer.
    page = anon.get(f"/p/{p.pk}/").content.decode()
    assert "Fanta" not in page
    assert "66 00" not in page
    assert anon.get("/p/999999/").status_code == 404


def test_public_signers_and_phones_stay_off_the_staff_pages(campaign, mtc, client_for):
    p = Petition.objects.create(campaign=campaign, title="Repos", text="Texte", target=2,
                                opens_on=today())
    r = Client().post(f"/p/{p.pk}/", {"name": "Fanta Public", "phone": "66 00 00 01",
                                      "sex": "F"})
    assert r.status_code == 200
    organiser = client_for("organiser")
    r = organiser.post(f"/movement/petitions/{p.pk}/", {"name": "Awa Réunion",
                                                         "phone": "76123456", "sex": "F"})
    assert r.status_code == 200
    page = organiser.get(f"/movement/petitions/{p.pk}/").content.decode()
    assert "Awa Réunion" in page
    assert "+22376123456" in page
    # The public signer was promised her phone is never shown: she confirms on /p/ herself.
    assert "Fanta Public" not in page
    assert "66000001" not in page
    # A case worker reads the counts, not who waits for a code.
    page = client_for("case_worker_1").get(f"/movement/petitions/{p.pk}/").content.decode()
    assert "Awa Réunion" not in page
    assert "76123456" not in page
    assert Signature.objects.filter(petition=p, status="pending").count() == 2


def test_collection_links_a_registry_member(campaign, mtc, client_for):
    member = make_member(mtc)
    p = Petition.objects.create(campaign=campaign, title="Repos", text="Texte", opens_on=today())
    c = client_for("organiser")
    r = c.post(f"/movement/petitions/{p.pk}/", {"name": "Awa", "phone": "76123456", "sex": "F",
                                                "person_id": str(member.person.pk)})
    assert r.status_code == 200
    assert Signature.objects.get().person == member.person
    r = c.post(f"/movement/petitions/{p.pk}/", {"name": "Bintou", "phone": "76123457",
                                                "sex": "F", "person_id": "99999999"})
    assert r.status_code == 422
    assert Signature.objects.count() == 1
