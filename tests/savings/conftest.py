from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from jigi.ledger.models import Book
from jigi.ledger.selectors import trial_balance
from jigi.savings.models import SavingsAccount
from jigi.savings.services import drawer_open, savings_account_open, share_purchase
from jigi.savings.setup import kondo_products_seed
from tests.people.factories import register

TODAY = date(2026, 11, 20)


@dataclass
class Counter:
    share: object
    products: dict
    person: object
    account: SavingsAccount
    drawer: object


def make_member(world, counter_or_products, *, user="teller_a", caisse=None, on=TODAY,
                product="EPV", **names):
    """Register a person, buy the minimum shares (a member) and open an account."""
    products = getattr(counter_or_products, "products", counter_or_products)
    person = register(world, user=user, unit=caisse or world.caisse_a, **names)
    share_purchase(acting_user=world.users[user], person=person,
                   caisse=caisse or world.caisse_a, shares=2, on=on)
    account = savings_account_open(acting_user=world.users[user], product=products[product],
                                   caisse=caisse or world.caisse_a, person=person, on=on)
    return person, account


def balances(world, caisse=None) -> dict[str, int]:
    """The caisse's trial balance as {account code: signed balance}, zero rows left out."""
    tb = trial_balance(book=Book.objects.get(unit=caisse or world.caisse_a))
    return {r.code: r.balance for r in tb.rows if r.balance}


@pytest.fixture
def counter(world):
    """Caisse A open for business: products, teller_a's drawer open with 500,000 F from the
    vault, and a member (2 shares bought: 10,000 F + 1,000 F entry fee, so the drawer expects
    511,000 F) with an empty voluntary savings account (EPV)."""
    share, products = kondo_products_seed(organisation=world.orgs.kondo)
    drawer = drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                         amount=500_000, on=TODAY)
    person, account = make_member(world, products, first_name="Mariam", last_name="Coulibaly")
    return Counter(share, products, person, account, drawer)
