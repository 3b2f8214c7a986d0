from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from jigi.orgs.scoping import user_scope
from jigi.orgs.selectors import get_unit_for_user, unit_list_for_user

router = Router(tags=["organisations"])


class UnitOut(Schema):
    id: int
    organisation: str
    kind: str
    code: str
    name: str
    region: str
    cercle: str
    parent_id: int | None


class GrantOut(Schema):
    organisation_id: int
    unit_id: int | None
    role: str


class MeOut(Schema):
    username: str
    is_superuser: bool
    grants: list[GrantOut]


def _unit_out(u) -> dict:
    return {
        "id": u.pk, "organisation": u.organisation.code, "kind": u.kind, "code": u.code,
        "name": u.name, "region": u.region, "cercle": u.cercle, "parent_id": u.parent_id,
    }


@router.get("/me", response=MeOut)
def me(request: HttpRequest):
    scope = user_scope(request.user)
    return {
        "username": request.user.get_username(),
        "is_superuser": scope.is_superuser,
        "grants": [
            {"organisation_id": g.organisation_id, "unit_id": g.unit_id, "role": g.role}
            for g in scope.grants
        ],
    }


@router.get("/units", response=list[UnitOut])
def units(request: HttpRequest, kind: str | None = None):
    return [_unit_out(u) for u in unit_list_for_user(request.user, kind=kind)]


@router.get("/units/{unit_id}", response=UnitOut)
def unit_detail(request: HttpRequest, unit_id: int):
    return _unit_out(get_unit_for_user(request.user, unit_id))
