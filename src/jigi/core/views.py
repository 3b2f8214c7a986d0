"""The audit trail screen (/audit/): who did what, when, to which record, within one's scope."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.http import urlencode

from jigi.core.selectors import AUDIT_ROLES, audit_events_for_user
from jigi.orgs.scoping import user_scope

PAGE_SIZE = 50
FILTERS = ("event_type", "subject_type", "subject_id", "actor", "from", "to")
# Suggestions for the event filter (a prefix matches every event of an app).
EVENT_PREFIXES = ("ledger.", "savings.", "credit.", "people.", "orgs.", "health.", "movement.")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def audit_list(request):
    if not user_scope(request.user).has_role(*AUDIT_ROLES):
        raise PermissionDenied
    filters = {k: request.GET.get(k, "").strip()[:150] for k in FILTERS}
    qs = audit_events_for_user(
        request.user, event_type=filters["event_type"], subject_type=filters["subject_type"],
        subject_id=filters["subject_id"], actor=filters["actor"],
        date_from=_date(filters["from"]), date_to=_date(filters["to"]),
    ).select_related("actor", "unit")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # Pagination links keep the filters.
    query = urlencode({k: v for k, v in filters.items() if v})
    template = "core/_audit_rows.html" if request.htmx else "core/audit.html"
    return render(request, template, {
        "page": page, "filters": filters, "query": query, "event_prefixes": EVENT_PREFIXES,
    })
