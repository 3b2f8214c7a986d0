"""Savings screens without a browser: scoping, forms, fragments, receipts, statements."""

from __future__ import annotations

from jigi.savings.models import (
    DrawerSession,
    ProductOverride,
    SavingsProduct,
    SavingsTransaction,
    ShareAccount,
)
from jigi.savings.services import drawer_close, savings_deposit
from tests.people.factories import register
from tests.savings.conftest import TODAY


def test_account_pages_are_scoped(world, counter, client_for):
    url = f"/savings/accounts/{counter.account.pk}/"
    assert client_for("teller_a").get(url).status_code == 200
    assert client_for("auditor").get(url).status_code == 200
    assert client_for("teller_b").get(url).status_code == 404
    assert client_for("mutual_manager").get(url).status_code == 404
    assert client_for("teller_b").get(url + "balance/").status_code == 404
    r = client_for("teller_b").post(f"{url}deposit/", {"amount": "1000"})
    assert r.status_code == 404
    assert SavingsTransaction.objects.count() == 0


def test_deposit_form_without_htmx_redirects_to_the_receipt(world, counter, client_for):
    c = client_for("teller_a")
    r = c.post(f"/savings/accounts/{counter.account.pk}/deposit/", {"amount": "2 500"})
    assert r.status_code == 302
    assert "/savings/receipts/" in r["Location"]
    page = c.get(r["Location"] + "?lang=fr")
    assert page.status_code == 200
    assert "2 500" in page.content.decode().replace("\u202f", " ").replace("\xa0", " ")
    assert c.get(r["Location"] + "?lang=bm").status_code == 200
    assert client_for("teller_b").get(r["Location"]).status_code == 404


