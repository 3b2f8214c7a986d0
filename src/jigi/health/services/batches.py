"""Payment batches to providers (third-party payment, tiers payant).

A batch gathers the approved, unpaid claims of one provider of one mutual, approved up to a
date. Its life, each step one transaction with its ledger entry in the mutual's book:

    prepare (open) -> approve: 601 care paid D / 401 providers C (the mutual owes the provider)
                   -> pay:     401 providers D / 57 cash or 52 bank C; the claims become paid
    open or approved -> cancel: an approved batch's entry is reversed (never edited); its
                        claims go back to approved, free for another batch.

Amounts are the claims' mutual shares, whole francs; the provider's code is the sub-ledger of
the 601 and 401 lines, so a provider's account can be listed from the book.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import Conflict, NotFound
from jigi.core.lookup import is_id
from jigi.core.numbering import next_number
from jigi.health.models import Claim, ClaimEvent, ClaimStatus, PaymentBatch, Provider
from jigi.health.selectors_claims import MANAGER_ROLES, MUTUAL_STAFF_ROLES
from jigi.health.services.claims import invalid, require_mutual_staff
from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post, entry_reverse
from jigi.orgs.models import Unit

OPEN, APPROVED, PAID, CANCELLED = "open", "approved", "paid", "cancelled"
CARE_PAID, PROVIDERS, CASH, BANK = "601", "401", "57", "52"
PAY_ACCOUNTS = {CASH, BANK}


def _book(mutual: Unit) -> Book:
    book = Book.objects.select_related("organisation", "unit").filter(unit=mutual).first()
    if book is None:
        raise Conflict("no_book", _("This mutual has no book of accounts."))
    return book


def _lock(batch: PaymentBatch) -> PaymentBatch:
    # Only the batch row: PostgreSQL cannot lock the nullable side of the entry's outer join.
    return PaymentBatch.objects.select_for_update(of=("self",)).select_related(
        "mutual", "provider", "approval_entry").get(pk=batch.pk)


def _day(value: Any, field: str) -> date:
    today = timezone.localdate()
    if value is None:
        return today
    if not isinstance(value, date) or isinstance(value, datetime):
        raise invalid({field: _("Enter a valid date (YYYY-MM-DD).")})
    if value > today:
        raise invalid({field: _("This date cannot be in the future.")})
    return value


def batch_prepare(*, acting_user, mutual: Unit, provider: Provider | None, through: Any = None,
                  claim_ids: Sequence[Any] | None = None) -> PaymentBatch:
    """Gather a provider's approved, unpaid claims approved up to `through` (today by default)
    into an open batch, or exactly `claim_ids` when given (each must be such a claim of this
    mutual and provider: another mutual's claim is not found). Nothing to pay is a 409."""
    require_mutual_staff(acting_user, mutual, MUTUAL_STAFF_ROLES)
    through = _day(through, "through")
    if provider is None or provider.organisation_id != mutual.organisation_id:
        raise invalid({"provider_id": _("Unknown provider.")})
    end = timezone.make_aware(datetime.combine(through, time.max))
    with transaction.atomic():
        claims = Claim.objects.select_for_update().filter(
            mutual=mutual, provider=provider, status=ClaimStatus.APPROVED, batch__isnull=True,
            decided_at__lte=end)
        if claim_ids is not None:
            ids = [pk for pk in claim_ids if is_id(pk)]
            if not ids or len(ids) != len(claim_ids) or len(set(ids)) != len(ids):
                raise invalid({"claim_ids": _("Give the claims to pay, each once.")})
            claims = claims.filter(pk__in=ids)
        chosen = list(claims.order_by("pk").values_list("pk", "mutual_share"))
        if claim_ids is not None and len(chosen) != len(claim_ids):
            raise NotFound("claim_not_found",
                           _("A claim is not an approved, unpaid claim of this provider."),
                           {"claim_ids": _("Not found among the claims to pay.")})
        total = sum(share for _pk, share in chosen)
        if total <= 0:
            raise Conflict("nothing_to_pay",
                           _("No approved claim of this provider is waiting for payment."))
        year = timezone.localdate().year
        n = next_number(f"health.batch:{mutual.pk}", year)
        batch = PaymentBatch.objects.create(
            mutual=mutual, provider=provider, number=f"LP{year}-{n:04d}", period_end=through,
            total=total, status=OPEN, created_by=acting_user)
        Claim.objects.filter(pk__in=[pk for pk, _s in chosen]).update(batch=batch)
        audit_log(actor=acting_user, event_type="health.batch_prepared", subject=batch,
                  unit=mutual, after={"number": batch.number, "provider": provider.code,
                                      "claims": len(chosen), "total": total})
    return batch


def batch_approve(*, acting_user, batch: PaymentBatch, on: Any = None) -> PaymentBatch:
    """Approve a prepared batch: the mutual now owes the provider (601 D / 401 C)."""
    require_mutual_staff(acting_user, batch.mutual, MANAGER_ROLES)
    on = _day(on, "value_date")
    with transaction.atomic():
        locked = _lock(batch)
        if locked.status != OPEN:
            raise Conflict("batch_status", _("Only a prepared batch can be approved."),
                           {"status": _("Not prepared.")})
        _check_total(locked)
        code = locked.provider.code
        locked.approval_entry = entry_post(
            book=_book(locked.mutual), value_date=on, acting_user=acting_user, audit=False,
            lines=[LineSpec(CARE_PAID, "D", locked.total, code),
                   LineSpec(PROVIDERS, "C", locked.total, code)],
            description=f"Prestations {locked.provider.name} lot {locked.number}"[:255],
            source_type="health.batch", source_id=locked.number)
        locked.status, locked.approved_at, locked.approved_by = (
            APPROVED, timezone.now(), acting_user)
        locked.save(update_fields=["approval_entry", "status", "approved_at", "approved_by"])
        audit_log(actor=acting_user, event_type="health.batch_approved", subject=locked,
                  unit=locked.mutual, after={"number": locked.number, "total": locked.total,
                                             "entry": locked.approval_entry.pk})
    return locked


def _check_total(batch: PaymentBatch) -> None:
    # The claims' shares cannot change once approved; a mismatch means someone edited rows
    # by hand, and paying it would hide the difference.
    total = Claim.objects.filter(batch=batch).aggregate(t=Sum("mutual_share"))["t"] or 0
    if total != batch.total:
        raise Conflict("batch_total_mismatch",
                       _("The batch total no longer matches its claims; cancel and prepare "
                         "it again."))


def batch_pay(*, acting_user, batch: PaymentBatch, paid_from: str = CASH, on: Any = None,
              note: str = "") -> PaymentBatch:
    """Pay an approved batch from the mutual's cash (57) or bank (52): 401 D / 57 or 52 C;
    its claims become paid (one ClaimEvent each)."""
    require_mutual_staff(acting_user, batch.mutual, MANAGER_ROLES)
    if paid_from not in PAY_ACCOUNTS:
        raise invalid({"paid_from": _("Cash (57) or bank (52).")})
    on = _day(on, "value_date")
    note = note.strip()[:200] if isinstance(note, str) else ""
    with transaction.atomic():
        locked = _lock(batch)
        if locked.status != APPROVED:
            raise Conflict("batch_status", _("Only an approved batch can be paid."),
                           {"status": _("Not approved.")})
        if locked.approval_entry is not None and on < locked.approval_entry.value_date:
            raise invalid({"value_date": _("A batch is paid on or after its approval.")})
        _check_total(locked)
        code = locked.provider.code
        locked.payment_entry = entry_post(
            book=_book(locked.mutual), value_date=on, acting_user=acting_user, audit=False,
            lines=[LineSpec(PROVIDERS, "D", locked.total, code),
                   LineSpec(paid_from, "C", locked.total, code)],
            description=f"Paiement {locked.provider.name} lot {locked.number}"[:255],
            source_type="health.batch", source_id=locked.number)
        locked.status, locked.paid_on, locked.paid_from, locked.paid_by = (
            PAID, on, paid_from, acting_user)
        locked.save(update_fields=["payment_entry", "status", "paid_on", "paid_from",
                                   "paid_by"])
        claim_ids = list(Claim.objects.select_for_update().filter(
            batch=locked, status=ClaimStatus.APPROVED).values_list("pk", flat=True))
        Claim.objects.filter(pk__in=claim_ids).update(status=ClaimStatus.PAID)
        ClaimEvent.objects.bulk_create([
            ClaimEvent(claim_id=pk, by=acting_user, from_status=ClaimStatus.APPROVED,
                       to_status=ClaimStatus.PAID,
                       note=f"{locked.number} {note}".strip()[:500]) for pk in claim_ids])
        audit_log(actor=acting_user, event_type="health.batch_paid", subject=locked,
                  unit=locked.mutual, after={"number": locked.number, "total": locked.total,
                                             "paid_from": paid_from, "claims": len(claim_ids),
                                             "entry": locked.payment_entry.pk})
    return locked


def batch_cancel(*, acting_user, batch: PaymentBatch, reason: str) -> PaymentBatch:
    """Cancel a batch not yet paid: an approved batch's entry is reversed (a correction is a
    reversal), and its claims return to the approved claims waiting for a batch."""
    require_mutual_staff(acting_user, batch.mutual, MANAGER_ROLES)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise invalid({"reason": _("Say why this batch is cancelled.")})
    if len(reason) > 200 or not reason.isprintable():
        raise invalid({"reason": _("At most 200 printable characters.")})
    with transaction.atomic():
        locked = _lock(batch)
        if locked.status not in (OPEN, APPROVED):
            raise Conflict("batch_status",
                           _("A paid or cancelled batch cannot be cancelled."),
                           {"status": _("Paid or already cancelled.")})
        reversal = None
        if locked.status == APPROVED and locked.approval_entry is not None:
            reversal = entry_reverse(entry=locked.approval_entry,
                                     reason=f"Annulation lot {locked.number}: {reason}",
                                     acting_user=acting_user)
        freed = Claim.objects.filter(batch=locked).update(batch=None)
        locked.status, locked.cancelled_at, locked.cancelled_by, locked.cancel_reason = (
            CANCELLED, timezone.now(), acting_user, reason)
        locked.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
        audit_log(actor=acting_user, event_type="health.batch_cancelled", subject=locked,
                  unit=locked.mutual, after={"number": locked.number, "reason": reason,
                                             "claims": freed,
                                             "reversal": reversal.pk if reversal else None})
    return locked
