"""Counter operations through the services: deposits, withdrawals, transfers, maker-checker,
reversals, holds, blocks, dormancy, guarantee savings and term deposits."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.ledger.models import Book, JournalEntry
from jigi.ledger.selectors import ledger_verify
from jigi.savings.models import (
    DrawerSession,
    Receipt,
    SavingsAccount,
    SavingsTransaction,
)
from jigi.savings.services import (
    accounts_mark_dormant,
    drawer_close,
    drawer_open,
    guarantee_apply_to_loan,
    guarantee_release,
    hold_place,
    hold_release,
    savings_account_block,
    savings_account_close,
    savings_account_open,
    savings_account_reactivate,
    savings_account_unblock,
    savings_deposit,
    savings_transaction_approve,
    savings_transaction_reject,
    savings_transaction_reverse,
    savings_transfer,
    savings_withdraw,
    term_deposits_mature,
)
from tests.people.factories import register
from tests.savings.conftest import TODAY, balances, make_member

BASE = {"101": -500_000, "102": 511_000, "57": 10_000, "7029": 1_000}


def _state(account):
    """Everything a refused operation must leave unchanged."""
    account.refresh_from_db()
    return (account.balance, account.status, SavingsTransaction.objects.count(),
            JournalEntry.objects.count(), Receipt.objects.count(),
            DrawerSession.objects.get(teller__username="teller_a", status="open").expected)


def _expected(counter) -> int:
    return DrawerSession.objects.get(pk=counter.drawer.pk).expected


def test_deposit_moves_balance_drawer_ledger_receipt_and_audit(world, counter):
    teller = world.users["teller_a"]
    op = savings_deposit(acting_user=teller, account=counter.account, amount="25 000", on=TODAY)
    counter.account.refresh_from_db()
    assert counter.account.balance == 25_000
    assert counter.account.last_activity_on == TODAY
    assert (op.transaction.kind, op.transaction.direction) == ("deposit", "C")
    assert op.transaction.balance_after == 25_000
    assert (op.receipt.year, op.receipt.number) == (2026, 2)  # receipt 1 was the shares
    assert op.receipt.amount == 25_000
    assert _expected(counter) == 536_000
    assert balances(world) == BASE | {"102": 536_000, "251": 25_000}
    assert ledger_verify(Book.objects.get(unit=world.caisse_a)) == []
    assert AuditEvent.objects.filter(event_type="savings.deposit", actor=teller).count() == 1
    op2 = savings_deposit(acting_user=teller, account=counter.account, amount=5_000, on=TODAY)
    assert op2.receipt.number == 3  # gapless per caisse and year


def test_receipts_restart_each_year_and_are_per_caisse(world, counter):
    teller = world.users["teller_a"]
    op = savings_deposit(acting_user=teller, account=counter.account, amount=1_000,
                         on=date(2027, 1, 2))
    assert (op.receipt.year, op.receipt.number) == (2027, 1)
    drawer_open(acting_user=world.users["teller_b"], caisse=world.caisse_b, amount=0, on=TODAY)
    _person, other = make_member(world, counter, user="teller_b", caisse=world.caisse_b,
                                 first_name="Kadia", last_name="Sangaré")
    op_b = savings_deposit(acting_user=world.users["teller_b"], account=other, amount=1_000,
                           on=TODAY)
    assert (op_b.receipt.caisse_id, op_b.receipt.number) == (world.caisse_b.pk, 2)


@pytest.mark.parametrize("amount", [0, -100, "12.5", 12.5, "abc", None, True, 10**13, "1e3",
                                    "", "   "])
def test_bad_amounts_are_refused_and_nothing_written(world, counter, amount):
    before = _state(counter.account)
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=world.users["teller_a"], account=counter.account,
                        amount=amount, on=TODAY)
    assert exc.value.status_code == 422
    assert "amount" in exc.value.fields
    assert _state(counter.account) == before


def test_withdrawal_respects_balance_minimum_and_holds(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=20_000, on=TODAY)
    before = _state(counter.account)
    # Minimum balance of the product is 1,000 F: at most 19,000 can leave.
    with pytest.raises(ApplicationError) as exc:
        savings_withdraw(acting_user=teller, account=counter.account, amount=19_001, on=TODAY)
    assert exc.value.code == "insufficient_balance"
    assert exc.value.fields == {"amount": exc.value.fields["amount"]}
    assert "19000" in str(exc.value.message)
    assert _state(counter.account) == before
    hold = hold_place(acting_user=manager, account=counter.account, amount=10_000,
                      reason="Crédit en cours d'instruction")
    with pytest.raises(ApplicationError):
        savings_withdraw(acting_user=teller, account=counter.account, amount=9_001, on=TODAY)
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=9_000, on=TODAY)
    assert op.transaction.balance_after == 11_000
    assert _expected(counter) == 531_000 - 9_000
    hold_release(acting_user=manager, hold=hold)
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=10_000, on=TODAY)
    assert op.transaction.balance_after == 1_000


def test_only_managers_place_holds(world, counter):
    with pytest.raises(ApplicationError) as exc:
        hold_place(acting_user=world.users["teller_a"], account=counter.account, amount=1,
                   reason="x")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        hold_place(acting_user=world.users["manager_a"], account=counter.account, amount=0,
                   reason="x")
    assert "amount" in exc.value.fields
    with pytest.raises(ApplicationError) as exc:
        hold_place(acting_user=world.users["manager_a"], account=counter.account, amount=5,
                   reason=" ")
    assert "reason" in exc.value.fields


def test_a_blocking_hold_stops_withdrawals_but_not_deposits(world, counter):
    teller = world.users["teller_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=20_000, on=TODAY)
    hold = hold_place(acting_user=world.users["manager_a"], account=counter.account,
                      reason="Opposition du tribunal de Niono", blocks_account=True)
    with pytest.raises(ApplicationError) as exc:
        savings_withdraw(acting_user=teller, account=counter.account, amount=1_000, on=TODAY)
    assert exc.value.code == "account_on_hold"
    savings_deposit(acting_user=teller, account=counter.account, amount=1_000, on=TODAY)
    hold_release(acting_user=world.users["manager_a"], hold=hold)
    savings_withdraw(acting_user=teller, account=counter.account, amount=1_000, on=TODAY)


def test_blocked_account_refuses_deposits_and_withdrawals(world, counter):
    teller = world.users["teller_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=5_000, on=TODAY)
    savings_account_block(acting_user=world.users["manager_a"], account=counter.account,
                          reason="Décès du titulaire")
    before = _state(counter.account)
    for service in (savings_withdraw, savings_deposit):
        with pytest.raises(ApplicationError) as exc:
            service(acting_user=teller, account=counter.account, amount=1_000, on=TODAY)
        assert (exc.value.code, exc.value.status_code) == ("account_blocked", 409)
        assert "account" in exc.value.fields
    assert _state(counter.account) == before
    with pytest.raises(ApplicationError) as exc:
        savings_account_block(acting_user=teller, account=counter.account, reason="x")
    assert exc.value.status_code == 403
    savings_account_unblock(acting_user=world.users["manager_a"], account=counter.account)
    savings_withdraw(acting_user=teller, account=counter.account, amount=1_000, on=TODAY)


def test_closing_pays_out_the_balance_and_then_refuses_everything(world, counter):
    teller = world.users["teller_a"]
    other = savings_account_open(acting_user=teller, product=counter.products["EPV"],
                                 caisse=world.caisse_a, person=counter.person, on=TODAY)
    savings_deposit(acting_user=teller, account=other, amount=3_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_account_close(acting_user=teller, account=other)
    assert exc.value.code == "balance_not_zero"
    hold = hold_place(acting_user=world.users["manager_a"], account=other, amount=500,
                      reason="Contestation")
    with pytest.raises(ApplicationError) as exc:
        savings_account_close(acting_user=teller, account=other, pay_out=True)
    assert exc.value.code == "active_hold"
    hold_release(acting_user=world.users["manager_a"], hold=hold)
    # The minimum balance (1,000 F) no longer applies: all 3,000 F are paid out.
    closed = savings_account_close(acting_user=teller, account=other, pay_out=True,
                                   reason="Départ du membre", on=TODAY)
    assert (closed.status, closed.closed_on) == ("closed", TODAY)
    other.refresh_from_db()
    assert (other.status, other.balance) == ("closed", 0)
    assert _expected(counter) == 511_000
    before = _state(counter.account)
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=teller, account=other, amount=1_000, on=TODAY)
    assert (exc.value.code, exc.value.status_code) == ("account_closed", 409)
    assert _state(counter.account) == before
    with pytest.raises(ApplicationError) as exc:
        savings_account_close(acting_user=teller, account=other)
    assert exc.value.code == "account_closed"


def test_another_caisse_teller_gets_404_and_nothing_is_written(world, counter):
    before = _state(counter.account)
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=world.users["teller_b"], account=counter.account,
                        amount=1_000, on=TODAY)
    assert exc.value.status_code == 404
    assert _state(counter.account) == before


def test_no_cash_without_an_open_drawer(world, counter):
    before = _state(counter.account)
    with pytest.raises(ApplicationError) as exc:
        savings_deposit(acting_user=world.users["manager_a"], account=counter.account,
                        amount=1_000, on=TODAY)
    assert (exc.value.code, exc.value.status_code) == ("drawer_closed", 409)
    assert "drawer" in exc.value.fields
    assert _state(counter.account) == before


def test_auditor_and_loan_officer_cannot_operate(world, counter):
    for name in ("auditor", "loan_officer_a", "mutual_manager"):
        with pytest.raises(ApplicationError) as exc:
            savings_deposit(acting_user=world.users[name], account=counter.account,
                            amount=1_000, on=TODAY)
        assert exc.value.status_code in (403, 404)
    assert counter.account.transactions.count() == 0


def test_withdrawal_fee_is_charged_in_the_same_entry(world, counter):
    from jigi.savings.models import ProductOverride

    teller = world.users["teller_a"]
    ProductOverride.objects.create(product=counter.products["EPV"], caisse=world.caisse_a,
                                   withdrawal_fee=200)
    savings_deposit(acting_user=teller, account=counter.account, amount=10_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_withdraw(acting_user=teller, account=counter.account, amount=8_900, on=TODAY)
    assert exc.value.code == "insufficient_balance"  # 8,900 + 200 fee > 9,000 available
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=8_800, on=TODAY)
    assert op.fee.amount == 200
    assert op.fee.parent_id == op.transaction.pk
    assert op.fee.journal_entry_id == op.transaction.journal_entry_id
    counter.account.refresh_from_db()
    assert counter.account.balance == 1_000
    assert op.receipt.balance_after == 1_000
    assert balances(world) == BASE | {"102": 511_000 + 10_000 - 8_800, "251": 1_000,
                                      "7029": 1_200}


def test_big_withdrawal_waits_for_a_manager(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    # A deposit above the threshold by a teller would be pending too: the manager deposits.
    drawer_open(acting_user=manager, caisse=world.caisse_a, amount=0, on=TODAY)
    savings_deposit(acting_user=manager, account=counter.account, amount=900_000, on=TODAY)
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=600_000, on=TODAY)
    assert op.pending
    assert op.receipt is None
    counter.account.refresh_from_db()
    assert counter.account.balance == 900_000
    assert _expected(counter) == 511_000
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_approve(acting_user=teller, tx=op.transaction)
    assert exc.value.status_code == 403
    approved = savings_transaction_approve(acting_user=manager, tx=op.transaction)
    assert approved.transaction.pk == op.transaction.pk  # the pending row itself is posted
    assert approved.transaction.status == "posted"
    assert approved.transaction.approved_by == manager
    assert approved.receipt is not None
    counter.account.refresh_from_db()
    assert counter.account.balance == 300_000
    # The cash left the maker's (the teller's) drawer.
    assert DrawerSession.objects.get(pk=counter.drawer.pk).cash_out == 600_000
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_approve(acting_user=manager, tx=op.transaction)
    assert exc.value.code == "not_pending"


def test_a_big_deposit_by_a_teller_waits_and_moves_the_makers_drawer(world, counter):
    manager = world.users["manager_a"]
    big = 600_000
    op = savings_deposit(acting_user=world.users["teller_a"], account=counter.account,
                         amount=big, on=TODAY)
    assert op.pending
    assert _expected(counter) == 511_000  # nothing moved
    posted = savings_transaction_approve(acting_user=manager, tx=op.transaction)
    assert posted.transaction.balance_after == big
    assert _expected(counter) == 511_000 + big  # the maker's drawer took the cash


def test_manager_rejects_a_pending_operation(world, counter):
    op = savings_deposit(acting_user=world.users["teller_a"], account=counter.account,
                         amount=700_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reject(acting_user=world.users["manager_a"], tx=op.transaction,
                                   reason="")
    assert "reason" in exc.value.fields
    tx = savings_transaction_reject(acting_user=world.users["manager_a"], tx=op.transaction,
                                    reason="Origine des fonds non justifiée")
    assert (tx.status, tx.reason) == ("rejected", "Origine des fonds non justifiée")
    counter.account.refresh_from_db()
    assert counter.account.balance == 0
    assert balances(world) == BASE


def test_pending_withdrawal_rechecked_at_approval(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    drawer_open(acting_user=manager, caisse=world.caisse_a, amount=0, on=TODAY)
    savings_deposit(acting_user=manager, account=counter.account, amount=700_000, on=TODAY)
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=600_000, on=TODAY)
    savings_withdraw(acting_user=teller, account=counter.account, amount=200_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_approve(acting_user=manager, tx=op.transaction)
    assert exc.value.code == "insufficient_balance"
    counter.account.refresh_from_db()
    assert counter.account.balance == 500_000


def test_reversal_by_a_supervisor_restores_everything(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    op = savings_deposit(acting_user=teller, account=counter.account, amount=40_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reverse(acting_user=teller, tx=op.transaction, reason="erreur")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reverse(acting_user=manager, tx=op.transaction, reason="  ")
    assert "reason" in exc.value.fields
    rev = savings_transaction_reverse(acting_user=manager, tx=op.transaction,
                                      reason="Montant saisi deux fois")
    assert (rev.transaction.kind, rev.transaction.direction) == ("reversal", "D")
    assert rev.transaction.reversal_of_id == op.transaction.pk
    assert rev.receipt is not None  # cash went back out of the drawer: a receipt
    counter.account.refresh_from_db()
    assert counter.account.balance == 0
    assert _expected(counter) == 511_000
    assert balances(world) == BASE
    assert SavingsTransaction.objects.get(pk=op.transaction.pk).status == "reversed"
    assert JournalEntry.objects.filter(reversal_of=op.transaction.journal_entry).count() == 1
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reverse(acting_user=manager, tx=op.transaction, reason="encore")
    assert exc.value.code == "not_reversible"
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reverse(acting_user=manager, tx=rev.transaction, reason="encore")
    assert exc.value.code == "not_reversible"


def test_a_manager_cannot_reverse_her_own_operation(world, counter):
    manager = world.users["manager_a"]
    drawer_open(acting_user=manager, caisse=world.caisse_a, amount=0, on=TODAY)
    op = savings_deposit(acting_user=manager, account=counter.account, amount=1_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reverse(acting_user=manager, tx=op.transaction, reason="erreur")
    assert exc.value.code == "maker_checker"


def test_reversing_a_withdrawal_gives_back_its_fee(world, counter):
    from jigi.savings.models import ProductOverride

    teller, manager = world.users["teller_a"], world.users["manager_a"]
    ProductOverride.objects.create(product=counter.products["EPV"], caisse=world.caisse_a,
                                   withdrawal_fee=100)
    savings_deposit(acting_user=teller, account=counter.account, amount=10_000, on=TODAY)
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=4_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reverse(acting_user=manager, tx=op.fee, reason="x")
    assert exc.value.code == "not_reversible"
    savings_transaction_reverse(acting_user=manager, tx=op.transaction, reason="Erreur de compte")
    counter.account.refresh_from_db()
    assert counter.account.balance == 10_000
    assert balances(world) == BASE | {"102": 521_000, "251": 10_000}
    assert SavingsTransaction.objects.filter(kind="reversal").count() == 2


def test_reversal_when_the_teller_drawer_is_closed_uses_the_manager_drawer(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    op = savings_deposit(acting_user=teller, account=counter.account, amount=5_000, on=TODAY)
    drawer_close(acting_user=teller, drawer=counter.drawer, count={"10000": 51, "5000": 1,
                                                                   "1000": 1})
    with pytest.raises(ApplicationError) as exc:
        savings_transaction_reverse(acting_user=manager, tx=op.transaction, reason="erreur")
    assert exc.value.code == "drawer_closed"
    mine = drawer_open(acting_user=manager, caisse=world.caisse_a, amount=10_000, on=TODAY)
    savings_transaction_reverse(acting_user=manager, tx=op.transaction, reason="erreur")
    assert DrawerSession.objects.get(pk=mine.pk).expected == 5_000
    assert DrawerSession.objects.get(pk=counter.drawer.pk).expected == 516_000  # unchanged


def test_transfer_between_accounts_and_its_reversal(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    term = savings_account_open(acting_user=teller, product=counter.products["DAT"],
                                caisse=world.caisse_a, person=counter.person, on=TODAY)
    assert term.maturity_on == date(2027, 11, 20)
    savings_deposit(acting_user=teller, account=counter.account, amount=60_000, on=TODAY)
    op = savings_transfer(acting_user=teller, source=counter.account, target=term,
                          amount=50_000, on=TODAY)
    counter.account.refresh_from_db()
    term.refresh_from_db()
    assert (counter.account.balance, term.balance) == (10_000, 50_000)
    assert balances(world) == BASE | {"102": 571_000, "251": 10_000, "252": 50_000}
    leg = SavingsTransaction.objects.get(account=term)
    assert (leg.direction, leg.parent_id, leg.counterpart_id) == ("C", op.transaction.pk,
                                                                  counter.account.pk)
    assert _expected(counter) == 571_000  # no cash moved
    savings_transaction_reverse(acting_user=manager, tx=leg, reason="Mauvais compte")
    counter.account.refresh_from_db()
    term.refresh_from_db()
    assert (counter.account.balance, term.balance) == (60_000, 0)
    assert balances(world) == BASE | {"102": 571_000, "251": 60_000}


def test_transfer_refusals(world, counter):
    teller = world.users["teller_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=5_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        savings_transfer(acting_user=teller, source=counter.account, target=counter.account,
                         amount=1_000, on=TODAY)
    assert "target_account_id" in exc.value.fields
    _p, closed = make_member(world, counter, first_name="Fanta", last_name="Keïta")
    SavingsAccount.objects.filter(pk=closed.pk).update(status="closed")
    with pytest.raises(ApplicationError) as exc:
        savings_transfer(acting_user=teller, source=counter.account, target=closed,
                         amount=1_000, on=TODAY)
    assert (exc.value.code, list(exc.value.fields)) == ("account_closed", ["target_account_id"])
    drawer_open(acting_user=world.users["teller_b"], caisse=world.caisse_b, amount=0, on=TODAY)
    _p, far = make_member(world, counter, user="teller_b", caisse=world.caisse_b,
                          first_name="Oumou", last_name="Sow")
    with pytest.raises(ApplicationError) as exc:
        savings_transfer(acting_user=teller, source=counter.account, target=far, amount=1_000,
                         on=TODAY)
    assert "target_account_id" in exc.value.fields
    counter.account.refresh_from_db()
    assert counter.account.balance == 5_000


def test_group_account_needs_its_signatories(world, counter):
    teller = world.users["teller_a"]
    a = register(world, first_name="Awa", last_name="Togo", birth_year=1970)
    b = register(world, first_name="Sira", last_name="Guindo", birth_year=1975)
    c = register(world, first_name="Nana", last_name="Bah", birth_year=1980)
    with pytest.raises(ApplicationError) as exc:
        savings_account_open(acting_user=teller, product=counter.products["GRP"],
                             caisse=world.caisse_a, group_name="Benkadi", signatories=[a],
                             signatures_required=2, on=TODAY)
    assert "signatures_required" in exc.value.fields
    grp = savings_account_open(acting_user=teller, product=counter.products["GRP"],
                               caisse=world.caisse_a, group_name="Groupement Benkadi",
                               signatories=[a, b, c], signatures_required=2, on=TODAY)
    assert grp.holder_name == "Groupement Benkadi"
    savings_deposit(acting_user=teller, account=grp, amount=30_000, on=TODAY)
    for present in ([], [a.pk], [a.pk, counter.person.pk], ["x"]):
        with pytest.raises(ApplicationError) as exc:
            savings_withdraw(acting_user=teller, account=grp, amount=5_000, on=TODAY,
                             signatory_ids=present)
        assert "signatory_ids" in exc.value.fields
    op = savings_withdraw(acting_user=teller, account=grp, amount=5_000, on=TODAY,
                          signatory_ids=[a.pk, str(c.pk)])
    assert op.transaction.balance_after == 25_000
    assert balances(world)["253"] == 25_000
    # Closing pays the rest out: the signatories must be there too.
    with pytest.raises(ApplicationError) as exc:
        savings_account_close(acting_user=teller, account=grp, pay_out=True,
                              signatory_ids=[b.pk])
    assert exc.value.code == "signatures_missing"
    savings_account_close(acting_user=teller, account=grp, pay_out=True,
                          signatory_ids=[b.pk, c.pk])
    grp.refresh_from_db()
    assert (grp.status, grp.balance) == ("closed", 0)


def test_only_members_open_personal_accounts(world, counter):
    stranger = register(world, first_name="Bakary", last_name="Dembélé", birth_year=1960)
    with pytest.raises(ApplicationError) as exc:
        savings_account_open(acting_user=world.users["teller_a"],
                             product=counter.products["EPV"], caisse=world.caisse_a,
                             person=stranger, on=TODAY)
    assert (exc.value.code, exc.value.status_code) == ("not_a_member", 409)


def test_guarantee_savings_are_locked_released_or_applied_to_a_loan(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    with pytest.raises(ApplicationError) as exc:
        savings_account_open(acting_user=teller, product=counter.products["NAN"],
                             caisse=world.caisse_a, person=counter.person, on=TODAY)
    assert "loan_reference" in exc.value.fields
    g = savings_account_open(acting_user=teller, product=counter.products["NAN"],
                             caisse=world.caisse_a, person=counter.person, on=TODAY,
                             loan_reference="PRET-2026-0042")
    savings_deposit(acting_user=teller, account=g, amount=30_000, on=TODAY)
    assert balances(world)["2545"] == 30_000
    with pytest.raises(ApplicationError) as exc:
        savings_withdraw(acting_user=teller, account=g, amount=1_000, on=TODAY)
    assert exc.value.code == "guarantee_locked"
    with pytest.raises(ApplicationError) as exc:
        guarantee_release(acting_user=teller, account=g, amount=1_000, reason="x")
    assert exc.value.status_code == 403
    guarantee_release(acting_user=manager, account=g, amount=10_000,
                      reason="Prêt remboursé au tiers")
    applied = guarantee_apply_to_loan(acting_user=manager, account=g, amount=5_000,
                                      loan_reference="PRET-2026-0042",
                                      reason="Échéance de juillet impayée")
    assert applied.transaction.kind == "loan_cover"
    g.refresh_from_db()
    counter.account.refresh_from_db()
    assert (g.balance, counter.account.balance) == (15_000, 10_000)
    bal = balances(world)
    assert (bal["2545"], bal["251"], bal["202"]) == (15_000, 10_000, -5_000)
    assert AuditEvent.objects.filter(event_type="savings.guarantee_applied").count() == 1


def test_term_deposit_broken_early_needs_a_manager_and_pays_a_penalty(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    term = savings_account_open(acting_user=teller, product=counter.products["DAT"],
                                caisse=world.caisse_a, person=counter.person,
                                on=date(2025, 11, 20))
    savings_deposit(acting_user=teller, account=term, amount=100_000, on=TODAY)
    SavingsTransaction.objects.create(account=term, kind="interest", direction="C",
                                      amount=3_000, value_date=TODAY, status="posted")
    SavingsAccount.objects.filter(pk=term.pk).update(balance=103_000,
                                                     maturity_on=date(2026, 12, 31))
    op = savings_withdraw(acting_user=teller, account=term, amount=50_000, on=TODAY)
    assert op.pending  # before maturity: a manager decides
    done = savings_transaction_approve(acting_user=manager, tx=op.transaction)
    assert done.fee.amount == 1_500  # 50 % of the 3,000 F interest credited
    term.refresh_from_db()
    assert term.balance == 103_000 - 50_000 - 1_500
    # At maturity the teller withdraws without approval or penalty.
    after = savings_withdraw(acting_user=teller, account=term, amount=1_000,
                             on=date(2026, 12, 31))
    assert not after.pending
    assert after.fee is None


def test_term_deposits_mature_renew_or_pay_out(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    renew = savings_account_open(acting_user=teller, product=counter.products["DAT"],
                                 caisse=world.caisse_a, person=counter.person,
                                 on=date(2025, 11, 1), renew_at_maturity=True)
    pay = savings_account_open(acting_user=teller, product=counter.products["DAT"],
                               caisse=world.caisse_a, person=counter.person,
                               on=date(2025, 11, 1))
    savings_deposit(acting_user=teller, account=pay, amount=80_000, on=TODAY)
    result = term_deposits_mature(caisse=world.caisse_a, as_of=TODAY, acting_user=manager)
    assert result == {"renewed": 1, "paid_out": 1, "waiting": 0}
    renew.refresh_from_db()
    pay.refresh_from_db()
    counter.account.refresh_from_db()
    assert renew.maturity_on == date(2027, 11, 1)
    assert (pay.status, pay.balance, counter.account.balance) == ("closed", 0, 80_000)
    assert term_deposits_mature(caisse=world.caisse_a, as_of=TODAY,
                                acting_user=manager) == {"renewed": 0, "paid_out": 0,
                                                         "waiting": 0}


def test_dormancy_and_reactivation(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=10_000, on=TODAY)
    SavingsAccount.objects.filter(pk=counter.account.pk).update(
        last_activity_on=date(2025, 6, 1))
    with pytest.raises(ApplicationError):
        accounts_mark_dormant(caisse=world.caisse_a, as_of=TODAY, acting_user=teller)
    assert accounts_mark_dormant(caisse=world.caisse_a, as_of=TODAY, acting_user=manager) == 1
    assert accounts_mark_dormant(caisse=world.caisse_a, as_of=TODAY, acting_user=manager) == 0
    counter.account.refresh_from_db()
    assert counter.account.status == "dormant"
    # A teller's withdrawal from a dormant account waits for a manager.
    op = savings_withdraw(acting_user=teller, account=counter.account, amount=1_000, on=TODAY)
    assert op.pending
    savings_transaction_reject(acting_user=manager, tx=op.transaction, reason="Identité")
    # A deposit wakes it.
    savings_deposit(acting_user=teller, account=counter.account, amount=1_000, on=TODAY)
    counter.account.refresh_from_db()
    assert counter.account.status == "active"
    SavingsAccount.objects.filter(pk=counter.account.pk).update(status="dormant")
    savings_account_reactivate(acting_user=manager, account=counter.account)
    counter.account.refresh_from_db()
    assert counter.account.status == "active"
