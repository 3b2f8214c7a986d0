"""MTC dues: the accrual run, payments with receipts, reversals, waivers (maker-checker), and
each member's standing recomputed after every change (movement.standing).

The books (the movement's one book at its root unit, MOVEMENT chart):
- accrual: 411 (dues receivable) debit / 756 (dues income) credit, one entry per section and
  run; what a member had paid in advance settles her new charges in the same entry
  (419 debit / 411 credit);
- payment: the channel's account (57 cash, 53 mobile money, 52 bank) debit / 411 credit for
  what pays open charges (oldest first), 419 credit for the rest (paid in advance);
- reversal: the mirror payment (negative amount) and entry; the charges it had paid re-open;
- waiver approved: 658 (dues forgiven) debit / 411 credit, spread over the oldest open charges.

One rule keeps the dues and the books in step: a member's charges are always the allocation,
oldest first, of all the money she paid (payments minus reversals) over what each charge can
take (amount minus waived); what is left is her advance (419). Every change settles the member
again from that total (`_settle`) and posts the difference.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import SmsPreference
from jigi.channels.outbox import message_queue
from jigi.core.audit import audit_log
from jigi.core.cleaning import (
    BACKDATE_DAYS,
    clean_amount,
    clean_date,
    clean_text,
    finish,
    invalid,
    service_transaction,
    today,
)
from jigi.core.errors import ApplicationError, Forbidden
from jigi.core.numbering import next_number
from jigi.ledger.models import JournalEntry
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.movement import standing as rules
from jigi.movement.models import (
    DuesAllocation,
    DuesCharge,
    DuesPayment,
    DuesRate,
    DuesWaiver,
    MemberProfile,
    PaymentChannel,
    WaiverStatus,
)
from jigi.movement.services._common import (
    ADMIN_ROLES,
    CHANNEL_ACCOUNT,
    DUES_ADVANCE,
    DUES_INCOME,
    DUES_RECEIVABLE,
    ORGANISER_ROLES,
    WAIVED,
    book_of,
    conflict,
    require_role,
)
from jigi.orgs.models import Organisation, Unit, UnitKind
from jigi.people.models import MembershipStatus
from jigi.savings.idempotency import IdempotencyClaim

DEFAULT_GRACE_MONTHS = 3


# --- rates ----------------------------------------------------------------------------------


class Rates:
    """The organisation's dues rates per group, oldest first (read once per run)."""

    def __init__(self, organisation_id: int) -> None:
        self.by_group: dict[str, list[DuesRate]] = defaultdict(list)
        for r in DuesRate.objects.filter(organisation_id=organisation_id).order_by("valid_from"):
            self.by_group[r.group].append(r)

    def at(self, group: str, day: date) -> DuesRate | None:
        """The rate in force on `day` (the latest valid_from not after it)."""
        found = None
        for r in self.by_group.get(group, []):
            if r.valid_from <= day:
                found = r
        return found

    def first(self, group: str) -> DuesRate | None:
        rows = self.by_group.get(group)
        return rows[0] if rows else None

    def grace(self, group: str, day: date) -> int:
        rate = self.at(group, day) or self.first(group)
        return rate.grace_months if rate is not None else DEFAULT_GRACE_MONTHS


# --- settling and standing ------------------------------------------------------------------


def _charges(profile: MemberProfile) -> list[DuesCharge]:
    return list(DuesCharge.objects.filter(profile=profile).order_by("period_start"))


def _money(profile: MemberProfile) -> int:
    """What she paid, reversals deducted (a reversal is a negative payment)."""
    return DuesPayment.objects.filter(profile=profile).aggregate(s=Sum("amount"))["s"] or 0


@dataclass
class Settled:
    charges: list[DuesCharge]
    paid_change: int  # change of what is paid on charges (credit 411 when positive)
    advance_change: int  # change of the advance (credit 419 when positive)
    deltas: list[tuple[DuesCharge, int]] = field(default_factory=list)


