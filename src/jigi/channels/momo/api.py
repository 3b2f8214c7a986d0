"""Mobile-money API (mount at /api/v1/channels/momo).

POST /payments            ask a member's wallet (Idempotency-Key header = order_id)
GET  /payments/{order_id} one payment
POST /payments/{order_id}/poll   ask the provider now
POST /callback/{order_id} the provider's push (no auth, csrf-exempt; checked by notif_token)
POST /statements          import a statement (JSON rows) and reconcile
POST /refunds             refund an unmatched statement line or a refused payment
GET  /refunds?status=     the refunds of the user's units (requested: waiting to be confirmed)
POST /refunds/{reference}/confirm   a refund made on the provider's portal, with its reference
"""

from __future__ import annotations

import json
from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.responses import Status

from jigi.channels.models import MobileMoneyPayment, StatementLine
from jigi.channels.momo import providers, selectors, services
from jigi.channels.momo.providers.base import StatementRow
from jigi.channels.storable import printable
from jigi.core.cleaning import invalid
from jigi.core.errors import NotFound
from jigi.core.money import MoneyError, to_francs
from jigi.orgs.models import Unit
from jigi.savings.idempotency import require_key

router = Router(tags=["mobile money"])


class PaymentIn(Schema):
    purpose: str
    target_id: int
    amount: int
    phone: str = ""


def payment_out(p: MobileMoneyPayment) -> dict:
    return {"order_id": p.order_id, "status": p.status, "purpose": p.purpose,
            "target_id": p.target_id, "amount": p.amount, "phone": p.phone,
            "provider": p.provider, "payment_url": p.payment_url,
            "provider_txn_id": p.provider_txn_id, "posting_ref": p.posting_ref,
            "failure_reason": p.failure_reason, "version": p.version,
            "requested_at": p.requested_at.isoformat(),
            "confirmed_at": p.confirmed_at.isoformat() if p.confirmed_at else None}


@router.post("/payments", response={201: dict, 200: dict})
def payment_request(request: HttpRequest, payload: PaymentIn):
    order_id = require_key(request)
    known = MobileMoneyPayment.objects.filter(order_id=order_id).exists()
    p = services.payment_request(acting_user=request.user, purpose=payload.purpose,
                                 target_id=payload.target_id, amount=payload.amount,
                                 order_id=order_id, phone=payload.phone)
    return Status(200 if known else 201, payment_out(p))


@router.get("/payments/{order_id}")
def payment_detail(request: HttpRequest, order_id: str):
    return payment_out(selectors.get_payment_for_user(request.user, order_id))


@router.post("/payments/{order_id}/poll")
def payment_poll(request: HttpRequest, order_id: str):
    p = selectors.get_payment_for_user(request.user, order_id)
    outcome = services.payment_poll(p)
    p.refresh_from_db()
    return {"outcome": outcome, "payment": payment_out(p)}


@router.post("/callback/{order_id}", auth=None, response={200: dict, 403: dict})
def callback(request: HttpRequest, order_id: str, sig: str = ""):
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        payload = {"raw": request.body[:500].decode("utf-8", "replace")}
    p = (MobileMoneyPayment.objects.filter(order_id=order_id).only("provider").first()
         if printable(order_id) else None)
    cb = services.callback_receive(provider=p.provider if p else "unknown", order_id=order_id,
                                   payload=payload, signature=sig)
    # The provider only needs to know we received it: unknown and rejected are still 200,
    # except a forged one (so a probe learns nothing but the refusal).
    status = 403 if cb.outcome == "rejected" else 200
    return Status(status, {"outcome": cb.outcome})


class StatementIn(Schema):
    provider: str = ""  # empty: the Orange side's configured provider
    unit_id: int
    rows: list[dict]


@router.post("/statements")
def statement_import(request: HttpRequest, payload: StatementIn):
    unit = Unit.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise NotFound("unit_not_found", _("Unit not found."))
    try:
        rows = [StatementRow(day=str(date.fromisoformat(str(r["date"]))), txn_id=str(r["txnid"]),
                             order_id=str(r.get("order_id") or ""),
                             phone=str(r.get("msisdn") or ""),
                             amount=to_francs(r["amount"], allow_zero=True, allow_negative=True),
                             status=str(r["status"]).upper()) for r in payload.rows]
    except (KeyError, ValueError, TypeError, MoneyError):
        # A fraction of a franc (12.7) or true is not an amount: never cut to 12 or 1.
        raise invalid({"rows": _("date, txnid, amount (whole francs) and status on every "
                                 "row.")}) from None
    if not all(printable(x) for r in rows for x in (r.txn_id, r.order_id, r.phone)):
        raise invalid({"rows": _("Remove the control characters.")})
    return services.statement_import(acting_user=request.user,
                                     provider=payload.provider or providers.config()["provider"],
                                     unit=unit, rows=rows)


class RefundIn(Schema):
    line_id: int | None = None
    order_id: str | None = None


@router.post("/refunds", response={201: dict})
def refund_create(request: HttpRequest, payload: RefundIn):
    line = payment = None
    if payload.line_id is not None:
        line = StatementLine.objects.filter(pk=payload.line_id).first()
        if line is None:
            raise NotFound("line_not_found", _("Statement line not found."))
    if payload.order_id:
        payment = selectors.get_payment_for_user(request.user, payload.order_id)
    r = services.refund_create(acting_user=request.user, line=line, payment=payment)
    return Status(201, {"reference": r.reference, "amount": r.amount, "status": r.status,
                        "journal_entry": r.journal_entry_id})


def refund_out(r) -> dict:
    return {"reference": r.reference, "amount": r.amount, "phone": r.phone, "status": r.status,
            "requested_at": r.requested_at.isoformat(), "provider_ref": r.provider_ref,
            "settled_at": r.settled_at.isoformat() if r.settled_at else None,
            "journal_entry": r.journal_entry_id}


@router.get("/refunds", response=list[dict])
def refunds_list(request: HttpRequest, status: str = ""):
    qs = selectors.refunds_for_user(request.user).order_by("-requested_at", "-pk")
    if status:
        if status not in ("requested", "done", "failed"):
            raise invalid({"status": _("Choose one of the allowed values.")})
        qs = qs.filter(status=status)
    return [refund_out(r) for r in qs[:500]]


class RefundConfirmIn(Schema):
    provider_ref: str


# `path:`: a reference made from a statement's transaction id may hold a '/'.
@router.post("/refunds/{path:reference}/confirm", response=dict)
def refund_confirm(request: HttpRequest, reference: str, payload: RefundConfirmIn):
    return refund_out(services.refund_confirm(acting_user=request.user, reference=reference,
                                              provider_ref=payload.provider_ref))
