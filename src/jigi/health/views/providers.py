"""Providers (health centres, hospitals, pharmacies, clinics), the clinic staff who work there,
their conventions per mutual or union-wide, and each convention's tariff: items added or
changed one at a time, or a whole list imported from a CSV file (all or nothing, every
problem shown on its line)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.health import forms, forms_admin, selectors, selectors_admin, services, tariff_csv
from jigi.health.models import ProviderKind, ServiceGroup, TariffItem
from jigi.health.services import tariffs_import
from jigi.health.services._common import is_union_admin
from jigi.health.views._common import (
    FormErrors,
    fetch,
    refusal,
    require_health,
    today,
)
from jigi.orgs.models import Organisation, OrgKind
from jigi.orgs.scoping import user_scope


def _may_admin(user, provider=None) -> bool:
    if provider is not None:
        return selectors_admin.may_admin_providers(user, provider.organisation_id)
    return any(selectors_admin.may_admin_providers(user, org_id)
               for org_id in _health_orgs(user))


def _health_orgs(user) -> set[int]:
    scope = user_scope(user)
    qs = Organisation.objects.filter(kind=OrgKind.MUTUAL_UNION)
    if not scope.is_superuser:
        qs = qs.filter(pk__in=scope.organisation_ids)
    return set(qs.values_list("pk", flat=True))


# --- providers --------------------------------------------------------------------------------


@login_required
def provider_list(request):
    """The union's providers by kind, place and status."""
    user = request.user
    require_health(user)
    kind = request.GET.get("kind", "")
    kind = kind if kind in ProviderKind.values else ""
    place = forms.clean_text(request.GET.get("place", ""))[:60]
    active = request.GET.get("active", "")
    active = active if active in ("yes", "no") else ""
    rows = list(selectors_admin.provider_list(user, kind=kind, place=place, active=active)
                .prefetch_related("staff")[:500])
    return render(request, "health/providers_list.html", {
        "providers": rows, "kinds": ProviderKind.choices, "kind": kind, "place": place,
        "active": active, "can_admin": _may_admin(user),
    })


def _provider_form(request, provider=None):
    user = request.user
    creating = provider is None
    if not _may_admin(user, provider):
        raise PermissionDenied
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        data = forms_admin.provider_fields(post, creating=creating)
        try:
            if creating:
                provider = services.provider_create(
                    acting_user=user, code=forms.clean_text(post.get("code", ""))[:40], **data)
                messages.success(request, _("Provider %(name)s registered.") % {
                    "name": provider.name})
            else:
                provider = services.provider_update(acting_user=user, provider=provider,
                                                    **data)
                messages.success(request, _("Provider changed."))
            return redirect("web:health_provider", pk=provider.pk)
        except ApplicationError as exc:
            error, fields, status = refusal(exc)
    initial = post or ({} if creating else {
        name: getattr(provider, name) for name in (*forms_admin.PROVIDER_TEXT, "active")})
    return render(request, "health/providers_form.html", {
        "provider": provider, "creating": creating, "kinds": ProviderKind.choices,
        "v": initial, "error": error, "errors": fields,
    }, status=status)


@login_required
def provider_new(request):
    require_health(request.user)
    return _provider_form(request)


@login_required
def provider_edit(request, pk: int):
    provider = fetch(selectors.get_provider_for_user, request.user, pk)
    return _provider_form(request, provider)


def _provider_context(request, provider) -> dict[str, Any]:
    user = request.user
    can_admin = _may_admin(user, provider)
    conventions = list(selectors_admin.conventions_for_user(user, provider))
    on = today()
    for c in conventions:
        c.in_force = c.valid_from <= on and (c.valid_until is None or on <= c.valid_until)
        c.n_items = c.items.count()
    return {
        "provider": provider, "can_admin": can_admin,
        "staff": list(selectors_admin.provider_staff(provider)),
        "candidates": list(selectors_admin.clinic_staff_candidates(provider)) if can_admin
        else [],
        "conventions": conventions,
        "can_sign": bool(selectors_admin.convention_mutuals(user, provider))
        or is_union_admin(user, provider.organisation_id),
    }


