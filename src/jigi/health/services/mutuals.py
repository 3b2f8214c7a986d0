"""Mutuals (profile and governance) and their benefit packages (garanties) with their rules."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log, snapshot
from jigi.core.errors import ApplicationError
from jigi.core.lookup import is_id
from jigi.health.models import (
    AreaKind,
    BenefitPackage,
    BenefitRule,
    ContributionBasis,
    ContributionFrequency,
    MutualProfile,
    ServiceGroup,
)
from jigi.health.services._common import (
    MANAGER_ROLES,
    clean_amount,
    clean_int,
    clean_text,
    conflict,
    invalid,
    require_mutual,
    require_role,
    require_union_admin,
    today,
)
from jigi.orgs.models import Organisation, Unit
from jigi.people.models import Person

# The offices of a mutual's board (conseil d'administration) and control committee.
BOARD_OFFICES = {"president", "vice_president", "secretary", "treasurer", "member",
                 "auditor"}
PROFILE_FIELDS = ["area_kind", "area", "target_population", "founded_on", "approval_ref",
                  "last_general_assembly", "board"]


def _clean_board(board: Any) -> list[dict[str, Any]]:
    if not isinstance(board, list) or len(board) > 40:
        raise invalid({"board": _("Give the board as a list of at most 40 members.")})
    out = []
    ids = []
    for i, row in enumerate(board):
        field = f"board.{i}"
        if not isinstance(row, dict):
            raise invalid({field: _("Give a person, an office and a start date.")})
        person_id = row.get("person_id")
        if not is_id(person_id):
            raise invalid({f"{field}.person_id": _("Unknown person.")})
        office = row.get("office")
        if office not in BOARD_OFFICES:
            raise invalid({f"{field}.office": _("Choose one of the allowed values.")})
        since = row.get("since")
        if since is not None:
            try:
                since = date.fromisoformat(since) if isinstance(since, str) else since
            except ValueError:
                since = "bad"
            if not isinstance(since, date) or since > today():
                raise invalid({f"{field}.since": _("Enter a valid date (YYYY-MM-DD).")})
        out.append({"person_id": person_id, "office": office,
                    "since": since.isoformat() if since else None})
        ids.append(person_id)
    known = set(Person.objects.filter(pk__in=ids, merged_into__isnull=True)
                .values_list("pk", flat=True))
    for i, pid in enumerate(ids):
        if pid not in known:
            raise invalid({f"board.{i}.person_id": _("Unknown person.")})
    return out


def mutual_profile_save(*, acting_user, mutual: Unit, **fields: Any) -> MutualProfile:
    """Create or change a mutual's profile: urban or rural, the area it covers, its target
    population, founding and approval, last general assembly, and its board as
    [{"person_id", "office", "since"}]. Only the given fields change. The mutual's manager or
    the union administrator."""
    mutual = require_mutual(mutual)
    require_role(acting_user, mutual, MANAGER_ROLES, not_found_code="mutual_not_found",
                 not_found=_("Mutual not found."))
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise invalid({name: _("Unknown field.") for name in sorted(unknown)})
    clean: dict[str, Any] = {}
    if "area_kind" in fields:
        if fields["area_kind"] not in AreaKind.values:
            raise invalid({"area_kind": _("Choose urban or rural.")})
        clean["area_kind"] = fields["area_kind"]
    if "area" in fields:
        clean["area"] = clean_text(fields["area"], "area", max_len=200)
    if "approval_ref" in fields:
        clean["approval_ref"] = clean_text(fields["approval_ref"], "approval_ref", max_len=64)
    if "target_population" in fields:
        clean["target_population"] = clean_int(fields["target_population"], "target_population",
                                               low=0, high=50_000_000)
    for name in ("founded_on", "last_general_assembly"):
        if name in fields:
            value = fields[name]
            if value is not None and (not isinstance(value, date) or value > today()
                                      or value.year < 1900):
                raise invalid({name: _("Enter a valid date, not in the future.")})
            clean[name] = value
    if "board" in fields:
        clean["board"] = _clean_board(fields["board"])
    with transaction.atomic(durable=True):
        profile = MutualProfile.objects.select_for_update().filter(unit=mutual).first()
        created = profile is None
        if created:
            profile = MutualProfile(unit=mutual, area_kind=AreaKind.URBAN if mutual.urban
                                    else AreaKind.RURAL)
        before = None if created else snapshot(profile, PROFILE_FIELDS)
        for k, v in clean.items():
            setattr(profile, k, v)
        profile.save()
        audit_log(actor=acting_user, event_type="health.mutual_profile_saved", subject=profile,
                  before=before, after=snapshot(profile, PROFILE_FIELDS), unit=mutual)
    return profile


# --- packages ---------------------------------------------------------------------------------

PACKAGE_FIELDS = ["name", "active", "card_fee", "contribution", "contribution_basis",
                  "frequency", "season_months", "child_max_age", "max_beneficiaries",
                  "other_dependants", "waiting_days", "waiting_days_lapse", "grace_days",
                  "exclusions", "valid_from", "valid_until"]
RULE_FIELDS = ["group", "mutual_share_pct", "ceiling_per_event", "ceiling_per_year",
               "max_quantity", "min_age", "max_age"]
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")
_ITEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,23}$")


def _clean_package(raw: dict[str, Any], *, current: BenefitPackage | None) -> dict[str, Any]:
    unknown = set(raw) - set(PACKAGE_FIELDS)
    if unknown:
        raise invalid({name: _("Unknown field.") for name in sorted(unknown)})
    out: dict[str, Any] = {}
    if "name" in raw or current is None:
        out["name"] = clean_text(raw.get("name"), "name", max_len=100, required=True)
    if "active" in raw:
        if not isinstance(raw["active"], bool):
            raise invalid({"active": _("Enter true or false.")})
        out["active"] = raw["active"]
    if "card_fee" in raw:
        out["card_fee"] = clean_amount(raw["card_fee"], "card_fee", allow_zero=True,
                                       maximum=1_000_000)
    if "contribution" in raw or current is None:
        out["contribution"] = clean_amount(raw.get("contribution"), "contribution",
                                           maximum=1_000_000)
    if "contribution_basis" in raw:
        if raw["contribution_basis"] not in ContributionBasis.values:
            raise invalid({"contribution_basis": _("Choose per beneficiary or per family.")})
        out["contribution_basis"] = raw["contribution_basis"]
    if "frequency" in raw:
        if raw["frequency"] not in ContributionFrequency.values:
            raise invalid({"frequency": _("Choose monthly, seasonal or yearly.")})
        out["frequency"] = raw["frequency"]
    if "season_months" in raw:
        months = raw["season_months"]
        if not isinstance(months, list) or any(
                isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12
                for m in months) or len(set(months)) != len(months):
            raise invalid({"season_months": _("Give distinct months from 1 to 12.")})
        out["season_months"] = sorted(months)
    for name, high in (("child_max_age", 25), ("waiting_days", 730),
                       ("waiting_days_lapse", 365), ("grace_days", 365)):
        if name in raw:
            out[name] = clean_int(raw[name], name, low=0, high=high)
    if "max_beneficiaries" in raw:
        out["max_beneficiaries"] = clean_int(raw["max_beneficiaries"], "max_beneficiaries",
                                             low=1, high=100, optional=True)
    if "other_dependants" in raw:
        if not isinstance(raw["other_dependants"], bool):
            raise invalid({"other_dependants": _("Enter true or false.")})
        out["other_dependants"] = raw["other_dependants"]
    if "exclusions" in raw:
        items = raw["exclusions"]
        if not isinstance(items, list) or len(items) > 500 or any(
                not isinstance(x, str) or not _ITEM.match(x) for x in items):
            raise invalid({"exclusions": _("Give the excluded tariff codes as a list.")})
        out["exclusions"] = sorted(set(items))
    for name in ("valid_from", "valid_until"):
        if name in raw:
            value = raw[name]
            if (value is None and name == "valid_until") or (
                    isinstance(value, date) and 2000 <= value.year <= 2100):
                out[name] = value
            else:
                raise invalid({name: _("Enter a valid date (YYYY-MM-DD).")})
    merged = {k: getattr(current, k) for k in PACKAGE_FIELDS} if current else {}
    merged.update(out)
    if merged.get("valid_from") is None:
        out["valid_from"] = merged["valid_from"] = today()
    if merged.get("valid_until") and merged["valid_until"] < merged["valid_from"]:
        raise invalid({"valid_until": _("The end of validity is before its start.")})
    if merged.get("frequency", ContributionFrequency.MONTHLY) == ContributionFrequency.SEASONAL \
            and not merged.get("season_months"):
        raise invalid({"season_months": _("A seasonal package needs its due months.")})
    return out


def _clean_rules(rules: Any) -> list[dict[str, Any]]:
    if not isinstance(rules, list) or len(rules) > len(ServiceGroup.values):
        raise invalid({"rules": _("Give one rule per service group.")})
    out = []
    seen = set()
    for i, raw in enumerate(rules):
        f = f"rules.{i}"
        if not isinstance(raw, dict):
            raise invalid({f: _("Give the rule's fields.")})
        unknown = set(raw) - set(RULE_FIELDS)
        if unknown:
            raise invalid({f"{f}.{name}": _("Unknown field.") for name in sorted(unknown)})
        group = raw.get("group")
        if group not in ServiceGroup.values:
            raise invalid({f"{f}.group": _("Choose one of the allowed values.")})
        if group in seen:
            raise invalid({f"{f}.group": _("One rule per service group.")})
        seen.add(group)
        rule = {"group": group,
                "mutual_share_pct": clean_int(raw.get("mutual_share_pct"),
                                              f"{f}.mutual_share_pct", low=0, high=100)}
        for name in ("ceiling_per_event", "ceiling_per_year"):
            value = raw.get(name)
            rule[name] = None if value is None else clean_amount(value, f"{f}.{name}",
                                                                 maximum=100_000_000)
        rule["max_quantity"] = clean_int(raw.get("max_quantity"), f"{f}.max_quantity", low=1,
                                         high=10_000, optional=True)
        for name in ("min_age", "max_age"):
            rule[name] = clean_int(raw.get(name), f"{f}.{name}", low=0, high=120,
                                   optional=True)
        if rule["min_age"] is not None and rule["max_age"] is not None \
                and rule["min_age"] > rule["max_age"]:
            raise invalid({f"{f}.max_age": _("The maximum age is below the minimum age.")})
        out.append(rule)
    return out


def _require_package_admin(user, organisation: Organisation, mutual: Unit | None) -> None:
    if mutual is None:
        require_union_admin(user, organisation)
    else:
        require_role(user, mutual, MANAGER_ROLES, not_found_code="mutual_not_found",
                     not_found=_("Mutual not found."))


def _write_rules(package: BenefitPackage, rules: list[dict[str, Any]]) -> None:
    BenefitRule.objects.filter(package=package).delete()
    BenefitRule.objects.bulk_create([BenefitRule(package=package, **r) for r in rules])


def package_create(*, acting_user, organisation: Organisation, code: str,
                   mutual: Unit | None = None, rules: list[dict[str, Any]] | None = None,
                   **fields: Any) -> BenefitPackage:
    """A new package: union-wide (mutual=None, offered by every mutual; the union
    administrator) or one mutual's own (its manager). `fields` are the package's settings
    (PACKAGE_FIELDS), `rules` one dict per covered service group (RULE_FIELDS): the mutual's
    share in %, ceilings per event and per beneficiary per year, quantity limit, ages."""
    if mutual is not None:
        require_mutual(mutual)
        if mutual.organisation_id != organisation.pk:
            raise invalid({"mutual": _("This mutual belongs to another organisation.")})
    _require_package_admin(acting_user, organisation, mutual)
    code = clean_text(code, "code", max_len=16, required=True).upper()
    if not _CODE.match(code):
        raise invalid({"code": _("Capital letters, digits and dashes, at most 16.")})
    clean = _clean_package(fields, current=None)
    clean_rules = _clean_rules(rules or [])
    with transaction.atomic(durable=True):
        if BenefitPackage.objects.select_for_update().filter(
                organisation=organisation, mutual=mutual, code=code).exists():
            raise conflict("package_code_taken", _("A package with this code exists already."),
                           "code")
        package = BenefitPackage.objects.create(organisation=organisation, mutual=mutual,
                                                code=code, **clean)
        _write_rules(package, clean_rules)
        audit_log(actor=acting_user, event_type="health.package_created", subject=package,
                  after=snapshot(package, ["code", *PACKAGE_FIELDS]) | {"rules": clean_rules},
                  organisation=organisation, unit=mutual)
    return package


def package_update(*, acting_user, package: BenefitPackage,
                   rules: list[dict[str, Any]] | None = None, **fields: Any) -> BenefitPackage:
    """Change a package's settings (only those given) and, when `rules` is given, replace its
    rules. Contributions already scheduled keep their amounts; new periods use the new ones."""
    _require_package_admin(acting_user, package.organisation, package.mutual)
    clean = _clean_package(fields, current=package)
    clean_rules = None if rules is None else _clean_rules(rules)
    with transaction.atomic(durable=True):
        locked = BenefitPackage.objects.select_for_update().get(pk=package.pk)
        before = snapshot(locked, PACKAGE_FIELDS)
        for k, v in clean.items():
            setattr(locked, k, v)
        locked.save()
        if clean_rules is not None:
            _write_rules(locked, clean_rules)
        audit_log(actor=acting_user, event_type="health.package_updated", subject=locked,
                  before=before, after=snapshot(locked, PACKAGE_FIELDS)
                  | ({"rules": clean_rules} if clean_rules is not None else {}),
                  organisation=locked.organisation, unit=locked.mutual)
    return locked


def package_offered(package: BenefitPackage, mutual: Unit, on: date) -> None:
    """Refuse (422) a package the mutual does not offer on `on`: another mutual's, another
    organisation's, inactive or outside its validity."""
    ok = (package.organisation_id == mutual.organisation_id
          and package.mutual_id in (None, mutual.pk) and package.active
          and package.valid_from <= on
          and (package.valid_until is None or on <= package.valid_until))
    if not ok:
        raise ApplicationError("package_not_offered",
                               _("This package is not offered by this mutual on this date."),
                               {"package": _("This package is not offered by this mutual on "
                                             "this date.")}, status_code=422)
