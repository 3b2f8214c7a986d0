from __future__ import annotations

from datetime import date

import pytest

from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.ledger.models import Book, JournalEntry
from jigi.ledger.selectors import ledger_verify, trial_balance
from jigi.savings.models import (
    DrawerSession,
    Receipt,
    SavingsAccount,
    SavingsTransaction,
    ShareAccount,
)
from jigi.savings.services import (
    accounts_mark_dormant,
    caisse_day_close,
    drawer_close,
    hold_place,
    interest_post_caisse,
    is_kondo_member,
    savings_account_block,
    savings_account_close,
    savings_account_open,
    savings_deposit,
    savings_transaction_reverse,
    savings_transfer,
    savings_withdraw,
    savings_withdrawal_approve,
    share_purchase,
    share_redeem,
)
from tests.people.factories import register
from tests.savings.conftest import TODAY


def _balances(world):
    tb = trial_balance(book=Book.objects.get(unit=world.caisse_a))
    return {r.code: r.balance for r in tb.rows}


def _state(account):
    account.refresh_from_db()
    return (account.balance, SavingsTransaction.objects.count(), JournalEntry.objects.count(),
            Receipt.objects.count())


def test_deposit_moves_balance_drawer_ledger_and_receipt(world, counter):
    teller = world.users["teller_a"]
    op = savings_deposit(acting_user=teller, account=counter.account, amount="25 000", on=TODAY)
    counter.account.refresh_from_db()
    assert counter.account.balance == 25_000
    assert op.transaction.balance_after == 25_000
    assert (op.receipt.year, op.receipt.number) == (2026, 1)
    assert DrawerSession.objects.get(pk=counter.drawer.pk).expected == 525_000
    assert _balances(world) == {"101": -500_000, "102": 525_000, "251": 25_000}
    assert ledger_verify(Book.objects.get(unit=world.caisse_a)) == []
    assert AuditEvent.objects.filter(event_type="savings.deposit", actor=teller).count() == 1
    op2 = savings_deposit(acting_user=teller, account=counter.account, amount=5_000, on=TODAY)
    assert op2.receipt.number == 2  # gapless per caisse and year


@pytest.mark.parametrize("amount", [0, -100, "12.5", 12.5, "abc", None, 10**13, "1e3"])
def test_bad_amounts_are_refused_and_nothing_written(world, counter, amount):
    before = _state(counter.account)
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=world.users["teller_a"], account=counter.account,
                        amount=amount, on=TODAY)
    assert exc.value.status_code == 422
    assert "amount" in exc.value.fields
    assert _state(counter.account) == before


def test_withdrawal_respects_balance_minimum_and_holds(world, counter):
    teller = world.users["teller_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=20_000, on=TODAY)
    before = _state(counter.account)
    # Minimum balance of the product is 1,000 F: at most 19,000 can leave.
    with pytest.raises(ApplicationError) as exc:
        savings_withdraw(acting_user=teller, account=counter.account, amount=19_001, on=TODAY)
    assert exc.value.code == "insufficient_balance"
    assert _state(counter.account) == before
    hold_place(acting_user=world.users["manager_a"], account=counter.account, amount=10_000,
               reason="Opposition judiciaire")
    with pytest.raises(ApplicationError):
        savings_withdraw(acting_user=teller, account=counter.account, amount=9_001, on=TODAY)
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=9_000, on=TODAY)
    assert op.transaction.balance_after == 11_000
    assert DrawerSession.objects.get(pk=counter.drawer.pk).expected == 511_000


def test_blocked_closed_and_other_caisse_accounts(world, counter):
    teller = world.users["teller_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=5_000, on=TODAY)
    savings_account_block(acting_user=world.users["manager_a"], account=counter.account,
                          reason="Décès du titulaire")
    with pytest.raises(ApplicationError) as exc:
        savings_withdraw(acting_user=teller, account=counter.account, amount=1_000, on=TODAY)
    assert exc.value.code == "account_blocked"
    # Teller of caisse B cannot touch caisse A's account: not found, nothing written.
    before = _state(counter.account)
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=world.users["teller_b"], account=counter.account,
                        amount=1_000, on=TODAY)
    assert exc.value.status_code == 404
    assert _state(counter.account) == before
    other = savings_account_open(acting_user=teller, product=counter.products["EPV"],
                                 caisse=world.caisse_a, person=counter.person, on=TODAY)
    savings_account_close(acting_user=teller, account=other)
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=teller, account=other, amount=1_000, on=TODAY)
    assert exc.value.code == "account_closed"


