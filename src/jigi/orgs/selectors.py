from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jigi.core.errors import NotFound
from jigi.orgs.models import Organisation, Unit, UnitKind
from jigi.orgs.scoping import user_scope


def unit_list_for_user(user, *, kind: str | None = None):
    qs = user_scope(user).units().select_related("organisation", "parent")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("organisation__code", "code")


def get_unit_for_user(user, pk: int, *, write: bool = False) -> Unit:
    unit = Unit.objects.select_related("organisation").filter(pk=pk).first()
    if unit is None or not user_scope(user).covers_unit(unit, write=write):
        raise NotFound("unit_not_found", _("Unit not found."))
    return unit


def caisses(organisation: Organisation | None = None):
    qs = Unit.objects.filter(kind=UnitKind.CAISSE)
    if organisation:
        qs = qs.filter(organisation=organisation)
    return qs
