"""What the movement's services share: roles, scope checks, the movement's book.

Who may do what (orgs.scoping narrows each grant to the units it covers):
- organisers (usually limited to their section) register members, take dues, request
  waivers, open cases at intake, run campaigns, petitions and trainings for their section;
- case workers (usually the whole movement) see every case's existence and handle the cases
  assigned to them; confidential details only for the assigned ones;
- movement administrators do all of that for the whole movement, approve waivers (not their
  own requests), assign cases, change rates, deadlines and legal settings.
Anyone outside MTC (a Kondo teller, a UTM mutual manager) gets a 404 for the movement's data,
which tells nothing about what exists.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.core.cleaning import conflict
from jigi.core.errors import Forbidden, NotFound
from jigi.ledger.models import Book
from jigi.orgs.models import Organisation, OrgKind, Role, Unit, UnitKind
from jigi.orgs.scoping import user_scope

STAFF_ROLES = {Role.ORGANISER.value, Role.CASE_WORKER.value, Role.MOVEMENT_ADMIN.value}
ORGANISER_ROLES = {Role.ORGANISER.value, Role.MOVEMENT_ADMIN.value}
CASE_ROLES = {Role.CASE_WORKER.value, Role.MOVEMENT_ADMIN.value}
ADMIN_ROLES = {Role.MOVEMENT_ADMIN.value}

# Accounts of the movement chart (ledger/charts.py MOVEMENT).
DUES_RECEIVABLE = "411"
DUES_ADVANCE = "419"
DUES_INCOME = "756"
WAIVED = "658"
CASH = "57"
BANK = "52"
MOBILE_MONEY = "53"
CHANNEL_ACCOUNT = {"cash": CASH, "bank": BANK, "mobile_money": MOBILE_MONEY}


def movement_organisation() -> Organisation:
    org = Organisation.objects.filter(kind=OrgKind.MOVEMENT).order_by("pk").first()
    if org is None:
        raise NotFound("not_found", _("Not found."))
    return org


def movement_root(organisation: Organisation) -> Unit:
    root = Unit.objects.filter(organisation=organisation, kind=UnitKind.MOVEMENT,
                               parent__isnull=True).first()
    if root is None:
        raise NotFound("not_found", _("Not found."))
    return root


def require_section(section: Any) -> Unit:
    if not isinstance(section, Unit) or section.kind != UnitKind.SECTION:
        raise NotFound("section_not_found", _("Section not found."))
    return section


def is_movement_staff(user, organisation_id: int | None = None) -> bool:
    scope = user_scope(user)
    if scope.is_superuser:
        return True
    return any(g.role in STAFF_ROLES and (organisation_id is None
                                          or g.organisation_id == organisation_id)
               for g in scope.grants)


def require_role(user, unit: Unit, roles: set[str], *, not_found: Any = None) -> None:
    """The user works for this section (or the whole movement) in one of `roles`: otherwise
    404 when the unit is outside her movement scope, 403 when she sees it but may not do this."""
    scope = user_scope(user)
    if scope.covers_unit(unit, write=True, roles=roles):
        return
    if scope.covers_unit(unit, roles=STAFF_ROLES):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    raise NotFound("not_found", not_found or _("Not found."))


def book_of(organisation: Organisation) -> Book:
    """The movement keeps one book, at its root unit (sections have no accounts of their own)."""
    book = (Book.objects.select_related("organisation")
            .filter(unit=movement_root(organisation)).first())
    if book is None:
        raise conflict("no_book", _("The movement has no accounts book."))
    return book
