"""Migration movement 0002's fill of CaseAlert.due_on for the overdue alerts raised before
alerts named their deadline: an alert is about the deadline that had passed when it was raised,
so a case reopened before the migration (a later deadline, not passed yet) is still alerted
when its new deadline passes."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime

from django.apps import apps

from jigi.movement.models import CaseAlert
from jigi.movement.services import cases as svc
from tests.movement.test_cases import _worker_case

fill = importlib.import_module("jigi.movement.migrations.0002_alert_due_on")


def _legacy_alert(case, kind, raised_on):
    """An overdue alert as the code before the migration wrote it: no deadline."""
    alert = CaseAlert.objects.create(case=case, kind=kind)
    CaseAlert.objects.filter(pk=alert.pk).update(
        raised_at=datetime(raised_on.year, raised_on.month, raised_on.day, 18, tzinfo=UTC))
    return alert


def test_an_alert_raised_before_a_reopening_keeps_no_deadline_and_the_new_one_is_alerted(mtc):
    # unpaid wages: first action within 7 days, resolution within 60 (due 2026-10-31).
    case, worker = _worker_case(mtc, opened_on=date(2026, 9, 1))
    svc.case_action_record(acting_user=worker, case=case, kind="call",
                           happened_on=date(2026, 9, 2))
    old = _legacy_alert(case, "resolution_overdue", date(2026, 11, 1))
    svc.case_close(acting_user=worker, case=case, outcome="no_result",
                   closed_on=date(2026, 11, 5))
    svc.case_action_record(acting_user=worker, case=case, kind="reopening",
                           happened_on=date(2026, 11, 20), note="L'employeur ne paie plus")
    case.refresh_from_db()
    assert case.resolution_due == date(2027, 1, 19)

    fill.fill_due_on(apps, None)

    # Raised on 1 November, it was not about the 19 January deadline.
    old.refresh_from_db()
    assert old.due_on is None
    assert svc.cases_check_overdue(organisation=mtc.org, today=date(2027, 1, 20)) == {
        "first_action_overdue": 0, "resolution_overdue": 1}
    assert list(CaseAlert.objects.filter(case=case).order_by("pk")
                .values_list("kind", "due_on")) == [
        ("resolution_overdue", None), ("resolution_overdue", date(2027, 1, 19))]


def test_an_alert_about_the_present_deadline_gets_it_and_is_not_raised_again(mtc):
    case, _worker = _worker_case(mtc, opened_on=date(2026, 9, 1))  # no first action yet
    first = _legacy_alert(case, "first_action_overdue", date(2026, 9, 9))
    resolution = _legacy_alert(case, "resolution_overdue", date(2026, 11, 1))
    urgent = CaseAlert.objects.create(case=case, kind="urgent")

    fill.fill_due_on(apps, None)

    for alert in (first, resolution, urgent):
        alert.refresh_from_db()
    assert (first.due_on, resolution.due_on, urgent.due_on) == (
        date(2026, 9, 8), date(2026, 10, 31), None)
    assert svc.cases_check_overdue(organisation=mtc.org, today=date(2026, 11, 2)) == {
        "first_action_overdue": 0, "resolution_overdue": 0}
    fill.fill_due_on(apps, None)  # again: nothing changes
    assert CaseAlert.objects.filter(case=case, due_on__isnull=False).count() == 2
