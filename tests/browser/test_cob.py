"""Close of business in a real browser: a network administrator starts a run and follows it
(htmx) to the list of runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jigi.cob.models import CobRun, RunStatus
from tests.cob.test_views import network_admin

pytestmark = pytest.mark.browser


def test_network_admin_starts_close_of_business(world, login, page):
    network_admin(world)
    yesterday = timezone.localdate() - timedelta(days=1)
    login("netadmin")
    page.goto("/cob/")
    # (French once the lead translates the new strings; English source until then)
    assert page.locator("#cob-last-closed").inner_text().endswith(("jamais", "never"))
    page.fill("#through", yesterday.isoformat())
    page.click("#cob-start button[type=submit]")
    page.wait_for_selector("#cob-runs tr.run-done")
    assert yesterday.strftime("%d/%m/%Y") in page.locator("#cob-last-closed").inner_text()
    row = page.locator("#cob-runs tr.run-done").first.inner_text()
    assert "2 / 2" in row
    assert " s" in row
    run = CobRun.objects.get()
    assert run.status == RunStatus.DONE
    assert run.started_by.username == "netadmin"
    # A second start for the same day: refused with the reason, no new run.
    page.fill("#through", (yesterday - timedelta(days=1)).isoformat())
    page.click("#cob-start button[type=submit]")
    page.wait_for_selector("#cob-error")
    assert yesterday.strftime("%d/%m/%Y") in page.locator("#cob-error").inner_text()
    assert CobRun.objects.count() == 1
