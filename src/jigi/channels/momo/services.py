"""Mobile-money collection, exactly once.

1. `payment_request`: the payment row (status initiated, `order_id` = our idempotency key) is
   committed BEFORE the provider is called, so a callback that arrives before the provider's
   answer finds it; then the provider's answer (pay_token, payment_url, notif_token) is stored
   and the status becomes pending. The same order_id with the same content returns the same
   payment (and retries the provider call if it had failed); with other content it is a 409.
2. `callback_receive` (the provider's push) and `payments_poll` (a status call for payments
   pending for a while) both end in `_confirm`: the payment row locked, its status checked
   (forward only), and on success the target's own service posting the money, all in one
   transaction. A second confirmation finds the row succeeded and does nothing.
3. `statement_import` matches the provider's statement to our payments (by provider txn id,
   then order_id): a success we never heard of is applied ("fixed"); money that matches
   nothing is parked in suspense; `refund_create` sends it back with its ledger entry.

Rules (documented in docs/channels.md):
- A success that arrives after we marked the payment expired is applied all the same (the
  member paid; the target still owes it), outcome "late".
- A success for another amount than requested is never posted to the target: the money goes
  to suspense, the payment fails with reason amount_mismatch, and is refunded.
- A success whose target refuses it (the loan was closed meanwhile, the coverage ended) goes
  to suspense too (reason target_refused) and is refunded.
Suspense: the electronic-money account (12 for a caisse, 53 for a mutual or the movement)
debited, the pending account (372 for a caisse, 47 otherwise) credited; a refund is the
opposite entry.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import (
    MobileMoneyPayment,
    PaymentPurpose,
    PaymentStatus,
    ProviderCallback,
    Refund,
    StatementLine,
)
from jigi.channels.momo import providers
from jigi.channels.momo.providers.base import (
    EXPIRED,
    FAILED,
    SUCCESS,
    ProviderError,
    StatementRow,
    TxStatus,
)
from jigi.channels.storable import printable, storable, storable_text
from jigi.core.audit import audit_log
from jigi.core.cleaning import clean_amount, clean_text, conflict, invalid, today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.ledger.models import Book, JournalEntry
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import OrgKind, Role, Unit
from jigi.orgs.scoping import user_scope
from jigi.people.phones import mali_operator, normalize_mali_phone

# Who may ask a member's wallet, per purpose (the same people who take that payment at a desk).
_KONDO = {Role.TELLER.value, Role.CAISSE_MANAGER.value, Role.LOAN_OFFICER.value,
          Role.NETWORK_ADMIN.value}
_MUTUAL = {Role.MUTUAL_MANAGER.value, Role.UNION_ADMIN.value}
_MOVEMENT = {Role.ORGANISER.value, Role.MOVEMENT_ADMIN.value}
ROLES = {PaymentPurpose.LOAN_REPAYMENT: _KONDO, PaymentPurpose.SAVINGS_DEPOSIT: _KONDO,
         PaymentPurpose.HEALTH_CONTRIBUTION: _MUTUAL, PaymentPurpose.MOVEMENT_DUES: _MOVEMENT}

# Who imports statements and refunds.
MANAGER_ROLES = {Role.CAISSE_MANAGER.value, Role.NETWORK_ADMIN.value, Role.MUTUAL_MANAGER.value,
                 Role.UNION_ADMIN.value, Role.MOVEMENT_ADMIN.value}

# (electronic money, pending) per chart.
SUSPENSE = {OrgKind.SFD: ("12", "372"), OrgKind.MUTUAL_UNION: ("53", "47"),
            OrgKind.MOVEMENT: ("53", "47")}

# A payment still pending this long after its request is asked for its status by `momo poll`;
# one pending this long is expired.
POLL_AFTER = timedelta(seconds=60)
EXPIRE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Target:
    organisation_id: int
    unit: Unit
    person_id: int
    phone: str
    label: str


# --- request ----------------------------------------------------------------------------------


def _require(user, unit: Unit, roles: set[str], not_found: Any) -> None:
    scope = user_scope(user)
    if not scope.covers_unit(unit, write=True, roles=roles):
        if scope.covers_unit(unit):
            raise Forbidden("forbidden", _("Your role does not allow this operation."))
        raise NotFound("target_not_found", not_found)


def target_of(purpose: str, target_id: int, user=None) -> Target:
    """The payment's target, checked for `user` (404 outside her scope, 403 without the role;
    409 when it takes no payment now). None user: no check (a confirmation)."""
    if purpose == PaymentPurpose.LOAN_REPAYMENT:
        from jigi.credit.models import Loan, LoanStatus

        loan = Loan.objects.select_related("caisse", "person").filter(pk=target_id).first()
        if loan is None:
            raise NotFound("target_not_found", _("Loan not found."))
        if user is not None:
            _require(user, loan.caisse, ROLES[purpose], _("Loan not found."))
            if loan.status != LoanStatus.ACTIVE:
                raise conflict("target_closed", _("This loan is not being repaid."))
        return Target(loan.caisse.organisation_id, loan.caisse, loan.person_id,
                      loan.person.phone, loan.number)
    if purpose == PaymentPurpose.SAVINGS_DEPOSIT:
        from jigi.savings.models import AccountStatus, ProductKind, SavingsAccount

        acc = SavingsAccount.objects.select_related("caisse", "person", "product").filter(
            pk=target_id).first()
        if acc is None or acc.person_id is None:
            raise NotFound("target_not_found", _("Account not found."))
        if user is not None:
            _require(user, acc.caisse, ROLES[purpose], _("Account not found."))
            if acc.status not in (AccountStatus.ACTIVE, AccountStatus.DORMANT) or \
                    acc.product.kind != ProductKind.VOLUNTARY:
                raise conflict("target_closed",
                               _("Mobile money pays into an open voluntary savings account."))
        return Target(acc.caisse.organisation_id, acc.caisse, acc.person_id, acc.person.phone,
                      acc.number)
    if purpose == PaymentPurpose.HEALTH_CONTRIBUTION:
        from jigi.health.models import Coverage, CoverageStatus

        cov = Coverage.objects.select_related("mutual", "member").filter(pk=target_id).first()
        if cov is None:
            raise NotFound("target_not_found", _("Coverage not found."))
        if user is not None:
            _require(user, cov.mutual, ROLES[purpose], _("Coverage not found."))
            if cov.status == CoverageStatus.ENDED:
                raise conflict("target_closed", _("This coverage has ended."))
        return Target(cov.organisation_id, cov.mutual, cov.member_id, cov.member.phone,
                      cov.number)
    if purpose == PaymentPurpose.MOVEMENT_DUES:
        from jigi.movement.models import MemberProfile
        from jigi.people.models import MembershipStatus

        prof = MemberProfile.objects.select_related("section", "person", "membership").filter(
            pk=target_id).first()
        if prof is None:
            raise NotFound("target_not_found", _("Member not found."))
        if user is not None:
            _require(user, prof.section, ROLES[purpose], _("Member not found."))
            if prof.membership.status == MembershipStatus.ENDED:
                raise conflict("target_closed", _("This membership has ended."))
        return Target(prof.section.organisation_id, prof.section, prof.person_id,
                      prof.person.phone, prof.membership.number)
    raise invalid({"purpose": _("Choose one of the allowed values.")})


def callback_signature(order_id: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"momo:{order_id}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def _urls(order_id: str) -> tuple[str, str, str]:
    base = providers.config()["public_url"].rstrip("/")
    notif = f"{base}/api/v1/channels/momo/callback/{order_id}?sig={callback_signature(order_id)}"
    back = f"{base}/channels/momo/done/{order_id}/"
    return notif, back, back


def _same(p: MobileMoneyPayment, purpose: str, target_id: int, amount: int, phone: str) -> bool:
    return (p.purpose, p.target_id, p.amount, p.phone) == (purpose, target_id, amount, phone)


def payment_request(*, acting_user, purpose: str, target_id: Any, amount: Any, order_id: Any,
                    phone: Any = "", provider: str | None = None) -> MobileMoneyPayment:
    """Ask the member's wallet for `amount` toward a target. See the module's docstring."""
    value = clean_amount(amount)
    order_id = clean_text(order_id, "order_id", max_len=64, required=True)
    if not all(c.isalnum() or c in "-_." for c in order_id):
        raise invalid({"order_id": _("Letters, digits, '-', '_' and '.' only.")})
    try:
        target_pk = int(target_id)
    except (TypeError, ValueError):
        raise invalid({"target_id": _("Enter a whole number.")}) from None
    target = target_of(purpose, target_pk, acting_user)
    try:
        phone = normalize_mali_phone(str(phone or target.phone or ""))
    except (ValueError, ApplicationError):
        raise invalid({"phone": _("Enter the member's mobile-money number.")}) from None
    if provider is not None and provider not in providers.configured():
        raise invalid({"provider": _("Choose one of the allowed values.")})
    # The wallet is the number's operator's: Moov numbers pay from Moov Money.
    provider_name = provider or providers.provider_for_phone(phone)
    if providers.is_moov(provider_name) and mali_operator(phone) != "moov":
        # Moov pushes the prompt to this number: another operator's would only be refused.
        raise invalid({"phone": _("This is not a Moov Money number.")})

    payment = MobileMoneyPayment.objects.filter(order_id=order_id).first()
    if payment is None:
        try:
            with transaction.atomic(durable=True):
                payment = MobileMoneyPayment.objects.create(
                    organisation_id=target.organisation_id, unit=target.unit,
                    provider=provider_name, purpose=purpose, target_id=target_pk,
                    person_id=target.person_id, phone=phone, amount=value, order_id=order_id,
                    requested_by=acting_user)
                audit_log(actor=acting_user, event_type="channels.momo_requested",
                          subject=payment, after={"order_id": order_id, "amount": value,
                                                  "purpose": purpose, "target": target.label},
                          unit=target.unit)
        except IntegrityError:  # the same order_id created by a concurrent retry
            payment = MobileMoneyPayment.objects.get(order_id=order_id)
    if not _same(payment, purpose, target_pk, value, phone):
        raise conflict("order_id_reused",
                       _("This order id was already used for another payment."), "order_id")
    if payment.status != PaymentStatus.INITIATED or payment.pay_token:
        return payment
    # Outside any transaction: the row is committed, a callback may already be on its way.
    return _call_provider(payment)


def _call_provider(payment: MobileMoneyPayment) -> MobileMoneyPayment:
    notif_url, return_url, cancel_url = _urls(payment.order_id)
    try:
        answer = providers.get_provider(payment.provider).request_payment(
            order_id=payment.order_id, amount=payment.amount, reference=payment.order_id,
            lang="fr", notif_url=notif_url, return_url=return_url, cancel_url=cancel_url,
            phone=payment.phone)
    except ProviderError as exc:
        MobileMoneyPayment.objects.filter(pk=payment.pk).update(failure_reason=str(exc)[:200])
        raise ApplicationError("provider_unavailable", _(
            "The mobile-money provider did not answer. Try again with the same order id."),
            status_code=502) from exc
    with transaction.atomic(durable=True):
        locked = MobileMoneyPayment.objects.select_for_update().get(pk=payment.pk)
        locked.pay_token = answer.pay_token
        locked.payment_url = answer.payment_url
        locked.notif_token = answer.notif_token
        locked.failure_reason = ""
        fields = ["pay_token", "payment_url", "notif_token", "failure_reason", "version"]
        if locked.status == PaymentStatus.INITIATED:
            locked.status = PaymentStatus.PENDING
            fields.append("status")
        locked.version += 1
        locked.save(update_fields=fields)
    # A callback that came before this answer could not be checked yet: check it now.
    for early in ProviderCallback.objects.filter(payment=locked, outcome="early").order_by("pk"):
        _apply_callback(early, locked)
    locked.refresh_from_db()
    return locked


# --- confirmation -----------------------------------------------------------------------------


def _book(unit: Unit) -> Book:
    if unit.organisation.kind == OrgKind.MOVEMENT:
        from jigi.movement.services._common import book_of

        return book_of(unit.organisation)  # one book, at the movement's root unit
    book = Book.objects.select_related("organisation").filter(unit=unit).first()
    if book is None:
        raise conflict("no_book", _("This unit has no accounts book."))
    return book


def _suspense_post(unit: Unit, amount: int, source_id: str, user, description: str
                   ) -> JournalEntry:
    book = _book(unit)
    money, pending = SUSPENSE[book.organisation.kind]
    return entry_post(book=book, value_date=today(), acting_user=user, audit=False,
                      source_type="channels.momo_suspense", source_id=source_id[:64],
                      description=description[:255],
                      lines=[LineSpec(money, "D", amount), LineSpec(pending, "C", amount)])


def _post_to_target(payment: MobileMoneyPayment, on: date) -> str:
    """The target's own service, inside the current transaction; returns "app.model:pk"."""
    user = payment.requested_by
    if payment.purpose == PaymentPurpose.LOAN_REPAYMENT:
        from jigi.credit.services.operations import loan_repay_in_transaction

        op = loan_repay_in_transaction(acting_user=user, loan_id=payment.target_id,
                                       amount=payment.amount, on=on,
                                       reference=payment.order_id)
        return f"credit.loantransaction:{op.transaction.pk}"
    if payment.purpose == PaymentPurpose.SAVINGS_DEPOSIT:
        from jigi.savings.services.momo_link import deposit_in_transaction

        tx = deposit_in_transaction(acting_user=user, account_id=payment.target_id,
                                    amount=payment.amount, on=on, reference=payment.order_id)
        return f"savings.savingstransaction:{tx.pk}"
    if payment.purpose == PaymentPurpose.HEALTH_CONTRIBUTION:
        from jigi.health.services.contributions import contribution_pay_in_transaction

        paid = contribution_pay_in_transaction(acting_user=user, coverage_id=payment.target_id,
                                               amount=payment.amount, on=on,
                                               reference=payment.order_id)
        return f"health.contribution:{paid.contribution.pk}"
    from jigi.movement.services.dues import dues_pay_in_transaction

    dues = dues_pay_in_transaction(acting_user=user, profile_id=payment.target_id,
                                   amount=payment.amount, on=on, reference=payment.order_id)
    return f"movement.duespayment:{dues.payment.pk}"


