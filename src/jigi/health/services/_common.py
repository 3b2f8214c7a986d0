"""What the UTM coverage services share: roles, scope checks, input cleaning, the transaction.

Who may do what (orgs.scoping narrows each grant to the units it covers):
- mutual staff (the mutual's manager and claims officers, the union administrator for every
  mutual) read the mutual's members, coverages and contributions;
- managers (the mutual's manager, the union administrator) enrol, collect, reverse and set up;
- the union administrator alone changes union-wide packages and conventions;
- clinic staff check eligibility (coverage status only) for the providers they work at.
Anyone else (a Kondo teller, an MTC organiser) gets a 404 for a mutual's data, which tells
nothing about what exists, and a 403 for the eligibility check.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.core.cleaning import (  # noqa: F401  (the health services import them from here)
    BACKDATE_DAYS,
    MAX_OPERATION,
    clean_amount,
    clean_date,
    clean_int,
    clean_text,
    conflict,
    finish,
    invalid,
    service_transaction,
    today,
)
from jigi.core.errors import Forbidden, NotFound
from jigi.ledger.models import Book
from jigi.orgs.models import Role, Unit, UnitKind
from jigi.orgs.scoping import user_scope

MUTUAL_STAFF_ROLES = {Role.MUTUAL_MANAGER.value, Role.CLAIMS_OFFICER.value,
                      Role.UNION_ADMIN.value}
MANAGER_ROLES = {Role.MUTUAL_MANAGER.value, Role.UNION_ADMIN.value}
UNION_ROLES = {Role.UNION_ADMIN.value}
CLINIC_ROLES = {Role.CLINIC_STAFF.value}

# Accounts of the mutual chart (ledger/charts.py MUTUAL) the coverage side posts to.
CARD_FEES = "702"
CONTRIBUTIONS = "701"
ADVANCES = "412"
CASH = "57"
SAVINGS_BANK = "52"  # the mutual's account at the savings cooperative (or bank)
MOBILE_MONEY = "53"
# What a payment debits, by channel: cash in the mutual's till, a transfer from Kondo savings
# or a partner's bank transfer to the mutual's account, mobile money.
CHANNEL_ACCOUNT = {"cash": CASH, "savings": SAVINGS_BANK, "partner": SAVINGS_BANK,
                   "mobile_money": MOBILE_MONEY}

def require_mutual(mutual: Any) -> Unit:
    if not isinstance(mutual, Unit) or mutual.kind != UnitKind.MUTUAL:
        raise NotFound("mutual_not_found", _("Mutual not found."))
    return mutual


def require_role(user, unit: Unit, roles: set[str], *, not_found_code: str = "not_found",
                 not_found: Any = None) -> None:
    """The user works for this mutual (or the union) in one of `roles`: otherwise 404 when the
    mutual's data is outside her health scope, 403 when she sees it but may not do this."""
    scope = user_scope(user)
    if scope.covers_unit(unit, write=True, roles=roles):
        return
    if scope.covers_unit(unit, roles=MUTUAL_STAFF_ROLES):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    raise NotFound(not_found_code, not_found or _("Not found."))


def union_root(organisation_id: int) -> Unit | None:
    return Unit.objects.filter(organisation_id=organisation_id, kind=UnitKind.UNION,
                               parent__isnull=True).first()


def is_union_admin(user, organisation_id: int) -> bool:
    """The user administers the whole union (a grant over the union's root unit)."""
    scope = user_scope(user)
    if scope.is_superuser:
        return True
    root = union_root(organisation_id)
    return root is not None and scope.covers_unit(root, write=True, roles=UNION_ROLES)


def require_union_admin(user, organisation) -> None:
    """Union-wide settings (packages and conventions of the whole union)."""
    if is_union_admin(user, organisation.pk):
        return
    scope = user_scope(user)
    if scope.sees_health_data and organisation.pk in scope.organisation_ids:
        raise Forbidden("forbidden", _("Only the union administrator changes union-wide "
                                       "settings."))
    raise NotFound("not_found", _("Not found."))


def book_of(unit: Unit) -> Book:
    """The mutual's (or the union's) book; one per unit, opened with the unit."""
    book = Book.objects.select_related("organisation").filter(unit=unit).first()
    if book is None:
        raise conflict("no_book", _("This mutual has no accounts book."))
    return book
