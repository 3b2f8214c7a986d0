"""Turning the set-up screens' POSTed fields (providers, conventions and tariffs, packages,
a mutual's profile, group agreements) into service arguments.

As in health.forms, no business rule lives here: only the shape of the HTML forms is undone
(one row per service group for a package's rules, numbered board seats, months ticked, codes
typed in one field) and text that is not a date or a whole number is reported on its field
before any service is called. What the values may be is the services' business.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.health.forms import amount_text, clean_text, field_key, parse_date, parse_int
from jigi.health.models import ServiceGroup

PROVIDER_TEXT = ("name", "kind", "region", "cercle", "commune", "village", "phone")

# The offices of services.mutuals.BOARD_OFFICES, in the order a board lists them.
BOARD_OFFICES: list[tuple[str, Any]] = [
    ("president", _("President")),
    ("vice_president", _("Vice-president")),
    ("secretary", _("Secretary")),
    ("treasurer", _("Treasurer")),
    ("member", _("Board member")),
    ("auditor", _("Auditor (control committee)")),
]
MAX_BOARD = 40

# A rule's fields as the service names them -> the prefix of their inputs on the form.
RULE_INPUTS = {"mutual_share_pct": "share", "ceiling_per_event": "event",
               "ceiling_per_year": "year", "max_quantity": "qty", "min_age": "min_age",
               "max_age": "max_age", "group": "rule"}
_CODES = re.compile(r"[\s,;]+")


def checked(data, name: str) -> bool:
    return data.get(name) in ("on", "1", "true", "yes")


def _text(data, name: str, limit: int = 300) -> str:
    # Longer than any field allows, so the service still refuses what is too long.
    return clean_text(data.get(name, ""))[:limit]


def _amount(data, name: str) -> str:
    return amount_text(data, name)[:40]


# --- providers, conventions, tariff items -----------------------------------------------------


def provider_fields(data, *, creating: bool) -> dict[str, Any]:
    out: dict[str, Any] = {name: _text(data, name) for name in PROVIDER_TEXT}
    if not creating:
        out["active"] = checked(data, "active")
    return out


def convention_fields(data, errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "reference": _text(data, "reference", 100),
        "valid_from": parse_date(data, "valid_from", errors, required=True),
        "valid_until": parse_date(data, "valid_until", errors),
        "tolerance_pct": parse_int(data, "tolerance_pct", errors, required=True),
    }


def item_fields(data, errors: dict[str, Any]) -> dict[str, Any]:
    """A tariff item as tariff_item_save takes it; its errors come back as "item.<field>"."""
    quantity = parse_int(data, "max_quantity", errors)
    if "max_quantity" in errors:
        errors["item.max_quantity"] = errors.pop("max_quantity")
    return {"code": _text(data, "code", 40), "label": _text(data, "label"),
            "kind": _text(data, "kind", 10), "group": _text(data, "group", 30),
            "price": _amount(data, "price"), "max_quantity": quantity}


# --- packages ---------------------------------------------------------------------------------

PACKAGE_INTS = (("child_max_age", True), ("waiting_days", True), ("waiting_days_lapse", True),
                ("grace_days", True), ("max_beneficiaries", False))


def package_fields(data, errors: dict[str, Any], *, creating: bool
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The package's settings (PACKAGE_FIELDS) and its rules, one per service group ticked."""
    fields: dict[str, Any] = {
        "name": _text(data, "name", 150),
        "active": checked(data, "active"),
        "card_fee": _amount(data, "card_fee") or 0,
        "contribution": _amount(data, "contribution"),
        "contribution_basis": _text(data, "contribution_basis", 20),
        "frequency": _text(data, "frequency", 20),
        "other_dependants": checked(data, "other_dependants"),
    }
    months = []
    for raw in data.getlist("season_months") if hasattr(data, "getlist") else []:
        if not str(raw).isdigit() or len(str(raw)) > 2:
            errors["season_months"] = _("Tick the months in the list.")
            break
        months.append(int(raw))
    fields["season_months"] = months
    for name, required in PACKAGE_INTS:
        fields[name] = parse_int(data, name, errors, required=required)
    codes = [c.upper() for c in _CODES.split(clean_text(data.get("exclusions", ""))) if c]
    fields["exclusions"] = codes[:600]
    valid_from = parse_date(data, "valid_from", errors, required=not creating)
    if valid_from is not None:
        fields["valid_from"] = valid_from
    fields["valid_until"] = parse_date(data, "valid_until", errors)
    rules = []
    for group in ServiceGroup.values:
        if not checked(data, f"rule_{group}"):
            continue
        rule: dict[str, Any] = {"group": group}
        rule["mutual_share_pct"] = parse_int(data, f"share_{group}", errors, required=True)
        for name in ("ceiling_per_event", "ceiling_per_year"):
            text = _amount(data, f"{RULE_INPUTS[name]}_{group}")
            rule[name] = text or None
        for name in ("max_quantity", "min_age", "max_age"):
            rule[name] = parse_int(data, f"{RULE_INPUTS[name]}_{group}", errors)
        rules.append(rule)
    return fields, rules


