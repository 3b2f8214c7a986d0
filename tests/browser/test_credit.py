"""Credit screens in a real browser (headless Debian chromium), at a fixed date: sowing time
in the cotton zone (12 May 2026)."""

from __future__ import annotations

import pytest

from jigi.credit.models import CollectionSheet, Loan, LoanStatus, LoanTransaction
from tests.credit.conftest import COTTON_INCOME, HOUSEHOLD, TODAY
from tests.credit.screen_helpers import (
    FIRST_MEETING_AFTER,
    cotton_loan,
    open_for_credit,
    women_group_with_loans,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def credit(world, time_machine):
    """Caisse A open for credit on 12 May 2026 (see tests/credit/conftest.py)."""
    time_machine.move_to(f"{TODAY.isoformat()} 09:00:00+00:00", tick=False)
    return open_for_credit(world)


def _nbsp(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _switch(page, login, username):
    page.context.clear_cookies()
    return login(username)


def test_seasonal_cotton_loan_from_application_to_disbursement(world, credit, login, page):
    # The loan officer takes the application from the member's credit page.
    login("loan_officer_a")
    page.goto(f"/credit/members/{credit.person.pk}/")
    with page.expect_navigation():
        page.click("#apply-link")
    page.select_option("#product", "AGR")
    page.fill("#principal", "200 000")
    page.fill("#repayments", "3")
    page.check("#kind-crop")
    page.select_option("#crop", "cotton")
    page.select_option("#region", "Sikasso")
    page.fill("#purpose", "Intrants coton")
    page.fill("#activity_1", "coton")
    for m in range(1, 13):
        page.fill(f"#income_1_{m}", str(COTTON_INCOME[m - 1]))
        page.fill(f"#expense_{m}", str(HOUSEHOLD[m - 1]))
    with page.expect_navigation():
        page.click("#propose")
    crop = page.locator("#proposal-crop")
    crop.wait_for()
    assert "%" in crop.locator(".teg").inner_text()
    assert Loan.objects.count() == 0
    with page.expect_navigation():
        page.click("#choose-crop")
    loan = Loan.objects.get()
    assert page.url.endswith(f"/credit/loans/{loan.pk}/")
    assert loan.pattern == "crop"
    assert loan.status == LoanStatus.APPLIED
    assert _nbsp(page.locator("#loan-principal").inner_text()) == "200 000 F CFA"
    # The big-figure schedule: one card per instalment, cotton money months marked.
    page.click("#big-schedule")
    page.locator("#schedule-cards").wait_for()
    assert page.locator(".sc").count() == loan.installments.count()
    assert "💰" in page.locator("#schedule-cards").inner_text()

    # The caisse manager approves from the queue.
    _switch(page, login, "manager_a")
    page.goto("/credit/queue/")
    row = page.locator(f"#queue-{loan.pk}")
    row.locator("input[name=note]").first.fill("Comité du 12 mai")
    with page.expect_navigation():
        row.locator(".approve-form button").click()
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.APPROVED

    # The teller pays it out in cash and prints the receipt.
    _switch(page, login, "teller_a")
    page.goto("/credit/queue/")
    with page.expect_navigation():
        page.click(f"#disburse-{loan.pk}")
    assert _nbsp(page.locator("#net-amount").inner_text()) == "177 000 F CFA"
    with page.expect_navigation():
        page.click("#disburse-submit")
    assert "/savings/receipts/" in page.url
    assert _nbsp(page.locator("#receipt-amount").inner_text()) == "177 000 F CFA"
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    assert LoanTransaction.objects.filter(kind="disbursement").count() == 1


def test_repayment_at_the_counter(world, credit, login, page):
    loan = cotton_loan(world, credit, disburse=True)
    login("teller_a")
    page.goto(f"/credit/loans/{loan.pk}/")
    with page.expect_navigation():
        page.click("#repay-link")
    page.fill("#amount", "10 000")
    with page.expect_navigation():
        page.click("#repay-submit")
    assert "/savings/receipts/" in page.url
    assert _nbsp(page.locator("#receipt-amount").inner_text()) == "10 000 F CFA"
    tx = LoanTransaction.objects.get(kind="repayment")
    assert tx.amount == 10_000
    assert tx.channel == "cash"
    page.goto(f"/credit/loans/{loan.pk}/")
    assert "10 000 F CFA" in _nbsp(page.locator("#transactions").inner_text())


def test_group_collection_sheet(world, credit, login, page, time_machine):
    group, awa, kadia = women_group_with_loans(world, credit)
    time_machine.move_to(f"{FIRST_MEETING_AFTER.isoformat()} 09:00:00+00:00", tick=False)
    login("teller_a")
    page.goto(f"/credit/groups/{group.pk}/")
    with page.expect_navigation():
        page.click("#sheet-link")
    # Each borrower's due amount is already entered; the savings are typed in.
    assert page.locator(f"#repay_{awa.pk}").input_value() != ""
    page.fill(f"#save_{awa.pk}", "1000")
    page.fill(f"#save_{credit.person.pk}", "2500")
    with page.expect_navigation():
        page.click("#sheet-submit")
    page.locator("#sheet-result").wait_for()
    assert page.locator("#failed").inner_text() == "0"
    assert "✔" in page.locator(f"#result-{kadia.pk}").inner_text()
    sheet = CollectionSheet.objects.get()
    assert sheet.total_saved == 3_500
    assert sheet.total_repaid > 0
    assert LoanTransaction.objects.filter(kind="repayment").count() == 2
