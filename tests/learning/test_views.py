"""The trainings screens: pages open for who may see them, 404 across caisses and
organisations, 403 for readers' actions, the roll call by htmx, completion, PDF, report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jigi.learning.models import Attendance, Enrolment, Programme, TrainingSession
from tests.learning.conftest import TODAY, member


def test_home_lists_programmes_and_sessions_in_scope(learning, client_for):
    r = client_for("teller_a").get("/learning/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Alphabétisation" in html
    assert f"/learning/sessions/{learning.session.pk}/" in html
    assert 'id="new-session"' not in html  # a teller does not plan sessions
    r = client_for("teller_b").get("/learning/")
    assert f"/learning/sessions/{learning.session.pk}/" not in r.content.decode()
    r = client_for("manager_a").get("/learning/")
    assert 'id="new-session"' in r.content.decode()


@pytest.mark.parametrize("username", ["teller_b", "mutual_manager", "organiser"])
def test_session_pages_are_404_outside_the_scope(learning, client_for, username):
    c = client_for(username)
    s = learning.session.pk
    e = learning.enrolments[0].pk
    for url in (f"/learning/sessions/{s}/", f"/learning/sessions/{s}/roll/1/",
                f"/learning/sessions/{s}/complete/", f"/learning/enrolments/{e}/certificate.pdf"):
        assert c.get(url).status_code == 404, url
    assert c.post(f"/learning/sessions/{s}/roll/1/",
                  {"enrolment": e, "present": "yes"}).status_code == 404
    assert not Attendance.objects.exists()


def test_teller_sees_the_session_but_cannot_act(learning, client_for):
    c = client_for("teller_a")
    s = learning.session.pk
    r = c.get(f"/learning/sessions/{s}/")
    assert r.status_code == 200
    assert 'id="roll-call"' not in r.content.decode()
    r = c.post(f"/learning/sessions/{s}/roll/1/", {"enrolment": learning.enrolments[0].pk,
                                                    "present": "yes"})
    assert r.status_code == 403
    assert c.get(f"/learning/sessions/{s}/complete/").status_code == 403
    assert c.get("/learning/sessions/new/").status_code == 403
    assert c.get("/learning/programmes/new/").status_code == 403
    assert not Attendance.objects.exists()


def test_programme_and_session_forms(world, client_for):
    c = client_for("manager_a")
    r = c.post("/learning/programmes/new/", {
        "organisation": world.orgs.kondo.pk, "code": "ALPHA", "name": "Alphabétisation",
        "kind": "literacy", "min_attendance_pct": "75", "tracks_literacy": "auto"})
    assert r.status_code == 302
    p = Programme.objects.get(code="ALPHA")
    assert p.tracks_literacy
    r = c.post("/learning/sessions/new/", {
        "programme": p.pk, "unit": world.caisse_a.pk, "place": "Niono", "trainer": "Moussa",
        "starts_on": str(TODAY), "ends_on": str(TODAY - timedelta(days=1)), "meetings": "0",
        "capacity": "20", "language": "bm"})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="form-error"' in html
    assert not TrainingSession.objects.exists()
    r = c.post("/learning/sessions/new/", {
        "programme": p.pk, "unit": world.caisse_a.pk, "place": "Niono", "trainer": "Moussa",
        "starts_on": str(TODAY), "ends_on": str(TODAY), "meetings": "2", "capacity": "20",
        "language": "bm"})
    assert r.status_code == 302
    s = TrainingSession.objects.get()
    assert r["Location"] == f"/learning/sessions/{s.pk}/"


def test_enrol_search_and_register(learning, client_for):
    w = learning.world
    c = client_for("manager_a")
    s = learning.session.pk
    m = member(w, first_name="Oumou", last_name="Sangaré")
    r = c.get(f"/learning/sessions/{s}/", {"q": "Sangaré"})
    assert "Oumou Sangaré" in r.content.decode()
    r = c.post(f"/learning/sessions/{s}/enrol/", {"person": m.pk, "literacy_before": "1"})
    assert r.status_code == 302
    assert Enrolment.objects.get(session_id=s, person=m).literacy_before == 1
    r = c.post(f"/learning/sessions/{s}/enrol/", {
        "first_name": "Ɲɛnɛba", "last_name": "Kanté", "sex": "F", "birth_year": "1968"})
    assert r.status_code == 302
    assert Enrolment.objects.filter(session_id=s, person__first_name="Ɲɛnɛba").exists()
    r = c.post(f"/learning/sessions/{s}/enrol/", {"first_name": "", "last_name": "X",
                                                   "sex": "F", "birth_year": "19x"})
    assert r.status_code == 422


def test_roll_call_by_htmx_and_completion(learning, client_for):
    c = client_for("manager_a")
    s = learning.session
    fatou, kadi, bakary = learning.enrolments
    r = c.get(f"/learning/sessions/{s.pk}/roll/1/")
    assert r.status_code == 200
    assert 'data-state="unmarked"' in r.content.decode()
    for meeting in range(1, 7):
        for e, present in ((fatou, "yes"), (kadi, "yes" if meeting < 3 else "no")):
            r = c.post(f"/learning/sessions/{s.pk}/roll/{meeting}/",
                       {"enrolment": e.pk, "present": present}, HTTP_HX_REQUEST="true")
            assert r.status_code == 200
            assert f'id="roll-{e.pk}"' in r.content.decode()
    # The same tap again changes nothing.
    r = c.post(f"/learning/sessions/{s.pk}/roll/1/", {"enrolment": fatou.pk, "present": "yes"},
               HTTP_HX_REQUEST="true")
    assert 'data-state="present"' in r.content.decode()
    assert Attendance.objects.filter(enrolment=fatou).count() == 6
    # A tap for a meeting that does not exist is a 404; an unknown participant an error box.
    assert c.post(f"/learning/sessions/{s.pk}/roll/7/",
                  {"enrolment": fatou.pk, "present": "yes"}).status_code == 404
    r = c.post(f"/learning/sessions/{s.pk}/roll/1/", {"enrolment": "999999", "present": "yes"},
               HTTP_HX_REQUEST="true")
    assert r["HX-Retarget"] == "#roll-error"
    # Completion: the level reached is needed for Fatoumata (she earns the certificate).
    r = c.post(f"/learning/sessions/{s.pk}/complete/", {})
    assert r.status_code == 422
    r = c.post(f"/learning/sessions/{s.pk}/complete/", {f"after_{fatou.pk}": "3"})
    assert r.status_code == 302
    fatou.refresh_from_db()
    assert fatou.certificate_number == "KONDO-CERT-2026-00001"
    kadi.refresh_from_db()
    assert (kadi.status, kadi.certificate_number) == ("dropped", None)
    r = c.get(f"/learning/sessions/{s.pk}/")
    assert "KONDO-CERT-2026-00001" in r.content.decode()
    r = client_for("auditor").get(f"/learning/enrolments/{fatou.pk}/certificate.pdf")
    assert r.status_code == 200
    assert r.content.startswith(b"%PDF-")
    assert c.get(f"/learning/enrolments/{kadi.pk}/certificate.pdf").status_code == 404


def test_report_page_and_csv(learning, client_for):
    c = client_for("manager_a")
    r = c.get("/learning/reports/", {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert r.status_code == 200
    assert "Alphabétisation" in r.content.decode()
    r = c.get("/learning/reports/", {"date_from": "2026-01-01", "date_to": "2026-12-31",
                                     "format": "csv"})
    assert r["Content-Type"].startswith("text/csv")
    assert ",ALPHA,literacy," in r.content.decode()
    r = c.get("/learning/reports/", {"date_from": "2026-13-01"})
    assert r.status_code == 422
    r = client_for("mutual_manager").get("/learning/reports/", {"date_from": "2026-01-01",
                                                                "date_to": "2026-12-31"})
    assert "Alphabétisation" not in r.content.decode()


def test_cancel_needs_a_reason_and_closes_enrolment(learning, client_for):
    c = client_for("manager_a")
    s = learning.session.pk
    r = c.post(f"/learning/sessions/{s}/cancel/", {"reason": ""})
    assert r.status_code == 422
    r = c.post(f"/learning/sessions/{s}/cancel/", {"reason": "Inondations"})
    assert r.status_code == 302
    assert TrainingSession.objects.get(pk=s).status == "cancelled"
    r = c.post(f"/learning/sessions/{s}/enrol/", {"person": learning.enrolments[0].person_id})
    assert r.status_code == 409


def test_programme_form_can_turn_literacy_levels_off(world, client_for):
    r = client_for("manager_a").post("/learning/programmes/new/", {
        "organisation": world.orgs.kondo.pk, "code": "ALPHA2", "name": "Lire et compter",
        "kind": "literacy", "min_attendance_pct": "60", "tracks_literacy": "no"})
    assert r.status_code == 302
    assert Programme.objects.get(code="ALPHA2").tracks_literacy is False
    r = client_for("manager_a").post("/learning/programmes/new/", {
        "organisation": world.orgs.utm.pk, "code": "X", "name": "X", "kind": "rights",
        "min_attendance_pct": "60"})
    assert r.status_code == 422  # not an organisation she manages
    assert not Programme.objects.filter(code="X").exists()


def test_session_edit(learning, client_for):
    s = learning.session
    c = client_for("manager_a")
    r = c.get(f"/learning/sessions/{s.pk}/edit/")
    assert r.status_code == 200
    assert 'value="Niono, salle de la caisse"' in r.content.decode()
    body = {"place": "Siribala, école", "trainer": "Aminata Sidibé",
            "starts_on": str(s.starts_on), "ends_on": str(s.ends_on), "meetings": "8",
            "capacity": "2", "language": "bm"}
    r = c.post(f"/learning/sessions/{s.pk}/edit/", body)
    assert r.status_code == 422  # three already enrolled
    r = c.post(f"/learning/sessions/{s.pk}/edit/", body | {"capacity": "25"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert (s.place, s.trainer, s.meetings, s.capacity) == ("Siribala, école", "Aminata Sidibé",
                                                            8, 25)
    assert client_for("teller_a").get(f"/learning/sessions/{s.pk}/edit/").status_code == 403
    assert client_for("teller_b").get(f"/learning/sessions/{s.pk}/edit/").status_code == 404


def test_level_before_set_from_the_session_page(learning, client_for):
    e = learning.enrolments[0]
    c = client_for("manager_a")
    assert c.post(f"/learning/enrolments/{e.pk}/level/", {"literacy_before": "2"}
                  ).status_code == 302
    e.refresh_from_db()
    assert e.literacy_before == 2
    assert c.post(f"/learning/enrolments/{e.pk}/level/", {"literacy_before": "9"}
                  ).status_code == 422
    assert client_for("teller_a").post(f"/learning/enrolments/{e.pk}/level/",
                                       {"literacy_before": "0"}).status_code == 403
    assert client_for("mutual_manager").post(f"/learning/enrolments/{e.pk}/level/",
                                             {"literacy_before": "0"}).status_code == 404
    e.refresh_from_db()
    assert e.literacy_before == 2


def test_programme_edit_and_withdraw(learning, client_for):
    p = learning.programme
    c = client_for("manager_a")
    r = c.get(f"/learning/programmes/{p.pk}/")
    assert r.status_code == 200
    assert 'value="Alphabétisation"' in r.content.decode()
    r = c.post(f"/learning/programmes/{p.pk}/", {"name": "Lire et écrire",
                                                  "min_attendance_pct": "101"})
    assert r.status_code == 422
    r = c.post(f"/learning/programmes/{p.pk}/", {"name": "Lire et écrire",
                                                  "min_attendance_pct": "0"})
    assert r.status_code == 302
    p.refresh_from_db()
    assert (p.name, p.min_attendance_pct, p.active) == ("Lire et écrire", 0, False)
    assert 'value="0"' in c.get(f"/learning/programmes/{p.pk}/").content.decode()
    assert client_for("teller_a").get(f"/learning/programmes/{p.pk}/").status_code == 403
    assert client_for("mutual_manager").get(f"/learning/programmes/{p.pk}/").status_code == 404
