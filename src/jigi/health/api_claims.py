"""UTM claims API (/api/v1/health, second router beside api.py): claims and their automatic
checks, the review queue, approval, payment batches to providers, reinsurance treaties,
statements and simulation, prevention sessions, indicators and the RAMU report.

Scoping is the selectors': health roles of the mutual, the union administrator for every
mutual, clinic staff for their provider's claims; anyone else gets a 404. Calls that move
money or enter a claim require an Idempotency-Key header (jigi.core.idempotency: the same key
and body replay the first answer, another body is a 409, nothing is done twice).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.idempotency import run_idempotent
from jigi.core.lookup import MAX_ID
from jigi.health import reinsurance as rs
from jigi.health import selectors_claims as sel
from jigi.health.indicators import Indicators, Period, as_csv, as_row
from jigi.health.models import (
    Claim,
    ClaimStatus,
    PaymentBatch,
    PreventionSession,
    Provider,
    ReinsuranceStatement,
    ReinsuranceTreaty,
)
from jigi.health.services import batches as batch_services
from jigi.health.services import claims as claim_services
from jigi.health.services import prevention as prevention_services
from jigi.health.services import reinsurance as reinsurance_services
from jigi.orgs.models import Unit
from jigi.savings.api import Amount

router = Router(tags=["health-claims"])



def _limits(offset: int, limit: int) -> tuple[int, int]:
    return min(max(0, offset), 10**9), max(1, min(limit, 200))


def _idempotent(request: HttpRequest, endpoint: str, body: Any, action) -> Status:
    status, answer = run_idempotent(request, endpoint=endpoint, body=body, action=action)
    return Status(status, answer)


# --- schemas ----------------------------------------------------------------------------------


class ClaimLineIn(Schema):
    item_code: str = Field(min_length=1, max_length=24, description="tariff code, e.g. CONS")
    quantity: int = Field(description="whole units, above zero")
    unit_price: Amount = Field(description="whole francs CFA asked per unit, zero or more")


class ClaimIn(Schema):
    card_number: str = Field(min_length=1, max_length=32)
    provider_id: int = Field(ge=1, le=MAX_ID)
    care_date: date
    discharge_date: date | None = None
    diagnosis: str = Field(default="", max_length=16, description="ICD-10, e.g. B54 or O80.0")
    lines: list[ClaimLineIn] = Field(min_length=1, max_length=claim_services.MAX_LINES)


class DecisionIn(Schema):
    line_no: int = Field(ge=1, le=1000)
    action: str = Field(description="accept | reduce | reject")
    reason: str = Field(default="", max_length=32, description="a coded reason (see "
                                                               "/claim-reasons)")
    quantity: int | None = Field(default=None, ge=0, le=10**9)
    unit_price: int | None = Field(default=None, ge=0, le=10**15)


class ReviewIn(Schema):
    decisions: list[DecisionIn] = Field(max_length=claim_services.MAX_LINES)
    note: str = Field(default="", max_length=500)


class NoteIn(Schema):
    note: str = Field(default="", max_length=500)


class RejectIn(Schema):
    reason: str = Field(max_length=32)
    note: str = Field(default="", max_length=500)


class ApproveManyIn(Schema):
    claim_ids: list[int] = Field(min_length=1, max_length=500)
    note: str = Field(default="", max_length=500)


class AdjudicateIn(Schema):
    through: date | None = None


class ClaimQuery(Schema):
    mutual_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    status: str = Field(default="", max_length=10)
    provider_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    date_from: date | None = None
    date_to: date | None = None
    offset: int = 0
    limit: int = 50


class BatchIn(Schema):
    provider_id: int = Field(ge=1, le=MAX_ID)
    through: date | None = None
    claim_ids: list[int] | None = Field(default=None, max_length=5_000)


class BatchApproveIn(Schema):
    value_date: date | None = None


class BatchPayIn(Schema):
    paid_from: str = Field(default="57", description="57 cash | 52 bank")
    value_date: date | None = None
    note: str = Field(default="", max_length=200)


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class TreatyIn(Schema):
    reference: str = Field(min_length=1, max_length=32)
    valid_from: date
    valid_until: date
    terms: dict[str, Any] = Field(description="health.reinsurance.Treaty terms: cession_bp, "
                                              "premium_per_beneficiary_month, xol_priority, "
                                              "xol_limit, xol_share_bp, xol_per_event, "
                                              "stop_loss_attachment_bp, stop_loss_limit_bp, "
                                              "stop_loss_limit")


class TreatyEndIn(Schema):
    on: date


class StatementIn(Schema):
    year: int = Field(ge=1900, le=2999)
    quarter: int = Field(ge=0, le=4, description="1-4, or 0 for the year")


class YearQuery(Schema):
    year: int = Field(ge=1900, le=2999)


class SimulationIn(Schema):
    year: int = Field(ge=1900, le=2999)
    valid_from: date | None = None
    valid_until: date | None = None
    terms: dict[str, Any] | None = None


class SessionIn(Schema):
    unit_id: int = Field(ge=1, le=MAX_ID, description="a mutual, or the union")
    topic: str = Field(max_length=200)
    place: str = Field(max_length=200)
    held_on: date
    facilitator: str = Field(max_length=200)


class PersonsIn(Schema):
    person_ids: list[int] = Field(min_length=1, max_length=500)


class PeriodQuery(Schema):
    year: int | None = Field(default=None, ge=1900, le=2999)
    date_from: date | None = None
    date_to: date | None = None


# --- renderers --------------------------------------------------------------------------------


def _user(u) -> str | None:
    return u.username if u is not None else None


def claim_out(c: Claim, *, detail: bool = False) -> dict[str, Any]:
    ben = c.beneficiary
    out: dict[str, Any] = {
        "id": c.pk, "number": c.number, "mutual_id": c.mutual_id, "mutual": c.mutual.code,
        "provider_id": c.provider_id, "provider": c.provider.name,
        "beneficiary_id": ben.pk, "card_number": ben.card_number,
        "beneficiary": f"{ben.person.first_name} {ben.person.last_name}",
        "care_date": c.care_date, "discharge_date": c.discharge_date,
        "diagnosis": c.diagnosis, "status": c.status,
        "status_label": str(ClaimStatus(c.status).label), "claimed": c.claimed,
        "allowed": c.allowed, "mutual_share": c.mutual_share, "copay": c.copay,
        "batch": c.batch.number if c.batch_id else None, "entered_at": c.entered_at,
        "decided_at": c.decided_at,
    }
    if detail:
        out["entered_by"] = _user(c.entered_by)
        out["decided_by"] = _user(c.decided_by)
        out["lines"] = [{
            "line_no": x.line_no, "item_code": x.item_code, "group": x.group,
            "quantity": x.quantity, "unit_price": x.unit_price, "claimed": x.claimed,
            "allowed_quantity": x.allowed_quantity,
            "allowed_unit_price": x.allowed_unit_price, "allowed": x.allowed,
            "mutual_share": x.mutual_share, "copay": x.copay, "status": x.status,
            "reasons": sel.reasons_out(list(x.reasons))} for x in c.lines.all()]
        out["events"] = [{"at": e.at, "by": _user(e.by), "from": e.from_status,
                          "to": e.to_status, "note": e.note} for e in c.events.all()]
    return out


def _claim_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    return claim_out(sel.get_claim_for_user(request.user, pk, with_details=True), detail=True)


def batch_out(b: PaymentBatch, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": b.pk, "number": b.number, "mutual_id": b.mutual_id, "provider_id": b.provider_id,
        "provider": b.provider.name, "period_end": b.period_end, "total": b.total,
        "status": b.status, "approval_entry_id": b.approval_entry_id,
        "payment_entry_id": b.payment_entry_id, "paid_on": b.paid_on,
        "paid_from": b.paid_from or None, "created_at": b.created_at,
        "approved_at": b.approved_at, "cancelled_at": b.cancelled_at,
        "cancel_reason": b.cancel_reason or None,
    }
    if detail:
        out["claims"] = [{"id": c.pk, "number": c.number, "care_date": c.care_date,
                          "card_number": c.beneficiary.card_number,
                          "mutual_share": c.mutual_share, "status": c.status}
                         for c in b.claims.select_related("beneficiary").order_by("pk")]
    return out


def treaty_out(t: ReinsuranceTreaty) -> dict[str, Any]:
    return {"id": t.pk, "mutual_id": t.mutual_id, "mutual": t.mutual.code,
            "reference": t.reference, "valid_from": t.valid_from,
            "valid_until": t.valid_until, "terms": t.terms, "active": t.active}


def statement_out(s: ReinsuranceStatement) -> dict[str, Any]:
    return {"id": s.pk, "treaty_id": s.treaty_id, "reference": s.treaty.reference,
            "mutual": s.treaty.mutual.code, "year": s.year, "quarter": s.quarter,
            "figures": s.figures, "balance": s.balance,
            "mutual_entry_id": s.mutual_entry_id, "pool_entry_id": s.pool_entry_id,
            "created_at": s.created_at}


def outcome_out(o: rs.Outcome) -> dict[str, Any]:
    return {"quarter": o.quarter, "contributions": o.contributions, "claims": o.claims,
            "premiums": o.premiums, "xol_recoveries": o.xol_recoveries,
            "stop_loss_recovery": o.stop_loss_recovery, "recoveries": o.recoveries,
            "result_without": o.result_without, "result_with": o.result_with,
            "pool_result": o.pool_result}


def simulation_out(sim: rs.Simulation) -> dict[str, Any]:
    return {"quarters": [outcome_out(o) for o in sim.quarters],
            "annual": outcome_out(sim.annual), "with_treaty": sim.settlement is not None}


def session_out(s: PreventionSession, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": s.pk, "unit_id": s.unit_id, "unit": s.unit.code,
                           "topic": s.topic, "place": s.place, "held_on": s.held_on,
                           "facilitator": s.facilitator}
    if detail:
        out["attendees"] = [{"person_id": p.pk, "name": f"{p.first_name} {p.last_name}",
                             "sex": p.sex} for p in sel.prevention_attendees(s)]
    return out


def indicators_out(ind: Indicators) -> dict[str, Any]:
    row = {k: v for k, v in as_row(ind).items() if not k.startswith("use_rate.")}
    row["mutual_id"] = ind.mutual_id
    row["use_rate_per_1000"] = ind.use_rate
    row["reinsurance_balance"] = ind.reinsurance_balance
    return row


def _csv(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _period(q: PeriodQuery) -> Period:
    if q.year is not None:
        return Period.year(q.year)
    if q.date_from is None or q.date_to is None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"year": _("Give a year, or a start and an end date.")},
                               status_code=422)
    if q.date_from > q.date_to:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"date_to": _("The end is before the start.")}, status_code=422)
    return Period(q.date_from, q.date_to)


# --- claims -----------------------------------------------------------------------------------


@router.get("/claim-reasons", response=list[dict])
def claim_reasons(request: HttpRequest):
    """Every coded reason, translated: the automatic ones, then those a reviewer may give."""
    return ([{"code": c, "label": str(t), "manual": False}
             for c, t in sel.AUTOMATIC_REASONS.items()]
            + [{"code": c, "label": str(t), "manual": True}
               for c, t in sel.MANUAL_REASONS.items()])


@router.post("/claims", response={201: dict})
def claim_submit(request: HttpRequest, payload: ClaimIn):
    """Enter a care sheet; it is checked and valued at once. Requires Idempotency-Key."""
    key = (request.headers.get("Idempotency-Key") or "").strip()

    def action():
        claim = claim_services.claim_submit(
            acting_user=request.user, card_number=payload.card_number,
            provider_id=payload.provider_id, care_date=payload.care_date,
            discharge_date=payload.discharge_date, diagnosis=payload.diagnosis,
            lines=[claim_services.LineIn(x.item_code, x.quantity, x.unit_price)
                   for x in payload.lines], idempotency_key=key[:128])
        return 201, _claim_detail(request, claim.pk)

    return _idempotent(request, "health.claim_submit", payload.dict(), action)


@router.get("/claims", response=list[dict])
def claim_list(request: HttpRequest, q: Query[ClaimQuery]):
    """Claims in the caller's view (clinic staff: their provider's), newest care first."""
    mutual = sel.get_mutual_for_user(request.user, q.mutual_id) if q.mutual_id else None
    offset, limit = _limits(q.offset, q.limit)
    qs = sel.claim_list(request.user, mutual=mutual, status=q.status,
                        provider_id=q.provider_id, date_from=q.date_from, date_to=q.date_to)
    return [claim_out(c) for c in qs.select_related("batch")[offset:offset + limit]]


@router.get("/claims/{claim_id}", response=dict)
def claim_detail(request: HttpRequest, claim_id: int):
    return _claim_detail(request, claim_id)


@router.post("/claims/{claim_id}/review", response=dict)
def claim_review(request: HttpRequest, claim_id: int, payload: ReviewIn):
    """Decide every flagged line: accept, reduce (quantity and/or unit price) or reject, with
    a coded reason for the last two."""
    claim = sel.get_claim_for_user(request.user, claim_id)
    claim_services.claim_review(
        acting_user=request.user, claim=claim, note=payload.note,
        decisions=[claim_services.LineDecision(d.line_no, d.action, d.reason, d.quantity,
                                               d.unit_price) for d in payload.decisions])
    return _claim_detail(request, claim_id)


@router.post("/claims/{claim_id}/approve", response=dict)
def claim_approve(request: HttpRequest, claim_id: int, payload: NoteIn):
    claim = sel.get_claim_for_user(request.user, claim_id)
    claim_services.claim_approve(acting_user=request.user, claim=claim, note=payload.note)
    return _claim_detail(request, claim_id)


@router.post("/claims/{claim_id}/reject", response=dict)
def claim_reject(request: HttpRequest, claim_id: int, payload: RejectIn):
    claim = sel.get_claim_for_user(request.user, claim_id)
    claim_services.claim_reject(acting_user=request.user, claim=claim, reason=payload.reason,
                                note=payload.note)
    return _claim_detail(request, claim_id)


@router.post("/mutuals/{mutual_id}/claims/adjudicate", response=dict)
def claims_adjudicate(request: HttpRequest, mutual_id: int, payload: AdjudicateIn):
    """Check and value every entered claim of the mutual (care up to `through`)."""
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    run = claim_services.claims_adjudicate(acting_user=request.user, mutual=mutual,
                                           through=payload.through)
    return {"claims": run.claims, "lines": run.lines, "by_status": run.by_status,
            "mutual_share": run.mutual_share, "reasons": run.reasons}


@router.post("/mutuals/{mutual_id}/claims/approve", response=list[dict])
def claims_approve(request: HttpRequest, mutual_id: int, payload: ApproveManyIn):
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    done = claim_services.claims_approve(acting_user=request.user, mutual=mutual,
                                         claim_ids=payload.claim_ids, note=payload.note)
    return [{"id": c.pk, "number": c.number, "status": c.status} for c in done]


@router.get("/mutuals/{mutual_id}/review-queue", response=list[dict])
def review_queue(request: HttpRequest, mutual_id: int):
    """Flagged claims waiting for a person, oldest first, with their lines and reasons."""
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    return [claim_out(c, detail=True) for c in
            sel.review_queue(request.user, mutual=mutual).select_related(
                "mutual", "batch", "entered_by", "decided_by").prefetch_related(
                "events__by")[:200]]


# --- payment batches --------------------------------------------------------------------------


def _provider(pk: int) -> Provider:
    provider = Provider.objects.filter(pk=pk).first()
    if provider is None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"provider_id": _("Unknown provider.")}, status_code=422)
    return provider


@router.post("/mutuals/{mutual_id}/batches", response={201: dict})
def batch_prepare(request: HttpRequest, mutual_id: int, payload: BatchIn):
    """Gather a provider's approved, unpaid claims into a batch (nothing is posted yet)."""
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    batch = batch_services.batch_prepare(
        acting_user=request.user, mutual=mutual, provider=_provider(payload.provider_id),
        through=payload.through, claim_ids=payload.claim_ids)
    return Status(201, batch_out(batch, detail=True))


