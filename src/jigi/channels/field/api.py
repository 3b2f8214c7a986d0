"""Field collection API (mounted at /api/v1/field).

- `GET /sheet?on=YYYY-MM-DD`: the collection sheet of the officer's groups, with `version`
  (also the ETag; `If-None-Match` answers 304 when nothing changed).
- `POST /sync`: a batch `{device_id, items: [{uuid, kind, person_id, amount, collected_on}]}`;
  200 with a result per item, in order. The item's UUID is its idempotency key: an identical
  resend answers the first result (`duplicate: true`), other content under a known UUID is a
  `conflict` kept for review. A malformed item is rejected alone, not the batch.
- `GET /conflicts`, `POST /conflicts/{id}/resolve`: the caisse manager's review.
- `GET /cash?caisse_id&officer_id&day`, `POST /cash`: end-of-day cash reconciliation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from jigi.channels.field import selectors, services
from jigi.core.errors import NotFound
from jigi.credit.services._common import COUNTER_ROLES, require_role
from jigi.orgs.models import Unit, UnitKind

router = Router(tags=["field"])


class SyncIn(Schema):
    device_id: str
    items: list[Any]


class ResolveIn(Schema):
    note: str = ""


class CashIn(Schema):
    caisse_id: int
    officer_id: int
    day: date
    counted: Any
    note: str = ""


def _caisse(user, caisse_id: int) -> Unit:
    caisse = Unit.objects.filter(pk=caisse_id, kind=UnitKind.CAISSE).first() \
        if 0 < caisse_id <= services.MAX_ID else None
    if caisse is None:
        raise NotFound("not_found", "Caisse not found.")
    require_role(user, caisse, COUNTER_ROLES)
    return caisse


def conflict_out(item) -> dict[str, Any]:
    return {"id": item.pk, "uuid": str(item.uuid), "officer": item.user.username,
            "kind": item.kind, "collected_on": item.collected_on.isoformat(),
            "status": item.status, "payload": item.payload,
            "conflict_payload": item.conflict_payload,
            "posting_ref": item.posting_ref}


def count_out(count) -> dict[str, Any]:
    return {"id": count.pk, "officer_id": count.user_id, "caisse_id": count.caisse_id,
            "day": count.day.isoformat(), "expected": count.expected, "counted": count.counted,
            "difference": count.counted - count.expected, "note": count.note,
            "counted_by": count.counted_by_id}


@router.get("/sheet")
def sheet(request: HttpRequest, on: date | None = None):
    day = services.field_day(on)
    body = selectors.field_sheet(request.user, day)
    etag = f'"{body["version"]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(_json(body), content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _json(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


@router.post("/sync")
def sync(request: HttpRequest, payload: SyncIn):
    results = services.field_sync(acting_user=request.user, device_id=payload.device_id,
                                  items=payload.items)
    return {"results": results}


@router.get("/conflicts")
def conflicts(request: HttpRequest):
    return [conflict_out(i) for i in selectors.conflicts_for(request.user)]


@router.post("/conflicts/{item_id}/resolve")
def conflict_resolve(request: HttpRequest, item_id: int, payload: ResolveIn):
    item = services.field_conflict_resolve(acting_user=request.user, item_id=item_id,
                                           note=payload.note)
    return conflict_out(item)


@router.get("/cash")
def cash(request: HttpRequest, caisse_id: int, officer_id: int, day: date):
    caisse = _caisse(request.user, caisse_id)
    officer = selectors.field_officers(caisse).filter(pk=officer_id).first() \
        if 0 < officer_id <= services.MAX_ID else None
    if officer is None:
        raise NotFound("not_found", "Officer not found.")
    count = selectors.cash_count_for(officer, day, caisse.pk)
    return {"officer_id": officer.pk, "day": day.isoformat(),
            "expected": selectors.officer_day_total(officer, day, caisse.pk),
            "count": count_out(count) if count else None}


@router.post("/cash", response={201: dict})
def cash_count(request: HttpRequest, payload: CashIn):
    caisse = _caisse(request.user, payload.caisse_id)
    count = services.field_cash_count(acting_user=request.user, caisse=caisse,
                                      officer_id=payload.officer_id, day=payload.day,
                                      counted=payload.counted, note=payload.note)
    return Status(201, count_out(count))