@login_required
def provider_detail(request, pk: int):
    provider = fetch(selectors.get_provider_for_user, request.user, pk)
    return render(request, "health/providers_detail.html", _provider_context(request, provider))


@login_required
@require_POST
def provider_staff(request, pk: int):
    """Link a clinic staff user to the provider, or unlink one (`action`)."""
    user = request.user
    provider = fetch(selectors.get_provider_for_user, user, pk)
    action = request.POST.get("action", "")
    try:
        staff = selectors_admin.get_clinic_staff(provider, request.POST.get("user"))
        if staff is None:
            raise FormErrors({"user": _("Choose a clinic staff user of the union.")})
        if action == "unlink":
            services.provider_staff_unlink(acting_user=user, provider=provider, user=staff)
            messages.success(request, _("%(user)s no longer works for this provider.") % {
                "user": staff.get_full_name() or staff.username})
        else:
            services.provider_staff_link(acting_user=user, provider=provider, user=staff)
            messages.success(request, _("%(user)s now works for this provider.") % {
                "user": staff.get_full_name() or staff.username})
        return redirect("web:health_provider", pk=provider.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return render(request, "health/providers_detail.html", _provider_context(
        request, provider) | {"error": error, "errors": fields}, status=status)


# --- conventions ------------------------------------------------------------------------------


@login_required
def convention_new(request, pk: int):
    """A convention with this provider: for one of the user's mutuals, or union-wide (the
    union administrator)."""
    user = request.user
    provider = fetch(selectors.get_provider_for_user, user, pk)
    mutuals = selectors_admin.convention_mutuals(user, provider)
    union_wide = is_union_admin(user, provider.organisation_id)
    if not mutuals and not union_wide:
        raise PermissionDenied
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        errors: dict[str, Any] = {}
        try:
            data = forms_admin.convention_fields(post, errors)
            chosen = post.get("mutual", "")
            mutual = next((m for m in mutuals if str(m.pk) == chosen), None)
            if mutual is None and not (chosen == "" and union_wide):
                errors["mutual"] = _("Choose the mutual, or union-wide.")
            if errors:
                raise FormErrors(errors)
            convention = services.convention_create(acting_user=user, provider=provider,
                                                    mutual=mutual, **data)
            messages.success(request, _("Convention %(ref)s recorded: add its tariff.") % {
                "ref": convention.reference})
            return redirect("web:health_convention", pk=convention.pk)
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "health/convention_new.html", {
        "provider": provider, "mutuals": mutuals, "union_wide": union_wide, "v": post,
        "error": error, "errors": fields, "today": today(),
    }, status=status)


def _convention_context(request, convention, **extra: Any) -> dict[str, Any]:
    user = request.user
    items = list(selectors_admin.tariff_items(convention))
    groups = dict(ServiceGroup.choices)
    for item in items:
        item.group_label = groups.get(item.group, item.group)
    edit = forms.clean_text(request.GET.get("edit", "")).upper()[:24]
    editing = next((i for i in items if i.code == edit), None)
    item_v = extra.pop("item_v", None)
    if item_v is None and editing is not None:
        item_v = {"code": editing.code, "label": editing.label, "kind": editing.kind,
                  "group": editing.group, "price": editing.price,
                  "max_quantity": editing.max_quantity or ""}
    v = extra.pop("v", None)
    if v is None:
        v = {"reference": convention.reference, "valid_from": convention.valid_from,
             "valid_until": convention.valid_until or "",
             "tolerance_pct": convention.tolerance_pct}
    on = today()
    return {
        "convention": convention, "provider": convention.provider, "items": items,
        "can_change": selectors_admin.may_change_convention(user, convention),
        "in_force": convention.valid_from <= on and (convention.valid_until is None
                                                     or on <= convention.valid_until),
        "groups": ServiceGroup.choices, "kinds": TariffItem._meta.get_field("kind").choices,
        "item_v": item_v or {}, "editing": editing, "v": v,
        "columns": ";".join(tariff_csv.COLUMNS),
    } | extra


