"""Writes for field collection.

`field_sync` takes one batch from a device. Each item has its own transaction and its own
result, so an interrupted batch sent again applies only what was not yet applied:

- new UUID: the money is posted through the credit and savings services' inner functions and
  the SyncItem row inserted in the same transaction (a concurrent send of the same UUID fails
  on the unique UUID and rolls back whole, then finds the first) (cash held by the officer: account 102, subledger
  "field:<username>"); a refused posting rolls back to a savepoint and the item is kept as
  `rejected` with its field messages;
- known UUID, same content: a no-op answering the first result (`duplicate`);
- known UUID, other content: nothing is posted; the item becomes a `conflict`, the new content
  kept in `conflict_payload` for the caisse manager's review.

Every answered item is acknowledged: the device may forget it (rejected ones are shown to the
officer to enter again). Only items the server never answered stay on the device.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jigi.channels.field import rules
from jigi.channels.field.selectors import (
    MemberLine,
    field_officers,
    officer_day_total,
    officer_members,
)
from jigi.channels.models import FieldCashCount, SyncItem, SyncItemStatus
from jigi.core.audit import audit_log
from jigi.core.cleaning import clean_amount, clean_date, clean_text, conflict, invalid, today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.lookup import MAX_ID
from jigi.core.money_messages import MONEY_MESSAGES
from jigi.credit.services._common import COUNTER_ROLES, MANAGER_ROLES, OFFICER_ROLES, require_role
from jigi.credit.services.operations import field_subledger, loan_repay_in_transaction
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Unit
from jigi.orgs.scoping import user_scope
from jigi.savings.services._common import book_of, move_open_drawer
from jigi.savings.services.momo_link import FIELD_CASH, deposit_in_transaction

FIELD_MESSAGES: dict[str, Any] = {
    "not_an_object": _("A record is an object."),
    "not_a_uuid": _("The record's identifier is not a UUID."),
    "unknown_kind": _("A repayment or a savings deposit."),
    "required": _("This field is required."),
    "not_a_date": _("Enter a valid date (YYYY-MM-DD)."),
    "future": _("The date cannot be in the future."),
    "too_old": _("Too old for field sync: the caisse enters it by hand."),
    "too_large": _("Too large for a field collection."),
}


def _field_message(code: str) -> str:
    message = FIELD_MESSAGES.get(code) or MONEY_MESSAGES.get(code) or MONEY_MESSAGES[
        "not_a_number"]
    return str(message)


def _answer(item: SyncItem, *, duplicate: bool = False) -> dict[str, Any]:
    """What the device is told about a stored item."""
    status = item.status
    if status in (SyncItemStatus.CONFLICT, SyncItemStatus.RESOLVED):
        status = item.result.get("first_status", SyncItemStatus.APPLIED)
    answer: dict[str, Any] = {"uuid": str(item.uuid), "status": status, "ack": True,
                              "duplicate": duplicate}
    for key in ("code", "message", "fields", "receipt", "posting_ref"):
        if item.result.get(key):
            answer[key] = item.result[key]
    return answer


def _rejected(uuid: Any, code: str, message: Any, fields: dict[str, str]) -> dict[str, Any]:
    return {"uuid": uuid if isinstance(uuid, str) else "", "status": SyncItemStatus.REJECTED,
            "ack": True, "duplicate": False, "code": code, "message": str(message),
            "fields": fields}


def _post(user, rec: rules.FieldRecord, line: MemberLine | None) -> dict[str, Any]:
    """Post one record inside the caller's transaction; raise ApplicationError if refused."""
    if line is None:
        raise NotFound("not_your_member", _("Not a member of your groups."),
                       {"person_id": _("Not a member of your groups.")})
    reference = f"field:{rec.uuid}"
    if rec.kind == "repayment":
        if line.loan_id is None:
            raise conflict("no_group_loan", _("No group loan being repaid."), "person_id")
        op = loan_repay_in_transaction(acting_user=user, loan_id=line.loan_id,
                                       amount=rec.amount, on=rec.collected_on,
                                       reference=reference, channel="field")
        return {"posting_ref": f"credit.loantransaction:{op.transaction.pk}",
                "receipt": str(op.receipt) if op.receipt else "",
                "loan_id": line.loan_id}
    if line.account_id is None:
        raise conflict("no_savings_account", _("No savings account at this caisse."),
                       "person_id")
    tx = deposit_in_transaction(acting_user=user, account_id=line.account_id,
                                amount=rec.amount, on=rec.collected_on, reference=reference,
                                channel="field")
    return {"posting_ref": f"savings.savingstransaction:{tx.pk}",
            "receipt": tx.receipt_label, "account_id": line.account_id}


