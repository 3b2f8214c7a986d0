"""The movement members and dues API end to end: registration with field-level 422s, the
member list with filters, the dues statement, an idempotent payment, a reversal, waivers and
the accrual; refusals for other sections and for Kondo and UTM staff."""

from __future__ import annotations

import json
from datetime import date

from django.utils import translation

from jigi.movement.models import DuesPayment, MemberProfile
from jigi.movement.services import dues
from jigi.people.models import Person
from tests.movement.conftest import make_member

API = "/api/v1/movement"


def post(client, url, body, key=None, **headers):
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(f"{API}{url}", json.dumps(body), content_type="application/json",
                       **headers)


def patch(client, url, body):
    return client.patch(f"{API}{url}", json.dumps(body), content_type="application/json")


def child(**extra):
    return {"section_id": None, "person": {
        "first_name": "Kadiatou", "last_name": "Konaté", "sex": "F", "birth_year": 2012,
        "phone": "+223 66 12 34 56", "language": "bm"},
        "profile": {"rural_origin": True, "home_village": "Ségou"},
        "record": {"employer_name": "Famille Touré", "district": "Commune I, Korofina",
                   "monthly_pay": "7 500", "daily_hours": 13, "weekly_rest_half_days": 0,
                   "live_in": True}, **extra}


def test_organiser_registers_a_minor_and_reads_her_back(mtc, client_for):
    c = client_for("organiser")
    body = child()
    body["section_id"] = mtc.sections["domestic"].pk
    r = post(c, "/members", body)
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["minor"] is True
    assert data["group"] == "domestic"
    assert data["record"]["monthly_pay"] == 7500
    assert data["phone"] == "+22366123456"
    assert data["standing"] == "new"
    got = c.get(f"{API}/members/{data['id']}").json()
    assert got["record"]["daily_hours"] == 13
    listed = c.get(f"{API}/members", {"minor": "true"}).json()
    assert [m["id"] for m in listed["results"]] == [data["id"]]
    sections = c.get(f"{API}/sections").json()
    assert [(s["code"], s["members"], s["minors"]) for s in sections] == [("S-DOM", 1, 1)]


