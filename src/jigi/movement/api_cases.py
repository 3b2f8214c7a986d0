"""MTC rights cases API (/api/v1/movement/cases..., /api/v1/movement/case-alerts...).

Access (selectors_cases): anyone outside MTC gets a 404 for everything, lists included. MTC
staff see the cases of their scope in lists and on GET /cases/{id} with what every staff
member may know (number, category, section, status, urgency, deadlines); `details` is null
unless the user may read them (assigned, or the case is not confidential). The details
endpoints (/actions, /documents, /links) answer 403 to staff who see the case but not its
details; recording on a case (actions, closing, documents, links) is for its assigned workers
(403 for the others). Intake and actions accept an optional Idempotency-Key header (a retried
call replays the first answer); nothing here moves money.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from jigi.core.cleaning import invalid, today
from jigi.core.errors import Forbidden, NotFound
from jigi.core.idempotency import HEADER, run_idempotent
from jigi.core.lookup import MAX_ID
from jigi.movement import selectors_cases as sel
from jigi.movement.models import Case, CaseAction, CaseCategory, CaseStatus
from jigi.movement.services import cases as svc
from jigi.movement.services._common import (
    ADMIN_ROLES,
    is_movement_staff,
    movement_organisation,
    movement_root,
    require_role,
)
from jigi.orgs.models import Unit
from jigi.people.selectors import get_person_for_user
from jigi.savings.api import Amount

router = Router(tags=["movement-cases"])



def _staff(request: HttpRequest) -> None:
    """Outside MTC, the movement's cases do not exist."""
    if not is_movement_staff(request.user):
        raise NotFound("not_found", _("Not found."))


def _case(request: HttpRequest, case_id: int) -> Case:
    _staff(request)
    return sel.get_case_for_user(request.user, case_id)


def _maybe_idempotent(request: HttpRequest, endpoint: str, body: Any, action) -> Status:
    if request.headers.get(HEADER) is None:
        status, answer = action()
    else:
        status, answer = run_idempotent(request, endpoint=endpoint, body=body, action=action)
    return Status(status, answer)


# --- schemas ----------------------------------------------------------------------------------


class CaseIn(Schema):
    person_id: int = Field(ge=1, le=MAX_ID)
    section_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                   description="default: the member's section")
    category: str = Field(max_length=20, description="movement CaseCategory")
    other_categories: list[str] = Field(default_factory=list, max_length=8)
    intake_channel: str = Field(max_length=10, description="in_person | phone | sms")
    summary: str = Field(max_length=4000)
    employer_name: str = Field(default="", max_length=200)
    employer_phone: str = Field(default="", max_length=32)
    urgent: bool = Field(default=False, description="marked urgent by the intake officer")
    confidential: bool | None = Field(default=None, description="default: by category")
    opened_on: date | None = None


class AssignIn(Schema):
    lead_id: int = Field(ge=1, le=MAX_ID)
    support_ids: list[int] = Field(default_factory=list, max_length=svc.MAX_TEAM)
    version: int | None = Field(default=None, ge=0, le=2**31)


class ActionIn(Schema):
    kind: str = Field(max_length=20, description="interview | call | mediation | "
                      "labour_inspection | union | legal_aid | health_care | note | reopening")
    happened_on: date | None = None
    note: str = Field(default="", max_length=4000)
    amount_recovered: Amount | None = Field(default=None, description="mediation: whole F CFA")
    next_step: str = Field(default="", max_length=200)
    next_step_due: date | None = None
    version: int | None = Field(default=None, ge=0, le=2**31)


class CloseIn(Schema):
    outcome: str = Field(max_length=16, description="resolved | wages_recovered | referred | "
                                                    "no_result")
    closed_on: date | None = None
    wages_recovered: Amount | None = Field(default=None, description="default: the sum of "
                                                                     "the mediations")
    note: str = Field(default="", max_length=4000)
    version: int | None = Field(default=None, ge=0, le=2**31)


class LinkIn(Schema):
    scope: str = Field(max_length=16, description="savings | credit | health")
    note: str = Field(default="", max_length=200)


class CaseQuery(Schema):
    status: str = Field(default="", max_length=12)
    category: str = Field(default="", max_length=20)
    urgent: bool | None = None
    overdue: bool | None = None
    section_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    mine: bool = False
    offset: int = Field(default=0, ge=0, le=10**9)
    limit: int = Field(default=50, ge=1, le=200)


# --- output ----------------------------------------------------------------------------------------


