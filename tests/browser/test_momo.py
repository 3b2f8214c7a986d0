"""Pay by mobile money in a real browser: a teller asks a member's wallet for a savings
deposit (htmx shows the pending card), the member pays (the simulator settles, its callback
lost), the teller checks now and sees it paid; a manager imports the day's statement,
refunds money that matches nothing and, the provider unable to refund, confirms the refund
made on its portal."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jigi.channels.models import MobileMoneyPayment, Refund
from tests.channels.momo_helpers import sim  # noqa: F401
from tests.credit.conftest import credit, today  # noqa: F401

pytestmark = pytest.mark.browser


def test_teller_asks_the_wallet_and_manager_reconciles(world, credit, sim, login, page):  # noqa: F811
    login("teller_a")
    page.goto("/channels/momo/")
    page.select_option("#purpose", "savings_deposit")
    page.fill("#target_id", str(credit.account.pk))
    page.fill("#amount", "5000")
    with page.expect_response(lambda r: "/channels/momo/request/" in r.url):
        page.click("#momo-send")
    card = page.locator("#new-payment .card")
    expect(card).to_have_attribute("data-status", "pending")
    # htmx binds the new card's button once the swap has settled.
    page.wait_for_function("!document.querySelector('.htmx-settling, .htmx-added')")
    payment = MobileMoneyPayment.objects.get()

    sim.server.settle(payment.order_id, callbacks=0)
    with page.expect_response(lambda r: "/channels/momo/payment/" in r.url):
        page.click("#momo-check")
    expect(page.locator(f"#payment-{payment.order_id}")).to_have_attribute(
        "data-status", "succeeded")

    # The form is fresh (a new order); a refused request shows its message in it.
    expect(page.locator("#target_id")).to_have_value("")
    page.fill("#target_id", str(credit.account.pk))
    page.fill("#amount", "0")
    with page.expect_response(lambda r: "/channels/momo/request/" in r.url):
        page.click("#momo-send")
    expect(page.locator("#momo-error")).to_be_visible()

    sim.server.inject(phone="+22376999999", amount=2_500)
    page.context.clear_cookies()
    login("manager_a")
    page.goto(f"/channels/momo/report/?day={timezone.localdate().isoformat()}")
    with page.expect_navigation():
        page.click("#import-statement")
    expect(page.locator("#momo-imported")).to_be_visible()
    expect(page.locator("#unmatched")).to_contain_text("2500")
    sim.server.state.refunds_down = True  # the provider cannot refund now: done on its portal
    with page.expect_navigation():
        page.locator("#unmatched button.refund").first.click()
    expect(page.locator("#momo-refunded")).to_be_visible()
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (2_500, "requested")
    row = page.locator("#refunds-waiting tr", has_text=refund.reference)
    row.locator("input[name=provider_ref]").fill("OM-PORTAL-9")
    with page.expect_navigation():
        row.locator("button.confirm-refund").click()
    expect(page.locator("#momo-confirmed")).to_contain_text(refund.reference)
    expect(page.locator("#refunds")).to_contain_text("OM-PORTAL-9")
    refund.refresh_from_db()
    assert (refund.status, refund.provider_ref) == ("done", "OM-PORTAL-9")


def test_a_moov_number_pays_from_moov_money(world, credit, sim, login, page):  # noqa: F811
    """Moov sends no callback: the teller's "check now" asks it; the manager imports the Moov
    statement by choosing the wallet."""
    login("teller_a")
    page.goto("/channels/momo/")
    page.select_option("#purpose", "savings_deposit")
    page.fill("#target_id", str(credit.account.pk))
    page.fill("#amount", "3000")
    page.fill("#phone", "66 00 00 01")
    with page.expect_response(lambda r: "/channels/momo/request/" in r.url):
        page.click("#momo-send")
    card = page.locator("#new-payment .card")
    expect(card).to_have_attribute("data-status", "pending")
    expect(card.locator(".wallet")).to_have_text("Moov Money")
    page.wait_for_function("!document.querySelector('.htmx-settling, .htmx-added')")
    payment = MobileMoneyPayment.objects.get()
    assert payment.provider == "simulator-moov"

    sim.server.settle(payment.order_id)
    with page.expect_response(lambda r: "/channels/momo/payment/" in r.url):
        page.click("#momo-check")
    expect(page.locator(f"#payment-{payment.order_id}")).to_have_attribute(
        "data-status", "succeeded")

    sim.server.inject(phone="+22366999999", amount=1_500, kind="moov")
    page.context.clear_cookies()
    login("manager_a")
    page.goto(f"/channels/momo/report/?day={timezone.localdate().isoformat()}")
    page.select_option("#provider", "simulator-moov")
    with page.expect_navigation():
        page.click("#import-statement")
    expect(page.locator("#momo-imported")).to_be_visible()
    expect(page.locator("#unmatched")).to_contain_text("1500")
