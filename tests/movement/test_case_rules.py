"""The pure rules of a case: urgency, confidentiality, deadlines, overdue, status changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.movement import case_rules as r
from jigi.movement.models import ActionKind, CaseCategory, CaseStatus

CATEGORIES = [c.value for c in CaseCategory]
D = date(2026, 11, 20)


def test_rule_values_match_the_model_choices():
    assert set(r.STATUSES) == {s.value for s in CaseStatus}
    assert {k.value for k in ActionKind} > r.RECORDABLE_KINDS
    assert set(CATEGORIES) >= r.URGENT_FOR_MINORS


def test_minor_needs_a_known_age():
    assert r.is_minor(15, 18)
    assert not r.is_minor(18, 18)
    assert not r.is_minor(None, 18)


@pytest.mark.parametrize("category", ["violence", "child_labour", "sexual_harassment"])
def test_a_minors_violence_child_labour_or_harassment_is_urgent(category):
    u = r.urgency([category], minor=True, marked_urgent=False)
    assert u == r.Urgency(True, "minor")


def test_a_minors_unpaid_wages_is_not_urgent_but_a_second_category_makes_it_so():
    assert not r.urgency(["unpaid_wages"], minor=True, marked_urgent=False).urgent
    assert r.urgency(["unpaid_wages", "child_labour"], minor=True, marked_urgent=False).urgent


def test_the_officer_marks_an_adults_violence_urgent_but_not_unpaid_wages():
    assert r.urgency(["violence"], minor=False, marked_urgent=True) == r.Urgency(True, "marked")
    assert not r.urgency(["violence"], minor=False, marked_urgent=False).urgent
    with pytest.raises(r.RuleError) as exc:
        r.urgency(["unpaid_wages"], minor=False, marked_urgent=True)
    assert exc.value.field == "urgent"


@given(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=4), st.booleans())
def test_urgent_without_a_mark_only_for_minors_in_the_three_categories(cats, minor):
    u = r.urgency(cats, minor=minor, marked_urgent=False)
    assert u.urgent == (minor and bool(set(cats) & r.URGENT_FOR_MINORS))


def test_confidential_by_default_for_violence_child_labour_harassment():
    assert r.confidential_default(["violence"])
    assert r.confidential_default(["unpaid_wages", "sexual_harassment"])
    assert not r.confidential_default(["unpaid_wages", "no_contract"])


def test_deadlines_take_the_tightest_category():
    d = r.deadlines(D, [(7, 60), (1, 30)])
    assert d == r.Deadlines(date(2026, 11, 21), date(2026, 12, 20))
    with pytest.raises(r.RuleError):
        r.deadlines(D, [])


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
       st.lists(st.tuples(st.integers(0, 365), st.integers(0, 365)), min_size=1, max_size=5))
def test_deadlines_never_before_opening_and_first_action_not_after_resolution(opened, days):
    d = r.deadlines(opened, days)
    assert opened <= d.first_action_due <= d.resolution_due
    assert d.first_action_due - opened == timedelta(days=min(p[0] for p in days))


def test_overdue_the_day_after_the_deadline():
    kw = {"first_action_due": D, "resolution_due": D + timedelta(days=30)}
    assert r.overdue(status="open", today=D, first_action_on=None, **kw) == r.Overdue(False, False)
    assert r.overdue(status="open", today=D + timedelta(days=1), first_action_on=None,
                     **kw) == r.Overdue(True, False)
    assert r.overdue(status="in_progress", today=D + timedelta(days=31), first_action_on=D,
                     **kw) == r.Overdue(False, True)


@given(st.sampled_from(r.STATUSES), st.dates(), st.dates(), st.dates(),
       st.none() | st.dates())
def test_a_closed_case_is_never_overdue_and_an_acted_case_never_first_action_overdue(
        status, today, first_due, resolution_due, first_on):
    late = r.overdue(status=status, today=today, first_action_due=first_due,
                     resolution_due=resolution_due, first_action_on=first_on)
    if status == r.CLOSED:
        assert late == r.Overdue(False, False)
    if first_on is not None:
        assert not late.first_action


@pytest.mark.parametrize(("status", "kind", "after"), [
    ("open", "interview", "in_progress"),
    ("open", "mediation", "in_progress"),
    ("open", "labour_inspection", "referred"),
    ("in_progress", "legal_aid", "referred"),
    ("in_progress", "note", "in_progress"),
    ("referred", "call", "referred"),
    ("closed", "reopening", "in_progress"),
])
def test_status_after_action(status, kind, after):
    assert r.status_after_action(status, kind) == after


@pytest.mark.parametrize(("status", "kind", "code"), [
    ("closed", "note", "case_closed"),
    ("open", "reopening", "case_not_closed"),
    ("open", "closure", "kind_not_recordable"),
    ("open", "intake", "kind_not_recordable"),
])
def test_refused_actions(status, kind, code):
    with pytest.raises(r.RuleError) as exc:
        r.status_after_action(status, kind)
    assert exc.value.code == code


@given(st.sampled_from(r.STATUSES), st.sampled_from(sorted(r.RECORDABLE_KINDS)))
def test_every_status_an_action_leads_to_is_an_allowed_transition_or_no_change(status, kind):
    try:
        new = r.status_after_action(status, kind)
    except r.RuleError:
        return
    assert new == status or new in r.TRANSITIONS[status]


def test_closing_twice_is_refused():
    r.check_transition("referred", "closed")
    with pytest.raises(r.RuleError):
        r.check_transition("closed", "closed")


def test_wages_at_closing():
    assert r.wages_at_closing("wages_recovered", mediation_amounts=[45_000, 5_000],
                              entered=None) == 50_000
    assert r.wages_at_closing("wages_recovered", mediation_amounts=[45_000],
                              entered=40_000) == 40_000
    assert r.wages_at_closing("resolved", mediation_amounts=[], entered=None) == 0
    with pytest.raises(r.RuleError):
        r.wages_at_closing("wages_recovered", mediation_amounts=[], entered=None)


@given(st.lists(st.integers(0, 10**7), max_size=6))
def test_wages_at_closing_is_the_sum_of_mediations_when_nothing_entered(amounts):
    outcome = "wages_recovered" if sum(amounts) else "no_result"
    assert r.wages_at_closing(outcome, mediation_amounts=amounts, entered=None) == sum(amounts)


@given(reopened=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)),
       current=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)),
       days=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 365)), min_size=1,
                     max_size=4))
def test_a_reopening_never_shortens_the_deadline_and_gives_a_full_period(reopened, current,
                                                                         days):
    due = r.resolution_due_on_reopening(reopened, current, days)
    assert due >= current
    assert due >= r.deadlines(reopened, days).resolution_due
    assert due in {current, r.deadlines(reopened, days).resolution_due}


def test_a_reopening_needs_a_category():
    with pytest.raises(r.RuleError):
        r.resolution_due_on_reopening(D, D, [])