@router.get("/mutuals/{mutual_id}/batches", response=list[dict])
def batch_list(request: HttpRequest, mutual_id: int, status: str = "", offset: int = 0,
               limit: int = 50):
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    qs = sel.batches_for_user(request.user).filter(mutual=mutual).select_related("provider")
    if status:
        qs = qs.filter(status=status[:10])
    offset, limit = _limits(offset, limit)
    return [batch_out(b) for b in qs.order_by("-pk")[offset:offset + limit]]


@router.get("/batches/{batch_id}", response=dict)
def batch_detail(request: HttpRequest, batch_id: int):
    return batch_out(sel.get_batch_for_user(request.user, batch_id), detail=True)


@router.post("/batches/{batch_id}/approve", response=dict)
def batch_approve(request: HttpRequest, batch_id: int, payload: BatchApproveIn):
    """Approve: 601 care paid D / 401 providers C in the mutual's book. Requires
    Idempotency-Key."""
    batch = sel.get_batch_for_user(request.user, batch_id)
    return _idempotent(request, f"health.batch_approve:{batch.pk}", payload.dict(), lambda: (
        200, batch_out(batch_services.batch_approve(acting_user=request.user, batch=batch,
                                                    on=payload.value_date))))


@router.post("/batches/{batch_id}/pay", response=dict)
def batch_pay(request: HttpRequest, batch_id: int, payload: BatchPayIn):
    """Pay: 401 D / 57 cash or 52 bank C; the claims become paid. Requires Idempotency-Key."""
    batch = sel.get_batch_for_user(request.user, batch_id)
    return _idempotent(request, f"health.batch_pay:{batch.pk}", payload.dict(), lambda: (
        200, batch_out(batch_services.batch_pay(acting_user=request.user, batch=batch,
                                                paid_from=payload.paid_from,
                                                on=payload.value_date, note=payload.note))))


