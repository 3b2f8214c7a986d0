"""What every health screen shares: who may open it, errors shown on the form, form keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

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
from jigi.web.view_helpers import errors_of, form_key, new_key, refusal, status_of

FormErrors = forms.FormErrors

__all__ = [
    "CLINIC_ROLES", "MANAGER_ROLES", "MUTUAL_STAFF_ROLES", "UNION_ROLES", "FormErrors",
    "errors_of", "fetch", "form_key", "is_manager", "is_mutual_staff", "is_union_admin",
    "keyed", "new_key", "refusal", "require_health", "require_roles", "status_of", "today",
]


def today() -> date:
    return timezone.localdate()


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
