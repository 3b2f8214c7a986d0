"""Writes of the trainings: programmes, sessions and their states, enrolments (with a person
registered on the spot), attendance per meeting, completion with certificates.

Who may do what (orgs.scoping narrows each grant to the units it covers):
- trainers' managers run trainings: Kondo's caisse managers and network administrators, UTM's
  mutual managers and union administrators, MTC's organisers and movement administrators.
  They create their organisation's programmes, and the sessions, enrolments, attendance and
  completion of the units they cover;
- every other role of the organisation over the unit (tellers, loan officers, the network
  auditor, claims officers, case workers...) reads only: 403 when they try to change;
- anyone outside the unit (caisse B's teller for caisse A, any UTM or MTC user for Kondo)
  gets a 404, which tells nothing about what exists.

Each top-level service runs in its own durable transaction and writes an audit row in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.cleaning import (
    BACKDATE_DAYS,
    clean_int,
    clean_text,
    conflict,
    invalid,
    service_transaction,
    today,
)
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.numbering import next_number
from jigi.learning.attendance import MAX_MEETINGS, certificate_eligible
from jigi.learning.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    LiteracyLevel,
    Programme,
    ProgrammeKind,
    SessionStatus,
    TrainingSession,
)
from jigi.orgs.models import Organisation, Role, Unit
from jigi.orgs.scoping import user_scope
from jigi.people.models import MembershipStatus, Person
from jigi.people.selectors import persons_visible_to

MANAGER_ROLES = {
    Role.CAISSE_MANAGER.value, Role.NETWORK_ADMIN.value,
    Role.MUTUAL_MANAGER.value, Role.UNION_ADMIN.value,
    Role.ORGANISER.value, Role.MOVEMENT_ADMIN.value,
}
# Languages a session is held in: Bambara, French, Fulfulde, Soninke, Songhay, Tamasheq, Dogon.
LANGUAGES = {"bm", "fr", "ff", "snk", "son", "tmh", "dgo", "en"}
MAX_CAPACITY = 500
# A session is planned at most a year ahead, and lasts at most a year.
PLAN_AHEAD = timedelta(days=366)
MAX_LENGTH = timedelta(days=366)
LIVE = [EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED]

# Allowed state changes; everything else is a 409.
TRANSITIONS = {
    SessionStatus.PLANNED: {SessionStatus.RUNNING, SessionStatus.CANCELLED},
    SessionStatus.RUNNING: {SessionStatus.COMPLETED, SessionStatus.CANCELLED},
    SessionStatus.COMPLETED: set(),
    SessionStatus.CANCELLED: set(),
}


# --- access -----------------------------------------------------------------------------------


def can_run(user, unit: Unit) -> bool:
    return user_scope(user).covers_unit(unit, write=True, roles=MANAGER_ROLES)


def require_runner(user, unit: Unit) -> None:
    """The user runs trainings at this unit: otherwise 404 when the unit is outside her scope,
    403 when she sees it but may not change it."""
    scope = user_scope(user)
    if scope.covers_unit(unit, write=True, roles=MANAGER_ROLES):
        return
    if scope.covers_unit(unit):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    raise NotFound("not_found", _("Not found."))


def can_manage_programmes(user, organisation_id: int) -> bool:
    scope = user_scope(user)
    return scope.is_superuser or any(
        g.organisation_id == organisation_id and g.role in MANAGER_ROLES for g in scope.grants)


def require_programme_manager(user, organisation: Organisation) -> None:
    if can_manage_programmes(user, organisation.pk):
        return
    if organisation.pk in user_scope(user).organisation_ids:
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    raise NotFound("not_found", _("Not found."))


def _lock_session(session: TrainingSession) -> TrainingSession:
    """The session row, locked until the transaction ends: enrolments against the capacity,
    state changes and completion are serialised per session. Only the session's row: the
    joined programme, organisation and unit stay unlocked (PostgreSQL would lock them too)."""
    return TrainingSession.objects.select_for_update(of=("self",)).select_related(
        "programme", "programme__organisation", "unit").get(pk=session.pk)


def _require_status(session: TrainingSession, *allowed: str, message: Any) -> None:
    if session.status not in allowed:
        raise conflict("wrong_status", message)


# --- programmes -------------------------------------------------------------------------------


def _clean_code(value: Any) -> str:
    code = clean_text(value, "code", max_len=24, required=True).upper()
    if not all(c.isalnum() or c in "-_" for c in code):
        raise invalid({"code": _("Letters, digits, - and _ only.")})
    return code


def _clean_pct(value: Any) -> int:
    return clean_int(value, "min_attendance_pct", low=0, high=100)  # type: ignore[return-value]


def programme_create(*, acting_user, organisation: Organisation, code: Any, name: Any, kind: Any,
                     description: Any = "", min_attendance_pct: Any = 75,
                     certificate_title: Any = "", tracks_literacy: bool | None = None
                     ) -> Programme:
    """A programme of the organisation. Literacy programmes record levels unless told not to."""
    require_programme_manager(acting_user, organisation)
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for field, fn in (
        ("code", lambda: _clean_code(code)),
        ("name", lambda: clean_text(name, "name", max_len=200, required=True)),
        ("description", lambda: clean_text(description, "description", max_len=4000)),
        ("certificate_title", lambda: clean_text(certificate_title, "certificate_title",
                                                 max_len=200)),
        ("min_attendance_pct", lambda: _clean_pct(min_attendance_pct)),
    ):
        try:
            values[field] = fn()
        except ApplicationError as exc:  # collect every field's message, then raise them all
            errors.update(exc.fields)
    if kind not in ProgrammeKind.values:
        errors["kind"] = _("Choose one of the allowed values.")
    if tracks_literacy is not None and not isinstance(tracks_literacy, bool):
        errors["tracks_literacy"] = _("Choose yes or no.")
    if errors:
        raise invalid(errors)
    if tracks_literacy is None:
        tracks_literacy = kind == ProgrammeKind.LITERACY
    with service_transaction():
        if Programme.objects.filter(organisation=organisation, code=values["code"]).exists():
            raise conflict("code_taken", _("This code is already used."), "code")
        try:
            with transaction.atomic():
                programme = Programme.objects.create(
                    organisation=organisation, kind=kind, tracks_literacy=tracks_literacy,
                    created_by=acting_user, **values)
        except IntegrityError:
            raise conflict("code_taken", _("This code is already used."), "code") from None
        audit_log(actor=acting_user, event_type="learning.programme_created", subject=programme,
                  organisation=organisation,
                  after={"code": programme.code, "name": programme.name, "kind": kind,
                         "min_attendance_pct": programme.min_attendance_pct,
                         "tracks_literacy": tracks_literacy})
    return programme


def programme_update(*, acting_user, programme: Programme, **fields: Any) -> Programme:
    """Change a programme's name, description, certificate title, attendance needed or active
    flag (only the fields given). Sessions already completed keep their certificates."""
    require_programme_manager(acting_user, programme.organisation)
    allowed = {"name", "description", "certificate_title", "min_attendance_pct", "active"}
    errors: dict[str, Any] = {f: _("Unknown field.") for f in set(fields) - allowed}
    clean: dict[str, Any] = {}
    for field, value in fields.items():
        if field not in allowed:
            continue
        try:
            if field == "name":
                clean[field] = clean_text(value, field, max_len=200, required=True)
            elif field == "description":
                clean[field] = clean_text(value, field, max_len=4000)
            elif field == "certificate_title":
                clean[field] = clean_text(value, field, max_len=200)
            elif field == "min_attendance_pct":
                clean[field] = _clean_pct(value)
            elif not isinstance(value, bool):
                errors[field] = _("Choose yes or no.")
            else:
                clean[field] = value
        except ApplicationError as exc:  # collect every field's message
            errors.update(exc.fields)
    if errors:
        raise invalid(errors)
    with service_transaction():
        locked = Programme.objects.select_for_update().get(pk=programme.pk)
        before = {f: getattr(locked, f) for f in clean}
        for f, v in clean.items():
            setattr(locked, f, v)
        locked.save(update_fields=list(clean) or None)
        audit_log(actor=acting_user, event_type="learning.programme_updated", subject=locked,
                  organisation=locked.organisation, before=before, after=clean)
    return locked


# --- sessions ---------------------------------------------------------------------------------

SESSION_FIELDS = ("title", "place", "trainer", "starts_on", "ends_on", "meetings", "capacity",
                  "language", "urban")


def _clean_session(raw: Mapping[str, Any], *, current: TrainingSession | None = None
                   ) -> dict[str, Any]:
    errors: dict[str, Any] = {f: _("Unknown field.") for f in set(raw) - set(SESSION_FIELDS)}
    out: dict[str, Any] = {}

    def take(field: str, fn) -> None:
        if field not in raw:
            return
        try:
            out[field] = fn(raw[field])
        except ApplicationError as exc:  # collect every field's message
            errors.update(exc.fields)

    take("title", lambda v: clean_text(v, "title", max_len=200))
    take("place", lambda v: clean_text(v, "place", max_len=200, required=True))
    take("trainer", lambda v: clean_text(v, "trainer", max_len=200, required=True))
    take("meetings", lambda v: clean_int(v, "meetings", low=1, high=MAX_MEETINGS))
    take("capacity", lambda v: clean_int(v, "capacity", low=1, high=MAX_CAPACITY))
    if "language" in raw:
        if raw["language"] not in LANGUAGES:
            errors["language"] = _("Choose one of the allowed values.")
        else:
            out["language"] = raw["language"]
    if "urban" in raw:
        if not isinstance(raw["urban"], bool):
            errors["urban"] = _("Choose yes or no.")
        else:
            out["urban"] = raw["urban"]
    for field in ("starts_on", "ends_on"):
        if field in raw:
            value = raw[field]
            if not isinstance(value, date) or isinstance(value, datetime):
                errors[field] = _("Enter a valid date (YYYY-MM-DD).")
            elif value > today() + PLAN_AHEAD:
                errors[field] = _("A session is planned at most a year ahead.")
            elif value < today() - timedelta(days=BACKDATE_DAYS):
                errors[field] = _("This date is too far in the past.")
            else:
                out[field] = value
    starts = out.get("starts_on", current.starts_on if current else None)
    ends = out.get("ends_on", current.ends_on if current else None)
    if starts and ends and "starts_on" not in errors and "ends_on" not in errors:
        if ends < starts:
            errors["ends_on"] = _("The last day is before the first day.")
        elif ends - starts > MAX_LENGTH:
            errors["ends_on"] = _("A session lasts at most a year.")
    if errors:
        raise invalid(errors)
    return out


def session_create(*, acting_user, programme: Programme, unit: Unit, **fields: Any
                   ) -> TrainingSession:
    """Plan a session of `programme` at `unit` (a unit of the programme's organisation that
    the user covers): place, trainer, first and last day, 1..60 meetings, 1..500 places."""
    require_runner(acting_user, unit)
    if unit.organisation_id != programme.organisation_id:
        raise invalid({"unit": _("Choose a unit of the programme's organisation.")})
    if not programme.active:
        raise conflict("programme_inactive", _("This programme is no longer offered."),
                       "programme")
    missing = {f: _("This field is required.") for f in ("place", "trainer", "starts_on",
                                                          "ends_on") if f not in fields}
    if missing:
        raise invalid(missing)
    clean = _clean_session(fields)
    clean.setdefault("urban", unit.urban)
    with service_transaction():
        session = TrainingSession.objects.create(programme=programme, unit=unit,
                                                 created_by=acting_user, **clean)
        audit_log(actor=acting_user, event_type="learning.session_created", subject=session,
                  unit=unit, after={k: str(v) for k, v in clean.items()}
                  | {"programme": programme.code})
    return session


def session_update(*, acting_user, session: TrainingSession, **fields: Any) -> TrainingSession:
    """Change a planned or running session (place, trainer, dates, meetings, places...).
    Meetings cannot drop below one already recorded, places below those enrolled."""
    require_runner(acting_user, session.unit)
    with service_transaction():
        locked = _lock_session(session)
        _require_status(locked, SessionStatus.PLANNED, SessionStatus.RUNNING,
                        message=_("A completed or cancelled session cannot be changed."))
        clean = _clean_session(fields, current=locked)
        if "meetings" in clean:
            last = (Attendance.objects.filter(enrolment__session=locked)
                    .order_by("-meeting").values_list("meeting", flat=True).first())
            if last and clean["meetings"] < last:
                raise invalid({"meetings": _("Attendance is recorded up to meeting %(n)d.")
                               % {"n": last}})
        if "capacity" in clean:
            taken = locked.enrolments.filter(status__in=LIVE).count()
            if clean["capacity"] < taken:
                raise invalid({"capacity": _("%(n)d persons are already enrolled.")
                               % {"n": taken}})
        before = {f: str(getattr(locked, f)) for f in clean}
        for f, v in clean.items():
            setattr(locked, f, v)
        locked.save(update_fields=list(clean) or None)
        audit_log(actor=acting_user, event_type="learning.session_updated", subject=locked,
                  unit=locked.unit, before=before, after={k: str(v) for k, v in clean.items()})
    return locked


def session_start(*, acting_user, session: TrainingSession) -> TrainingSession:
    """Planned -> running, from the first day on: attendance can then be taken."""
    require_runner(acting_user, session.unit)
    with service_transaction():
        locked = _lock_session(session)
        _require_status(locked, SessionStatus.PLANNED,
                        message=_("Only a planned session can start."))
        if today() < locked.starts_on:
            raise conflict("not_started", _("The session starts on its first day."))
        locked.status = SessionStatus.RUNNING
        locked.save(update_fields=["status"])
        audit_log(actor=acting_user, event_type="learning.session_started", subject=locked,
                  unit=locked.unit, after={"status": locked.status})
    return locked


def session_cancel(*, acting_user, session: TrainingSession, reason: Any) -> TrainingSession:
    """Planned or running -> cancelled (no certificate is issued)."""
    require_runner(acting_user, session.unit)
    reason = clean_text(reason, "reason", max_len=200, required=True)
    with service_transaction():
        locked = _lock_session(session)
        _require_status(locked, SessionStatus.PLANNED, SessionStatus.RUNNING,
                        message=_("A completed or cancelled session cannot be cancelled."))
        before = locked.status
        locked.status = SessionStatus.CANCELLED
        locked.save(update_fields=["status"])
        audit_log(actor=acting_user, event_type="learning.session_cancelled", subject=locked,
                  unit=locked.unit, before={"status": before},
                  after={"status": locked.status, "reason": reason})
    return locked


# --- enrolment --------------------------------------------------------------------------------


def _clean_level(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or value not in LiteracyLevel.values:
        raise invalid({field: _("Choose one of the allowed values.")})
    return int(value)


def _check_open(session: TrainingSession) -> None:
    _require_status(session, SessionStatus.PLANNED, SessionStatus.RUNNING,
                    message=_("Enrolment is closed: the session is completed or cancelled."))


def _enrol_locked(*, acting_user, session: TrainingSession, person: Person,
                  literacy_before: int | None) -> Enrolment:
    """Inside the caller's transaction, with the session locked."""
    _check_open(session)
    if session.enrolments.filter(person=person).exists():
        raise conflict("already_enrolled", _("This person is already enrolled."), "person_id")
    taken = session.enrolments.filter(status__in=LIVE).count()
    if taken >= session.capacity:
        raise conflict("session_full", _("The session is full (%(n)d places).")
                       % {"n": session.capacity})
    enrolment = Enrolment.objects.create(session=session, person=person,
                                         literacy_before=literacy_before,
                                         enrolled_by=acting_user)
    audit_log(actor=acting_user, event_type="learning.enrolled", subject=enrolment,
              unit=session.unit, after={"session": session.pk, "person": person.pk,
                                        "literacy_before": literacy_before})
    return enrolment