@router.post("/batches/{batch_id}/cancel", response=dict)
def batch_cancel(request: HttpRequest, batch_id: int, payload: ReasonIn):
    """Cancel a batch not yet paid (its approval entry is reversed). Requires
    Idempotency-Key."""
    batch = sel.get_batch_for_user(request.user, batch_id)
    return _idempotent(request, f"health.batch_cancel:{batch.pk}", payload.dict(), lambda: (
        200, batch_out(batch_services.batch_cancel(acting_user=request.user, batch=batch,
                                                   reason=payload.reason))))


# --- reinsurance ------------------------------------------------------------------------------


@router.post("/mutuals/{mutual_id}/treaties", response={201: dict})
def treaty_create(request: HttpRequest, mutual_id: int, payload: TreatyIn):
    """The union administrator signs a treaty with a mutual."""
    mutual = sel.get_mutual_for_user(request.user, mutual_id)
    treaty = reinsurance_services.treaty_create(
        acting_user=request.user, mutual=mutual, reference=payload.reference,
        valid_from=payload.valid_from, valid_until=payload.valid_until, terms=payload.terms)
    return Status(201, treaty_out(treaty))


@router.get("/treaties", response=list[dict])
def treaty_list(request: HttpRequest, mutual_id: int | None = None):
    qs = sel.treaties_for_user(request.user)
    if mutual_id is not None:
        qs = qs.filter(mutual_id=mutual_id) if 0 < mutual_id <= MAX_ID else qs.none()
    return [treaty_out(t) for t in qs.order_by("mutual__code", "-valid_from")[:500]]


