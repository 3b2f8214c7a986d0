from __future__ import annotations

from django.db.models import Q, QuerySet

from jigi.core.models import AuditEvent
from jigi.orgs.scoping import user_scope


def audit_events_for_user(user, *, event_type: str = "", subject_type: str = "",
                          subject_id: str = "", actor: str = "") -> QuerySet[AuditEvent]:
    """Audit rows of the user's organisations (unit-scoped roles: their units' rows only)."""
    scope = user_scope(user)
    qs = AuditEvent.objects.all()
    if not scope.is_superuser:
        org_wide = scope.org_wide_ids()
        qs = qs.filter(Q(organisation_id__in=org_wide) | scope.unit_q("unit__"))
    if event_type:
        qs = qs.filter(event_type__startswith=event_type)
    if subject_type:
        qs = qs.filter(subject_type=subject_type)
    if subject_id:
        qs = qs.filter(subject_id=subject_id)
    if actor:
        qs = qs.filter(actor__username=actor)
    return qs.order_by("-created_at", "-id")
