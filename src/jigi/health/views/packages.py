"""Benefit packages (garanties): the list, a new package (union-wide by the union
administrator, a mutual's own by its manager) and its changes: contributions and their
frequency (seasonal months), waiting periods, grace, child age limit, exclusions, and one rule
per service group (share paid by the mutual, ceilings per event and per year, quantity limit,
ages)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.translation import gettext as _

from jigi.core.errors import ApplicationError
from jigi.health import forms, forms_admin, selectors, selectors_admin, services
from jigi.health.models import ContributionBasis, ContributionFrequency, ServiceGroup
from jigi.health.views._common import (
    FormErrors,
    fetch,
    refusal,
    require_health,
    today,
)

# The months a seasonal package's contributions fall due in, ticked by name.
MONTHS = sorted(MONTHS_3.items())


@login_required
def package_list(request):
    """Every package the user sees (the union's and her mutuals' own) with its rules."""
    user = request.user
    require_health(user)
    groups = dict(ServiceGroup.choices)
    order = list(groups)
    rows = []
    for p in selectors.packages_visible(user)[:200]:
        rules = sorted(p.rules.all(), key=lambda r: order.index(r.group)
                       if r.group in order else 99)
        rows.append({"p": p, "can_change": selectors_admin.may_change_package(user, p),
                     "rules": [(groups.get(r.group, r.group), r, 100 - r.mutual_share_pct)
                               for r in rules]})
    return render(request, "health/package_list.html", {
        "packages": rows, "can_create": bool(selectors_admin.package_owners(user)),
    })


def _owner_value(kind: str, unit) -> str:
    return "union" if kind == "union" else str(unit.pk)


def _form_context(package, data, fields: dict[str, str]) -> dict[str, Any]:
    """The form's values: as sent after a refusal, or the package's (new: sensible
    defaults, the AMV's shape)."""
    if data:
        v: dict[str, Any] = {k: data.get(k, "") for k in (
            "code", "name", "card_fee", "contribution", "contribution_basis", "frequency",
            "child_max_age", "max_beneficiaries", "waiting_days", "waiting_days_lapse",
            "grace_days", "exclusions", "valid_from", "valid_until", "owner")}
        v["active"] = forms_admin.checked(data, "active")
        v["other_dependants"] = forms_admin.checked(data, "other_dependants")
        months = {m for m in data.getlist("season_months") if m.isdigit()}
        v["months"] = {int(m) for m in months if len(m) <= 2}
        rules: dict[str, Any] = {}
    elif package is not None:
        v = {k: getattr(package, k) for k in (
            "code", "name", "card_fee", "contribution", "contribution_basis", "frequency",
            "child_max_age", "waiting_days", "waiting_days_lapse", "grace_days",
            "valid_from", "active", "other_dependants")}
        v["max_beneficiaries"] = package.max_beneficiaries or ""
        v["valid_until"] = package.valid_until or ""
        v["exclusions"] = " ".join(package.exclusions or [])
        v["months"] = set(package.season_months or [])
        rules = {r.group: r for r in package.rules.all()}
    else:
        v = {"active": True, "card_fee": 0, "contribution_basis": ContributionBasis.PER_PERSON,
             "frequency": ContributionFrequency.MONTHLY, "child_max_age": 18,
             "waiting_days": 90, "waiting_days_lapse": 30, "grace_days": 60,
             "valid_from": today(), "months": set()}
        rules = {}
    return {"v": v, "rules": forms_admin.rule_rows(rules, data, fields),
            "months": MONTHS, "bases": ContributionBasis.choices,
            "frequencies": ContributionFrequency.choices}


def _package_form(request, package=None):
    user = request.user
    creating = package is None
    owners = selectors_admin.package_owners(user) if creating else []
    if creating and not owners:
        raise PermissionDenied
    if not creating and not selectors_admin.may_change_package(user, package):
        raise PermissionDenied
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else None
    if post is not None:
        errors: dict[str, Any] = {}
        data, rules = forms_admin.package_fields(post, errors, creating=creating)
        try:
            owner = None
            if creating:
                owner = next((o for o in owners if _owner_value(o[0], o[2])
                              == post.get("owner", "")), None)
                if owner is None:
                    errors["owner"] = _("Choose for whom the package is.")
            if errors:
                raise FormErrors(errors)
            if creating:
                _kind, organisation, mutual = owner
                package = services.package_create(
                    acting_user=user, organisation=organisation, mutual=mutual,
                    code=forms.clean_text(post.get("code", ""))[:40], rules=rules, **data)
                messages.success(request, _("Package %(code)s created.") % {
                    "code": package.code})
            else:
                package = services.package_update(acting_user=user, package=package,
                                                  rules=rules, **data)
                messages.success(request, _("Package %(code)s saved.") % {
                    "code": package.code})
            return redirect(f"{reverse('web:health_packages')}#package-{package.pk}")
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
        forms_admin.rule_errors(fields, rules)
    return render(request, "health/package_form.html", {
        "package": package, "creating": creating,
        "owners": [(_owner_value(k, u), org, u) for k, org, u in owners],
        "in_use": 0 if creating else selectors_admin.coverages_under(package),
        "error": error, "errors": fields,
    } | _form_context(package, post, fields), status=status)


@login_required
def package_new(request):
    require_health(request.user)
    return _package_form(request)


@login_required
def package_edit(request, pk: int):
    package = fetch(selectors.get_package_for_user, request.user, pk)
    return _package_form(request, package)


__all__ = ["package_edit", "package_list", "package_new"]
