"""Health providers (CSCom, CSRef, hospitals, pharmacies, clinics), their clinic staff, and the
conventions that set their agreed tariffs, per mutual or for the whole union."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log, snapshot
from jigi.core.errors import Forbidden, NotFound
from jigi.health.models import Convention, Provider, ProviderKind, ServiceGroup, TariffItem
from jigi.health.services._common import (
    CLINIC_ROLES,
    MANAGER_ROLES,
    clean_amount,
    clean_int,
    clean_text,
    conflict,
    invalid,
    require_mutual,
    require_role,
    require_union_admin,
    union_root,
)
from jigi.orgs.models import Organisation, StaffRole, Unit
from jigi.orgs.scoping import user_scope
from jigi.people.phones import PhoneError, normalize_mali_phone

PROVIDER_FIELDS = ["name", "kind", "region", "cercle", "commune", "village", "phone", "active"]
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")
_ITEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,23}$")


def _require_provider_admin(user, organisation: Organisation) -> None:
    """Providers are the union's: its administrator or any of its mutual managers (a mutual
    signs with its local CSCom) registers and changes them."""
    root = union_root(organisation.pk)
    scope = user_scope(user)
    if scope.is_superuser:
        return
    if root is not None and (scope.covers_unit(root, write=True, roles=MANAGER_ROLES) or any(
            g.organisation_id == organisation.pk and g.role in MANAGER_ROLES
            for g in scope.grants)):
        return
    if scope.sees_health_data and organisation.pk in scope.organisation_ids:
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    raise NotFound("provider_not_found", _("Provider not found."))


def _clean_provider(raw: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown = set(raw) - set(PROVIDER_FIELDS)
    if unknown:
        raise invalid({name: _("Unknown field.") for name in sorted(unknown)})
    out: dict[str, Any] = {}
    if "name" in raw or creating:
        out["name"] = clean_text(raw.get("name"), "name", max_len=200, required=True)
    if "kind" in raw or creating:
        if raw.get("kind") not in ProviderKind.values:
            raise invalid({"kind": _("Choose CSCom, CSRef, hospital, pharmacy or clinic.")})
        out["kind"] = raw["kind"]
    for name in ("region", "cercle", "commune", "village"):
        if name in raw:
            out[name] = clean_text(raw[name], name, max_len=100)
    if "phone" in raw:
        phone = clean_text(raw["phone"], "phone", max_len=32)
        if phone:
            try:
                phone = normalize_mali_phone(phone)
            except PhoneError:
                raise invalid({"phone": _("Enter a Mali number: +223 and 8 digits.")}) from None
        out["phone"] = phone
    if "active" in raw:
        if not isinstance(raw["active"], bool):
            raise invalid({"active": _("Enter true or false.")})
        out["active"] = raw["active"]
    return out


def provider_create(*, acting_user, code: str, organisation: Organisation | None = None,
                    **fields: Any) -> Provider:
    """Register a health facility of the union: code (e.g. "CSCOM-HAM"), name, kind (cscom,
    csref, hospital, pharmacy, clinic), its place (region, cercle, commune, village) and phone.
    """
    if organisation is None:
        organisation = _union_of(acting_user)
    _require_provider_admin(acting_user, organisation)
    code = clean_text(code, "code", max_len=16, required=True).upper()
    if not _CODE.match(code):
        raise invalid({"code": _("Capital letters, digits and dashes, at most 16.")})
    clean = _clean_provider(fields, creating=True)
    with transaction.atomic(durable=True):
        if Provider.objects.select_for_update().filter(organisation=organisation,
                                                       code=code).exists():
            raise conflict("provider_code_taken", _("A provider with this code exists already."),
                           "code")
        provider = Provider.objects.create(organisation=organisation, code=code, **clean)
        audit_log(actor=acting_user, event_type="health.provider_created", subject=provider,
                  after=snapshot(provider, ["code", *PROVIDER_FIELDS]), organisation=organisation)
    return provider


def _union_of(user) -> Organisation:
    from jigi.orgs.models import OrgKind

    scope = user_scope(user)
    org = Organisation.objects.filter(kind=OrgKind.MUTUAL_UNION).filter(
        Q(pk__in=scope.organisation_ids) if not scope.is_superuser else Q()).first()
    if org is None:
        raise NotFound("provider_not_found", _("Provider not found."))
    return org


def provider_update(*, acting_user, provider: Provider, **fields: Any) -> Provider:
    """Change a provider's name, kind, place, phone or active flag (only those given)."""
    _require_provider_admin(acting_user, provider.organisation)
    clean = _clean_provider(fields, creating=False)
    with transaction.atomic(durable=True):
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        before = snapshot(locked, PROVIDER_FIELDS)
        for k, v in clean.items():
            setattr(locked, k, v)
        locked.save()
        audit_log(actor=acting_user, event_type="health.provider_updated", subject=locked,
                  before=before, after=snapshot(locked, PROVIDER_FIELDS),
                  organisation=locked.organisation)
    return locked


