"""Offline field collection in a real browser: the officer downloads her sheet, goes offline,
records (checked on the device), reloads the page offline (service worker), fails to send
while offline without losing anything, sends online and sees a result per record; a send cut
off after the server applied it keeps the records, and sending again answers "already
received" without posting twice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jigi.channels.models import SyncItem
from jigi.credit.models import LoanTransaction
from tests.channels.test_field_support import field_world

pytestmark = pytest.mark.browser


@pytest.fixture
def field(world, time_machine):
    time_machine.move_to("2026-05-12 09:00:00+00:00", tick=False)
    return field_world(world, members=3, borrowers=2)


def open_app(page, login):
    login("loan_officer_a")
    page.goto("/field/")
    app = page.locator("#field-app")
    expect(app).to_have_attribute("data-started", "1")
    expect(app).to_have_attribute("data-offline-ready", "1", timeout=30_000)
    with page.expect_response(lambda r: "/api/v1/field/sheet" in r.url) as answer:
        page.click("#download")
    assert answer.value.status == 200


def test_capture_offline_reload_and_sync_later(world, field, login, page):
    a, b, _c = field.members
    open_app(page, login)
    expect(page.locator(f"#m-{a.pk}")).to_be_visible()
    page.context.set_offline(True)
    expect(page.locator("#net")).to_contain_text("🔴")
    # Checked on the device: not whole francs, nothing at all.
    page.fill(f"#repay-{a.pk}", "12,5")
    page.click(f"#rec-{a.pk}")
    expect(page.locator(f"#err-{a.pk}")).not_to_be_empty()
    page.fill(f"#repay-{a.pk}", "")
    page.click(f"#rec-{a.pk}")
    expect(page.locator(f"#err-{a.pk}")).not_to_be_empty()
    expect(page.locator("#pending-count")).to_have_text("0")
    page.fill(f"#repay-{a.pk}", "5000")
    page.click(f"#rec-{a.pk}")
    page.fill(f"#save-{b.pk}", "1 500")
    page.click(f"#rec-{b.pk}")
    expect(page.locator("#pending-count")).to_have_text("2")
    # Reload while offline: the page comes from the service worker, the records from storage.
    reloaded = page.reload()
    assert reloaded is not None
    assert reloaded.from_service_worker
    expect(page.locator("#field-app")).to_have_attribute("data-started", "1")
    expect(page.locator("#pending-count")).to_have_text("2")
    expect(page.locator(f"#m-{b.pk}")).to_be_visible()
    # Sending offline fails and keeps everything.
    page.click("#sync")
    expect(page.locator("#sync-error")).not_to_be_empty()
    expect(page.locator("#pending-count")).to_have_text("2")
    assert not SyncItem.objects.exists()
    # Online: sent, a result per record, the queue empty.
    page.context.set_offline(False)
    with page.expect_response(lambda r: "/api/v1/field/sync" in r.url) as answer:
        page.click("#sync")
    assert answer.value.status == 200
    expect(page.locator("#pending-count")).to_have_text("0")
    expect(page.locator("#results li.st-applied")).to_have_count(2)
    assert SyncItem.objects.filter(status="applied").count() == 2
    assert LoanTransaction.objects.filter(channel="field").count() == 1


def test_records_stay_until_the_server_answer_arrives(world, field, login, page):
    a = field.members[0]
    open_app(page, login)
    page.fill(f"#repay-{a.pk}", "2000")
    page.click(f"#rec-{a.pk}")
    expect(page.locator("#pending-count")).to_have_text("1")

    # The server applies the batch but the answer is lost on the way back.
    def cut_off(route):
        route.fetch()
        route.abort()

    page.route("**/api/v1/field/sync", cut_off)
    page.click("#sync")
    expect(page.locator("#sync-error")).not_to_be_empty()
    expect(page.locator("#pending-count")).to_have_text("1")
    assert SyncItem.objects.filter(status="applied").count() == 1
    page.unroute("**/api/v1/field/sync")
    # Sent again: the server answers with the first result, nothing posted twice.
    with page.expect_response(lambda r: "/api/v1/field/sync" in r.url) as answer:
        page.click("#sync")
    assert answer.value.json()["results"][0]["duplicate"] is True
    expect(page.locator("#pending-count")).to_have_text("0")
    expect(page.locator("#results li.st-applied")).to_have_count(1)
    assert LoanTransaction.objects.filter(channel="field").count() == 1


def test_teller_counts_the_officers_cash_and_sees_the_difference(world, field, login, page):
    from jigi.channels.field import services
    from jigi.channels.models import FieldCashCount

    officer = world.users["loan_officer_a"]
    services.field_sync(acting_user=officer, device_id="t", items=[
        {"uuid": "0b7c6f2e-8f7e-4a43-9a55-6f1f6d1f0a01", "kind": "repayment",
         "person_id": field.members[0].pk, "amount": 4_000, "collected_on": "2026-05-12"}])
    login("teller_a")
    page.goto(f"/field/cash/?officer={officer.pk}&day=2026-05-12")
    expect(page.locator("#expected-total")).to_contain_text("4")
    # A difference without a note is refused on the field.
    page.fill("#cash-counted", "3500")
    with page.expect_response(lambda r: "/field/cash/" in r.url) as answer:
        page.click("#cash-save")
    assert answer.value.status == 422
    expect(page.locator("#err-note")).to_be_visible()
    assert not FieldCashCount.objects.exists()
    page.fill("#cash-counted", "3500")
    page.fill("#cash-note", "500 F rendus demain")
    with page.expect_response(lambda r: "/field/cash/" in r.url) as answer:
        page.click("#cash-save")
    assert answer.value.status == 200
    expect(page.locator("#cash-difference")).to_contain_text("500")
    expect(page.locator("#cash-saved")).to_be_visible()
    assert FieldCashCount.objects.get().counted == 3_500


def test_manager_reviews_a_conflict(world, field, login, page):
    from jigi.channels.field import services

    officer = world.users["loan_officer_a"]
    uid = "0b7c6f2e-8f7e-4a43-9a55-6f1f6d1f0a02"
    for amount in (1_000, 9_000):
        services.field_sync(acting_user=officer, device_id="t", items=[
            {"uuid": uid, "kind": "repayment", "person_id": field.members[0].pk,
             "amount": amount, "collected_on": "2026-05-12"}])
    item = SyncItem.objects.get(uuid=uid)
    login("manager_a")
    page.goto("/field/review/")
    row = page.locator(f"#conflict-{item.pk}")
    expect(row).to_contain_text("9")
    with page.expect_response(lambda r: "/resolve/" in r.url) as answer:
        page.click(f"#resolve-{item.pk}")
    assert answer.value.status == 200
    # The row showed "✅ posted" (the first amount) before the answer is swapped in: wait for
    # the button to go and the "reviewed" mark to come.
    expect(page.locator(f"#resolve-{item.pk}")).to_have_count(0)
    expect(row.locator(".ok")).to_contain_text("✅")
    item.refresh_from_db()
    assert item.status == "resolved"
