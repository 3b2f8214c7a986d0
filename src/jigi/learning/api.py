"""Trainings API (/api/v1/learning): programmes, sessions and their states, enrolments (of a
registry person, or of a person registered on the spot), attendance per meeting, completion,
certificates (PDF and verification), reports (JSON and CSV).

Nothing here moves money, so no Idempotency-Key: attendance is a PUT of the marks of one
meeting (sending it again changes nothing), and enrolling the same person twice is a 409.
Reads answer 404 for what the caller may not see; writes 403 for what she sees but may not do.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.lookup import MAX_ID
from jigi.learning import selectors, services
from jigi.learning.certificates import certificate_pdf
from jigi.learning.models import Enrolment, Programme, TrainingSession
from jigi.orgs.models import Organisation, Unit
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import get_person_for_user

router = Router(tags=["learning"])



# --- schemas ----------------------------------------------------------------------------------


class ProgrammeIn(Schema):
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                        description="default: the caller's organisation")
    code: str = Field(max_length=24)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20, description="rights | computer | literacy | "
                                                 "health_education | financial_education | "
                                                 "vocational | other")
    description: str = Field(default="", max_length=4000)
    min_attendance_pct: int = Field(default=75, ge=0, le=100)
    certificate_title: str = Field(default="", max_length=200)
    tracks_literacy: bool | None = Field(default=None,
                                         description="default: yes for literacy programmes")


class ProgrammePatchIn(Schema):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    certificate_title: str | None = Field(default=None, max_length=200)
    min_attendance_pct: int | None = Field(default=None, ge=0, le=100)
    active: bool | None = None


class SessionPatchIn(Schema):
    title: str | None = Field(default=None, max_length=200)
    place: str | None = Field(default=None, max_length=200)
    trainer: str | None = Field(default=None, max_length=200)
    starts_on: date | None = None
    ends_on: date | None = None
    meetings: int | None = Field(default=None, ge=1, le=60)
    capacity: int | None = Field(default=None, ge=1, le=500)
    language: str | None = Field(default=None, max_length=8,
                                 description="bm | fr | ff | snk | son | tmh | dgo | en")
    urban: bool | None = None


class SessionIn(Schema):
    programme_id: int = Field(ge=1, le=MAX_ID)
    unit_id: int = Field(ge=1, le=MAX_ID, description="a caisse, mutual or section you cover")
    title: str = Field(default="", max_length=200)
    place: str = Field(max_length=200)
    trainer: str = Field(max_length=200)
    starts_on: date
    ends_on: date
    meetings: int = Field(default=1, ge=1, le=60)
    capacity: int = Field(default=30, ge=1, le=500)
    language: str = Field(default="bm", max_length=8)
    urban: bool | None = None


class ReasonIn(Schema):
    reason: str = Field(max_length=200)


class NewPersonIn(Schema):
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    sex: str = Field(max_length=1, description="F | M")
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    phone: str | None = Field(default=None, max_length=32)
    village: str | None = Field(default=None, max_length=100)
    literacy: str | None = Field(default=None, max_length=8)
    language: str | None = Field(default=None, max_length=8)


class EnrolIn(Schema):
    person_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                  description="a person of the registry you may see")
    person: NewPersonIn | None = Field(default=None,
                                       description="or register a new participant")
    confirm_not_duplicate: bool = False
    literacy_before: int | None = Field(default=None, ge=0, le=4)


class EnrolmentPatchIn(Schema):
    literacy_before: int | None = Field(default=None, ge=0, le=4)
    literacy_after: int | None = Field(default=None, ge=0, le=4)
    dropped: bool | None = None


class MarkIn(Schema):
    enrolment_id: int = Field(ge=1, le=MAX_ID)
    present: bool


class AttendanceIn(Schema):
    marks: list[MarkIn] = Field(min_length=1, max_length=500)


class LevelIn(Schema):
    enrolment_id: int = Field(ge=1, le=MAX_ID)
    level: int = Field(ge=0, le=4)


class CompleteIn(Schema):
    literacy_after: list[LevelIn] = Field(default_factory=list, max_length=500)


class ReportQuery(Schema):
    date_from: date
    date_to: date
    programme_id: int | None = Field(default=None, ge=1, le=MAX_ID)


# --- renderers --------------------------------------------------------------------------------


def programme_out(p: Programme) -> dict[str, Any]:
    return {"id": p.pk, "organisation": p.organisation.code, "code": p.code, "name": p.name,
            "kind": p.kind, "description": p.description,
            "min_attendance_pct": p.min_attendance_pct,
            "certificate_title": p.certificate_title, "tracks_literacy": p.tracks_literacy,
            "active": p.active}


def session_out(s: TrainingSession, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.pk, "programme_id": s.programme_id, "programme": s.programme.code,
        "organisation": s.programme.organisation.code, "unit_id": s.unit_id,
        "unit": s.unit.code, "title": s.title, "place": s.place, "urban": s.urban,
        "trainer": s.trainer, "starts_on": s.starts_on, "ends_on": s.ends_on,
        "meetings": s.meetings, "capacity": s.capacity, "language": s.language,
        "status": s.status}
    if detail:
        out["counts"] = selectors.session_counts(s)
    return out


def enrolment_out(e: Enrolment) -> dict[str, Any]:
    return {"id": e.pk, "session_id": e.session_id, "person_id": e.person_id,
            "name": e.person.full_name, "sex": e.person.sex, "status": e.status,
            "literacy_before": e.literacy_before, "literacy_after": e.literacy_after,
            "certificate_number": e.certificate_number,
            "certificate_issued_on": e.certificate_issued_on}


def roll_out(row: selectors.RollRow) -> dict[str, Any]:
    return enrolment_out(row.enrolment) | {
        "attended": row.attended, "attendance_pct": str(row.pct), "eligible": row.eligible,
        "marks": {str(m): p for m, p in sorted(row.marks.items())}}


def _literacy_out(lit) -> dict[str, Any] | None:
    if lit is None:
        return None
    return {"assessed": lit.assessed, "incomplete": lit.incomplete, "improved": lit.improved,
            "same": lit.same, "worse": lit.worse,
            "mean_before": str(lit.mean_before) if lit.mean_before is not None else None,
            "mean_after": str(lit.mean_after) if lit.mean_after is not None else None,
            "mean_gain": str(lit.mean_gain) if lit.mean_gain is not None else None,
            "transitions": [{"before": b, "after": a, "count": n}
                            for b, a, n in lit.transitions]}


def report_out(r: selectors.ProgrammeReport) -> dict[str, Any]:
    def bd(d):
        return {k: {"enrolled": b.enrolled, "completed": b.completed,
                    "certificates": b.certificates} for k, b in d.items()}

    return {"programme": programme_out(r.programme), "sessions": r.sessions,
            "sessions_completed": r.sessions_completed, "enrolled": r.enrolled,
            "completed": r.completed, "certificates": r.certificates,
            "by_sex": bd(r.by_sex), "by_age": bd(r.by_age),
            "literacy": _literacy_out(r.literacy)}


# --- helpers ----------------------------------------------------------------------------------


def _body(payload: Schema) -> dict[str, Any]:
    return dict(payload.dict(exclude_unset=True).items())


def _organisation(request, organisation_id: int | None) -> Organisation:
    scope = user_scope(request.user)
    if organisation_id is None:
        ids = sorted(scope.organisation_ids)
        if len(ids) != 1:
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {"organisation_id": _("Choose the organisation.")},
                                   status_code=422)
        organisation_id = ids[0]
    org = Organisation.objects.filter(pk=organisation_id).first()
    if org is None or not (scope.is_superuser or org.pk in scope.organisation_ids):
        raise NotFound("organisation_not_found", _("Not found."),
                       {"organisation_id": _("Not found.")})
    return org


def _unit(request, unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None or not user_scope(request.user).covers_unit(unit):
        raise NotFound("unit_not_found", _("Unit not found."), {"unit_id": _("Unit not found.")})
    return unit


def _programme(request, pk: int, field: str | None = None) -> Programme:
    try:
        return selectors.get_programme_for_user(request.user, pk)
    except NotFound as exc:
        if field:
            exc.fields = {field: exc.message}
        raise


def _report_period(q: ReportQuery) -> tuple[date, date]:
    if q.date_from > q.date_to:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"date_to": _("The end is before the start.")}, status_code=422)
    return q.date_from, q.date_to


# --- programmes -------------------------------------------------------------------------------


@router.get("/programmes")
def programme_list(request: HttpRequest):
    return [programme_out(p) for p in selectors.programmes_for_user(request.user)[:500]]


@router.post("/programmes", response={201: dict})
def programme_create(request: HttpRequest, payload: ProgrammeIn):
    data = _body(payload)
    org = _organisation(request, data.pop("organisation_id", None))
    p = services.programme_create(acting_user=request.user, organisation=org, **data)
    return Status(201, programme_out(selectors.get_programme_for_user(request.user, p.pk)))


@router.get("/programmes/{programme_id}")
def programme_detail(request: HttpRequest, programme_id: int):
    return programme_out(selectors.get_programme_for_user(request.user, programme_id))


@router.patch("/programmes/{programme_id}")
def programme_update(request: HttpRequest, programme_id: int, payload: ProgrammePatchIn):
    p = selectors.get_programme_for_user(request.user, programme_id)
    services.programme_update(acting_user=request.user, programme=p,
                              **{k: v for k, v in _body(payload).items() if v is not None})
    return programme_out(selectors.get_programme_for_user(request.user, programme_id))


# --- sessions ---------------------------------------------------------------------------------


@router.get("/sessions")
def session_list(request: HttpRequest, status: str | None = None,
                 programme_id: int | None = Query(default=None, ge=1, le=MAX_ID),
                 offset: int = Query(default=0, ge=0, le=10**9),
                 limit: int = Query(default=50, ge=1, le=200)):
    qs = selectors.sessions_filter(selectors.sessions_for_user(request.user), status=status,
                                   programme_id=programme_id)
    return [session_out(s) for s in qs[offset:offset + limit]]


@router.post("/sessions", response={201: dict})
def session_create(request: HttpRequest, payload: SessionIn):
    data = _body(payload)
    programme = _programme(request, data.pop("programme_id"), "programme_id")
    unit = _unit(request, data.pop("unit_id"))
    if data.get("urban") is None:
        data.pop("urban", None)
    s = services.session_create(acting_user=request.user, programme=programme, unit=unit, **data)
    return Status(201, session_out(selectors.get_session_for_user(request.user, s.pk),
                                   detail=True))


@router.get("/sessions/{session_id}")
def session_detail(request: HttpRequest, session_id: int):
    return session_out(selectors.get_session_for_user(request.user, session_id), detail=True)


@router.patch("/sessions/{session_id}")
def session_update(request: HttpRequest, session_id: int, payload: SessionPatchIn):
    s = selectors.get_session_for_user(request.user, session_id)
    services.session_update(acting_user=request.user, session=s,
                            **{k: v for k, v in _body(payload).items() if v is not None})
    return session_out(selectors.get_session_for_user(request.user, session_id), detail=True)


@router.post("/sessions/{session_id}/start")
def session_start(request: HttpRequest, session_id: int):
    s = selectors.get_session_for_user(request.user, session_id)
    services.session_start(acting_user=request.user, session=s)
    return session_out(selectors.get_session_for_user(request.user, session_id), detail=True)


@router.post("/sessions/{session_id}/cancel")
def session_cancel(request: HttpRequest, session_id: int, payload: ReasonIn):
    s = selectors.get_session_for_user(request.user, session_id)
    services.session_cancel(acting_user=request.user, session=s, reason=payload.reason)
    return session_out(selectors.get_session_for_user(request.user, session_id), detail=True)


@router.post("/sessions/{session_id}/complete")
def session_complete(request: HttpRequest, session_id: int, payload: CompleteIn):
    s = selectors.get_session_for_user(request.user, session_id)
    levels: dict[int, int] = {}
    for row in payload.literacy_after:
        if row.enrolment_id in levels:
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {"literacy_after": _("Give each participant once.")},
                                   status_code=422)
        levels[row.enrolment_id] = row.level
    services.session_complete(acting_user=request.user, session=s, literacy_after=levels)
    s = selectors.get_session_for_user(request.user, session_id)
    return session_out(s, detail=True) | {
        "participants": [roll_out(r) for r in selectors.session_roll(s)]}


# --- enrolments and attendance ----------------------------------------------------------------


@router.get("/sessions/{session_id}/enrolments")
def enrolment_list(request: HttpRequest, session_id: int):
    s = selectors.get_session_for_user(request.user, session_id)
    return [roll_out(r) for r in selectors.session_roll(s)]


@router.post("/sessions/{session_id}/enrolments", response={201: dict})
def enrolment_create(request: HttpRequest, session_id: int, payload: EnrolIn):
    s = selectors.get_session_for_user(request.user, session_id)
    if (payload.person_id is None) == (payload.person is None):
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"person_id": _("Give a person of the registry, or a new "
                                               "person.")}, status_code=422)
    if payload.person_id is not None:
        services.require_runner(request.user, s.unit)
        try:
            person = get_person_for_user(request.user, payload.person_id)
        except NotFound:
            raise NotFound("person_not_found", _("Person not found."),
                           {"person_id": _("Person not found.")}) from None
        e = services.enrolment_create(acting_user=request.user, session=s, person=person,
                                      literacy_before=payload.literacy_before)
    else:
        fields = {k: v for k, v in payload.person.dict().items() if v is not None}
        e = services.enrolment_register_person(
            acting_user=request.user, session=s,
            confirm_not_duplicate=payload.confirm_not_duplicate,
            literacy_before=payload.literacy_before, **fields)
    return Status(201, enrolment_out(selectors.get_enrolment_for_user(request.user, e.pk)))


@router.patch("/enrolments/{enrolment_id}")
def enrolment_update(request: HttpRequest, enrolment_id: int, payload: EnrolmentPatchIn):
    e = selectors.get_enrolment_for_user(request.user, enrolment_id)
    services.enrolment_update(acting_user=request.user, enrolment=e, **_body(payload))
    return enrolment_out(selectors.get_enrolment_for_user(request.user, enrolment_id))


@router.put("/sessions/{session_id}/attendance/{meeting}")
def attendance_put(request: HttpRequest, session_id: int, meeting: int, payload: AttendanceIn):
    s = selectors.get_session_for_user(request.user, session_id)
    marks: dict[int, bool] = {}
    for m in payload.marks:
        if m.enrolment_id in marks:
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {"marks": _("Give each participant once.")}, status_code=422)
        marks[m.enrolment_id] = m.present
    changed = services.attendance_record(acting_user=request.user, session=s, meeting=meeting,
                                         marks=marks)
    return {"meeting": meeting, "changed": changed,
            "participants": [roll_out(r) for r in selectors.session_roll(s)]}


# --- certificates -----------------------------------------------------------------------------


@router.get("/enrolments/{enrolment_id}/certificate.pdf", response={200: None})
def certificate_download(request: HttpRequest, enrolment_id: int):
    e = selectors.get_enrolment_for_user(request.user, enrolment_id)
    pdf = certificate_pdf(selectors.certificate_text(e))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{e.certificate_number}.pdf"'
    return response


@router.get("/certificates/{number}")
def certificate_verify(request: HttpRequest, number: str):
    e = selectors.get_certificate_for_user(request.user, number)
    return {"number": e.certificate_number, "issued_on": e.certificate_issued_on,
            "name": e.person.full_name, "programme": e.session.programme.name,
            "organisation": e.session.programme.organisation.name,
            "session_id": e.session_id, "starts_on": e.session.starts_on,
            "ends_on": e.session.ends_on, "place": e.session.place}


# --- reports ----------------------------------------------------------------------------------


def _report(request, q: ReportQuery):
    start, end = _report_period(q)
    programme = (_programme(request, q.programme_id, "programme_id")
                 if q.programme_id else None)
    return start, end, selectors.learning_report(request.user, start=start, end=end,
                                                 programme=programme)


@router.get("/reports")
def report(request: HttpRequest, q: Query[ReportQuery]):
    _start, _end, reports = _report(request, q)
    return [report_out(r) for r in reports]


@router.get("/reports.csv", response={200: None})
def report_csv(request: HttpRequest, q: Query[ReportQuery]):
    start, end, reports = _report(request, q)
    response = HttpResponse(selectors.learning_report_csv(reports, start=start, end=end),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="formations-{start}-{end}.csv"')
    return response
