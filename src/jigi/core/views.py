from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from jigi.core.selectors import audit_events_for_user
from jigi.orgs.models import Role
from jigi.orgs.scoping import user_scope

AUDIT_ROLES = {Role.NETWORK_AUDITOR, Role.CAISSE_MANAGER, Role.NETWORK_ADMIN,
               Role.MUTUAL_MANAGER, Role.UNION_ADMIN, Role.MOVEMENT_ADMIN}


@login_required
def audit_list(request):
    if not user_scope(request.user).has_role(*AUDIT_ROLES):
        raise PermissionDenied
    qs = audit_events_for_user(
        request.user, event_type=request.GET.get("event_type", ""),
        subject_type=request.GET.get("subject_type", ""),
        subject_id=request.GET.get("subject_id", ""), actor=request.GET.get("actor", ""),
    ).select_related("actor")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"page": page, "filters": request.GET})