@router.get("/treaties/{treaty_id}", response=dict)
def treaty_detail(request: HttpRequest, treaty_id: int):
    return treaty_out(sel.get_treaty_for_user(request.user, treaty_id))


@router.post("/treaties/{treaty_id}/end", response=dict)
def treaty_end(request: HttpRequest, treaty_id: int, payload: TreatyEndIn):
    treaty = sel.get_treaty_for_user(request.user, treaty_id)
    return treaty_out(reinsurance_services.treaty_end(acting_user=request.user, treaty=treaty,
                                                      on=payload.on))


@router.post("/treaties/{treaty_id}/statements", response={201: dict})
def statement_settle(request: HttpRequest, treaty_id: int, payload: StatementIn):
    """Draw up and post a quarter's (1-4) or the year's (0) statement, once. Requires
    Idempotency-Key."""
    treaty = sel.get_treaty_for_user(request.user, treaty_id)
    return _idempotent(request, f"health.statement:{treaty.pk}", payload.dict(), lambda: (
        201, statement_out(reinsurance_services.statement_settle(
            acting_user=request.user, treaty=treaty, year=payload.year,
            quarter=payload.quarter))))


@router.get("/treaties/{treaty_id}/statements", response=list[dict])
def statement_list(request: HttpRequest, treaty_id: int):
    treaty = sel.get_treaty_for_user(request.user, treaty_id)
    return [statement_out(s) for s in sel.statements_for_user(request.user).filter(
        treaty=treaty).order_by("year", "quarter")]


