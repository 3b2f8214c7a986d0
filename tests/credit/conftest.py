from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from jigi.credit.setup import kondo_loan_products_seed
from jigi.people.models import Membership
from jigi.savings.models import SavingsAccount
from jigi.savings.services import drawer_open, savings_deposit
from jigi.savings.setup import kondo_products_seed
from tests.savings.conftest import balances, make_member

# Sowing time in the cotton zone: a crop loan is disbursed now, repaid after the CMDT pays.
TODAY = date(2026, 5, 12)

# A cotton farmer's year (francs): cotton money Dec-Mar, some shea and small trade.
COTTON_INCOME = [250_000, 200_000, 150_000, 30_000, 30_000, 60_000, 40_000, 20_000, 20_000,
                 30_000, 60_000, 300_000]
HOUSEHOLD = [15_000] * 12


@dataclass
class Credit:
    products: dict
    savings_products: dict
    person: object
    account: SavingsAccount
    drawer: object


def make_borrower(world, savings_products, *, saved=100_000, caisse=None, user="teller_a",
                  **names):
    """A member of a year's standing with two shares and `saved` francs of savings."""
    person, account = make_member(world, savings_products, caisse=caisse, user=user, on=TODAY,
                                  **names)
    Membership.objects.filter(person=person).update(start_date=date(2025, 1, 15))
    if saved:
        savings_deposit(acting_user=world.users[user], account=account, amount=saved, on=TODAY)
    account.refresh_from_db()
    return person, account


@pytest.fixture
def today(time_machine):
    time_machine.move_to("2026-05-12 09:00:00+00:00", tick=False)
    return TODAY


@pytest.fixture
def credit(world, today):
    """Caisse A open: savings and loan products, teller_a's drawer with 2,000,000 F, a
    cotton farmer member (Fatoumata Sanogo) with 100,000 F saved."""
    _share, savings_products = kondo_products_seed(organisation=world.orgs.kondo)
    products = kondo_loan_products_seed(organisation=world.orgs.kondo)
    drawer = drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                         amount=2_000_000, on=TODAY)
    person, account = make_borrower(world, savings_products, first_name="Fatoumata",
                                    last_name="Sanogo")
    return Credit(products, savings_products, person, account, drawer)


__all__ = ["COTTON_INCOME", "HOUSEHOLD", "TODAY", "Credit", "balances", "make_borrower"]