def _settle(profile: MemberProfile, *, extra: int = 0) -> Settled:
    """Allocate all her money (and `extra` francs of a payment or reversal not saved yet)
    over her charges again, oldest first; saves the changed charges and her advance. The
    profile is locked by the caller."""
    charges = _charges(profile)
    money = _money(profile) + extra
    parts, left = rules.allocate([c.amount - c.waived for c in charges], money)
    deltas = []
    for c, part in zip(charges, parts, strict=True):
        if part != c.paid:
            deltas.append((c, part - c.paid))
            c.paid = part
            c.save(update_fields=["paid"])
    advance_change = left - profile.advance
    profile.advance = left
    return Settled(charges, sum(d for _c, d in deltas), advance_change, deltas)


def standing_refresh(profile: MemberProfile, as_of: date, *, charges: list[DuesCharge] | None
                     = None, rates: Rates | None = None, saved: tuple | None = None
                     ) -> bool:
    """Recompute her standing, arrears and owing-since and save them (with her advance and a
    new version). With `saved` (what the row held: standing, arrears, owing_since, advance)
    nothing is written when nothing changed (the daily run over every member). Returns
    whether anything changed."""
    charges = _charges(profile) if charges is None else charges
    rates = rates or Rates(profile.section.organisation_id)
    result = rules.standing_of(
        [rules.Charge(c.period_start, c.period_end, c.open_amount) for c in charges],
        as_of=as_of, grace_months=rates.grace(profile.group, as_of), exempt=profile.dues_exempt)
    profile.standing, profile.arrears, profile.owing_since = (result.standing, result.arrears,
                                                              result.owing_since)
    now = (profile.standing, profile.arrears, profile.owing_since, profile.advance)
    if saved is not None and now == saved:
        return False
    profile.version += 1
    profile.save(update_fields=["standing", "arrears", "owing_since", "advance", "version"])
    return True


def _lock(profile: MemberProfile) -> MemberProfile:
    return (MemberProfile.objects.select_for_update(of=("self",))
            .select_related("membership", "person", "section").get(pk=profile.pk))


def _lines(signed: dict[str, int], subledger: str) -> list[LineSpec]:
    """Lines from signed amounts per account (positive: credit, negative: debit)."""
    if sum(signed.values()) != 0:
        raise AssertionError("unbalanced dues entry")
    return [LineSpec(code, "C" if amount > 0 else "D", abs(amount), subledger)
            for code, amount in signed.items() if amount]


def _allocate_rows(payment: DuesPayment, deltas: list[tuple[DuesCharge, int]]) -> None:
    DuesAllocation.objects.bulk_create([DuesAllocation(payment=payment, charge=c, amount=d)
                                        for c, d in deltas if d])


# --- accrual --------------------------------------------------------------------------------


@dataclass
class AccrualRun:
    as_of: date
    charges: int = 0
    amount: int = 0
    advance_used: int = 0
    entries: int = 0
    members: int = 0
    sections: dict[str, int] = field(default_factory=dict)


def _new_periods(profile: MemberProfile, last: date | None, rates: Rates, as_of: date
                 ) -> list[tuple[date, date, DuesRate]]:
    first = rates.first(profile.group)
    if first is None:
        return []
    membership = profile.membership
    through = as_of
    if membership.status == MembershipStatus.ENDED and membership.end_date:
        through = min(through, membership.end_date)
    anchor = max(membership.start_date, first.valid_from)
    out = []
    # Periods follow the frequency of the rate in force at the anchor (monthly by default).
    months = rules.FREQUENCY_MONTHS.get((rates.at(profile.group, anchor) or first).frequency, 1)
    for start, end in rules.periods(anchor, months, through, after=last):
        rate = rates.at(profile.group, start)
        if rate is not None:
            out.append((start, end, rate))
    return out


