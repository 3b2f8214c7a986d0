"""Reference data written by migrations (usury caps, GNI per capita) comes back after a
`flush`, so a database emptied by a test or by hand reads the same legal figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.management import call_command

from jigi.credit.models import UsuryCap
from jigi.credit.services._common import cap_on
from jigi.reports.models import GniPerCapita


def test_usury_caps_and_gni_survive_a_flush(transactional_db):
    assert UsuryCap.objects.count() == 3
    call_command("flush", interactive=False, verbosity=0)
    assert sorted(UsuryCap.objects.values_list("lender", "since", "rate")) == [
        ("bank", date(2014, 1, 1), Decimal("15.00")), ("bank", date(2026, 6, 1), Decimal("14.00")),
        ("sfd", date(2014, 1, 1), Decimal("24.00"))]
    assert GniPerCapita.objects.get().francs == 510_000
    # The cap is read from the table (two decimals), as before the flush.
    assert str(cap_on(date(2026, 11, 27))) == "24.00"


def test_a_corrected_cap_is_left_as_it_is(transactional_db):
    UsuryCap.objects.filter(lender="sfd").update(rate=Decimal("22.00"))
    call_command("migrate", verbosity=0)  # sends post_migrate again
    assert UsuryCap.objects.get(lender="sfd").rate == Decimal("22.00")
