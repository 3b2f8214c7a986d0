"""A member asks by USSD to be called back; the teller of her caisse sees the request, calls
her and marks it "Called" with a note (htmx redraws the row)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jigi.channels.models import CallbackRequest
from jigi.channels.ussd.services import ussd_callback_request
from tests.people.factories import register

pytestmark = pytest.mark.browser


def test_a_teller_sees_a_request_and_marks_it_handled(world, login, page):
    person = register(world, first_name="Assitan", last_name="Diakité", phone="+22376554433")
    assert ussd_callback_request(person_id=person.pk, phone="+22376554433") == "new"
    request = CallbackRequest.objects.get(person=person)
    login("teller_a")
    page.goto("/channels/callbacks/")
    row = page.locator(f"#callback-{request.pk}")
    expect(row).to_contain_text("Assitan Diakité")
    expect(row).to_contain_text("+22376554433")
    expect(page.locator("#callbacks-open-count")).to_have_text("1")
    page.fill(f"#note-{request.pk}", "Appelée: elle passe lundi")
    with page.expect_response(lambda r: "/channels/callbacks/" in r.url
                              and r.request.method == "POST") as answer:
        page.click(f"#called-{request.pk}")
    assert answer.value.status == 200
    expect(row).to_have_attribute("data-open", "no")
    expect(row).to_contain_text("Appelée: elle passe lundi")
    expect(page.locator(f"#called-{request.pk}")).to_have_count(0)
    request.refresh_from_db()
    assert request.handled_by == world.users["teller_a"]
    assert request.note == "Appelée: elle passe lundi"
    # The next visit shows it handled and nothing left to call.
    page.goto("/channels/callbacks/?show=open")
    expect(page.locator("#callbacks-open-count")).to_have_text("0")
    expect(page.locator("#callbacks-empty")).to_be_visible()
