"""SMS screens: the outbox (staff see their units' messages, search by phone, filter by status;
htmx redraws the table), the monthly cost report with its CSV, and a "send now"
button for managers (the sender and, with the simulator, its delivery reports)."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.channels import conf, selectors
from jigi.channels.models import MessageStatus, SmsPreference
from jigi.channels.sender import sms_send_queued
from jigi.channels.services import sms_budget_set, sms_preference_set, sms_simulate_reports
from jigi.core.cleaning import clean_amount
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.orgs.models import READ_ONLY_ROLES, Organisation
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import get_person_for_user
from jigi.web.view_helpers import refusal

PAGE = 100
STATUS_ICONS = {"queued": "⏳", "sent": "📤", "delivered": "✅", "failed": "❌",
                "cancelled": "🚫"}


def _orgs_or_403(user, roles=None):
    try:
        return selectors.organisations_for_user(user, roles=roles)
    except Forbidden as exc:
        raise PermissionDenied(str(exc.message)) from None


# Who presses "send the waiting messages": managers and administrators, not the auditor.
SEND_ROLES = frozenset(selectors.REPORT_ROLES - {str(r) for r in READ_ONLY_ROLES})


def _may_send(user) -> bool:
    scope = user_scope(user)
    return scope.is_superuser or bool(scope.roles & SEND_ROLES)


def _month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()  # noqa: DTZ007 - a month, no time
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def outbox(request):
    """The messages of the user's units (all her organisation's for an organisation-wide role;
    health messages for health roles only: selectors.outbox_q)."""
    _orgs_or_403(request.user, roles=selectors.OUTBOX_ROLES)
    phone = request.GET.get("phone", "").strip()[:32]
    status = request.GET.get("status", "")
    status = status if status in MessageStatus.values else ""
    rows = list(selectors.outbox_for_user(request.user, phone=phone, status=status)[:PAGE])
    context = {"rows": rows, "phone": phone, "status": status, "icons": STATUS_ICONS,
               "statuses": MessageStatus.choices, "page": PAGE,
               "can_send": _may_send(request.user), "backend": conf.sms_backend_name()}
    if request.htmx:
        return render(request, "channels/_outbox_table.html", context)
    return render(request, "channels/outbox.html", context)


@login_required
@require_POST
def send_now(request):
    if not _may_send(request.user):
        raise PermissionDenied
    # A page waits for the answer: with a throttled gateway, about five seconds' worth.
    rate = conf.sms_rate(conf.sms_backend_name())
    # Only the messages of the units she manages (case messages included, which she sends
    # without reading): never another caisse's or organisation's, nor their SMS budget.
    report = sms_send_queued(limit=500 if not rate else max(1, int(rate * 5)),
                             only=selectors.sendable_q(user_scope(request.user),
                                                       roles=SEND_ROLES))
    reports = sms_simulate_reports() if report.backend == "simulator" else 0
    if report.error:
        messages.error(request, _("The SMS gateway could not be reached: the messages wait "
                                  "for the next try."))
    else:
        messages.success(request, _("%(sent)d sent, %(failed)d failed, %(held)d over budget, "
                                    "%(cancelled)d cancelled (no consent).")
                         % {"sent": report.sent, "failed": report.failed, "held": report.held,
                            "cancelled": report.cancelled})
    if reports:
        messages.info(request, _("%(n)d delivery reports received.") % {"n": reports})
    return redirect("web:channels_outbox")


def _budget_organisations(user) -> list[Organisation]:
    """The organisations whose SMS budget the user sets (managers and administrators)."""
    qs = Organisation.objects.order_by("code")
    ids = selectors.budget_organisation_ids(user)
    return list(qs if ids is None else qs.filter(pk__in=ids))


@login_required
def cost_report(request):
    orgs = _orgs_or_403(request.user, roles=selectors.REPORT_ROLES)
    month = _month(request.GET.get("month", "") or request.POST.get("month", ""))
    settable = _budget_organisations(request.user)
    error, status = None, 200
    if request.method == "POST":
        organisation = next((o for o in settable if o.code == request.POST.get("organisation")),
                            None)
        if organisation is None:
            raise PermissionDenied
        try:
            amount = clean_amount(request.POST.get("amount", ""), allow_zero=True,
                                  maximum=10**12)
            sms_budget_set(organisation=organisation, month=month, amount=amount,
                           acting_user=request.user)
            messages.success(request, _("SMS budget saved."))
            return redirect(f"{reverse('web:channels_report')}?month={month:%Y-%m}")
        except ApplicationError as exc:
            error, _fields, status = refusal(exc)
    report = selectors.cost_report(month=month, organisation_ids=orgs)
    if request.GET.get("format") == "csv":
        response = HttpResponse(selectors.cost_report_csv(report), content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="sms-{month.strftime("%Y-%m")}.csv"')
        return response
    organisations = sorted(set(report.spent) | set(report.budgets) | set(report.queued))
    totals = [{"organisation": o, "budget": report.budgets.get(o),
               "spent": report.spent.get(o, 0), "queued": report.queued.get(o, 0),
               "over": report.budgets.get(o) is not None
               and report.spent.get(o, 0) >= report.budgets[o]}
              for o in organisations]
    return render(request, "channels/report.html", {
        "report": report, "totals": totals, "month": month.strftime("%Y-%m"),
        "settable": settable, "error": error}, status=status)


LANGUAGE_CHOICES = [("fr", "Français"), ("bm", "Bamanankan"), ("en", "English")]


@login_required
def preference(request, person_id: int):
    """A member's SMS choice, recorded at the counter: yes or no, and the language. Staff who
    see the person (404 otherwise); the read-only auditor only reads (403 on saving)."""
    try:
        person = get_person_for_user(request.user, person_id)
    except NotFound:
        raise Http404 from None
    pref = SmsPreference.objects.filter(person=person).first()
    error, status = None, 200
    if request.method == "POST":
        scope = user_scope(request.user)
        if not scope.is_superuser and not (scope.roles - {str(r) for r in READ_ONLY_ROLES}):
            raise PermissionDenied
        try:
            pref = sms_preference_set(person=person, opt_in=request.POST.get("opt_in") == "yes",
                                      language=request.POST.get("language", ""),
                                      acting_user=request.user)
            messages.success(request, _("SMS choice saved."))
            return redirect("web:channels_preference", person_id=person.pk)
        except ApplicationError as exc:
            error, _fields, status = refusal(exc)
    return render(request, "channels/preference.html", {
        "person": person, "pref": pref, "languages": LANGUAGE_CHOICES, "error": error,
        "language": pref.language if pref else (person.language or "fr")}, status=status)
