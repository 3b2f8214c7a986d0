"""The SMS outbox in a real browser: a caisse manager searches a member's phone (htmx redraws
the table), sends the waiting messages through the simulator and sees them delivered, then
opens the cost report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jigi.channels.models import OutboundMessage
from jigi.channels.outbox import message_queue

pytestmark = pytest.mark.browser


def test_manager_searches_sends_and_reads_the_costs(world, login, page):
    kondo = world.orgs.kondo
    message_queue(organisation=kondo, phone="+22376000001", text="Rappel pour Awa",
                  purpose="campaign_message", unit_id=world.caisse_a.pk)
    message_queue(organisation=kondo, phone="+22366000002", text="Rappel pour Fanta",
                  purpose="campaign_message", unit_id=world.caisse_a.pk)
    message_queue(organisation=world.orgs.mtc, phone="+22376000003", text="Message MTC",
                  purpose="campaign_message")
    login("manager_a")
    page.goto("/channels/sms/")
    table = page.locator("#outbox-table")
    expect(table).to_contain_text("Rappel pour Awa")
    expect(table).to_contain_text("Rappel pour Fanta")
    expect(table).not_to_contain_text("Message MTC")

    with page.expect_response(lambda r: "/channels/sms/?" in r.url and "phone=" in r.url):
        page.fill("#phone", "66 00 00 02")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Rappel pour Fanta")

    page.fill("#phone", "")
    with page.expect_navigation():
        page.click("#send-now")
    expect(page.locator(".messages")).to_be_visible()
    assert OutboundMessage.objects.filter(organisation=kondo, status="queued").count() == 0
    statuses = set(OutboundMessage.objects.filter(organisation=kondo)
                   .values_list("status", flat=True))
    assert statuses <= {"sent", "delivered", "failed"}
    expect(page.locator("#outbox-table tbody tr[data-status=queued]")).to_have_count(0)

    with page.expect_response(lambda r: "status=delivered" in r.url):
        page.select_option("#status", "delivered")
    delivered = OutboundMessage.objects.filter(organisation=kondo, status="delivered").count()
    expect(page.locator("#outbox-table tbody tr[data-status=delivered]")).to_have_count(
        delivered)

    page.click("#costs-link")
    expect(page.locator("#budget-KONDO")).to_contain_text("50")  # 2 messages × 25 F