@login_required
def convention_detail(request, pk: int):
    """The convention and its tariff; POST changes its reference, dates or tolerance."""
    user = request.user
    convention = fetch(selectors_admin.get_convention_for_user, user, pk)
    if request.method != "POST":
        return render(request, "health/convention_detail.html",
                      _convention_context(request, convention))
    errors: dict[str, Any] = {}
    try:
        data = forms_admin.convention_fields(request.POST, errors)
        if errors:
            raise FormErrors(errors)
        services.convention_update(acting_user=user, convention=convention, **data)
        messages.success(request, _("Convention changed."))
        return redirect("web:health_convention", pk=convention.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return render(request, "health/convention_detail.html", _convention_context(
        request, convention, v=request.POST, error=error, errors=fields),
        status=status)


@login_required
@require_POST
def tariff_item(request, pk: int):
    """Add an item to the tariff, or change the item of the same code."""
    user = request.user
    convention = fetch(selectors_admin.get_convention_for_user, user, pk)
    errors: dict[str, Any] = {}
    try:
        item = forms_admin.item_fields(request.POST, errors)
        if errors:
            raise FormErrors(errors)
        row = services.tariff_item_save(acting_user=user, convention=convention, item=item)
        messages.success(request, _("Tariff item %(code)s saved.") % {"code": row.code})
        return redirect("web:health_convention", pk=convention.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return render(request, "health/convention_detail.html", _convention_context(
        request, convention, item_v=request.POST, error=error, errors=fields),
        status=status)


MAX_UPLOAD = tariff_csv.MAX_BYTES


@login_required
@require_POST
def tariff_import(request, pk: int):
    """Import a tariff list (a CSV file, or its lines pasted): every line checked, nothing
    written if one is wrong; the lines come back to be fixed in place."""
    user = request.user
    convention = fetch(selectors_admin.get_convention_for_user, user, pk)
    upload = request.FILES.get("tariff_file")
    pasted = str(request.POST.get("tariff_text", "") or "")
    text = pasted
    try:
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise FormErrors({"tariff_file": tariffs_import.MESSAGES[
                    tariff_csv.TOO_LARGE]})
            data: bytes | str = upload.read()
            text = tariff_csv.decode(data) or ""
        elif pasted.strip():
            data = pasted
        else:
            raise FormErrors({"tariff_file": _("Choose a CSV file or paste its lines.")})
        result = tariffs_import.tariff_import(acting_user=user, convention=convention,
                                              data=data)
        messages.success(request, _("Tariff imported: %(added)s added, %(changed)s changed, "
                                    "%(same)s unchanged.") % {
            "added": len(result.added), "changed": len(result.changed),
            "same": len(result.unchanged)})
        return redirect("web:health_convention", pk=convention.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
        problems = getattr(exc, "lines", [])
    return render(request, "health/convention_detail.html", _convention_context(
        request, convention, error=error, errors=fields, problems=problems,
        tariff_text=text[:MAX_UPLOAD]), status=status)


@login_required
def tariff_export(request, pk: int):
    """The convention's tariff as the CSV the import reads (to correct it and send it back)."""
    convention = fetch(selectors_admin.get_convention_for_user, request.user, pk)
    items = [tariff_csv.Item(i.code, i.label, i.kind, i.group, i.price, i.max_quantity)
             for i in selectors_admin.tariff_items(convention)]
    response = HttpResponse("\ufeff" + tariff_csv.render(items),
                            content_type="text/csv; charset=utf-8")
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in convention.reference)
    response["Content-Disposition"] = f'attachment; filename="tarif-{name}.csv"'
    return response


__all__ = [
    "convention_detail", "convention_new", "provider_detail", "provider_edit", "provider_list",
    "provider_new", "provider_staff", "tariff_export", "tariff_import", "tariff_item",
]
