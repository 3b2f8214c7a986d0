"""Is this beneficiary covered on this date, for this kind of care? Pure, no Django.

The selector (`health.selectors.eligibility_check`) reads the facts in a few queries; this module
decides. Reasons are stable codes (the screen and the API translate them):

- NOT_A_BENEFICIARY: not yet on the card on that date (added later);
- ENDED: the coverage ended, or the beneficiary left it, before that date;
- WAITING_PERIOD (until): the waiting period after enrolment, or after a lapse, runs to `until`;
- SUSPENDED_ARREARS (amount): the coverage is suspended for unpaid contributions (`amount` is
  what is owed now);
- AGE_LIMIT: a child older than the package's child age limit, or outside a service group's ages;
- SERVICE_NOT_COVERED: the service group is not in the package;
- CEILING_REACHED: the beneficiary's yearly ceiling of the group is used up (claims valued so
  far this year).

Rules of thumb, stated once:
- "children up to 18" means covered while 18 or younger (until the 19th birthday);
- a beneficiary added after the enrolment waits `waiting_days` from the day added, except a
  baby under one year and members of a group agreement that waives the waiting period;
- a co-payment is what the patient pays: 100 % less the mutual's share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

NOT_A_BENEFICIARY = "NOT_A_BENEFICIARY"
ENDED = "ENDED"
WAITING_PERIOD = "WAITING_PERIOD"
SUSPENDED_ARREARS = "SUSPENDED_ARREARS"
AGE_LIMIT = "AGE_LIMIT"
SERVICE_NOT_COVERED = "SERVICE_NOT_COVERED"
CEILING_REACHED = "CEILING_REACHED"

CHILD = "child"


@dataclass(frozen=True)
class Rule:
    group: str
    mutual_share_pct: int
    ceiling_per_event: int | None = None
    ceiling_per_year: int | None = None
    max_quantity: int | None = None
    min_age: int | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class Suspension:
    """No cover from `start` to `end` (inclusive; None = still open). `reason` is "arrears" or
    "waiting" (the waiting period after a lapse)."""

    start: date
    end: date | None
    reason: str = "arrears"

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Facts:
    on: date
    relation: str
    since: date
    until: date | None
    age: int | None  # on `on`
    age_at_since: int | None
    enrolled_on: date
    covered_from: date  # the coverage's: enrolment + waiting period
    ended_on: date | None
    waiting_days: int
    waiting_waived: bool
    child_max_age: int
    rules: Mapping[str, Rule]
    suspensions: Sequence[Suspension] = ()
    amount_due: int = 0
    usage: Mapping[str, int] = field(default_factory=dict)  # group -> valued this year


@dataclass(frozen=True)
class Reason:
    code: str
    until: date | None = None
    amount: int | None = None
    group: str | None = None


@dataclass(frozen=True)
class GroupCover:
    group: str
    mutual_share_pct: int
    copay_pct: int
    ceiling_per_event: int | None
    ceiling_per_year: int | None
    used_this_year: int
    remaining_this_year: int | None
    covered: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Decision:
    covered: bool
    reasons: tuple[Reason, ...]
    groups: tuple[GroupCover, ...]
    covered_from: date  # this beneficiary's end of waiting period


def beneficiary_covered_from(f: Facts) -> date:
    """When this beneficiary's cover starts (see the module's rules of thumb)."""
    if f.since <= f.enrolled_on:
        return f.covered_from
    if f.waiting_waived or (f.age_at_since is not None and f.age_at_since < 1):
        return f.since
    return f.since + timedelta(days=f.waiting_days)


def _person_reasons(f: Facts, start: date) -> list[Reason]:
    if f.on < f.since:
        return [Reason(NOT_A_BENEFICIARY)]
    if (f.ended_on is not None and f.on > f.ended_on) or (f.until is not None
                                                           and f.on > f.until):
        return [Reason(ENDED)]
    reasons = []
    if f.on < start:
        reasons.append(Reason(WAITING_PERIOD, until=start))
    for s in f.suspensions:
        if not s.covers(f.on):
            continue
        if s.reason == "waiting":
            reasons.append(Reason(WAITING_PERIOD, until=(s.end or f.on) + timedelta(days=1)))
        else:
            reasons.append(Reason(SUSPENDED_ARREARS, amount=f.amount_due))
    if f.relation == CHILD and f.age is not None and f.age > f.child_max_age:
        reasons.append(Reason(AGE_LIMIT))
    return reasons


def _group_cover(f: Facts, rule: Rule) -> GroupCover:
    used = int(f.usage.get(rule.group, 0))
    remaining = None if rule.ceiling_per_year is None else max(0, rule.ceiling_per_year - used)
    reasons: list[Reason] = []
    if f.age is not None and ((rule.min_age is not None and f.age < rule.min_age)
                              or (rule.max_age is not None and f.age > rule.max_age)):
        reasons.append(Reason(AGE_LIMIT, group=rule.group))
    if remaining == 0:
        reasons.append(Reason(CEILING_REACHED, group=rule.group))
    return GroupCover(
        group=rule.group, mutual_share_pct=rule.mutual_share_pct,
        copay_pct=100 - rule.mutual_share_pct, ceiling_per_event=rule.ceiling_per_event,
        ceiling_per_year=rule.ceiling_per_year, used_this_year=used,
        remaining_this_year=remaining, covered=not reasons and rule.mutual_share_pct > 0,
        reasons=tuple(reasons))


def decide(f: Facts, group: str | None = None) -> Decision:
    """Covered on `f.on` (for `group` when given), why not, and the cover of each group."""
    start = beneficiary_covered_from(f)
    reasons = _person_reasons(f, start)
    groups = tuple(_group_cover(f, r) for r in sorted(f.rules.values(), key=lambda r: r.group))
    if reasons and reasons[0].code in (NOT_A_BENEFICIARY, ENDED):
        # Not on the card that day: nothing about services to add.
        return Decision(covered=False, reasons=tuple(reasons), groups=groups,
                        covered_from=start)
    if group is not None:
        chosen = next((g for g in groups if g.group == group), None)
        if chosen is None:
            reasons.append(Reason(SERVICE_NOT_COVERED, group=group))
        else:
            reasons.extend(chosen.reasons)
            if chosen.mutual_share_pct == 0 and not chosen.reasons:
                reasons.append(Reason(SERVICE_NOT_COVERED, group=group))
    return Decision(covered=not reasons, reasons=tuple(reasons), groups=groups,
                    covered_from=start)
