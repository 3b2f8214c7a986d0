"""The one way services write audit rows."""

from __future__ import annotations

from typing import Any

from django.db import models

from jigi.core.models import AuditEvent


def audit_log(
    *,
    actor: Any,
    event_type: str,
    subject: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    organisation: Any = None,
    unit: Any = None,
) -> AuditEvent:
    if organisation is None and unit is not None:
        # The unit's organisation id is on the row already: no query for the organisation.
        organisation_id = unit.organisation_id
    else:
        organisation_id = organisation.pk if organisation is not None else None
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        event_type=event_type,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        before=before,
        after=after,
        organisation_id=organisation_id,
        unit=unit,
    )


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """A JSON-safe picture of some fields, for the before/after of an audit row."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, models.Model):
            value = value.pk
        elif value is not None and not isinstance(value, int | str | bool | float):
            value = str(value)
        out[name] = value
    return out
