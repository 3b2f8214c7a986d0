"""Bad input at the counter: amounts written with a thousands point, counts naming one
denomination twice, absurd value dates, a reversal into a closed account, a malformed product
id on the settings screen, a statement period the wrong way round."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jigi.core.errors import ApplicationError
from jigi.core.models import IdempotencyRecord
from jigi.ledger.models import JournalEntry
from jigi.savings.models import DrawerSession, Receipt, SavingsAccount, SavingsTransaction
from jigi.savings.services import (
    drawer_open,
    savings_account_close,
    savings_deposit,
    savings_transaction_reverse,
)
from tests.savings.conftest import TODAY


def _post(c, url, body, key="k-1"):
    return c.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def _written():
    return (SavingsTransaction.objects.count(), JournalEntry.objects.count(),
            Receipt.objects.count(), IdempotencyRecord.objects.count())


@pytest.mark.parametrize("amount", ["15.000", "15 000.00", "100.0", "1.500.000", "15,000"])
def test_an_amount_with_a_point_is_refused_not_read_as_francs(world, counter, client_for,
                                                                amount):
    """"15.000" is fifteen thousand to many people: the counter must not post 15 F."""
    before = _written()
    r = _post(client_for("teller_a"),
              f"/api/v1/savings/accounts/{counter.account.pk}/deposits", {"amount": amount})
    assert r.status_code == 422, r.content
    assert r.json()["fields"]["amount"]
    assert _written() == before


def test_the_counter_form_refuses_a_thousands_point(world, counter, client_for):
    c = client_for("teller_a")
    r = c.post(f"/savings/accounts/{counter.account.pk}/deposit/", {"amount": "15.000"},
               HTTP_HX_REQUEST="true")
    assert 'id="operation-error"' in r.content.decode()
    counter.account.refresh_from_db()
    assert counter.account.balance == 0
    assert not SavingsTransaction.objects.exists()


def test_a_drawer_is_not_opened_with_a_thousands_point(world, counter, client_for):
    before = DrawerSession.objects.count()
    r = client_for("manager_a").post(
        "/api/v1/savings/drawers", {"caisse_id": world.caisse_a.pk, "amount": "500.000"},
        content_type="application/json")
    assert r.status_code == 422
    assert "amount" in r.json()["fields"]
    assert DrawerSession.objects.count() == before


@pytest.mark.parametrize("count", [{"500": 1, "0500": 2}, {"10000": 3, " 10000": 1}])
def test_a_count_naming_one_denomination_twice_is_refused(world, counter, client_for, count):
    entries = JournalEntry.objects.count()
    r = client_for("teller_a").post(f"/api/v1/savings/drawers/{counter.drawer.pk}/close",
                                    {"count": count}, content_type="application/json")
    assert r.status_code == 422, r.content
    assert r.json()["fields"]
    d = DrawerSession.objects.get(pk=counter.drawer.pk)
    assert (d.status, d.counted_amount) == ("open", None)
    assert JournalEntry.objects.count() == entries


@pytest.mark.parametrize("days", [1, 365 * 7000])
def test_a_value_date_in_the_future_is_refused(world, counter, client_for, days):
    on = timezone.localdate() + timedelta(days=days)
    before = _written()
    for path in ("deposits", "withdrawals"):
        r = _post(client_for("teller_a"),
                  f"/api/v1/savings/accounts/{counter.account.pk}/{path}",
                  {"amount": 100, "value_date": on.isoformat()}, key=f"f-{path}")
        assert r.status_code == 422, r.content
        assert r.json()["fields"]["value_date"]
    assert _written() == before


@pytest.mark.parametrize("on", ["0001-01-01", "1900-01-01"])
def test_a_value_date_before_the_account_opened_is_refused(world, counter, client_for, on):
    before = _written()
    c = client_for("teller_a")
    r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/deposits",
              {"amount": 100, "value_date": on})
    assert r.status_code == 422, r.content
    assert r.json()["fields"]["value_date"]
    assert _written() == before
    # Another caisse's teller still learns nothing: 404, not the date's message.
    r = _post(client_for("teller_b"), f"/api/v1/savings/accounts/{counter.account.pk}/deposits",
              {"amount": 100, "value_date": TODAY.isoformat()}, key="b")
    assert r.status_code == 404
    # The opening day itself is a valid value date.
    r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/deposits",
              {"amount": 100, "value_date": counter.account.opened_on.isoformat()}, key="ok")
    assert r.status_code == 201, r.content
    assert r.json()["receipt"].startswith(f"{counter.account.opened_on.year}-")


def test_the_closing_pay_out_of_a_closed_account_is_not_reversed(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=5_000, on=TODAY)
    savings_account_close(acting_user=teller, account=counter.account, pay_out=True, on=TODAY)
    drawer_open(acting_user=manager, caisse=world.caisse_a, amount=0, on=TODAY)
    paid = SavingsTransaction.objects.get(account=counter.account, kind="withdrawal")
    before = _written()
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reverse(acting_user=manager, tx=paid, reason="Erreur")
    assert (exc.value.status_code, exc.value.code) == (409, "account_closed")
    assert _written() == before
    acc = SavingsAccount.objects.get(pk=counter.account.pk)
    assert (acc.status, acc.balance) == ("closed", 0)
    assert SavingsTransaction.objects.get(pk=paid.pk).status == "posted"


@pytest.mark.parametrize("product", ["abc", "", "1.5", str(2**70)])
def test_products_screen_with_a_malformed_product_is_a_404(world, counter, client_for, product):
    r = client_for("manager_a").post("/savings/products/", {"product": product,
                                                             "interest_rate": "4"})
    assert r.status_code == 404


def test_statement_screen_refuses_a_reversed_period(world, counter, client_for):
    savings_deposit(acting_user=world.users["teller_a"], account=counter.account,
                    amount=4_000, on=TODAY)
    c = client_for("teller_a")
    url = f"/savings/accounts/{counter.account.pk}/statement?from=2026-12-31&to=2026-11-01"
    page = c.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "La fin est antérieure au début." in html or "The end is before the start." in html
    # Shown without a period: the deposit is there, not an empty "statement".
    assert page.context["st"].rows
    assert page.context["st"].date_from is None
    r = c.get(url + "&format=csv")
    assert r.status_code == 400


@pytest.mark.parametrize("period_end", ["9999-12-31", "next_year_end"])
def test_interest_is_not_posted_for_a_period_still_running(world, counter, client_for,
                                                           period_end):
    savings_deposit(acting_user=world.users["teller_a"], account=counter.account,
                    amount=200_000, on=TODAY)
    if period_end == "next_year_end":
        period_end = f"{timezone.localdate().year + 1}-12-31"
    before = _written()
    r = client_for("manager_a").post(f"/api/v1/savings/caisses/{world.caisse_a.pk}/interest",
                                     {"period_end": period_end},
                                     content_type="application/json")
    assert r.status_code == 422, r.content
    assert r.json()["fields"]["period_end"]
    assert _written() == before
    counter.account.refresh_from_db()
    assert counter.account.balance == 200_000
