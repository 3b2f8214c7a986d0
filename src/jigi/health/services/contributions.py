"""Contributions: the schedule of dues, payments (cash at the mutual, a transfer from Kondo
savings, mobile money, a group partner), receipts, reversals, standing orders, the daily
recognition of advances, and arrears that suspend and reinstate coverage.

Ledger (the mutual's book, MUTUAL chart): a payment debits the channel's account (57 cash, 52
the mutual's account at the savings cooperative or bank, 53 mobile money) and credits 702 for
the card fee, 701 for the dues of periods begun, 412 for the dues of later periods (advance).
Close of business (`contributions_recognise`) moves an advance to 701 when its period begins. A
transfer from Kondo savings also posts, in the same transaction, the caisse's side: the member's
deposit account (251) to 373, what the caisse owes the mutual.

The schedule is always the allocation of the money received, oldest period first (health.dues):
after a payment, a reversal or a change of beneficiaries it is settled again from the total, so
it never drifts from the payments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.channels.receipts import payment_receipt_queue
from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.numbering import next_number
from jigi.health import dues as schedule
from jigi.health.models import (
    Beneficiary,
    Channel,
    Contribution,
    ContributionDue,
    Coverage,
    CoverageStatus,
    StandingOrder,
    SuspensionPeriod,
)
from jigi.health.services._common import (
    ADVANCES,
    CARD_FEES,
    CHANNEL_ACCOUNT,
    CONTRIBUTIONS,
    MANAGER_ROLES,
    book_of,
    clean_amount,
    clean_date,
    clean_int,
    clean_text,
    conflict,
    finish,
    invalid,
    require_role,
    service_transaction,
    today,
)
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Unit
from jigi.people.models import Consent, ConsentScope
from jigi.savings.idempotency import IdempotencyClaim
from jigi.savings.models import AccountStatus, ProductKind, SavingsAccount

# A payment may run ahead of the schedule by at most two years: beyond is a typing error.
HORIZON_DAYS = 731
_MAX_PERIODS = 1_000


# --- the schedule ---------------------------------------------------------------------------


def coverage_spans(coverage: Coverage) -> list[schedule.Span]:
    return [schedule.Span(since, until) for since, until in
            Beneficiary.objects.filter(coverage=coverage).values_list("since", "until")]


def _amount_of(coverage: Coverage, period: schedule.Period, spans: list[schedule.Span]) -> int:
    package = coverage.package
    return schedule.period_amount(package.contribution_basis, package.contribution,
                                  schedule.persons_counted(period, coverage.enrolled_on, spans))


def _next_period(coverage: Coverage, last: ContributionDue | None) -> schedule.Period:
    package = coverage.package
    period = schedule.next_period(package.frequency, package.season_months, coverage.enrolled_on,
                                  None if last is None else
                                  schedule.Period(last.period_start, last.period_end))
    if last is not None and period.start <= last.period_end:
        # The package's frequency changed since the last period: start where it ended.
        period = schedule.Period(last.period_end + timedelta(days=1), period.end)
    return period


def _new_due(coverage: Coverage, dues: list[ContributionDue], spans) -> ContributionDue:
    period = _next_period(coverage, dues[-1] if dues else None)
    due = ContributionDue.objects.create(coverage=coverage, period_start=period.start,
                                         period_end=period.end,
                                         amount=_amount_of(coverage, period, spans))
    dues.append(due)
    return due


def dues_ensure(coverage: Coverage, through: date, *, spans=None) -> list[ContributionDue]:
    """The coverage's dues in order, the missing ones created up to the period containing
    `through` (never after the coverage's end). In the caller's transaction."""
    spans = coverage_spans(coverage) if spans is None else spans
    dues = list(ContributionDue.objects.filter(coverage=coverage).order_by("period_start"))
    if coverage.ended_on is not None:
        through = min(through, coverage.ended_on)
    for _i in range(_MAX_PERIODS):
        nxt = _next_period(coverage, dues[-1] if dues else None)
        if nxt.start > through:
            break
        _new_due(coverage, dues, spans)
    return dues


def _pure(due: ContributionDue) -> schedule.Due:
    return schedule.Due(due.period_start, due.period_end, due.amount, due.paid, due.recognised)


@dataclass
class Settlement:
    dues: list[ContributionDue]
    recognised: int  # change of the income part (701)
    advance: int  # change of the advance part (412)


def _settle(coverage: Coverage, total: int, on: date, *, spans=None,
            recompute_from: date | None = None) -> Settlement:
    """Allocate `total` (the money received for dues) over the schedule again, oldest first;
    recompute the amounts of periods starting on or after `recompute_from` (beneficiaries
    changed); create later periods while money is left; drop unpaid periods not yet begun.
    Saves the changed dues and `coverage.paid_through`; returns the accounting changes."""
    spans = coverage_spans(coverage) if spans is None else spans
    dues = dues_ensure(coverage, on, spans=spans)
    if recompute_from is not None:
        for d in dues:
            if d.period_start >= recompute_from:
                d._amount = _amount_of(coverage, schedule.Period(d.period_start, d.period_end),
                                       spans)
    amounts = [getattr(d, "_amount", d.amount) for d in dues]
    paid, left = schedule.allocate(amounts, total)
    while left > 0 and coverage.ended_on is None:
        if len(dues) >= _MAX_PERIODS:
            break
        due = _new_due(coverage, dues, spans)
        part = min(due.amount, left)
        amounts.append(due.amount)
        paid.append(part)
        left -= part
    if left:
        raise conflict("schedule_full", _("This coverage has no period left to pay for."),
                       "amount")
    d_rec = d_adv = 0
    keep = []
    # A period begun by today stays even unpaid (a back-dated payment does not undo the
    # schedule close of business made); a later one exists only to hold money paid ahead.
    horizon = max(on, today())
    for due, amount, new_paid in zip(dues, amounts, paid, strict=True):
        new_rec = schedule.recognised_after(_pure(due), new_paid, on)
        d_rec += new_rec - due.recognised
        d_adv += (new_paid - new_rec) - (due.paid - due.recognised)
        if new_paid == 0 and due.period_start > horizon:
            due.delete()
            continue
        if (amount, new_paid, new_rec) != (due.amount, due.paid, due.recognised):
            due.amount, due.paid, due.recognised = amount, new_paid, new_rec
            due.save(update_fields=["amount", "paid", "recognised"])
        keep.append(due)
    coverage.paid_through = schedule.paid_through([_pure(d) for d in keep])
    coverage.save(update_fields=["paid_through"])
    return Settlement(keep, d_rec, d_adv)


def _money_received(coverage: Coverage) -> int:
    """Dues part of the payments not reversed (card fees apart)."""
    agg = Contribution.objects.filter(coverage=coverage, reversed_by__isnull=True,
                                      reverses__isnull=True).aggregate(
        a=Sum("amount"), c=Sum("card_fee"))
    return (agg["a"] or 0) - (agg["c"] or 0)


def capacity(coverage: Coverage, on: date, *, spans=None) -> int:
    """The most the dues can take today: what is owed plus the periods up to two years ahead."""
    spans = coverage_spans(coverage) if spans is None else spans
    dues = list(ContributionDue.objects.filter(coverage=coverage).order_by("period_start"))
    owed = sum(d.amount - d.paid for d in dues)
    last = dues[-1] if dues else None
    limit = on + timedelta(days=HORIZON_DAYS)
    if coverage.ended_on is not None:
        limit = min(limit, coverage.ended_on)
    for _i in range(_MAX_PERIODS):
        period = _next_period(coverage, last)
        if period.start > limit:
            break
        owed += _amount_of(coverage, period, spans)
        last = ContributionDue(period_start=period.start, period_end=period.end)
    return owed


def quote(coverage: Coverage, through: date) -> tuple[int, int]:
    """(card fee still due, dues still owed for the periods up to the one containing
    `through`), computed without writing anything."""
    spans = coverage_spans(coverage)
    dues = list(ContributionDue.objects.filter(coverage=coverage).order_by("period_start"))
    owed = sum(d.amount - d.paid for d in dues if d.period_start <= through)
    last = dues[-1] if dues else None
    end = through if coverage.ended_on is None else min(through, coverage.ended_on)
    for _i in range(_MAX_PERIODS):
        period = _next_period(coverage, last)
        if period.start > end:
            break
        owed += _amount_of(coverage, period, spans)
        last = ContributionDue(period_start=period.start, period_end=period.end)
    card = 0 if coverage.card_fee_paid else coverage.package.card_fee
    return card, owed


# --- arrears: suspension and reinstatement ----------------------------------------------------


def sync_status(coverage: Coverage, dues: list[ContributionDue], on: date, user) -> str | None:
    """Suspend an active coverage whose oldest unpaid period began more than the package's
    grace ago; reinstate a suspended one that no longer is, with the package's waiting period
    after a lapse. Returns "suspended", "reinstated" or None. In the caller's transaction,
    with the coverage locked."""
    package = coverage.package
    pure = [_pure(d) for d in dues]
    late = schedule.in_arrears(pure, on, package.grace_days)
    if coverage.status == CoverageStatus.ACTIVE and late:
        coverage.status, coverage.suspended_on = CoverageStatus.SUSPENDED, on
        coverage.save(update_fields=["status", "suspended_on"])
        SuspensionPeriod.objects.create(coverage=coverage, start=on, reason="arrears")
        audit_log(actor=user, event_type="health.coverage_suspended", subject=coverage,
                  after={"on": on.isoformat(), "owed": schedule.amount_due(pure, on)},
                  unit=coverage.mutual)
        return "suspended"
    if coverage.status == CoverageStatus.SUSPENDED and not late:
        for s in SuspensionPeriod.objects.filter(coverage=coverage, end__isnull=True):
            if s.start >= on:
                s.delete()  # suspended and reinstated the same day: no day without cover
            else:
                s.end = on - timedelta(days=1)
                s.save(update_fields=["end"])
        if package.waiting_days_lapse:
            SuspensionPeriod.objects.create(
                coverage=coverage, start=on,
                end=on + timedelta(days=package.waiting_days_lapse - 1), reason="waiting")
        coverage.status, coverage.suspended_on = CoverageStatus.ACTIVE, None
        coverage.save(update_fields=["status", "suspended_on"])
        audit_log(actor=user, event_type="health.coverage_reinstated", subject=coverage,
                  after={"on": on.isoformat(), "waiting_days": package.waiting_days_lapse},
                  unit=coverage.mutual)
        return "reinstated"
    return None


# --- payments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    """What a payment (or a reversal) returns: the contribution row, the coverage after it and
    the status change it caused ("reinstated", "suspended" or None)."""

    contribution: Contribution
    coverage: Coverage
    status_change: str | None = None


def _lock_coverage(coverage: Coverage) -> Coverage:
    return (Coverage.objects.select_for_update().select_related("package", "mutual")
            .get(pk=coverage.pk))


def _receipt_number(mutual: Unit, on: date) -> str:
    """Gapless per mutual and year (the counter row stays locked until the payment commits;
    a rolled-back payment gives its number back)."""
    n = next_number(f"health-receipt:{mutual.pk}", on.year)
    return f"{mutual.code}-{on.year}-{n:06d}"


def _lines(signed: dict[str, int], subledger: str) -> list[LineSpec]:
    """Lines from signed amounts per account (positive: credit, negative: debit)."""
    if sum(signed.values()) != 0:
        raise AssertionError("unbalanced contribution entry")
    return [LineSpec(code, "C" if amount > 0 else "D", abs(amount), subledger)
            for code, amount in signed.items() if amount]


def _check_savings_account(coverage: Coverage, account: Any) -> SavingsAccount:
    """The account a transfer comes from: held by a beneficiary of the coverage (404
    otherwise: the union does not learn of other accounts), who allowed the union to draw on
    his savings (a recorded consent, scope savings, not withdrawn)."""
    if not isinstance(account, SavingsAccount):
        raise invalid({"savings_account": _("Choose the savings account to pay from.")})
    holders = set(Beneficiary.objects.filter(coverage=coverage, until__isnull=True)
                  .values_list("person_id", flat=True))
    if account.person_id not in holders:
        raise NotFound("account_not_found", _("Account not found."))
    if not Consent.objects.filter(person_id=account.person_id,
                                  granted_to_id=coverage.organisation_id,
                                  scope=ConsentScope.SAVINGS,
                                  withdrawn_at__isnull=True).exists():
        raise Forbidden("consent_missing",
                        _("The account holder has not allowed the union to draw on his savings "
                          "(record the consent at the caisse first)."),
                        {"savings_account": _("No consent recorded for this account.")})
    if account.status not in (AccountStatus.ACTIVE, AccountStatus.DORMANT) \
            or account.product.kind != ProductKind.VOLUNTARY:
        raise conflict("account_not_usable",
                       _("Contributions are paid from an open voluntary savings account."),
                       "savings_account")
    return account


def _pay(coverage: Coverage, *, user, amount: int, on: date, channel: str,
         account: SavingsAccount | None, reference: str = "", idempotency_key: str = ""
         ) -> Payment:
    """Inside the caller's transaction, with the coverage locked."""
    from jigi.savings.services.health_link import pay_out_for_health

    if coverage.status == CoverageStatus.ENDED:
        raise conflict("coverage_ended",
                       _("This coverage has ended: it takes no more contributions."), "coverage")
    if on < coverage.enrolled_on:
        raise invalid({"paid_on": _("A contribution is paid on or after the enrolment.")})
    package = coverage.package
    card = 0 if coverage.card_fee_paid else package.card_fee
    if amount < card:
        raise invalid({"amount": _("The membership card (%(fee)s F CFA) is paid first.")
                       % {"fee": card}})
    net = amount - card
    spans = coverage_spans(coverage)
    room = capacity(coverage, on, spans=spans)
    if net > room:
        raise invalid({"amount": _("At most %(n)s F CFA: two years of contributions ahead.")
                       % {"n": room + card}})
    settled = _settle(coverage, _money_received(coverage) + net, on, spans=spans)
    mutual = coverage.mutual
    receipt = _receipt_number(mutual, on)
    book = book_of(mutual)
    debit = CHANNEL_ACCOUNT[channel]
    lines = _lines({debit: -amount, CARD_FEES: card, CONTRIBUTIONS: settled.recognised,
                    ADVANCES: settled.advance}, coverage.number)
    description = gettext("Contribution %(receipt)s, coverage %(number)s") % {
        "receipt": receipt, "number": coverage.number}
    entry = entry_post(book=book, lines=lines, value_date=on, description=description,
                       acting_user=user, source_type="health.contribution", source_id=receipt,
                       audit=False)
    savings_tx = None
    if channel == Channel.SAVINGS:
        savings_tx = pay_out_for_health(account_id=account.pk, amount=amount, on=on, user=user,
                                        payee=mutual.code, reference=receipt,
                                        description=description)
    contribution = Contribution.objects.create(
        coverage=coverage, mutual=mutual, paid_on=on, amount=amount, card_fee=card,
        channel=channel, receipt_number=receipt, journal_entry=entry,
        savings_transaction=savings_tx, external_ref=reference[:64],
        idempotency_key=idempotency_key, created_by=user)
    if card:
        coverage.card_fee_paid = True
        coverage.save(update_fields=["card_fee_paid"])
    # Suspension is decided as of the day the mutual learns of the money: a paper receipt
    # entered late does not reinstate (nor start a waiting period) in the past.
    change = sync_status(coverage, settled.dues, max(on, today()), user)
    # An SMS receipt, opted-in members only (channels).
    payment_receipt_queue(kind="contribution_receipt", organisation_id=coverage.organisation_id,
                          unit_id=mutual.pk, person_id=coverage.member_id, amount=amount,
                          on=on, receipt=receipt,
                          ref=f"health.contribution:{contribution.pk}",
                          until=coverage.paid_through or "-")
    audit_log(actor=user, event_type="health.contribution_paid", subject=contribution,
              after={"coverage": coverage.number, "amount": amount, "card_fee": card,
                     "channel": channel, "receipt": receipt, "income": settled.recognised,
                     "advance": settled.advance,
                     "paid_through": coverage.paid_through.isoformat()
                     if coverage.paid_through else None, "status_change": change},
              unit=mutual)
    return Payment(contribution, coverage, change)


def contribution_pay(*, acting_user, coverage: Coverage, amount: Any, on: date | None = None,
                     channel: str = Channel.CASH, savings_account: SavingsAccount | None = None,
                     reference: str = "", idempotency: IdempotencyClaim | None = None
                     ) -> Payment:
    """Receive a contribution for a coverage, at the mutual's manager's desk.

    The card fee is taken first if still unpaid, then the dues oldest first (a payment beyond
    the schedule pays later periods in advance, at most two years ahead). `channel`: cash,
    savings (a transfer from the Kondo account `savings_account` of a beneficiary who
    consented; both books posted here), mobile_money or partner (with the operator's or
    partner's `reference`). A receipt numbered per mutual and year. A suspended coverage whose
    arrears are settled is reinstated (after the package's waiting period after a lapse).
    Refused: an ended coverage, zero, negative or fractional amounts, a date before the
    enrolment or in the future.
    """
    require_role(acting_user, coverage.mutual, MANAGER_ROLES, not_found_code="coverage_not_found",
                 not_found=_("Coverage not found."))
    amount = clean_amount(amount)
    on = clean_date(on, "paid_on")
    if channel not in Channel.values:
        raise invalid({"channel": _("Choose cash, savings, mobile money or partner.")})
    reference = clean_text(reference, "reference", max_len=64)
    if channel in (Channel.MOBILE_MONEY, Channel.PARTNER) and not reference:
        raise invalid({"reference": _("Give the transaction reference.")})
    account = None
    if channel == Channel.SAVINGS:
        account = _check_savings_account(coverage, savings_account)
    elif savings_account is not None:
        raise invalid({"savings_account": _("Only a savings transfer names an account.")})
    with service_transaction(idempotency):
        locked = _lock_coverage(coverage)
        payment = _pay(locked, user=acting_user, amount=amount, on=on, channel=channel,
                       account=account, reference=reference,
                       idempotency_key=idempotency.key if idempotency else "")
        return finish(idempotency, payment)


def contribution_pay_in_transaction(*, acting_user, coverage_id: int, amount: int, on: date,
                                    reference: str) -> Payment:
    """A contribution collected by mobile money, INSIDE the caller's transaction
    (channels.momo posts it in the same transaction as the payment's confirmation): the
    coverage locked, then exactly what `contribution_pay` does for channel mobile_money. Roles
    were checked when the collection was requested."""
    locked = _lock_coverage(Coverage(pk=coverage_id))
    return _pay(locked, user=acting_user, amount=amount, on=on, channel=Channel.MOBILE_MONEY,
                account=None, reference=reference, idempotency_key=reference)


def contribution_reverse(*, acting_user, contribution: Contribution, reason: str,
                         on: date | None = None, idempotency: IdempotencyClaim | None = None
                         ) -> Payment:
    """Cancel a payment (a mistake, a bounced transfer): a manager, with a reason. The
    mutual's entry is reversed as the schedule now stands (the dues are settled again from the
    remaining payments, so a later payment moves back to the older periods), the card fee
    becomes due again, a transfer from savings goes back to the member's account, and a
    reversal receipt is numbered. A reversal is never reversed; a payment is reversed once."""
    from jigi.savings.services.health_link import refund_from_health

    coverage = contribution.coverage
    require_role(acting_user, coverage.mutual, MANAGER_ROLES,
                 not_found_code="contribution_not_found", not_found=_("Contribution not found."))
    reason = clean_text(reason, "reason", max_len=200, required=True)
    on = clean_date(on, "on", earliest=contribution.paid_on)
    with service_transaction(idempotency):
        locked = _lock_coverage(coverage)
        original = Contribution.objects.select_for_update().get(pk=contribution.pk)
        if original.reversed_by_id is not None:
            raise conflict("already_reversed", _("This payment is already reversed."))
        if Contribution.objects.filter(reversed_by=original).exists():
            raise conflict("is_reversal", _("A reversal cannot itself be reversed."))
        net = original.amount - original.card_fee
        settled = _settle(locked, _money_received(locked) - net, on)
        mutual = locked.mutual
        receipt = _receipt_number(mutual, on)
        description = gettext("Reversal of contribution %(receipt)s: %(reason)s") % {
            "receipt": original.receipt_number, "reason": reason}
        lines = _lines({CHANNEL_ACCOUNT[original.channel]: original.amount,
                        CARD_FEES: -original.card_fee, CONTRIBUTIONS: settled.recognised,
                        ADVANCES: settled.advance}, locked.number)
        entry = entry_post(book=book_of(mutual), lines=lines, value_date=on,
                           description=description[:255], acting_user=acting_user,
                           source_type="health.contribution", source_id=receipt,
                           reversal_of=original.journal_entry, audit=False)
        savings_tx = None
        if original.savings_transaction_id:
            savings_tx = refund_from_health(transaction_id=original.savings_transaction_id,
                                            on=on, user=acting_user, reason=reason)
        reversal = Contribution.objects.create(
            coverage=locked, mutual=mutual, paid_on=on, amount=original.amount,
            card_fee=original.card_fee, channel=original.channel, receipt_number=receipt,
            journal_entry=entry, savings_transaction=savings_tx,
            external_ref=f"reversal:{original.receipt_number}"[:64],
            idempotency_key=idempotency.key if idempotency else "", created_by=acting_user)
        original.reversed_by = reversal
        original.save(update_fields=["reversed_by"])
        if original.card_fee:
            locked.card_fee_paid = False
            locked.save(update_fields=["card_fee_paid"])
        change = sync_status(locked, settled.dues, max(on, today()), acting_user)
        audit_log(actor=acting_user, event_type="health.contribution_reversed",
                  subject=original,
                  after={"reversal": receipt, "reason": reason, "amount": original.amount,
                         "paid_through": locked.paid_through.isoformat()
                         if locked.paid_through else None, "status_change": change},
                  unit=mutual)
        return finish(idempotency, Payment(reversal, locked, change))


def resettle(coverage: Coverage, on: date, user, *, recompute_from: date) -> Settlement:
    """After a change of beneficiaries: amounts of periods from `recompute_from` recomputed, the
    money received allocated again, and any income/advance change posted (412 <-> 701). In the
    caller's transaction, with the coverage locked."""
    settled = _settle(coverage, _money_received(coverage), on, recompute_from=recompute_from)
    if settled.recognised:
        lines = _lines({CONTRIBUTIONS: settled.recognised, ADVANCES: settled.advance},
                       coverage.number)
        entry_post(book=book_of(coverage.mutual), lines=lines, value_date=on,
                   description=gettext("Contributions of coverage %(number)s reallocated")
                   % {"number": coverage.number}, acting_user=user,
                   source_type="health.reallocation", source_id=coverage.number)
    return settled


# --- close of business: recognition and arrears -----------------------------------------------


def contributions_recognise(*, mutual: Unit, on: date, acting_user=None) -> int:
    """Advances (412) of periods begun by `on` become income (701): one entry for the mutual.
    Returns the amount moved. Runs in the caller's transaction, or its own."""
    with transaction.atomic():
        # The rows are locked before they are summed: a payment settling one of them meanwhile
        # waits, so what is posted to 701 is exactly what is marked recognised.
        rows = list(ContributionDue.objects.select_for_update(of=("self",)).filter(
            coverage__mutual=mutual, period_start__lte=on, recognised__lt=F("paid"))
            .order_by("pk").values_list("pk", "paid", "recognised"))
        total = sum(paid - rec for _pk, paid, rec in rows)
        if total:
            entry_post(book=book_of(mutual), value_date=on, acting_user=acting_user,
                       lines=[LineSpec(ADVANCES, "D", total), LineSpec(CONTRIBUTIONS, "C", total)],
                       description=gettext("Contributions paid in advance, periods begun by "
                                           "%(day)s") % {"day": on.isoformat()},
                       source_type="health.recognition", source_id=on.isoformat())
            ContributionDue.objects.filter(pk__in=[pk for pk, _p, _r in rows]).update(
                recognised=F("paid"))
    return total


@dataclass
class ArrearsRun:
    mutual: str
    on: date
    checked: int = 0
    suspended: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    recognised: int = 0


def arrears_run(*, mutual: Unit, on: date, acting_user=None) -> ArrearsRun:
    """A mutual's day (for close of business): the dues of every live coverage scheduled up to
    `on`, coverages whose oldest unpaid period began more than the grace ago suspended, those no
    longer in arrears reinstated, and advances of begun periods recognised. Running it twice
    for a day changes nothing. In the caller's transaction, or its own."""
    result = ArrearsRun(mutual=mutual.code, on=on)
    with transaction.atomic():
        ids = list(Coverage.objects.filter(
            mutual=mutual, status__in=[CoverageStatus.ACTIVE, CoverageStatus.SUSPENDED],
            enrolled_on__lte=on).order_by("pk").values_list("pk", flat=True))
        for pk in ids:
            cov = Coverage.objects.select_for_update().select_related("package", "mutual").get(
                pk=pk)
            dues = dues_ensure(cov, on)
            change = sync_status(cov, dues, on, acting_user)
            result.checked += 1
            if change == "suspended":
                result.suspended.append(cov.number)
            elif change == "reinstated":
                result.reinstated.append(cov.number)
        result.recognised = contributions_recognise(mutual=mutual, on=on,
                                                    acting_user=acting_user)
    return result


# --- standing orders --------------------------------------------------------------------------


def standing_order_create(*, acting_user, coverage: Coverage, account: SavingsAccount,
                          amount: Any = None, day_of_month: int = 5) -> StandingOrder:
    """A monthly transfer from a beneficiary's Kondo savings to the coverage's contributions,
    on `day_of_month` (1-28), of `amount` (by default the coverage's current monthly dues).
    Needs the account holder's consent to the union (scope savings)."""
    require_role(acting_user, coverage.mutual, MANAGER_ROLES, not_found_code="coverage_not_found",
                 not_found=_("Coverage not found."))
    if coverage.status == CoverageStatus.ENDED:
        raise conflict("coverage_ended",
                       _("This coverage has ended: it takes no more contributions."), "coverage")
    account = _check_savings_account(coverage, account)
    day_of_month = clean_int(day_of_month, "day_of_month", low=1, high=28)
    if amount is None:
        period = schedule.period_containing(
            coverage.package.frequency, coverage.package.season_months, coverage.enrolled_on,
            max(today(), coverage.enrolled_on))
        amount = _amount_of(coverage, period, coverage_spans(coverage))
    amount = clean_amount(amount)
    consent = Consent.objects.filter(person_id=account.person_id,
                                     granted_to_id=coverage.organisation_id,
                                     scope=ConsentScope.SAVINGS,
                                     withdrawn_at__isnull=True).order_by("-given_at").first()
    with transaction.atomic(durable=True):
        if StandingOrder.objects.select_for_update().filter(coverage=coverage, account=account,
                                                            active=True).exists():
            raise conflict("order_exists",
                           _("This account already pays this coverage every month."), "account")
        order = StandingOrder.objects.create(coverage=coverage, account=account, consent=consent,
                                             amount=amount, day_of_month=day_of_month,
                                             created_by=acting_user)
        audit_log(actor=acting_user, event_type="health.standing_order_created", subject=order,
                  after={"coverage": coverage.number, "account": account.number,
                         "amount": amount, "day_of_month": day_of_month},
                  unit=coverage.mutual)
    return order


def standing_order_stop(*, acting_user, order: StandingOrder, reason: str = "") -> StandingOrder:
    require_role(acting_user, order.coverage.mutual, MANAGER_ROLES,
                 not_found_code="order_not_found", not_found=_("Standing order not found."))
    reason = clean_text(reason, "reason", max_len=200)
    with transaction.atomic(durable=True):
        locked = StandingOrder.objects.select_for_update().get(pk=order.pk)
        if not locked.active:
            raise conflict("order_stopped", _("This standing order is already stopped."))
        locked.active = False
        locked.last_result = f"stopped: {reason}"[:200]
        locked.save(update_fields=["active", "last_result"])
        audit_log(actor=acting_user, event_type="health.standing_order_stopped", subject=locked,
                  after={"reason": reason}, unit=order.coverage.mutual)
    return locked


@dataclass(frozen=True)
class OrderRun:
    order_id: int
    coverage: str
    ok: bool
    code: str = ""
    message: str = ""
    receipt: str = ""


def _order_ref(order: StandingOrder, on: date) -> str:
    return f"standing-order:{order.pk}:{on:%Y-%m}"


def standing_orders_run(*, on: date, mutual: Unit | None = None, acting_user=None
                        ) -> list[OrderRun]:
    """Run the standing orders due by `on` this month (their day reached, not yet paid this
    month), each in its own transaction: a refusal (insufficient balance, consent withdrawn,
    coverage ended) is recorded on the order and the run goes on. A withdrawn consent or an
    ended coverage stops the order. Running twice on a day pays nothing twice."""
    qs = StandingOrder.objects.filter(active=True, day_of_month__lte=on.day).select_related(
        "coverage", "account")
    if mutual is not None:
        qs = qs.filter(coverage__mutual=mutual)
    results = []
    for order in qs.order_by("pk"):
        ref = _order_ref(order, on)
        # Paid this month already (even if the payment was reversed since: a reversed debit
        # is not taken again by the same order in the same month).
        if Contribution.objects.filter(coverage_id=order.coverage_id, external_ref=ref).exists():
            continue
        try:
            with transaction.atomic():
                cov = _lock_coverage(order.coverage)
                consent = Consent.objects.filter(pk=order.consent_id).first()
                if consent is None or consent.withdrawn_at is not None:
                    raise Forbidden("consent_withdrawn",
                                    _("The account holder withdrew his consent."))
                account = SavingsAccount.objects.select_related("product").get(
                    pk=order.account_id)
                _check_savings_account(cov, account)
                payment = _pay(cov, user=acting_user, amount=order.amount, on=on,
                               channel=Channel.SAVINGS, account=account, reference=ref)
                StandingOrder.objects.filter(pk=order.pk).update(
                    last_run_on=on, last_result=f"ok {payment.contribution.receipt_number}")
            results.append(OrderRun(order.pk, order.coverage.number, True,
                                    receipt=payment.contribution.receipt_number))
        except ApplicationError as exc:
            stop = exc.code in ("consent_withdrawn", "consent_missing", "coverage_ended",
                                "account_not_found", "account_not_usable")
            StandingOrder.objects.filter(pk=order.pk).update(
                last_run_on=on, last_result=f"{exc.code}: {exc.message}"[:200],
                active=not stop)
            audit_log(actor=acting_user, event_type="health.standing_order_failed",
                      subject=order, after={"on": on.isoformat(), "code": exc.code,
                                            "stopped": stop}, unit=order.coverage.mutual)
            results.append(OrderRun(order.pk, order.coverage.number, False, exc.code,
                                    str(exc.message)))
    return results


__all__ = [
    "ArrearsRun", "OrderRun", "Payment", "Settlement", "arrears_run", "capacity",
    "contribution_pay", "contribution_reverse", "contributions_recognise", "coverage_spans",
    "dues_ensure", "quote", "resettle", "standing_order_create", "standing_order_stop",
    "standing_orders_run", "sync_status",
]
