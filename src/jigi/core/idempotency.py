"""Idempotency for money-moving API calls (Idempotency-Key header).

The same key with the same body replays the first answer; with another body (or endpoint) it
is a 409. The record is written in the same transaction as the money movement: a crash leaves
neither, and two concurrent calls with one key cannot both post (the unique (user, key)
constraint makes the second one fail, roll back, and replay the first).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import ApplicationError, Conflict
from jigi.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"


def _canonical(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True))


def request_digest(endpoint: str, body: Any) -> str:
    text = json.dumps({"endpoint": endpoint, "body": _canonical(body)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def run_idempotent(
    request, *, endpoint: str, body: Any, action: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run `action` (which returns (status, JSON-able response)) once per Idempotency-Key.

    `action` runs inside this function's durable transaction, so the services it calls must
    use plain `transaction.atomic()` (they compose; the caller owns the outer boundary).
    """
    key = (request.headers.get(HEADER) or "").strip()
    if not key or len(key) > 128 or not key.isprintable():
        raise ApplicationError(
            "idempotency_key_required",
            _("Send an Idempotency-Key header (1 to 128 characters) with every money operation."),
            {HEADER: _("Required, 1 to 128 printable characters.")},
            status_code=400,
        )
    user = request.user
    digest = request_digest(endpoint, body)

    def replay(record: IdempotencyRecord) -> tuple[int, Any]:
        if record.request_hash != digest:
            raise Conflict(
                "idempotency_key_reused",
                _("This Idempotency-Key was already used for a different request."),
                {HEADER: _("Use a new key for a new operation.")},
            )
        return record.status_code, record.response

    existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if existing is not None:
        return replay(existing)
    try:
        with transaction.atomic(durable=True):
            status, response = action()
            response = _canonical(response)
            IdempotencyRecord.objects.create(
                user=user, key=key, endpoint=endpoint[:200], request_hash=digest,
                status_code=status, response=response,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            raise
        return replay(existing)
    return status, response
