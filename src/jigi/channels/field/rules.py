"""What a field record is, checked without the database: kinds, the canonical content whose
hash tells an identical resend from a conflict, and the device-side rules the server checks
again. Imports nothing from Django."""

from __future__ import annotations

import hashlib
import json
import uuid as uuid_lib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from jigi.core.money import MoneyError, to_francs

KINDS = ("repayment", "deposit")
# A field officer collects small sums: above this is a typing error (the app says the same).
MAX_FIELD_AMOUNT = 5_000_000
# A record older than this was forgotten on a device: the caisse manager enters it by hand.
MAX_AGE_DAYS = 31
MAX_BATCH = 1000


@dataclass(frozen=True)
class FieldRecord:
    uuid: str
    kind: str
    person_id: int
    amount: int
    collected_on: date

    def payload(self) -> dict[str, Any]:
        """The content compared between sends (the device's extra fields are ignored)."""
        return {"kind": self.kind, "person_id": self.person_id, "amount": self.amount,
                "collected_on": self.collected_on.isoformat()}


def payload_hash(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def clean_uuid(value: Any) -> str | None:
    """The canonical text of a UUID, or None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return str(uuid_lib.UUID(value))
    except ValueError:
        return None


def parse_record(raw: Any, today: date) -> tuple[FieldRecord | None, dict[str, str]]:
    """A record from the device, or error codes by field (the service words them):
    uuid, kind, person_id (required), amount (money codes, too_large), collected_on (not_a_date,
    future, too_old)."""
    if not isinstance(raw, dict):
        return None, {"item": "not_an_object"}
    errors: dict[str, str] = {}
    uid = clean_uuid(raw.get("uuid"))
    if uid is None:
        errors["uuid"] = "not_a_uuid"
    kind = raw.get("kind")
    if kind not in KINDS:
        errors["kind"] = "unknown_kind"
    person_id = raw.get("person_id")
    if isinstance(person_id, str) and person_id.isdigit():
        person_id = int(person_id)
    if not isinstance(person_id, int) or isinstance(person_id, bool) or \
            not 0 < person_id < 2**63:
        errors["person_id"] = "required"
    amount = 0
    try:
        amount = to_francs(raw.get("amount"))
        if amount > MAX_FIELD_AMOUNT:
            errors["amount"] = "too_large"
    except MoneyError as exc:
        errors["amount"] = str(exc)
    on = None
    try:
        on = date.fromisoformat(str(raw.get("collected_on")))
    except ValueError:
        errors["collected_on"] = "not_a_date"
    if on is not None:
        if on > today:
            errors["collected_on"] = "future"
        elif on < today - timedelta(days=MAX_AGE_DAYS):
            errors["collected_on"] = "too_old"
    if errors:
        return None, errors
    assert uid is not None  # noqa: S101 - narrowed by the checks above
    assert on is not None  # noqa: S101 - narrowed by the checks above
    return FieldRecord(uid, str(kind), int(person_id), amount, on), {}
