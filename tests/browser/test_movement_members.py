"""MTC member screens in a real browser: an organiser of the domestic workers' section
registers a girl from the countryside who is a minor, sees the minor / urgent flag, takes her
first dues and sees the receipt."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from jigi.movement.models import DuesPayment, MemberProfile
from tests.movement.conftest import mtc  # noqa: F401

pytestmark = pytest.mark.browser


def test_organiser_registers_a_minor_and_takes_her_dues(mtc, login, page):  # noqa: F811
    login("organiser")
    page.click("#nav-movement")
    page.click("#tile-register")
    # Her only section is chosen already; the domestic workers' fields are on the form.
    expect(page.locator("#id_employer_name")).to_be_visible()
    page.fill("#id_first_name", "Assitan")
    page.fill("#id_last_name", "Dembélé")
    page.select_option("#id_sex", "F")
    page.fill("#id_birth_year", "2012")
    page.fill("#id_phone", "76 55 44 33")
    page.check("#id_rural_origin")
    page.fill("#id_home_village", "Kolokani")
    page.fill("#id_employer_name", "Famille Cissé")
    page.fill("#id_district", "Commune IV, Djicoroni")
    page.fill("#id_monthly_pay", "7 500")
    page.fill("#id_daily_hours", "14")
    page.fill("#id_weekly_rest_half_days", "0")
    page.check("#id_live_in")
    with page.expect_navigation():
        page.click("#register-submit")
    expect(page.locator("#minor-flag")).to_be_visible()
    member = MemberProfile.objects.get()
    assert member.domestic.daily_hours == 14
    assert member.person.phone == "+22376554433"

    page.fill("#id_amount", "500")
    page.select_option("#id_channel", "cash")
    with page.expect_navigation():
        page.click("#pay-submit")
    payment = DuesPayment.objects.get()
    expect(page.locator("#receipt-number")).to_have_text(payment.receipt_number)
    expect(page.locator("#receipt-amount")).to_contain_text("500")
    page.click("#back-to-member")
    expect(page.locator("#payments")).to_contain_text(payment.receipt_number)


def test_section_list_search_and_minors_filter(mtc, login, page):  # noqa: F811
    from tests.movement.conftest import make_member

    child = make_member(mtc, birth_year=2012)
    adult = make_member(mtc, birth_year=1990)
    login("organiser")
    page.goto(f"/movement/sections/{mtc.sections['domestic'].pk}/")
    expect(page.locator("#member-count")).to_contain_text("2")
    with page.expect_response(lambda r: "/movement/sections/" in r.url and "minor=1" in r.url):
        page.check("input[name=minor]")
    expect(page.locator("#members")).to_contain_text(child.person.first_name)
    expect(page.locator("#members")).not_to_contain_text(adult.person.first_name)
    # Unticking sends its own request (with an empty q=), and "1" member is what the minors
    # filter showed already: wait for the search by number, then for the child to leave.
    number = adult.membership.number
    with page.expect_response(lambda r: "/movement/sections/" in r.url
                              and parse_qs(urlsplit(r.url).query).get("q") == [number]):
        page.uncheck("input[name=minor]")
        page.fill("#q", number)
    expect(page.locator("#members")).not_to_contain_text(child.person.first_name)
    expect(page.locator("#members .member-link")).to_have_count(1)
    expect(page.locator("#member-count")).to_contain_text("1")
    expect(page.locator("#members")).to_contain_text(adult.person.first_name)
