from __future__ import annotations

from jigi.savings.models import SavingsProduct, SavingsTransaction


def test_account_pages_are_scoped(world, counter, client_for):
    url = f"/savings/accounts/{counter.account.pk}/"
    assert client_for("teller_a").get(url).status_code == 200
    assert client_for("teller_b").get(url).status_code == 404
    assert client_for("mutual_manager").get(url).status_code == 404
    r = client_for("teller_b").post(f"{url}deposit/", {"amount": "1000"})
    assert r.status_code == 404
    assert SavingsTransaction.objects.count() == 0


def test_deposit_form_without_htmx_redirects_to_receipt(world, counter, client_for):
    c = client_for("teller_a")
    r = c.post(f"/savings/accounts/{counter.account.pk}/deposit/", {"amount": "2 500"})
    assert r.status_code == 302
    assert "/savings/receipts/" in r["Location"]
    assert c.get(r["Location"] + "?lang=bm").status_code == 200
    assert client_for("teller_b").get(r["Location"]).status_code == 404


def test_statement_screen_csv_and_passbook(world, counter, client_for):
    c = client_for("teller_a")
    c.post(f"/savings/accounts/{counter.account.pk}/deposit/", {"amount": "4000"})
    base = f"/savings/accounts/{counter.account.pk}/statement"
    assert c.get(base).status_code == 200
    assert c.get(base + "?passbook=1").status_code == 200
    csv = c.get(base + "?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert ";4000;" in csv.content.decode()


def test_only_network_admin_edits_products(world, counter, client_for):
    product = counter.products["EPV"]
    r = client_for("manager_a").post("/savings/products/", {"product": product.pk,
                                                            "interest_rate": "9"})
    assert r.status_code == 403
    r = client_for("admin").post("/savings/products/", {"product": product.pk,
                                                        "interest_rate": "3.5",
                                                        "withdrawal_fee": "200"})
    assert r.status_code == 302
    product.refresh_from_db()
    assert str(product.interest_rate) == "3.50"
    assert product.withdrawal_fee == 200
    client_for("admin").post("/savings/products/", {"product": product.pk,
                                                   "interest_rate": "abc"})
    assert SavingsProduct.objects.get(pk=product.pk).interest_rate == product.interest_rate


def test_member_page_buys_shares(world, counter, client_for):
    c = client_for("teller_a")
    r = c.post(f"/savings/members/{counter.person.pk}/", {"action": "shares", "shares": "2",
                                                          "caisse": world.caisse_a.pk})
    assert r.status_code == 302
    page = c.get(f"/savings/members/{counter.person.pk}/")
    assert b"badge active" in page.content
