"""Member shares (parts sociales): buying them makes a member; paid back on exit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Unit
from jigi.people.models import Membership, MembershipStatus
from jigi.people.services import membership_add_within
from jigi.savings.idempotency import IdempotencyClaim
from jigi.savings.models import (
    DrawerSession,
    Receipt,
    ShareAccount,
    ShareProduct,
    ShareTransaction,
)
from jigi.savings.services._common import (
    DRAWER,
    FEES,
    MANAGER_ROLES,
    SHARE_CAPITAL,
    book_of,
    conflict,
    finish,
    invalid,
    issue_receipt,
    open_drawer_for,
    require_counter,
    service_transaction,
)


@dataclass(frozen=True)
class ShareOperation:
    account: ShareAccount
    transaction: ShareTransaction
    receipt: Receipt


def _clean_shares(value: Any) -> int:
    if isinstance(value, bool):
        raise invalid("shares", _("Enter a whole number of shares."))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        raise invalid("shares", _("At least one share."))
    if value > 100_000:
        raise invalid("shares", _("This number of shares is not plausible."))
    return value


def share_product_of(caisse: Unit) -> ShareProduct:
    product = ShareProduct.objects.filter(organisation_id=caisse.organisation_id).first()
    if product is None:
        raise conflict("no_share_product", _("No share product in this network."))
    return product


def share_purchase(*, acting_user, person, caisse: Unit, shares: Any,
                   product: ShareProduct | None = None, on: date | None = None,
                   idempotency: IdempotencyClaim | None = None) -> ShareOperation:
    """Buy member shares in cash at the counter: nominal value to capital (57), the entry fee
    (droit d'adhésion) to fees (7029) with the first purchase. The first purchase must reach the
    minimum that makes a member; nobody holds more than the maximum."""
    require_counter(acting_user, caisse)
    count = _clean_shares(shares)
    product = product or share_product_of(caisse)
    if product.organisation_id != caisse.organisation_id:
        raise invalid("product", _("This product is not offered here."))
    if not Membership.objects.filter(person=person, organisation_id=caisse.organisation_id
                                     ).exclude(status=MembershipStatus.ENDED).exists():
        raise invalid("person_id", _("Register the person at a caisse of the network first."))
    on = on or timezone.localdate()
    with service_transaction(idempotency):
        account, _created = ShareAccount.objects.get_or_create(
            product=product, person=person, defaults={"caisse": caisse, "opened_on": on})
        account = ShareAccount.objects.select_for_update().get(pk=account.pk)
        if account.shares + count > product.max_shares:
            raise ApplicationError(
                "too_many_shares",
                _("A member may hold at most %(n)d shares.") % {"n": product.max_shares},
                {"shares": _("Above the maximum per member.")}, status_code=422)
        if account.shares + count < product.min_shares:
            raise ApplicationError(
                "too_few_shares",
                _("Membership needs at least %(n)d shares.") % {"n": product.min_shares},
                {"shares": _("Below the minimum for membership.")}, status_code=422)
        drawer = open_drawer_for(acting_user, caisse)
        amount = count * product.nominal_value
        fee = 0 if account.entry_fee_paid else product.entry_fee
        lines = [LineSpec(DRAWER, "D", amount + fee),
                 LineSpec(SHARE_CAPITAL, "C", amount, f"P{person.pk}")]
        if fee:
            lines.append(LineSpec(FEES, "C", fee))
        entry = entry_post(book=book_of(caisse), lines=lines, value_date=on,
                           description=f"Parts sociales {person}", acting_user=acting_user,
                           source_type="shares", source_id=str(account.pk), audit=False)
        DrawerSession.objects.filter(pk=drawer.pk).update(cash_in=F("cash_in") + amount + fee)
        became_member = account.shares < product.min_shares <= account.shares + count
        if became_member:
            # Someone registered at a training (a pending membership) becomes a member of the
            # cooperative by her shares: her membership turns active at this caisse, keeping
            # its number.
            pending = Membership.objects.filter(person=person,
                                                organisation_id=caisse.organisation_id,
                                                status=MembershipStatus.PENDING).exists()
            if pending:
                membership_add_within(acting_user=acting_user, person=person, unit=caisse,
                                      start_date=on)
        account.shares += count
        account.entry_fee_paid = True
        account.save(update_fields=["shares", "entry_fee_paid"])
        label = _("%(n)d share(s)") % {"n": count}
        if fee:
            label = _("%(n)d share(s) + entry fee %(fee)s F") % {"n": count, "fee": fee}
        rec = issue_receipt(caisse=caisse, kind="shares", amount=amount + fee, user=acting_user,
                            on=on, person=person, description=str(label))
        stx = ShareTransaction.objects.create(
            account=account, kind="purchase", shares=count, amount=amount, entry_fee=fee,
            value_date=on, receipt=rec, journal_entry=entry, created_by=acting_user)
        audit_log(actor=acting_user, event_type="shares.purchased", subject=account,
                  after={"shares": count, "amount": amount, "entry_fee": fee,
                         "total_shares": account.shares, "became_member": became_member,
                         "receipt": str(rec)}, unit=caisse)
        return finish(idempotency, ShareOperation(account, stx, rec))


def share_redeem(*, acting_user, account: ShareAccount, shares: Any, member_exit: bool,
                 reason: str = "", on: date | None = None,
                 idempotency: IdempotencyClaim | None = None) -> ShareOperation:
    """Pay shares back in cash (manager): on the member's exit, or when the general assembly
    opened redemption (then the member keeps at least the minimum)."""
    caisse = account.caisse
    require_counter(acting_user, caisse, MANAGER_ROLES)
    count = _clean_shares(shares)
    on = on or timezone.localdate()
    with service_transaction(idempotency):
        acc = ShareAccount.objects.select_for_update().select_related(
            "product", "person").get(pk=account.pk)
        if not member_exit and not acc.product.redemption_allowed:
            raise conflict("redemption_not_allowed",
                           _("Shares are paid back only when the member leaves."), "shares")
        remaining = acc.shares - count
        if remaining < 0 or (not member_exit and remaining < acc.product.min_shares):
            raise invalid("shares", _("Not that many shares can be paid back."))
        drawer = open_drawer_for(acting_user, caisse)
        amount = count * acc.product.nominal_value
        entry = entry_post(book=book_of(caisse),
                           lines=[LineSpec(SHARE_CAPITAL, "D", amount, f"P{acc.person_id}"),
                                  LineSpec(DRAWER, "C", amount)],
                           value_date=on, description=f"Remboursement parts {acc.person}",
                           acting_user=acting_user, source_type="shares",
                           source_id=str(acc.pk), audit=False)
        DrawerSession.objects.filter(pk=drawer.pk).update(cash_out=F("cash_out") + amount)
        acc.shares = remaining
        acc.save(update_fields=["shares"])
        rec = issue_receipt(caisse=caisse, kind="shares_redeemed", amount=amount,
                            user=acting_user, on=on, person=acc.person,
                            description=str(_("%(n)d share(s) paid back") % {"n": count}))
        stx = ShareTransaction.objects.create(
            account=acc, kind="redemption", shares=count, amount=amount, value_date=on,
            receipt=rec, journal_entry=entry, created_by=acting_user)
        audit_log(actor=acting_user, event_type="shares.redeemed", subject=acc,
                  after={"shares": count, "amount": amount, "exit": member_exit,
                         "reason": reason.strip()[:200], "remaining": remaining},
                  unit=caisse)
        return finish(idempotency, ShareOperation(acc, stx, rec))
