"""Screens of field collection: the offline page (an installable app shell: the page, its
script and the service worker work without a connection once loaded), the caisse manager's
conflict review, and the end-of-day cash count."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jigi.channels.field import selectors, services
from jigi.core.cleaning import today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.web.view_helpers import refusal

STATIC = Path(__file__).resolve().parent.parent / "static" / "field"


@login_required
@require_GET
def field_app(request):
    """The officer's offline page; everything after the first load happens in field/app.js."""
    return render(request, "channels/field/app.html", {"today": today(), "strings": _strings()})


def _strings() -> dict[str, str]:
    """The words the page's script shows, in the user's language."""
    return {k: str(v) for k, v in {
        "online": _("Online"), "offline": _("Offline: records are kept on this device"),
        "ready_offline": _("Ready to work offline"),
        "no_offline": _("This browser cannot keep the page offline"),
        "no_sheet": _("No sheet yet: download it while online."),
        "no_group": _("No group."),
        "sheet_of": _("Sheet of"), "version": _("version"), "up_to_date": _("up to date"),
        "download_failed": _("Download failed: the last sheet is kept."),
        "due": _("due"), "repayment": _("Repayment"), "deposit": _("Savings"),
        "record": _("Record"), "enter_amount": _("Enter an amount."),
        "whole_francs": _("Whole francs only."), "more_than_zero": _("More than zero."),
        "too_large": _("Too large for a field collection."),
        "nothing_to_send": _("Nothing to send."),
        "not_sent": _("Not sent: the records stay on this device."),
        "server_refused": _("The server refused the batch"),
        "already_received": _("already received"),
        "status_applied": _("Applied"), "status_rejected": _("Rejected"),
        "status_conflict": _("Conflict to review"),
    }.items()}


@require_GET
def service_worker(request):
    """The service worker, served under /field/ so that it controls the page (a script under
    /static/ could only control /static/)."""
    response = HttpResponse((STATIC / "sw.js").read_text(encoding="utf-8"),
                            content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/field/"
    response["Cache-Control"] = "no-cache"
    return response


@login_required
@require_GET
def review(request):
    items = list(selectors.conflicts_for(request.user))
    return render(request, "channels/field/review.html", {"items": items})


@login_required
@require_POST
def review_resolve(request, item_id: int):
    try:
        item = services.field_conflict_resolve(acting_user=request.user, item_id=item_id,
                                               note=request.POST.get("note", ""))
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None
    except ApplicationError as exc:
        error, _fields, status = refusal(exc)
        return render(request, "channels/field/_review_row.html",
                      {"item": services.get_conflict_for_user(request.user, item_id),
                       "error": error}, status=status)
    return render(request, "channels/field/_review_row.html", {"item": item, "done": True})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def cash(request):
    """Pick the caisse, the officer and the day; see what her synced items total; count."""
    caisses = selectors.counter_caisses(request.user)
    if not caisses:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    caisse = next((c for c in caisses if c.pk == _int(data.get("caisse"))), caisses[0])
    officers = list(selectors.field_officers(caisse))
    officer = next((o for o in officers if o.pk == _int(data.get("officer"))),
                   officers[0] if officers else None)
    day = _day(data.get("day")) or today()
    context = {"caisses": caisses, "caisse": caisse, "officers": officers, "officer": officer,
               "day": day, "errors": {}}
    status = 200
    if request.method == "POST":
        try:
            services.field_cash_count(acting_user=request.user, caisse=caisse,
                                      officer_id=officer.pk if officer else None,
                                      day=_day(data.get("day")), counted=data.get("counted"),
                                      note=data.get("note", ""))
        except ApplicationError as exc:
            context["error"], context["errors"], status = refusal(exc)
            context["counted"] = data.get("counted", "")
            context["note"] = data.get("note", "")
        else:
            context["saved"] = True
    if officer is not None:
        context["expected"] = selectors.officer_day_total(officer, day, caisse.pk)
        context["count"] = selectors.cash_count_for(officer, day, caisse.pk)
        if context["count"] is not None:
            context["difference"] = context["count"].counted - context["count"].expected
    template = "channels/field/_cash.html" if request.htmx else "channels/field/cash.html"
    return render(request, template, context, status=status)