def _literacy_before(session: TrainingSession, literacy_before: Any) -> int | None:
    level = _clean_level(literacy_before, "literacy_before")
    if level is not None and not session.programme.tracks_literacy:
        raise invalid({"literacy_before": _("This programme does not record literacy "
                                            "levels.")})
    return level


def enrolment_create(*, acting_user, session: TrainingSession, person: Person,
                     literacy_before: Any = None) -> Enrolment:
    """Enrol a person of the registry the user may see (a member of the units she covers, or
    someone who consented to show their identity to her organisation). The session row is
    locked, so two enrolments at once never go beyond the places."""
    require_runner(acting_user, session.unit)
    if not persons_visible_to(acting_user).filter(pk=person.pk).exists():
        raise NotFound("person_not_found", _("Person not found."),
                       {"person_id": _("Person not found.")})
    level = _literacy_before(session, literacy_before)
    with service_transaction():
        locked = _lock_session(session)
        return _enrol_locked(acting_user=acting_user, session=locked, person=person,
                             literacy_before=level)


def enrolment_register_person(*, acting_user, session: TrainingSession,
                              confirm_not_duplicate: bool = False, literacy_before: Any = None,
                              **person_fields: Any) -> Enrolment:
    """Register a participant who is not yet in the registry (name, sex, phone... typed in at
    the session) through people.services, at the session's unit, then enrol her.

    The registry's duplicate check runs first (409 with the candidates the user may see);
    nothing of another organisation is shown beyond what people.selectors allows. The session
    is checked open and not full before registering; registration and enrolment are two
    transactions (people.services' own is durable), so if the last place is taken in between
    the person stays registered, not enrolled, and the 409 says the session is full.
    """
    from jigi.people.services import person_register

    require_runner(acting_user, session.unit)
    level = _literacy_before(session, literacy_before)
    current = TrainingSession.objects.get(pk=session.pk)
    _check_open(current)
    if current.enrolments.filter(status__in=LIVE).count() >= current.capacity:
        raise conflict("session_full", _("The session is full (%(n)d places).")
                       % {"n": current.capacity})
    # A participant is not a member of the running organisation: her membership at the unit
    # is pending (she stays visible to the unit's staff, but is not counted as a member).
    person = person_register(acting_user=acting_user, unit=session.unit,
                             confirm_not_duplicate=confirm_not_duplicate,
                             membership_status=MembershipStatus.PENDING, **person_fields)
    with service_transaction():
        locked = _lock_session(session)
        return _enrol_locked(acting_user=acting_user, session=locked, person=person,
                             literacy_before=level)


