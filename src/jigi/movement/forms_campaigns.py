"""Turning the campaign and petition screens' POSTed fields into service arguments.

Only the shape of the HTML forms is undone here (dates and whole numbers typed as text, ticked
boxes as lists); every rule (lengths, regions, phones, dates in range) is the services'.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.web.forms import FormErrors, clean_text, parse_date, parse_int

__all__ = ["FormErrors", "action_fields", "campaign_fields", "confirm_fields",
           "milestone_fields", "partner_fields", "petition_fields", "signer_fields"]


def _ids(post, name: str, errors: dict[str, Any]) -> list[int]:
    out = []
    for raw in post.getlist(name):
        if not raw.isdigit() or len(raw) > 18:
            errors[name] = _("Choose from the list.")
            return []
        out.append(int(raw))
    return out


def _raise(errors: dict[str, Any]) -> None:
    if errors:
        raise FormErrors(errors)


def partner_fields(post) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    org = parse_int(post, "jigi_organisation_id", errors)
    _raise(errors)
    return {"name": clean_text(post.get("name")), "kind": clean_text(post.get("kind")),
            "contact": clean_text(post.get("contact")), "jigi_organisation_id": org}


def campaign_fields(post, *, creating: bool = True) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    fields = {
        "title": clean_text(post.get("title")),
        "goal": str(post.get("goal", "")).strip(),
        "starts_on": parse_date(post, "starts_on", errors, required=True),
        "ends_on": parse_date(post, "ends_on", errors),
        "groups": [g for g in post.getlist("groups") if g],
        "partner_ids": _ids(post, "partner_ids", errors),
    }
    # The goal is one paragraph on the screen: line breaks become spaces.
    fields["goal"] = clean_text(fields["goal"])
    if creating:
        fields["code"] = clean_text(post.get("code"))
    _raise(errors)
    return fields


def milestone_fields(post) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    due_on = parse_date(post, "due_on", errors, required=True)
    _raise(errors)
    return {"title": clean_text(post.get("title")), "due_on": due_on}


def action_fields(post) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    fields = {
        "kind": clean_text(post.get("kind")),
        "held_on": parse_date(post, "held_on", errors, required=True),
        "place": clean_text(post.get("place")),
        "note": clean_text(post.get("note")),
        "partner_id": parse_int(post, "partner_id", errors),
        "women": parse_int(post, "women", errors) or 0,
        "men": parse_int(post, "men", errors) or 0,
    }
    _raise(errors)
    return fields


def petition_fields(post) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    fields = {
        "title": clean_text(post.get("title")),
        # Paragraphs are kept; the service checks each line.
        "text": str(post.get("text", "")).replace("\r\n", "\n").strip(),
        "target": parse_int(post, "target", errors) or 0,
        "opens_on": parse_date(post, "opens_on", errors, required=True),
        "closes_on": parse_date(post, "closes_on", errors),
    }
    _raise(errors)
    return fields


def signer_fields(post, *, staff: bool) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    fields = {
        "name": clean_text(post.get("name")),
        "phone": clean_text(post.get("phone")),
        "sex": clean_text(post.get("sex")),
        "region": clean_text(post.get("region")),
        "commune": clean_text(post.get("commune")),
        "language": clean_text(post.get("language")) or "fr",
    }
    if staff:
        fields["person_id"] = parse_int(post, "person_id", errors)
    _raise(errors)
    return fields


def confirm_fields(post) -> dict[str, Any]:
    return {"phone": clean_text(post.get("phone")), "code": clean_text(post.get("code"))[:40]}