def _confirm(payment_id: int, answer: TxStatus, *, source: str) -> str:
    """Apply a final status to a payment, at most once. Returns the outcome: applied, late
    (applied after expiry), duplicate, suspense (money parked: amount or target refused),
    ignored (not final, or a failure after a final status)."""
    with transaction.atomic(durable=True):
        p = (MobileMoneyPayment.objects.select_for_update().select_related("unit")
             .get(pk=payment_id))
        if p.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED) or \
                (p.status == PaymentStatus.FAILED and p.posting_ref):
            return "duplicate"
        if answer.status == SUCCESS:
            if p.status == PaymentStatus.FAILED and p.failure_reason in (
                    "amount_mismatch", "target_refused"):
                return "duplicate"
            was_expired = p.status in (PaymentStatus.EXPIRED, PaymentStatus.FAILED)
            p.provider_txn_id = answer.txn_id or p.provider_txn_id
            p.confirmed_at = timezone.now()
            fields = ["status", "provider_txn_id", "confirmed_at", "posting_ref",
                      "failure_reason", "version"]
            received = answer.amount if answer.amount is not None else p.amount
            reason = ""
            if received != p.amount:
                reason = "amount_mismatch"
            else:
                try:
                    with transaction.atomic():  # the target's refusal leaves nothing behind
                        p.posting_ref = _post_to_target(p, today())
                except ApplicationError as exc:
                    reason = "target_refused"
                    p.failure_reason = f"target_refused: {exc.code}"[:200]
            if reason:
                entry = _suspense_post(p.unit, received, p.order_id, p.requested_by,
                                       gettext("Mobile money %(order)s held for refund")
                                       % {"order": p.order_id})
                p.status = PaymentStatus.FAILED
                p.posting_ref = f"ledger.journalentry:{entry.pk}"
                if reason == "amount_mismatch":
                    p.failure_reason = (f"amount_mismatch: received {received}, "
                                        f"asked {p.amount}")
                outcome = "suspense"
            else:
                p.status = PaymentStatus.SUCCEEDED
                p.failure_reason = ""
                outcome = "late" if was_expired else "applied"
            p.version += 1
            p.save(update_fields=fields)
            audit_log(actor=p.requested_by, event_type=f"channels.momo_{outcome}", subject=p,
                      after={"order_id": p.order_id, "txn": p.provider_txn_id,
                             "amount": received, "source": source,
                             "posting": p.posting_ref, "reason": p.failure_reason},
                      unit=p.unit)
            return outcome
        if answer.status in (FAILED, EXPIRED) and p.status in (PaymentStatus.INITIATED,
                                                                PaymentStatus.PENDING):
            p.status = PaymentStatus.FAILED if answer.status == FAILED else PaymentStatus.EXPIRED
            p.failure_reason = answer.status.lower()
            p.version += 1
            p.save(update_fields=["status", "failure_reason", "version"])
            return "applied"
        return "ignored"


