"""What each role sees first on its home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from jigi.orgs.models import Organisation, Unit
from jigi.orgs.scoping import user_scope
from jigi.people.models import Membership, MembershipStatus


@dataclass
class Dashboard:
    roles: list[str]
    organisations: list[Organisation]
    units: list[Unit]
    unit_count: int
    active_members: int
    women_members: int
    tiles: list[tuple[str, str, str]] = field(default_factory=list)  # (icon, label, url name)


def dashboard_for_user(user) -> Dashboard:
    scope = user_scope(user)
    units = scope.units().select_related("organisation").order_by("organisation__code", "code")
    members = Membership.objects.filter(
        scope.unit_q("unit__"), status=MembershipStatus.ACTIVE
    ).aggregate(n=Count("id"), women=Count("id", filter=Q(person__sex="F")))
    orgs = list(Organisation.objects.filter(pk__in=scope.organisation_ids)) if not scope.is_superuser \
        else list(Organisation.objects.all())
    return Dashboard(
        roles=sorted(scope.roles) or (["superuser"] if scope.is_superuser else []),
        organisations=orgs,
        units=list(units[:12]),
        unit_count=units.count(),
        active_members=members["n"] or 0,
        women_members=members["women"] or 0,
    )
