"""The cases API end to end, its refusals (404 outside MTC, 403 for what staff see but may
not read or do) and bad input (422 with field messages, never a 500, nothing written)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jigi.movement.models import Case, CaseAction, CaseDocument, CaseLink
from jigi.people.models import Consent
from tests.movement.conftest import make_member

API = "/api/v1/movement"
PDF = b"%PDF-1.4\n%%EOF"
SECRET = "Battue par la patronne"


def post(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{API}{url}", json.dumps(body), content_type="application/json",
                       **headers)


@pytest.fixture
def c(mtc, client_for):
    return {u: client_for(u) for u in ["organiser", "organiser_art", "case_worker_1",
                                       "case_worker_2", "movement_admin", "teller_a",
                                       "mutual_manager"]}


def _intake(mtc, c, profile=None, **kw):
    profile = profile or make_member(mtc, birth_year=2011)
    body = {"person_id": profile.person.pk, "category": "violence", "intake_channel": "phone",
            "summary": SECRET, "employer_name": "Famille Keïta"}
    body.update(kw)
    r = post(c["organiser"], "/cases", body)
    assert r.status_code == 201, r.content
    return r.json()


def _assigned(mtc, c, **kw):
    case = _intake(mtc, c, **kw)
    r = post(c["movement_admin"], f"/cases/{case['id']}/assignments",
             {"lead_id": mtc.users["case_worker_1"].pk})
    assert r.status_code == 200, r.content
    return case


def test_intake_of_a_minors_violence_is_urgent_confidential_and_its_details_hidden(mtc, c):
    case = _intake(mtc, c)
    assert case["number"].startswith("MTC-")
    assert case["urgent"] is True
    assert case["confidential"] is True
    assert case["details"] is None  # the organiser who took it is not assigned
    alerts = c["case_worker_2"].get(f"{API}/case-alerts").json()
    assert [(a["case_number"], a["kind"]) for a in alerts] == [(case["number"], "urgent")]


def test_intake_with_an_idempotency_key_opens_one_case(mtc, c):
    profile = make_member(mtc)
    body = {"person_id": profile.person.pk, "category": "unpaid_wages",
            "intake_channel": "in_person", "summary": "Pas payée"}
    first = post(c["organiser"], "/cases", body, key="intake-1")
    again = post(c["organiser"], "/cases", body, key="intake-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == 1


def test_only_assigned_workers_read_a_confidential_case(mtc, c):
    case = _assigned(mtc, c)
    mine = c["case_worker_1"].get(f"{API}/cases/{case['id']}").json()
    assert mine["details"]["summary"] == SECRET
    assert mine["details"]["person"]["age"] == 15
    for user in ["case_worker_2", "movement_admin", "organiser"]:
        r = c[user].get(f"{API}/cases/{case['id']}")
        assert r.status_code == 200
        assert r.json()["details"] is None
        assert SECRET not in r.content.decode()
        for part in ["actions", "documents", "links"]:
            assert c[user].get(f"{API}/cases/{case['id']}/{part}").status_code == 403
        listed = c[user].get(f"{API}/cases").json()
        assert [x["number"] for x in listed] == [case["number"]]
        assert SECRET not in json.dumps(listed)
        assert post(c[user], f"/cases/{case['id']}/actions",
                    {"kind": "call"}).status_code == 403


@pytest.mark.parametrize("user", ["teller_a", "mutual_manager"])
def test_outsiders_get_404_for_everything(mtc, c, user):
    case = _assigned(mtc, c)
    cl = c[user]
    for url in ["/cases", f"/cases/{case['id']}", f"/cases/{case['id']}/actions",
                f"/cases/{case['id']}/documents", "/case-alerts"]:
        assert cl.get(f"{API}{url}").status_code == 404, url
    assert post(cl, f"/cases/{case['id']}/actions", {"kind": "call"}).status_code == 404
    assert post(cl, "/cases", {"person_id": 1, "category": "violence",
                               "intake_channel": "phone", "summary": "x"}).status_code == 404


def test_another_sections_organiser_does_not_see_the_case(mtc, c):
    case = _assigned(mtc, c)
    assert c["organiser_art"].get(f"{API}/cases/{case['id']}").status_code == 404
    assert c["organiser_art"].get(f"{API}/cases").json() == []


def test_mediation_then_close_with_wages_recovered(mtc, c):
    case = _assigned(mtc, c, category="unpaid_wages", other_categories=["no_rest_day"])
    w = c["case_worker_1"]
    r = post(w, f"/cases/{case['id']}/actions",
             {"kind": "mediation", "note": "Accord avec l'employeur",
              "amount_recovered": "45 000"})
    assert r.status_code == 201, r.content
    assert r.json()["amount_recovered"] == 45_000
    r = post(w, f"/cases/{case['id']}/close", {"outcome": "wages_recovered"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "closed"
    assert body["details"]["wages_recovered"] == 45_000
    assert body["details"]["outcome"] == "wages_recovered"
    kinds = [a["kind"] for a in w.get(f"{API}/cases/{case['id']}/actions").json()]
    assert kinds == ["intake", "mediation", "closure"]


def test_bad_input_is_422_with_fields_and_writes_nothing(mtc, c):
    case = _assigned(mtc, c)
    w = c["case_worker_1"]
    for body, field in [({"kind": "mediation", "amount_recovered": 12.5}, "amount_recovered"),
                        ({"kind": "mediation", "amount_recovered": "-5"}, "amount_recovered"),
                        ({"kind": "dance"}, "kind"),
                        ({"kind": "call", "happened_on": "2099-01-01"}, "happened_on"),
                        ({"kind": "call", "note": "a\x00b"}, "note")]:
        r = post(w, f"/cases/{case['id']}/actions", body)
        assert r.status_code == 422, (body, r.content)
        assert any(field in k for k in r.json()["fields"]), (body, r.json())
    r = post(w, f"/cases/{case['id']}/close", {"outcome": "wages_recovered"})
    assert r.status_code == 422
    assert "wages_recovered" in r.json()["fields"]
    r = post(c["organiser"], "/cases", {"person_id": 2**62, "category": "violence",
                                        "intake_channel": "phone", "summary": "x"})
    assert r.status_code == 404
    r = c["case_worker_1"].get(f"{API}/cases", {"status": "lost"})
    assert r.status_code == 422
    assert CaseAction.objects.count() == 1


def test_filters_and_urgent_first(mtc, c):
    urgent = _intake(mtc, c)
    plain = _intake(mtc, c, profile=make_member(mtc), category="no_contract")
    cw = c["case_worker_2"]
    assert [x["id"] for x in cw.get(f"{API}/cases").json()] == [urgent["id"], plain["id"]]
    assert [x["id"] for x in cw.get(f"{API}/cases", {"urgent": "false"}).json()] == [plain["id"]]
    assert [x["id"] for x in cw.get(f"{API}/cases", {"category": "no_contract"}).json()] == [
        plain["id"]]
    assert cw.get(f"{API}/cases", {"overdue": "true"}).json() == []
    assert cw.get(f"{API}/cases", {"mine": "true"}).json() == []


def test_documents_upload_and_download_by_assigned_workers_only(mtc, c):
    case = _assigned(mtc, c)
    w = c["case_worker_1"]
    r = w.post(f"{API}/cases/{case['id']}/documents",
               {"file": SimpleUploadedFile("lettre.pdf", PDF, content_type="application/pdf")})
    assert r.status_code == 201, r.content
    doc = r.json()
    r = w.post(f"{API}/cases/{case['id']}/documents",
               {"file": SimpleUploadedFile("x.png", PDF, content_type="image/png")})
    assert r.status_code == 422
    got = w.get(f"{API}/cases/{case['id']}/documents/{doc['id']}")
    assert got.status_code == 200
    assert got.content == PDF
    assert c["case_worker_2"].get(
        f"{API}/cases/{case['id']}/documents/{doc['id']}").status_code == 403
    assert c["teller_a"].get(
        f"{API}/cases/{case['id']}/documents/{doc['id']}").status_code == 404
    assert CaseDocument.objects.count() == 1


def test_links_refused_without_consent_then_show_what_it_allows(mtc, c):
    case = _assigned(mtc, c)
    w = c["case_worker_1"]
    r = post(w, f"/cases/{case['id']}/links", {"scope": "health"})
    assert r.status_code == 403
    assert r.json()["code"] == "consent_required"
    assert not CaseLink.objects.exists()
    person = Case.objects.get(pk=case["id"]).person
    Consent.objects.create(person=person, granted_to=mtc.org, scope="health",
                           purpose="Suivi", given_at=timezone.now())
    r = post(w, f"/cases/{case['id']}/links", {"scope": "health"})
    assert r.status_code == 201
    assert r.json()["consent_live"] is True
    assert r.json()["facts"] == []  # no coverage with a mutual yet


def test_reassignment_and_alert_acknowledge(mtc, c):
    case = _assigned(mtc, c)
    r = post(c["case_worker_1"], f"/cases/{case['id']}/assignments",
             {"lead_id": mtc.users["case_worker_1"].pk})
    assert r.status_code == 403
    r = post(c["movement_admin"], f"/cases/{case['id']}/assignments",
             {"lead_id": mtc.users["case_worker_2"].pk})
    assert r.status_code == 200
    assert c["case_worker_1"].get(f"{API}/cases/{case['id']}").json()["details"] is None
    alert = c["case_worker_2"].get(f"{API}/case-alerts").json()[0]
    assert c["organiser"].post(f"{API}/case-alerts/{alert['id']}/acknowledge").status_code == 403
    r = c["case_worker_2"].post(f"{API}/case-alerts/{alert['id']}/acknowledge")
    assert r.status_code == 200
    assert r.json()["acknowledged_at"]
    assert c["case_worker_2"].get(f"{API}/case-alerts").json() == []


def test_check_overdue_for_administrators(mtc, c):
    _intake(mtc, c, opened_on="2026-09-01")
    assert post(c["case_worker_1"], "/case-alerts/check-overdue", {}).status_code == 403
    r = c["movement_admin"].post(f"{API}/case-alerts/check-overdue?on=2026-11-21")
    assert r.status_code == 200
    assert r.json() == {"first_action_overdue": 1, "resolution_overdue": 1}