def test_htmx_operation_returns_the_fragment_with_the_live_balance(world, counter, client_for):
    c = client_for("teller_a")
    r = c.post(f"/savings/accounts/{counter.account.pk}/deposit/", {"amount": "4000"},
               HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert 'id="operation-ok"' in html
    assert 'hx-swap-oob="true"' in html
    r = c.post(f"/savings/accounts/{counter.account.pk}/withdrawal/", {"amount": "90000"},
               HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    html = r.content.decode()
    assert 'id="operation-error"' in html
    assert "Insufficient balance" in html
    counter.account.refresh_from_db()
    assert counter.account.balance == 4_000
    assert c.post(f"/savings/accounts/{counter.account.pk}/nonsense/",
                  {"amount": "1"}).status_code == 404


def test_statement_screen_csv_and_passbook(world, counter, client_for):
    c = client_for("teller_a")
    c.post(f"/savings/accounts/{counter.account.pk}/deposit/", {"amount": "4000"})
    base = f"/savings/accounts/{counter.account.pk}/statement"
    assert c.get(base + "?from=2000-01-01&to=2100-01-01").status_code == 200
    assert c.get(base + "?from=garbage").status_code == 200
    passbook = c.get(base + "?passbook=1")
    assert 'id="passbook-balance"' in passbook.content.decode()
    csv = c.get(base + "?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert ";4000;0;4000" in csv.content.decode()


def test_drawer_screen_opens_and_closes_with_a_count(world, counter, client_for):
    c = client_for("manager_a")
    r = c.post("/savings/drawer/", {"caisse": world.caisse_a.pk, "amount": "10000"})
    assert r.status_code == 302
    r = c.post("/savings/drawer/", {"d5000": "1", "d1000": "4", "d500": "x"})
    assert "d500" in r.content.decode()  # the form comes back with the error
    assert DrawerSession.objects.get(teller=world.users["manager_a"]).status == "open"
    r = c.post("/savings/drawer/", {"d5000": "1", "d1000": "4"})
    assert 'id="difference"' in r.content.decode()
    d = DrawerSession.objects.get(teller=world.users["manager_a"])
    assert (d.status, d.difference) == ("closed", -1_000)
    # A teller cannot open a drawer in another caisse by editing the form.
    r = client_for("teller_b").post("/savings/drawer/", {"caisse": world.caisse_a.pk,
                                                         "amount": "1"})
    assert r.status_code == 403


def test_counter_shows_pending_and_flagged_to_the_manager(world, counter, client_for):
    teller = world.users["teller_a"]
    op = savings_deposit(acting_user=teller, account=counter.account, amount=900_000,
                         on=TODAY)
    c = client_for("manager_a")
    page = c.get("/savings/").content.decode()
    assert 'id="pending"' in page
    client_for("teller_a").post(f"/savings/operations/{op.transaction.pk}/approve/")
    assert SavingsTransaction.objects.get(pk=op.transaction.pk).status == "pending"
    assert client_for("teller_b").post(f"/savings/operations/{op.transaction.pk}/approve/"
                                       ).status_code == 404
    r = c.post(f"/savings/operations/{op.transaction.pk}/approve/")
    assert r.status_code == 302
    assert SavingsTransaction.objects.get(pk=op.transaction.pk).status == "posted"
    drawer_close(acting_user=teller, drawer=counter.drawer, count={"10000": 1})
    page = c.get("/savings/").content.decode()
    assert 'id="flagged"' in page
    d = DrawerSession.objects.get(pk=counter.drawer.pk)
    c.post(f"/savings/drawers/{d.pk}/acknowledge/", {"note": "Enquête ouverte"})
    assert DrawerSession.objects.get(pk=d.pk).acknowledged_by == world.users["manager_a"]


def test_manager_reverses_from_the_account_page(world, counter, client_for):
    op = savings_deposit(acting_user=world.users["teller_a"], account=counter.account,
                         amount=3_000, on=TODAY)
    page = client_for("manager_a").get(f"/savings/accounts/{counter.account.pk}/")
    assert f"/savings/operations/{op.transaction.pk}/reverse/" in page.content.decode()
    r = client_for("manager_a").post(f"/savings/operations/{op.transaction.pk}/reverse/",
                                     {"reason": "Doublon"})
    assert r.status_code == 302
    counter.account.refresh_from_db()
    assert counter.account.balance == 0
    assert client_for("teller_b").post(f"/savings/operations/{op.transaction.pk}/reverse/",
                                       {"reason": "x"}).status_code == 404


def test_only_network_admin_edits_products_and_managers_edit_their_caisse(world, counter,
                                                                         client_for):
    product = counter.products["EPV"]
    r = client_for("manager_a").post("/savings/products/", {"product": product.pk,
                                                            "interest_rate": "9"})
    assert r.status_code == 403
    r = client_for("admin").post("/savings/products/", {"product": product.pk,
                                                        "interest_rate": "3.5",
                                                        "withdrawal_fee": "200"})
    assert r.status_code == 302
    product.refresh_from_db()
    assert (str(product.interest_rate), product.withdrawal_fee) == ("3.50", 200)
    client_for("admin").post("/savings/products/", {"product": product.pk,
                                                   "interest_rate": "abc"})
    assert SavingsProduct.objects.get(pk=product.pk).interest_rate == product.interest_rate
    r = client_for("manager_a").post("/savings/products/", {
        "product": product.pk, "caisse": world.caisse_a.pk, "min_balance": "2000"})
    assert r.status_code == 302
    assert ProductOverride.objects.get(product=product, caisse=world.caisse_a).min_balance == \
        2_000
    r = client_for("manager_a").post("/savings/products/", {
        "product": product.pk, "caisse": world.caisse_b.pk, "min_balance": "0"})
    assert r.status_code == 403
    assert "override-EPV-C001" in client_for("manager_a").get(
        "/savings/products/").content.decode()


def test_member_page_buys_shares_then_opens_an_account(world, counter, client_for):
    c = client_for("teller_a")
    person = register(world, first_name="Nènè", last_name="Samaké")
    page = c.get(f"/savings/members/{person.pk}/").content.decode()
    assert 'id="open-account-form"' not in page  # not a member yet
    r = c.post(f"/savings/members/{person.pk}/", {"action": "shares", "shares": "2",
                                                  "caisse": world.caisse_a.pk})
    assert r.status_code == 302
    assert ShareAccount.objects.get(person=person).shares == 2
    page = c.get(f"/savings/members/{person.pk}/").content.decode()
    assert 'id="member-badge"' in page
    r = c.post(f"/savings/members/{person.pk}/", {"action": "open", "product": "EPV",
                                                  "caisse": world.caisse_a.pk})
    assert r.status_code == 302
    assert "/savings/accounts/" in r["Location"]
    assert client_for("teller_b").get(f"/savings/members/{person.pk}/").status_code == 404
