from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from jigi.savings.models import DrawerSession, SavingsAccount, SavingsTransaction
from jigi.savings.services import (
    drawer_close,
    drawer_open,
    savings_account_open,
    savings_deposit,
    share_purchase,
)
from jigi.savings.setup import kondo_products_seed
from tests.people.factories import register

pytestmark = pytest.mark.browser


def _nbsp(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def account(world):
    """A member of caisse A (shares bought at the manager's drawer, which is then closed) with
    an empty savings account."""
    _share, products = kondo_products_seed(organisation=world.orgs.kondo)
    manager = world.users["manager_a"]
    person = register(world, first_name="Assitan", last_name="Diakité")
    drawer = drawer_open(acting_user=manager, caisse=world.caisse_a, amount=0)
    share_purchase(acting_user=manager, person=person, caisse=world.caisse_a, shares=2)
    drawer_close(acting_user=manager, drawer=drawer, count={"10000": 1, "1000": 1})
    return savings_account_open(acting_user=world.users["teller_a"], product=products["EPV"],
                                caisse=world.caisse_a, person=person, on=date(2026, 1, 5))


def test_deposit_at_the_counter_with_receipt(world, account, login, page):
    login("teller_a")
    # Open the drawer through the screen.
    page.goto("/savings/drawer/")
    page.fill("#amount", "200000")
    page.click("#open-form button[type=submit]")
    page.wait_for_selector("#count-form")
    page.goto(f"/savings/accounts/{account.pk}/")
    page.fill("#dep-amount", "35 000")
    page.click("#deposit-form button[type=submit]")
    page.wait_for_selector("#operation-ok")
    assert _nbsp(page.locator("#balance").inner_text()) == "35 000 F CFA"
    with page.expect_popup() as popup:
        page.click("#receipt-link")
    receipt = popup.value
    receipt.wait_for_load_state()
    assert _nbsp(receipt.locator("#receipt-amount").inner_text()) == "35 000 F CFA"
    # Receipt 1 of the year was the member's shares.
    assert receipt.locator("#receipt-number").inner_text() == f"{timezone.localdate().year}-000002"
    account.refresh_from_db()
    assert account.balance == 35_000


def test_withdrawal_refused_for_insufficient_balance(world, account, login, page):
    teller = world.users["teller_a"]
    drawer_open(acting_user=teller, caisse=world.caisse_a, amount=100_000)
    savings_deposit(acting_user=teller, account=account, amount=10_000)
    login("teller_a")
    page.goto(f"/savings/accounts/{account.pk}/")
    page.fill("#wd-amount", "50000")
    page.click("#withdrawal-form button[type=submit]")
    error = page.locator("#operation-error")
    error.wait_for()
    # French screen: the message says why and how much may be withdrawn (10,000 - 1,000 min).
    assert "insuffisant" in error.inner_text().lower()
    assert "9000" in _nbsp(error.inner_text()).replace(" ", "")
    assert _nbsp(page.locator("#balance").inner_text()) == "10 000 F CFA"
    assert SavingsAccount.objects.get(pk=account.pk).balance == 10_000
    assert SavingsTransaction.objects.filter(kind="withdrawal").count() == 0


def test_drawer_close_with_a_difference(world, account, login, page):
    teller = world.users["teller_a"]
    drawer_open(acting_user=teller, caisse=world.caisse_a, amount=100_000)
    savings_deposit(acting_user=teller, account=account, amount=12_500)
    login("teller_a")
    page.goto("/savings/drawer/")
    # Expected 112,500; the teller counts 11 x 10,000 + 2 x 1,000 = 112,000.
    page.fill("#d10000", "11")
    page.fill("#d1000", "2")
    page.click("#count-form button[type=submit]")
    result = page.locator("#close-result")
    result.wait_for()
    assert _nbsp(page.locator("#difference").inner_text()) == "-500 F CFA"
    d = DrawerSession.objects.get(teller=teller)
    assert (d.status, d.difference, d.flagged) == ("closed", -500, True)


def test_member_buys_shares_and_opens_an_account_on_screen(world, login, page):
    kondo_products_seed(organisation=world.orgs.kondo)
    person = register(world, first_name="Korotoumou", last_name="Diarra")
    drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a, amount=0)
    login("teller_a")
    page.goto(f"/savings/members/{person.pk}/")
    page.fill("#shares-n", "2")
    with page.expect_navigation():
        page.click("#shares-form button[type=submit]")
    assert _nbsp(page.locator("#receipt-amount").inner_text()) == "11 000 F CFA"
    page.goto(f"/savings/members/{person.pk}/")
    page.locator("#member-badge").wait_for()
    with page.expect_navigation():
        page.click("#open-account-form button[type=submit]")
    assert "/savings/accounts/" in page.url
    assert SavingsAccount.objects.filter(person=person).count() == 1
