"""The movement's member and dues screens: home, section list with search, registration,
member page, payment with its receipt, waivers; refusals for outsiders and other sections."""

from __future__ import annotations

from datetime import date

from jigi.movement.models import DuesPayment, DuesWaiver, MemberProfile
from jigi.movement.services import dues
from tests.movement.conftest import make_member

NEW_CHILD = {"first_name": "Fanta", "last_name": "Dembélé", "sex": "F", "birth_year": "2012",
             "phone": "70 11 22 33", "language": "bm", "employer_name": "Famille Sow",
             "district": "Commune VI, Sogoniko", "monthly_pay": "8 000", "daily_hours": "14",
             "weekly_rest_half_days": "0", "live_in": "on", "rural_origin": "on"}


def test_home_shows_sections_standing_and_minors(mtc, client_for):
    make_member(mtc, birth_year=2012)
    make_member(mtc, birth_year=1990)
    r = client_for("organiser").get("/movement/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="section-S-DOM"' in html
    assert 'id="minors-total"' in html
    assert 'href="/movement/cases/"' in html
    assert 'href="/movement/campaigns/"' in html
    assert 'href="/movement/indicators/"' in html
    assert "S-ART" not in html  # not her section
    assert client_for("teller_a").get("/movement/").status_code == 403
    assert client_for("mutual_manager").get("/movement/").status_code == 403


def test_section_list_searches_with_htmx(mtc, client_for):
    a = make_member(mtc)
    make_member(mtc)
    c = client_for("organiser")
    section = mtc.sections["domestic"]
    r = c.get(f"/movement/sections/{section.pk}/")
    assert r.status_code == 200
    assert r.content.decode().count('class="member-link"') == 2
    r = c.get(f"/movement/sections/{section.pk}/", {"q": a.membership.number},
              HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert "<html" not in html
    assert html.count('class="member-link"') == 1
    assert client_for("organiser_art").get(f"/movement/sections/{section.pk}/"
                                           ).status_code == 404


def test_register_a_minor_then_take_dues(mtc, client_for):
    c = client_for("organiser")
    section = mtc.sections["domestic"]
    form = c.get("/movement/members/new/")
    assert form.status_code == 200
    assert 'name="employer_name"' in form.content.decode()
    fields = c.get("/movement/members/group-fields/", {"section": mtc.sections["teachers"].pk})
    assert fields.status_code == 404  # not her section
    r = c.post("/movement/members/new/", {"section": section.pk, **NEW_CHILD})
    assert r.status_code == 302, r.content.decode()[:2000]
    p = MemberProfile.objects.get()
    assert r["Location"] == f"/movement/members/{p.pk}/"
    assert p.domestic.monthly_pay == 8000
    assert p.domestic.live_in is True
    assert p.rural_origin is True
    page = c.get(r["Location"]).content.decode()
    assert 'id="minor-flag"' in page
    pay = c.post(f"/movement/members/{p.pk}/pay/", {"amount": "1 000", "channel": "cash",
                                                     "idempotency_key": "form-1"})
    assert pay.status_code == 302
    payment = DuesPayment.objects.get()
    assert pay["Location"] == f"/movement/payments/{payment.pk}/"
    again = c.post(f"/movement/members/{p.pk}/pay/", {"amount": "1 000", "channel": "cash",
                                                       "idempotency_key": "form-1"})
    assert again["Location"] == pay["Location"]
    assert DuesPayment.objects.count() == 1
    receipt = c.get(pay["Location"]).content.decode()
    assert payment.receipt_number in receipt
    assert 'id="receipt-amount"' in receipt


def test_register_refusals_show_field_messages(mtc, client_for):
    c = client_for("organiser")
    section = mtc.sections["domestic"]
    r = c.post("/movement/members/new/", {"section": section.pk, **NEW_CHILD,
                                          "daily_hours": "30", "phone": "123"})
    assert r.status_code == 422
    assert r.content.decode().count('class="field-error"') >= 1
    r = c.post("/movement/members/new/", {"section": section.pk, **NEW_CHILD,
                                          "daily_hours": "beaucoup"})
    assert r.status_code == 422
    assert not MemberProfile.objects.exists()
    assert client_for("teller_a").get("/movement/members/new/").status_code == 403


def test_member_page_refusals_and_waivers(mtc, client_for):
    p = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    assert client_for("organiser_art").get(f"/movement/members/{p.pk}/").status_code == 404
    assert client_for("teller_a").get(f"/movement/members/{p.pk}/").status_code == 404
    c = client_for("organiser")
    bad = c.post(f"/movement/members/{p.pk}/pay/", {"amount": "-4", "channel": "cash",
                                                    "idempotency_key": "k"})
    assert bad.status_code == 422
    r = c.post(f"/movement/members/{p.pk}/waiver/", {"waiver_amount": "250",
                                                     "waiver_reason": "Malade"})
    assert r.status_code == 302
    w = DuesWaiver.objects.get()
    assert c.post(f"/movement/waivers/{w.pk}/decide/", {"decision": "approve"}
                  ).status_code == 403
    admin = client_for("movement_admin")
    assert 'id="waivers"' in admin.get("/movement/").content.decode()
    r = admin.post(f"/movement/waivers/{w.pk}/decide/", {"decision": "approve"})
    assert r.status_code == 302
    w.refresh_from_db()
    assert w.status == "approved"
    edit = c.post(f"/movement/members/{p.pk}/edit/", {
        "employer_name": "Famille Keïta", "district": "Lafiabougou", "daily_hours": "10",
        "weekly_rest_half_days": "2", "monthly_pay": "15000"})
    assert edit.status_code == 302
    p.refresh_from_db()
    assert p.domestic.daily_hours == 10


def test_officer_exempts_and_ends_a_membership(mtc, client_for):
    p = make_member(mtc)
    assert client_for("organiser").post(f"/movement/members/{p.pk}/officer/",
                                         {"action": "end", "officer_reason": "Départ"}
                                         ).status_code == 403
    admin = client_for("movement_admin")
    assert 'id="officer-form"' in admin.get(f"/movement/members/{p.pk}/").content.decode()
    r = admin.post(f"/movement/members/{p.pk}/officer/", {"action": "end"})
    assert r.status_code == 422
    assert 'class="field-error"' in r.content.decode()
    r = admin.post(f"/movement/members/{p.pk}/officer/",
                   {"action": "exempt", "officer_reason": "Mineure"})
    assert r.status_code == 302
    r = admin.post(f"/movement/members/{p.pk}/officer/",
                   {"action": "end", "officer_reason": "Partie au village"})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.dues_exempt is True
    assert p.membership.status == "ended"