def provider_staff_link(*, acting_user, provider: Provider, user) -> Provider:
    """Let a clinic staff user of the union check eligibility and enter claims for this
    provider. The user must hold the clinic staff role in the provider's union."""
    _require_provider_admin(acting_user, provider.organisation)
    User = get_user_model()
    if not isinstance(user, User) or not StaffRole.objects.filter(
            user=user, organisation=provider.organisation, role__in=CLINIC_ROLES,
            revoked_at__isnull=True).exists():
        raise invalid({"user": _("This user is not clinic staff of the union.")})
    with transaction.atomic(durable=True):
        Provider.objects.select_for_update().get(pk=provider.pk)
        if provider.staff.filter(pk=user.pk).exists():
            raise conflict("already_linked", _("This user already works for this provider."),
                           "user")
        provider.staff.add(user)
        audit_log(actor=acting_user, event_type="health.provider_staff_linked",
                  subject=provider, after={"user": user.pk},
                  organisation=provider.organisation)
    return provider


def provider_staff_unlink(*, acting_user, provider: Provider, user) -> Provider:
    _require_provider_admin(acting_user, provider.organisation)
    with transaction.atomic(durable=True):
        Provider.objects.select_for_update().get(pk=provider.pk)
        if not provider.staff.filter(pk=getattr(user, "pk", None)).exists():
            raise NotFound("staff_not_found", _("This user does not work for this provider."))
        provider.staff.remove(user)
        audit_log(actor=acting_user, event_type="health.provider_staff_unlinked",
                  subject=provider, after={"user": user.pk},
                  organisation=provider.organisation)
    return provider


# --- conventions and tariffs ----------------------------------------------------------------

ITEM_FIELDS = ["code", "label", "kind", "group", "price", "max_quantity"]


def _clean_item(raw: Any, field: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise invalid({field: _("Give the item's code, label, group and price.")})
    unknown = set(raw) - set(ITEM_FIELDS)
    if unknown:
        raise invalid({f"{field}.{name}": _("Unknown field.") for name in sorted(unknown)})
    code = raw.get("code")
    if not isinstance(code, str) or not _ITEM.match(code.strip()):
        raise invalid({f"{field}.code": _("Letters, digits, dots and dashes, at most 24.")})
    kind = raw.get("kind", "act")
    if kind not in ("act", "drug"):
        raise invalid({f"{field}.kind": _("Choose act or drug.")})
    if raw.get("group") not in ServiceGroup.values:
        raise invalid({f"{field}.group": _("Choose one of the allowed values.")})
    return {
        "code": code.strip().upper(),
        "label": clean_text(raw.get("label"), f"{field}.label", max_len=200, required=True),
        "kind": kind, "group": raw["group"],
        "price": clean_amount(raw.get("price"), f"{field}.price", maximum=50_000_000),
        "max_quantity": clean_int(raw.get("max_quantity"), f"{field}.max_quantity", low=1,
                                  high=10_000, optional=True),
    }


def _clean_items(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or len(items) > 5_000:
        raise invalid({"items": _("Give the tariff as a list of at most 5,000 items.")})
    out = [_clean_item(raw, f"items.{i}") for i, raw in enumerate(items)]
    seen = set()
    for i, item in enumerate(out):
        if item["code"] in seen:
            raise invalid({f"items.{i}.code": _("This code appears twice in the tariff.")})
        seen.add(item["code"])
    return out


def _require_convention_admin(user, provider: Provider, mutual: Unit | None) -> None:
    if mutual is None:
        require_union_admin(user, provider.organisation)
    else:
        require_role(user, mutual, MANAGER_ROLES, not_found_code="mutual_not_found",
                     not_found=_("Mutual not found."))


def _overlapping(provider: Provider, mutual: Unit | None, valid_from: date,
                 valid_until: date | None, exclude_pk: int | None = None):
    qs = Convention.objects.filter(provider=provider, mutual=mutual)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    qs = qs.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=valid_from))
    if valid_until is not None:
        qs = qs.filter(valid_from__lte=valid_until)
    return qs


def _check_dates(valid_from: Any, valid_until: Any) -> None:
    if not isinstance(valid_from, date) or not 2000 <= valid_from.year <= 2100:
        raise invalid({"valid_from": _("Enter a valid date (YYYY-MM-DD).")})
    if valid_until is not None and (not isinstance(valid_until, date)
                                    or valid_until.year > 2100):
        raise invalid({"valid_until": _("Enter a valid date (YYYY-MM-DD).")})
    if valid_until is not None and valid_until < valid_from:
        raise invalid({"valid_until": _("The end of validity is before its start.")})