def test_no_cash_without_an_open_drawer(world, counter):
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=world.users["manager_a"], account=counter.account,
                        amount=1_000, on=TODAY)
    assert exc.value.code == "drawer_closed"


def test_auditor_cannot_operate(world, counter):
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=world.users["auditor"], account=counter.account,
                        amount=1_000, on=TODAY)
    assert exc.value.status_code in (403, 404)


def test_big_withdrawal_waits_for_a_manager(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=900_000, on=TODAY)
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=600_000, on=TODAY)
    assert op.transaction.status == "pending"
    assert op.receipt is None
    counter.account.refresh_from_db()
    assert counter.account.balance == 900_000
    with pytest.raises(ApplicationError):
        savings_withdrawal_approve(acting_user=teller, tx=op.transaction)
    approved = savings_withdrawal_approve(acting_user=manager, tx=op.transaction)
    counter.account.refresh_from_db()
    assert counter.account.balance == 300_000
    assert approved.transaction.approved_by == manager
    assert approved.receipt is not None


def test_reversal_by_supervisor_restores_everything(world, counter):
    teller = world.users["teller_a"]
    op = savings_deposit(acting_user=teller, account=counter.account, amount=40_000, on=TODAY)
    with pytest.raises(ApplicationError):
        savings_transaction_reverse(acting_user=teller, tx=op.transaction, reason="erreur")
    savings_transaction_reverse(acting_user=world.users["manager_a"], tx=op.transaction,
                                reason="Montant saisi deux fois")
    counter.account.refresh_from_db()
    assert counter.account.balance == 0
    assert DrawerSession.objects.get(pk=counter.drawer.pk).expected == 500_000
    assert _balances(world)["251"] == 0
    with pytest.raises(ApplicationError):
        savings_transaction_reverse(acting_user=world.users["manager_a"], tx=op.transaction,
                                    reason="encore")


def test_transfer_between_accounts(world, counter):
    teller = world.users["teller_a"]
    term = savings_account_open(acting_user=teller, product=counter.products["DAT"],
                                caisse=world.caisse_a, person=counter.person, on=TODAY)
    savings_deposit(acting_user=teller, account=counter.account, amount=60_000, on=TODAY)
    savings_transfer(acting_user=teller, source=counter.account, target=term, amount=50_000,
                     on=TODAY)
    counter.account.refresh_from_db()
    term.refresh_from_db()
    assert (counter.account.balance, term.balance) == (10_000, 50_000)
    assert _balances(world)["252"] == 50_000
    assert _balances(world)["251"] == 10_000