def case_out(case: Case, user, on: date | None = None) -> dict[str, Any]:
    row = sel.case_row(case, user, on or today())
    out: dict[str, Any] = {
        "id": row.id, "number": row.number, "category": row.category,
        "category_label": row.category_label, "section_id": row.section_id,
        "section": row.section_name, "status": row.status, "urgent": row.urgent,
        "confidential": row.confidential, "opened_on": row.opened_on,
        "first_action_due": row.first_action_due, "resolution_due": row.resolution_due,
        "first_action_overdue": row.first_action_overdue,
        "resolution_overdue": row.resolution_overdue, "closed_on": row.closed_on,
        "assigned_to_me": row.assigned, "details": None,
    }
    if row.sees_details:
        p = case.person
        out["details"] = {
            "person": {"id": p.pk, "name": p.full_name, "sex": p.sex,
                       "age": sel.person_age(case, on or today()),
                       "member": case.profile_id is not None},
            "summary": case.summary, "other_categories": case.other_categories,
            "urgent_reason": case.urgent_reason, "intake_channel": case.intake_channel,
            "employer_name": case.employer_name, "employer_phone": case.employer_phone,
            "first_action_on": case.first_action_on, "outcome": case.outcome,
            "wages_recovered": case.wages_recovered, "outcome_note": case.outcome_note,
            "team": [{"user_id": a.user_id, "name": a.user.get_full_name() or a.user.username,
                      "lead": a.lead} for a in sel.case_team(case)],
            "version": case.version,
        }
    return out


def action_out(a: CaseAction) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind, "kind_label": str(a.get_kind_display()),
            "happened_on": a.happened_on, "note": a.note, "amount_recovered": a.amount_recovered,
            "next_step": a.next_step, "next_step_due": a.next_step_due,
            "by": a.created_by.username if a.created_by else None}


def _dates(value: Any) -> Any:
    """Dates as text: an idempotent answer is stored as JSON."""
    if isinstance(value, dict):
        return {k: _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


# --- cases -----------------------------------------------------------------------------------------


@router.get("/cases", response=list[dict])
def case_list(request: HttpRequest, filters: Query[CaseQuery]):
    """Cases of the user's scope, urgent first then by resolution deadline."""
    _staff(request)
    errors = {}
    if filters.status and filters.status not in CaseStatus.values:
        errors["status"] = _("Choose a status from the list.")
    if filters.category and filters.category not in CaseCategory.values:
        errors["category"] = _("Choose a category.")
    if errors:
        raise invalid(errors)
    f = sel.CaseFilters(status=filters.status, category=filters.category,
                        urgent=filters.urgent, overdue=filters.overdue,
                        section_id=filters.section_id, mine=filters.mine)
    day = today()
    # The team of each case in one query for the page (case_team reads the prefetched rows).
    qs = sel.cases_filtered(request.user, f, day).select_related("person").prefetch_related(
        sel.live_team_prefetch())
    return [case_out(c, request.user, day)
            for c in qs[filters.offset:filters.offset + filters.limit]]


@router.post("/cases", response={201: dict})
def case_create(request: HttpRequest, payload: CaseIn):
    _staff(request)
    user = request.user

    def action() -> tuple[int, Any]:
        person = get_person_for_user(user, payload.person_id)
        section = None
        if payload.section_id is not None:
            section = Unit.objects.filter(pk=payload.section_id).first()
            if section is None:
                raise NotFound("section_not_found", _("Section not found."))
        case = svc.case_intake(
            acting_user=user, person=person, section=section, category=payload.category,
            other_categories=payload.other_categories, intake_channel=payload.intake_channel,
            summary=payload.summary, employer_name=payload.employer_name,
            employer_phone=payload.employer_phone, marked_urgent=payload.urgent,
            confidential=payload.confidential, opened_on=payload.opened_on)
        return 201, _dates(case_out(sel.get_case_for_user(user, case.pk), user))

    return _maybe_idempotent(request, "movement.cases.create", payload.dict(), action)


@router.get("/cases/{case_id}", response=dict)
def case_detail(request: HttpRequest, case_id: int):
    return case_out(_case(request, case_id), request.user)


@router.post("/cases/{case_id}/assignments", response=dict)
def case_assign(request: HttpRequest, case_id: int, payload: AssignIn):
    case = _case(request, case_id)
    from django.contrib.auth import get_user_model

    users = {u.pk: u for u in get_user_model().objects.filter(
        pk__in=[payload.lead_id, *payload.support_ids])}
    if any(pk not in users for pk in payload.support_ids):
        raise invalid({"support_ids": _("Choose case workers of the movement.")})
    svc.case_assign(acting_user=request.user, case=case, lead=users.get(payload.lead_id),
                    support=[users[pk] for pk in payload.support_ids], version=payload.version)
    return case_out(sel.get_case_for_user(request.user, case.pk), request.user)


@router.get("/cases/{case_id}/actions", response=list[dict])
def action_list(request: HttpRequest, case_id: int):
    case = _case(request, case_id)
    sel.require_details(request.user, case)
    return [action_out(a) for a in sel.case_timeline(case)]


@router.post("/cases/{case_id}/actions", response={201: dict})
def action_create(request: HttpRequest, case_id: int, payload: ActionIn):
    case = _case(request, case_id)

    def action() -> tuple[int, Any]:
        a = svc.case_action_record(
            acting_user=request.user, case=case, kind=payload.kind,
            happened_on=payload.happened_on, note=payload.note,
            amount_recovered=payload.amount_recovered or 0, next_step=payload.next_step,
            next_step_due=payload.next_step_due, version=payload.version)
        return 201, _dates(action_out(a))

    return _maybe_idempotent(request, f"movement.cases.{case.pk}.actions", payload.dict(),
                             action)


@router.post("/cases/{case_id}/close", response=dict)
def case_close(request: HttpRequest, case_id: int, payload: CloseIn):
    case = _case(request, case_id)
    svc.case_close(acting_user=request.user, case=case, outcome=payload.outcome,
                   closed_on=payload.closed_on, wages_recovered=payload.wages_recovered,
                   note=payload.note, version=payload.version)
    return case_out(sel.get_case_for_user(request.user, case.pk), request.user)


# --- documents and links ----------------------------------------------------------------------


def document_out(d) -> dict[str, Any]:
    return {"id": d.pk, "name": d.name, "content_type": d.content_type, "size": d.size,
            "sha256": d.sha256, "uploaded_at": d.uploaded_at,
            "by": d.uploaded_by.username if d.uploaded_by else None}


@router.get("/cases/{case_id}/documents", response=list[dict])
def document_list(request: HttpRequest, case_id: int):
    case = _case(request, case_id)
    sel.require_details(request.user, case)
    return [document_out(d) for d in sel.case_documents(case).select_related("uploaded_by")]


@router.post("/cases/{case_id}/documents", response={201: dict})
def document_upload(request: HttpRequest, case_id: int, file: File[UploadedFile]):
    """Multipart upload (field `file`): PDF, JPEG or PNG, 5 MB at most."""
    case = _case(request, case_id)
    sel.require_handler(request.user, case)
    if file.size is None or file.size > svc.MAX_DOCUMENT:
        raise invalid({"file": _("The file is larger than 5 MB.")})
    doc = svc.case_document_add(acting_user=request.user, case=case, name=file.name,
                                content_type=file.content_type, content=file.read())
    return Status(201, document_out(doc))


@router.get("/cases/{case_id}/documents/{document_id}")
def document_download(request: HttpRequest, case_id: int, document_id: int):
    """The file itself, for the case's assigned workers only (403 for other staff)."""
    case = _case(request, case_id)
    doc = sel.get_document_for_user(request.user, case, document_id)
    svc.case_document_downloaded(acting_user=request.user, case=case, document=doc)
    response = HttpResponse(bytes(doc.content), content_type=doc.content_type)
    response["Content-Disposition"] = f'attachment; filename="{doc.pk}-{doc.sha256[:8]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def link_out(v: sel.LinkView) -> dict[str, Any]:
    return {"id": v.id, "scope": v.scope, "organisation": v.organisation, "note": v.note,
            "consent_live": v.consent_live, "facts": v.facts}


@router.get("/cases/{case_id}/links", response=list[dict])
def link_list(request: HttpRequest, case_id: int):
    case = _case(request, case_id)
    sel.require_details(request.user, case)
    return [link_out(v) for v in sel.case_links(case, today())]


@router.post("/cases/{case_id}/links", response={201: dict})
def link_create(request: HttpRequest, case_id: int, payload: LinkIn):
    case = _case(request, case_id)
    link = svc.case_link_create(acting_user=request.user, case=case, scope=payload.scope,
                                note=payload.note)
    view = next(v for v in sel.case_links(case, today()) if v.id == link.pk)
    return Status(201, link_out(view))


# --- alerts ----------------------------------------------------------------------------------------


def alert_out(a) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind, "kind_label": str(a.get_kind_display()),
            "case_id": a.case_id, "case_number": a.case.number, "section": a.case.section.name,
            "urgent": a.case.urgency == "urgent", "raised_at": a.raised_at,
            "acknowledged_at": a.acknowledged_at}


