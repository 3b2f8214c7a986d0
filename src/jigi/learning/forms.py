"""Reading the trainings' forms: fields parsed and reported on their own line before any
service is called; the services check the rules (dates, places, meetings 1..60)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.learning.models import LiteracyLevel
from jigi.web.forms import FormErrors, clean_text, parse_date, parse_int

__all__ = ["FormErrors", "clean_text", "parse_date", "parse_int", "programme_fields",
           "session_fields", "person_fields", "level"]


def programme_fields(post) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    pct = parse_int(post, "min_attendance_pct", errors, required=True)
    if errors:
        raise FormErrors(errors)
    return {"code": clean_text(post.get("code")), "name": clean_text(post.get("name")),
            "kind": clean_text(post.get("kind")),
            "description": clean_text(post.get("description")),
            "certificate_title": clean_text(post.get("certificate_title")),
            "min_attendance_pct": pct,
            # "auto" (or nothing): the service decides (yes for literacy programmes).
            "tracks_literacy": {"yes": True, "no": False}.get(post.get("tracks_literacy", ""))}


def session_fields(post) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    out = {
        "title": clean_text(post.get("title")), "place": clean_text(post.get("place")),
        "trainer": clean_text(post.get("trainer")),
        "starts_on": parse_date(post, "starts_on", errors, required=True),
        "ends_on": parse_date(post, "ends_on", errors, required=True),
        "meetings": parse_int(post, "meetings", errors, required=True),
        "capacity": parse_int(post, "capacity", errors, required=True),
        "language": clean_text(post.get("language")) or "bm",
    }
    if errors:
        raise FormErrors(errors)
    return out


def person_fields(post) -> dict[str, Any]:
    """A participant registered on the spot: names, sex, year of birth, phone (optional)."""
    errors: dict[str, Any] = {}
    year = parse_int(post, "birth_year", errors, required=True)
    if errors:
        raise FormErrors(errors)
    out = {"first_name": clean_text(post.get("first_name")),
           "last_name": clean_text(post.get("last_name")),
           "sex": clean_text(post.get("sex")), "birth_year": year,
           "birth_year_estimated": post.get("birth_year_estimated") == "on"}
    phone = clean_text(post.get("phone"))
    if phone:
        out["phone"] = phone
    return out


def level(post, name: str, errors: dict[str, Any]) -> int | None:
    """A literacy level chosen from the list (empty: not assessed)."""
    raw = clean_text(post.get(name))
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in LiteracyLevel.values:
        errors[name] = _("Choose one of the allowed values.")
        return None
    return int(raw)