def enrolment_update(*, acting_user, enrolment: Enrolment, **fields: Any) -> Enrolment:
    """Set literacy levels (before, after) or mark a participant dropped out / back in, while
    the session is planned or running."""
    session = enrolment.session
    require_runner(acting_user, session.unit)
    allowed = {"literacy_before", "literacy_after", "dropped"}
    errors: dict[str, Any] = {f: _("Unknown field.") for f in set(fields) - allowed}
    if errors:
        raise invalid(errors)
    clean: dict[str, Any] = {}
    for f in ("literacy_before", "literacy_after"):
        if f in fields:
            clean[f] = _clean_level(fields[f], f)
            if clean[f] is not None and not session.programme.tracks_literacy:
                raise invalid({f: _("This programme does not record literacy levels.")})
    if "dropped" in fields and not isinstance(fields["dropped"], bool):
        raise invalid({"dropped": _("Choose yes or no.")})
    with service_transaction():
        locked_session = _lock_session(session)
        _check_open(locked_session)
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        before = {f: getattr(locked, f) for f in clean} | {"status": locked.status}
        for f, v in clean.items():
            setattr(locked, f, v)
        if "dropped" in fields:
            if not fields["dropped"] and locked.status == EnrolmentStatus.DROPPED:
                taken = locked_session.enrolments.filter(status__in=LIVE).count()
                if taken >= locked_session.capacity:
                    raise conflict("session_full", _("The session is full (%(n)d places).")
                                   % {"n": locked_session.capacity})
            locked.status = (EnrolmentStatus.DROPPED if fields["dropped"]
                             else EnrolmentStatus.ENROLLED)
        locked.save()
        audit_log(actor=acting_user, event_type="learning.enrolment_updated", subject=locked,
                  unit=session.unit, before=before,
                  after={f: getattr(locked, f) for f in clean} | {"status": locked.status})
    return locked


