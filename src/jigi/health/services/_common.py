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

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.core.money import MoneyError, to_francs
from jigi.core.money_messages import MONEY_MESSAGES, money_message
from jigi.ledger.models import Book
from jigi.orgs.models import Role, Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.savings.idempotency import IdempotencyClaim

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

# No contribution of a family comes near ten million francs: above it is a typing error.
MAX_OPERATION = 10_000_000
# Enrolments and payments may be entered late from paper registers, not from another era.
BACKDATE_DAYS = 3 * 366



def today() -> date:
    return timezone.localdate()


def invalid(fields: dict[str, Any]) -> ApplicationError:
    return ApplicationError("invalid", _("Some fields are not valid."), fields, status_code=422)


def conflict(code: str, message: Any, field: str | None = None) -> Conflict:
    return Conflict(code, message, {field: message} if field else None)


def clean_amount(value: Any, field: str = "amount", *, allow_zero: bool = False,
                 maximum: int = MAX_OPERATION) -> int:
    """Whole francs, more than zero (or zero when allowed), at most `maximum`."""
    try:
        amount = to_francs(value, allow_zero=allow_zero)
    except MoneyError as exc:
        raise invalid({field: money_message(exc)}) from None
    if amount > maximum:
        raise invalid({field: MONEY_MESSAGES["too_large"]})
    return amount


def clean_text(value: Any, field: str, *, max_len: int, required: bool = False) -> str:
    """Stripped text without control characters (PostgreSQL cannot store NUL)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid({field: _("Enter text.")})
    value = value.strip()
    if required and not value:
        raise invalid({field: _("This field is required.")})
    if len(value) > max_len:
        raise invalid({field: _("At most %(n)d characters.") % {"n": max_len}})
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise invalid({field: _("Remove the control characters.")})
    return value


def clean_int(value: Any, field: str, *, low: int, high: int, optional: bool = False
              ) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid({field: _("Enter a whole number.")})
    if not low <= value <= high:
        raise invalid({field: _("Enter a number from %(low)d to %(high)d.")
                       % {"low": low, "high": high}})
    return value


def clean_date(value: Any, field: str, *, default: date | None = None, earliest: date | None = None,
               latest: date | None = None) -> date:
    """A date (today when None and no other default), not before `earliest`, not after
    `latest` (today unless said otherwise)."""
    if value is None:
        value = default or today()
    if not isinstance(value, date):
        raise invalid({field: _("Enter a valid date (YYYY-MM-DD).")})
    latest = today() if latest is None else latest
    earliest = today() - timedelta(days=BACKDATE_DAYS) if earliest is None else earliest
    if value > latest:
        raise invalid({field: _("This date is in the future.")})
    if value < earliest:
        raise invalid({field: _("This date is too far in the past.")})
    return value


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


@contextmanager
def service_transaction(idempotency: IdempotencyClaim | None = None) -> Iterator[None]:
    """A top-level service's own transaction; an API call's Idempotency-Key claim is recorded
    first in it, so a retry with the same key waits for this one and replays its answer."""
    with transaction.atomic(durable=True):
        if idempotency is not None:
            idempotency.begin()
        yield


def finish(idempotency: IdempotencyClaim | None, result: Any) -> Any:
    if idempotency is not None:
        idempotency.finish(result)
    return result
