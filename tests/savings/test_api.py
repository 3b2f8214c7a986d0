"""The savings API: idempotency, scoping, and a clear 4xx with nothing written for each kind of
bad input."""

from __future__ import annotations

import pytest

from jigi.core.models import IdempotencyRecord
from jigi.ledger.models import JournalEntry
from jigi.savings.models import DrawerSession, Receipt, SavingsAccount, SavingsTransaction
from jigi.savings.services import drawer_open, savings_account_block
from tests.savings.conftest import TODAY, make_member


def _post(c, url, body, key="k-1", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return c.post(url, body, content_type="application/json", **headers, **extra)


def _dep(c, account, body, key="dep-1", **extra):
    return _post(c, f"/api/v1/savings/accounts/{account.pk}/deposits", body, key, **extra)


def _written():
    """Rows a refused call must not add."""
    return (SavingsTransaction.objects.count(), JournalEntry.objects.count(),
            Receipt.objects.count(), IdempotencyRecord.objects.count())


def test_same_key_same_body_returns_the_first_answer_and_posts_once(world, counter,
                                                                     client_for):
    c = client_for("teller_a")
    body = {"amount": "15000", "value_date": TODAY.isoformat()}
    r1 = _dep(c, counter.account, body)
    assert r1.status_code == 201, r1.content
    first = r1.json()
    assert (first["balance_after"], first["receipt"]) == (15_000, "2026-000002")
    r2 = _dep(c, counter.account, body)
    assert r2.status_code == 201
    assert r2.json() == first  # same receipt, same transaction
    assert SavingsTransaction.objects.filter(kind="deposit").count() == 1
    counter.account.refresh_from_db()
    assert counter.account.balance == 15_000
    tx = SavingsTransaction.objects.get(pk=first["transaction_id"])
    assert tx.idempotency_key == "dep-1"


def test_same_key_other_body_is_a_409_and_posts_nothing(world, counter, client_for):
    c = client_for("teller_a")
    assert _dep(c, counter.account, {"amount": 15_000}).status_code == 201
    before = _written()
    r = _dep(c, counter.account, {"amount": 16_000})
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in r.json()["fields"]
    assert _written() == before
    # The same key on another endpoint is another request too.
    r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/withdrawals",
              {"amount": 15_000}, key="dep-1")
    assert r.status_code == 409


def test_keys_belong_to_their_user(world, counter, client_for):
    manager = world.users["manager_a"]
    drawer_open(acting_user=manager, caisse=world.caisse_a, amount=0, on=TODAY)
    assert _dep(client_for("teller_a"), counter.account, {"amount": 100}).status_code == 201
    r = _dep(client_for("manager_a"), counter.account, {"amount": 100})
    assert r.status_code == 201
    counter.account.refresh_from_db()
    assert counter.account.balance == 200


def test_an_error_answer_is_not_recorded_so_the_caller_may_fix_and_retry(world, counter,
                                                                          client_for):
    c = client_for("teller_a")
    assert _dep(c, counter.account, {"amount": "12,5"}).status_code == 422
    r = _dep(c, counter.account, {"amount": "12500"})
    assert r.status_code == 201
    assert r.json()["balance_after"] == 12_500


def test_missing_or_oversized_idempotency_key(world, counter, client_for):
    c = client_for("teller_a")
    for key in (None, "x" * 129):
        r = _dep(c, counter.account, {"amount": 100}, key=key)
        assert r.status_code == 400
        assert "Idempotency-Key" in r.json()["fields"]
    assert SavingsTransaction.objects.count() == 0


BAD_AMOUNTS = {
    "zero": 0,
    "negative": -500,
    "fractional_string": "100.50",
    "fractional_number": 100.5,
    "float_whole": 100.0,
    "non_numeric": "cent francs",
    "exponent": "1e6",
    "boolean": True,
    "null": None,
    "list": [100],
    "absurdly_large_string": "99999999999999999999",
    "absurdly_large_number": 10**30,
    "above_a_billion": 1_000_000_001,
}


