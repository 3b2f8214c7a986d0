"""The deposit's fast paths (docs/PERFORMANCE.md, "Savings", fourth session) keep every rule:
a token caller's scope read with her token, the key's claim that finds a known key itself, the
scope checked on the locked row, statements sent together, counters that feed their inserts.

Run on SQLite and on PostgreSQL (where the statements travel together and the counters feed
their inserts in one statement): nothing here is PostgreSQL-only."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from jigi.api import BearerToken
from jigi.core import prepared
from jigi.core.models import AuditEvent, Counter, IdempotencyRecord
from jigi.ledger.models import Book, JournalEntry
from jigi.ledger.services import period_close
from jigi.orgs.models import Role
from jigi.orgs.scoping import user_scope
from jigi.orgs.services import api_token_create, role_grant
from jigi.savings.models import DrawerSession, Receipt, SavingsAccount, SavingsTransaction
from jigi.savings.services import savings_deposit, savings_withdraw
from tests.savings.conftest import TODAY


def _token_client(world, username: str) -> Client:
    _token, raw = api_token_create(user=world.users[username], name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _dep(c: Client, account_id, body, key):
    return c.post(f"/api/v1/savings/accounts/{account_id}/deposits", body,
                  content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def _written():
    return (SavingsTransaction.objects.count(), JournalEntry.objects.count(),
            Receipt.objects.count(), IdempotencyRecord.objects.count(),
            AuditEvent.objects.count())


def test_a_token_reads_its_user_and_her_grants_in_one_statement(world, rf):
    teller = world.users["teller_a"]
    # A second grant, at another caisse, read-only there.
    role_grant(user=teller, organisation=world.orgs.kondo, role=Role.NETWORK_AUDITOR,
               unit=world.caisse_b)
    _token, raw = api_token_create(user=teller, name="t")
    user = BearerToken().authenticate(rf.get("/"), raw)
    assert user.pk == teller.pk
    fresh = get_user_model().objects.get(pk=teller.pk)
    assert user_scope(user) == user_scope(fresh)  # the scope kept on the user is the same
    assert {g.role for g in user_scope(user).grants} == {"teller", "network_auditor"}
    assert BearerToken().authenticate(rf.get("/"), raw + "x") is None


def test_a_token_of_a_user_without_grants_has_an_empty_scope(world, rf):
    lone = get_user_model().objects.create_user("lone", password="x-pass-123456")
    _token, raw = api_token_create(user=lone, name="t")
    user = BearerToken().authenticate(rf.get("/"), raw)
    assert user.pk == lone.pk
    assert user_scope(user).grants == ()
    assert not user_scope(user).is_superuser


def test_token_callers_are_scoped_on_the_locked_account(world, counter):
    account = counter.account.pk
    teller_a, teller_b, auditor = (_token_client(world, u)
                                   for u in ("teller_a", "teller_b", "auditor"))
    assert _dep(teller_a, account, {"amount": 700}, "t-1").status_code == 201
    before = _written()
    # Another caisse's teller: 404; the network auditor sees the account but may not move
    # money: 403; an id that cannot exist: 404. Nothing written, no key kept.
    r = _dep(teller_b, account, {"amount": 100}, "t-2")
    assert (r.status_code, r.json()["code"]) == (404, "account_not_found")
    assert _dep(auditor, account, {"amount": 100}, "t-3").status_code == 403
    for missing in (999_999, 2**63, 10**30):
        r = _dep(teller_a, missing, {"amount": 100}, f"t-{missing}")
        assert (r.status_code, r.json()["code"]) == (404, "account_not_found")
    assert _written() == before
    assert SavingsAccount.objects.get(pk=account).balance == 700


def test_a_known_key_replays_even_when_the_account_changed_since(world, counter):
    """The claim finds the key itself, after the checks that read only the request: a replay
    is answered from the record, not refused because the first call changed the state."""
    c = _token_client(world, "teller_a")
    first = _dep(c, counter.account.pk, {"amount": 2_000}, "r-1")
    assert first.status_code == 201
    SavingsAccount.objects.filter(pk=counter.account.pk).update(status="closed")
    before = _written()
    again = _dep(c, counter.account.pk, {"amount": 2_000}, "r-1")
    assert (again.status_code, again.json()) == (201, first.json())
    other = _dep(c, counter.account.pk, {"amount": 2_001}, "r-1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert _written() == before


def test_a_withdrawal_by_token_replays_and_moves_the_drawer_once(world, counter):
    c = _token_client(world, "teller_a")
    assert _dep(c, counter.account.pk, {"amount": 9_000}, "w-0").status_code == 201
    url = f"/api/v1/savings/accounts/{counter.account.pk}/withdrawals"
    answers = [c.post(url, {"amount": 1_000}, content_type="application/json",
                      HTTP_IDEMPOTENCY_KEY="w-1") for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    drawer = DrawerSession.objects.get(pk=counter.drawer.pk)
    assert (drawer.cash_in - 11_000, drawer.cash_out) == (9_000, 1_000)
    assert SavingsAccount.objects.get(pk=counter.account.pk).balance == 8_000


def test_a_deposit_writes_every_row_with_the_statements_sent_together(world, counter):
    teller = world.users["teller_a"]
    before = _written()
    op = savings_deposit(acting_user=teller, account=counter.account, amount=4_500, on=TODAY)
    assert _written() == tuple(n + d for n, d in zip(before, (1, 1, 1, 0, 1), strict=True))
    tx = SavingsTransaction.objects.get(pk=op.transaction.pk)
    assert (tx.balance_after, tx.status, tx.receipt_number) == (4_500, "posted",
                                                                op.receipt.number)
    acc = SavingsAccount.objects.get(pk=counter.account.pk)
    assert (acc.balance, acc.last_activity_on) == (4_500, TODAY)
    assert DrawerSession.objects.get(pk=counter.drawer.pk).cash_in == 11_000 + 4_500
    lines = list(tx.journal_entry.lines.values_list("side", "amount"))
    assert sorted(lines) == [("C", 4_500), ("D", 4_500)]
    audit = AuditEvent.objects.get(event_type="savings.deposit")
    assert (audit.subject_id, audit.after["receipt"]) == (str(tx.pk), str(op.receipt))


def test_numbers_stay_gapless_across_a_new_year_and_a_closed_month(world, counter):
    """The first entry and receipt of a year create their counters (the two-statement path);
    the next ones take the one-statement path; a refusal in a closed month gives the entry's
    number back."""
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    book = Book.objects.get(unit=world.caisse_a)
    last_entry = JournalEntry.objects.filter(book=book).order_by("-number").first().number
    # Receipts are numbered per value year (2027's counter does not exist yet), entries per
    # posting year (today's).
    ops = [savings_deposit(acting_user=teller, account=counter.account, amount=100 + k,
                           on=date(2027, 1, 4)) for k in range(3)]
    assert [op.receipt.number for op in ops] == [1, 2, 3]
    assert [op.receipt.year for op in ops] == [2027] * 3
    assert [op.transaction.journal_entry.number for op in ops] == [
        last_entry + 1, last_entry + 2, last_entry + 3]
    # A deposit in a closed month: refused, nothing written, both numbers given back.
    savings_deposit(acting_user=teller, account=counter.account, amount=50, on=TODAY)
    period_close(book=book, year=2026, month=10, acting_user=manager)
    counters = dict(Counter.objects.filter(year=2026).values_list("scope", "value"))
    before = _written()
    with pytest.raises(Exception) as refused:
        savings_deposit(acting_user=teller, account=counter.account, amount=60,
                        on=date(2026, 10, 15))
    assert getattr(refused.value, "code", None) == "period_closed"
    assert _written() == before
    assert dict(Counter.objects.filter(year=2026).values_list("scope", "value")) == counters
    nxt = savings_deposit(acting_user=teller, account=counter.account, amount=70, on=TODAY)
    assert nxt.receipt.number == counters[f"receipt:{world.caisse_a.pk}"] + 1
    assert nxt.transaction.journal_entry.number == counters[f"entry:{book.pk}"] + 1


def test_a_dormant_account_wakes_up_on_a_deposit(world, counter):
    SavingsAccount.objects.filter(pk=counter.account.pk).update(status="dormant")
    op = savings_deposit(acting_user=world.users["teller_a"], account=counter.account.pk,
                         amount=300, on=TODAY)
    acc = SavingsAccount.objects.get(pk=counter.account.pk)
    assert (acc.status, acc.balance, op.transaction.balance_after) == ("active", 300, 300)


def test_a_service_given_an_id_checks_the_scope_on_the_locked_row(world, counter):
    before = _written()
    with pytest.raises(Exception) as outside:
        savings_withdraw(acting_user=world.users["teller_b"], account=counter.account.pk,
                         amount=100)
    assert (outside.value.code, outside.value.status_code) == ("account_not_found", 404)
    with pytest.raises(Exception) as role:
        savings_deposit(acting_user=world.users["loan_officer_a"], account=counter.account.pk,
                        amount=100)
    assert role.value.status_code == 403
    assert _written() == before


def test_statements_sent_together_run_in_order_and_leave_the_last_rows(world):
    with transaction.atomic(), prepared.cursor() as cursor:
        cursor.execute("INSERT INTO core_counter (scope, year, value) VALUES (%s, %s, %s)",
                       ["probe", 2026, 1])
        row = cursor.execute_all([
            ("UPDATE core_counter SET value = value + %s WHERE scope = %s", [4, "probe"]),
            ("UPDATE core_counter SET value = value * %s WHERE scope = %s", [10, "probe"]),
            ("SELECT value FROM core_counter WHERE scope = %s", ["probe"]),
        ]).fetchone()
        assert row == (50,)
        assert cursor.execute_all([
            ("SELECT value + %s FROM core_counter WHERE scope = %s", [1, "probe"])
        ]).fetchone() == (51,)
