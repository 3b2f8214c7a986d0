"""The rules of an MTC rights case, as pure functions (no Django): when a case is urgent and
confidential, its deadlines from the opening date, when it is overdue, and how its status may
change (CiviCase status transitions, openIMIS grievance resolution times).

Values are the plain strings of movement.models (CaseCategory, CaseStatus, ActionKind); the
services translate refusals into field messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

# Categories where a minor is always urgent: abuse of a child, child labour (C138, C182 ratified
# by Mali) and sexual harassment.
URGENT_FOR_MINORS = frozenset({"violence", "child_labour", "sexual_harassment"})
# Categories the intake officer may mark urgent for an adult (danger to the person).
MAY_BE_MARKED_URGENT = frozenset({"violence", "sexual_harassment", "child_labour"})
# Confidential unless the officer decides otherwise: the person may be in danger.
CONFIDENTIAL_BY_DEFAULT = frozenset({"violence", "child_labour", "sexual_harassment"})

OPEN, IN_PROGRESS, REFERRED, CLOSED = "open", "in_progress", "referred", "closed"
STATUSES = (OPEN, IN_PROGRESS, REFERRED, CLOSED)

# Which status may follow which (anything else is refused). A closed case comes back only by a
# reopening action, to "in progress".
TRANSITIONS: Mapping[str, frozenset[str]] = {
    OPEN: frozenset({IN_PROGRESS, REFERRED, CLOSED}),
    IN_PROGRESS: frozenset({REFERRED, CLOSED}),
    REFERRED: frozenset({IN_PROGRESS, CLOSED}),
    CLOSED: frozenset({IN_PROGRESS}),
}

REFERRAL_KINDS = frozenset({"labour_inspection", "union", "legal_aid"})
# Kinds a case worker records on the timeline; intake and closure are written by their services.
RECORDABLE_KINDS = frozenset({"interview", "call", "mediation", "labour_inspection", "union",
                              "legal_aid", "health_care", "note", "reopening"})


class RuleError(ValueError):
    """A refused change; `code` is stable, `field` names the input at fault."""

    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def is_minor(age: int | None, adult_age: int) -> bool:
    """Under the adult age; an unknown age is not taken for a minor (the officer can still
    mark a violence case urgent). Intake decides from the birth date or year with
    movement.standing.is_minor (a doubt is a flag); this is for a whole age already known."""
    return age is not None and age < adult_age


@dataclass(frozen=True)
class Urgency:
    urgent: bool
    reason: str  # "minor" | "marked" | ""


def urgency(categories: Iterable[str], *, minor: bool, marked_urgent: bool) -> Urgency:
    """A minor's case of violence, child labour or sexual harassment is urgent whatever the
    officer says; otherwise the officer may mark urgent a case of violence, harassment or child
    labour, and no other (a marked urgent unpaid-wages case is refused: RuleError "urgent")."""
    cats = set(categories)
    if minor and cats & URGENT_FOR_MINORS:
        return Urgency(True, "minor")
    if marked_urgent:
        if not cats & MAY_BE_MARKED_URGENT:
            raise RuleError("not_urgent_category", "urgent")
        return Urgency(True, "marked")
    return Urgency(False, "")


def confidential_default(categories: Iterable[str]) -> bool:
    return bool(set(categories) & CONFIDENTIAL_BY_DEFAULT)


@dataclass(frozen=True)
class Deadlines:
    first_action_due: date
    resolution_due: date


def _tightest(days: Iterable[tuple[int, int]]) -> tuple[int, int]:
    pairs = list(days)
    if not pairs:
        raise RuleError("no_deadline", "category")
    first = min(p[0] for p in pairs)
    return first, max(min(p[1] for p in pairs), first)


def deadlines(opened_on: date, days: Iterable[tuple[int, int]]) -> Deadlines:
    """The tightest of the categories' (days to first action, days to resolution), counted in
    calendar days from the opening date. At least one category's days are needed."""
    first, resolution = _tightest(days)
    return Deadlines(opened_on + timedelta(days=first), opened_on + timedelta(days=resolution))


def resolution_due_on_reopening(reopened_on: date, current_due: date,
                                days: Iterable[tuple[int, int]]) -> date:
    """A reopened case gets the resolution time of its categories again, counted from the
    reopening (calendar days, the tightest category as at intake); never earlier than the
    deadline it had."""
    _first, resolution = _tightest(days)
    return max(current_due, reopened_on + timedelta(days=resolution))


@dataclass(frozen=True)
class Overdue:
    first_action: bool
    resolution: bool


def overdue(*, status: str, today: date, first_action_due: date, resolution_due: date,
            first_action_on: date | None) -> Overdue:
    """A deadline is passed the day after it (the due day itself is still in time); a closed
    case is never overdue; the first action is overdue only while none was recorded."""
    if status == CLOSED:
        return Overdue(False, False)
    return Overdue(first_action_on is None and today > first_action_due,
                   today > resolution_due)


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, frozenset()):
        raise RuleError("transition_refused", "status")


def status_after_action(current: str, kind: str) -> str:
    """The status a recorded action leads to: a referral refers the case, a reopening brings a
    closed case back, any other step puts an open case in progress (a referred case stays
    referred while the worker follows it). Nothing but a reopening is recorded on a closed
    case."""
    if kind not in RECORDABLE_KINDS:
        raise RuleError("kind_not_recordable", "kind")
    if current == CLOSED:
        if kind != "reopening":
            raise RuleError("case_closed", "kind")
        new = IN_PROGRESS
    elif kind == "reopening":
        raise RuleError("case_not_closed", "kind")
    elif kind in REFERRAL_KINDS:
        new = REFERRED
    elif current == OPEN:
        new = IN_PROGRESS
    else:
        return current
    if new != current:
        check_transition(current, new)
    return new


def wages_at_closing(outcome: str, *, mediation_amounts: Iterable[int],
                     entered: int | None) -> int:
    """Wages recovered recorded at closing: what the worker entered, else the sum of the
    mediations' amounts. The outcome "wages recovered" needs more than zero."""
    total = entered if entered is not None else sum(mediation_amounts)
    if total < 0:
        raise RuleError("negative", "wages_recovered")
    if outcome == "wages_recovered" and total == 0:
        raise RuleError("no_wages", "wages_recovered")
    return total