def test_bad_input_gets_field_messages_in_the_users_language(mtc, client_for):
    c = client_for("organiser")
    body = child()
    body["section_id"] = mtc.sections["domestic"].pk
    body["person"]["phone"] = "12"
    body["record"].update({"daily_hours": 30, "weekly_rest_half_days": 20,
                           "monthly_pay": "10000000"})
    before = (Person.objects.count(), MemberProfile.objects.count())
    r = post(c, "/members", body, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422
    fields = r.json()["fields"]
    assert {"daily_hours", "weekly_rest_half_days", "monthly_pay"} <= set(fields)
    with translation.override("en"):
        assert fields["daily_hours"] == ["Enter a number from 0 to 24."]
    body["record"] = child()["record"]
    r = post(c, "/members", body)
    assert r.status_code == 422
    assert "phone" in r.json()["fields"]
    body["person"]["phone"] = ""
    body["person"]["birth_year"] = 1700
    assert post(c, "/members", body).status_code == 422
    assert (Person.objects.count(), MemberProfile.objects.count()) == before


def test_outsiders_see_nothing_and_other_sections_are_hidden(mtc, client_for):
    dom = make_member(mtc)
    art = make_member(mtc, "artisans")
    for user in ("teller_a", "mutual_manager"):
        c = client_for(user)
        assert c.get(f"{API}/members").json()["count"] == 0
        assert c.get(f"{API}/sections").json() == []
        assert c.get(f"{API}/members/{dom.pk}").status_code == 404
        assert c.get(f"{API}/members/{dom.pk}/dues").status_code == 404
        assert post(c, f"/members/{dom.pk}/payments", {"amount": 250, "channel": "cash"},
                    key=f"k-{user}").status_code == 404
        body = child()
        body["section_id"] = mtc.sections["domestic"].pk
        assert post(c, "/members", body).status_code == 404
        assert post(c, "/dues/accrue", {}).status_code == 404
    art_c = client_for("organiser_art")
    assert [m["id"] for m in art_c.get(f"{API}/members").json()["results"]] == [art.pk]
    assert art_c.get(f"{API}/members/{dom.pk}").status_code == 404
    assert art_c.get(f"{API}/members", {"section_id": mtc.sections["domestic"].pk}
                     ).status_code == 404
    assert post(client_for("organiser"), "/dues/accrue", {}).status_code == 403


def test_filters_and_pagination(mtc, client_for):
    a = make_member(mtc, birth_year=1990)
    make_member(mtc, birth_year=1992)
    make_member(mtc, "youth")
    c = client_for("case_worker_1")
    page = c.get(f"{API}/members", {"group": "domestic", "limit": 1}).json()
    assert page["count"] == 2
    assert len(page["results"]) == 1
    assert c.get(f"{API}/members", {"q": a.membership.number}).json()["results"][0]["id"] == \
        a.pk
    assert c.get(f"{API}/members", {"standing": "arrears"}).json()["count"] == 0


def test_pay_is_idempotent_then_reversed(mtc, client_for):
    p = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    c = client_for("organiser")
    body = {"amount": "500", "channel": "cash"}
    assert post(c, f"/members/{p.pk}/payments", body).status_code == 400  # no key
    r1 = post(c, f"/members/{p.pk}/payments", body, key="pay-1")
    assert r1.status_code == 201, r1.content
    r2 = post(c, f"/members/{p.pk}/payments", body, key="pay-1")
    assert r2.json() == r1.json()
    assert post(c, f"/members/{p.pk}/payments", {**body, "amount": 600},
                key="pay-1").status_code == 409
    assert DuesPayment.objects.count() == 1
    pay = r1.json()["payment"]
    assert pay["amount"] == 500
    assert r1.json()["member"]["arrears"] == 250
    assert post(c, f"/members/{p.pk}/payments", {"amount": "-3", "channel": "x"},
                key="pay-2").status_code == 422
    st = c.get(f"{API}/members/{p.pk}/dues").json()
    assert (st["charged"], st["paid"], st["arrears"]) == (750, 500, 250)
    rev = post(c, f"/payments/{pay['id']}/reverse", {"reason": "Erreur de saisie"},
               key="rev-1")
    assert rev.status_code == 201, rev.content
    assert rev.json()["payment"]["amount"] == -500
    assert rev.json()["member"]["arrears"] == 750
    assert client_for("organiser_art").get(f"{API}/payments/{pay['id']}").status_code == 404


def test_waiver_request_and_decision(mtc, client_for):
    p = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    org = client_for("organiser")
    r = post(org, f"/members/{p.pk}/waivers", {"amount": 500, "reason": "Malade"})
    assert r.status_code == 201
    wid = r.json()["id"]
    assert post(org, f"/waivers/{wid}/decide", {"approve": True}).status_code == 403
    admin = client_for("movement_admin")
    assert [w["id"] for w in admin.get(f"{API}/waivers").json()] == [wid]
    d = post(admin, f"/waivers/{wid}/decide", {"approve": True, "note": "ok"})
    assert d.status_code == 200
    assert d.json()["status"] == "approved"
    assert admin.get(f"{API}/members/{p.pk}").json()["arrears"] == 250


def test_admin_runs_the_accrual_and_updates_a_record(mtc, client_for):
    p = make_member(mtc, joined=date(2026, 10, 1))
    admin = client_for("movement_admin")
    r = post(admin, "/dues/accrue", {"as_of": "2026-11-20"})
    assert r.status_code == 200
    assert r.json()["charges"] == 2
    assert post(admin, "/dues/accrue", {"as_of": "2026-11-20"}).json()["charges"] == 0
    assert post(admin, "/dues/accrue", {"as_of": "2999-01-01"}).status_code == 422
    u = patch(client_for("organiser"), f"/members/{p.pk}",
              {"record": {"weekly_rest_half_days": 2}, "profile": {"area_kind": "rural"}})
    assert u.status_code == 200
    assert u.json()["record"]["weekly_rest_half_days"] == 2
    assert u.json()["profile"]["area_kind"] == "rural"
    assert patch(client_for("organiser"), f"/members/{p.pk}",
                 {"record": {"weekly_rest_half_days": 99}}).status_code == 422
    e = post(admin, f"/members/{p.pk}/end", {"reason": "Départ"})
    assert e.json()["membership_status"] == "ended"
