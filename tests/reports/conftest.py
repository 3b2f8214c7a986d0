"""A small portfolio in caisse A built through the services, the clock moved to each date.

- L1 Fatoumata (F), COM 200,000 F over 6 months, disbursed 2026-01-05; instalment 1 paid on
  its due date 2026-02-05, nothing since: at 2026-05-12 the oldest unpaid is due 2026-03-05
  (68 days);
- L2 Moussa (M), COM 100,000 F, disbursed 2026-04-01, nothing paid: at 2026-05-12 the
  instalment of 2026-05-01 is 11 days late;
- L3 Awa (F), AGR-free COM 150,000 F, disbursed 2026-03-01, instalments of 04-01 and 05-01
  paid on time: not late at 2026-05-12.

Compulsory savings (COM): 10 % of the principal, blocked in a guarantee account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from jigi.credit import services
from jigi.credit.models import Installment, Loan
from jigi.credit.setup import kondo_loan_products_seed
from jigi.people.models import Membership
from jigi.savings.services import drawer_open, savings_deposit
from jigi.savings.setup import kondo_products_seed
from tests.savings.conftest import make_member

TRADE = [120_000] * 12
HOUSEHOLD = [15_000] * 12
D = date(2026, 5, 12)


@dataclass
class Book:
    l1: Loan
    l2: Loan
    l3: Loan

    def rows(self, loan):
        return list(Installment.objects.filter(loan=loan, version=1).order_by("number"))


def _at(time_machine, day: date):
    time_machine.move_to(f"{day.isoformat()} 09:00:00+00:00", tick=False)


def _loan(world, person, principal, product):
    loan = services.loan_apply(
        acting_user=world.users["loan_officer_a"], caisse=world.caisse_a, person=person,
        product=product, principal=principal, repayments=6, purpose="Boutique",
        activity="trade")
    services.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                           incomes=[{"activity": "commerce", "months": TRADE}],
                           household_expenses=HOUSEHOLD)
    services.loan_approve(acting_user=world.users["manager_a"], loan=loan)
    return services.loan_disburse(acting_user=world.users["teller_a"], loan=loan).loan


def _repay(world, loan, inst):
    services.loan_repay(acting_user=world.users["teller_a"], loan=loan, amount=inst.total,
                        on=inst.due_on)


@pytest.fixture
def book(world, time_machine):
    start = date(2026, 1, 5)
    _at(time_machine, start)
    _share, savings_products = kondo_products_seed(organisation=world.orgs.kondo)
    products = kondo_loan_products_seed(organisation=world.orgs.kondo)
    drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a, amount=5_000_000,
                on=start)
    people = []
    for first, last, sex in (("Fatoumata", "Sanogo", "F"), ("Moussa", "Diarra", "M"),
                             ("Awa", "Coulibaly", "F")):
        person, account = make_member(world, savings_products, on=start, first_name=first,
                                      last_name=last, sex=sex)
        Membership.objects.filter(person=person).update(start_date=date(2025, 1, 15))
        savings_deposit(acting_user=world.users["teller_a"], account=account, amount=100_000,
                        on=start)
        people.append(person)
    com = products["COM"]
    l1 = _loan(world, people[0], 200_000, com)
    _at(time_machine, date(2026, 2, 5))
    _repay(world, l1, Book(l1, l1, l1).rows(l1)[0])
    _at(time_machine, date(2026, 3, 1))
    l3 = _loan(world, people[2], 150_000, com)
    _at(time_machine, date(2026, 4, 1))
    l2 = _loan(world, people[1], 100_000, com)
    b = Book(l1, l2, l3)
    _repay(world, l3, b.rows(l3)[0])
    _at(time_machine, date(2026, 5, 1))
    _repay(world, l3, b.rows(l3)[1])
    _at(time_machine, D)
    for loan in (l1, l2, l3):
        loan.refresh_from_db()
    return b


@pytest.fixture(autouse=True)
def _empty_cache():
    """The dashboard keeps month-end points in Django's cache (per process): a test must not
    see another test's points."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
