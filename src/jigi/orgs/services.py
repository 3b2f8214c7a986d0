"""Writes for organisations, units and staff roles."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log, snapshot
from jigi.core.errors import ApplicationError
from jigi.orgs.models import (
    ROLE_ORG_KIND,
    ApiToken,
    Organisation,
    Role,
    StaffRole,
    Unit,
    UnitKind,
)


def unit_create(
    *,
    organisation: Organisation,
    kind: str,
    code: str,
    name: str,
    parent: Unit | None = None,
    region: str = "",
    cercle: str = "",
    commune: str = "",
    urban: bool = False,
    member_group: str = "",
    acting_user=None,
) -> Unit:
    if parent is not None and parent.organisation_id != organisation.pk:
        raise ApplicationError(
            "unit_parent_other_org", _("The parent unit belongs to another organisation."),
            {"parent": _("Choose a unit of the same organisation.")},
        )
    if kind not in UnitKind.values:
        raise ApplicationError("unit_kind", _("Unknown unit kind."), {"kind": _("Unknown unit kind.")})
    with transaction.atomic():
        unit = Unit.objects.create(
            organisation=organisation, parent=parent, kind=kind, code=code, name=name,
            region=region, cercle=cercle, commune=commune, urban=urban, member_group=member_group,
        )
        unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
        unit.save(update_fields=["path"])
        audit_log(actor=acting_user, event_type="unit.created", subject=unit,
                  after=snapshot(unit, ["code", "name", "kind", "parent"]),
                  organisation=organisation, unit=unit)
    return unit


def role_grant(
    *, user, organisation: Organisation, role: str, unit: Unit | None = None, acting_user=None
) -> StaffRole:
    if role not in Role.values:
        raise ApplicationError("role_unknown", _("Unknown role."), {"role": _("Unknown role.")})
    if ROLE_ORG_KIND[Role(role)] != organisation.kind:
        raise ApplicationError(
            "role_wrong_org", _("This role does not exist in this organisation."),
            {"role": _("This role does not exist in this organisation.")},
        )
    if unit is not None and unit.organisation_id != organisation.pk:
        raise ApplicationError(
            "role_unit_other_org", _("The unit belongs to another organisation."),
            {"unit": _("Choose a unit of the same organisation.")},
        )
    with transaction.atomic():
        sr = StaffRole.objects.create(user=user, organisation=organisation, unit=unit, role=role)
        audit_log(actor=acting_user, event_type="role.granted", subject=sr,
                  after=snapshot(sr, ["user", "organisation", "unit", "role"]),
                  organisation=organisation, unit=unit)
    return sr


def role_revoke(*, staff_role: StaffRole, acting_user) -> StaffRole:
    with transaction.atomic():
        before = snapshot(staff_role, ["revoked_at"])
        staff_role.revoked_at = timezone.now()
        staff_role.save(update_fields=["revoked_at"])
        audit_log(actor=acting_user, event_type="role.revoked", subject=staff_role, before=before,
                  after=snapshot(staff_role, ["revoked_at"]),
                  organisation=staff_role.organisation, unit=staff_role.unit)
    return staff_role


def staff_user_create(
    *, username: str, password: str, first_name: str = "", last_name: str = "",
    organisation: Organisation, role: str, unit: Unit | None = None, acting_user=None,
):
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, password=password, first_name=first_name, last_name=last_name,
            is_staff=False,
        )
        audit_log(actor=acting_user, event_type="user.created", subject=user,
                  after={"username": username}, organisation=organisation, unit=unit)
        role_grant(user=user, organisation=organisation, role=role, unit=unit,
                   acting_user=acting_user)
    return user


def api_token_create(*, user, name: str, acting_user=None) -> tuple[ApiToken, str]:
    """Create a bearer token; the raw key is returned once and only its SHA-256 is stored."""
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], key_hash=hashlib.sha256(raw.encode()).hexdigest()
        )
        audit_log(actor=acting_user or user, event_type="token.created", subject=token,
                  after={"user": user.pk, "name": token.name})
    return token, raw