# --- attendance -------------------------------------------------------------------------------


def attendance_record(*, acting_user, session: TrainingSession, meeting: Any,
                      marks: Mapping[Any, Any]) -> int:
    """Record present/absent at one meeting for some enrolments ({enrolment id: present}).

    Idempotent: recording the same mark again changes nothing; a new mark replaces the old.
    Only while the session runs, for meetings 1..session.meetings and participants who have
    not dropped out. Returns how many marks changed."""
    require_runner(acting_user, session.unit)
    if not isinstance(marks, Mapping) or not marks:
        raise invalid({"marks": _("Mark at least one participant.")})
    if len(marks) > MAX_CAPACITY:
        raise invalid({"marks": _("At most %(n)d persons at a time.") % {"n": MAX_CAPACITY}})
    if any(type(k) is not int or not isinstance(v, bool) for k, v in marks.items()):
        raise invalid({"marks": _("Give each participant by number, present yes or no.")})
    with service_transaction():
        locked = _lock_session(session)
        _require_status(locked, SessionStatus.RUNNING,
                        message=_("Attendance is taken while the session is running."))
        meeting = clean_int(meeting, "meeting", low=1, high=locked.meetings)
        ids = set(locked.enrolments.filter(pk__in=list(marks))
                  .exclude(status=EnrolmentStatus.DROPPED).values_list("pk", flat=True))
        unknown = sorted(set(marks) - ids)
        if unknown:
            raise NotFound("enrolment_not_found", _("Participant not found."),
                           {"marks": _("Unknown participants: %(ids)s.")
                            % {"ids": ", ".join(str(i) for i in unknown[:20])}})
        existing = {a.enrolment_id: a for a in Attendance.objects.filter(
            enrolment_id__in=ids, meeting=meeting)}
        changed: dict[int, bool] = {}
        for enrolment_id, present in sorted(marks.items()):
            row = existing.get(enrolment_id)
            if row is None:
                Attendance.objects.create(enrolment_id=enrolment_id, meeting=meeting,
                                          present=present, recorded_by=acting_user)
                changed[enrolment_id] = present
            elif row.present != present:
                row.present = present
                row.recorded_by = acting_user
                row.save(update_fields=["present", "recorded_by", "recorded_at"])
                changed[enrolment_id] = present
        if changed:
            audit_log(actor=acting_user, event_type="learning.attendance", subject=locked,
                      unit=locked.unit, after={"meeting": meeting,
                                               "marks": {str(k): v for k, v in changed.items()}})
    return len(changed)