@router.get("/case-alerts", response=list[dict])
def alert_list(request: HttpRequest, all: bool = False, offset: int = 0, limit: int = 100):  # noqa: A002
    _staff(request)
    offset, limit = max(0, min(offset, 10**9)), max(1, min(limit, 200))
    qs = sel.alerts_visible(request.user, open_only=not all)
    return [alert_out(a) for a in qs[offset:offset + limit]]


@router.post("/case-alerts/{alert_id}/acknowledge", response=dict)
def alert_acknowledge(request: HttpRequest, alert_id: int):
    _staff(request)
    alert = sel.get_alert_for_user(request.user, alert_id)
    return alert_out(svc.case_alert_acknowledge(acting_user=request.user, alert=alert))


@router.post("/case-alerts/check-overdue", response=dict)
def check_overdue(request: HttpRequest, on: date | None = None):
    """Raise the overdue alerts now (close of business does it every day): administrators."""
    _staff(request)
    org = movement_organisation()
    try:
        require_role(request.user, movement_root(org), ADMIN_ROLES)
    except NotFound:
        # A section's organiser sees the movement: she may not do this (403), as for accrual.
        raise Forbidden("forbidden", _("Your role does not allow this operation.")) from None
    # A day to come would raise alerts for deadlines not yet passed (alerts are never undone).
    if on is not None and on > today():
        raise invalid({"on": _("This date is in the future.")})
    return svc.cases_check_overdue(organisation=org, today=on or today())
