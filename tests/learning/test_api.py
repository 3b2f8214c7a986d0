"""The trainings API: the main path, 422 with field messages, 404 across organisations and
caisses, 403 for readers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from jigi.learning.models import Enrolment, TrainingSession
from tests.learning.conftest import TODAY, member
from tests.learning.pdftext import pdf_strings

BASE = "/api/v1/learning"


def _post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def _put(c, url, body):
    return c.put(url, json.dumps(body), content_type="application/json")


def _session_body(world, programme_id, **extra):
    body = {"programme_id": programme_id, "unit_id": world.caisse_a.pk, "place": "Niono",
            "trainer": "Moussa Coulibaly", "starts_on": str(TODAY - timedelta(days=10)),
            "ends_on": str(TODAY), "meetings": 2, "capacity": 10}
    body.update(extra)
    return body


def test_main_path_through_the_api(world, client_for):
    c = client_for("manager_a")
    r = _post(c, f"{BASE}/programmes", {"code": "ALPHA", "name": "Alphabétisation",
                                        "kind": "literacy", "min_attendance_pct": 50})
    assert r.status_code == 201, r.content
    programme = r.json()
    assert (programme["organisation"], programme["tracks_literacy"]) == ("KONDO", True)
    r = _post(c, f"{BASE}/sessions", _session_body(world, programme["id"]))
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    assert r.json()["counts"]["free"] == 10
    a = member(world)
    r = _post(c, f"{BASE}/sessions/{sid}/enrolments", {"person_id": a.pk, "literacy_before": 0})
    assert r.status_code == 201, r.content
    ea = r.json()["id"]
    r = _post(c, f"{BASE}/sessions/{sid}/enrolments", {
        "person": {"first_name": "Ɲɛnɛba", "last_name": "Kanté", "sex": "F",
                   "birth_year": 1968}, "literacy_before": 1})
    assert r.status_code == 201, r.content
    eb = r.json()["id"]
    assert _post(c, f"{BASE}/sessions/{sid}/start", {}).status_code == 200
    marks = {"marks": [{"enrolment_id": ea, "present": True},
                       {"enrolment_id": eb, "present": False}]}
    r = _put(c, f"{BASE}/sessions/{sid}/attendance/1", marks)
    assert r.status_code == 200
    assert r.json()["changed"] == 2
    r = _put(c, f"{BASE}/sessions/{sid}/attendance/1", marks)  # the same again: nothing changes
    assert r.json()["changed"] == 0
    rows = {p["id"]: p for p in c.get(f"{BASE}/sessions/{sid}/enrolments").json()}
    assert (rows[ea]["attendance_pct"], rows[ea]["eligible"]) == ("50.0", True)
    assert (rows[eb]["attendance_pct"], rows[eb]["eligible"]) == ("0.0", False)
    r = _post(c, f"{BASE}/sessions/{sid}/complete",
              {"literacy_after": [{"enrolment_id": ea, "level": 2}]})
    assert r.status_code == 200, r.content
    out = {p["id"]: p for p in r.json()["participants"]}
    assert out[ea]["certificate_number"] == "KONDO-CERT-2026-00001"
    assert out[eb]["status"] == "dropped"
    r = c.get(f"{BASE}/enrolments/{ea}/certificate.pdf")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert c.get(f"{BASE}/enrolments/{eb}/certificate.pdf").status_code == 404
    r = c.get(f"{BASE}/certificates/kondo-cert-2026-00001")
    assert r.status_code == 200
    assert r.json()["name"] == a.full_name
    r = c.get(f"{BASE}/reports", {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    [rep] = r.json()
    assert (rep["enrolled"], rep["completed"], rep["certificates"]) == (2, 1, 1)
    assert rep["literacy"]["assessed"] == 1
    assert rep["literacy"]["mean_gain"] == "2.00"
    r = c.get(f"{BASE}/reports.csv", {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert r.status_code == 200
    lines = r.content.decode().splitlines()
    assert lines[0].startswith("organisation,programme,kind")
    assert lines[1].startswith("KONDO,ALPHA,literacy,2026-01-01,2026-12-31,all,1,2,1,1,1,1")
    assert any(line.startswith("KONDO,ALPHA,literacy,2026-01-01,2026-12-31,sex:F,,2,1,1")
               for line in lines)


def test_pdf_certificate_names_the_participant(learning, client_for):
    from jigi.learning import services

    manager = learning.world.users["manager_a"]
    e = learning.enrolments[0]
    for m in range(1, 7):
        services.attendance_record(acting_user=manager, session=learning.session, meeting=m,
                                   marks={e.pk: True})
    services.session_complete(acting_user=manager, session=learning.session,
                              literacy_after={e.pk: 2})
    r = client_for("teller_a").get(f"{BASE}/enrolments/{e.pk}/certificate.pdf")
    assert r.status_code == 200
    assert r.content.startswith(b"%PDF-1.")
    from jigi.learning.certificates import certificate_pdf
    from jigi.learning.selectors import certificate_text, get_enrolment_for_user

    raw = certificate_pdf(certificate_text(get_enrolment_for_user(manager, e.pk)),
                          compress=False)
    assert e.person.full_name in pdf_strings(raw)
    assert client_for("teller_b").get(
        f"{BASE}/enrolments/{e.pk}/certificate.pdf").status_code == 404


@pytest.mark.parametrize(("extra", "field"), [
    ({"meetings": 0}, "meetings"), ({"meetings": 61}, "meetings"),
    ({"capacity": 0}, "capacity"), ({"starts_on": "2026-13-01"}, "starts_on"),
    ({"ends_on": str(TODAY - timedelta(days=20))}, "ends_on"),
    ({"place": ""}, "place"), ({"language": "zz"}, "language"),
])
def test_session_422_with_field_messages(learning, client_for, extra, field):
    c = client_for("manager_a")
    before = TrainingSession.objects.count()
    r = _post(c, f"{BASE}/sessions", _session_body(learning.world, learning.programme.pk,
                                                   **extra))
    assert r.status_code == 422, r.content
    assert field in r.json()["fields"]
    assert TrainingSession.objects.count() == before


def test_programme_422(world, client_for):
    r = _post(client_for("manager_a"), f"{BASE}/programmes",
              {"code": "X", "name": "X", "kind": "astrology"})
    assert r.status_code == 422
    assert "kind" in r.json()["fields"]


def _urls(learning):
    s = learning.session.pk
    e = learning.enrolments[0].pk
    return [f"{BASE}/sessions/{s}", f"{BASE}/sessions/{s}/enrolments"], [
        (f"{BASE}/sessions/{s}/start", {}), (f"{BASE}/sessions/{s}/cancel", {"reason": "x"}),
        (f"{BASE}/sessions/{s}/complete", {}),
        (f"{BASE}/sessions/{s}/enrolments", {"person_id": learning.enrolments[0].person_id}),
    ], (f"{BASE}/sessions/{s}/attendance/1", {"marks": [{"enrolment_id": e,
                                                         "present": True}]})


@pytest.mark.parametrize("username", ["mutual_manager", "organiser", "teller_b", "clinic"])
def test_other_caisses_and_organisations_get_404(learning, client_for, username):
    c = client_for(username)
    reads, posts, put = _urls(learning)
    for url in reads:
        r = c.get(url)
        assert r.status_code == 404, (url, r.content)
        assert r.json()["code"] == "session_not_found"
    for url, body in posts:
        assert _post(c, url, body).status_code == 404, url
    assert _put(c, *put).status_code == 404
    assert c.get(f"{BASE}/enrolments/{learning.enrolments[0].pk}/certificate.pdf"
                 ).status_code == 404
    assert c.get(f"{BASE}/sessions").json() == []
    r = _post(c, f"{BASE}/sessions", _session_body(learning.world, learning.programme.pk))
    assert r.status_code == 404
    assert TrainingSession.objects.get(pk=learning.session.pk).status == "running"
    assert Enrolment.objects.filter(session=learning.session).count() == 3


@pytest.mark.parametrize("username", ["teller_a", "auditor", "loan_officer_a"])
def test_kondo_readers_see_but_get_403(learning, client_for, username):
    c = client_for(username)
    reads, posts, put = _urls(learning)
    for url in reads:
        assert c.get(url).status_code == 200, url
    for url, body in posts:
        assert _post(c, url, body).status_code == 403, url
    assert _put(c, *put).status_code == 403
    assert TrainingSession.objects.get(pk=learning.session.pk).status == "running"
    assert _post(c, f"{BASE}/programmes", {"code": "X", "name": "X", "kind": "rights"}
                 ).status_code == 403
    assert [s["id"] for s in c.get(f"{BASE}/sessions").json()] == [learning.session.pk]


def test_programmes_are_listed_per_organisation(learning, client_for):
    assert [p["code"] for p in client_for("teller_b").get(f"{BASE}/programmes").json()] == [
        "ALPHA"]
    assert client_for("mutual_manager").get(f"{BASE}/programmes").json() == []
    r = client_for("mutual_manager").get(f"{BASE}/programmes/{learning.programme.pk}")
    assert r.status_code == 404


def test_enrol_needs_one_of_person_or_person_id(learning, client_for):
    r = _post(client_for("manager_a"), f"{BASE}/sessions/{learning.session.pk}/enrolments", {})
    assert r.status_code == 422
    assert "person_id" in r.json()["fields"]
    r = _post(client_for("manager_a"), f"{BASE}/sessions/{learning.session.pk}/enrolments",
              {"person_id": 99_999_999})
    assert r.status_code == 404
    assert "person_id" in r.json()["fields"]


def test_new_person_with_a_bad_phone_is_a_422(learning, client_for):
    r = _post(client_for("manager_a"), f"{BASE}/sessions/{learning.session.pk}/enrolments",
              {"person": {"first_name": "Sali", "last_name": "Keïta", "sex": "F",
                          "birth_year": 1990, "phone": "12"}})
    assert r.status_code == 422
    assert "phone" in r.json()["fields"]


def test_report_period_must_be_ordered(world, client_for):
    r = client_for("manager_a").get(f"{BASE}/reports", {"date_from": "2026-12-31",
                                                        "date_to": "2026-01-01"})
    assert r.status_code == 422
    assert "date_to" in r.json()["fields"]


@pytest.mark.parametrize("number", ["KONDO-CERT-2026-00001", "ab%00c", "%C9%9B", "x" * 40])
def test_unknown_or_malformed_certificate_numbers_are_404(world, client_for, number):
    r = client_for("manager_a").get(f"{BASE}/certificates/{number}")
    assert r.status_code == 404
    assert r.json()["code"] == "certificate_not_found"
