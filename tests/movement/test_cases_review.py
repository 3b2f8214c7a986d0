"""Review fixes on the cases code: each test failed before its fix."""

from __future__ import annotations

from django.urls import reverse

from jigi.movement.services import cases as svc
from tests.movement.conftest import make_member

SECRET = "Frappée par le fils de la patronne"


def _case(mtc, *, assign="case_worker_1", birth_year=1998, **kw):
    profile = make_member(mtc, birth_year=birth_year)
    args = {"category": "violence", "intake_channel": "phone", "summary": SECRET,
            "employer_name": "Famille Keïta"}
    args.update(kw)
    case = svc.case_intake(acting_user=mtc.users["organiser"], person=profile.person, **args)
    if assign:
        svc.case_assign(acting_user=mtc.users["movement_admin"], case=case,
                        lead=mtc.users[assign])
    return case


def test_a_bad_form_on_a_confidential_case_shows_nothing_to_staff_not_assigned(mtc, client_for):
    # A bad date or a missing outcome used to re-render the case page (or its timeline panel)
    # before the service had checked the assignment: the confidential summary leaked.
    case = _case(mtc)
    assert case.confidential
    cl = client_for("case_worker_2")
    posts = [
        ("web:movement_case_action", {"kind": "call", "happened_on": "pas une date"}),
        ("web:movement_case_close", {"outcome": ""}),
    ]
    for name, data in posts:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            r = cl.post(reverse(name, args=[case.pk]), data, **headers)
            assert r.status_code == 403, (name, headers)
            assert SECRET not in r.content.decode(), (name, headers)
    # The assigned worker still gets her form errors back.
    r = client_for("case_worker_1").post(reverse("web:movement_case_close", args=[case.pk]),
                                         {"outcome": ""})
    assert r.status_code == 422
    assert SECRET in r.content.decode()


def test_a_girl_flagged_minor_on_her_member_page_has_an_urgent_violence_case(mtc):
    # Only her year of birth is known: 18 this year, so she may still be 17. The member
    # screens flag her a minor (a doubt is a flag); intake counted her an adult (year minus
    # year) and her violence case was neither urgent nor alerted.
    from jigi.core.cleaning import today
    from jigi.movement.models import CaseAlert
    from jigi.movement.services.members import is_minor_member

    year = today().year - 18
    profile = make_member(mtc, birth_year=year)
    assert is_minor_member(profile, profile.person)
    case = svc.case_intake(acting_user=mtc.users["organiser"], person=profile.person,
                           category="violence", intake_channel="phone", summary=SECRET,
                           confidential=False)
    assert (case.urgency, case.urgent_reason) == ("urgent", "minor")
    assert case.confidential  # a child's urgent case stays between its case workers
    assert CaseAlert.objects.filter(case=case, kind="urgent").exists()


def test_document_download_stays_an_attachment_whatever_its_name(mtc, client_for):
    # The name went raw into the header: quotes broke it, accents turned the whole header into
    # a MIME word (no longer "attachment": browsers showed the file inline).
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jigi.movement.models import CaseDocument

    case = _case(mtc)
    cl = client_for("case_worker_1")
    cl.post(reverse("web:movement_case_documents", args=[case.pk]),
            {"file": SimpleUploadedFile('contrat "signé".png', b"\x89PNG\r\n\x1a\nxx",
                                        content_type="image/png")})
    doc = CaseDocument.objects.get()
    r = cl.get(reverse("web:movement_case_document", args=[case.pk, doc.pk]))
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert "sign%C3%A9" in r["Content-Disposition"]


def test_check_overdue_refuses_a_day_to_come(mtc, client_for):
    # An administrator passing a future day raised overdue alerts for deadlines not passed.
    from datetime import timedelta

    from jigi.core.cleaning import today
    from jigi.movement.models import CaseAlert

    case = _case(mtc, category="unpaid_wages")
    later = (case.resolution_due + timedelta(days=5)).isoformat()
    r = client_for("movement_admin").post(f"/api/v1/movement/case-alerts/check-overdue?on={later}")
    assert r.status_code == 422
    assert not CaseAlert.objects.filter(case=case).exists()
    r = client_for("movement_admin").post(
        f"/api/v1/movement/case-alerts/check-overdue?on={today().isoformat()}")
    assert r.status_code == 200


def test_case_list_reads_the_teams_in_one_query(mtc, client_for):
    # Each row with details read its team with a query of its own (N+1).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        _case(mtc, category="unpaid_wages")
    cl = client_for("case_worker_1")

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            r = cl.get("/api/v1/movement/cases")
        assert r.status_code == 200
        assert all(row["details"]["team"] for row in r.json())
        return len(r.json()), len(ctx.captured_queries)

    rows, few = count()
    for _ in range(3):
        _case(mtc, category="unpaid_wages")
    more_rows, many = count()
    assert (rows, more_rows) == (2, 5)
    assert many == few


def test_next_step_cannot_be_due_before_the_action(mtc):
    # A next step due in 1990 was accepted, and never counted as late.
    from datetime import date

    import pytest

    from jigi.core.errors import ApplicationError

    case = _case(mtc, category="unpaid_wages")
    with pytest.raises(ApplicationError) as exc:
        svc.case_action_record(acting_user=mtc.users["case_worker_1"], case=case,
                               kind="mediation", next_step="Revoir", next_step_due=date(1990, 1, 1))
    assert exc.value.fields.keys() == {"next_step_due"}
    assert case.actions.count() == 1  # the intake only


def test_check_overdue_is_a_403_for_a_sections_organiser(mtc, client_for):
    # She sees the movement (its cases of her section) but may not run the check: 403, not the
    # 404 that says nothing exists. Outsiders still get 404.
    url = "/api/v1/movement/case-alerts/check-overdue"
    assert client_for("organiser").post(url).status_code == 403
    assert client_for("teller_a").post(url).status_code == 404
