"""The union's close of business: one partition per mutual (`jigi cob --network UTM`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command

from jigi.cob.models import BusinessDate, PartitionDay
from jigi.cob.services import caisses_of, cob_run
from jigi.health.models import Coverage
from jigi.ledger.models import JournalLine

from .conftest import TODAY, make_coverage, make_family


def _late_family(world, health):
    """Enrolled 100 days ago, card and August paid, nothing since."""
    family = make_family(world, spouses=1, children=1)
    return make_coverage(world, family, package=health.package,
                         enrolled_on=TODAY - timedelta(days=100),
                         paid_through=date(2026, 8, 31)).coverage


def test_partitions_of_the_union_are_its_mutuals(world, health):
    assert {u.pk for u in caisses_of(world.orgs.utm)} == {world.mutual_1.pk, world.mutual_2.pk}
    assert all(u.kind == "caisse" for u in caisses_of(world.orgs.kondo))


def test_cob_suspends_arrears_once_and_records_each_mutual(world, health):
    late = _late_family(world, health)
    run = cob_run(organisation=world.orgs.utm, through=date(2026, 11, 15),
                  first=date(2026, 11, 14))
    assert run.status == "done"
    days = PartitionDay.objects.filter(caisse__organisation=world.orgs.utm)
    assert days.count() == 4  # 2 mutuals x 2 days
    late.refresh_from_db()
    # Already beyond the grace on the first day closed: suspended that day, once.
    assert (late.status, late.suspended_on) == ("suspended", date(2026, 11, 14))
    m1 = {d.business_date: d.summary for d in days.filter(caisse=world.mutual_1)}
    assert m1[date(2026, 11, 14)]["suspended"] == 1
    assert m1[date(2026, 11, 15)]["suspended"] == 0
    assert m1[date(2026, 11, 15)]["coverages"] >= 2
    assert BusinessDate.objects.get(organisation=world.orgs.utm).last_closed == date(2026, 11, 15)
    # The good payers stay covered; Kondo's business date is untouched.
    assert Coverage.objects.get(pk=health.coverage.pk).status == "active"
    assert not BusinessDate.objects.filter(organisation=world.orgs.kondo,
                                           last_closed__isnull=False).exists()
    # A second run for the same day has nothing to do and changes nothing.
    lines = JournalLine.objects.count()
    again = cob_run(organisation=world.orgs.utm, through=date(2026, 11, 15))
    assert again.partitions_total == 0
    assert JournalLine.objects.count() == lines
    assert days.count() == 4


def test_cob_command_takes_the_union(world, health, capsys):
    call_command("cob", "--through", "2026-11-15", "--first", "2026-11-15",
                 "--network", "UTM", "--quiet")
    assert PartitionDay.objects.filter(caisse__organisation=world.orgs.utm,
                                       business_date=date(2026, 11, 15)).count() == 2


def test_cob_of_the_union_refuses_a_future_date(world, health):
    from jigi.core.errors import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        cob_run(organisation=world.orgs.utm, through=TODAY + timedelta(days=1))
    assert exc.value.code == "cob_date_in_future"
    assert not PartitionDay.objects.exists()