@pytest.mark.parametrize("amount", list(BAD_AMOUNTS.values()), ids=list(BAD_AMOUNTS))
def test_bad_amount_is_a_422_on_the_amount_field_and_writes_nothing(world, counter,
                                                                     client_for, amount):
    c = client_for("teller_a")
    before = _written()
    r = _dep(c, counter.account, {"amount": amount}, key="bad")
    assert r.status_code == 422, r.content
    body = r.json()
    assert body["code"] in ("invalid", "invalid_amount")
    assert body["fields"]["amount"]
    assert _written() == before


@pytest.mark.parametrize("amount", [0, -1, "1.5", "abc", 10**30], ids=["zero", "negative",
                                                                      "fraction", "text",
                                                                      "huge"])
def test_bad_amount_on_a_withdrawal_writes_nothing(world, counter, client_for, amount):
    c = client_for("teller_a")
    _dep(c, counter.account, {"amount": 50_000})
    before = _written()
    r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/withdrawals",
              {"amount": amount}, key="bad-w")
    assert r.status_code == 422
    assert "amount" in r.json()["fields"]
    assert _written() == before


def test_missing_amount(world, counter, client_for):
    r = _dep(client_for("teller_a"), counter.account, {})
    assert r.status_code == 422
    assert "amount" in r.json()["fields"]
    assert SavingsTransaction.objects.count() == 0


def test_body_that_is_not_json(world, counter, client_for):
    r = client_for("teller_a").post(
        f"/api/v1/savings/accounts/{counter.account.pk}/deposits", "amount=100",
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="nj")
    assert r.status_code in (400, 422)
    assert SavingsTransaction.objects.count() == 0


def test_unknown_account_is_a_404(world, counter, client_for):
    before = _written()
    r = _post(client_for("teller_a"), "/api/v1/savings/accounts/999999/deposits",
              {"amount": 100})
    assert r.status_code == 404
    assert r.json()["code"] == "account_not_found"
    assert _written() == before


def test_another_caisse_account_is_a_404_for_reads_and_writes(world, counter, client_for):
    c = client_for("teller_b")
    before = _written()
    assert c.get(f"/api/v1/savings/accounts/{counter.account.pk}").status_code == 404
    assert _dep(c, counter.account, {"amount": 100}, key="other").status_code == 404
    r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/withdrawals", {"amount": 1},
              key="other-w")
    assert r.status_code == 404
    assert c.get(f"/api/v1/savings/accounts/{counter.account.pk}/statement").status_code == 404
    assert _written() == before


def test_closed_account_is_a_409_on_the_account_field(world, counter, client_for):
    SavingsAccount.objects.filter(pk=counter.account.pk).update(status="closed")
    before = _written()
    r = _dep(client_for("teller_a"), counter.account, {"amount": 100})
    assert r.status_code == 409
    assert (r.json()["code"], list(r.json()["fields"])) == ("account_closed", ["account"])
    assert _written() == before


def test_blocked_account_is_a_409_for_withdrawals_and_deposits(world, counter, client_for):
    c = client_for("teller_a")
    _dep(c, counter.account, {"amount": 5_000})
    savings_account_block(acting_user=world.users["manager_a"], account=counter.account,
                          reason="Litige")
    before = _written()
    for path, key in (("withdrawals", "b-w"), ("deposits", "b-d")):
        r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/{path}", {"amount": 1},
                  key=key)
        assert r.status_code == 409
        assert r.json()["code"] == "account_blocked"
        assert "account" in r.json()["fields"]
    assert _written() == before


def test_withdrawal_refused_for_insufficient_balance_in_french(world, counter, client_for):
    c = client_for("teller_a")
    _dep(c, counter.account, {"amount": 5_000})
    before = _written()
    r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/withdrawals",
              {"amount": 50_000}, key="w-1", HTTP_ACCEPT_LANGUAGE="fr")
    assert r.status_code == 409
    assert r.json()["code"] == "insufficient_balance"
    assert "amount" in r.json()["fields"]
    assert _written() == before
    counter.account.refresh_from_db()
    assert counter.account.balance == 5_000


