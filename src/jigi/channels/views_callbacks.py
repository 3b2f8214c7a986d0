"""The call-back requests screen: members who asked (by USSD) to be called, open ones first;
"Called" with a short note marks one handled (htmx redraws its row). One URL: GET lists,
POST marks (`request` = the request's id, `note`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jigi.channels import callbacks
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.web.view_helpers import refusal

PAGE = 100


@login_required
def callback_list(request):
    if not callbacks.callbacks_visible(request.user):
        raise Http404
    if request.method == "POST":
        return _handle(request)
    show = request.GET.get("show", "")
    show = show if show in ("open", "all") else "all"
    rows = list(callbacks.callbacks_for_user(request.user, open_only=show == "open")[:PAGE])
    return render(request, "channels/callbacks.html", {
        "rows": rows, "show": show, "page": PAGE,
        "open_count": callbacks.callbacks_open_count(request.user)})


def _handle(request):
    try:
        request_id = int(request.POST.get("request", ""))
    except ValueError:
        raise Http404 from None
    error, status = None, 200
    try:
        row = callbacks.callback_handle(acting_user=request.user, request_id=request_id,
                                        note=request.POST.get("note", ""))
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None
    except ApplicationError as exc:
        error, _fields, status = refusal(exc)
        row = callbacks.callback_get_for_user(request.user, request_id)
    if request.htmx:
        return render(request, "channels/callbacks_row.html",
                      {"row": row, "error": error}, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Marked as called."))
    return redirect("web:channels_callbacks")