@router.get("/reinsurance-statements/{statement_id}", response=dict)
def statement_detail(request: HttpRequest, statement_id: int):
    return statement_out(sel.get_statement_for_user(request.user, statement_id))


@router.get("/mutuals/{mutual_id}/reinsurance-simulation", response=dict)
def simulation(request: HttpRequest, mutual_id: int, q: Query[YearQuery]):
    """The mutual's year with its treaty in force and without any."""
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    return {"with": simulation_out(sel.reinsurance_simulation(mutual, q.year)),
            "without": simulation_out(sel.reinsurance_simulation(mutual, q.year,
                                                                 with_treaty=False))}


@router.post("/mutuals/{mutual_id}/reinsurance-simulation", response=dict)
def simulation_terms(request: HttpRequest, mutual_id: int, payload: SimulationIn):
    """The mutual's year under treaty terms being considered (nothing is stored)."""
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    terms = None
    if payload.terms is not None:
        try:
            terms = rs.treaty_from_terms(
                payload.terms, valid_from=payload.valid_from or date(payload.year, 1, 1),
                valid_to=payload.valid_until or date(payload.year, 12, 31))
        except rs.ReinsuranceError as exc:
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {f"terms.{exc.field}": exc.message},
                                   status_code=422) from None
    return {"with": simulation_out(sel.reinsurance_simulation(mutual, payload.year,
                                                              terms=terms)),
            "without": simulation_out(sel.reinsurance_simulation(mutual, payload.year,
                                                                 with_treaty=False))}