def dues_accrue(*, organisation: Organisation, as_of: date, acting_user=None,
                sections: list[Unit] | None = None) -> AccrualRun:
    """Make every member's missing charges up to `as_of` (periods from her start date, or the
    first rate's valid_from if later; the rate in force at each period's start; exempt
    members skipped, an ended membership charged up to its end), settle them from her advance
    first, post one entry per section (411/756, and 419/411 for the advance used), and
    refresh every member's standing. A second run for the same day adds nothing. Runs in the
    caller's transaction (close of business) or its own."""
    run = AccrualRun(as_of=as_of)
    rates = Rates(organisation.pk)
    with transaction.atomic():
        book = book_of(organisation)
        units = sections if sections is not None else list(
            Unit.objects.filter(organisation=organisation, kind=UnitKind.SECTION).order_by("pk"))
        for section in units:
            _accrue_section(section, as_of, rates, book, acting_user, run)
    return run


def _accrue_section(section: Unit, as_of: date, rates: Rates, book, user,
                    run: AccrualRun) -> None:
    profiles = list(MemberProfile.objects.select_for_update(of=("self",))
                    .select_related("membership", "section")
                    .filter(section=section).order_by("pk"))
    if not profiles:
        return
    last = dict(DuesCharge.objects.filter(profile__section=section).values("profile_id")
                .annotate(m=Max("period_start")).values_list("profile_id", "m"))
    planned: list[tuple[MemberProfile, list[tuple[date, date, DuesRate]]]] = []
    total = used = 0
    for p in profiles:
        if p.dues_exempt:
            continue
        new = [x for x in _new_periods(p, last.get(p.pk), rates, as_of) if x[2].amount > 0]
        if new:
            planned.append((p, new))
            amount = sum(r.amount for _s, _e, r in new)
            total += amount
            used += min(p.advance, amount)
    entry: JournalEntry | None = None
    if total:
        entry = entry_post(
            book=book, value_date=as_of, acting_user=user, audit=False,
            lines=_lines({DUES_RECEIVABLE: used - total, DUES_INCOME: total,
                          DUES_ADVANCE: -used}, section.code),
            description=gettext("Dues of section %(code)s up to %(day)s")
            % {"code": section.code, "day": as_of.isoformat()},
            source_type="movement.accrual", source_id=f"{section.code}:{as_of.isoformat()}")
        run.entries += 1
        DuesCharge.objects.bulk_create([
            DuesCharge(profile=p, period_start=s, period_end=e, amount=r.amount, rate=r,
                       journal_entry=entry) for p, new in planned for s, e, r in new])
        run.charges += sum(len(new) for _p, new in planned)
        run.amount += total
        run.advance_used += used
        run.sections[section.code] = total
    # Every member's charges in one read (the standing of all of them moves with time).
    by_profile: dict[int, list[DuesCharge]] = defaultdict(list)
    for c in DuesCharge.objects.filter(profile__section=section).order_by("period_start"):
        by_profile[c.profile_id].append(c)
    with_new = {q.pk for q, _n in planned}
    for p in profiles:
        saved = (p.standing, p.arrears, p.owing_since, p.advance)
        charges = by_profile.get(p.pk, [])
        if p.advance and p.pk in with_new:
            settled = _settle(p)
            charges = settled.charges
            payment = (DuesPayment.objects.filter(profile=p, amount__gt=0,
                                                  reversed_by__isnull=True)
                       .order_by("-pk").first())
            if payment is not None:
                _allocate_rows(payment, settled.deltas)
        if standing_refresh(p, as_of, charges=charges, rates=rates, saved=saved):
            run.members += 1


# --- payments -------------------------------------------------------------------------------


def _receipt_number(organisation: Organisation, on: date) -> str:
    """Gapless per movement and year (the counter row stays locked until the payment commits;
    a payment rolled back gives its number back)."""
    n = next_number(f"movement-receipt:{organisation.pk}", on.year)
    return f"{organisation.code}-{on.year}-{n:06d}"


def _francs(amount: int) -> str:
    return f"{amount:,}".replace(",", " ")


