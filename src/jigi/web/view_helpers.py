"""What the htmx screens of every app share: form keys against double posting, and a refused
action's messages laid out for the form (credit.views, health.views)."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _

from jigi.core.errors import ApplicationError
from jigi.web.forms import FormErrors, clean_text, field_key


def new_key() -> str:
    """A form's idempotency key, generated when the form is drawn."""
    return uuid.uuid4().hex


def form_key(request) -> str:
    key = clean_text(request.POST.get("idempotency_key", ""))
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
        fields[field_key(name)] = " ".join(msgs)
        for m in msgs:
            if m not in parts:
                parts.append(m)
    return " ".join(parts), fields


def status_of(exc: ApplicationError) -> int:
    """The page's status for a refused action: the service's 4xx, else 422."""
    return exc.status_code if 400 <= exc.status_code < 500 else 422


def refusal(exc: FormErrors | ApplicationError) -> tuple[str, dict[str, str], int]:
    """A refused form, whether the form's reading (FormErrors, 422) or the service refused it:
    its sentence, its field messages and the status to answer with."""
    if isinstance(exc, FormErrors):
        exc = exc.as_application_error()
    error, fields = errors_of(exc)
    return error, fields, status_of(exc)
