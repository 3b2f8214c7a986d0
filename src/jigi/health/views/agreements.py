"""Group enrolment through an agreement: a mutual signs with a partner organisation's unit
(e.g. MTC's section of domestic workers), then enrols several of the partner's members at once,
each on his own card, with a result per person (enrolled with the card, or refused and why).

The partner's members are offered only once each allowed the union to see her identity (a
consent the partner records on the person's page) or is a member of the union already; the
page says how many others the partner still has to ask, never who they are.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.health import forms, forms_admin, selectors, selectors_admin, selectors_claims, services
from jigi.health.models import GroupAgreement
from jigi.health.views._common import (
    MANAGER_ROLES,
    MUTUAL_STAFF_ROLES,
    FormErrors,
    fetch,
    is_manager,
    refusal,
    require_roles,
    today,
)
from jigi.orgs.models import Organisation, OrgKind
from jigi.people.selectors import persons_visible_to

PAYERS = GroupAgreement._meta.get_field("payer").choices
RESULTS_KEY = "health_group_results_%s"



def _partners():
    return list(Organisation.objects.exclude(kind=OrgKind.MUTUAL_UNION).order_by("code"))


@login_required
def agreement_list(request):
    """The agreements of the user's mutuals, and the form that signs one (managers)."""
    user = request.user
    require_roles(user, MUTUAL_STAFF_ROLES)
    mutuals = list(selectors_claims.mutuals_for_user(user, roles=MANAGER_ROLES))
    partners = _partners()
    units = list(selectors_admin.partner_units(partners)[:500])
    packages = [p for p in selectors.packages_visible(user) if p.active]
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        if not mutuals:
            raise PermissionDenied
        errors: dict[str, Any] = {}
        try:
            mutual = next((m for m in mutuals if str(m.pk) == post.get("mutual")), None)
            if mutual is None:
                errors["mutual"] = _("Choose the mutual.")
            package = next((p for p in packages if str(p.pk) == post.get("package")), None)
            if package is None:
                errors["package"] = _("Choose a package.")
            partner = next((o for o in partners if str(o.pk) == post.get("partner")), None)
            if partner is None:
                errors["partner"] = _("Choose the partner organisation.")
            unit_id = post.get("partner_unit", "")
            partner_unit = next((u for u in units if str(u.pk) == unit_id), None)
            if unit_id and partner_unit is None:
                errors["partner_unit"] = _("This unit is not the partner's.")
            signed_on = forms.parse_date(post, "signed_on", errors, required=True)
            if errors:
                raise FormErrors(errors)
            agreement = services.group_agreement_create(
                acting_user=user, mutual=mutual, package=package, partner=partner,
                partner_unit=partner_unit, name=forms.clean_text(post.get("name", ""))[:300],
                signed_on=signed_on, payer=post.get("payer", ""),
                waiting_waived=forms_admin.checked(post, "waiting_waived"))
            messages.success(request, _("Agreement recorded: enrol the partner's members."))
            return redirect("web:health_agreement", pk=agreement.pk)
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "health/agreement_list.html", {
        "agreements": list(selectors.agreements_visible(user)[:200]), "mutuals": mutuals,
        "partners": partners, "units": units, "packages": packages, "payers": PAYERS,
        "v": post, "error": error, "errors": fields, "today": today(),
    }, status=status)


def _results(request, agreement) -> list[dict[str, Any]]:
    """The last group enrolment's outcome, shown once after the redirect."""
    return request.session.pop(RESULTS_KEY % agreement.pk, None) or []


def _detail_context(request, agreement, *, ticked: set[int] | None = None) -> dict[str, Any]:
    user = request.user
    q = forms.clean_text(request.GET.get("q", ""))[:60]
    candidates = selectors_admin.partner_members_for_user(user, agreement, q=q)
    covered = selectors_admin.covered_persons(agreement.package, [p.pk for p in candidates])
    return {
        "agreement": agreement, "mutual": agreement.mutual, "q": q,
        "candidates": [{"person": p, "card": covered.get(p.pk, ""),
                        "ticked": p.pk in (ticked or set())} for p in candidates],
        "hidden": selectors_admin.partner_members_hidden(user, agreement),
        "coverages": list(selectors_admin.agreement_coverages(user, agreement)[:500]),
        "can_enrol": is_manager(user, agreement.mutual), "today": today(),
        "results": _results(request, agreement) if request.method == "GET" else [],
    }


@login_required
def agreement_detail(request, pk: int):
    agreement = fetch(selectors.get_agreement_for_user, request.user, pk)
    return render(request, "health/agreement_detail.html", _detail_context(request, agreement))


def _outcome(user, results) -> list[dict[str, Any]]:
    """Each person's result as the page shows it (JSON-safe: kept in the session)."""
    ids = [r.person_id for r in results if isinstance(r.person_id, int)]
    names = {p.pk: p.full_name for p in persons_visible_to(user).filter(pk__in=ids)}
    return [{"person_id": r.person_id, "name": names.get(r.person_id, ""), "ok": r.ok,
             "card": r.card_number, "coverage": r.coverage.number if r.coverage else "",
             "coverage_id": r.coverage.pk if r.coverage else None, "code": r.code,
             "message": str(r.message) if r.message else ""} for r in results]


@login_required
@require_POST
def agreement_enrol(request, pk: int):
    """Enrol the ticked members (each his own attempt: one refused does not stop the
    others)."""
    user = request.user
    agreement = fetch(selectors.get_agreement_for_user, user, pk)
    if not is_manager(user, agreement.mutual):
        raise PermissionDenied
    errors: dict[str, Any] = {}
    ids = forms_admin.person_ids(request.POST, "person_ids", errors)
    try:
        on = forms.parse_date(request.POST, "enrolled_on", errors, required=True)
        if errors:
            raise FormErrors(errors)
        results = services.group_enrol(acting_user=user, agreement=agreement, persons=ids,
                                       on=on)
        request.session[RESULTS_KEY % agreement.pk] = _outcome(user, results)
        done = sum(1 for r in results if r.ok)
        refused = len(results) - done
        if refused:
            messages.warning(request, _("%(done)s enrolled, %(refused)s refused: see why "
                                        "below.") % {"done": done, "refused": refused})
        else:
            messages.success(request, _("%(done)s enrolled.") % {"done": done})
        return redirect("web:health_agreement", pk=agreement.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return render(request, "health/agreement_detail.html", _detail_context(
        request, agreement, ticked=set(ids)) | {
        "error": error, "errors": fields, "v": request.POST}, status=status)


__all__ = ["agreement_detail", "agreement_enrol", "agreement_list"]