def test_auditor_reads_but_cannot_move_money(world, counter, client_for):
    c = client_for("auditor")
    assert c.get(f"/api/v1/savings/accounts/{counter.account.pk}").status_code == 200
    r = _dep(c, counter.account, {"amount": 100}, key="aud")
    assert r.status_code == 403
    assert SavingsTransaction.objects.count() == 0


def test_accounts_are_scoped(world, counter, client_for):
    assert [a["number"] for a in client_for("teller_a").get(
        "/api/v1/savings/accounts").json()] == [counter.account.number]
    assert client_for("teller_b").get("/api/v1/savings/accounts").json() == []
    assert client_for("mutual_manager").get("/api/v1/savings/accounts").json() == []
    assert client_for("mutual_manager").get(
        f"/api/v1/savings/accounts/{counter.account.pk}").status_code == 404
    detail = client_for("auditor").get(f"/api/v1/savings/accounts/{counter.account.pk}").json()
    assert (detail["holder"], detail["balance"], detail["kind"]) == ("Mariam Coulibaly", 0,
                                                                     "voluntary")


def test_transfer_api_and_target_in_another_caisse(world, counter, client_for):
    c = client_for("teller_a")
    _dep(c, counter.account, {"amount": 30_000})
    _p, second = make_member(world, counter, first_name="Djeneba", last_name="Traoré")
    r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/transfers",
              {"amount": 10_000, "target_account_id": second.pk}, key="t-1")
    assert r.status_code == 201, r.content
    assert r.json()["balance_after"] == 20_000
    second.refresh_from_db()
    assert second.balance == 10_000
    drawer_open(acting_user=world.users["teller_b"], caisse=world.caisse_b, amount=0, on=TODAY)
    _p, far = make_member(world, counter, user="teller_b", caisse=world.caisse_b,
                          first_name="Hawa", last_name="Konaté")
    before = _written()
    r = _post(c, f"/api/v1/savings/accounts/{counter.account.pk}/transfers",
              {"amount": 10_000, "target_account_id": far.pk}, key="t-2")
    assert r.status_code == 404
    assert "target_account_id" in r.json()["fields"]
    assert _written() == before


def test_pending_approve_and_reverse_through_the_api(world, counter, client_for):
    teller, manager = client_for("teller_a"), client_for("manager_a")
    r = _dep(teller, counter.account, {"amount": 600_000}, key="big")
    assert (r.status_code, r.json()["status"], r.json()["receipt"]) == (201, "pending", None)
    tx_id = r.json()["transaction_id"]
    assert [p["transaction_id"] for p in manager.get("/api/v1/savings/pending").json()] == [
        tx_id]
    assert _post(teller, f"/api/v1/savings/transactions/{tx_id}/approve", {},
                 key="a-0").status_code == 403
    r = _post(manager, f"/api/v1/savings/transactions/{tx_id}/approve", {}, key="a-1")
    assert (r.status_code, r.json()["status"]) == (201, "posted")
    again = _post(manager, f"/api/v1/savings/transactions/{tx_id}/approve", {}, key="a-1")
    assert again.json() == r.json()
    r = _post(manager, f"/api/v1/savings/transactions/{tx_id}/reverse", {"reason": ""},
              key="r-0")
    assert r.status_code == 422
    r = _post(manager, f"/api/v1/savings/transactions/{tx_id}/reverse",
              {"reason": "Billets faux"}, key="r-1")
    assert (r.status_code, r.json()["kind"]) == (201, "reversal")
    counter.account.refresh_from_db()
    assert counter.account.balance == 0
    assert client_for("teller_b").post(f"/api/v1/savings/transactions/{tx_id}/reverse",
                                       {"reason": "x"}, content_type="application/json",
                                       HTTP_IDEMPOTENCY_KEY="z").status_code == 404


