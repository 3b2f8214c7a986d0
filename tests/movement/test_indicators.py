"""Decent-work indicators from real member records: exact figures, who may read them (an
organiser her section, case workers the movement, outsiders a 404), a constant number of
statements, the monthly snapshot (idempotent, CLI) and the 12-month series."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.models import AuditEvent
from jigi.movement.models import IndicatorSnapshot, LegalSetting
from jigi.movement.selectors_indicators import (
    decent_work_now,
    indicator_series,
    legal_figures,
)
from jigi.movement.services.indicators import indicator_snapshot_take
from jigi.orgs.models import MemberGroup
from tests.movement.conftest import make_member

T, D, A, Y = (MemberGroup.TEACHERS, MemberGroup.DOMESTIC, MemberGroup.ARTISANS,
              MemberGroup.YOUTH)


@pytest.fixture
def members(mtc, time_machine):
    """Seven members at 20 November 2026: a 14-year-old domestic worker (the fixture's
    record: 15,000 F, 12 h a day, no rest, no contract, undeclared), an adult domestic worker
    with every right, two teachers (community subsidy with 75,000 F owed; State contract), an
    artisan above the SMIG, two young members (no computer; shared)."""
    time_machine.move_to("2026-11-20 09:00:00+00:00", tick=False)
    return [
        make_member(mtc, D, sex="F", birth_year=2012),
        make_member(mtc, D, sex="F", birth_year=1990, written_contract=True, declared=True,
                    daily_hours=9, weekly_rest_half_days=2, monthly_pay=40_000),
        make_member(mtc, T, sex="M", birth_year=1980, pay_arrears=75_000,
                    pay_arrears_months=3),
        make_member(mtc, T, sex="F", birth_year=1985, status="state_contract",
                    monthly_pay=60_000, paid_by="state", pay_arrears=10_000),
        make_member(mtc, A, sex="M", birth_year=1970, monthly_income=45_000),
        make_member(mtc, Y, sex="F", birth_year=2005, computer_access="none"),
        make_member(mtc, Y, sex="M", birth_year=2006, computer_access="shared"),
    ]


def _nd(result, key, dim=None, value=None):
    b = result.figures[key]
    f = b.total if dim is None else b.by[dim].get(value)
    return None if f is None else (f.numerator, f.denominator)


def test_the_movement_s_figures(mtc, members):
    result, view, _f = decent_work_now(mtc.users["case_worker_1"])
    assert view.whole
    assert result.members == 7
    assert _nd(result, "contract") == (2, 4)
    assert _nd(result, "smig") == (3, 5)
    assert _nd(result, "hours") == (1, 2)
    assert _nd(result, "rest") == (1, 2)
    assert _nd(result, "declared") == (1, 2)
    assert _nd(result, "minors") == (1, 2)
    below = result.figures["teachers_below_smig"].total
    assert (below.numerator, below.denominator, below.amount) == (1, 2, 75_000)
    assert _nd(result, "youth_no_computer") == (1, 2)
    assert _nd(result, "smig", "group", T) == (1, 2)
    assert _nd(result, "smig", "sex", "M") == (1, 2)
    assert _nd(result, "minors", "age_band", "under_15") == (1, 1)
    assert _nd(result, "contract", "section", str(mtc.sections[T].pk)) == (1, 2)


def test_filters_by_group_and_section(mtc, members):
    user = mtc.users["movement_admin"]
    result, _v, filters = decent_work_now(user, group=T)
    assert filters.group == T
    assert (result.members, _nd(result, "contract"), _nd(result, "hours")) == (2, (1, 2), (0, 0))
    assert result.figures["hours"].total.share is None
    result, _v, filters = decent_work_now(user, section=str(mtc.sections[D].pk))
    assert filters.section == mtc.sections[D]
    assert (result.members, _nd(result, "contract")) == (2, (1, 2))


def test_an_organiser_sees_her_section_only(mtc, members):
    result, view, _f = decent_work_now(mtc.users["organiser"])
    assert not view.whole
    assert [s.pk for s in view.sections] == [mtc.sections[D].pk]
    assert result.members == 2
    assert _nd(result, "smig") == (1, 2)
    assert _nd(result, "teachers_below_smig") == (0, 0)
    with pytest.raises(NotFound):
        decent_work_now(mtc.users["organiser"], section=mtc.sections[A].pk)


@pytest.mark.parametrize("username", ["teller_a", "mutual_manager", "auditor"])
def test_outsiders_get_a_404(mtc, members, username):
    with pytest.raises(NotFound):
        decent_work_now(mtc.users[username])
    with pytest.raises(NotFound):
        indicator_series(mtc.users[username])


def test_bad_filters_are_refused(mtc, members):
    user = mtc.users["movement_admin"]
    with pytest.raises(ApplicationError) as exc:
        decent_work_now(user, group="farmers")
    assert (exc.value.status_code, list(exc.value.fields)) == (422, ["group"])
    with pytest.raises(ApplicationError) as exc:
        decent_work_now(user, section="x")
    assert list(exc.value.fields) == ["section"]


def test_an_ended_membership_is_not_counted(mtc, members):
    membership = members[0].membership
    membership.status = "ended"
    membership.save(update_fields=["status"])
    result, _v, _f = decent_work_now(mtc.users["movement_admin"])
    assert (result.members, _nd(result, "minors")) == (6, (0, 1))


def test_the_smig_in_force_on_the_day(mtc, members):
    LegalSetting.objects.create(name="smig_month", value=50_000, valid_from=date(2026, 11, 1))
    assert legal_figures(date(2026, 10, 31)).smig == 40_000
    assert legal_figures(date(2026, 11, 1)).smig == 50_000
    result, _v, _f = decent_work_now(mtc.users["movement_admin"])
    assert result.law.smig == 50_000
    assert _nd(result, "smig") == (1, 5)  # only the 60,000 F teacher


def test_a_few_statements_whatever_the_number_of_members(mtc, members):
    user = mtc.users["movement_admin"]
    decent_work_now(user)  # the user's scope is read once per user object
    with CaptureQueriesContext(connection) as few:
        decent_work_now(user)
    for _k in range(5):
        make_member(mtc, D, birth_year=2000)
        make_member(mtc, T)
    with CaptureQueriesContext(connection) as more:
        result, _v, _f = decent_work_now(user)
    assert result.members == 17
    assert len(more.captured_queries) == len(few.captured_queries) <= 5


def test_the_monthly_snapshot_is_kept_once(mtc, members):
    admin = mtc.users["movement_admin"]
    snap, created = indicator_snapshot_take(organisation=mtc.org, month=date(2026, 11, 20),
                                            acting_user=admin)
    assert created
    assert (snap.month, snap.smig, snap.data["members"]) == (date(2026, 11, 1), 40_000, 7)
    assert snap.data["figures"]["contract"]["total"] == [2, 4, 0]
    assert AuditEvent.objects.filter(event_type="movement.indicator_snapshot").count() == 1
    make_member(mtc, D)  # the records change; the month's snapshot does not
    again, created = indicator_snapshot_take(organisation=mtc.org, month=date(2026, 11, 1))
    assert (again.pk, created, again.data["members"]) == (snap.pk, False, 7)
    assert IndicatorSnapshot.objects.count() == 1


def test_a_month_kept_late_counts_that_month_s_members(mtc, members):
    from jigi.people.models import Membership

    # One joined in November (after October), one left in November (a member in October).
    make_member(mtc, D, joined=date(2026, 11, 5))
    Membership.objects.filter(pk=members[4].membership_id).update(
        status="ended", end_date=date(2026, 11, 10))
    snap, created = indicator_snapshot_take(organisation=mtc.org, month=date(2026, 10, 1))
    assert created
    assert snap.data["members"] == 7
    assert snap.data["figures"]["smig"]["by"]["group"]["artisans"] == [1, 1, 0]
    assert snap.data["figures"]["minors"]["total"] == [1, 2, 0]


def test_no_snapshot_of_a_future_month(mtc, members):
    with pytest.raises(ApplicationError) as exc:
        indicator_snapshot_take(organisation=mtc.org, month=date(2026, 12, 1))
    assert list(exc.value.fields) == ["month"]
    assert not IndicatorSnapshot.objects.exists()


def test_the_cli_keeps_last_month_by_default(mtc, members):
    out = StringIO()
    call_command("movement_snapshot", stdout=out)
    assert json.loads(out.getvalue()) == [{"organisation": mtc.org.code, "month": "2026-10",
                                           "created": True, "members": 7, "smig": 40_000}]
    out = StringIO()
    call_command("movement_snapshot", "--month", "2026-10", stdout=out)
    assert json.loads(out.getvalue())[0]["created"] is False
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("movement_snapshot", "--month", "October")
    with pytest.raises(CommandError):
        call_command("movement_snapshot", "--month", "2027-01")


def test_the_series_reads_the_snapshots_for_the_user(mtc, members):
    indicator_snapshot_take(organisation=mtc.org, month=date(2026, 10, 1))
    points, _v, _f = indicator_series(mtc.users["case_worker_1"])
    assert [p.month for p in points][-2:] == [date(2026, 10, 1), date(2026, 11, 1)]
    assert len(points) == 12
    october, november = points[-2], points[-1]
    assert november.figures is None
    assert october.figures["contract"].numerator == 2
    assert october.figures["contract"].denominator == 4
    # The organiser reads her section's part of the same snapshot.
    points, _v, _f = indicator_series(mtc.users["organiser"])
    assert (points[-2].figures["contract"].numerator,
            points[-2].figures["contract"].denominator) == (1, 2)
    points, _v, _f = indicator_series(mtc.users["movement_admin"], group=T)
    assert points[-2].figures["teachers_below_smig"].amount == 75_000


def test_the_series_of_a_section_for_another_group_is_empty_as_the_live_figures(mtc, members):
    indicator_snapshot_take(organisation=mtc.org, month=date(2026, 10, 1))
    admin = mtc.users["movement_admin"]
    domestic = mtc.sections[D]
    live, _v, _f = decent_work_now(admin, section=domestic.pk, group=T)
    assert live.figures["teachers_below_smig"].total.denominator == 0
    points, _v, _f = indicator_series(admin, section=domestic.pk, group=T)
    assert points[-2].figures["teachers_below_smig"].denominator == 0
    assert points[-2].figures["contract"].denominator == 0
    points, _v, _f = indicator_series(admin, section=domestic.pk, group=D)
    assert points[-2].figures["contract"].denominator == 2


def test_two_runs_at_once_leave_the_first_snapshot(mtc, members, monkeypatch):
    """Another run writes the month's snapshot while this one computes: this one keeps the
    other's row, and says it did not make it."""
    from jigi.movement.services import indicators as service

    compute = service.movement_decent_work

    def slow_compute(organisation, on):
        result = compute(organisation, on)
        IndicatorSnapshot.objects.create(organisation=organisation, month=date(2026, 11, 1),
                                         data={"members": 99}, smig=40_000)
        return result

    monkeypatch.setattr(service, "movement_decent_work", slow_compute)
    snap, created = indicator_snapshot_take(organisation=mtc.org, month=date(2026, 11, 1))
    assert (created, snap.data) == (False, {"members": 99})
    assert IndicatorSnapshot.objects.count() == 1
    assert not AuditEvent.objects.filter(event_type="movement.indicator_snapshot").exists()
