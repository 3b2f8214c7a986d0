"""The decent-work indicators and the gender dashboard in a real browser (headless Debian
chromium), on the fixture members of tests/movement (20 November 2026): the figures shown are
those of the members' records, the filter redraws the results with htmx, and an organiser
sees her section's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.movement.conftest import mtc  # noqa: F401
from tests.movement.test_gender import people  # noqa: F401
from tests.movement.test_indicators import members  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_indicators_page_shows_the_members_figures(mtc, members, login, page):  # noqa: F811
    login("movement_admin")
    page.goto("/movement/indicators/")
    # Seven members: 2 of 4 with a contract, 3 of 5 at the SMIG, 1 of 2 domestic workers
    # within 10 hours, the one teacher below the SMIG owed 75,000 F.
    expect(page.locator("#now-contract [data-key=share]")).to_have_text("50,0 %")
    expect(page.locator("#now-contract [data-key=count]")).to_have_text("2 / 4")
    expect(page.locator("#now-smig [data-key=count]")).to_have_text("3 / 5")
    expect(page.locator("#now-minors [data-key=count]")).to_have_text("1 / 2")
    expect(page.locator("#now-teachers_below_smig [data-key=amount]")).to_contain_text(
        re.compile(r"75\s000"))
    expect(page.locator("#by-artisans [data-key=hours] .share")).to_have_text("–")
    # By sex, with htmx: the results are redrawn in place.
    page.select_option("#by", "sex")
    with page.expect_response(lambda r: "by=sex" in r.url and r.status == 200):
        page.click("#show")
    # Women: two domestic workers and a teacher, two with a contract.
    expect(page.locator("#by-F [data-key=contract] .fig")).to_have_text("2 / 3")
    expect(page.locator("#by-M [data-key=smig] .fig")).to_have_text("1 / 2")
    assert "by=sex" in page.url
    expect(page.locator("#csv-now")).to_have_attribute("href", re.compile("format=csv"))


def test_an_organiser_sees_her_section(mtc, members, login, page):  # noqa: F811
    login("organiser")
    page.goto("/movement/indicators/")
    expect(page.locator("#now-contract [data-key=count]")).to_have_text("1 / 2")
    expect(page.locator("#now-teachers_below_smig [data-key=share]")).to_have_text("–")


def test_the_gender_dashboard_shows_the_members_figures(mtc, people, login, page):  # noqa: F811
    login("movement_admin")
    page.goto("/movement/indicators/")
    page.click("#gender-link")
    expect(page.locator("#rural-women [data-key=members]")).to_have_text("2")
    expect(page.locator("#rural-women [data-key=cases]")).to_have_text("2")
    expect(page.locator("#members-F td.num").first).to_have_text("2")
    expect(page.locator("#cases-F td.num").first).to_have_text("2")
    expect(page.locator("#category-child_labour td.num").last).to_have_text("1")
    expect(page.locator("#trainings-F td.num").first).to_have_text("2")
    page.select_option("#by", "area")
    with page.expect_response(lambda r: "by=area" in r.url and r.status == 200):
        page.click("#show")
    expect(page.locator("#members-rural td.num").first).to_have_text("2")
    expect(page.locator("#members-urban td.num").first).to_have_text("2")


def test_a_kondo_teller_sees_her_trainings_only(mtc, people, login, page):  # noqa: F811
    login("teller_a")
    page.goto("/movement/gender/")
    expect(page.locator("#trainings-total td.num").first).to_have_text("1")
    expect(page.locator("#rural-women [data-key=enrolled]")).to_have_text("1")
    expect(page.locator("#rural-women [data-key=members]")).to_have_count(0)
    expect(page.locator("#table-cases")).to_have_count(0)
