"""Claims (feuilles de soins): entry with the automatic checks' answer per line, the list, the
review queue, the claim page with per-line decisions, approval, rejection and the status
history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.health import forms, selectors, selectors_claims
from jigi.health.models import ClaimStatus, ServiceGroup
from jigi.health.services import claims as claim_services
from jigi.health.views._common import (
    CLINIC_ROLES,
    MUTUAL_STAFF_ROLES,
    FormErrors,
    errors_of,
    fetch,
    form_key,
    is_mutual_staff,
    new_key,
    require_health,
    require_roles,
    status_of,
    today,
)
from jigi.orgs.scoping import user_scope

LINE_ICONS = {"accepted": "✔", "reduced": "➖", "rejected": "✖", "flagged": "⚠️"}
LINE_LABELS = {"accepted": gettext_lazy("Accepted"), "reduced": gettext_lazy("Reduced"),
               "rejected": gettext_lazy("Rejected"), "flagged": gettext_lazy("To review")}
ACTIONS = [("accept", "✔"), ("reduce", "➖"), ("reject", "✖")]


# --- entry ------------------------------------------------------------------------------------


def _providers(user):
    """Clinic staff enter claims for the centres they work at; mutual staff for any active
    provider of the union."""
    scope = user_scope(user)
    if scope.has_role(*MUTUAL_STAFF_ROLES):
        return list(selectors.providers_visible(user).filter(active=True)[:500])
    return list(selectors.providers_of_staff(user))


def _tariff_items(provider, on) -> list:
    """The union-wide tariff of the provider on the day (the datalist that prefills prices;
    the checks apply a mutual's own convention where it has one)."""
    if provider is None:
        return []
    tariff = selectors.tariff_for(provider, None, on)
    return sorted(tariff.items.values(), key=lambda i: (i.group, i.code)) if tariff else []


@login_required
def tariff_options(request):
    """The datalist of the chosen provider's tariff (htmx, when the provider changes)."""
    user = request.user
    require_roles(user, MUTUAL_STAFF_ROLES | CLINIC_ROLES)
    provider = next((p for p in _providers(user) if str(p.pk) == request.GET.get("provider_id")),
                    None)
    return render(request, "health/_tariff_options.html",
                  {"items": _tariff_items(provider, today())})


def _line_rows(post, n: int, fields: dict[str, str]) -> list[dict[str, Any]]:
    return [{"row": r, "item": post.get(f"item_{r}", ""), "qty": post.get(f"qty_{r}", ""),
             "price": post.get(f"price_{r}", ""),
             "error": " ".join(m for m in (fields.get(f"item_{r}"), fields.get(f"qty_{r}"),
                                           fields.get(f"price_{r}")) if m)}
            for r in range(1, n + 1)]


@login_required
def claim_new(request):
    """The care sheet: card, provider, date, diagnosis, lines; saved, it is checked and valued
    at once and the claim's page shows each line's answer."""
    user = request.user
    require_roles(user, MUTUAL_STAFF_ROLES | CLINIC_ROLES)
    providers = _providers(user)
    post = request.POST if request.method == "POST" else request.GET
    chosen = post.get("provider_id", "")
    # Clinic staff at one centre have it chosen for them; a centre not among the user's is
    # never swapped for another one.
    provider = next((p for p in providers if str(p.pk) == chosen),
                    providers[0] if len(providers) == 1 and not chosen else None)
    error, fields, status = None, {}, 200
    if request.method == "POST":
        errors: dict[str, Any] = {}
        lines = forms.parse_claim_lines(post, errors)
        care_date = forms.parse_date(post, "care_date", errors, required=True)
        discharge = forms.parse_date(post, "discharge_date", errors)
        try:
            if provider is None:
                errors["provider_id"] = _("Choose the health centre.")
            if errors:
                raise FormErrors(errors)
            claim = claim_services.claim_submit(
                acting_user=user, card_number=forms.clean_text(post.get("card_number", "")),
                provider_id=provider.pk, care_date=care_date, discharge_date=discharge,
                diagnosis=forms.clean_text(post.get("diagnosis", "")),
                lines=[claim_services.LineIn(x.item_code, x.quantity, x.unit_price)
                       for x in lines],
                idempotency_key=form_key(request))
            messages.success(request, _("Claim %(n)s saved and checked.") % {"n": claim.number})
            return redirect("web:health_claim", pk=claim.pk)
        except FormErrors as exc:
            error, fields = errors_of(exc.as_application_error())
            status = 422
        except ApplicationError as exc:
            error, fields = errors_of(exc)
            status = status_of(exc)
            # "lines.2.quantity" is the third filled row: show it on that row.
            for index, line in enumerate(lines):
                for what, name in (("item_code", "item"), ("quantity", "qty"),
                                   ("unit_price", "price")):
                    msg = fields.get(forms.field_key(f"lines.{index}.{what}"))
                    if msg:
                        fields[f"{name}_{line.row}"] = msg
    n = forms.line_rows(post)
    return render(request, "health/claim_new.html", {
        "providers": providers, "provider": provider,
        "items": _tariff_items(provider, today()), "rows": _line_rows(post, n, fields),
        "more": n + forms.CLAIM_LINES, "n": n, "today": today(),
        "key": request.POST.get("idempotency_key") or new_key(),
        "v": post, "error": error, "errors": fields,
    }, status=status)


# --- list and queue ---------------------------------------------------------------------------


@login_required
def claim_list(request):
    user = request.user
    require_health(user)
    status = request.GET.get("status", "")
    qs = selectors_claims.claim_list(user, status=status if status in ClaimStatus.values
                                     else "")
    return render(request, "health/claims.html", {
        "claims": list(qs[:200]), "status": status, "statuses": ClaimStatus.choices,
        "can_enter": user_scope(user).has_role(*MUTUAL_STAFF_ROLES, *CLINIC_ROLES),
        "staff": user_scope(user).has_role(*MUTUAL_STAFF_ROLES),
    })


def _queue_context(user) -> dict[str, Any]:
    mutuals = []
    for mutual in selectors_claims.mutuals_for_user(user, roles=MUTUAL_STAFF_ROLES)[:100]:
        review = list(selectors_claims.review_queue(user, mutual=mutual)[:200])
        for claim in review:
            claim.flagged = [(line, [selectors_claims.reason_text(c) for c in line.reasons])
                             for line in claim.lines.all() if line.status == "flagged"]
        valued = list(selectors_claims.claims_to_approve(user, mutual=mutual)[:200])
        entered = selectors_claims.claims_for_user(user).filter(
            mutual=mutual, status=ClaimStatus.ENTERED).aggregate(n=Count("pk"))["n"]
        if review or valued or entered:
            mutuals.append({"mutual": mutual, "review": review, "valued": valued,
                            "entered": entered})
    return {"mutuals": mutuals}


@login_required
def queue(request):
    """Flagged claims waiting for a decision and valued claims waiting for approval, per
    mutual (mutual staff)."""
    user = request.user
    require_roles(user, MUTUAL_STAFF_ROLES)
    return render(request, "health/queue.html", _queue_context(user))


@login_required
@require_POST
def adjudicate(request, mutual_id: int):
    """Check and value every claim of a mutual entered without the checks (bulk loads)."""
    user = request.user
    mutual = fetch(selectors_claims.get_mutual_for_user, user, mutual_id,
                   roles=MUTUAL_STAFF_ROLES)
    try:
        run = claim_services.claims_adjudicate(acting_user=user, mutual=mutual)
        messages.success(request, _("%(n)s claims checked and valued.") % {"n": run.claims})
    except ApplicationError as exc:
        messages.error(request, errors_of(exc)[0])
    return redirect("web:health_queue")


# --- the claim page ---------------------------------------------------------------------------


def _claim_context(user, claim, post=None, fields=None) -> dict[str, Any]:
    """The claim page; after a refused review, `post` and `fields` put the reviewer's choices
    and the messages back on each flagged line."""
    groups = dict(ServiceGroup.choices)
    statuses = dict(ClaimStatus.choices)
    post = post or {}
    fields = fields or {}
    tariff = selectors.tariff_for(claim.provider, claim.mutual, claim.care_date)
    labels = {code: item.label for code, item in tariff.items.items()} if tariff else {}
    lines = []
    for x in claim.lines.all():
        no = x.line_no
        lines.append({
            "line": x, "icon": LINE_ICONS.get(x.status, ""),
            "status": LINE_LABELS.get(x.status, x.status),
            "label": labels.get(x.item_code.upper(), ""), "group": groups.get(x.group, x.group),
            "reasons": [(c, selectors_claims.reason_text(c)) for c in x.reasons],
            "chosen": post.get(f"action_{no}", ""), "reason": post.get(f"reason_{no}", ""),
            "qty": post.get(f"qty_{no}", ""), "price": post.get(f"price_{no}", ""),
            "error": " ".join(m for m in (fields.get(f"{k}_{no}") for k in (
                "action", "reason", "qty", "price")) if m),
        })
    staff = is_mutual_staff(user, claim.mutual)
    reasons = [(c, str(t)) for c, t in selectors_claims.MANUAL_REASONS.items()]
    return {
        "claim": claim, "lines": lines,
        "events": [{"e": e, "from": statuses.get(e.from_status, e.from_status),
                    "to": statuses.get(e.to_status, e.to_status)} for e in claim.events.all()],
        "flagged": [x for x in lines if x["line"].status == "flagged"],
        "can_review": staff and claim.status == ClaimStatus.REVIEW,
        "can_approve": staff and claim.status == ClaimStatus.VALUED,
        "maker": claim.entered_by_id == user.pk,
        "can_reject": staff and claim.status in (ClaimStatus.REVIEW, ClaimStatus.VALUED),
        "manual_reasons": reasons, "actions": ACTIONS,
    }


def _claim(user, pk):
    return fetch(selectors_claims.get_claim_for_user, user, pk, with_details=True)


@login_required
def claim_detail(request, pk: int):
    user = request.user
    claim = _claim(user, pk)
    return render(request, "health/claim.html", _claim_context(user, claim))


def _after(request, claim):
    if request.POST.get("next") == "queue":
        return redirect("web:health_queue")
    return redirect("web:health_claim", pk=claim.pk)


def _refused(request, claim, exc: ApplicationError, extra: dict[str, Any] | None = None):
    error, fields = errors_of(exc)
    if request.POST.get("next") == "queue":
        return render(request, "health/queue.html", _queue_context(request.user) | {
            "error": error, "error_claim": claim.pk}, status=status_of(exc))
    claim = _claim(request.user, claim.pk)
    return render(request, "health/claim.html", _claim_context(
        request.user, claim, request.POST, fields) | {"error": error, "errors": fields}
        | (extra or {}), status=status_of(exc))


@login_required
@require_POST
def claim_review(request, pk: int):
    """Decide each flagged line (accept at the tariff, reduce, reject with a coded reason)."""
    user = request.user
    claim = _claim(user, pk)
    if not is_mutual_staff(user, claim.mutual):
        raise PermissionDenied
    flagged = [x.line_no for x in claim.lines.all() if x.status == "flagged"]
    errors: dict[str, Any] = {}
    decisions = forms.parse_decisions(request.POST, flagged, errors)
    try:
        if errors:
            raise FormErrors(errors)
        claim_services.claim_review(
            acting_user=user, claim=claim,
            decisions=[claim_services.LineDecision(d.line_no, d.action, d.reason,
                                                   d.quantity, d.unit_price)
                       for d in decisions],
            note=forms.clean_text(request.POST.get("note", ""))[:500])
        messages.success(request, _("Claim %(n)s reviewed.") % {"n": claim.number})
        return redirect("web:health_claim", pk=claim.pk)
    except FormErrors as exc:
        return _refused(request, claim, exc.as_application_error())
    except ApplicationError as exc:
        # "decisions.1.reason" is the second decided line: show it on that line.
        error, fields = errors_of(exc)
        for index, d in enumerate(decisions):
            for what, name in (("action", "action"), ("reason", "reason"),
                               ("quantity", "qty"), ("unit_price", "price"),
                               ("line_no", "action")):
                msg = fields.get(forms.field_key(f"decisions.{index}.{what}"))
                if msg:
                    fields[f"{name}_{d.line_no}"] = msg
        claim = _claim(user, claim.pk)
        return render(request, "health/claim.html", _claim_context(
            user, claim, request.POST, fields) | {"error": error, "errors": fields},
            status=status_of(exc))


@login_required
@require_POST
def claim_approve(request, pk: int):
    user = request.user
    claim = _claim(user, pk)
    try:
        claim_services.claim_approve(acting_user=user, claim=claim,
                                     note=forms.clean_text(request.POST.get("note", ""))[:500])
        messages.success(request, _("Claim %(n)s approved for payment.") % {"n": claim.number})
    except ApplicationError as exc:
        return _refused(request, claim, exc)
    return _after(request, claim)


@login_required
@require_POST
def claim_reject(request, pk: int):
    user = request.user
    claim = _claim(user, pk)
    try:
        claim_services.claim_reject(acting_user=user, claim=claim,
                                    reason=request.POST.get("reason", ""),
                                    note=forms.clean_text(request.POST.get("note", ""))[:500])
        messages.success(request, _("Claim %(n)s rejected.") % {"n": claim.number})
    except ApplicationError as exc:
        return _refused(request, claim, exc, {"reject_open": True})
    return _after(request, claim)