def _apply_new(user, device_id: str, rec: rules.FieldRecord, payload: dict[str, Any],
               digest: str, line: MemberLine | None) -> SyncItem:
    """Post the record and write its item in one transaction. The item is inserted last: if
    the same UUID is being applied by another request, one of the two inserts fails on the
    unique UUID and its whole transaction (the posting with it) rolls back. A refused posting
    rolls back whole too; the item is then written alone, rejected, with the reasons."""
    item = SyncItem(uuid=rec.uuid, user=user, device_id=device_id, kind=rec.kind,
                    payload=payload, payload_hash=digest, status=SyncItemStatus.APPLIED,
                    collected_on=rec.collected_on)
    result: dict[str, Any] = {"caisse_id": line.caisse_id if line else None,
                              "group_id": line.group_id if line else None}
    try:
        with transaction.atomic(durable=True):
            result.update(_post(user, rec, line))
            item.result = result
            item.posting_ref = result["posting_ref"]
            item.save(force_insert=True)
    except ApplicationError as exc:
        item.pk = None
        item.status = SyncItemStatus.REJECTED
        item.posting_ref = ""
        item.result = {**result, "code": exc.code, "message": str(exc.message),
                       "fields": {k: str(v) for k, v in exc.fields.items()}}
        item.result.pop("posting_ref", None)
        with transaction.atomic(durable=True):
            item.save(force_insert=True)
    return item


def _conflict(item: SyncItem, payload: dict[str, Any], digest: str) -> dict[str, Any]:
    """The same UUID with other content: kept for review, nothing posted."""
    with transaction.atomic(durable=True):
        locked = SyncItem.objects.select_for_update().get(pk=item.pk)
        if locked.conflict_payload != payload or locked.status != SyncItemStatus.CONFLICT:
            before = locked.status
            if before not in (SyncItemStatus.CONFLICT, SyncItemStatus.RESOLVED):
                locked.result = {**locked.result, "first_status": before}
            locked.status = SyncItemStatus.CONFLICT
            locked.conflict_payload = payload
            locked.reviewed_by = None
            locked.save(update_fields=["status", "result", "conflict_payload", "reviewed_by"])
            audit_log(actor=locked.user, event_type="channels.field_conflict", subject=locked,
                      before={"payload": locked.payload, "status": before},
                      after={"conflict_payload": payload, "hash": digest},
                      unit=Unit.objects.filter(pk=locked.result.get("caisse_id")).first())
    first = _answer(locked)
    return {"uuid": str(item.uuid), "status": SyncItemStatus.CONFLICT, "ack": True,
            "duplicate": False, "code": "uuid_conflict",
            "message": str(_("Already received with other content: kept for review.")),
            "first": first}


def _known(item: SyncItem, user, payload: dict[str, Any], digest: str) -> dict[str, Any]:
    if item.user_id != user.pk:
        return _rejected(str(item.uuid), "uuid_taken",
                         _("This identifier belongs to another record."), {})
    if item.payload_hash == digest:
        return _answer(item, duplicate=True)
    return _conflict(item, payload, digest)


def _known_items(uuids: list[str]) -> dict[str, SyncItem]:
    return {str(i.uuid): i for i in SyncItem.objects.filter(uuid__in=uuids)}


def field_sync(*, acting_user, device_id: Any, items: Any) -> list[dict[str, Any]]:
    """One batch from a loan officer's device: a result per item, in order (see the module)."""
    if not user_scope(acting_user).units(write=True, roles=OFFICER_ROLES).exists():
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    device = clean_text(device_id, "device_id", max_len=64, required=True)
    if not isinstance(items, list) or not items or len(items) > rules.MAX_BATCH:
        raise invalid({"items": _("From 1 to %(n)d records.") % {"n": rules.MAX_BATCH}})
    on = today()
    members = officer_members(acting_user)
    uuids = [u for u in (rules.clean_uuid(i.get("uuid")) if isinstance(i, dict) else None
                         for i in items) if u]
    known = _known_items(uuids)
    results = []
    for raw in items:
        rec, errors = rules.parse_record(raw, on)
        if rec is None:
            results.append(_rejected(raw.get("uuid") if isinstance(raw, dict) else "",
                                     "invalid", _("Some fields are not valid."),
                                     {k: _field_message(v) for k, v in errors.items()}))
            continue
        payload = rec.payload()
        digest = rules.payload_hash(payload)
        item = known.get(rec.uuid)
        if item is None:
            try:
                item = _apply_new(acting_user, device, rec, payload, digest,
                                  members.get(rec.person_id))
            except IntegrityError:
                # Sent at the same time by another request: it is known now.
                item = SyncItem.objects.filter(uuid=rec.uuid).first()
                if item is None:
                    raise
                results.append(_known(item, acting_user, payload, digest))
            else:
                results.append(_answer(item))
            known[rec.uuid] = item
        else:
            results.append(_known(item, acting_user, payload, digest))
    return results