def _sms_receipt(profile: MemberProfile, payment: DuesPayment) -> None:
    """A short receipt by SMS when she has a phone, in Bambara if that is her SMS language (her
    recorded SMS choice, else her language), French otherwise. Queued in the payment's
    transaction; the sender sends it only if she said yes to SMS (channels.policy)."""
    person = profile.person
    if not person.phone:
        return
    chosen = (SmsPreference.objects.filter(person=person).values_list("language", flat=True)
              .first()) or person.language
    language = "bm" if chosen == "bm" else "fr"
    with translation.override(language):
        if payment.amount > 0:
            text = gettext("MTC: receipt %(receipt)s, %(amount)s F dues received on %(day)s. "
                           "Owed: %(owed)s F. Thank you.")
        else:
            text = gettext("MTC: payment %(receipt)s of %(amount)s F cancelled on %(day)s. "
                           "Owed: %(owed)s F.")
    text = text % {"receipt": (payment.reverses.receipt_number if payment.reverses_id
                               else payment.receipt_number),
                   "amount": _francs(abs(payment.amount)),
                   "day": payment.paid_on.strftime("%d/%m/%Y"),
                   "owed": _francs(profile.arrears)}
    message_queue(organisation=profile.section.organisation, phone=person.phone, text=text,
                  purpose="dues_receipt", ref=f"movement.duespayment:{payment.pk}",
                  person=person, language=language, unit_id=profile.section_id)


@dataclass(frozen=True)
class Payment:
    payment: DuesPayment
    profile: MemberProfile


def dues_pay(*, acting_user, profile: MemberProfile, amount: Any, channel: str,
             paid_on: date | None = None, reference: str = "",
             idempotency: IdempotencyClaim | None = None) -> Payment:
    """Dues received from a member (an organiser of her section): allocated to her oldest open
    charges, the rest held as an advance; a numbered receipt, the entry, her new standing and
    an SMS receipt, all in one transaction. The member is locked, so two payments at once
    never lose an update."""
    require_role(acting_user, profile.section, ORGANISER_ROLES, not_found=_("Member not found."))
    errors: dict[str, Any] = {}
    try:
        amount = clean_amount(amount)
    except ApplicationError as exc:  # collected with the other fields' errors
        errors.update(exc.fields or {"amount": exc.message})
    if channel not in PaymentChannel.values:
        errors["channel"] = _("Choose one of the allowed values.")
    try:
        paid_on = clean_date(paid_on, "paid_on")
    except ApplicationError as exc:
        errors.update(exc.fields)
    try:
        reference = clean_text(reference, "reference", max_len=64)
    except ApplicationError as exc:
        errors.update(exc.fields)
    if errors:
        raise invalid(errors)
    with service_transaction(idempotency):
        locked = _lock(profile)
        payment = _pay_locked(locked, acting_user=acting_user, amount=amount, channel=channel,
                              paid_on=paid_on, reference=reference,
                              idempotency_key=idempotency.key if idempotency else "")
        return finish(idempotency, Payment(payment, locked))


def dues_pay_in_transaction(*, acting_user, profile_id: int, amount: int, on: date,
                            reference: str) -> Payment:
    """Dues collected by mobile money, INSIDE the caller's transaction (channels.momo posts
    them in the same transaction as the payment's confirmation): the member locked, then
    exactly what `dues_pay` does for channel mobile_money. Roles were checked when the
    collection was requested; `reference` (the order id) is the external reference."""
    locked = _lock(MemberProfile(pk=profile_id))
    payment = _pay_locked(locked, acting_user=acting_user, amount=amount,
                          channel=PaymentChannel.MOBILE_MONEY, paid_on=on,
                          reference=reference, idempotency_key="")
    return Payment(payment, locked)