def test_statement_json_and_csv(world, counter, client_for):
    c = client_for("teller_a")
    # Value dates from the account's opening (TODAY) to today, never before nor after.
    assert _dep(c, counter.account, {"amount": 7_000, "value_date": "2026-11-20"},
                key="s1").status_code == 201
    assert _dep(c, counter.account, {"amount": 3_000, "value_date": "2026-11-21"},
                key="s2").status_code == 201
    url = f"/api/v1/savings/accounts/{counter.account.pk}/statement"
    st = c.get(url + "?date_from=2026-11-21").json()
    assert (st["opening"], st["closing"]) == (7_000, 10_000)
    assert [(r["credit"], r["balance"]) for r in st["rows"]] == [(3_000, 10_000)]
    assert c.get(url + "?date_from=2026-12-01&date_to=2026-11-01").status_code == 422
    r = c.get(url + ".csv")
    assert r.status_code == 200
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "date;operation;recu;credit;debit;solde"
    assert lines[-1].endswith(";3000;0;10000")


def test_share_purchase_api_is_idempotent(world, counter, client_for):
    from tests.people.factories import register

    person = register(world, first_name="Salimata", last_name="Bagayoko")
    body = {"person_id": person.pk, "caisse_id": world.caisse_a.pk, "shares": 3}
    r = _post(client_for("teller_a"), "/api/v1/savings/shares", body, key="s-1")
    assert r.status_code == 201, r.content
    assert (r.json()["amount"], r.json()["entry_fee"], r.json()["shares_held"]) == (
        15_000, 1_000, 3)
    again = _post(client_for("teller_a"), "/api/v1/savings/shares", body, key="s-1")
    assert again.json() == r.json()
    bad = _post(client_for("teller_a"), "/api/v1/savings/shares", body | {"shares": 0},
                key="s-2")
    assert bad.status_code == 422
    assert "shares" in bad.json()["fields"]


def test_drawer_api_open_and_close_with_a_difference(world, counter, client_for):
    c = client_for("manager_a")
    r = c.post("/api/v1/savings/drawers", {"caisse_id": world.caisse_a.pk, "amount": 20_000},
               content_type="application/json")
    assert r.status_code == 201, r.content
    drawer_id = r.json()["id"]
    r = c.post(f"/api/v1/savings/drawers/{drawer_id}/close", {"count": {"10000": 1,
                                                                         "5000": 1}},
               content_type="application/json")
    assert r.status_code == 200
    assert (r.json()["difference"], r.json()["flagged"]) == (-5_000, True)
    r = c.post(f"/api/v1/savings/drawers/{counter.drawer.pk}/close", {"count": {"3": 1}},
               content_type="application/json")
    assert r.status_code == 422
    assert "3" in r.json()["fields"]
    assert DrawerSession.objects.get(pk=counter.drawer.pk).status == "open"
    assert client_for("teller_b").post(f"/api/v1/savings/drawers/{counter.drawer.pk}/close",
                                       {"count": {}}, content_type="application/json"
                                       ).status_code == 404


def test_interest_api_runs_once_per_period(world, counter, client_for):
    c = client_for("manager_a")
    url = f"/api/v1/savings/caisses/{world.caisse_a.pk}/interest"
    # A period that has ended (the year before the counter's day; the API refuses periods
    # still running: see test_bad_input_edges).
    r = c.post(url, {"period_end": "2025-12-31"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["created"] >= 1
    again = c.post(url, {"period_end": "2025-12-31"}, content_type="application/json").json()
    assert again["created"] == 0
    assert c.post(url, {"period_end": "2025-12-30"},
                  content_type="application/json").status_code == 422
    assert client_for("teller_a").post(url, {"period_end": "2025-11-30"},
                                       content_type="application/json").status_code == 403
