"""Issue #7's privacy rules: what staff who are not assigned to a confidential case
may learn of it through the list filters and the gender dashboard, and petitions confirmed
after they closed."""

from __future__ import annotations

import json
from datetime import date

import pytest

from jigi.movement.selectors_indicators import Period, gender_dashboard
from tests.movement.conftest import make_member

API = "/api/v1/movement"


def post(client, url, body):
    return client.post(f"{API}{url}", json.dumps(body), content_type="application/json")


@pytest.fixture
def c(mtc, client_for):
    return {u: client_for(u) for u in ["organiser", "case_worker_1", "case_worker_2",
                                       "movement_admin"]}


def _confidential_case(mtc, c, **kw):
    """A confidential case whose main category says little (unpaid wages) and whose other
    category is the secret (sexual harassment), assigned to case_worker_1."""
    profile = make_member(mtc, birth_year=1995)
    body = {"person_id": profile.person.pk, "category": "unpaid_wages",
            "other_categories": ["sexual_harassment"], "intake_channel": "in_person",
            "summary": "Harcelée par le fils de la patronne", **kw}
    r = post(c["organiser"], "/cases", body)
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["confidential"] is True
    assert case["details"] is None
    r = post(c["movement_admin"], f"/cases/{case['id']}/assignments",
             {"lead_id": mtc.users["case_worker_1"].pk})
    assert r.status_code == 200, r.content
    return case


def test_the_category_filter_does_not_reveal_a_confidential_case_s_other_categories(mtc, c):
    case = _confidential_case(mtc, c)
    # Her case workers find it under each of its categories.
    found = c["case_worker_1"].get(f"{API}/cases", {"category": "sexual_harassment"}).json()
    assert [x["id"] for x in found] == [case["id"]]
    # Everyone else sees that it exists (main category: unpaid wages), never that it is also
    # a case of sexual harassment: its other categories are among its details.
    for user in ["case_worker_2", "movement_admin", "organiser"]:
        listed = c[user].get(f"{API}/cases").json()
        assert [x["id"] for x in listed] == [case["id"]]
        assert c[user].get(f"{API}/cases", {"category": "unpaid_wages"}).json()[0]["id"] == \
            case["id"]
        found = c[user].get(f"{API}/cases", {"category": "sexual_harassment"}).json()
        assert found == [], user
        page = c[user].get("/movement/cases/", {"category": "sexual_harassment"})
        assert page.status_code == 200
        assert case["number"] not in page.content.decode(), user


def test_the_gender_dashboard_does_not_reveal_a_confidential_case_s_outcome(mtc, c):
    case = _confidential_case(mtc, c, opened_on="2026-03-02")
    w = c["case_worker_1"]
    r = post(w, f"/cases/{case['id']}/actions",
             {"kind": "mediation", "happened_on": "2026-03-05", "amount_recovered": 75_000})
    assert r.status_code == 201, r.content
    r = post(w, f"/cases/{case['id']}/close",
             {"outcome": "wages_recovered", "closed_on": "2026-03-06"})
    assert r.status_code == 200, r.content
    one_day = Period(date(2026, 3, 2), date(2026, 3, 2))
    # Her assigned worker's dashboard counts what she knows.
    mine, _v, _f = gender_dashboard(mtc.users["case_worker_1"], period=one_day)
    assert mine.cases["sex"].total["wages_recovered"] == 75_000
    assert mine.outcomes["wages_recovered"]["total"] == 1
    # Staff who see only that the case exists: the day it opened (on the list) isolates it on
    # the dashboard, which must then not tell what came of it.
    for user in ["case_worker_2", "movement_admin", "organiser"]:
        result, _v, _f = gender_dashboard(mtc.users[user], period=one_day)
        total = result.cases["sex"].total
        assert (total["cases"], total["closed"]) == (1, 1), user  # the list shows this
        assert (total["resolved"], total["wages_recovered"]) == (0, 0), user
        assert "wages_recovered" not in result.outcomes, user
        assert result.rural_women.get("wages_recovered", 0) == 0
        page = c[user].get("/movement/gender/", {"from": "2026-03-02", "to": "2026-03-02"})
        assert page.status_code == 200
        assert "75" + "\u202f" + "000" not in page.content.decode()
        assert "75 000" not in page.content.decode()
        api = c[user].get(f"{API}/gender", {"date_from": "2026-03-02",
                                            "date_to": "2026-03-02"}).json()
        assert api["cases"]["sex"]["total"]["wages_recovered"] == 0
        assert "wages_recovered" not in api["outcomes"]