def callback_receive(*, provider: str, order_id: str, payload: Any, signature: str = ""
                     ) -> ProviderCallback:
    """Record a provider's callback, verified or not, and apply it when it is genuine: its
    notif_token equals the one the provider gave us for this order. A callback that arrives
    before the provider's answer (no notif_token known yet) is kept as "early" and checked
    when the answer is stored."""
    if not isinstance(payload, dict):
        payload = {"raw": str(payload)[:500]}
    # Anyone may post here: kept as received, but storable (no NUL, no lone surrogate).
    payload = storable(payload)
    order_id = storable_text(order_id)[:64]
    payment = MobileMoneyPayment.objects.filter(order_id=order_id).first()
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged signature).
    signed = hmac.compare_digest((signature or "").encode(), callback_signature(order_id).encode())
    with transaction.atomic(durable=True):
        cb = ProviderCallback.objects.create(provider=provider[:16], order_id=order_id,
                                             payment=payment, payload=payload, verified=False,
                                             outcome="unknown" if payment is None else "early")
    if payment is None:
        return cb
    if not _sends_callbacks(payment):
        # Moov pushes nothing: whatever claims to be its callback is not genuine.
        ProviderCallback.objects.filter(pk=cb.pk).update(outcome="rejected")
        cb.outcome = "rejected"
        return cb
    if not payment.notif_token:
        if not signed:
            ProviderCallback.objects.filter(pk=cb.pk).update(outcome="rejected")
            cb.outcome = "rejected"
        return cb
    return _apply_callback(cb, payment)