def convention_create(*, acting_user, provider: Provider, reference: str, valid_from: date,
                      mutual: Unit | None = None, valid_until: date | None = None,
                      tolerance_pct: int = 50, items: list[dict[str, Any]] | None = None
                      ) -> Convention:
    """A convention with a provider and its tariff (acts and drugs at agreed prices, with their
    service group and quantity limit): for one mutual (its manager) or union-wide (mutual=None,
    the union administrator). A mutual's own convention overrides the union's while in force.
    Two conventions of the same provider for the same mutual (or both union-wide) may not
    overlap in time."""
    if mutual is not None:
        require_mutual(mutual)
        if mutual.organisation_id != provider.organisation_id:
            raise invalid({"mutual": _("This mutual belongs to another organisation.")})
    _require_convention_admin(acting_user, provider, mutual)
    reference = clean_text(reference, "reference", max_len=32, required=True)
    _check_dates(valid_from, valid_until)
    tolerance_pct = clean_int(tolerance_pct, "tolerance_pct", low=0, high=1_000)
    clean_items = _clean_items(items or [])
    with transaction.atomic(durable=True):
        Provider.objects.select_for_update().get(pk=provider.pk)
        if _overlapping(provider, mutual, valid_from, valid_until).exists():
            raise conflict("convention_overlap",
                           _("Another convention of this provider is in force on these dates."),
                           "valid_from")
        convention = Convention.objects.create(
            provider=provider, mutual=mutual, reference=reference, valid_from=valid_from,
            valid_until=valid_until, tolerance_pct=tolerance_pct)
        TariffItem.objects.bulk_create([TariffItem(convention=convention, **item)
                                        for item in clean_items])
        audit_log(actor=acting_user, event_type="health.convention_created",
                  subject=convention,
                  after=snapshot(convention, ["provider", "mutual", "reference", "valid_from",
                                              "valid_until", "tolerance_pct"])
                  | {"items": len(clean_items)},
                  organisation=provider.organisation, unit=mutual)
    return convention


def convention_update(*, acting_user, convention: Convention, **fields: Any) -> Convention:
    """Change a convention's reference, validity dates or review tolerance (only those given)."""
    allowed = {"reference", "valid_from", "valid_until", "tolerance_pct"}
    unknown = set(fields) - allowed
    if unknown:
        raise invalid({name: _("Unknown field.") for name in sorted(unknown)})
    provider = convention.provider
    mutual = convention.mutual
    _require_convention_admin(acting_user, provider, mutual)
    with transaction.atomic(durable=True):
        locked = Convention.objects.select_for_update().get(pk=convention.pk)
        before = snapshot(locked, sorted(allowed))
        if "reference" in fields:
            locked.reference = clean_text(fields["reference"], "reference", max_len=32,
                                          required=True)
        if "tolerance_pct" in fields:
            locked.tolerance_pct = clean_int(fields["tolerance_pct"], "tolerance_pct", low=0,
                                             high=1_000)
        if "valid_from" in fields:
            locked.valid_from = fields["valid_from"]
        if "valid_until" in fields:
            locked.valid_until = fields["valid_until"]
        _check_dates(locked.valid_from, locked.valid_until)
        if _overlapping(provider, mutual, locked.valid_from, locked.valid_until,
                        exclude_pk=locked.pk).exists():
            raise conflict("convention_overlap",
                           _("Another convention of this provider is in force on these dates."),
                           "valid_from")
        locked.save()
        audit_log(actor=acting_user, event_type="health.convention_updated", subject=locked,
                  before=before, after=snapshot(locked, sorted(allowed)),
                  organisation=provider.organisation, unit=mutual)
    return locked


def tariff_item_save(*, acting_user, convention: Convention, item: dict[str, Any]
                     ) -> TariffItem:
    """Add an item to a convention's tariff, or change the item of the same code (label, kind,
    group, price, quantity limit)."""
    _require_convention_admin(acting_user, convention.provider, convention.mutual)
    clean = _clean_item(item, "item")
    with transaction.atomic(durable=True):
        Convention.objects.select_for_update().get(pk=convention.pk)
        row = TariffItem.objects.filter(convention=convention, code=clean["code"]).first()
        before = None if row is None else snapshot(row, ITEM_FIELDS)
        if row is None:
            row = TariffItem(convention=convention)
        for k, v in clean.items():
            setattr(row, k, v)
        row.save()
        audit_log(actor=acting_user, event_type="health.tariff_item_saved", subject=convention,
                  before=before, after=snapshot(row, ITEM_FIELDS),
                  organisation=convention.provider.organisation, unit=convention.mutual)
    return row
