"""Reads of the audit trail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from jigi.core.models import AuditEvent
from jigi.orgs.models import Role
from jigi.orgs.scoping import user_scope

# Who reads the audit trail: auditors, managers and administrators, each within their scope
# (a caisse manager: the caisse's rows; a network auditor: all of Kondo; a superuser: all).
AUDIT_ROLES: frozenset[str] = frozenset({
    Role.NETWORK_AUDITOR, Role.CAISSE_MANAGER, Role.NETWORK_ADMIN,
    Role.MUTUAL_MANAGER, Role.UNION_ADMIN, Role.MOVEMENT_ADMIN,
})


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events_for_user(
    user, *, event_type: str = "", subject_type: str = "", subject_id: str = "",
    actor: str = "", date_from: date | None = None, date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit rows the user may read, newest first.

    Only the user's audit roles count: a teller who is also a mutual's manager reads the
    mutual's rows, not the caisse's. Organisation-wide roles read every row of their
    organisation; unit roles read the rows of their unit and the units below it. Rows with no
    organisation (system set-up) are for superusers. Filters: event type prefix ("ledger."),
    subject type and id, actor's username, and local calendar days [date_from, date_to].
    """
    # Typed filters: non-printable characters can match nothing (and PostgreSQL refuses NUL).
    event_type, subject_type, subject_id, actor = (
        "".join(c for c in (v or "") if c.isprintable()).strip()[:150]
        for v in (event_type, subject_type, subject_id, actor))
    scope = user_scope(user)
    qs = AuditEvent.objects.all()
    if not scope.is_superuser:
        org_wide = scope.org_wide_ids(roles=AUDIT_ROLES)
        qs = qs.filter(Q(organisation_id__in=org_wide)
                       | Q(unit__isnull=False) & scope.unit_q("unit__", roles=AUDIT_ROLES))
    if event_type:
        qs = qs.filter(event_type__startswith=event_type)
    if subject_type:
        qs = qs.filter(subject_type=subject_type)
    if subject_id:
        qs = qs.filter(subject_id=subject_id)
    if actor:
        qs = qs.filter(actor__username=actor)
    if date_from is not None:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to is not None and date_to < date.max:
        qs = qs.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    return qs.order_by("-created_at", "-id")

