"""Dues in close of business (`jigi cob --network MTC`) and the `jigi movement` command."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jigi.cob.models import PartitionDay
from jigi.cob.services import cob_run
from jigi.movement.models import DuesCharge, DuesRate
from tests.movement.conftest import make_member


def test_close_of_business_charges_the_dues_once_per_day(mtc):
    p = make_member(mtc, joined=date(2026, 10, 1))
    run = cob_run(organisation=mtc.org, first=date(2026, 11, 1), through=date(2026, 11, 3))
    assert run.status == "done"
    assert PartitionDay.objects.filter(caisse__organisation=mtc.org).count() == 3
    assert list(p.charges.order_by("period_start").values_list("period_start", flat=True)) == \
        [date(2026, 10, 1), date(2026, 11, 1)]
    first_day = PartitionDay.objects.get(caisse__organisation=mtc.org,
                                         business_date=date(2026, 11, 1))
    assert first_day.summary["dues_charges"] == 2
    cob_run(organisation=mtc.org, through=date(2026, 11, 3))  # nothing left to close
    assert DuesCharge.objects.count() == 2


def test_movement_command_setup_and_accrue(mtc):
    DuesRate.objects.all().delete()
    out = StringIO()
    call_command("movement", "setup", stdout=out)
    assert json.loads(out.getvalue()) == {"setup": ["MTC"]}
    assert DuesRate.objects.count() == 4
    make_member(mtc, "artisans", joined=date(2026, 10, 1))
    out = StringIO()
    call_command("movement", "accrue", "--date", "2026-11-20", stdout=out)
    result = json.loads(out.getvalue())
    assert result[0]["charges"] == 2
    assert result[0]["amount"] == 1000
    with pytest.raises(CommandError):
        call_command("movement", "accrue", "--date", "20/11/2026")
    with pytest.raises(CommandError):
        call_command("movement", "accrue", "--date", "2999-01-01")


def test_close_of_business_raises_the_cases_overdue_alerts(mtc):
    from jigi.movement.models import CaseAlert
    from jigi.movement.services.cases import case_intake

    p = make_member(mtc, joined=date(2026, 10, 1))
    case = case_intake(acting_user=mtc.users["movement_admin"], person=p.person,
                       category="unpaid_wages", intake_channel="phone",
                       summary="Trois mois de salaire impayés", opened_on=date(2026, 10, 20))
    cob_run(organisation=mtc.org, first=date(2026, 11, 1), through=date(2026, 11, 1))
    # Unpaid wages: the first action was due within 7 days of 20 October, none was recorded.
    assert list(CaseAlert.objects.filter(case=case).values_list("kind", flat=True)) == [
        "first_action_overdue"]
    day = PartitionDay.objects.get(caisse__organisation=mtc.org, business_date=date(2026, 11, 1))
    assert day.summary["alerts_first_action_overdue"] == 1
    assert day.summary["alerts_resolution_overdue"] == 0