def test_group_account_needs_signatories(world, counter):
    teller = world.users["teller_a"]
    a = register(world, first_name="Awa", last_name="Togo", birth_year=1970)
    b = register(world, first_name="Sira", last_name="Guindo", birth_year=1975)
    c = register(world, first_name="Nana", last_name="Bah", birth_year=1980)
    grp = savings_account_open(acting_user=teller, product=counter.products["GRP"],
                               caisse=world.caisse_a, group_name="Groupement Benkadi",
                               signatories=[a, b, c], signatures_required=2, on=TODAY)
    savings_deposit(acting_user=teller, account=grp, amount=30_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_withdraw(acting_user=teller, account=grp, amount=5_000, on=TODAY,
                         signatory_ids=[a.pk])
    assert exc.value.code == "signatures_missing"
    op = savings_withdraw(acting_user=teller, account=grp, amount=5_000, on=TODAY,
                          signatory_ids=[a.pk, c.pk])
    assert op.transaction.balance_after == 25_000


def test_guarantee_savings_are_blocked(world, counter):
    teller = world.users["teller_a"]
    g = savings_account_open(acting_user=teller, product=counter.products["NAN"],
                             caisse=world.caisse_a, person=counter.person, on=TODAY,
                             loan_reference="PRET-1")
    assert g.status == "blocked"
    savings_deposit(acting_user=teller, account=g, amount=20_000, on=TODAY)
    assert _balances(world)["2545"] == 20_000
    with pytest.raises(ApplicationError):
        savings_withdraw(acting_user=teller, account=g, amount=1_000, on=TODAY)


def test_shares_make_a_member_and_post_capital_and_fee(world, counter):
    teller = world.users["teller_a"]
    with pytest.raises(ApplicationError):
        share_purchase(acting_user=teller, product=counter.share, person=counter.person,
                       caisse=world.caisse_a, shares=1, on=TODAY)
    assert not is_kondo_member(counter.person, counter.share)
    acc, rec = share_purchase(acting_user=teller, product=counter.share, person=counter.person,
                              caisse=world.caisse_a, shares=2, on=TODAY)
    assert rec.amount == 11_000  # 2 x 5,000 + 1,000 entry fee
    assert is_kondo_member(counter.person, counter.share)
    assert _balances(world)["57"] == 10_000
    assert _balances(world)["7029"] == 1_000
    share_purchase(acting_user=teller, product=counter.share, person=counter.person,
                   caisse=world.caisse_a, shares=1, on=TODAY)
    assert _balances(world)["7029"] == 1_000  # the fee is paid once
    with pytest.raises(ApplicationError):
        share_redeem(acting_user=world.users["manager_a"], account=acc, shares=1,
                     member_exit=False)
    drawer_close(acting_user=teller, drawer=counter.drawer, count={"10000": 52, "5000": 1,
                                                                   "1000": 1})
    from jigi.savings.services import drawer_open

    drawer_open(acting_user=world.users["manager_a"], caisse=world.caisse_a, amount=50_000,
                on=TODAY)
    share_redeem(acting_user=world.users["manager_a"], account=acc, shares=3, member_exit=True)
    assert ShareAccount.objects.get(pk=acc.pk).shares == 0
    assert _balances(world).get("57", 0) == 0


def test_drawer_close_with_shortage_goes_to_suspense_and_flags(world, counter):
    teller = world.users["teller_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=15_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        caisse_day_close(acting_user=world.users["manager_a"], caisse=world.caisse_a, on=TODAY)
    assert exc.value.code == "drawers_open"
    # Expected 515,000; counted 514,000: 1,000 short.
    d = drawer_close(acting_user=teller, drawer=counter.drawer,
                     count={"10000": 51, "2000": 2})
    assert (d.counted_amount, d.difference, d.flagged) == (514_000, -1_000, True)
    bal = _balances(world)
    assert bal["371"] == 1_000
    assert bal.get("102", 0) == 0
    assert bal["101"] == 14_000
    day = caisse_day_close(acting_user=world.users["manager_a"], caisse=world.caisse_a, on=TODAY)
    assert day.closed_at is not None


def test_drawer_count_refuses_unknown_denominations(world, counter):
    with pytest.raises(ApplicationError) as exc:
        drawer_close(acting_user=world.users["teller_a"], drawer=counter.drawer,
                     count={"3000": 1, "1000": -1})
    assert set(exc.value.fields) == {"3000", "1000"}


def test_interest_batch_is_idempotent(world, counter):
    teller = world.users["teller_a"]
    SavingsAccount.objects.filter(pk=counter.account.pk).update(opened_on=date(2025, 12, 1))
    savings_deposit(acting_user=teller, account=counter.account, amount=100_000,
                    on=date(2026, 1, 1))
    run = interest_post_caisse(caisse=world.caisse_a, product=counter.products["EPV"],
                               period_end=date(2026, 12, 31))
    assert run.created
    # 100,000 x 365 days x 3 % / 365 = 3,000
    assert run.posting.total == 3_000
    counter.account.refresh_from_db()
    assert counter.account.balance == 103_000
    again = interest_post_caisse(caisse=world.caisse_a, product=counter.products["EPV"],
                                 period_end=date(2026, 12, 31))
    assert not again.created
    counter.account.refresh_from_db()
    assert counter.account.balance == 103_000
    assert _balances(world)["6025"] == 3_000


def test_dormancy(world, counter):
    SavingsAccount.objects.filter(pk=counter.account.pk).update(
        last_activity_on=date(2025, 6, 1))
    assert accounts_mark_dormant(caisse=world.caisse_a, as_of=TODAY) == 1
    counter.account.refresh_from_db()
    assert counter.account.status == "dormant"
    savings_deposit(acting_user=world.users["teller_a"], account=counter.account, amount=1_000,
                    on=TODAY)
    counter.account.refresh_from_db()
    assert counter.account.status == "active"
