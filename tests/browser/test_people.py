from __future__ import annotations

import pytest

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

    # Search (htmx live results) finds the existing member, accent-insensitively.
    page.goto("/people/")
    page.fill("#q", "traore")
    page.wait_for_selector("table.results >> text=Fatoumata Traoré")

    # A new person registers straight through.
    page.goto("/people/register/")
    _fill_person(page, "Kadiatou", "Dembélé", 1994, "76 55 44 33")
    page.click("main form.stack button[type=submit]")
    page.wait_for_url("**/people/*/")
    assert "Kadiatou Dembélé" in page.locator("h1").inner_text()
    assert page.locator("#memberships").inner_text().count("C001-") == 1

    # A near-duplicate of the known member is stopped with the candidate shown.
    page.goto("/people/register/")
    _fill_person(page, "Fatoumata", "Traore", 1986)
    page.click("main form.stack button[type=submit]")
    warning = page.locator("#duplicate-warning")
    warning.wait_for()
    assert "Fatoumata Traoré" in warning.inner_text()
    assert Person.objects.filter(last_name="Traore").count() == 0

    # Confirming "different person" registers her and keeps the pair for review.
    page.check("#id_confirm_not_duplicate")
    page.click("main form.stack button[type=submit]")
    page.wait_for_url("**/people/*/")
    new = Person.objects.get(last_name="Traore")
    assert DuplicateCandidate.objects.get(person=new).other == known
    assert page.locator("#duplicates").is_visible()
