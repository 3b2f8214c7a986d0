"""People screens in a real browser: live search, registration, duplicate warning."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jigi.people.models import DuplicateCandidate, Person
from tests.people.factories import register

pytestmark = pytest.mark.browser


def _fill_person(page, first, last, year, phone=""):
    page.fill("#id_first_name", first)
    page.fill("#id_last_name", last)
    page.check("input[name=sex][value=F]")
    page.fill("#id_birth_year", str(year))
    page.fill("#id_phone", phone)
    page.fill("#id_village", "Siribala")


def test_search_register_and_duplicate_warning(world, login, page):
    known = register(world, first_name="Fatoumata", last_name="Traoré", birth_year=1985)
    login("teller_a")

    # Search: results arrive while typing (htmx), accent-insensitively.
    page.goto("/people/")
    page.locator("#q").press_sequentially("traore", delay=30)
    # A slow machine may send "tra" or "trao" first, whose results also show her: wait for
    # the answer to the whole word (its address is pushed as it is swapped in).
    expect(page).to_have_url(re.compile(r"/people/\?q=traore$"))  # the search is in the address
    hit = page.locator("#results table.results a", has_text="Fatoumata Traoré")
    expect(hit).to_be_visible()

    # A new person registers straight through; her caisse is chosen for the teller.
    page.goto("/people/register/")
    assert page.locator("#id_unit").input_value() == str(world.caisse_a.pk)
    _fill_person(page, "Kadiatou", "Dembélé", 1994, "76 55 44 33")
    with page.expect_navigation():
        page.click("#register-submit")
    assert "Kadiatou Dembélé" in page.locator("h1").inner_text()
    assert page.locator("#memberships").inner_text().count("C001-000002") == 1

    # A near-duplicate of the known member is stopped with the candidate shown.
    page.goto("/people/register/")
    _fill_person(page, "Fatoumata", "Traore", 1986)
    with page.expect_navigation():
        page.click("#register-submit")
    warning = page.locator("#duplicate-warning")
    assert warning.is_visible()
    assert "Fatoumata Traoré" in warning.inner_text()
    assert "C001-000001" in warning.inner_text()
    assert Person.objects.filter(last_name="Traore").count() == 0

    # "This is a different person": registered, the pair kept for a manager.
    page.check("#id_confirm_not_duplicate")
    with page.expect_navigation():
        page.click("#register-submit")
    new = Person.objects.get(last_name="Traore")
    assert page.url.endswith(f"/people/{new.pk}/")
    assert "Fatoumata Traore" in page.locator("h1").inner_text()
    assert DuplicateCandidate.objects.get(person=new).other == known
    assert page.locator("#duplicates").is_visible()
    assert "Fatoumata Traoré" in page.locator("#duplicates").inner_text()
