"""What every health screen shares: who may open it, errors shown on the form, form keys."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.health import forms
from jigi.health.selectors_claims import (
    CLINIC_ROLES,
    MANAGER_ROLES,
    MUTUAL_STAFF_ROLES,
    UNION_ROLES,
)
from jigi.orgs.models import Unit
from jigi.orgs.scoping import user_scope
from jigi.savings.idempotency import IdempotencyClaim, keyed_call

FormErrors = forms.FormErrors

__all__ = [
    "CLINIC_ROLES", "MANAGER_ROLES", "MUTUAL_STAFF_ROLES", "UNION_ROLES", "FormErrors",
    "errors_of", "fetch", "form_key", "is_manager", "is_mutual_staff", "is_union_admin",
    "keyed", "new_key", "require_health", "require_roles", "status_of", "today",
]


def today() -> date:
    return timezone.localdate()


def new_key() -> str:
    return uuid.uuid4().hex


def form_key(request) -> str:
    key = forms.clean_text(request.POST.get("idempotency_key", ""))
    if not key or len(key) > 128:
        raise ApplicationError("idempotency_key_required",
                               _("This form has expired: open it again."), status_code=422)
    return key


def errors_of(exc: ApplicationError) -> tuple[str, dict[str, str]]:
    """The error's sentence (with its field messages, so nothing is lost when a field is not
    on the form) and the field messages by template-friendly key."""
    fields: dict[str, str] = {}
    parts = [str(exc.message)]
    for name, value in exc.fields.items():
        msgs = [str(m) for m in (value if isinstance(value, list | tuple) else [value])]
        fields[forms.field_key(name)] = " ".join(msgs)
        for m in msgs:
            if m not in parts:
                parts.append(m)
    return " ".join(parts), fields


def status_of(exc: ApplicationError) -> int:
    return exc.status_code if 400 <= exc.status_code < 500 else 422


def fetch(getter: Callable[..., Any], user, *args: Any, **kwargs: Any) -> Any:
    """A scoped selector's object, or the page's 404 (403 when the selector says the user sees
    it but may not act on it)."""
    try:
        return getter(user, *args, **kwargs)
    except Forbidden:
        raise PermissionDenied from None
    except (NotFound, ApplicationError):
        raise Http404 from None


def require_health(user) -> None:
    """Health screens are for health roles: a Kondo teller or an MTC organiser gets a 403."""
    if not user_scope(user).sees_health_data:
        raise PermissionDenied


def require_roles(user, roles: set[str]) -> None:
    scope = user_scope(user)
    if not scope.is_superuser and not scope.roles & roles:
        raise PermissionDenied


def is_mutual_staff(user, mutual: Unit) -> bool:
    return user_scope(user).covers_unit(mutual, write=True, roles=MUTUAL_STAFF_ROLES)


def is_manager(user, mutual: Unit) -> bool:
    return user_scope(user).covers_unit(mutual, write=True, roles=MANAGER_ROLES)


def is_union_admin(user, mutual: Unit) -> bool:
    return user_scope(user).covers_unit(mutual, write=True, roles=UNION_ROLES)


def keyed(request, *, endpoint: str, body: dict[str, Any], service: Callable[..., Any],
          render: Callable[[Any], Any], takes_claim: bool = False) -> Any:
    """Run a money-moving service once per form key: sending the form again (double click,
    reload) answers as the first time did instead of posting twice.

    A service that records the key in its own durable transaction takes the claim
    (`takes_claim`: contributions); the others (batches, plain `atomic()`) run inside one
    durable transaction opened here, with the key recorded first in it."""
    key = form_key(request)

    def run(claim: IdempotencyClaim) -> Any:
        if takes_claim:
            return service(claim)
        with transaction.atomic(durable=True):
            claim.begin()
            return claim.finish(service(None))

    _status, answer = keyed_call(request.user, key, endpoint=endpoint, body=body,
                                 render=render, run=run)
    return answer