def _sends_callbacks(payment: MobileMoneyPayment) -> bool:
    try:
        return getattr(providers.get_provider(payment.provider), "sends_callbacks", True)
    except ProviderError:
        return True  # an unconfigured provider: the notif_token check still applies


def _apply_callback(cb: ProviderCallback, payment: MobileMoneyPayment) -> ProviderCallback:
    token = str(cb.payload.get("notif_token", ""))
    if not payment.notif_token or not hmac.compare_digest(token.encode(),
                                                          payment.notif_token.encode()):
        cb.outcome = "rejected"
        ProviderCallback.objects.filter(pk=cb.pk).update(outcome="rejected")
        return cb
    answer = providers.get_provider(payment.provider).parse_callback(cb.payload)
    outcome = _confirm(payment.pk, answer, source="callback")
    cb.verified = True
    cb.outcome = outcome
    ProviderCallback.objects.filter(pk=cb.pk).update(verified=True, outcome=outcome)
    return cb


def payment_poll(payment: MobileMoneyPayment, *, now=None) -> str:
    """Ask the provider for one payment's status and apply it."""
    now = now or timezone.now()
    if not payment.pay_token:
        if payment.requested_at < now - EXPIRE_AFTER:
            return _confirm(payment.pk, TxStatus(EXPIRED), source="poll")
        try:
            _call_provider(payment)
        except ApplicationError:
            return "unreachable"
        return "requested"
    try:
        answer = providers.get_provider(payment.provider).status(
            order_id=payment.order_id, amount=payment.amount, pay_token=payment.pay_token)
    except ProviderError:
        return "unreachable"
    MobileMoneyPayment.objects.filter(pk=payment.pk).update(last_polled_at=now)
    if answer.status not in (SUCCESS, FAILED, EXPIRED):
        if payment.requested_at < now - EXPIRE_AFTER:
            return _confirm(payment.pk, TxStatus(EXPIRED), source="poll")
        return "pending"
    return _confirm(payment.pk, answer, source="poll")


