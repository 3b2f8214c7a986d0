"""MTC campaigns in a real browser: an organiser creates a campaign for a half-day of rest a
week with a petition, collects two signatures at a meeting, reads the codes the SMS outbox
holds (channels.OutboundMessage), confirms them, and sees the counts by place and sex; sends
an SMS to the campaign's members; then someone signs from the public page without logging in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.movement.models import Campaign, Petition, Signature
from jigi.people.models import Person
from tests.movement.conftest import make_member, mtc  # noqa: F401

pytestmark = pytest.mark.browser


def _code(phone: str) -> str:
    text = OutboundMessage.objects.filter(phone=phone).order_by("-pk").first().text
    return re.search(r"\b(\d{6})\b", text).group(1)


def _collect(page, petition, name, phone, sex, region, commune):
    page.fill("#s-name", name)
    page.fill("#s-phone", phone)
    page.check(f"#s-sex-{sex.lower()}")
    page.select_option("#s-region", region)
    page.fill("#s-commune", commune)
    with page.expect_response(lambda r: r.url.endswith(f"/movement/petitions/{petition.pk}/")
                              and r.request.method == "POST"):
        page.click("#collect-submit")
    expect(page.locator("#done")).to_contain_text(name)


def _confirm(page, petition, phone):
    row = page.locator(f"#pending tr[data-phone='{phone}']")
    row.locator("input[name=code]").fill(_code(phone))
    with page.expect_response(lambda r: r.url.endswith(f"/petitions/{petition.pk}/confirm/")):
        row.locator("button").click()
    # The response arrives before htmx swaps it in, and #done already shows from the collect
    # step: wait for this phone's row to leave the pending list, or the next fill lands in the
    # old table and the swap empties it.
    expect(page.locator(f"#pending tr[data-phone='{phone}']")).to_have_count(0)
    expect(page.locator("#done")).to_be_visible()


def test_campaign_petition_collected_and_counted(mtc, login, page):  # noqa: F811
    login("organiser")
    page.goto("/movement/campaigns/")
    page.fill("#code", "REPOS-2027")
    page.fill("#title", "Une demi-journée de repos par semaine")
    page.fill("#goal", "Faire respecter le décret 96-178 : deux demi-journées de repos.")
    page.check("input[name=groups][value=domestic]")
    with page.expect_navigation():
        page.click("#campaign-submit")
    campaign = Campaign.objects.get(code="REPOS-2027")
    expect(page.locator("h1")).to_contain_text("Une demi-journée de repos")
    with page.expect_navigation():
        page.click("#status-active")
    expect(page.locator("#campaign-status")).to_have_text(re.compile(r"\S"))
    page.click("#petition-new summary")
    page.fill("#pt-title", "Pour le repos des aides ménagères")
    page.fill("#pt-text", "Nous demandons deux demi-journées de repos par semaine.")
    page.fill("#pt-target", "3")
    with page.expect_navigation():
        page.click("#petition-submit")
    petition = Petition.objects.get(campaign=campaign)
    page.click(f"#petition-{petition.pk} h3 a")
    expect(page.locator("#collect-form")).to_be_visible()

    _collect(page, petition, "Awa Diarra", "76 12 34 56", "F", "Bamako", "Commune IV")
    _collect(page, petition, "Moussa Keïta", "66 00 00 01", "M", "Ségou", "Niono")
    expect(page.locator("#pending tbody tr")).to_have_count(2)
    _confirm(page, petition, "+22376123456")
    _confirm(page, petition, "+22366000001")

    expect(page.locator("[data-count=confirmed]")).to_have_text("2")
    expect(page.locator("[data-count=women]")).to_have_text("1")
    expect(page.locator("[data-count=men]")).to_have_text("1")
    places = page.locator("table.by-place")
    expect(places).to_contain_text("Commune IV")
    expect(places).to_contain_text("Niono")
    assert Signature.objects.filter(status="confirmed").count() == 2

    # The campaign page shows the same counts.
    page.goto(f"/movement/campaigns/{campaign.pk}/")
    expect(page.locator(f"#petition-{petition.pk} [data-count=confirmed]")).to_have_text("2")

    # An SMS to the domestic workers who agreed to SMS.
    member = make_member(mtc)
    Person.objects.filter(pk=member.person_id).update(phone="+22376120002")
    SmsPreference.objects.create(person=member.person, opt_in=True, language="bm")
    page.fill("#msg-text", "Marche pour le repos samedi 9 h.")
    with page.expect_navigation():
        page.click("#message-submit")
    expect(page.locator("#campaign-messages")).to_contain_text("Marche pour le repos")
    expect(page.locator("#campaign-messages tbody tr").first.locator("td").nth(3)).to_have_text(
        "1")
    assert OutboundMessage.objects.filter(purpose="campaign_message",
                                          person=member.person).count() == 1

    # Someone signs from the public page, logged out.
    page.context.clear_cookies()
    page.goto(f"/p/{petition.pk}/")
    page.fill("#ps-name", "Fanta Coulibaly")
    page.fill("#ps-phone", "70 11 22 33")
    page.check("input[name=sex][value=F]")
    page.select_option("#ps-region", "Kayes")
    with page.expect_navigation():
        page.click("#public-sign-submit")
    page.fill("#pc-code", _code("+22370112233"))
    with page.expect_navigation():
        page.click("#public-confirm-submit")
    expect(page.locator("#public-done")).to_be_visible()
    assert Signature.objects.get(phone="+22370112233").status == "confirmed"