# --- completion -------------------------------------------------------------------------------


def certificate_number(organisation: Organisation, year: int) -> str:
    """Gapless per organisation and year ("KONDO-CERT-2026-00012"); the counter row stays
    locked until the caller commits, so a rolled-back completion gives its numbers back."""
    n = next_number(f"learning-cert:{organisation.pk}", year)
    return f"{organisation.code}-CERT-{year}-{n:05d}"


def session_complete(*, acting_user, session: TrainingSession,
                     literacy_after: Mapping[Any, Any] | None = None) -> TrainingSession:
    """Running -> completed, on or after the last day. Each participant still enrolled is
    completed (with a certificate, numbered gaplessly) if she attended at least the
    programme's share of meetings, otherwise marked dropped out. Programmes that record
    literacy need the level after for every participant completing ({enrolment id: level},
    or set before with enrolment_update)."""
    require_runner(acting_user, session.unit)
    levels: dict[int, int] = {}
    if literacy_after:
        if not isinstance(literacy_after, Mapping) or any(type(k) is not int
                                                          for k in literacy_after):
            raise invalid({"literacy_after": _("Give each participant by number.")})
        for k, v in literacy_after.items():
            level = _clean_level(v, f"literacy_after.{k}")
            if level is not None:
                levels[k] = level
    with service_transaction():
        locked = _lock_session(session)
        _require_status(locked, SessionStatus.RUNNING,
                        message=_("Only a running session can be completed."))
        if today() < locked.ends_on:
            raise conflict("not_ended", _("A session is completed on or after its last day."))
        programme = locked.programme
        if levels and not programme.tracks_literacy:
            raise invalid({"literacy_after": _("This programme does not record literacy "
                                               "levels.")})
        enrolments = list(locked.enrolments.select_for_update()
                          .filter(status=EnrolmentStatus.ENROLLED).order_by("pk"))
        unknown = sorted(set(levels) - {e.pk for e in enrolments})
        if unknown:
            raise invalid({"literacy_after": _("Unknown participants: %(ids)s.")
                           % {"ids": ", ".join(str(i) for i in unknown[:20])}})
        attended = dict(Attendance.objects.filter(enrolment__in=enrolments, present=True)
                        .values("enrolment_id").annotate(n=Count("pk"))
                        .values_list("enrolment_id", "n"))
        on = today()
        missing: dict[str, Any] = {}
        results: dict[str, list[int]] = {"completed": [], "not_completed": []}
        for e in enrolments:
            if e.pk in levels:
                e.literacy_after = levels[e.pk]
            ok = certificate_eligible(min(attended.get(e.pk, 0), locked.meetings),
                                      locked.meetings, programme.min_attendance_pct)
            if ok and programme.tracks_literacy and e.literacy_after is None:
                missing[f"literacy_after.{e.pk}"] = _("Assess the level reached.")
            e.status = EnrolmentStatus.COMPLETED if ok else EnrolmentStatus.DROPPED
        if missing:
            raise invalid(missing)
        for e in enrolments:
            if e.status == EnrolmentStatus.COMPLETED:
                e.certificate_number = certificate_number(programme.organisation, on.year)
                e.certificate_issued_on = on
                results["completed"].append(e.pk)
            else:
                results["not_completed"].append(e.pk)
            e.save(update_fields=["status", "literacy_after", "certificate_number",
                                  "certificate_issued_on"])
        locked.status = SessionStatus.COMPLETED
        locked.save(update_fields=["status"])
        audit_log(actor=acting_user, event_type="learning.session_completed", subject=locked,
                  unit=locked.unit, before={"status": SessionStatus.RUNNING},
                  after={"status": locked.status} | results)
    return locked
