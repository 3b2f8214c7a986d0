"""The cases screens: list with filters and alerts, intake, the case page and its htmx forms,
and their refusals (404 outside MTC, 403 page for a confidential case not assigned)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jigi.movement.models import Case, CaseAlert, CaseDocument
from jigi.movement.services import cases as svc
from tests.movement.conftest import make_member

SECRET = "Frappée par le fils de la patronne"


def _case(mtc, *, assign="case_worker_1", **kw):
    profile = make_member(mtc, birth_year=kw.pop("birth_year", 1998))
    args = {"category": "unpaid_wages", "intake_channel": "phone", "summary": SECRET,
            "employer_name": "Famille Keïta"}
    args.update(kw)
    case = svc.case_intake(acting_user=mtc.users["organiser"], person=profile.person, **args)
    if assign:
        svc.case_assign(acting_user=mtc.users["movement_admin"], case=case,
                        lead=mtc.users[assign])
    return case


def test_list_shows_urgent_first_and_the_alerts_panel(mtc, client_for):
    plain = _case(mtc)
    urgent = _case(mtc, category="violence", birth_year=2012)
    r = client_for("case_worker_2").get(reverse("web:movement_cases"))
    assert r.status_code == 200
    html = r.content.decode()
    assert html.index(urgent.number) < html.index(plain.number)
    assert 'id="case-alerts"' in html
    assert SECRET not in html
    r = client_for("case_worker_2").get(reverse("web:movement_cases"), {"urgent": "0"},
                                        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="case-rows")
    assert plain.number in r.content.decode()
    assert urgent.number not in r.content.decode()
    assert "<h1>" not in r.content.decode()


@pytest.mark.parametrize("user", ["teller_a", "mutual_manager"])
def test_outsiders_get_404_on_every_cases_page(mtc, client_for, user):
    case = _case(mtc)
    cl = client_for(user)
    for url in [reverse("web:movement_cases"), reverse("web:movement_case_new"),
                reverse("web:movement_case", args=[case.pk])]:
        assert cl.get(url).status_code == 404, url
    assert cl.post(reverse("web:movement_case_action", args=[case.pk]),
                   {"kind": "call"}).status_code == 404


def test_confidential_case_page_is_403_for_staff_not_assigned(mtc, client_for):
    case = _case(mtc, category="violence")
    for user in ["case_worker_2", "movement_admin", "organiser"]:
        r = client_for(user).get(reverse("web:movement_case", args=[case.pk]))
        assert r.status_code == 403
        assert case.number in r.content.decode()
        assert SECRET not in r.content.decode()
    r = client_for("case_worker_1").get(reverse("web:movement_case", args=[case.pk]))
    assert r.status_code == 200
    assert SECRET in r.content.decode()
    r = client_for("case_worker_2").post(reverse("web:movement_case_action", args=[case.pk]),
                                         {"kind": "call"})
    assert r.status_code == 403


def test_intake_form_opens_a_case(mtc, client_for):
    profile = make_member(mtc)
    cl = client_for("organiser")
    r = cl.get(reverse("web:movement_case_new"), {"person": profile.person.pk})
    assert profile.person.full_name in r.content.decode()
    r = cl.post(reverse("web:movement_case_new") + f"?person={profile.person.pk}", {
        "person": profile.person.pk, "category": "unpaid_wages", "intake_channel": "in_person",
        "summary": "Trois mois sans salaire", "employer_name": "Famille Coulibaly"})
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.category == "unpaid_wages"
    assert case.created_by == mtc.users["organiser"]


def test_intake_form_refusal_shows_field_errors(mtc, client_for):
    profile = make_member(mtc)
    r = client_for("organiser").post(reverse("web:movement_case_new"), {
        "person": profile.person.pk, "category": "", "intake_channel": "in_person",
        "summary": "", "urgent": "1"})
    assert r.status_code == 422
    assert 'id="form-error"' in r.content.decode()
    assert not Case.objects.exists()


def test_htmx_mediation_then_close_shows_the_outcome(mtc, client_for):
    case = _case(mtc)
    cl = client_for("case_worker_1")
    hx = {"HTTP_HX_REQUEST": "true"}
    r = cl.post(reverse("web:movement_case_action", args=[case.pk]),
                {"kind": "mediation", "amount_recovered": "45 000", "note": "Accord"}, **hx)
    assert r.status_code == 200
    assert 'id="case-work"' in r.content.decode()
    r = cl.post(reverse("web:movement_case_close", args=[case.pk]),
                {"outcome": "wages_recovered"}, **hx)
    assert r.status_code == 200
    assert 'id="case-outcome"' in r.content.decode()
    case.refresh_from_db()
    assert case.wages_recovered == 45_000
    assert case.outcome == "wages_recovered"


def test_htmx_refusal_answers_422_with_the_panel(mtc, client_for):
    case = _case(mtc)
    r = client_for("case_worker_1").post(
        reverse("web:movement_case_close", args=[case.pk]), {"outcome": "wages_recovered"},
        HTTP_HX_REQUEST="true")
    assert r.status_code == 422
    assert 'id="form-error"' in r.content.decode()
    case.refresh_from_db()
    assert case.status == "open"


def test_document_upload_and_download_only_for_the_worker(mtc, client_for):
    case = _case(mtc)
    cl = client_for("case_worker_1")
    cl.post(reverse("web:movement_case_documents", args=[case.pk]),
            {"file": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\nxx",
                                        content_type="image/png")})
    doc = CaseDocument.objects.get()
    url = reverse("web:movement_case_document", args=[case.pk, doc.pk])
    assert cl.get(url).status_code == 200
    assert client_for("case_worker_2").get(url).status_code == 403


def test_alert_acknowledged_from_the_panel(mtc, client_for):
    case = _case(mtc, category="violence", birth_year=2012)
    alert = CaseAlert.objects.get(case=case)
    url = reverse("web:movement_alert_ack", args=[alert.pk])
    r = client_for("organiser").post(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 403
    r = client_for("case_worker_2").post(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_by == mtc.users["case_worker_2"]


def test_admin_assigns_herself_from_the_restricted_page(mtc, client_for):
    case = _case(mtc, category="violence", assign=None)
    cl = client_for("movement_admin")
    r = cl.get(reverse("web:movement_case", args=[case.pk]))
    assert r.status_code == 403
    assert 'id="team-form"' in r.content.decode()
    r = cl.post(reverse("web:movement_case_assign", args=[case.pk]),
                {"lead": mtc.users["movement_admin"].pk})
    assert r.status_code == 302
    assert cl.get(reverse("web:movement_case", args=[case.pk])).status_code == 200
