"""Term deposits earn the rate of their term and amount slab."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jigi.core.errors import ApplicationError
from jigi.savings.models import SavingsProduct, SavingsTransaction
from jigi.savings.rules import parse_slabs, slab_rate, slabs_text
from jigi.savings.services import (
    interest_post_caisse,
    product_update,
    savings_account_open,
    savings_deposit,
    savings_transaction_approve,
)
from tests.savings.conftest import make_member

SLABS = [{"months": 3, "amount": 0, "rate": "3.50"}, {"months": 12, "amount": 0, "rate": "5.00"},
         {"months": 12, "amount": 1_000_000, "rate": "5.50"},
         {"months": 24, "amount": 0, "rate": "6.00"}]


@pytest.mark.parametrize(("months", "amount", "rate"), [
    (1, 500_000, "2"), (3, 10_000, "3.50"), (12, 999_999, "5.00"), (12, 1_000_000, "5.50"),
    (18, 2_000_000, "5.50"), (24, 5_000, "6.00")])
def test_slab_rate_picks_the_longest_term_then_the_largest_amount(months, amount, rate):
    assert slab_rate(SLABS, term_months=months, amount=amount, default=Decimal(2)) == \
        Decimal(rate)


def test_slabs_are_written_and_read_as_text():
    slabs = parse_slabs("12/1000000/5,5; 3/0/3.5")
    assert slabs == [{"months": 3, "amount": 0, "rate": "3.50"},
                     {"months": 12, "amount": 1_000_000, "rate": "5.50"}]
    assert slabs_text(slabs) == "3/0/3.50; 12/1000000/5.50"
    for bad in ("12/abc/5", "12/0", "12/0/500", "3/0/1; 3/0/2"):
        with pytest.raises(ValueError):
            parse_slabs(bad)


def test_a_bad_slab_setting_is_refused(world, counter):
    dat = counter.products["DAT"]
    with pytest.raises(ApplicationError) as exc:
        product_update(acting_user=world.users["admin"], product=dat,
                       values={"rate_slabs": "12/0/abc"})
    assert "rate_slabs" in exc.value.fields


def test_a_big_one_year_deposit_earns_its_slab(world, counter):
    teller = world.users["teller_a"]
    dat = SavingsProduct.objects.get(pk=counter.products["DAT"].pk)
    product_update(acting_user=world.users["admin"], product=dat,
                   values={"rate_slabs": slabs_text(SLABS), "interest_posting": "yearly"})
    person, _acc = make_member(world, counter, first_name="Hawa", last_name="Keita")
    big = savings_account_open(acting_user=teller, product=dat, caisse=world.caisse_a,
                               person=person, on=date(2026, 1, 1),
                               maturity_on=date(2027, 1, 1))
    small = savings_account_open(acting_user=teller, product=dat, caisse=world.caisse_a,
                                 person=person, on=date(2026, 1, 1),
                                 maturity_on=date(2026, 4, 1))
    pending = savings_deposit(acting_user=teller, account=big, amount=1_460_000,
                              on=date(2026, 1, 1))
    savings_transaction_approve(acting_user=world.users["manager_a"],
                                tx=pending.transaction)  # above the teller's threshold
    savings_deposit(acting_user=teller, account=small, amount=146_000, on=date(2026, 1, 1))
    interest_post_caisse(caisse=world.caisse_a, period_end=date(2026, 12, 31),
                         acting_user=world.users["manager_a"])
    credited = dict(SavingsTransaction.objects.filter(kind="interest").values_list(
        "account_id", "amount"))
    # 365 days at 5.50 % and at 3.50 % (the slab of a 3-month term).
    assert credited[big.pk] == 1_460_000 * 55 // 1000
    assert credited[small.pk] == 146_000 * 35 // 1000
