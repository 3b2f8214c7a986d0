"""Reports in a real browser (headless Debian chromium): the dashboard's charts and the PAR
report's main path (change the date and the dimension through htmx, download the CSV), on
the small portfolio of tests/reports/conftest.py at 12 May 2026."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.reports.conftest import book  # noqa: F401 - the portfolio fixture

pytestmark = pytest.mark.browser


def test_dashboard_and_par_report(book, login, page):  # noqa: F811
    login("manager_a")
    page.click("#nav-reports")
    page.click("#open-dashboard")
    # expect() waits for the dashboard page the click navigates to; count() would not.
    expect(page.locator("#par-trend svg")).to_have_count(1)
    expect(page.locator("#disbursements svg")).to_have_count(1)
    assert "C001" in page.locator("h1").inner_text()
    assert page.locator("#top-risk tbody tr").count() >= 1
    assert "45,45" in page.locator("#kpi-par30").inner_text()
    # The PAR report from the dashboard, then as of a past date and by sex, via htmx.
    page.click("#open-par")
    assert "72,54 %" in page.locator("#table-par").inner_text()
    page.fill("#on", "2026-03-31")
    page.select_option("#by", "sex")
    page.click("#show")
    page.wait_for_function(
        "document.querySelector('#report-caption').innerText.includes('2026-03-31')")
    table = page.locator("#table-par").inner_text()
    assert "Femme" in table
    assert "Homme" not in table  # Moussa's loan was disbursed in April
    assert "on=2026-03-31" in page.url
    with page.expect_download() as info:
        page.click("#download-csv")
    assert info.value.suggested_filename == "par_C001_2026-03-31.csv"
