"""Writes of the SMS side: delivery reports, instalment reminders, member messages (receipts,
case and campaign messages), preferences and budgets. The sender is in sender.py.

`member_sms_queue` / `receipt_queue` run inside the caller's transaction (the outbox row exists
exactly when its cause does); the others are top-level services with their own transaction.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.channels import policy, templates
from jigi.channels.backends.africastalking import REPORT_STATUS, parse_at_report
from jigi.channels.models import (
    DeliveryReport,
    MessageStatus,
    OutboundMessage,
    SmsBudget,
    SmsPreference,
)
from jigi.channels.outbox import message_queue
from jigi.channels.storable import storable
from jigi.core.audit import audit_log
from jigi.core.cleaning import invalid, service_transaction
from jigi.core.errors import NotFound

log = logging.getLogger(__name__)

REMINDER = "instalment_reminder"
RECEIPT_KINDS = ("repayment_receipt", "deposit_receipt", "withdrawal_receipt",
                 "contribution_receipt", "dues_receipt")
CHUNK = 500  # ids per IN (...) list

# Gateways whose delivery reports we accept, and how each reads one. Both speak Africa's
# Talking's form (the simulator imitates it); an Orange backend would add its own parser.
REPORT_PARSERS = {"africastalking": parse_at_report, "simulator": parse_at_report}


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def sender_label(organisation) -> str:
    """The organisation as a message names it: its name when short ("Kondo Jigima"), else
    its code ("UTM")."""
    return organisation.name if len(organisation.name) <= 16 else organisation.code


# --- delivery reports -------------------------------------------------------------------------


def _reported_status(raw: str) -> str:
    return REPORT_STATUS.get(raw, "sent")


def apply_reports(message: OutboundMessage, reports: list[DeliveryReport], now) -> bool:
    """Move the message forward by the reports (any order, duplicates harmless); marks them
    applied. Returns whether the message changed (the caller saves it)."""
    status = message.status
    reason = ""
    for r in reports:
        new = policy.next_status(status, _reported_status(r.status))
        if new != status and new == MessageStatus.FAILED:
            reason = str(r.payload.get("failureReason") or r.status)[:200]
        status = new
        r.applied = True
        r.message_id = message.pk
    if status == message.status:
        return False
    message.status = status
    message.status_at = now
    if reason:
        message.error = reason
    return True


def delivery_reports_record(*, gateway: str, payloads: list[Mapping[str, Any]],
                            now=None) -> list[DeliveryReport]:
    """Keep every report as received and apply those whose message is known; a report for an
    id not (yet) known is kept unapplied and applied when the sender records that id (a
    report can beat the send's own answer). One transaction, whatever the number."""
    parser = REPORT_PARSERS.get(gateway)
    if parser is None:
        raise NotFound("unknown_gateway", _("Unknown SMS gateway."))
    reports: list[DeliveryReport] = []
    for payload in payloads:
        try:
            u = parser(payload)
        except ValueError:
            raise invalid({"id": _("Not a delivery report.")}) from None
        reports.append(DeliveryReport(gateway=gateway, gateway_id=u.gateway_id,
                                      status=u.raw_status,
                                      payload=storable({str(k)[:40]: str(v)[:200]
                                                        for k, v in dict(payload).items()})))
    now = now or timezone.now()
    with service_transaction():
        # Applied before they are inserted: each row is written once, already marked.
        _apply_pending({r.gateway_id for r in reports}, now, fresh=reports)
        DeliveryReport.objects.bulk_create(reports, batch_size=CHUNK)
    return reports


def reports_sweep(*, now=None, days: int = 7) -> int:
    """Apply the unapplied reports of the last `days` whose message is now known. Closes a
    narrow race: a report received while the sender was recording that very id (neither
    transaction saw the other's row). The sender runs it before each batch; cheap when
    nothing is waiting."""
    now = now or timezone.now()
    waiting = set(DeliveryReport.objects
                  .filter(applied=False, received_at__gte=now - timedelta(days=days))
                  .filter(Exists(OutboundMessage.objects.filter(gateway_id=OuterRef("gateway_id"))))
                  .values_list("gateway_id", flat=True)[:CHUNK * 20])
    if not waiting:
        return 0
    with service_transaction():
        return _apply_pending(waiting, now)


def _executemany(sql: str, rows: list[tuple]) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def _apply_pending(gateway_ids: set[str], now, fresh: list[DeliveryReport] | None = None
                   ) -> int:
    """Apply the unapplied reports of these gateway ids (those stored, and `fresh` ones not
    yet inserted) to their messages, locked in id order. Returns the number of messages
    changed."""
    by_gid: dict[str, list[DeliveryReport]] = {}
    for chunk in _chunks(sorted(gateway_ids)):
        for r in DeliveryReport.objects.filter(gateway_id__in=chunk, applied=False):
            by_gid.setdefault(r.gateway_id, []).append(r)
    for r in fresh or []:
        by_gid.setdefault(r.gateway_id, []).append(r)
    changed: list[OutboundMessage] = []
    stored: list[DeliveryReport] = []
    for chunk in _chunks(sorted(by_gid)):
        messages = (OutboundMessage.objects.select_for_update()
                    .filter(gateway_id__in=chunk).order_by("pk"))
        for m in messages:
            reports = by_gid[m.gateway_id]
            if apply_reports(m, reports, now):
                changed.append(m)
            stored.extend(r for r in reports if r.pk is not None)
    q = connection.ops.quote_name
    at = connection.ops.adapt_datetimefield_value(now)
    _executemany(
        f"UPDATE {q(OutboundMessage._meta.db_table)} SET {q('status')} = %s, "  # noqa: S608
        f"{q('status_at')} = %s, {q('error')} = %s WHERE {q('id')} = %s",
        [(m.status, at, m.error, m.pk) for m in changed])
    _executemany(
        f"UPDATE {q(DeliveryReport._meta.db_table)} SET {q('applied')} = %s, "  # noqa: S608
        f"{q('message_id')} = %s WHERE {q('id')} = %s",
        [(True, r.message_id, r.pk) for r in stored])
    return len(changed)


def sms_simulate_reports(*, limit: int = 10_000, now=None) -> int:
    """The simulator's delivery reports for messages it sent that have none yet (duplicated,
    out of order, some failed), received as the gateway would POST them. Returns how many
    reports were received."""
    from jigi.channels.backends.simulator import SimulatorBackend
    from jigi.channels.conf import sms_part_price, sms_simulator_seed

    has_report = DeliveryReport.objects.filter(message=OuterRef("pk"))
    sent = list(OutboundMessage.objects
                .filter(status=MessageStatus.SENT, gateway_id__startswith="SIM-")
                .filter(~Exists(has_report)).order_by("pk")
                .values_list("gateway_id", "phone")[:limit])
    if not sent:
        return 0
    backend = SimulatorBackend(seed=sms_simulator_seed(), part_price=sms_part_price())
    payloads = backend.reports_for(sent)
    delivery_reports_record(gateway="simulator", payloads=payloads, now=now)
    return len(payloads)


# --- member messages --------------------------------------------------------------------------


def _preference(person) -> SmsPreference | None:
    """Her choice: read with the person when the caller loaded it (`select_related(
    "person__sms_preference")`, a campaign's audience: no query a member), else asked now."""
    cached = SmsPreference._meta.get_field("person").remote_field  # person.sms_preference
    if cached.is_cached(person):
        return cached.get_cached_value(person)
    return SmsPreference.objects.filter(person=person).first()


def member_sms_queue(*, kind: str, organisation, person, ref: str = "",
                     purpose: str | None = None, unit_id: int | None = None,
                     **values: Any) -> OutboundMessage | None:
    """Queue `kind` (templates.TEMPLATES) to a member in her language, inside the caller's
    transaction; `unit_id` is the unit whose staff may read it in the outbox (None: its
    organisation-wide roles only, see outbox.message_queue). None when she has no phone, or
    has not opted in and the purpose needs it. The sender checks the opt-in again when it
    sends (she may change her mind)."""
    purpose = purpose or templates.PURPOSES[kind]
    if not getattr(person, "phone", ""):
        return None
    pref = _preference(person)
    if not policy.may_send(purpose, has_person=True, opted_in=pref.opt_in if pref else None):
        return None
    lang = templates.language_of(pref.language if pref else None, person.language)
    values.setdefault("org", sender_label(organisation))
    sms = templates.render(kind, lang, **values)
    if sms.parts > 1:
        log.info("SMS %s in %s takes %d parts (%s): %r", kind, sms.language, sms.parts,
                 sms.encoding, sms.text)
    return message_queue(organisation=organisation, phone=person.phone, text=sms.text,
                         purpose=purpose, ref=ref, person=person, language=sms.language,
                         unit_id=unit_id)


def receipt_queue(*, kind: str, organisation, person, amount: int, on: date, receipt: str = "",
                  ref: str = "", unit_id: int | None = None,
                  **values: Any) -> OutboundMessage | None:
    """A receipt SMS for a repayment, deposit, contribution or dues payment, inside the
    calling service's transaction. `values` carries what the kind shows besides amount, date
    and receipt: `balance` and `loan` (repayment), `balance` (deposit), `until`
    (contribution), `period` (dues)."""
    if kind not in RECEIPT_KINDS:
        raise ValueError(f"not a receipt kind: {kind}")
    return member_sms_queue(kind=kind, organisation=organisation, person=person, ref=ref,
                            unit_id=unit_id, amount=amount, date=on, receipt=receipt or "-",
                            **values)


# --- reminders --------------------------------------------------------------------------------


def _serialise(key: str) -> None:
    """Two runs of the same day's reminders at once: the second waits for the first and then
    finds its reminders queued. SQLite's write transactions are serialised already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(key.encode())])


def _installment_reminded(outer: str):
    """Reminders already in the outbox for the instalment `outer` points at (the one key both
    ways of queueing them share)."""
    return OutboundMessage.objects.filter(
        purpose=REMINDER,
        ref=Concat(Value("credit.installment:"), Cast(OuterRef(outer), output_field=CharField())))


def _reminder_messages(rows) -> list[OutboundMessage]:
    """(instalment id, loan number, organisation id, caisse id, person id, phone, preferred
    language, person's language, amount, due date) rows -> unsaved reminders (of the loan's
    caisse: its staff read them in the outbox)."""
    from jigi.orgs.models import Organisation

    labels = {o.pk: sender_label(o) for o in Organisation.objects.all()}
    messages = []
    for pk, number, org_id, caisse_id, person_id, phone, pref_lang, person_lang, amount, due \
            in rows:
        if amount <= 0:
            continue
        sms = templates.render(REMINDER, templates.language_of(pref_lang, person_lang),
                               org=labels[org_id], amount=amount, loan=number, date=due)
        messages.append(OutboundMessage(
            organisation_id=org_id, phone=phone, text=sms.text, language=sms.language,
            purpose=REMINDER, ref=f"credit.installment:{pk}", person_id=person_id,
            unit_id=caisse_id, encoding=sms.encoding, parts=sms.parts))
    return messages


def reminders_queue(*, as_of: date, days_before: int = 3) -> int:
    """One reminder per unpaid instalment of an active loan (its current schedule) falling
    due `days_before` days after `as_of`, for borrowers who opted in and have a phone. One
    query for the instalments (those already reminded excluded in it), one bulk insert.
    Running it twice queues nothing more. Returns how many were queued."""
    from jigi.credit.models import Installment, LoanStatus

    due = as_of + timedelta(days=days_before)
    with service_transaction():
        _serialise(f"sms-reminders:{due.isoformat()}")
        rows = (Installment.objects
                .filter(due_on=due, paid_on__isnull=True, loan__status=LoanStatus.ACTIVE,
                        version=F("loan__schedule_version"),
                        loan__person__sms_preference__opt_in=True)
                .exclude(loan__person__phone="")
                .filter(~Exists(_installment_reminded("pk")))
                .values_list("pk", "loan__number", "loan__caisse__organisation_id",
                             "loan__caisse_id", "loan__person_id", "loan__person__phone",
                             "loan__person__sms_preference__language", "loan__person__language",
                             "principal", "interest", "fees", "penalties", "principal_paid",
                             "interest_paid", "fees_paid", "penalties_paid", "interest_waived")
                .order_by("pk"))
        messages = _reminder_messages(
            (pk, number, org, caisse, person, phone, pl, lang,
             p + i + f + pen - pp - ip - fp - penp - waived, due)
            for (pk, number, org, caisse, person, phone, pl, lang, p, i, f, pen, pp, ip, fp,
                 penp, waived) in rows.iterator(chunk_size=2000))
        OutboundMessage.objects.bulk_create(messages, batch_size=CHUNK)
    return len(messages)


def reminders_from_cob(*, queued_for: date | None = None) -> dict[str, int]:
    """Turn the reminders close of business queued (cob.Reminder, with the amount it worked
    out) into SMS for opted-in borrowers with a phone; the handed-over reminders become
    "sent", the others (no consent, no phone) "cancelled". Set-based like reminders_queue
    and sharing its key: an instalment reminded one way is not reminded the other."""
    from jigi.cob.models import Reminder, ReminderStatus

    with service_transaction():
        _serialise("sms-reminders-cob")
        waiting = Reminder.objects.filter(status=ReminderStatus.QUEUED)
        if queued_for is not None:
            waiting = waiting.filter(queued_for=queued_for)
        rows = (waiting.filter(loan__person__sms_preference__opt_in=True)
                .exclude(loan__person__phone="")
                .filter(~Exists(_installment_reminded("installment_id")))
                .values_list("installment_id", "loan__number", "caisse__organisation_id",
                             "caisse_id", "loan__person_id", "loan__person__phone",
                             "loan__person__sms_preference__language", "loan__person__language",
                             "amount", "due_on")
                .order_by("installment_id"))
        messages = _reminder_messages(rows.iterator(chunk_size=2000))
        OutboundMessage.objects.bulk_create(messages, batch_size=CHUNK)
        sent = waiting.filter(Exists(_installment_reminded("installment_id"))).update(
            status=ReminderStatus.SENT)
        cancelled = waiting.update(status=ReminderStatus.CANCELLED)
    return {"queued": len(messages), "handed_over": sent, "cancelled": cancelled}


# --- preferences and budgets ------------------------------------------------------------------


def sms_preference_set(*, person, opt_in: bool, language: str, acting_user) -> SmsPreference:
    if language not in templates.LANGUAGES:
        raise invalid({"language": _("Choose French, Bambara or English.")})
    with service_transaction():
        pref = SmsPreference.objects.select_for_update().filter(person=person).first()
        before = {"opt_in": pref.opt_in, "language": pref.language} if pref else None
        if pref is None:
            pref = SmsPreference(person=person)
        pref.opt_in, pref.language, pref.recorded_by = bool(opt_in), language, acting_user
        pref.save()
        audit_log(actor=acting_user, event_type="channels.sms_preference", subject=pref,
                  before=before, after={"opt_in": pref.opt_in, "language": pref.language})
    return pref


def month_start(day: date) -> date:
    return day.replace(day=1)


def sms_budget_set(*, organisation, month: date, amount: int, acting_user) -> SmsBudget:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise invalid({"amount": _("Enter whole francs, zero or more.")})
    with service_transaction():
        budget, _created = SmsBudget.objects.select_for_update().get_or_create(
            organisation=organisation, month=month_start(month), defaults={"amount": amount})
        before = None if _created else {"amount": budget.amount}
        budget.amount = amount
        budget.save(update_fields=["amount"])
        audit_log(actor=acting_user, event_type="channels.sms_budget", subject=budget,
                  before=before, after={"amount": amount, "month": budget.month.isoformat()},
                  organisation=organisation)
    return budget
