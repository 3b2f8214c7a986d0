"""The counter screen of the phone menu: a teller of her caisse sets a member's PIN and
language (htmx), sees a mismatch refused, then the member opens her USSD menu with that PIN."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jigi.channels.models import SmsPreference, UssdPin
from jigi.channels.ussd import pins
from jigi.channels.ussd.services import GatewayRequest, ussd_answer
from tests.people.factories import register

pytestmark = pytest.mark.browser


def test_a_teller_sets_the_pin_and_language_and_the_member_uses_it(world, login, page):
    person = register(world, first_name="Assitan", last_name="Diakité", phone="+22376554433")
    login("teller_a")
    page.goto(f"/channels/ussd/pin/{person.pk}/")
    expect(page.locator("#pin-state")).to_contain_text("⚪")
    # Two different PINs: refused on the field, nothing saved.
    page.check("#lang-bm")
    page.fill("#pin", "2580")
    page.fill("#pin_again", "2589")
    with page.expect_response(lambda r: "/channels/ussd/pin/" in r.url) as answer:
        page.click("#pin-save")
    assert answer.value.status == 422
    expect(page.locator("#err-pin_again")).to_be_visible()
    assert not UssdPin.objects.filter(person=person).exists()
    # The same PIN twice: saved, the state shows a PIN.
    page.check("#lang-bm")
    page.fill("#pin", "2580")
    page.fill("#pin_again", "2580")
    with page.expect_response(lambda r: "/channels/ussd/pin/" in r.url) as answer:
        page.click("#pin-save")
    assert answer.value.status == 200
    expect(page.locator("#pin-saved")).to_be_visible()
    expect(page.locator("#pin-state")).to_contain_text("🔑")
    expect(page.locator("#lang-bm")).to_be_checked()
    assert SmsPreference.objects.get(person=person).language == "bm"
    assert pins.pin_matches(person.pk, "2580", UssdPin.objects.get(person=person).pin_hash)
    # The member dials: no language question (chosen at the counter), her PIN opens the menu.
    ask = GatewayRequest(session_id="browser-1", phone="+22376554433", service_code="*144#",
                         text="")
    assert ussd_answer(ask).startswith("CON ")
    reply = ussd_answer(GatewayRequest(**{**ask.__dict__, "text": "2580"}))
    assert reply.startswith("CON ")
    assert reply.count("\n") >= 6  # the main menu's seven lines
