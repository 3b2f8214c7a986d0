import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_login_shows_the_home_dashboard_in_french(world, login, page):
    login("teller_a")
    assert page.locator("h1").inner_text().startswith(("Bienvenue", "Welcome"))
    assert page.locator("#active-members").inner_text() == "0"


def test_wrong_password_is_refused_with_a_message(world, page):
    page.goto("/login/")
    page.fill("#id_username", "teller_a")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    # is_visible() does not wait for the answer page; expect() does.
    expect(page.locator("[role=alert]")).to_be_visible()
    assert "/login/" in page.url
