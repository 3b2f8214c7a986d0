"""Reading the movement's member and dues forms: the group record's inputs follow the record's
model (labels, choices and kinds from the model fields, so form and service never disagree);
numbers and dates that are not numbers or dates are reported on their field before any service
is called. The services check every rule (ranges, phones, plausibility)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from jigi.movement.models import AreaKind, MemberProfile
from jigi.movement.services.members import RECORD_MODEL, record_fields
from jigi.orgs.models import MemberGroup
from jigi.web.forms import (  # noqa: F401  (the movement views import them from here)
    FormErrors,
    amount_text,
    clean_text,
    parse_date,
    parse_int,
)

MONEY_FIELDS = {"monthly_pay", "pay_arrears", "monthly_income"}
PERSON_TEXT = ["first_name", "last_name", "phone", "village", "commune", "cercle", "region"]


@dataclass(frozen=True)
class Input:
    """One input of a group record's form."""

    name: str
    label: Any
    kind: str  # text | money | number | flag | date | choice
    choices: list[tuple[str, Any]]
    required: bool


def _kind(name: str, f: models.Field) -> str:
    if isinstance(f, models.BooleanField):
        return "flag"
    if isinstance(f, models.DateField):
        return "date"
    if name in MONEY_FIELDS:
        return "money"
    if isinstance(f, models.IntegerField):
        return "number"
    if f.choices:
        return "choice"
    return "text"


def record_inputs(group: str) -> list[Input]:
    model = RECORD_MODEL[MemberGroup(group)]
    names = record_fields(group)
    out = []
    for f in model._meta.concrete_fields:
        if f.name not in names:
            continue
        required = isinstance(f, models.CharField) and not f.blank and not f.has_default()
        out.append(Input(f.name, f.verbose_name, _kind(f.name, f),
                         list(f.choices or []), required))
    return out


def flag(data, name: str) -> bool:
    return data.get(name) in ("on", "1", "true", "yes")


def read_record(data, group: str, *, partial: bool = False) -> dict[str, Any]:
    """The record's fields from a POST; checkboxes absent are "no"."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for i in record_inputs(group):
        if partial and i.kind != "flag" and i.name not in data:
            continue
        if i.kind == "flag":
            out[i.name] = flag(data, i.name)
        elif i.kind == "date":
            value = parse_date(data, i.name, errors)
            if value is not None:
                out[i.name] = value
        elif i.kind == "number":
            value = parse_int(data, i.name, errors)
            if value is not None:
                out[i.name] = value
        elif i.kind == "money":
            text = amount_text(data, i.name)
            if text:
                out[i.name] = text
        else:
            out[i.name] = clean_text(data.get(i.name, ""))
    if errors:
        raise FormErrors(errors)
    return out


def read_person(data) -> dict[str, Any]:
    """A new person's registry fields (the registry's service checks them)."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {name: clean_text(data.get(name, "")) for name in PERSON_TEXT}
    out["sex"] = clean_text(data.get("sex", ""))
    out["language"] = clean_text(data.get("language", "")) or "bm"
    birth_date = parse_date(data, "birth_date", errors)
    if birth_date is not None:
        out["birth_date"] = birth_date
    birth_year = parse_int(data, "birth_year", errors)
    if birth_year is not None:
        out["birth_year"] = birth_year
        out["birth_year_estimated"] = flag(data, "birth_year_estimated")
    if errors:
        raise FormErrors(errors)
    return out


def read_profile(data) -> dict[str, Any]:
    area = clean_text(data.get("area_kind", "")) or AreaKind.URBAN
    return {"area_kind": area, "rural_origin": flag(data, "rural_origin"),
            "home_village": clean_text(data.get("home_village", ""))}


def record_values(profile: MemberProfile) -> dict[str, Any]:
    """The record's current values, for an edit form."""
    from jigi.movement.selectors import record_of

    rec = record_of(profile)
    if rec is None:
        return {}
    return {i.name: getattr(rec, i.name) for i in record_inputs(profile.group)}


def bound_inputs(group: str, values: Any = None, errors: dict[str, Any] | None = None
                 ) -> list[dict[str, Any]]:
    """The record's inputs with what to show in them (posted or current values) and their
    error messages, for the templates."""
    values = values or {}
    errors = errors or {}
    out = []
    for i in record_inputs(group):
        raw = values.get(i.name)
        if i.kind == "flag":
            checked = raw in (True, "on", "1", "true", "yes")
            value = ""
        else:
            checked = False
            value = "" if raw is None else (raw.isoformat() if hasattr(raw, "isoformat")
                                            else str(raw))
        out.append({"i": i, "value": value, "checked": checked, "error": errors.get(i.name)})
    return out