def get_conflict_for_user(user, item_id: int) -> SyncItem:
    """A sync item in a caisse the user manages (404 otherwise)."""
    item = SyncItem.objects.filter(pk=item_id).select_related("user").first() \
        if 0 < item_id <= MAX_ID else None
    caisse_id = item.result.get("caisse_id") if item is not None else None
    caisse = Unit.objects.filter(pk=caisse_id).first() if caisse_id else None
    if item is None or caisse is None or not user_scope(user).covers_unit(caisse):
        raise NotFound("not_found", _("Record not found."))
    require_role(user, caisse, MANAGER_ROLES)
    return item


def field_conflict_resolve(*, acting_user, item_id: int, note: Any = "") -> SyncItem:
    """The caisse manager has looked at a conflict: the first content stays (its posting, if
    any, stands: a wrong amount is corrected by a reversal at the caisse); the other content
    is kept on the row for the record."""
    text = clean_text(note, "note", max_len=200)
    get_conflict_for_user(acting_user, item_id)
    with transaction.atomic(durable=True):
        item = SyncItem.objects.select_for_update().get(pk=item_id)
        if item.status != SyncItemStatus.CONFLICT:
            raise conflict("not_a_conflict", _("This record has no conflict to review."))
        item.status = SyncItemStatus.RESOLVED
        item.reviewed_by = acting_user
        item.result = {**item.result, "review_note": text}
        item.save(update_fields=["status", "reviewed_by", "result"])
        audit_log(actor=acting_user, event_type="channels.field_conflict_resolved",
                  subject=item, after={"note": text, "kept": item.payload,
                                       "other": item.conflict_payload})
    return item


def field_cash_count(*, acting_user, caisse: Unit, officer_id: Any, day: Any, counted: Any,
                     note: Any = "") -> FieldCashCount:
    """The cash a loan officer hands in at the end of a field day, counted by a teller or the
    caisse manager at her open drawer: what her posted items say (expected) against what is
    counted. A difference needs a note. Once per officer, caisse and day. The counted cash moves from
    the officer's field subledger into the drawer in the same transaction."""
    require_role(acting_user, caisse, COUNTER_ROLES)
    officer = field_officers(caisse).filter(pk=officer_id).first() \
        if isinstance(officer_id, int) and not isinstance(officer_id, bool) \
        and 0 < officer_id <= MAX_ID else None
    errors: dict[str, Any] = {}
    if officer is None:
        errors["officer_id"] = _("A loan officer of this caisse.")
    elif officer.pk == acting_user.pk:
        errors["officer_id"] = _("Someone else counts your cash.")
    try:
        on = clean_date(day, "day")
    except ApplicationError as exc:
        errors.update(exc.fields)
        on = None
    try:
        amount = clean_amount(counted, "counted", allow_zero=True)
    except ApplicationError as exc:
        errors.update(exc.fields)
        amount = 0
    try:
        text = clean_text(note, "note", max_len=200)
    except ApplicationError as exc:
        errors.update(exc.fields)
        text = ""
    if errors:
        raise invalid(errors)
    assert officer is not None  # noqa: S101 - narrowed by the checks above
    assert on is not None  # noqa: S101 - narrowed by the checks above
    expected = officer_day_total(officer, on, caisse.pk)["total"]
    if amount != expected and not text:
        raise invalid({"note": _("Say why the cash differs.")})
    try:
        with transaction.atomic(durable=True):
            count = FieldCashCount.objects.create(
                user=officer, caisse=caisse, day=on, expected=expected, counted=amount,
                note=text, counted_by=acting_user)
            entry = _hand_in(acting_user, caisse, officer, amount) if amount else None
            audit_log(actor=acting_user, event_type="channels.field_cash_count", subject=count,
                      after={"officer": officer.username, "day": on.isoformat(),
                             "expected": expected, "counted": amount,
                             "difference": amount - expected, "note": text,
                             "entry": entry.pk if entry else None}, unit=caisse)
    except IntegrityError:
        raise conflict("already_counted", _("This officer's cash is already counted for this "
                                            "day."), "day") from None  # at this caisse
    return count


def _hand_in(user, caisse: Unit, officer, amount: int):
    """The cash handed in enters the counting teller's open drawer: 102 (drawers) debited,
    102 under the officer's field subledger credited. What she does not hand in stays on her
    subledger (a shortage she still owes; a surplus shows as a credit balance)."""
    move_open_drawer(user, caisse, cash_in=amount)  # no open drawer: refused, nothing written
    return entry_post(book=book_of(caisse), value_date=today(), acting_user=user, audit=False,
                      description=f"Remise collecte terrain {officer.username}"[:255],
                      source_type="channels.field_cash", source_id=officer.username[:64],
                      lines=[LineSpec(FIELD_CASH, "D", amount),
                             LineSpec(FIELD_CASH, "C", amount, field_subledger(officer))])


def field_day(day: Any) -> date:
    """The day of a sheet: today by default, up to a season ahead (the next meetings)."""
    return clean_date(day, "day", latest=today() + timedelta(days=92))