def _pay_locked(locked: MemberProfile, *, acting_user, amount: int, channel: str,
                paid_on: date, reference: str, idempotency_key: str) -> DuesPayment:
    """Inside the caller's transaction, with the member locked."""
    if locked.membership.status == MembershipStatus.ENDED:
        raise conflict("membership_ended", _("This membership has ended."))
    organisation = locked.section.organisation
    receipt = _receipt_number(organisation, paid_on)
    payment = DuesPayment(profile=locked, paid_on=paid_on, amount=amount, channel=channel,
                          receipt_number=receipt, external_ref=reference,
                          idempotency_key=idempotency_key,
                          created_by=acting_user)
    # The payment row needs its entry, and the entry the allocation: settle first with
    # the new money counted ahead.
    settled = _settle(locked, extra=amount)
    entry = entry_post(
        book=book_of(organisation), value_date=paid_on, acting_user=acting_user,
        audit=False, source_type="movement.dues_payment", source_id=receipt,
        lines=_lines({CHANNEL_ACCOUNT[channel]: -amount,
                      DUES_RECEIVABLE: settled.paid_change,
                      DUES_ADVANCE: settled.advance_change}, locked.membership.number),
        description=(gettext("Dues of %(number)s, receipt %(receipt)s")
                     % {"number": locked.membership.number, "receipt": receipt})[:255])
    payment.journal_entry = entry
    payment.advance_part = settled.advance_change
    payment.save()
    _allocate_rows(payment, settled.deltas)
    standing_refresh(locked, today(), charges=settled.charges)
    _sms_receipt(locked, payment)
    audit_log(actor=acting_user, event_type="movement.dues_paid", subject=payment,
              after={"receipt": receipt, "amount": amount, "channel": channel,
                     "advance": settled.advance_change, "standing": locked.standing,
                     "arrears": locked.arrears}, unit=locked.section)
    return payment


def dues_reverse(*, acting_user, payment: DuesPayment, reason: str, on: date | None = None,
                 idempotency: IdempotencyClaim | None = None) -> Payment:
    """Cancel a payment (a mistake, a counterfeit note): a mirror payment with a negative
    amount and its own receipt number, the mirror entry, the charges it paid re-opened (the
    member is settled again from her remaining money). Once per payment; a reversal is never
    reversed."""
    profile = payment.profile
    require_role(acting_user, profile.section, ORGANISER_ROLES,
                 not_found=_("Payment not found."))
    reason = clean_text(reason, "reason", max_len=200, required=True)
    on = clean_date(on, "on", earliest=min(payment.paid_on, today()))
    with service_transaction(idempotency):
        locked = _lock(profile)
        original = DuesPayment.objects.select_for_update().get(pk=payment.pk)
        if original.reverses_id is not None:
            raise conflict("is_reversal", _("A reversal cannot itself be reversed."))
        if DuesPayment.objects.filter(reverses=original).exists():
            raise conflict("already_reversed", _("This payment is already reversed."))
        organisation = locked.section.organisation
        receipt = _receipt_number(organisation, on)
        settled = _settle(locked, extra=-original.amount)
        entry = entry_post(
            book=book_of(organisation), value_date=on, acting_user=acting_user, audit=False,
            source_type="movement.dues_payment", source_id=receipt,
            reversal_of=original.journal_entry,
            lines=_lines({CHANNEL_ACCOUNT[original.channel]: original.amount,
                          DUES_RECEIVABLE: settled.paid_change,
                          DUES_ADVANCE: settled.advance_change}, locked.membership.number),
            description=(gettext("Reversal of dues receipt %(receipt)s: %(reason)s")
                         % {"receipt": original.receipt_number, "reason": reason})[:255])
        reversal = DuesPayment.objects.create(
            profile=locked, paid_on=on, amount=-original.amount, channel=original.channel,
            receipt_number=receipt, journal_entry=entry, advance_part=settled.advance_change,
            external_ref=f"reversal:{original.receipt_number}"[:64], reverses=original,
            idempotency_key=idempotency.key if idempotency else "", created_by=acting_user)
        _allocate_rows(reversal, settled.deltas)
        standing_refresh(locked, today(), charges=settled.charges)
        _sms_receipt(locked, reversal)
        audit_log(actor=acting_user, event_type="movement.dues_reversed", subject=original,
                  after={"reversal": receipt, "reason": reason, "amount": original.amount,
                         "standing": locked.standing, "arrears": locked.arrears},
                  unit=locked.section)
        return finish(idempotency, Payment(reversal, locked))


# --- waivers --------------------------------------------------------------------------------


