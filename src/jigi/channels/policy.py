"""Who gets which SMS, and how a message's status may move. Plain Python, the one place for
these rules (the sender, the reminders and the receipts all ask here).

Opt-in: a member gets reminders, receipts, news and campaign messages only if she said yes
(SmsPreference.opt_in). Exempt: what she asked for herself (a petition code), duty alerts to
staff (case alerts, any purpose starting "staff_"), and messages with no member attached (a
phone typed by staff for an alert): these are sent without a preference.
"""

from __future__ import annotations

# Purposes that never need the member's opt-in.
EXEMPT_PURPOSES = frozenset({"petition_code", "case_alert", "movement_case_urgent"})
STAFF_PREFIX = "staff_"

# queued < sent < delivered | failed; cancelled is final too. A report never moves a status
# back (a late "Sent" after "Success"), and a final status never changes.
RANK = {"queued": 0, "sent": 1, "delivered": 2, "failed": 2, "cancelled": 2}
FINAL = frozenset({"delivered", "failed", "cancelled"})


def needs_opt_in(purpose: str, *, has_person: bool = True) -> bool:
    if not has_person:
        return False
    return purpose not in EXEMPT_PURPOSES and not purpose.startswith(STAFF_PREFIX)


def may_send(purpose: str, *, has_person: bool, opted_in: bool | None) -> bool:
    """`opted_in` is None when the member has no preference row (= no)."""
    return not needs_opt_in(purpose, has_person=has_person) or bool(opted_in)


def next_status(current: str, reported: str) -> str:
    """The status after a report: forward only, final stays final."""
    if current in FINAL:
        return current
    return reported if RANK.get(reported, 0) > RANK.get(current, 0) else current
