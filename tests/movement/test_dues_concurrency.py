"""Organisers taking dues from one member at the same moment, real threads and PostgreSQL
connections (skipped on SQLite, which serialises writers; CI runs these on PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.ledger.selectors import ledger_verify
from jigi.movement.models import DuesCharge, DuesPayment, MemberProfile
from jigi.movement.services import dues
from jigi.movement.services._common import book_of
from jigi.orgs.models import Role
from jigi.orgs.services import role_grant
from tests.conftest import _user
from tests.movement.conftest import make_member
from tests.savings.test_concurrency import _race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_payments_on_one_member_lose_no_update(mtc):
    p = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    organisers = [mtc.users["organiser"]]
    for i in range(3):
        u = _user(f"organiser_dom{i}")
        role_grant(user=u, organisation=mtc.org, role=Role.ORGANISER,
                   unit=mtc.sections["domestic"])
        organisers.append(u)
    results = _race(4, lambda i: dues.dues_pay(
        acting_user=organisers[i], profile=MemberProfile.objects.get(pk=p.pk), amount=250,
        channel="cash").payment.receipt_number)
    assert all(r.startswith("MTC-") for r in results), results
    p.refresh_from_db()
    assert (p.arrears, p.advance) == (0, 250)
    assert sum(DuesCharge.objects.filter(profile=p).values_list("paid", flat=True)) == 750
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in results)
    assert numbers == list(range(numbers[0], numbers[0] + 4))
    assert DuesPayment.objects.count() == 4
    assert ledger_verify(book_of(mtc.org)) == []
