from __future__ import annotations

from jigi.ledger.models import JournalEntry
from jigi.savings.models import SavingsTransaction
from tests.savings.conftest import TODAY


def _dep(c, account, body, key="dep-1"):
    return c.post(f"/api/v1/savings/accounts/{account.pk}/deposits", body,
                  content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_deposit_is_idempotent(world, counter, client_for):
    c = client_for("teller_a")
    body = {"amount": "15000", "value_date": TODAY.isoformat()}
    r1 = _dep(c, counter.account, body)
    assert r1.status_code == 201, r1.content
    assert r1.json()["balance_after"] == 15_000
    r2 = _dep(c, counter.account, body)
    assert r2.status_code == 201
    assert r2.json() == r1.json()
    assert SavingsTransaction.objects.count() == 1
    r3 = _dep(c, counter.account, {"amount": "16000", "value_date": TODAY.isoformat()})
    assert r3.status_code == 409
    counter.account.refresh_from_db()
    assert counter.account.balance == 15_000


def test_missing_idempotency_key(world, counter, client_for):
    r = client_for("teller_a").post(f"/api/v1/savings/accounts/{counter.account.pk}/deposits",
                                    {"amount": 100}, content_type="application/json")
    assert r.status_code == 400
    assert SavingsTransaction.objects.count() == 0


def test_each_bad_input_is_a_clear_4xx_and_writes_nothing(world, counter, client_for):
    c = client_for("teller_a")
    entries = JournalEntry.objects.count()
    cases = [
        ({"amount": 0}, 422, "amount"),
        ({"amount": -500}, 422, "amount"),
        ({"amount": "100.50"}, 422, "amount"),
        ({"amount": 100.5}, 422, "amount"),
        ({"amount": "cent"}, 422, "amount"),
        ({"amount": "99999999999999999999"}, 422, "amount"),
        ({}, 422, "amount"),
    ]
    for i, (body, status, field) in enumerate(cases):
        r = _dep(c, counter.account, body, key=f"bad-{i}")
        assert r.status_code == status, (body, r.content)
        assert field in r.json()["fields"], body
    assert c.post("/api/v1/savings/accounts/999999/deposits", {"amount": 100},
                  content_type="application/json",
                  HTTP_IDEMPOTENCY_KEY="x").status_code == 404
    # Another caisse's account: not found, nothing written.
    r = _dep(client_for("teller_b"), counter.account, {"amount": 100}, key="other")
    assert r.status_code == 404
    assert JournalEntry.objects.count() == entries
    assert SavingsTransaction.objects.count() == 0


def test_withdrawal_refused_for_insufficient_balance_in_french(world, counter, client_for):
    c = client_for("teller_a")
    _dep(c, counter.account, {"amount": 5_000})
    r = c.post(f"/api/v1/savings/accounts/{counter.account.pk}/withdrawals", {"amount": 50_000},
               content_type="application/json", HTTP_IDEMPOTENCY_KEY="w-1",
               HTTP_ACCEPT_LANGUAGE="fr")
    assert r.status_code == 409
    assert r.json()["code"] == "insufficient_balance"
    assert "amount" in r.json()["fields"]
    counter.account.refresh_from_db()
    assert counter.account.balance == 5_000


def test_blocked_and_closed_accounts(world, counter, client_for):
    from jigi.savings.services import savings_account_block

    savings_account_block(acting_user=world.users["manager_a"], account=counter.account,
                          reason="Litige")
    r = client_for("teller_a").post(
        f"/api/v1/savings/accounts/{counter.account.pk}/withdrawals", {"amount": 1},
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="b")
    assert r.status_code == 409
    assert r.json()["code"] == "account_blocked"


def test_accounts_are_scoped(world, counter, client_for):
    assert [a["number"] for a in client_for("teller_a").get(
        "/api/v1/savings/accounts").json()] == [counter.account.number]
    assert client_for("teller_b").get("/api/v1/savings/accounts").json() == []
    assert client_for("mutual_manager").get(
        f"/api/v1/savings/accounts/{counter.account.pk}").status_code == 404
    assert client_for("auditor").get(
        f"/api/v1/savings/accounts/{counter.account.pk}").status_code == 200


def test_statement_json_and_csv(world, counter, client_for):
    c = client_for("teller_a")
    _dep(c, counter.account, {"amount": 7_000, "value_date": TODAY.isoformat()})
    st = c.get(f"/api/v1/savings/accounts/{counter.account.pk}/statement").json()
    assert st["closing"] == 7_000
    assert st["rows"][0]["credit"] == 7_000
    r = c.get(f"/api/v1/savings/accounts/{counter.account.pk}/statement.csv")
    assert r.status_code == 200
    assert "7000" in r.content.decode()


def test_share_purchase_api(world, counter, client_for):
    r = client_for("teller_a").post(
        "/api/v1/savings/shares", {"person_id": counter.person.pk,
                                   "caisse_id": world.caisse_a.pk, "shares": 2},
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert r.status_code == 201, r.content
    assert r.json()["amount"] == 11_000
