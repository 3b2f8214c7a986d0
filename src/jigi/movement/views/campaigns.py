"""Movement screens: campaigns (list, page, forms), the petition collection page for
organisers, and the public signing page /p/<petition>/ (no login, works without JavaScript).

Staff screens: every MTC staff member reads, organisers and administrators see the forms;
anyone else gets a 404. Refused forms are drawn again with their messages and the service's
status (422, 409, 429).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from jigi.core.cleaning import today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.movement import forms_campaigns as forms
from jigi.movement import selectors_campaigns as sel
from jigi.movement.models import (
    CampaignActionKind,
    CampaignStatus,
    PartnerKind,
)
from jigi.movement.services import campaigns as svc
from jigi.movement.services import messages as messages_svc
from jigi.movement.services._common import is_movement_staff
from jigi.orgs.models import MemberGroup, Organisation
from jigi.web.view_helpers import new_key, refusal

# What a campaign's status may become, with the button's words.
STATUS_BUTTONS = {
    CampaignStatus.PLANNED: [(CampaignStatus.ACTIVE, "▶"), (CampaignStatus.ENDED, "✖")],
    CampaignStatus.ACTIVE: [(CampaignStatus.WON, "🏆"), (CampaignStatus.ENDED, "■")],
}


def _fetch(getter: Callable[..., Any], user, pk: Any) -> Any:
    try:
        return getter(user, pk)
    except Forbidden:
        raise PermissionDenied from None
    except (NotFound, ApplicationError):
        raise Http404 from None


def _require_staff(user) -> None:
    if not is_movement_staff(user):
        raise Http404


def _regions() -> list[str]:
    return sorted(set(svc.known_regions().values()))


# --- campaigns --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def campaign_list(request):
    user = request.user
    _require_staff(user)
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            if post.get("form") == "partner":
                svc.partner_create(acting_user=user, **forms.partner_fields(post))
                messages.success(request, _("Partner added."))
                return redirect("web:movement_campaigns")
            campaign = svc.campaign_create(acting_user=user, **forms.campaign_fields(post))
            messages.success(request, _("Campaign created."))
            return redirect("web:movement_campaign", pk=campaign.pk)
        except (forms.FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    campaigns = list(sel.campaigns_for_user(user)[:200])
    orgs = sel.staff_organisation_ids(user)
    can_write = orgs is None or any(sel.can_write(user, o) for o in orgs)
    return render(request, "movement/campaign_list.html", {
        "campaigns": campaigns, "partners": list(sel.partners_for_user(user)[:500]),
        "can_write": can_write, "error": error, "errors": fields, "v": post,
        "form": post.get("form", "campaign") if post else "",
        "groups": MemberGroup.choices, "partner_kinds": PartnerKind.choices,
        "jigi_orgs": Organisation.objects.order_by("name"), "today": today(),
        "v_groups": post.getlist("groups") if post else [],
    }, status=status)


def _campaign_context(request, campaign, **extra) -> dict[str, Any]:
    user = request.user
    return {
        "campaign": campaign, **sel.campaign_detail(campaign),
        "can_write": sel.can_write(user, campaign.organisation_id),
        "status_buttons": [(s, icon, CampaignStatus(s).label)
                           for s, icon in STATUS_BUTTONS.get(campaign.status, [])],
        "all_partners": list(sel.partners_for_user(user).filter(
            organisation_id=campaign.organisation_id)[:500]),
        "action_kinds": CampaignActionKind.choices, "groups": MemberGroup.choices,
        "today": today(), "v": {}, "errors": {}, "error": None, "form": "",
        "campaign_messages": list(campaign.messages.select_related("section")[:20]),
        # The sections she may text (an organiser: hers; the movement's administrator: all).
        "sections": list(messages_svc.sections_for_sender(user, campaign.organisation_id)),
        "message_key": new_key(), **extra,
    }


@login_required
def campaign_detail(request, pk: int):
    campaign = _fetch(sel.get_campaign_for_user, request.user, pk)
    return render(request, "movement/campaign.html", _campaign_context(request, campaign))


FORMS: dict[str, Callable[..., Any]] = {
    "status": lambda user, c, post: svc.campaign_status_set(
        acting_user=user, campaign=c, status=post.get("status", "")),
    "edit": lambda user, c, post: svc.campaign_update(
        acting_user=user, campaign=c, **forms.campaign_fields(post, creating=False)),
    "milestone": lambda user, c, post: svc.milestone_add(
        acting_user=user, campaign=c, **forms.milestone_fields(post)),
    "action": lambda user, c, post: svc.action_record(
        acting_user=user, campaign=c, **forms.action_fields(post)),
    "petition": lambda user, c, post: svc.petition_create(
        acting_user=user, campaign=c, **forms.petition_fields(post)),
    "message": lambda user, c, post: messages_svc.campaign_message_send(
        acting_user=user, campaign=c, text=post.get("text", ""), key=post.get("key", ""),
        section_id=post.get("section_id", "")),
}
DONE = {
    "status": gettext_lazy("Status changed."), "edit": gettext_lazy("Campaign saved."),
    "milestone": gettext_lazy("Milestone added."), "action": gettext_lazy("Action recorded."),
    "petition": gettext_lazy("Petition created."), "reach": gettext_lazy("Milestone reached."),
    "message": gettext_lazy("Message queued for the members who agreed to SMS."),
}


@login_required
@require_POST
def campaign_post(request, pk: int, form: str):
    """Every form of the campaign page posts here: form = status, edit, milestone, action,
    petition, reach (with milestone=<id>)."""
    user = request.user
    campaign = _fetch(sel.get_campaign_for_user, user, pk)
    if form not in FORMS and form != "reach":
        raise Http404
    try:
        if form == "reach":
            milestone = _fetch(sel.get_milestone_for_user, user, request.POST.get("milestone"))
            if milestone.campaign_id != campaign.pk:
                raise Http404
            svc.milestone_reach(acting_user=user, milestone=milestone)
        else:
            FORMS[form](user, campaign, request.POST)
        messages.success(request, DONE[form])
        return redirect("web:movement_campaign", pk=campaign.pk)
    except (forms.FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    campaign.refresh_from_db()
    return render(request, "movement/campaign.html", _campaign_context(
        request, campaign, error=error, errors=fields, v=request.POST, form=form),
        status=status)


# --- petitions (organisers) -------------------------------------------------------------------


def _petition_context(request, petition, **extra) -> dict[str, Any]:
    can_write = sel.can_write(request.user, petition.campaign.organisation_id)
    return {
        "petition": petition, "campaign": petition.campaign,
        "counts": sel.petition_counts(petition),
        # Names and phones waiting for a code: only for who collects (not case workers).
        "pending": sel.pending_signatures(petition) if can_write else [],
        "can_write": can_write,
        "open": sel.petition_is_open(petition), "regions": _regions(),
        "v": {}, "errors": {}, "error": None, "done": None, **extra,
    }


def _petition_page(request, petition, status: int = 200, **extra) -> HttpResponse:
    template = "movement/petition_work.html" if request.htmx else "movement/petition.html"
    return render(request, template, _petition_context(request, petition, **extra),
                  status=status)


@login_required
@require_http_methods(["GET", "POST"])
def petition_collect(request, pk: int):
    """GET: the collection page. POST: take a signature (the code goes to her phone)."""
    user = request.user
    petition = _fetch(sel.get_petition_for_user, user, pk)
    if request.method == "GET":
        return _petition_page(request, petition)
    try:
        outcome = svc.signature_collect(acting_user=user, petition=petition,
                                        **forms.signer_fields(request.POST, staff=True))
        done = _("Code sent by SMS to %(name)s. Ask her for the six digits.") % {
            "name": outcome.signature.name}
        return _petition_page(request, petition, done=done)
    except (forms.FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return _petition_page(request, petition, status, error=error, errors=fields,
                          v=request.POST)


@login_required
@require_POST
def petition_confirm(request, pk: int):
    user = request.user
    petition = _fetch(sel.get_petition_for_user, user, pk)
    data = forms.confirm_fields(request.POST)
    try:
        sig = svc.signature_confirm(acting_user=user, petition=petition, **data)
        return _petition_page(request, petition,
                              done=_("Signature of %(name)s confirmed.") % {"name": sig.name})
    except ApplicationError as exc:
        error, _fields, status = refusal(exc)
    # The message shows above the form (the code field is on the signer's row).
    return _petition_page(request, petition, status, error=error)


@login_required
def petition_csv(request, pk: int):
    petition = _fetch(sel.get_petition_for_user, request.user, pk)
    response = HttpResponse(sel.petition_csv(petition), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="petition-{petition.pk}.csv"'
    return response


# --- public page ------------------------------------------------------------------------------


def _public_petition(pk: int):
    try:
        return sel.get_public_petition(pk)
    except NotFound:
        raise Http404 from None


def _public(request, petition, step: str, status: int = 200, **extra) -> HttpResponse:
    lang = translation.get_language() or "fr"
    return render(request, "movement/petition_public.html", {
        "petition": petition, "step": step, "open": sel.petition_is_open(petition),
        "confirmed": sel.confirmed_total(petition), "regions": _regions(),
        "sms_language": "bm" if lang.startswith("bm") else "fr",
        "v": {}, "errors": {}, "error": None, **extra,
    }, status=status)


@require_http_methods(["GET", "POST"])
def public_sign(request, pk: int):
    """Anyone signs: name, phone, sex, place; the code comes by SMS. The answer is the same for
    a phone that has signed already (it gets a thank-you SMS instead of a code)."""
    petition = _public_petition(pk)
    if request.method == "GET":
        return _public(request, petition, "sign")
    try:
        data = forms.signer_fields(request.POST, staff=False)
        svc.signature_sign_public(petition=petition,
                                  address=request.META.get("REMOTE_ADDR", ""), **data)
    except (forms.FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
        return _public(request, petition, "sign", status, error=error, errors=fields,
                       v=request.POST)
    return _public(request, petition, "confirm", v={"phone": data["phone"]})


@require_POST
def public_confirm(request, pk: int):
    petition = _public_petition(pk)
    data = forms.confirm_fields(request.POST)
    try:
        svc.signature_confirm(petition=petition, public=True, **data)
    except ApplicationError as exc:
        error, fields, status = refusal(exc)
        return _public(request, petition, "confirm", status, error=error, errors=fields,
                       v={"phone": data["phone"]})
    return _public(request, petition, "done")


urlpatterns: list = [
    path("movement/campaigns/", campaign_list, name="movement_campaigns"),
    path("movement/campaigns/<int:pk>/", campaign_detail, name="movement_campaign"),
    path("movement/campaigns/<int:pk>/<str:form>/", campaign_post, name="movement_campaign_post"),
    path("movement/petitions/<int:pk>/", petition_collect, name="movement_petition"),
    path("movement/petitions/<int:pk>/confirm/", petition_confirm,
         name="movement_petition_confirm"),
    path("movement/petitions/<int:pk>/signatures.csv", petition_csv,
         name="movement_petition_csv"),
    path("p/<int:pk>/", public_sign, name="petition_public"),
    path("p/<int:pk>/confirm/", public_confirm, name="petition_public_confirm"),
]
