"""Interest posted for a whole caisse: one batch, one entry per product, once per period."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.core.errors import ApplicationError
from jigi.ledger.models import Book, JournalEntry, JournalLine
from jigi.ledger.selectors import ledger_verify
from jigi.savings.models import (
    InterestPosting,
    ProductOverride,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
)
from jigi.savings.services import (
    interest_post_caisse,
    savings_deposit,
    savings_transaction_reverse,
    savings_withdraw,
)
from tests.savings.conftest import balances, make_member

JAN1, DEC31 = date(2026, 1, 1), date(2026, 12, 31)


def _open_early(*accounts, on=date(2025, 12, 1)):
    SavingsAccount.objects.filter(pk__in=[a.pk for a in accounts]).update(opened_on=on)


def test_a_year_of_interest_for_the_caisse_in_one_entry_and_only_once(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    _p, second = make_member(world, counter, first_name="Kadiatou", last_name="Sissoko")
    _p, small = make_member(world, counter, first_name="Rokia", last_name="Doumbia")
    _open_early(counter.account, second, small)
    savings_deposit(acting_user=teller, account=counter.account, amount=100_000, on=JAN1)
    # 36,500 F from 1 July (184 days) = 36,500 x 184 x 3 % / 365 = 552 F.
    savings_deposit(acting_user=teller, account=second, amount=36_500, on=date(2026, 7, 1))
    # Below the 5,000 F minimum for interest all year: nothing.
    savings_deposit(acting_user=teller, account=small, amount=4_999, on=JAN1)
    run = interest_post_caisse(caisse=world.caisse_a, period_end=DEC31, acting_user=manager)
    # Every product due that day is posted (and recorded done), even with nothing to credit.
    # (guarantee savings earn nothing by default: no posting for them).
    assert run.created == 3
    assert {p.product.code: (p.accounts, p.total) for p in run.postings} == {
        "EPV": (2, 3_000 + 552), "DAT": (0, 0), "GRP": (0, 0)}
    credited = dict(SavingsTransaction.objects.filter(kind="interest").values_list(
        "account_id", "amount"))
    assert credited == {counter.account.pk: 3_000, second.pk: 552}
    entries = JournalEntry.objects.filter(source_type="savings.interest")
    assert entries.count() == 1  # aggregated: not one entry per account
    lines = sorted(JournalLine.objects.filter(entry__in=entries).values_list(
        "account__code", "side", "amount"))
    assert lines == [("251", "C", 3_552), ("6025", "D", 3_552)]
    counter.account.refresh_from_db()
    assert counter.account.balance == 103_000
    assert balances(world)["6025"] == 3_552
    assert ledger_verify(Book.objects.get(unit=world.caisse_a)) == []
    again = interest_post_caisse(caisse=world.caisse_a, period_end=DEC31, acting_user=manager)
    assert (again.created, again.total) == (0, 3_552)
    counter.account.refresh_from_db()
    assert counter.account.balance == 103_000
    assert SavingsTransaction.objects.filter(kind="interest").count() == 2
    assert JournalEntry.objects.filter(source_type="savings.interest").count() == 1


def test_daily_balance_follows_deposits_withdrawals_and_reversals(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    _open_early(counter.account)
    savings_deposit(acting_user=teller, account=counter.account, amount=73_000, on=JAN1)
    savings_withdraw(acting_user=teller, account=counter.account, amount=36_500,
                     on=date(2026, 7, 2))
    wrong = savings_deposit(acting_user=teller, account=counter.account, amount=500_000,
                            on=date(2026, 3, 1))
    savings_transaction_reverse(acting_user=manager, tx=wrong.transaction,
                                reason="Saisie sur le mauvais compte", on=date(2026, 3, 1))
    run = interest_post_caisse(caisse=world.caisse_a, period_end=DEC31, acting_user=manager)
    # 73,000 x 182 days (Jan 1 - Jul 1) + 36,500 x 183 days, at 3 %/365; the deposit reversed
    # the same day never had an end-of-day balance.
    assert run.total == (73_000 * 182 + 36_500 * 183) * 3 // 36_500


def test_caisse_override_rate_and_monthly_group_savings(world, counter):
    from jigi.savings.services import savings_account_open
    from tests.people.factories import register

    teller, manager = world.users["teller_a"], world.users["manager_a"]
    ProductOverride.objects.create(product=counter.products["EPV"], caisse=world.caisse_a,
                                   interest_rate="6.00")
    SavingsProduct.objects.filter(code="GRP").update(interest_posting="monthly")
    grp = savings_account_open(
        acting_user=teller, product=SavingsProduct.objects.get(code="GRP"),
        caisse=world.caisse_a, group_name="Musow Ton", signatures_required=1,
        signatories=[register(world, first_name="Bintou", last_name="Koné")],
        on=date(2026, 10, 1))
    _open_early(counter.account)
    savings_deposit(acting_user=teller, account=counter.account, amount=100_000, on=JAN1)
    savings_deposit(acting_user=teller, account=grp, amount=365_000, on=date(2026, 10, 31))
    november = interest_post_caisse(caisse=world.caisse_a, period_end=date(2026, 11, 30),
                                    acting_user=manager)
    # Only the monthly product is due: 365,000 x 30 days x 2 % / 365 = 600 F.
    assert [(p.product.code, p.total) for p in november.postings] == [("GRP", 600)]
    year = interest_post_caisse(caisse=world.caisse_a, period_end=DEC31, acting_user=manager)
    assert {p.product.code: p.total for p in year.postings} == {
        "EPV": 6_000, "GRP": (365_600 * 31 * 2) // 36_500, "DAT": 0}
    assert balances(world)["253"] == 365_600 + (365_600 * 31 * 2) // 36_500


def test_rounding_rule_is_a_product_setting(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    _open_early(counter.account)
    # 10,000 F at 3 % for Nov+Dec 2026 (61 days) = 50.14 F: 50 either way;
    # 10,950 F for 61 days = 54.9 F: 54 rounded down, 55 half up.
    savings_deposit(acting_user=teller, account=counter.account, amount=10_950,
                    on=date(2026, 11, 1))
    SavingsProduct.objects.filter(code="EPV").update(interest_rounding="half_up")
    run = interest_post_caisse(caisse=world.caisse_a, period_end=DEC31, acting_user=manager)
    assert run.total == 55


def test_refusals(world, counter):
    with pytest.raises(ApplicationError) as exc:
        interest_post_caisse(caisse=world.caisse_a, period_end=date(2026, 12, 30),
                             acting_user=world.users["manager_a"])
    assert "period_end" in exc.value.fields
    with pytest.raises(ApplicationError) as exc:
        interest_post_caisse(caisse=world.caisse_a, period_end=DEC31,
                             acting_user=world.users["teller_a"])
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        interest_post_caisse(caisse=world.caisse_b, period_end=DEC31,
                             acting_user=world.users["manager_a"])
    assert exc.value.status_code == 404
    assert InterestPosting.objects.count() == 0
