"""`jigi movement_overdue`: the daily overdue check from the command line, idempotent."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jigi.movement.models import CaseAlert
from jigi.movement.services.cases import case_intake
from tests.movement.conftest import make_member


def _run(*args):
    out = StringIO()
    call_command("movement_overdue", *args, stdout=out)
    return json.loads(out.getvalue())


def test_overdue_command_raises_alerts_once(mtc):
    profile = make_member(mtc)
    case = case_intake(acting_user=mtc.users["organiser"], person=profile.person,
                       category="unpaid_wages", intake_channel="phone", summary="x",
                       opened_on=date(2026, 9, 1))
    first = _run("--on", "2026-11-21")
    assert first == {"on": "2026-11-21", "raised": {
        "MTC": {"first_action_overdue": 1, "resolution_overdue": 1}}}
    again = _run("--on", "2026-11-21")
    assert again["raised"]["MTC"] == {"first_action_overdue": 0, "resolution_overdue": 0}
    assert CaseAlert.objects.filter(case=case).count() == 2


def test_overdue_command_refuses_a_bad_date(mtc):
    with pytest.raises(CommandError):
        _run("--on", "21/11/2026")