def waiver_request(*, acting_user, profile: MemberProfile, amount: Any, reason: str
                   ) -> DuesWaiver:
    """An organiser asks to forgive part of a member's arrears (illness, no work, a minor)."""
    require_role(acting_user, profile.section, ORGANISER_ROLES, not_found=_("Member not found."))
    errors: dict[str, Any] = {}
    try:
        amount = clean_amount(amount)
    except ApplicationError as exc:
        errors.update(exc.fields)
    try:
        reason = clean_text(reason, "reason", max_len=300, required=True)
    except ApplicationError as exc:
        errors.update(exc.fields)
    if errors:
        raise invalid(errors)
    with service_transaction():
        locked = _lock(profile)
        if amount > locked.arrears:
            raise invalid({"amount": _("More than she owes (%(owed)s F).")
                           % {"owed": _francs(locked.arrears)}})
        if DuesWaiver.objects.filter(profile=locked, status=WaiverStatus.REQUESTED).exists():
            raise conflict("waiver_pending", _("A waiver request is already waiting for a "
                                               "decision."), "amount")
        waiver = DuesWaiver.objects.create(profile=locked, amount=amount, reason=reason,
                                           requested_by=acting_user)
        audit_log(actor=acting_user, event_type="movement.waiver_requested", subject=waiver,
                  after={"amount": amount, "reason": reason}, unit=locked.section)
    return waiver


def waiver_decide(*, acting_user, waiver: DuesWaiver, approve: bool, note: str = ""
                  ) -> DuesWaiver:
    """A movement administrator who did not make the request approves it (658/411 over the
    oldest open charges) or rejects it."""
    profile = waiver.profile
    require_role(acting_user, profile.section, ADMIN_ROLES, not_found=_("Waiver not found."))
    if waiver.requested_by_id == getattr(acting_user, "pk", None):
        raise Forbidden("maker_checker", _("Another administrator must decide on your own "
                                           "request."))
    note = clean_text(note, "note", max_len=300)
    if not isinstance(approve, bool):
        raise invalid({"approve": _("Answer yes or no.")})
    with service_transaction():
        locked = _lock(profile)
        w = DuesWaiver.objects.select_for_update().get(pk=waiver.pk)
        if w.status != WaiverStatus.REQUESTED:
            raise conflict("waiver_decided", _("This request was already decided."))
        w.decided_by, w.decided_at, w.decision_note = acting_user, timezone.now(), note
        if approve:
            charges = [c for c in _charges(locked) if c.open_amount > 0]
            open_total = sum(c.open_amount for c in charges)
            if w.amount > open_total:
                raise conflict("waiver_too_large",
                               _("She now owes less than this waiver (%(owed)s F).")
                               % {"owed": _francs(open_total)}, "amount")
            for c, part in zip(charges, rules.spread([c.open_amount for c in charges],
                                                     w.amount), strict=True):
                if part:
                    c.waived += part
                    c.save(update_fields=["waived"])
            w.journal_entry = entry_post(
                book=book_of(locked.section.organisation), value_date=today(),
                acting_user=acting_user, audit=False, source_type="movement.waiver",
                source_id=str(w.pk),
                lines=_lines({WAIVED: -w.amount, DUES_RECEIVABLE: w.amount},
                             locked.membership.number),
                description=(gettext("Dues of %(number)s forgiven: %(reason)s")
                             % {"number": locked.membership.number, "reason": w.reason})[:255])
            w.status = WaiverStatus.APPROVED
        else:
            w.status = WaiverStatus.REJECTED
        w.save()
        standing_refresh(locked, today())
        audit_log(actor=acting_user, event_type=f"movement.waiver_{w.status}", subject=w,
                  after={"amount": w.amount, "note": note, "standing": locked.standing,
                         "arrears": locked.arrears}, unit=locked.section)
    return w


__all__ = [
    "BACKDATE_DAYS", "AccrualRun", "Payment", "Rates", "dues_accrue", "dues_pay",
    "dues_reverse", "standing_refresh", "waiver_decide", "waiver_request",
]
