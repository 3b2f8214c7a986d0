"""Who may see and change what: the one place that turns a user's roles into query filters.

A role is scoped to an organisation and optionally one unit; a unit scope covers the unit and
every unit below it (a region's manager sees its caisses). Superusers see everything (the
system administrator is not a business user and is kept for set-up).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q

from jigi.core import prepared
from jigi.orgs.models import (
    HEALTH_ROLES,
    MOVEMENT_ROLES,
    READ_ONLY_ROLES,
    Organisation,
    Role,
    StaffRole,
    Unit,
)


@dataclass(frozen=True)
class Grant:
    organisation_id: int
    unit_id: int | None
    unit_path: str | None
    role: str


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    is_superuser: bool
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def organisation_ids(self) -> set[int]:
        return {g.organisation_id for g in self.grants}

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles & set(roles))

    @property
    def sees_health_data(self) -> bool:
        return self.is_superuser or bool(self.roles & {str(r) for r in HEALTH_ROLES})

    @property
    def sees_movement_data(self) -> bool:
        return self.is_superuser or bool(self.roles & {str(r) for r in MOVEMENT_ROLES})

    def unit_q(self, prefix: str = "", *, write: bool = False, roles: set[str] | None = None) -> Q:
        """A filter on a Unit relation (`prefix` is the lookup path to the unit, e.g. "unit__")."""
        if self.is_superuser:
            return Q()
        q = Q(pk__in=[])
        for g in self._grants(write=write, roles=roles):
            if g.unit_path is None:
                q |= Q(**{f"{prefix}organisation_id": g.organisation_id})
            else:
                q |= Q(**{f"{prefix}path__startswith": g.unit_path})
        return q

    def units(self, *, write: bool = False, roles: set[str] | None = None):
        return Unit.objects.filter(self.unit_q(write=write, roles=roles))

    def covers_unit(self, unit: Unit, *, write: bool = False, roles: set[str] | None = None) -> bool:
        if self.is_superuser:
            return True
        for g in self._grants(write=write, roles=roles):
            if g.organisation_id != unit.organisation_id:
                continue
            if g.unit_path is None or unit.path.startswith(g.unit_path):
                return True
        return False

    def org_wide_ids(self, *, write: bool = False, roles: set[str] | None = None) -> set[int]:
        """Organisations where the user holds a role not limited to a unit."""
        return {g.organisation_id for g in self._grants(write=write, roles=roles)
                if g.unit_id is None}

    def _grants(self, *, write: bool, roles: set[str] | None) -> list[Grant]:
        out = []
        for g in self.grants:
            if write and g.role in {str(r) for r in READ_ONLY_ROLES}:
                continue
            if roles is not None and g.role not in roles:
                continue
            out.append(g)
        return out


def grant_columns_sql(user_id: str) -> tuple[str, str]:
    """The grant columns (organisation, unit, unit path, role) and the joins that give them for
    the user whose id is the SQL expression `user_id`: one row per grant, NULLs when she holds
    none (LEFT JOINs, so the caller may read her own row in the same statement)."""
    q = connection.ops.quote_name
    columns = f"r.{q('organisation_id')}, r.{q('unit_id')}, ru.{q('path')}, r.{q('role')}"
    joins = (f"LEFT JOIN {q(StaffRole._meta.db_table)} r ON r.{q('user_id')} = {user_id} "
             f"AND r.{q('revoked_at')} IS NULL "
             f"LEFT JOIN {q(Unit._meta.db_table)} ru ON ru.{q('id')} = r.{q('unit_id')}")
    return columns, joins


def _grants_sql() -> str:
    q = connection.ops.quote_name
    return (  # names from the models, the user as a parameter
        f"SELECT r.{q('organisation_id')}, r.{q('unit_id')}, u.{q('path')}, r.{q('role')} "  # noqa: S608
        f"FROM {q(StaffRole._meta.db_table)} r "
        f"LEFT JOIN {q(Unit._meta.db_table)} u ON u.{q('id')} = r.{q('unit_id')} "
        f"WHERE r.{q('user_id')} = %s AND r.{q('revoked_at')} IS NULL ORDER BY r.{q('id')}")


def scope_from_rows(user, rows) -> Scope:
    """The user's scope from rows of `grant_columns_sql` (rows without a role are skipped), kept
    on the user object as `user_scope` keeps it."""
    scope = Scope(
        user_id=user.pk,
        is_superuser=user.is_superuser,
        grants=tuple(Grant(organisation_id=org, unit_id=unit, unit_path=path, role=role)
                     for org, unit, path, role in rows if role is not None),
    )
    with contextlib.suppress(AttributeError):
        user._jigi_scope = scope
    return scope


def user_scope(user) -> Scope:
    """The user's scope, computed once per user object (requests build a fresh user each time;
    an API token's look-up reads her grants in its own statement: `jigi.api`)."""
    cached = getattr(user, "_jigi_scope", None)
    if cached is not None:
        return cached
    if user is None or not user.is_authenticated:
        scope = Scope(user_id=None, is_superuser=False)
        with contextlib.suppress(AttributeError):
            user._jigi_scope = scope
        return scope
    # Every page computes it: one statement written once per process (jigi.core.prepared)
    # rather than the ORM's join compiled per request.
    with prepared.cursor() as cursor:
        rows = cursor.execute(prepared.statement("orgs.user_grants", _grants_sql),
                              [user.pk]).fetchall()
    return scope_from_rows(user, rows)


def primary_organisation(user) -> Organisation | None:
    scope = user_scope(user)
    if not scope.grants:
        return None
    return Organisation.objects.filter(pk=scope.grants[0].organisation_id).first()


__all__ = ["Grant", "Role", "Scope", "grant_columns_sql", "primary_organisation",
           "scope_from_rows", "user_scope"]
