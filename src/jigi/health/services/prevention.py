"""Prevention and health-education sessions (causeries): planned and held by a mutual or by the
union, with the attendance of persons from the one registry.

Sessions are organised by mutual staff and the union administrator; clinic staff see them (they
often host them) but do not record them. An attendee is a person the organiser may see in the
registry or a beneficiary of the organising mutual (families come together, not every
dependant is a registered member). There is no learning module yet to link to; the session
keeps its own attendance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import Conflict, Forbidden, NotFound
from jigi.core.lookup import is_id
from jigi.health.models import Beneficiary, PreventionSession
from jigi.health.selectors_claims import HEALTH_ROLE_VALUES, MUTUAL_STAFF_ROLES
from jigi.health.services.claims import invalid
from jigi.orgs.models import Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import persons_visible_to

# Sessions are planned at most this far ahead (a typing error otherwise).
PLAN_AHEAD = timedelta(days=366)
MAX_ATTENDEES_PER_CALL = 500


def _require_organiser(user, unit: Unit) -> None:
    scope = user_scope(user)
    if unit.kind not in (UnitKind.MUTUAL, UnitKind.UNION) or not scope.covers_unit(
            unit, roles=HEALTH_ROLE_VALUES):
        raise NotFound("unit_not_found", _("Mutual not found."))
    if not scope.covers_unit(unit, write=True, roles=MUTUAL_STAFF_ROLES):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))


def _text(value: Any, field: str, errors: dict[str, Any], max_len: int = 200) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors[field] = _("This field is required.")
    elif len(text) > max_len or not text.isprintable():
        errors[field] = _("At most %(n)d printable characters.") % {"n": max_len}
    return text


def prevention_session_create(*, acting_user, unit: Unit, topic: Any, place: Any,
                              held_on: Any, facilitator: Any) -> PreventionSession:
    """Plan or record a session of a mutual (or of the union): topic, place, date,
    facilitator, all required."""
    _require_organiser(acting_user, unit)
    errors: dict[str, Any] = {}
    topic = _text(topic, "topic", errors)
    place = _text(place, "place", errors)
    facilitator = _text(facilitator, "facilitator", errors)
    if not isinstance(held_on, date) or isinstance(held_on, datetime):
        errors["held_on"] = _("Enter a valid date (YYYY-MM-DD).")
    elif held_on > timezone.localdate() + PLAN_AHEAD:
        errors["held_on"] = _("A session is planned at most a year ahead.")
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        session = PreventionSession.objects.create(
            unit=unit, topic=topic, place=place, held_on=held_on, facilitator=facilitator,
            created_by=acting_user)
        audit_log(actor=acting_user, event_type="health.prevention_session_created",
                  subject=session, unit=unit,
                  after={"topic": topic, "place": place, "held_on": held_on.isoformat()})
    return session


def _attendee_ids(user, session: PreventionSession, person_ids: Sequence[Any]) -> list[int]:
    if not isinstance(person_ids, list | tuple) or not person_ids:
        raise invalid({"person_ids": _("Choose at least one person.")})
    if len(person_ids) > MAX_ATTENDEES_PER_CALL:
        raise invalid({"person_ids": _("At most %(n)d persons at a time.") % {
            "n": MAX_ATTENDEES_PER_CALL}})
    ids = [pk for pk in person_ids if is_id(pk)]
    if len(ids) != len(person_ids) or len(set(ids)) != len(ids):
        raise invalid({"person_ids": _("Give each person once, by number.")})
    wanted = set(ids)
    found = set(persons_visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True))
    if session.unit.kind == UnitKind.MUTUAL:
        found |= set(Beneficiary.objects.filter(
            person_id__in=wanted - found, coverage__mutual=session.unit,
            person__merged_into__isnull=True).values_list("person_id", flat=True))
    missing = sorted(wanted - found)
    if missing:
        raise NotFound("person_not_found", _("Person not found."),
                       {"person_ids": _("Unknown persons: %(ids)s.") % {
                           "ids": ", ".join(str(pk) for pk in missing[:20])}})
    return ids


def prevention_attendance_record(*, acting_user, session: PreventionSession,
                                 person_ids: Sequence[Any]) -> int:
    """Record who attended a session held (today or before). Recording a person twice is a
    no-op; returns how many were added."""
    _require_organiser(acting_user, session.unit)
    if session.held_on > timezone.localdate():
        raise Conflict("session_not_held",
                       _("Attendance is recorded once the session has been held."))
    ids = _attendee_ids(acting_user, session, person_ids)
    with transaction.atomic():
        already = set(session.attendees.filter(pk__in=ids).values_list("pk", flat=True))
        new = [pk for pk in ids if pk not in already]
        session.attendees.add(*new)
        if new:
            audit_log(actor=acting_user, event_type="health.prevention_attendance",
                      subject=session, unit=session.unit, after={"added": new})
    return len(new)


def prevention_attendance_remove(*, acting_user, session: PreventionSession,
                                 person_ids: Sequence[Any]) -> int:
    """Take persons recorded by mistake off the attendance list; returns how many."""
    _require_organiser(acting_user, session.unit)
    ids = [pk for pk in person_ids if type(pk) is int] if isinstance(
        person_ids, list | tuple) else []
    if not ids or len(ids) != len(person_ids):
        raise invalid({"person_ids": _("Give each person once, by number.")})
    with transaction.atomic():
        present = list(session.attendees.filter(pk__in=ids).values_list("pk", flat=True))
        session.attendees.remove(*present)
        if present:
            audit_log(actor=acting_user, event_type="health.prevention_attendance_removed",
                      subject=session, unit=session.unit, after={"removed": present})
    return len(present)

