"""The sender: takes queued messages, oldest first, and hands them to the configured backend.

1. Claim (short transaction): the oldest queued messages not claimed by another sender
   (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises write transactions), after the
   opt-in rule (policy.py: an opted-out member's message is cancelled) and the organisation's
   monthly budget (a message that would go over stays queued, not lost, and is counted in the
   report). A claim is `sent_at` set on a still-queued message: another sender skips it.
2. Send (no transaction open: the gateway is slow I/O), throttled to the backend's rate.
3. Record (short transaction per chunk): status, gateway id, cost; delivery reports that beat
   the answer are applied. A gateway that could not be reached releases the claims.

A sender that dies between 2 and 3 leaves claimed messages: after JIGI_SMS_CLAIM_TIMEOUT they
are offered again (so such a message may go twice: at least once, never silently lost).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from jigi.channels import conf, policy
from jigi.channels.backends import OutgoingSms, SendResult, SmsBackend, SmsBackendError
from jigi.channels.backends import get_backend as _get_backend
from jigi.channels.models import MessageStatus, OutboundMessage, SmsBudget, SmsPreference
from jigi.channels.services import CHUNK, _apply_pending, _chunks, reports_sweep

OVER_BUDGET = "over budget"
OPTED_OUT = "opted out"


@dataclass
class SendReport:
    backend: str
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retry: int = 0
    cancelled: int = 0
    held: int = 0  # over budget, still queued
    held_by_organisation: dict[int, int] = field(default_factory=dict)
    reports_applied: int = 0
    error: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def _month_bounds(day: date) -> tuple[datetime, datetime]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (datetime.combine(start, datetime.min.time(), tz),
            datetime.combine(end, datetime.min.time(), tz))


def budget_left(organisation_ids: set[int], now: datetime) -> dict[int, int | None]:
    """Francs each organisation may still spend this month: its budget minus what the gateway
    charged this month and the estimate of what is being sent now. None: no budget set (no
    cap)."""
    month = timezone.localdate(now).replace(day=1)
    budgets = dict(SmsBudget.objects.filter(organisation_id__in=organisation_ids, month=month)
                   .values_list("organisation_id", "amount"))
    if not budgets:
        return {org: None for org in organisation_ids}
    start, end = _month_bounds(month)
    spent = dict(OutboundMessage.objects
                 .filter(organisation_id__in=budgets, sent_at__gte=start, sent_at__lt=end)
                 .exclude(status__in=[MessageStatus.QUEUED, MessageStatus.CANCELLED])
                 .values("organisation_id").annotate(c=Sum("cost"))
                 .values_list("organisation_id", "c"))
    stale = now - timedelta(seconds=conf.sms_claim_timeout())
    in_flight = dict(OutboundMessage.objects
                     .filter(organisation_id__in=budgets, status=MessageStatus.QUEUED,
                             sent_at__gte=stale)
                     .values("organisation_id").annotate(p=Sum("parts"))
                     .values_list("organisation_id", "p"))
    price = conf.sms_part_price()
    return {org: (None if org not in budgets else
                  budgets[org] - (spent.get(org) or 0) - (in_flight.get(org) or 0) * price)
            for org in organisation_ids}


def _claim(limit: int, now: datetime, report: SendReport,
           only: Q | None = None) -> list[OutgoingSms]:
    stale = now - timedelta(seconds=conf.sms_claim_timeout())
    price = conf.sms_part_price()
    with transaction.atomic(durable=True):
        # Organisations that cannot pay for one more part are left out of the query, so their
        # held messages do not fill every batch ahead of the others'.
        queued = OutboundMessage.objects.filter(status=MessageStatus.QUEUED)
        if only is not None:
            queued = queued.filter(only)
        orgs = set(queued.values_list("organisation_id", flat=True).distinct())
        # Two senders at once must not both spend the same remainder: the month's budget rows
        # are locked (by id) until this claim commits.
        list(SmsBudget.objects.select_for_update()
             .filter(organisation_id__in=orgs, month=timezone.localdate(now).replace(day=1))
             .order_by("pk").values_list("pk", flat=True))
        left = budget_left(orgs, now)
        broke = {org for org, amount in left.items() if amount is not None and amount < price}
        if broke:  # still said in the report: how many wait for each of them
            waiting = (queued.filter(organisation_id__in=broke)
                       .values("organisation_id").annotate(n=Count("pk"))
                       .values_list("organisation_id", "n"))
            report.held_by_organisation.update(dict(waiting))
        qs = (OutboundMessage.objects
              .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=stale), status=MessageStatus.QUEUED)
              .exclude(organisation_id__in=broke)
              .order_by("created_at", "pk"))
        if only is not None:
            qs = qs.filter(only)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.values_list("pk", "organisation_id", "person_id", "purpose", "phone",
                                   "text", "parts")[:limit])
        person_ids = {r[2] for r in rows if r[2] is not None}
        opted: dict[int, bool] = {}
        for chunk in _chunks(sorted(person_ids)):
            opted.update(SmsPreference.objects.filter(person_id__in=chunk)
                         .values_list("person_id", "opt_in"))
        claimed, cancelled, held = [], [], []
        for pk, org, person, purpose, phone, text, parts in rows:
            if not policy.may_send(purpose, has_person=person is not None,
                                   opted_in=opted.get(person)):
                cancelled.append(pk)
                continue
            if left.get(org) is not None:
                cost = parts * price
                if cost > left[org]:
                    held.append(pk)
                    report.held_by_organisation[org] = report.held_by_organisation.get(org, 0) + 1
                    continue
                left[org] -= cost
            claimed.append(OutgoingSms(pk, phone, text, parts))
        for chunk in _chunks(cancelled):
            OutboundMessage.objects.filter(pk__in=chunk).update(
                status=MessageStatus.CANCELLED, status_at=now, error=OPTED_OUT)
        for chunk in _chunks(held):
            OutboundMessage.objects.filter(pk__in=chunk).exclude(error=OVER_BUDGET).update(
                error=OVER_BUDGET, sent_at=None)
        for chunk in _chunks([m.message_id for m in claimed]):
            OutboundMessage.objects.filter(pk__in=chunk).update(sent_at=now, error="")
    report.claimed, report.cancelled = len(claimed), len(cancelled)
    report.held = sum(report.held_by_organisation.values())
    return claimed


def _record(results: list[SendResult], backend: str, now: datetime, report: SendReport) -> None:
    """The gateway's answers, in one statement run for every message (only a message still
    queued changes: a concurrent cancellation wins)."""
    q = connection.ops.quote_name
    at = connection.ops.adapt_datetimefield_value(now)
    table = q(OutboundMessage._meta.db_table)
    sent, retry, failed = [], [], []
    for r in results:
        if r.accepted:
            sent.append((MessageStatus.SENT.value, r.gateway_id[:100], r.cost, at, at,
                         r.message_id, MessageStatus.QUEUED.value))
        elif r.retry:
            retry.append((r.error[:200], r.message_id, MessageStatus.QUEUED.value))
        else:
            failed.append((MessageStatus.FAILED.value, r.error[:200], at, r.message_id,
                           MessageStatus.QUEUED.value))
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        if sent:
            cursor.executemany(
                f"UPDATE {table} SET {q('status')} = %s, {q('gateway_id')} = %s, "  # noqa: S608
                f"{q('cost')} = %s, {q('error')} = '', {q('sent_at')} = %s, "
                f"{q('status_at')} = %s WHERE {q('id')} = %s AND {q('status')} = %s", sent)
        if retry:
            cursor.executemany(
                f"UPDATE {table} SET {q('sent_at')} = NULL, {q('error')} = %s "  # noqa: S608
                f"WHERE {q('id')} = %s AND {q('status')} = %s", retry)
        if failed:
            cursor.executemany(
                f"UPDATE {table} SET {q('status')} = %s, {q('error')} = %s, "  # noqa: S608
                f"{q('status_at')} = %s WHERE {q('id')} = %s AND {q('status')} = %s", failed)
        report.sent += len(sent)
        report.retry += len(retry)
        report.failed += len(failed)
        report.reports_applied += _apply_pending({r.gateway_id for r in results if r.accepted
                                                  and r.gateway_id}, now)


def _release(ids: list[int], error: str) -> None:
    with transaction.atomic(durable=True):
        for chunk in _chunks(ids):
            OutboundMessage.objects.filter(pk__in=chunk, status=MessageStatus.QUEUED).update(
                sent_at=None, error=error[:200])


def sms_send_queued(*, limit: int = 1000, now: datetime | None = None,
                    backend: SmsBackend | None = None,
                    sleep: Callable[[float], None] = time.sleep,
                    clock: Callable[[], float] = time.monotonic,
                    only: Q | None = None) -> SendReport:
    """Send up to `limit` queued messages through the configured backend (see the module's
    docstring). Safe to run from several processes at once; needs no worker. `only` limits the
    claim to some messages (a caisse manager's button sends her caisse's, not the network's)."""
    now = now or timezone.now()
    backend = backend or _get_backend()
    report = SendReport(backend=backend.name)
    report.reports_applied += reports_sweep(now=now)
    batch = _claim(limit, now, report, only)
    rate = conf.sms_rate(backend.name)
    size = max(1, int(rate)) if rate else CHUNK * 4
    started = clock()
    done = 0
    for i in range(0, len(batch), size):
        chunk = batch[i:i + size]
        if rate:
            # Throttle: message n may leave at started + n / rate.
            wait = started + done / rate - clock()
            if wait > 0:
                sleep(wait)
        try:
            results = backend.send(chunk)
        except SmsBackendError as exc:
            report.error = str(exc)
            _release([m.message_id for m in batch[i:]], str(exc))
            break
        _record(results, backend.name, now, report)
        answered = {r.message_id for r in results}
        missing = [m.message_id for m in chunk if m.message_id not in answered]
        if missing:
            _release(missing, "no answer from the gateway")
            report.retry += len(missing)
        done += len(chunk)
    return report