# --- prevention -------------------------------------------------------------------------------


@router.post("/prevention-sessions", response={201: dict})
def session_create(request: HttpRequest, payload: SessionIn):
    unit = Unit.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise NotFound("unit_not_found", _("Mutual not found."))
    session = prevention_services.prevention_session_create(
        acting_user=request.user, unit=unit, topic=payload.topic, place=payload.place,
        held_on=payload.held_on, facilitator=payload.facilitator)
    return Status(201, session_out(session, detail=True))


@router.get("/prevention-sessions", response=list[dict])
def session_list(request: HttpRequest, unit_id: int | None = None, offset: int = 0,
                 limit: int = 50):
    qs = sel.prevention_sessions_for_user(request.user)
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id) if 0 < unit_id <= MAX_ID else qs.none()
    offset, limit = _limits(offset, limit)
    return [session_out(s) for s in qs.order_by("-held_on", "-pk")[offset:offset + limit]]


@router.get("/prevention-sessions/{session_id}", response=dict)
def session_detail(request: HttpRequest, session_id: int):
    return session_out(sel.get_prevention_session_for_user(request.user, session_id),
                       detail=True)


@router.post("/prevention-sessions/{session_id}/attendance", response=dict)
def attendance_record(request: HttpRequest, session_id: int, payload: PersonsIn):
    session = sel.get_prevention_session_for_user(request.user, session_id)
    added = prevention_services.prevention_attendance_record(
        acting_user=request.user, session=session, person_ids=payload.person_ids)
    return {"added": added, **session_out(session, detail=True)}


