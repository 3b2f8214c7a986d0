"""A family's coverage: beneficiaries and their status, the contribution schedule, payments
with receipts; paying in cash or from Kondo savings (with the holder's consent), reversing a
payment, a monthly standing order from savings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.health import forms, selectors, services
from jigi.health.models import Channel, Contribution, Coverage, CoverageStatus
from jigi.health.services.enrolment import RENEWAL_WINDOW_DAYS
from jigi.health.views._common import (
    FormErrors,
    errors_of,
    fetch,
    is_manager,
    keyed,
    new_key,
    refusal,
    status_of,
    today,
)
from jigi.people.models import Consent, ConsentScope, Relation
from jigi.people.selectors import age_on, get_person_for_user
from jigi.savings.models import AccountStatus, ProductKind, SavingsAccount

# Channels a payment may take at the mutual's desk (a partner pays through its agreement).
DESK_CHANNELS = [Channel.CASH, Channel.SAVINGS, Channel.MOBILE_MONEY]
# The standing order form's inputs, by the service's field names.
ORDER_FIELDS = {"account": "order_account", "savings_account": "order_account",
                "amount": "order_amount"}


def payable_accounts(coverage: Coverage) -> list[SavingsAccount]:
    """Kondo savings accounts a contribution may be drawn from: open voluntary accounts of the
    coverage's current beneficiaries who allowed the union to draw on their savings (a consent
    not withdrawn). Only these are shown: the union learns of no other account.

    (A read the selectors do not offer yet; contribution_pay checks the same rules again.)"""
    holders = list(selectors.beneficiaries_of(coverage, current_only=True)
                   .values_list("person_id", flat=True))
    consented = set(Consent.objects.filter(
        person_id__in=holders, granted_to_id=coverage.organisation_id,
        scope=ConsentScope.SAVINGS, withdrawn_at__isnull=True).values_list("person_id",
                                                                           flat=True))
    return list(SavingsAccount.objects.filter(
        person_id__in=consented, product__kind=ProductKind.VOLUNTARY,
        status__in=[AccountStatus.ACTIVE, AccountStatus.DORMANT])
        .select_related("person", "caisse").order_by("person_id", "pk"))


def _beneficiary_rows(user, coverage: Coverage, on) -> list[dict[str, Any]]:
    rows = []
    for b in selectors.beneficiaries_of(coverage):
        answer = selectors.eligibility_check(user, card=b.card_number, on=on)
        match = answer.matches[0] if answer.matches else None
        decision = match.decision if match else None
        rows.append({
            "b": b, "age": match.age if match else None,
            "relation": dict(Relation.choices).get(b.relation, b.relation),
            "covered": bool(decision and decision.covered),
            "covered_from": decision.covered_from if decision else None,
            "reasons": [selectors.reason_text(r) for r in answer.reasons],
        })
    return rows


def _due_rows(coverage: Coverage, on) -> list[dict[str, Any]]:
    rows = []
    for d in selectors.dues_of(coverage):
        if d.paid >= d.amount:
            state = "paid"
        elif d.period_start > on:
            state = "ahead"
        else:
            state = "late" if d.paid == 0 else "partly"
        rows.append({"d": d, "state": state, "left": d.amount - d.paid})
    return rows


def _newcomers(user, coverage: Coverage) -> list[dict[str, Any]]:
    """Members of the family's household (in the registry) not on the card: who may be added
    (a newborn, a new wife)."""
    if coverage.household_id is None:
        return []
    on_card = set(selectors.beneficiaries_of(coverage, current_only=True)
                  .values_list("person_id", flat=True))
    rows = []
    for link in coverage.household.members.select_related("person").order_by("pk"):
        p = link.person
        if p.pk in on_card or link.until is not None or p.merged_into_id is not None:
            continue
        try:
            get_person_for_user(user, p.pk)
        except ApplicationError:
            continue
        rows.append({"person": p, "relation": link.relation, "age": age_on(p, today())})
    return rows


def _context(request, coverage: Coverage) -> dict[str, Any]:
    user = request.user
    on = today()
    quote = selectors.contribution_quote(coverage, through=on)
    manager = is_manager(user, coverage.mutual)
    live = coverage.status != CoverageStatus.ENDED
    payments = list(selectors.payments_of(coverage))
    return {
        "coverage": coverage, "mutual": coverage.mutual, "package": coverage.package,
        "today": on, "waiting": coverage.covered_from > on,
        "beneficiaries": _beneficiary_rows(user, coverage, on),
        "dues": _due_rows(coverage, on), "quote": quote,
        "owed": selectors.amount_owed(coverage, on),
        "payments": payments,
        "reversals": {p.reversed_by_id for p in payments if p.reversed_by_id},
        "suspensions": list(selectors.suspensions_of(coverage)),
        "orders": list(selectors.standing_orders_of(coverage)),
        "accounts": payable_accounts(coverage) if manager and live else [],
        "can_pay": manager and live, "channels": [(c.value, c.label) for c in DESK_CHANNELS],
        "newcomers": _newcomers(user, coverage) if manager and live else [],
        "relations": [(r.value, r.label) for r in Relation if r != Relation.HEAD],
        "renewal_opens": (coverage.renewal_due - timedelta(days=RENEWAL_WINDOW_DAYS))
        if coverage.renewal_due else None,
        "key": request.POST.get("idempotency_key") or new_key(),
        "v": request.POST if request.method == "POST" else {},
    }


def _receipt_answer(payment) -> dict[str, Any]:
    return {"contribution_id": payment.contribution.pk}


@login_required
def coverage_detail(request, pk: int):
    """The coverage page; its form receives a contribution (managers)."""
    user = request.user
    coverage = fetch(selectors.get_coverage_for_user, user, pk)
    error, fields, status = None, {}, 200
    if request.method == "POST":
        if not is_manager(user, coverage.mutual):
            raise PermissionDenied
        post = request.POST
        channel = post.get("channel", Channel.CASH)
        amount = forms.amount_text(post, "amount")
        reference = forms.clean_text(post.get("reference", ""))[:64]
        errors: dict[str, Any] = {}
        try:
            paid_on = forms.parse_date(post, "paid_on", errors)
            account = None
            if channel == Channel.SAVINGS:
                account = next((a for a in payable_accounts(coverage)
                                if str(a.pk) == post.get("savings_account")), None)
                if account is None:
                    errors["savings_account"] = _("Choose the savings account to pay from.")
            if errors:
                raise FormErrors(errors)
            answer = keyed(
                request, endpoint=f"web:health:pay:{coverage.pk}",
                body={"amount": amount, "channel": channel, "on": str(paid_on or ""),
                      "account": account.pk if account else None, "reference": reference},
                takes_claim=True, render=_receipt_answer,
                service=lambda claim: services.contribution_pay(
                    acting_user=user, coverage=coverage, amount=amount, on=paid_on,
                    channel=channel, savings_account=account, reference=reference,
                    idempotency=claim))
            return redirect("web:health_receipt", pk=answer["contribution_id"])
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
        coverage = fetch(selectors.get_coverage_for_user, user, pk)
    return render(request, "health/coverage.html", _context(request, coverage) | {
        "error": error, "errors": fields}, status=status)


@login_required
@require_POST
def contribution_reverse(request, pk: int):
    """Cancel a payment with a reason (managers); the reversal receipt opens."""
    user = request.user
    contribution = fetch(selectors.get_contribution_for_user, user, pk)
    coverage = contribution.coverage
    if not is_manager(user, coverage.mutual):
        raise PermissionDenied
    reason = forms.clean_text(request.POST.get("reason", ""))[:200]
    try:
        answer = keyed(
            request, endpoint=f"web:health:reverse:{contribution.pk}", body={"reason": reason},
            takes_claim=True, render=_receipt_answer,
            service=lambda claim: services.contribution_reverse(
                acting_user=user, contribution=contribution, reason=reason, idempotency=claim))
        return redirect("web:health_receipt", pk=answer["contribution_id"])
    except ApplicationError as exc:
        error, fields = errors_of(exc)
        coverage = fetch(selectors.get_coverage_for_user, user, coverage.pk)
        return render(request, "health/coverage.html", _context(request, coverage) | {
            "error": error, "errors": fields, "error_payment": contribution.pk},
            status=status_of(exc))


@login_required
@require_POST
def standing_order(request, pk: int):
    """Start (or stop, with `stop=<order id>`) a monthly transfer from a consenting
    beneficiary's Kondo savings."""
    user = request.user
    coverage = fetch(selectors.get_coverage_for_user, user, pk)
    if not is_manager(user, coverage.mutual):
        raise PermissionDenied
    post = request.POST
    errors: dict[str, Any] = {}
    try:
        if post.get("stop"):
            order = fetch(selectors.get_standing_order_for_user, user, post.get("stop"))
            services.standing_order_stop(acting_user=user, order=order,
                                         reason=forms.clean_text(post.get("reason", ""))[:200])
            messages.success(request, _("Standing order stopped."))
            return redirect("web:health_coverage", pk=coverage.pk)
        account = next((a for a in payable_accounts(coverage)
                        if str(a.pk) == post.get("order_account")), None)
        if account is None:
            errors["order_account"] = _("Choose the savings account to pay from.")
        day = forms.parse_int(post, "day_of_month", errors, required=True)
        amount = forms.amount_text(post, "order_amount") or None
        if errors:
            raise FormErrors(errors)
        order = services.standing_order_create(acting_user=user, coverage=coverage,
                                               account=account, amount=amount,
                                               day_of_month=day)
        messages.success(request, _("Standing order: %(amount)s F CFA on day %(day)s of each "
                                    "month.") % {"amount": order.amount,
                                                 "day": order.day_of_month})
        return redirect("web:health_coverage", pk=coverage.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    fields = {ORDER_FIELDS.get(k, k): v for k, v in fields.items()}
    return render(request, "health/coverage.html", _context(request, coverage) | {
        "error": error, "errors": fields, "order_form": True}, status=status)


@login_required
@require_POST
def family_change(request, pk: int):
    """Add a beneficiary (a newborn, a new wife), take one off the card, renew the coverage
    for a year, or end it (managers)."""
    user = request.user
    coverage = fetch(selectors.get_coverage_for_user, user, pk)
    if not is_manager(user, coverage.mutual):
        raise PermissionDenied
    post = request.POST
    action = post.get("action", "")
    errors: dict[str, Any] = {}
    on = forms.parse_date(post, "on", errors)
    reason = forms.clean_text(post.get("reason", ""))[:200]
    try:
        if errors:
            raise FormErrors(errors)
        if action == "add":
            person = next((r["person"] for r in _newcomers(user, coverage)
                           if str(r["person"].pk) == post.get("person")), None)
            if person is None:
                raise FormErrors({"person": _("Choose a member of the household.")})
            b = services.beneficiary_add(acting_user=user, coverage=coverage, person=person,
                                         relation=post.get("relation", ""), on=on)
            messages.success(request, _("%(name)s added: card %(card)s.") % {
                "name": person.full_name, "card": b.card_number})
        elif action == "remove":
            b = fetch(selectors.get_beneficiary_for_user, user, post.get("beneficiary"))
            if b.coverage_id != coverage.pk:
                raise FormErrors({"beneficiary": _("Not on this card.")})
            services.beneficiary_remove(acting_user=user, beneficiary=b, reason=reason, on=on)
            messages.success(request, _("%(name)s taken off the card.") % {
                "name": b.person.full_name})
        elif action == "renew":
            renewal = services.coverage_renew(acting_user=user, coverage=coverage, on=on)
            messages.success(request, _("Renewed until %(day)s.") % {
                "day": renewal.coverage.renewal_due.isoformat()})
        elif action == "end":
            services.coverage_end(acting_user=user, coverage=coverage, reason=reason, on=on)
            messages.success(request, _("Coverage ended."))
        else:
            raise FormErrors({"action": _("Choose what to change.")})
        return redirect("web:health_coverage", pk=coverage.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    coverage = fetch(selectors.get_coverage_for_user, user, pk)
    return render(request, "health/coverage.html", _context(request, coverage) | {
        "error": error, "errors": fields, "family_action": action}, status=status)


@login_required
def receipt(request, pk: int):
    """A contribution's receipt, printable on a 58 mm printer."""
    contribution = fetch(selectors.get_contribution_for_user, request.user, pk)
    coverage = contribution.coverage
    try:
        reverses = contribution.reverses
    except Contribution.DoesNotExist:
        reverses = None
    return render(request, "health/receipt.html", {
        "c": contribution, "coverage": coverage, "mutual": coverage.mutual,
        "member": coverage.member, "reverses": reverses,
        "dues_part": contribution.amount - contribution.card_fee,
        # "Paid through" is today's state: printed only on the latest receipt.
        "latest": not selectors.payments_of(coverage).filter(pk__gt=contribution.pk).exists(),
        "lang": get_language(),
    })
