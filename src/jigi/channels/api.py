"""SMS API (mount at /api/v1/channels).

- POST /sms/delivery-reports/{gateway}?key=...: the gateway's delivery reports (form-encoded,
  as Africa's Talking POSTs them; JSON accepted too). No login: the shared secret
  JIGI_SMS_CALLBACK_KEY in the URL instead. Duplicates and disorder are harmless.
- GET /sms/outbox?phone=&status=: the messages the caller may read (her units', all her
  organisation's for an organisation-wide role, health ones for health roles), newest first.
- GET /sms/outbox/{id}: one of them (404 otherwise).
- GET /sms/report?month=YYYY-MM (&format=csv): the cost report per organisation and purpose.
- PUT /sms/preferences/{person_id}: a member's opt-in and language (counter staff).
- PUT /sms/budgets/{organisation_code}/{YYYY-MM}: an organisation's monthly budget (managers).
- GET /callbacks?open=true: members' call-back requests of the caller's units (open first).
- POST /callbacks/{id}/handled {"note"}: mark one called (idempotent).
"""

from __future__ import annotations

import hmac
import json
from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema

from jigi.channels import callbacks, conf, selectors, services
from jigi.core.cleaning import invalid
from jigi.core.errors import Forbidden, NotFound
from jigi.orgs.models import READ_ONLY_ROLES, Organisation
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import get_person_for_user

router = Router(tags=["channels"])


class MessageOut(Schema):
    id: int
    organisation: str
    unit: str | None  # the unit's code; None for an organisation-level message
    phone: str
    text: str
    language: str
    purpose: str
    ref: str
    status: str
    encoding: str
    parts: int
    gateway_id: str
    cost: int
    error: str
    created_at: datetime
    sent_at: datetime | None
    status_at: datetime | None


class PreferenceIn(Schema):
    opt_in: bool
    language: Literal["fr", "bm", "en"] = "fr"


class PreferenceOut(Schema):
    person_id: int
    opt_in: bool
    language: str


class BudgetIn(Schema):
    amount: int = Field(ge=0, le=10**12, description="whole francs CFA for the month")


def _month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()  # noqa: DTZ007 - a month, no time
    except ValueError:
        raise invalid({"month": _("Enter a month as YYYY-MM.")}) from None


@router.post("/sms/delivery-reports/{gateway}", auth=None)
def delivery_report(request: HttpRequest, gateway: str, key: str = ""):
    expected = conf.sms_callback_key()
    if not expected or not hmac.compare_digest(key.encode(), expected.encode()):
        raise Forbidden("bad_callback_key", _("Unknown caller."))
    if request.META.get("CONTENT_TYPE", "").split(";")[0].strip() == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            raise invalid({"id": _("Not a delivery report.")}) from None
        if not isinstance(payload, dict):
            raise invalid({"id": _("Not a delivery report.")})
    else:
        payload = request.POST.dict()
    services.delivery_reports_record(gateway=gateway, payloads=[payload])
    return {"received": 1}


@router.get("/sms/outbox", response=list[MessageOut])
def outbox(request: HttpRequest, phone: str = "", status: str = "", offset: int = 0,
           limit: int = 50):
    offset, limit = min(max(0, offset), 10**9), max(1, min(limit, 200))
    qs = selectors.outbox_for_user(request.user, phone=phone[:32], status=status[:16])
    return [_message_out(m) for m in qs[offset:offset + limit]]


@router.get("/sms/outbox/{message_id}", response=MessageOut)
def outbox_message(request: HttpRequest, message_id: int):
    return _message_out(selectors.message_get_for_user(request.user, message_id))


def _message_out(m) -> MessageOut:
    return MessageOut(id=m.pk, organisation=m.organisation.code,
                      unit=m.unit.code if m.unit_id else None, phone=m.phone, text=m.text,
                      language=m.language, purpose=m.purpose, ref=m.ref, status=m.status,
                      encoding=m.encoding, parts=m.parts, gateway_id=m.gateway_id, cost=m.cost,
                      error=m.error, created_at=m.created_at, sent_at=m.sent_at,
                      status_at=m.status_at)


@router.get("/sms/report")
def report(request: HttpRequest, month: str, format: str = "json"):  # noqa: A002
    orgs = selectors.organisations_for_user(request.user, roles=selectors.REPORT_ROLES)
    data = selectors.cost_report(month=_month(month), organisation_ids=orgs)
    if format == "csv":
        response = HttpResponse(selectors.cost_report_csv(data), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="sms-{month}.csv"'
        return response
    return {"month": data.month.isoformat()[:7],
            "rows": [r.__dict__ for r in data.rows],
            "budgets": data.budgets, "spent": data.spent, "queued": data.queued}


@router.put("/sms/preferences/{person_id}", response=PreferenceOut)
def preference_set(request: HttpRequest, person_id: int, payload: PreferenceIn):
    person = get_person_for_user(request.user, person_id)
    scope = user_scope(request.user)
    if not scope.is_superuser and not (scope.roles - {str(r) for r in READ_ONLY_ROLES}):
        raise Forbidden("forbidden", _("You may not change this member's SMS choice."))
    pref = services.sms_preference_set(person=person, opt_in=payload.opt_in,
                                       language=payload.language, acting_user=request.user)
    return PreferenceOut(person_id=person.pk, opt_in=pref.opt_in, language=pref.language)


@router.put("/sms/budgets/{code}/{month}")
def budget_set(request: HttpRequest, code: str, month: str, payload: BudgetIn):
    scope = user_scope(request.user)
    organisation = Organisation.objects.filter(code=code[:16]).first()
    visible = organisation is not None and (scope.is_superuser
                                            or organisation.pk in scope.organisation_ids)
    if not visible:
        raise NotFound("organisation_not_found", _("Organisation not found."))
    settable = selectors.budget_organisation_ids(request.user)
    if settable is not None and organisation.pk not in settable:
        raise Forbidden("forbidden", _("Only a manager sets the SMS budget."))
    budget = services.sms_budget_set(organisation=organisation, month=_month(month),
                                     amount=payload.amount, acting_user=request.user)
    return {"organisation": code, "month": budget.month.isoformat()[:7],
            "amount": budget.amount}


class CallbackOut(Schema):
    id: int
    person_id: int
    name: str
    phone: str
    unit: str
    topic: str
    requested_at: datetime
    handled_at: datetime | None
    handled_by: str | None
    note: str


class CallbackHandledIn(Schema):
    note: str = ""


def _callback_out(r) -> CallbackOut:
    return CallbackOut(id=r.pk, person_id=r.person_id, name=r.person.full_name, phone=r.phone,
                       unit=r.unit.code, topic=r.topic, requested_at=r.requested_at,
                       handled_at=r.handled_at,
                       handled_by=r.handled_by.username if r.handled_by else None, note=r.note)


@router.get("/callbacks", response=list[CallbackOut])
def callback_list(request: HttpRequest, open: bool = False, offset: int = 0,  # noqa: A002
                  limit: int = 50):
    if not callbacks.callbacks_visible(request.user):
        raise NotFound("callback_not_found", _("Call-back request not found."))
    offset, limit = min(max(0, offset), 10**9), max(1, min(limit, 200))
    qs = callbacks.callbacks_for_user(request.user, open_only=open)
    return [_callback_out(r) for r in qs[offset:offset + limit]]


@router.post("/callbacks/{request_id}/handled", response=CallbackOut)
def callback_handled(request: HttpRequest, request_id: int, payload: CallbackHandledIn):
    return _callback_out(callbacks.callback_handle(acting_user=request.user,
                                                   request_id=request_id, note=payload.note))
