"""Shared set-up for the field collection tests, the browser test and the bench (no tests
here): caisse A open, a women's group of members with group loans disbursed, and a member of
caisse B. Dates: the group meets on 2026-05-12 (TODAY) every 14 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jigi.credit import services as credit
from jigi.credit.models import Loan, SolidarityGroup
from jigi.credit.setup import kondo_loan_products_seed
from jigi.people.models import Person
from jigi.savings.services import drawer_open
from jigi.savings.setup import kondo_products_seed
from tests.credit.conftest import HOUSEHOLD, TODAY, make_borrower

TRADE = [120_000] * 12
NAMES = ("Aminata", "Bintou", "Djeneba", "Fanta", "Kadiatou", "Mariam", "Nana", "Oumou",
         "Rokia", "Salimata", "Tenin", "Youma")


@dataclass
class Field:
    group: SolidarityGroup
    members: list[Person]
    loans: dict[int, Loan]  # person id -> her group loan
    other_caisse_member: Person
    today: date


def field_world(world, *, members: int = 4, borrowers: int = 3, saved: int = 10_000,
                principal: int = 50_000) -> Field:
    _share, savings_products = kondo_products_seed(organisation=world.orgs.kondo)
    products = kondo_loan_products_seed(organisation=world.orgs.kondo)
    drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                amount=100_000_000, on=TODAY)
    people = [make_borrower(world, savings_products, saved=saved,
                            first_name=NAMES[i % len(NAMES)], last_name=f"Dembélé{i}",
                            birth_year=1960 + i % 40,
                            confirm_not_duplicate=i >= len(NAMES))[0]
              for i in range(members)]
    group = credit.group_create(acting_user=world.users["loan_officer_a"],
                                caisse=world.caisse_a, name="Benkadi de Niono",
                                members=people, leader=people[0], meeting_every_days=14,
                                first_meeting_on=TODAY, meeting_place="Niono")
    loans = {}
    for person in people[:borrowers]:
        loan = credit.loan_apply(acting_user=world.users["loan_officer_a"],
                                 caisse=world.caisse_a, person=person,
                                 product=products["GRF"], principal=principal, repayments=10,
                                 group=group)
        loan = credit.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                                    incomes=[{"activity": "karité", "months": TRADE}],
                                    household_expenses=HOUSEHOLD).loan
        loans[person.pk] = credit.loan_approve(acting_user=world.users["manager_a"], loan=loan)
    credit.group_disburse(acting_user=world.users["teller_a"], group=group)
    drawer_open(acting_user=world.users["teller_b"], caisse=world.caisse_b, amount=10_000,
                on=TODAY)
    other = make_borrower(world, savings_products, saved=0, caisse=world.caisse_b,
                          user="teller_b", first_name="Awa", last_name="Koné")[0]
    for loan in loans.values():
        loan.refresh_from_db()
    return Field(group, people, loans, other, TODAY)