def payments_poll(*, older_than: timedelta = POLL_AFTER, now=None, limit: int = 500
                  ) -> dict[str, int]:
    """`jigi momo poll`: every payment still initiated or pending `older_than` after its
    request is asked for its status (oldest first). Returns the count per outcome."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    due = MobileMoneyPayment.objects.filter(
        status__in=[PaymentStatus.INITIATED, PaymentStatus.PENDING],
        requested_at__lte=now - older_than).order_by("requested_at")[:limit]
    for payment in due:
        outcome = payment_poll(payment, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# --- reconciliation and refunds ---------------------------------------------------------------


def statement_import(*, acting_user, provider: str, unit: Unit, rows: list[StatementRow]
                     ) -> dict[str, int]:
    """Import a provider's statement of money received (the merchant account of `unit`'s
    organisation) and reconcile it: each line matched to our payment by provider txn id, then
    by order_id. A success we never confirmed is applied now ("fixed"); a line matching no
    payment, or one that was refused, is "unmatched" (its money parked in suspense, listed for
    refund). Re-importing a statement changes nothing. Returns the count per resolution."""
    # Only the names in use: the same wallet's statement imported under two names (the API's
    # "simulator" and the screen's "orange") would park its unmatched money twice.
    if provider not in providers.configured():
        raise invalid({"provider": _("Choose one of the allowed values.")})
    _require(acting_user, unit, MANAGER_ROLES,
             _("Unit not found."))
    for row in rows:  # all checked before any is imported
        if row.status == SUCCESS and not (0 < len(row.txn_id) <= 100 and row.amount > 0):
            raise invalid({"rows": _("Every successful line needs its transaction id (at most "
                                     "100 characters) and an amount above zero.")})
    counts: dict[str, int] = {}
    scope = user_scope(acting_user)
    for row in rows:
        if row.status != SUCCESS:
            continue
        if StatementLine.objects.filter(provider=provider, provider_txn_id=row.txn_id).exists():
            counts["known"] = counts.get("known", 0) + 1
            continue
        payment = (MobileMoneyPayment.objects.select_related("unit")
                   .filter(provider=provider, provider_txn_id=row.txn_id).first()
                   # By order id only a payment asked of this wallet: a Moov order id on the
                   # Orange statement is not that payment's money.
                   or (MobileMoneyPayment.objects.select_related("unit")
                       .filter(provider=provider, order_id=row.order_id).first()
                       if row.order_id else None))
        if payment is not None and not scope.covers_unit(payment.unit, write=True,
                                                         roles=MANAGER_ROLES):
            # Another unit's payment (another caisse, another organisation): never confirmed
            # nor parked from this import; its own managers' import reconciles it.
            counts["other_unit"] = counts.get("other_unit", 0) + 1
            continue
        resolution = "unmatched"
        if payment is not None:
            outcome = _confirm(payment.pk, TxStatus(SUCCESS, row.txn_id, row.amount),
                               source="statement")
            payment.refresh_from_db()
            if outcome in ("applied", "late"):
                resolution = "fixed"
            elif payment.status == PaymentStatus.SUCCEEDED and payment.amount == row.amount:
                resolution = "matched"
            # else: refused (amount, target): its money already sits in suspense.
        try:
            with transaction.atomic(durable=True):
                if payment is None:
                    _suspense_post(unit, row.amount, row.txn_id, acting_user,
                                   gettext("Mobile money %(txn)s received, matches nothing")
                                   % {"txn": row.txn_id})
                StatementLine.objects.create(
                    provider=provider, statement_date=date.fromisoformat(row.day),
                    provider_txn_id=row.txn_id, order_id=row.order_id[:64],
                    phone=row.phone[:16], amount=row.amount, status=row.status,
                    payment=payment, resolution=resolution)
        except IntegrityError:
            # The same statement imported at the same time (a second click): the other import
            # wrote this line first; its suspense entry, if any, is this one's (rolled back).
            resolution = "known"
        counts[resolution] = counts.get(resolution, 0) + 1
    return counts


def refund_create(*, acting_user, line: StatementLine | None = None,
                  payment: MobileMoneyPayment | None = None) -> Refund:
    """Send back money that matches nothing (a statement line) or that a payment could not
    post (amount or target refused): a Refund, the reverse of the suspense entry (pending
    account debited, electronic money credited), in one transaction; the provider is asked
    after commit."""
    if (line is None) == (payment is None):
        raise invalid({"line": _("Refund a statement line or a payment.")})
    if payment is None and line is not None and line.payment_id:
        payment = line.payment
    if payment is not None:
        unit = payment.unit
        amount = _refundable(payment)
        phone, source, reference = payment.phone, payment.order_id, f"RF-{payment.order_id}"
    else:
        assert line is not None
        entry = JournalEntry.objects.select_related("book__unit").filter(
            source_type="channels.momo_suspense", source_id=line.provider_txn_id[:64]).first()
        if entry is None or line.resolution != "unmatched":
            raise conflict("not_refundable", _("Only unmatched money is refunded."))
        unit = entry.book.unit
        amount, phone, source = line.amount, line.phone, line.provider_txn_id
        reference = f"RF-{line.provider_txn_id}"[:64]
    _require(acting_user, unit, MANAGER_ROLES,
             _("Payment not found."))
    with transaction.atomic(durable=True):
        if payment is not None:
            p = MobileMoneyPayment.objects.select_for_update().get(pk=payment.pk)
            if p.status != PaymentStatus.FAILED or p.refunds.exists():
                raise conflict("not_refundable", _("This payment has nothing to refund."))
        if Refund.objects.filter(reference=reference).exists():
            raise conflict("already_refunded", _("This money was already refunded."))
        book = _book(unit)
        money, pending = SUSPENSE[book.organisation.kind]
        entry = entry_post(book=book, value_date=today(), acting_user=acting_user, audit=False,
                           source_type="channels.momo_refund", source_id=reference,
                           description=gettext("Mobile money refund %(ref)s")
                           % {"ref": source},
                           lines=[LineSpec(pending, "D", amount), LineSpec(money, "C", amount)])
        refund = Refund.objects.create(
            statement_line=line,
            payment=payment, phone=phone, amount=amount, reference=reference,
            journal_entry=entry, requested_by=acting_user)
        if payment is not None:
            p.status = PaymentStatus.REFUNDED
            p.version += 1
            p.save(update_fields=["status", "version"])
        if line is not None:
            StatementLine.objects.filter(pk=line.pk).update(resolution="refunded")
        audit_log(actor=acting_user, event_type="channels.momo_refund", subject=refund,
                  after={"amount": amount, "phone": phone, "source": source}, unit=unit)
        provider = payment.provider if payment is not None else line.provider
        transaction.on_commit(lambda: _send_refund(refund.pk, provider))
    return refund


def _refundable(payment: MobileMoneyPayment) -> int:
    entry_ref = payment.posting_ref
    if payment.status != PaymentStatus.FAILED or not entry_ref.startswith("ledger.journalentry:"):
        raise conflict("not_refundable", _("This payment has nothing to refund."))
    entry = JournalEntry.objects.get(pk=int(entry_ref.split(":")[1]))
    return sum(line.amount for line in entry.lines.all() if line.side == "D")


def _send_refund(refund_id: int, provider: str) -> None:
    refund = Refund.objects.get(pk=refund_id)
    try:
        status = providers.get_provider(provider).refund(reference=refund.reference,
                                                     phone=refund.phone, amount=refund.amount)
    except ProviderError:
        status = "requested"
    Refund.objects.filter(pk=refund_id, status="requested").update(
        status=status, settled_at=timezone.now() if status == "done" else None)


def refund_confirm(*, acting_user, reference: Any, provider_ref: Any) -> Refund:
    """A refund still `requested` (made by hand on the provider's merchant portal: Orange has
    no refund call, a Moov transfer may not have answered) confirmed `done` by a manager of
    the unit that holds its entry, with the portal's transaction reference. Moves no money:
    the refund's entry was posted when it was requested."""
    ref = clean_text(provider_ref, "provider_ref", max_len=64)
    if not ref:
        raise invalid({"provider_ref": _("Give the provider's transaction reference.")})
    if not printable(ref):  # a lone surrogate: the database can neither store nor compare it
        raise invalid({"provider_ref": _("Remove the control characters.")})
    # A reference that cannot be one (not text, over 64 characters, unprintable) is unknown.
    found = (Refund.objects.select_related("journal_entry__book__unit")
             .filter(reference=reference.strip()).first()
             if isinstance(reference, str) and 0 < len(reference.strip()) <= 64
             and printable(reference.strip()) else None)
    if found is None:
        raise NotFound("refund_not_found", _("Refund not found."))
    unit = found.journal_entry.book.unit
    _require(acting_user, unit, MANAGER_ROLES, _("Refund not found."))
    with transaction.atomic(durable=True):
        refund = Refund.objects.select_for_update().get(pk=found.pk)
        if refund.status != "requested":
            raise conflict("refund_settled", _("This refund is already confirmed."))
        refund.status, refund.provider_ref = "done", ref
        refund.settled_at, refund.settled_by = timezone.now(), acting_user
        refund.save(update_fields=["status", "provider_ref", "settled_at", "settled_by"])
        audit_log(actor=acting_user, event_type="channels.momo_refund_confirmed",
                  subject=refund, before={"status": "requested"},
                  after={"status": "done", "provider_ref": ref}, unit=unit)
    return refund
