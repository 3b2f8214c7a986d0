"""Opening, closing, blocking, holds, dormancy and product settings of savings accounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Forbidden
from jigi.core.money import MoneyError, to_francs
from jigi.core.numbering import next_number
from jigi.orgs.models import Role, Unit
from jigi.orgs.scoping import user_scope
from jigi.savings.idempotency import IdempotencyClaim
from jigi.savings.models import (
    OVERRIDABLE,
    AccountStatus,
    Hold,
    ProductKind,
    ProductOverride,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    ShareAccount,
    ShareProduct,
    Signatory,
    TxStatus,
)
from jigi.savings.rules import add_months, available_to_withdraw, parse_slabs
from jigi.savings.services._common import (
    MANAGER_ROLES,
    batch_transaction,
    clean_amount,
    clean_reason,
    conflict,
    finish,
    invalid,
    lock_account,
    require_counter,
    service_transaction,
    setting,
)


def is_kondo_member(person, product: ShareProduct) -> bool:
    """Membership of the cooperative is holding at least the minimum number of shares."""
    acc = ShareAccount.objects.filter(product=product, person=person).first()
    return bool(acc and acc.shares >= product.min_shares)


def held_amount(account: SavingsAccount) -> int:
    return Hold.objects.filter(account=account, released_at__isnull=True).aggregate(
        s=Sum("amount"))["s"] or 0


def available_balance(account: SavingsAccount) -> int:
    """What may be withdrawn now: balance less active holds and the minimum balance."""
    return available_to_withdraw(balance=account.balance, held=held_amount(account),
                                 min_balance=int(setting(account, "min_balance")))


def savings_account_open(*, acting_user, product: SavingsProduct, caisse: Unit, person=None,
                         group_name: str = "", signatories=(), signatures_required: int = 1,
                         on: date | None = None, maturity_on: date | None = None,
                         renew_at_maturity: bool = False, loan_reference: str = "",
                         idempotency: IdempotencyClaim | None = None) -> SavingsAccount:
    """Open an account numbered gaplessly per caisse ("C001-EPV-000042").

    A person's account needs a member of the cooperative (the minimum shares); a group account
    (women's or solidarity group) needs a name and its signatories, of whom
    `signatures_required` must be present at each withdrawal. A term deposit matures after the
    product's term unless `maturity_on` says otherwise; guarantee savings name their loan.
    """
    require_counter(acting_user, caisse)
    on = on or timezone.localdate()
    if product.organisation_id != caisse.organisation_id or not product.active:
        raise invalid("product", _("This product is not offered here."))
    signatories = list(signatories)
    if product.kind == ProductKind.GROUP:
        if not group_name.strip():
            raise invalid("group_name", _("A group account needs the group's name."))
        if not signatories:
            raise invalid("signatories", _("A group account needs its signatories."))
        if len({p.pk for p in signatories}) != len(signatories):
            raise invalid("signatories", _("Each signatory only once."))
        if not 1 <= signatures_required <= len(signatories):
            raise invalid("signatures_required",
                          _("Between 1 and the number of signatories."))
    else:
        if person is None:
            raise invalid("person", _("Choose the account holder."))
        share_product = ShareProduct.objects.filter(organisation=caisse.organisation).first()
        if share_product is not None and not is_kondo_member(person, share_product):
            raise ApplicationError(
                "not_a_member",
                _("Only members open savings accounts: buy the minimum shares first."),
                {"person": _("Not yet a member (minimum shares not held).")}, status_code=409)
    if product.kind == ProductKind.GUARANTEE and not loan_reference.strip():
        raise invalid("loan_reference", _("Guarantee savings name the loan they secure."))
    if product.kind == ProductKind.TERM:
        if maturity_on is None:
            if product.term_months < 1:
                raise invalid("maturity_on", _("Give the maturity date."))
            maturity_on = add_months(on, product.term_months)
        if maturity_on <= on:
            raise invalid("maturity_on", _("The maturity date must be after the opening."))
    with service_transaction(idempotency):
        n = next_number(f"savings-account:{caisse.pk}", 0)
        account = SavingsAccount.objects.create(
            number=f"{caisse.code}-{product.code}-{n:06d}", product=product, caisse=caisse,
            person=person if product.kind != ProductKind.GROUP else None,
            group_name=group_name.strip()[:200] if product.kind == ProductKind.GROUP else "",
            signatures_required=signatures_required if product.kind == ProductKind.GROUP else 1,
            opened_on=on, last_activity_on=on,
            maturity_on=maturity_on if product.kind == ProductKind.TERM else None,
            renew_at_maturity=renew_at_maturity if product.kind == ProductKind.TERM else False,
            loan_reference=loan_reference.strip()[:64],
        )
        if product.kind == ProductKind.GROUP:
            Signatory.objects.bulk_create([Signatory(account=account, person=p)
                                           for p in signatories])
        audit_log(actor=acting_user, event_type="savings.account_opened", subject=account,
                  after={"number": account.number, "product": product.code,
                         "person": person.pk if person else None, "group": account.group_name,
                         "signatories": [p.pk for p in signatories],
                         "maturity_on": str(account.maturity_on or "")},
                  unit=caisse)
        return finish(idempotency, account)


def savings_account_close(*, acting_user, account: SavingsAccount, reason: str = "",
                          pay_out: bool = False, signatory_ids=(), on: date | None = None,
                          idempotency: IdempotencyClaim | None = None) -> SavingsAccount:
    """Close an account. A remaining balance is paid out in cash from the teller's drawer when
    `pay_out` (the minimum balance no longer applies; holds, blocks, guarantee savings and a
    group's signatories still do), otherwise the balance must already be zero. Nothing may be
    pending."""
    from jigi.savings.services.counter import _check_signatories, close_out

    require_counter(acting_user, account.caisse)
    on = on or timezone.localdate()
    with service_transaction(idempotency):
        acc = lock_account(account.pk)
        if acc.status == AccountStatus.CLOSED:
            raise conflict("account_closed", _("This account is closed."), "account")
        if SavingsTransaction.objects.filter(account=acc, status=TxStatus.PENDING).exists():
            raise conflict("pending_operations",
                           _("An operation of this account awaits approval."), "account")
        if Hold.objects.filter(account=acc, released_at__isnull=True).exists():
            raise conflict("active_hold", _("Release the holds before closing."), "account")
        if acc.balance and not pay_out:
            raise conflict("balance_not_zero",
                           _("Pay out or transfer the balance before closing."), "account")
        if acc.balance:
            _check_signatories(acc, signatory_ids)
        paid = close_out(acc, acting_user, on) if acc.balance else None
        before = {"status": acc.status}
        SavingsAccount.objects.filter(pk=acc.pk).update(status=AccountStatus.CLOSED,
                                                        closed_on=on)
        acc.status, acc.closed_on = AccountStatus.CLOSED, on
        audit_log(actor=acting_user, event_type="savings.account_closed", subject=acc,
                  before=before, after={"status": acc.status, "closed_on": str(on),
                                        "paid_out": paid.transaction.amount if paid else 0,
                                        "reason": reason.strip()[:200]},
                  unit=acc.caisse)
        return finish(idempotency, acc)


def savings_account_block(*, acting_user, account: SavingsAccount, reason: str
                          ) -> SavingsAccount:
    """Freeze an account (death of the holder, dispute): no deposit, no withdrawal."""
    require_counter(acting_user, account.caisse, MANAGER_ROLES)
    text = clean_reason(reason, _("Say why the account is blocked."))
    with service_transaction(None):
        acc = lock_account(account.pk)
        if acc.status in (AccountStatus.CLOSED, AccountStatus.BLOCKED):
            raise conflict("bad_status", _("Only an active or dormant account can be blocked."),
                           "account")
        before = {"status": acc.status}
        acc.status, acc.block_reason = AccountStatus.BLOCKED, text
        acc.save(update_fields=["status", "block_reason"])
        audit_log(actor=acting_user, event_type="savings.account_blocked", subject=acc,
                  before=before, after={"status": acc.status, "reason": text}, unit=acc.caisse)
    return acc


def savings_account_unblock(*, acting_user, account: SavingsAccount, reason: str = ""
                            ) -> SavingsAccount:
    require_counter(acting_user, account.caisse, MANAGER_ROLES)
    with service_transaction(None):
        acc = lock_account(account.pk)
        if acc.status != AccountStatus.BLOCKED:
            raise conflict("not_blocked", _("This account is not blocked."), "account")
        acc.status, acc.block_reason = AccountStatus.ACTIVE, ""
        acc.save(update_fields=["status", "block_reason"])
        audit_log(actor=acting_user, event_type="savings.account_unblocked", subject=acc,
                  before={"status": AccountStatus.BLOCKED},
                  after={"status": acc.status, "reason": reason.strip()[:200]}, unit=acc.caisse)
    return acc


def savings_account_reactivate(*, acting_user, account: SavingsAccount) -> SavingsAccount:
    """A manager wakes a dormant account (after checking the holder's identity)."""
    require_counter(acting_user, account.caisse, MANAGER_ROLES)
    with service_transaction(None):
        acc = lock_account(account.pk)
        if acc.status != AccountStatus.DORMANT:
            raise conflict("not_dormant", _("This account is not dormant."), "account")
        acc.status = AccountStatus.ACTIVE
        acc.last_activity_on = timezone.localdate()
        acc.save(update_fields=["status", "last_activity_on"])
        audit_log(actor=acting_user, event_type="savings.account_reactivated", subject=acc,
                  before={"status": AccountStatus.DORMANT}, after={"status": acc.status},
                  unit=acc.caisse)
    return acc


def hold_place(*, acting_user, account: SavingsAccount, amount: Any = 0, reason: str,
               blocks_account: bool = False) -> Hold:
    """Set an amount aside (it can no longer be withdrawn), or with `blocks_account` stop every
    debit of the account (a court's opposition) until the hold is released."""
    require_counter(acting_user, account.caisse, MANAGER_ROLES)
    value = 0 if blocks_account and amount in (0, "0", "", None) else clean_amount(amount)
    text = clean_reason(reason, _("Say why the amount is held."))
    with service_transaction(None):
        acc = lock_account(account.pk)
        if acc.status == AccountStatus.CLOSED:
            raise conflict("account_closed", _("This account is closed."), "account")
        hold = Hold.objects.create(account=acc, amount=value, reason=text,
                                   blocks_account=blocks_account, created_by=acting_user)
        audit_log(actor=acting_user, event_type="savings.hold_placed", subject=acc,
                  after={"hold": hold.pk, "amount": value, "reason": text,
                         "blocks_account": blocks_account}, unit=acc.caisse)
    return hold


def hold_release(*, acting_user, hold: Hold) -> Hold:
    account = hold.account
    require_counter(acting_user, account.caisse, MANAGER_ROLES)
    with service_transaction(None):
        lock_account(account.pk)
        h = Hold.objects.select_for_update().get(pk=hold.pk)
        if h.released_at:
            raise conflict("hold_released", _("This hold is already released."))
        h.released_at, h.released_by = timezone.now(), acting_user
        h.save(update_fields=["released_at", "released_by"])
        audit_log(actor=acting_user, event_type="savings.hold_released", subject=account,
                  after={"hold": h.pk, "amount": h.amount}, unit=account.caisse)
    return h


def accounts_mark_dormant(*, caisse: Unit, as_of: date, acting_user) -> int:
    """Voluntary and group accounts without member activity for the product's dormancy months
    (caisse override first) become dormant; a later deposit wakes them, a withdrawal needs a
    manager. Returns how many accounts changed. Run by a manager (or close of business with a
    system user that has the role)."""
    require_counter(acting_user, caisse, MANAGER_ROLES)
    changed: list[str] = []
    with batch_transaction():
        products = SavingsProduct.objects.filter(
            organisation_id=caisse.organisation_id,
            kind__in=[ProductKind.VOLUNTARY, ProductKind.GROUP])
        overrides = {o.product_id: o for o in ProductOverride.objects.filter(caisse=caisse)}
        for product in products:
            override = overrides.get(product.pk)
            months = override.dormancy_months if override and override.dormancy_months \
                else product.dormancy_months
            if not months:
                continue
            limit = add_months(as_of, -months)
            qs = SavingsAccount.objects.filter(caisse=caisse, product=product,
                                               status=AccountStatus.ACTIVE,
                                               last_activity_on__lt=limit)
            numbers = list(qs.order_by("pk").values_list("number", flat=True))
            qs.update(status=AccountStatus.DORMANT)
            changed += numbers
        if changed:
            audit_log(actor=acting_user, event_type="savings.dormancy", subject=caisse,
                      after={"accounts": len(changed), "as_of": str(as_of),
                             "numbers": changed[:1000]}, unit=caisse)
    return len(changed)


PRODUCT_EDITABLE = {
    "interest_rate": "percent", "min_balance_for_interest": "francs", "min_balance": "francs",
    "withdrawal_fee": "francs", "approval_threshold": "francs", "dormancy_months": "months",
    "guarantee_percent": "percent", "term_months": "months",
    "early_withdrawal_penalty_percent": "percent", "days_in_year": "days",
    "interest_posting": "posting", "interest_rounding": "rounding", "rate_slabs": "slabs",
}


def _clean_settings(values, allowed) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    clean: dict[str, Any] = {}
    for name in allowed:
        raw = values.get(name)
        if raw is None or str(raw).strip() == "":
            continue
        kind = PRODUCT_EDITABLE[name]
        text = str(raw).strip()
        try:
            if kind == "percent":
                value: Any = Decimal(text.replace(",", "."))
                if not value.is_finite() or not Decimal(0) <= value <= Decimal(100) \
                        or value != value.quantize(Decimal("0.01")):
                    raise ValueError
            elif kind == "months":
                if not text.isdigit() or int(text) > 240:
                    raise ValueError
                value = int(text)
            elif kind == "days":
                if text not in ("360", "365"):
                    raise ValueError
                value = int(text)
            elif kind == "posting":
                if text not in ("monthly", "quarterly", "yearly"):
                    raise ValueError
                value = text
            elif kind == "slabs":
                value = parse_slabs(text)
            elif kind == "rounding":
                if text not in ("down", "half_up"):
                    raise ValueError
                value = text
            else:
                value = to_francs(text, allow_zero=True)
        except (ValueError, ArithmeticError, InvalidOperation, MoneyError):
            errors[name] = _("This value is not valid.")
            continue
        clean[name] = value
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    return clean


def product_update(*, acting_user, product: SavingsProduct, values) -> SavingsProduct:
    """Change a network product's settings (network administrators only)."""
    scope = user_scope(acting_user)
    if not (scope.is_superuser or product.organisation_id in scope.org_wide_ids(
            write=True, roles={Role.NETWORK_ADMIN.value})):
        raise Forbidden("forbidden", _("Only the network administrator changes products."))
    clean = _clean_settings(values, PRODUCT_EDITABLE)
    with service_transaction(None):
        p = SavingsProduct.objects.select_for_update().get(pk=product.pk)
        before = {k: str(getattr(p, k)) for k in clean}
        for k, v in clean.items():
            setattr(p, k, v)
        p.save()
        audit_log(actor=acting_user, event_type="savings.product_changed", subject=p,
                  before=before, after={k: str(v) for k, v in clean.items()},
                  organisation=p.organisation)
    return p


def product_override_set(*, acting_user, product: SavingsProduct, caisse: Unit, values
                         ) -> ProductOverride:
    """A caisse's own values for some settings (its manager or the network administrator);
    an empty value goes back to the network's."""
    require_counter(acting_user, caisse, MANAGER_ROLES)
    if product.organisation_id != caisse.organisation_id:
        raise invalid("product", _("This product is not offered here."))
    clean = _clean_settings(values, OVERRIDABLE)
    with service_transaction(None):
        override, _created = ProductOverride.objects.select_for_update().get_or_create(
            product=product, caisse=caisse)
        before = {k: str(getattr(override, k)) for k in OVERRIDABLE}
        for name in OVERRIDABLE:
            setattr(override, name, clean.get(name))
        override.save()
        audit_log(actor=acting_user, event_type="savings.product_override", subject=override,
                  before=before, after={k: str(getattr(override, k)) for k in OVERRIDABLE},
                  unit=caisse)
    return override

