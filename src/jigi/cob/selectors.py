"""Reads of close of business for the screens: who may see and start it, the state of the
network's business date and runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.http import Http404

from jigi.cob.models import BusinessDate, CobRun, RunStatus
from jigi.cob.services import run_progress
from jigi.orgs.models import Organisation, Role, UnitKind
from jigi.orgs.scoping import user_scope

VIEW_ROLES = {Role.NETWORK_ADMIN.value, Role.NETWORK_AUDITOR.value}
START_ROLES = {Role.NETWORK_ADMIN.value}


def network_for_user(user, *, start: bool = False) -> Organisation:
    """The network whose close of business the user may follow (network administrators and
    auditors, organisation-wide) or start (administrators); 404 otherwise."""
    scope = user_scope(user)
    networks = Organisation.objects.filter(units__kind=UnitKind.CAISSE).distinct().order_by(
        "code")
    if not scope.is_superuser:
        ids = scope.org_wide_ids(write=start, roles=START_ROLES if start else VIEW_ROLES)
        networks = networks.filter(pk__in=ids)
    org = networks.first()
    if org is None:
        raise Http404
    return org


@dataclass(frozen=True)
class CobState:
    organisation: Organisation
    last_closed: date | None
    running: CobRun | None
    done: int  # partitions of the running (or last) run closed so far
    runs: list[CobRun]


def cob_state(organisation: Organisation, *, runs: int = 10) -> CobState:
    bd = BusinessDate.objects.filter(organisation=organisation).first()
    recent = list(CobRun.objects.filter(organisation=organisation).order_by("-pk")[:runs])
    running = next((r for r in recent if r.status == RunStatus.RUNNING), None)
    shown = running or (recent[0] if recent else None)
    return CobState(organisation=organisation, last_closed=bd.last_closed if bd else None,
                    running=running, done=run_progress(shown) if shown else 0, runs=recent)
