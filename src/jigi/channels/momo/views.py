"""Mobile-money screens: "pay by mobile money" for staff (ask the member's wallet toward a
loan, a savings account or a coverage, then watch the payment: htmx redraws its card, "check
now" polls the provider), the member's return page, and the daily reconciliation report
(import the provider's statement, refund what matches nothing)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.channels.models import PaymentPurpose, PaymentStatus, StatementLine
from jigi.channels.momo import providers, selectors, services
from jigi.channels.momo.providers.base import ProviderError
from jigi.core.errors import ApplicationError, NotFound
from jigi.orgs.models import Unit
from jigi.web.view_helpers import new_key, refusal

STATUS_ICONS = {PaymentStatus.INITIATED: "⏳", PaymentStatus.PENDING: "📲",
                PaymentStatus.SUCCEEDED: "✅", PaymentStatus.FAILED: "❌",
                PaymentStatus.EXPIRED: "⌛", PaymentStatus.REFUNDED: "↩️"}
PURPOSES = [(p.value, p.label) for p in PaymentPurpose]


def _page(request, **extra):
    payments = list(selectors.payments_for_user(request.user)[:50])
    context = {"payments": payments, "purposes": PURPOSES, "icons": STATUS_ICONS,
               "key": new_key(), "form": {}, **extra}
    return render(request, "channels/momo/payments.html", context)


@login_required
def payments(request):
    form = {"purpose": request.GET.get("purpose", ""),
            "target_id": request.GET.get("target_id", "")}
    return _page(request, form=form)


@login_required
@require_POST
def payment_request(request):
    form = {k: request.POST.get(k, "") for k in ("purpose", "target_id", "amount", "phone")}
    try:
        payment = services.payment_request(
            acting_user=request.user, purpose=form["purpose"], target_id=form["target_id"],
            amount=form["amount"], phone=form["phone"],
            order_id=request.POST.get("idempotency_key", ""))
    except ApplicationError as exc:
        error, fields, status = refusal(exc)
        context = {"form": form, "error": error, "fields": fields, "purposes": PURPOSES,
                   "key": request.POST.get("idempotency_key") or new_key()}
        response = render(request, "channels/momo/_request_form.html", context, status=status)
        if request.headers.get("HX-Request"):
            # htmx swaps no 4xx answer: the refused form is answered 200 to replace the form.
            response.status_code = 200
        return response
    # The card, and a fresh form (a new key: the next payment is a new order).
    return render(request, "channels/momo/_request_done.html",
                  {"p": payment, "icons": STATUS_ICONS, "form": {}, "purposes": PURPOSES,
                   "key": new_key()})


@login_required
def payment_card(request, order_id: str):
    try:
        p = selectors.get_payment_for_user(request.user, order_id)
    except NotFound:
        return render(request, "channels/momo/_payment.html", {"missing": True}, status=404)
    if request.method == "POST":
        services.payment_poll(p)
        p.refresh_from_db()
    return render(request, "channels/momo/_payment.html", {"p": p, "icons": STATUS_ICONS})


def done(request, order_id: str):
    """Where the provider sends the member back: no detail, only 'thank you'."""
    return render(request, "channels/momo/done.html", {})


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return timezone.localdate()


def _statement_providers() -> dict[str, str]:
    """The configured providers whose statement may be imported, with their wallet's name."""
    return {name: providers.wallet_label(name) for name in providers.configured()}


def _report(request, day: date, status: int = 200, **extra):
    report = selectors.reconciliation_report(request.user, day)
    units = list(selectors.merchant_units_for_user(request.user))
    return render(request, "channels/momo/report.html",
                  {"report": report, "day": day, "icons": STATUS_ICONS, "units": units,
                   "statement_providers": _statement_providers(), **extra}, status=status)


@login_required
def report(request):
    return _report(request, _day(request.GET.get("day", "")))


@login_required
@require_POST
def statement_import(request):
    day = _day(request.POST.get("day", ""))
    unit_id = request.POST.get("unit", "")
    unit = Unit.objects.filter(pk=int(unit_id)).first() if unit_id.isdigit() else None
    try:
        if unit is None:
            raise NotFound("unit_not_found", "?")
        name = request.POST.get("provider") or providers.config()["provider"]
        if name not in _statement_providers():
            raise ApplicationError("invalid", _("Choose one of the allowed values."),
                                   status_code=422)
        try:
            rows = providers.get_provider(name).statement(day=day.isoformat())
        except ProviderError as exc:
            raise ApplicationError("provider_unavailable", str(exc), status_code=409) from exc
        counts = services.statement_import(acting_user=request.user, provider=name, unit=unit,
                                           rows=rows)
    except ApplicationError as exc:
        error, _fields, status = refusal(exc)
        return _report(request, day, error=error, status=status)
    return _report(request, day, imported=counts)


@login_required
@require_POST
def refund(request, line_id: int):
    day = _day(request.POST.get("day", ""))
    line = StatementLine.objects.filter(pk=line_id).first()
    try:
        if line is None:
            raise NotFound("line_not_found", "?")
        services.refund_create(acting_user=request.user, line=line)
    except ApplicationError as exc:
        error, _fields, status = refusal(exc)
        return _report(request, day, error=error, status=status)
    return _report(request, day, refunded=line.provider_txn_id)


@login_required
@require_POST
def refund_confirm(request, reference: str):
    """A refund made by hand on the provider's portal, confirmed with its reference."""
    day = _day(request.POST.get("day", ""))
    try:
        refund = services.refund_confirm(acting_user=request.user, reference=reference,
                                         provider_ref=request.POST.get("provider_ref", ""))
    except ApplicationError as exc:
        error, _fields, status = refusal(exc)
        return _report(request, day, error=error, status=status)
    return _report(request, day, confirmed=refund.reference)
