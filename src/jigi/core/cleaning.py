"""Input cleaning every service shares: whole francs, text without control characters, whole
numbers in a range, dates neither in the future nor from another era; the 422 they raise
carries field-level messages in the user's language. Also the top-level service transaction
with its idempotency claim."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import ApplicationError, Conflict
from jigi.core.money import MoneyError, to_francs
from jigi.core.money_messages import MONEY_MESSAGES, money_message
from jigi.savings.idempotency import IdempotencyClaim

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
