"""Channels fixtures: members with phones and SMS preferences, active loans with instalments
(written straight to the tables: the SMS side only reads them)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from jigi.channels.models import SmsPreference
from jigi.credit.models import Installment, Loan, LoanProduct, LoanStatus
from jigi.people.models import Person

AS_OF = date(2026, 3, 9)


@pytest.fixture
def member(db):
    """member("+22376000001", opt_in=True, language="bm") -> a Person (no row when
    opt_in is None)."""
    counter = iter(range(1, 10_000))

    def make(phone: str = "", *, opt_in: bool | None = True, language: str = "fr",
             person_language: str = "bm") -> Person:
        n = next(counter)
        person = Person.objects.create(first_name=f"Awa{n}", last_name="Traoré", sex="F",
                                       phone=phone or f"+2237600{n:04d}",
                                       language=person_language)
        if opt_in is not None:
            SmsPreference.objects.create(person=person, opt_in=opt_in, language=language)
        return person

    return make


@pytest.fixture
def loan_with_instalments(world):
    """loan_with_instalments(person, due=[dates]) -> an active loan of caisse A whose
    instalments (25 000 F principal + 2 500 F interest) fall on those dates."""
    product = LoanProduct.objects.create(organisation=world.orgs.kondo, code="SMS", name="Test",
                                         min_amount=10_000, max_amount=1_000_000,
                                         interest_rate=Decimal("18"))
    counter = iter(range(1, 10_000))

    def make(person: Person, due: list[date], *, status: str = LoanStatus.ACTIVE) -> Loan:
        loan = Loan.objects.create(
            number=f"C001-2026-{next(counter):05d}", product=product, caisse=world.caisse_a,
            person=person, status=status, principal=25_000 * len(due), terms={},
            applied_on=AS_OF - timedelta(days=60),
            expected_disbursement_on=AS_OF - timedelta(days=50))
        Installment.objects.bulk_create([
            Installment(loan=loan, number=i + 1, due_on=d, principal=25_000, interest=2_500)
            for i, d in enumerate(due)])
        return loan

    return make