@router.post("/prevention-sessions/{session_id}/attendance/remove", response=dict)
def attendance_remove(request: HttpRequest, session_id: int, payload: PersonsIn):
    session = sel.get_prevention_session_for_user(request.user, session_id)
    removed = prevention_services.prevention_attendance_remove(
        acting_user=request.user, session=session, person_ids=payload.person_ids)
    return {"removed": removed, **session_out(session, detail=True)}


# --- indicators -------------------------------------------------------------------------------


@router.get("/mutuals/{mutual_id}/indicators", response=dict)
def mutual_indicators(request: HttpRequest, mutual_id: int, q: Query[PeriodQuery]):
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    return indicators_out(sel.mutual_indicators(request.user, mutual, _period(q)))


@router.get("/mutuals/{mutual_id}/indicators.csv", response={200: None})
def mutual_indicators_csv(request: HttpRequest, mutual_id: int, q: Query[PeriodQuery]):
    mutual = sel.get_mutual_for_user(request.user, mutual_id, roles=sel.MUTUAL_STAFF_ROLES)
    period = _period(q)
    ind = sel.mutual_indicators(request.user, mutual, period)
    return _csv(as_csv([ind]), f"indicateurs-{mutual.code}-{period.start}-{period.end}.csv")


@router.get("/indicators", response=dict)
def union_indicators(request: HttpRequest, q: Query[PeriodQuery]):
    """Every mutual the caller manages (all of them for the union admin) and the total."""
    rows, total = sel.union_indicators(request.user, _period(q))
    return {"mutuals": [indicators_out(r) for r in rows], "total": indicators_out(total)}


@router.get("/indicators.csv", response={200: None})
def union_indicators_csv(request: HttpRequest, q: Query[PeriodQuery]):
    period = _period(q)
    rows, total = sel.union_indicators(request.user, period)
    return _csv(as_csv([*rows, total]), f"indicateurs-{period.start}-{period.end}.csv")


@router.get("/ramu-report", response=dict)
def ramu_report(request: HttpRequest, q: Query[YearQuery]):
    """The union's figures by mutual for the authorities (RAMU). Union administrator."""
    rows, total = sel.ramu_report(request.user, q.year)
    return {"year": q.year, "mutuals": [indicators_out(r) for r in rows],
            "total": indicators_out(total)}


@router.get("/ramu-report.csv", response={200: None})
def ramu_report_csv(request: HttpRequest, q: Query[YearQuery]):
    rows, total = sel.ramu_report(request.user, q.year)
    return _csv(as_csv([*rows, total]), f"rapport-ramu-{q.year}.csv")