# --- petitions: a signature is confirmed while the petition is open --------------------------


def _code(phone):
    import re

    from jigi.channels.models import OutboundMessage

    text = OutboundMessage.objects.filter(phone=phone).order_by("-pk").first().text
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_a_code_typed_after_the_campaign_ended_does_not_add_a_signature(mtc, client_for):
    from jigi.core.cleaning import today
    from jigi.movement.models import Signature

    org = client_for("organiser")
    r = post(org, "/campaigns", {"code": "REPOS", "title": "Repos", "goal": "Deux demi-journées",
                                 "starts_on": today().isoformat()})
    campaign = r.json()["id"]
    r = post(org, f"/campaigns/{campaign}/petitions",
             {"title": "Pour le repos", "text": "Appliquez le décret.", "target": 10,
              "opens_on": today().isoformat()})
    petition = r.json()["id"]
    for phone, name in [("+22376123456", "Awa"), ("+22376123457", "Kadi")]:
        r = post(org, f"/petitions/{petition}/signatures",
                 {"name": name, "phone": phone, "sex": "F", "region": "Bamako"})
        assert r.status_code == 201, r.content
    public = client_for("teller_a")  # anyone: the public call needs no login
    r = post(public, f"/petitions/{petition}/public/sign",
             {"name": "Fanta", "phone": "+22376123458", "sex": "F", "region": "Kayes"})
    assert r.status_code == 202, r.content
    # The campaign ends (the petition is handed over with its count) ...
    assert post(org, f"/campaigns/{campaign}/status", {"status": "ended"}).status_code == 200
    # ... then codes arrive: none of them adds a signature to the petition handed over.
    r = post(org, f"/petitions/{petition}/signatures/confirm",
             {"phone": "+22376123456", "code": _code("+22376123456")})
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "petition_closed"
    page = org.post(f"/movement/petitions/{petition}/confirm/",
                    {"phone": "+22376123457", "code": _code("+22376123457")})
    assert page.status_code == 409
    r = post(public, f"/petitions/{petition}/public/confirm",
             {"phone": "+22376123458", "code": _code("+22376123458")})
    assert r.status_code == 409, r.content
    assert not Signature.objects.filter(status="confirmed").exists()
    counts = org.get(f"{API}/petitions/{petition}/counts").json()
    assert (counts["confirmed"], counts["pending"]) == (0, 3)


def test_the_audit_trail_keeps_a_confidential_cases_details_on_its_timeline(mtc):
    """The movement's administrator reads the audit trail; a confidential case's step kind,
    outcome and wages stay on the timeline its assigned workers read."""
    from jigi.core.models import AuditEvent
    from jigi.movement.services import cases as cases_svc
    from tests.movement.test_cases import _worker_case

    case, worker = _worker_case(mtc, category="sexual_harassment")
    assert case.confidential
    cases_svc.case_action_record(acting_user=worker, case=case, kind="mediation",
                                 amount_recovered="30000", note="L'employeur paie")
    case = cases_svc.case_close(acting_user=worker, case=case, outcome="wages_recovered")
    rows = AuditEvent.objects.filter(event_type__in=["movement.case_action",
                                                     "movement.case_closed"])
    assert rows.count() == 2
    for row in rows:
        assert "30000" not in str(row.after)
        assert "wages_recovered" not in str(row.after)
        assert row.after["details"] == "timeline"
