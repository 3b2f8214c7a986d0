"""Shared set-ups of the credit screen tests (Django client and browser)."""

from __future__ import annotations

from datetime import timedelta

from jigi.credit import services
from jigi.orgs.models import Role
from jigi.orgs.services import role_grant
from jigi.people.models import Membership
from tests.credit.conftest import COTTON_INCOME, HOUSEHOLD, TODAY, Credit, make_borrower

COTTON = {"pattern": "crop", "crop": "cotton", "region": "Sikasso"}


def open_for_credit(world) -> Credit:
    """What tests/credit/conftest.py's `credit` fixture sets up, for tests outside that
    package (the browser tests): products, teller_a's drawer, a cotton farmer with savings."""
    from jigi.credit.setup import kondo_loan_products_seed
    from jigi.savings.services import drawer_open
    from jigi.savings.setup import kondo_products_seed

    _share, savings_products = kondo_products_seed(organisation=world.orgs.kondo)
    products = kondo_loan_products_seed(organisation=world.orgs.kondo)
    drawer = drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                         amount=2_000_000, on=TODAY)
    person, account = make_borrower(world, savings_products, first_name="Fatoumata",
                                    last_name="Sanogo")
    return Credit(products, savings_products, person, account, drawer)


def worksheet_post(income=COTTON_INCOME, expenses=HOUSEHOLD, activity="coton") -> dict:
    data = {"activity_1": activity}
    for m in range(1, 13):
        data[f"income_1_{m}"] = str(income[m - 1])
        data[f"expense_{m}"] = str(expenses[m - 1])
    return data


def cotton_application_post(principal="200000", repayments="3") -> dict:
    return {"product": "AGR", "principal": principal, "repayments": repayments,
            "disbursed_on": TODAY.isoformat(), "kind": "crop", "crop": "cotton",
            "region": "Sikasso", "purpose": "Intrants coton", "activity": "cotton",
            **worksheet_post()}


def cotton_loan(world, credit, *, approve=True, disburse=False):
    loan = services.loan_apply(
        acting_user=world.users["loan_officer_a"], caisse=world.caisse_a, person=credit.person,
        product=credit.products["AGR"], principal=200_000, repayments=3, seasonal=COTTON,
        purpose="Intrants coton", activity="cotton")
    services.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                           incomes=[{"activity": "coton", "months": COTTON_INCOME}],
                           household_expenses=HOUSEHOLD)
    if approve:
        loan = services.loan_approve(acting_user=world.users["manager_a"], loan=loan)
    if disburse:
        loan = services.loan_disburse(acting_user=world.users["teller_a"], loan=loan).loan
    return loan


def network_admin(world):
    user = world.users["admin"].__class__.objects.create_user(username="network_admin",
                                                             password="pass-1234")
    role_grant(user=user, organisation=world.orgs.kondo, role=Role.NETWORK_ADMIN, unit=None)
    world.users["network_admin"] = user
    return user


def member_number(person) -> str:
    return Membership.objects.filter(person=person).values_list("number", flat=True).first()


def women_group_with_loans(world, credit, *, disburse=True):
    """A women's group of three (Fatoumata leads) whose members Awa and Kadia hold a GRF loan
    of 50,000 F (repaid every 14 days from today), disbursed together."""
    awa, _a = make_borrower(world, credit.savings_products, saved=20_000, first_name="Awa",
                            last_name="Traoré")
    kadia, _k = make_borrower(world, credit.savings_products, saved=20_000,
                              first_name="Kadia", last_name="Koné")
    group = services.group_create(acting_user=world.users["loan_officer_a"],
                                  caisse=world.caisse_a, name="Benkadi",
                                  members=[credit.person, awa, kadia], leader=credit.person,
                                  meeting_every_days=14, first_meeting_on=TODAY)
    for person in (awa, kadia):
        loan = services.loan_apply(acting_user=world.users["loan_officer_a"],
                                   caisse=world.caisse_a, person=person,
                                   product=credit.products["GRF"], principal=50_000,
                                   repayments=credit.products["GRF"].min_repayments,
                                   group=group, purpose="Petit commerce")
        services.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                               incomes=[{"activity": "commerce", "months": [60_000] * 12}],
                               household_expenses=[20_000] * 12)
        services.loan_approve(acting_user=world.users["manager_a"], loan=loan)
    if disburse:
        services.group_disburse(acting_user=world.users["teller_a"], group=group)
    return group, awa, kadia


FIRST_MEETING_AFTER = TODAY + timedelta(days=14)