def rule_errors(fields: dict[str, str], rules: list[dict[str, Any]]) -> None:
    """"rules.2.ceiling_per_year" is the third rule sent: show it on its group's row."""
    for index, rule in enumerate(rules):
        for name, prefix in RULE_INPUTS.items():
            msg = fields.get(field_key(f"rules.{index}.{name}"))
            if msg:
                fields[f"{prefix}_{rule['group']}"] = msg


def rule_rows(rules: dict[str, Any], data, errors: dict[str, str]) -> list[dict[str, Any]]:
    """One row per service group for the form: as sent (after a refusal) or as stored
    (`rules` maps a group to its BenefitRule)."""
    rows = []
    for group, label in ServiceGroup.choices:
        row: dict[str, Any] = {"group": group, "label": label}
        if data:
            row["covered"] = checked(data, f"rule_{group}")
            for prefix in RULE_INPUTS.values():
                if prefix != "rule":
                    row[prefix] = clean_text(data.get(f"{prefix}_{group}", ""))[:20]
        else:
            r = rules.get(group)
            row["covered"] = r is not None
            for name, prefix in RULE_INPUTS.items():
                if prefix != "rule":
                    value = getattr(r, name, None) if r is not None else None
                    row[prefix] = "" if value is None else str(value)
        row["errors"] = {prefix: errors.get(f"{prefix}_{group}", "")
                         for prefix in RULE_INPUTS.values()}
        rows.append(row)
    return rows


# --- a mutual's profile -----------------------------------------------------------------------


def profile_fields(data, errors: dict[str, Any]) -> dict[str, Any]:
    """The profile's fields and its board: the seats kept (board_person_<i>, board_office_<i>,
    board_since_<i>; board_remove_<i> ticked to take a seat off) and the person added
    (add_person, add_office, add_since)."""
    target = parse_int(data, "target_population", errors)
    out: dict[str, Any] = {
        "area_kind": _text(data, "area_kind", 10),
        "area": _text(data, "area"),
        "approval_ref": _text(data, "approval_ref", 100),
        "target_population": 0 if target is None else target,
        "founded_on": parse_date(data, "founded_on", errors),
        "last_general_assembly": parse_date(data, "last_general_assembly", errors),
    }
    board = []
    for i in range(MAX_BOARD + 1):
        raw = data.get(f"board_person_{i}")
        if raw is None:
            break
        if checked(data, f"board_remove_{i}"):
            continue
        seat = _seat(data, f"board_person_{i}", f"board_office_{i}", f"board_since_{i}",
                     errors)
        if seat is not None:
            board.append(seat)
    added = clean_text(data.get("add_person", ""))
    if added:
        seat = _seat(data, "add_person", "add_office", "add_since", errors)
        if seat is not None:
            board.append(seat)
    out["board"] = board
    return out


def _seat(data, person: str, office: str, since: str, errors: dict[str, Any]
          ) -> dict[str, Any] | None:
    raw = clean_text(data.get(person, ""))
    if not raw.isdigit() or len(raw) > 18:
        errors[person] = _("Choose a person from the registry.")
        return None
    day = parse_date(data, since, errors)
    return {"person_id": int(raw), "office": _text(data, office, 30),
            "since": day.isoformat() if day else None}


def board_errors(fields: dict[str, str], board: list[dict[str, Any]], rows: list[int]) -> None:
    """"board.3.office" is the fourth seat sent; `rows` gives its input's number on the form
    (-1 for the person being added)."""
    for index, row in enumerate(rows):
        for name in ("person_id", "office", "since"):
            msg = fields.get(field_key(f"board.{index}.{name}"))
            if msg:
                short = "person" if name == "person_id" else name
                key = f"add_{short}" if row < 0 else f"board_{short}_{row}"
                fields[key] = msg


def board_rows_sent(data) -> list[int]:
    """The form numbers of the seats the POST keeps, in the order profile_fields sends them."""
    rows = []
    for i in range(MAX_BOARD + 1):
        if data.get(f"board_person_{i}") is None:
            break
        if not checked(data, f"board_remove_{i}"):
            rows.append(i)
    if clean_text(data.get("add_person", "")):
        rows.append(-1)
    return rows


# --- group agreements -------------------------------------------------------------------------


def person_ids(data, name: str, errors: dict[str, Any], *, limit: int = 500) -> list[int]:
    """The persons ticked (ids), in the order sent; at most `limit`."""
    out = []
    for raw in data.getlist(name) if hasattr(data, "getlist") else []:
        raw = str(raw)
        if not raw.isdigit() or len(raw) > 18:
            errors[name] = _("Tick persons from the list.")
            return []
        out.append(int(raw))
    if not out:
        errors[name] = _("Tick at least one person.")
    elif len(out) > limit:
        errors[name] = _("At most %(n)d persons at a time.") % {"n": limit}
    return out
