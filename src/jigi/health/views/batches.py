"""Payment batches to providers: prepare (a provider's approved claims up to a date), approve
(601/401), pay (401/57 or 52), cancel; the batch page with its claims, totals and journal
entries."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.health import forms, selectors, selectors_claims
from jigi.health.models import ClaimStatus
from jigi.health.services import batches as batch_services
from jigi.health.views._common import (
    MUTUAL_STAFF_ROLES,
    FormErrors,
    fetch,
    is_manager,
    keyed,
    new_key,
    refusal,
    require_roles,
    today,
)

PAID_FROM = [("57", gettext_lazy("Cash (57)")),
             ("52", gettext_lazy("Bank or savings account (52)"))]


def _batch_answer(batch) -> dict[str, Any]:
    return {"batch_id": batch.pk}


def _waiting(user) -> list[dict[str, Any]]:
    """Approved claims not yet in a batch, per mutual and provider: what can be prepared."""
    rows = (selectors_claims.claims_for_user(user)
            .filter(status=ClaimStatus.APPROVED, batch__isnull=True)
            .values("mutual_id", "mutual__code", "provider_id", "provider__name")
            .annotate(n=Count("pk"), total=Sum("mutual_share"))
            .order_by("mutual__code", "provider__name"))
    return list(rows)


def _list_context(request) -> dict[str, Any]:
    user = request.user
    return {
        "batches": list(selectors_claims.batches_for_user(user)
                        .select_related("mutual", "provider").order_by("-pk")[:200]),
        "waiting": _waiting(user),
        "mutuals": list(selectors_claims.mutuals_for_user(user, roles=MUTUAL_STAFF_ROLES)),
        "providers": list(selectors.providers_visible(user)[:500]),
        "key": request.POST.get("idempotency_key") or new_key(), "today": today(),
        "v": request.POST if request.method == "POST" else request.GET,
    }


@login_required
def batch_list(request):
    """The batches of the user's mutuals and the form that prepares one."""
    user = request.user
    require_roles(user, MUTUAL_STAFF_ROLES)
    error, fields, status = None, {}, 200
    if request.method == "POST":
        post = request.POST
        errors: dict[str, Any] = {}
        try:
            through = forms.parse_date(post, "through", errors)
            mutual = next((m for m in selectors_claims.mutuals_for_user(
                user, roles=MUTUAL_STAFF_ROLES) if str(m.pk) == post.get("mutual")), None)
            if mutual is None:
                errors["mutual"] = _("Choose the mutual.")
            provider = next((p for p in selectors.providers_visible(user)
                             if str(p.pk) == post.get("provider_id")), None)
            if errors:
                raise FormErrors(errors)
            answer = keyed(
                request, endpoint="web:health:batch_prepare",
                body={"mutual": mutual.pk, "provider": provider.pk if provider else None,
                      "through": str(through or "")}, render=_batch_answer,
                service=lambda _claim: batch_services.batch_prepare(
                    acting_user=user, mutual=mutual, provider=provider, through=through))
            return redirect("web:health_batch", pk=answer["batch_id"])
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "health/batches.html", _list_context(request) | {
        "error": error, "errors": fields}, status=status)


def _entry_rows(entry) -> list:
    return sorted(entry.lines.select_related("account"), key=lambda ln: (ln.side != "D", ln.pk))


def _detail_context(request, batch) -> dict[str, Any]:
    user = request.user
    claims = list(selectors_claims.claims_for_user(user).filter(batch=batch)
                  .select_related("beneficiary", "beneficiary__person").order_by("pk"))
    entries = []
    for label, entry in ((_("Approval"), batch.approval_entry),
                         (_("Payment"), batch.payment_entry)):
        if entry is not None:
            entries.append((label, entry, _entry_rows(entry)))
    if batch.approval_entry is not None:
        reversal = type(batch.approval_entry).objects.filter(
            reversal_of=batch.approval_entry).first()
        if reversal is not None:
            entries.append((_("Cancellation (reversal)"), reversal, _entry_rows(reversal)))
    manager = is_manager(user, batch.mutual)
    return {
        "batch": batch, "claims": claims, "entries": entries,
        "totals": {"claimed": sum(c.claimed for c in claims),
                   "allowed": sum(c.allowed for c in claims),
                   "mutual_share": sum(c.mutual_share for c in claims),
                   "copay": sum(c.copay for c in claims)},
        "can_approve": manager and batch.status == batch_services.OPEN,
        "can_pay": manager and batch.status == batch_services.APPROVED,
        "can_cancel": manager and batch.status in (batch_services.OPEN,
                                                   batch_services.APPROVED),
        "paid_from": PAID_FROM, "key": new_key(), "today": today(),
        "v": request.POST if request.method == "POST" else {},
    }


@login_required
def batch_detail(request, pk: int):
    batch = fetch(selectors_claims.get_batch_for_user, request.user, pk)
    return render(request, "health/batch.html", _detail_context(request, batch))


@login_required
@require_POST
def batch_action(request, pk: int, action: str):
    """Approve, pay or cancel a batch: once per form key (a second click lands on the batch
    as the first left it)."""
    user = request.user
    batch = fetch(selectors_claims.get_batch_for_user, user, pk)
    if not is_manager(user, batch.mutual):
        raise PermissionDenied
    post = request.POST
    errors: dict[str, Any] = {}
    on = forms.parse_date(post, "value_date", errors)
    try:
        if errors:
            raise FormErrors(errors)
        if action == "approve":
            def service(_claim):
                return batch_services.batch_approve(acting_user=user, batch=batch, on=on)
            body: dict[str, Any] = {"on": str(on or "")}
            done = _("Batch %(n)s approved: the mutual owes the provider.")
        elif action == "pay":
            paid_from = post.get("paid_from", "")

            def service(_claim):
                return batch_services.batch_pay(
                    acting_user=user, batch=batch, paid_from=paid_from, on=on,
                    note=forms.clean_text(post.get("note", ""))[:200])
            body = {"on": str(on or ""), "paid_from": paid_from}
            done = _("Batch %(n)s paid.")
        elif action == "cancel":
            reason = forms.clean_text(post.get("reason", ""))[:200]

            def service(_claim):
                return batch_services.batch_cancel(acting_user=user, batch=batch,
                                                   reason=reason)
            body = {"reason": reason}
            done = _("Batch %(n)s cancelled: its claims wait for another batch.")
        else:
            raise Http404
        keyed(request, endpoint=f"web:health:batch_{action}:{batch.pk}", body=body,
              render=_batch_answer, service=service)
        messages.success(request, done % {"n": batch.number})
        return redirect("web:health_batch", pk=batch.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    batch = fetch(selectors_claims.get_batch_for_user, user, pk)
    return render(request, "health/batch.html", _detail_context(request, batch) | {
        "error": error, "errors": fields, "failed": action}, status=status)
