"""Reading the cases screens' POSTed fields: text cleaned, dates and ids parsed, what is not one
reported on its field before a service is called. The rules are the services'."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.core.lookup import id_or_none
from jigi.movement.models import ActionKind, CaseCategory, CaseOutcome, CaseStatus
from jigi.movement.selectors_cases import CaseFilters
from jigi.web.forms import FormErrors, amount_text, clean_text, parse_date, parse_int

__all__ = ["ACTION_CHOICES", "FormErrors", "read_action", "read_close", "read_filters",
           "read_intake", "read_sms"]

# What a worker may record from the case page (intake and closure have their own forms).
ACTION_CHOICES = [(k.value, k.label) for k in ActionKind
                  if k not in (ActionKind.INTAKE, ActionKind.CLOSURE, ActionKind.REOPENING,
                               ActionKind.SMS)]  # an SMS is sent by its own form
CHANNEL_CHOICES = [("in_person", _("In person")), ("phone", _("Phone call"))]


def _yes(data, name: str) -> bool:
    return str(data.get(name, "")).lower() in {"1", "on", "yes", "true"}


def _version(data, errors: dict[str, Any]) -> int | None:
    return parse_int(data, "version", errors)


@dataclass
class Intake:
    person_id: int | None
    section_id: int | None
    values: dict[str, Any] = field(default_factory=dict)


def read_intake(data) -> Intake:
    errors: dict[str, Any] = {}
    person_id = id_or_none(data.get("person"))
    if person_id is None:
        errors["person"] = _("Choose the person.")
    section_id = id_or_none(data.get("section")) if data.get("section") else None
    confidential = data.get("confidential", "")
    values = {
        "category": clean_text(data.get("category", "")),
        "other_categories": [c for c in data.getlist("other_categories")
                             if c in CaseCategory.values][:8],
        "intake_channel": clean_text(data.get("intake_channel", "")),
        "summary": str(data.get("summary", "")).strip(),
        "employer_name": clean_text(data.get("employer_name", "")),
        "employer_phone": clean_text(data.get("employer_phone", "")),
        "marked_urgent": _yes(data, "urgent"),
        # "" = the category's default; "1" confidential; "0" not.
        "confidential": None if confidential not in {"0", "1"} else confidential == "1",
        "opened_on": parse_date(data, "opened_on", errors),
    }
    if errors:
        raise FormErrors(errors)
    return Intake(person_id, section_id, values)


def read_action(data) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    kind = clean_text(data.get("kind", ""))
    out = {
        "kind": kind,
        "happened_on": parse_date(data, "happened_on", errors),
        "note": str(data.get("note", "")).strip(),
        "amount_recovered": amount_text(data, "amount_recovered") or 0,
        "next_step": clean_text(data.get("next_step", "")),
        "next_step_due": parse_date(data, "next_step_due", errors),
        "version": _version(data, errors),
    }
    if errors:
        raise FormErrors(errors)
    return out


def read_sms(data) -> dict[str, Any]:
    """The case page's SMS form: the text (checked by the service) and the case's version the
    form was drawn with (a second click of it is a 409)."""
    errors: dict[str, Any] = {}
    out = {"text": data.get("text", ""), "version": _version(data, errors)}
    if errors:
        raise FormErrors(errors)
    return out


def read_close(data) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    out = {
        "outcome": clean_text(data.get("outcome", "")),
        "closed_on": parse_date(data, "closed_on", errors),
        "wages_recovered": amount_text(data, "wages_recovered") or None,
        "note": str(data.get("outcome_note", "")).strip(),
        "version": _version(data, errors),
    }
    if out["outcome"] not in CaseOutcome.values:
        errors["outcome"] = _("Choose the outcome.")
    if errors:
        raise FormErrors(errors)
    return out


def _tri(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


def read_filters(data) -> CaseFilters:
    """The list's filters; unknown values are ignored (a list is never refused)."""
    status = clean_text(data.get("status", ""))
    category = clean_text(data.get("category", ""))
    return CaseFilters(
        status=status if status in CaseStatus.values else "",
        category=category if category in CaseCategory.values else "",
        urgent=_tri(data.get("urgent", "")), overdue=_tri(data.get("overdue", "")),
        mine=_yes(data, "mine"))
