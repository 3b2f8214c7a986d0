from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from jigi.savings.models import SavingsAccount
from jigi.savings.services import drawer_open, savings_account_open
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


@pytest.fixture
def counter(world):
    """Caisse A open for business: products, a member with a savings account, teller_a's drawer
    open with 500,000 F from the vault."""
    share, products = kondo_products_seed(organisation=world.orgs.kondo)
    person = register(world, first_name="Mariam", last_name="Coulibaly")
    account = savings_account_open(acting_user=world.users["teller_a"], product=products["EPV"],
                                   caisse=world.caisse_a, person=person, on=TODAY)
    drawer = drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                         amount=500_000, on=TODAY)
    return Counter(share, products, person, account, drawer)
