"""Movement screens: members and dues. The home page (sections with their members by
standing and minors), a section's member list with search, the register-a-member form whose
group fields follow the chosen section, the member page (record, standing, dues, payment,
waiver request and decision) and the printable receipt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.cleaning import today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.movement import forms, selectors
from jigi.movement.models import DuesPayment, PaymentChannel, Standing, WaiverStatus
from jigi.movement.services import dues, members
from jigi.movement.services._common import ADMIN_ROLES, ORGANISER_ROLES
from jigi.orgs.scoping import user_scope
from jigi.people.models import Sex
from jigi.people.selectors import get_person_for_user
from jigi.savings.idempotency import IdempotencyClaim, keyed_call
from jigi.web.view_helpers import form_key, new_key, refusal

STANDING_ICON = {"new": "🌱", "current": "✅", "grace": "⏳", "arrears": "⚠️", "exempt": "🕊️"}


def _fetch(getter: Callable[..., Any], user, *args: Any) -> Any:
    try:
        return getter(user, *args)
    except Forbidden:
        raise PermissionDenied from None
    except (NotFound, ApplicationError):
        raise Http404 from None


def _require_movement(user) -> None:
    if not user_scope(user).sees_movement_data:
        raise PermissionDenied


def _can(user, unit, roles) -> bool:
    return user_scope(user).covers_unit(unit, write=True, roles=roles)


@login_required
def home(request):
    """Sections with their members by standing, minors, arrears; links to the other screens."""
    user = request.user
    _require_movement(user)
    summaries = selectors.section_summaries(user)
    rows = [{"s": s, "cells": [(value, s.by_standing.get(value, 0))
                               for value in Standing.values]} for s in summaries]
    return render(request, "movement/home.html", {
        "rows": rows, "standings": [(v, label, STANDING_ICON.get(v, ""))
                                    for v, label in Standing.choices],
        "total": sum(s.members for s in summaries),
        "minors": sum(s.minors for s in summaries),
        "can_register": any(_can(user, s.section, ORGANISER_ROLES) for s in summaries),
        "waivers": list(selectors.waivers_pending_for_user(user)[:50]),
    })


@login_required
def section_members(request, pk: int):
    """A section's members, searched by name, number or phone; filtered by standing or
    minors. With htmx only the rows are sent back."""
    user = request.user
    section = _fetch(selectors.get_section_for_user, user, pk)
    q = forms.clean_text(request.GET.get("q", ""))[:64]
    standing = request.GET.get("standing", "")
    standing = standing if standing in Standing.values else ""
    minor = True if request.GET.get("minor") == "1" else None
    qs = selectors.members_filter(selectors.members_for_user(user), section=section, q=q,
                                  standing=standing, minor=minor)
    adult = members.adult_age()
    rows = [{"p": p, "minor": members.is_minor_member(p, p.person, adult=adult)}
            for p in qs[:200]]
    context = {"section": section, "rows": rows, "q": q, "standing": standing,
               "minor": minor, "standings": Standing.choices, "icons": STANDING_ICON,
               "count": qs.count(), "can_register": _can(user, section, ORGANISER_ROLES)}
    if request.htmx:
        return render(request, "movement/members_rows.html", context)
    return render(request, "movement/members_list.html", context)


def _sections_to_register(user):
    return [s for s in selectors.sections_for_user(user) if _can(user, s, ORGANISER_ROLES)]


@login_required
def group_fields(request):
    """htmx: the group record's inputs for the chosen section."""
    user = request.user
    section = _fetch(selectors.get_section_for_user, user, request.GET.get("section"))
    group = section.member_group or request.GET.get("group", "")
    return render(request, "movement/members_group_fields.html", {
        "fields": forms.bound_inputs(group) if group else []})


@login_required
def member_register(request):
    """Register a member: a new person, or an existing one (`person` in the address, from the
    people registry); her section, her group's record."""
    user = request.user
    _require_movement(user)
    sections = _sections_to_register(user)
    if not sections:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    chosen = next((s for s in sections if str(s.pk) == str(data.get("section", ""))),
                  sections[0] if len(sections) == 1 else None)
    person = None
    if data.get("person"):
        person = _fetch(get_person_for_user, user, data.get("person"))
    error, fields, status = None, {}, 200
    duplicates = False
    if request.method == "POST":
        try:
            if chosen is None:
                raise forms.FormErrors({"section": _("Choose the section.")})
            group = chosen.member_group
            record = forms.read_record(request.POST, group)
            person_fields = None if person else forms.read_person(request.POST)
            reg = members.member_register(
                acting_user=user, section=chosen, person=person, person_fields=person_fields,
                confirm_not_duplicate=forms.flag(request.POST, "confirm_not_duplicate"),
                profile=forms.read_profile(request.POST), record=record)
            if reg.minor:
                messages.warning(request, _("Registered. She is a minor: child domestic work "
                                            "is an urgent case."))
            else:
                messages.success(request, _("Registered: member %(number)s.")
                                 % {"number": reg.profile.membership.number})
            return redirect("web:movement_member", pk=reg.profile.pk)
        except (forms.FormErrors, ApplicationError) as exc:
            duplicates = getattr(exc, "code", "") == "possible_duplicates"
            error, fields, status = refusal(exc)
    return render(request, "movement/members_register.html", {
        "sections": sections, "chosen": chosen, "person": person,
        "fields": forms.bound_inputs(chosen.member_group,
                                     request.POST if request.method == "POST" else {},
                                     fields) if chosen and chosen.member_group else [],
        "sexes": Sex.choices, "v": request.POST if request.method == "POST" else {},
        "error": error, "errors": fields, "duplicates": duplicates,
    }, status=status)


def _member_context(request, profile) -> dict[str, Any]:
    user = request.user
    st = selectors.dues_statement(profile)
    organiser = _can(user, profile.section, ORGANISER_ROLES)
    admin = _can(user, profile.section, ADMIN_ROLES)
    reversed_ids = {p.reverses_id for p in st.payments if p.reverses_id}
    return {
        "p": profile, "person": profile.person, "st": st,
        "record": selectors.record_of(profile),
        "record_rows": [(i.label, getattr(selectors.record_of(profile), i.name, None))
                        for i in forms.record_inputs(profile.group)],
        "minor": members.is_minor_member(profile, profile.person),
        "icon": STANDING_ICON.get(profile.standing, ""),
        "can_pay": organiser and profile.membership.status != "ended",
        "can_waive": organiser and st.arrears > 0,
        "can_decide": admin, "channels": PaymentChannel.choices,
        "officer": admin and profile.membership.status != "ended",
        "move_to": [s for s in selectors.sections_for_user(user)
                    if s.pk != profile.section_id and s.member_group in ("", profile.group)
                    and _can(user, s, ORGANISER_ROLES)] if admin else [],
        "reversed_ids": reversed_ids, "today": today(),
        "pending": [w for w in st.waivers if w.status == WaiverStatus.REQUESTED],
        "fields": forms.bound_inputs(profile.group, forms.record_values(profile)),
        "key": request.POST.get("idempotency_key") or new_key(),
        "v": request.POST if request.method == "POST" else {},
    }


@login_required
def member_detail(request, pk: int):
    profile = _fetch(selectors.get_member_for_user, request.user, pk)
    return render(request, "movement/members_detail.html", _member_context(request, profile))


def _keyed(request, endpoint: str, body: dict[str, Any],
           service: Callable[[IdempotencyClaim], Any]) -> dict[str, Any]:
    """A money form sent once per form key: a double click or a reload answers as the first
    time did (the same receipt) instead of taking the money twice."""
    key = form_key(request)
    _status, answer = keyed_call(request.user, key, endpoint=endpoint, body=body,
                                 render=lambda r: {"payment_id": r.payment.pk}, run=service)
    return answer


def _refused(request, profile, exc, **extra):
    error, fields, status = refusal(exc)
    context = _member_context(request, profile)
    if extra.get("edit_form"):
        context["fields"] = forms.bound_inputs(profile.group, request.POST, fields)
    return render(request, "movement/members_detail.html",
                  context | {"error": error, "errors": fields, **extra}, status=status)


@login_required
@require_POST
def dues_pay(request, pk: int):
    user = request.user
    profile = _fetch(selectors.get_member_for_user, user, pk)
    post = request.POST
    amount = forms.amount_text(post, "amount")
    channel = post.get("channel", PaymentChannel.CASH)
    reference = forms.clean_text(post.get("reference", ""))[:64]
    errors: dict[str, Any] = {}
    try:
        paid_on = forms.parse_date(post, "paid_on", errors)
        if errors:
            raise forms.FormErrors(errors)
        answer = _keyed(request, f"web:movement:pay:{profile.pk}",
                        {"amount": amount, "channel": channel, "on": str(paid_on or ""),
                         "reference": reference},
                        lambda claim: dues.dues_pay(
                            acting_user=user, profile=profile, amount=amount, channel=channel,
                            paid_on=paid_on, reference=reference, idempotency=claim))
        return redirect("web:movement_receipt", pk=answer["payment_id"])
    except (forms.FormErrors, ApplicationError) as exc:
        profile = _fetch(selectors.get_member_for_user, user, pk)
        return _refused(request, profile, exc, pay_form=True)


@login_required
@require_POST
def dues_reverse(request, pk: int):
    user = request.user
    payment = _fetch(selectors.get_payment_for_user, user, pk)
    reason = forms.clean_text(request.POST.get("reason", ""))[:200]
    try:
        answer = _keyed(request, f"web:movement:reverse:{payment.pk}", {"reason": reason},
                        lambda claim: dues.dues_reverse(acting_user=user, payment=payment,
                                                        reason=reason, idempotency=claim))
        return redirect("web:movement_receipt", pk=answer["payment_id"])
    except ApplicationError as exc:
        profile = _fetch(selectors.get_member_for_user, user, payment.profile_id)
        return _refused(request, profile, exc, error_payment=payment.pk)


@login_required
@require_POST
def waiver_request(request, pk: int):
    user = request.user
    profile = _fetch(selectors.get_member_for_user, user, pk)
    try:
        dues.waiver_request(acting_user=user, profile=profile,
                            amount=forms.amount_text(request.POST, "waiver_amount"),
                            reason=forms.clean_text(request.POST.get("waiver_reason", "")))
        messages.success(request, _("Waiver requested: an administrator will decide."))
        return redirect("web:movement_member", pk=profile.pk)
    except ApplicationError as exc:
        exc.fields = {f"waiver_{k}": v for k, v in exc.fields.items()}
        return _refused(request, profile, exc, waiver_form=True)


@login_required
@require_POST
def waiver_decide(request, pk: int):
    user = request.user
    waiver = _fetch(selectors.get_waiver_for_user, user, pk)
    approve = request.POST.get("decision") == "approve"
    try:
        dues.waiver_decide(acting_user=user, waiver=waiver, approve=approve,
                           note=forms.clean_text(request.POST.get("note", ""))[:300])
        messages.success(request, _("Waiver approved.") if approve else _("Waiver rejected."))
        return redirect("web:movement_member", pk=waiver.profile_id)
    except ApplicationError as exc:
        profile = _fetch(selectors.get_member_for_user, user, waiver.profile_id)
        return _refused(request, profile, exc)


@login_required
def member_edit(request, pk: int):
    """Change her group record (an organiser of her section)."""
    user = request.user
    profile = _fetch(selectors.get_member_for_user, user, pk)
    if not _can(user, profile.section, ORGANISER_ROLES):
        raise PermissionDenied
    if request.method != "POST":
        return redirect("web:movement_member", pk=pk)
    try:
        members.member_update(acting_user=user, profile=profile,
                              record=forms.read_record(request.POST, profile.group))
        messages.success(request, _("Saved."))
        return redirect("web:movement_member", pk=pk)
    except (forms.FormErrors, ApplicationError) as exc:
        return _refused(request, profile, exc, edit_form=True)


@login_required
@require_POST
def member_officer(request, pk: int):
    """An officer's decisions on a member: end her membership, exempt her from dues (or end
    the exemption), move her to another section of her group."""
    user = request.user
    profile = _fetch(selectors.get_member_for_user, user, pk)
    post = request.POST
    action = post.get("action", "")
    reason = forms.clean_text(post.get("officer_reason", ""))[:300]
    try:
        if action == "end":
            members.member_end(acting_user=user, profile=profile, reason=reason)
            messages.success(request, _("Membership ended."))
        elif action in ("exempt", "unexempt"):
            members.member_exempt_set(acting_user=user, profile=profile,
                                      exempt=action == "exempt", reason=reason)
            messages.success(request, _("Saved."))
        elif action == "move":
            section = _fetch(selectors.get_section_for_user, user, post.get("section"))
            members.member_section_change(acting_user=user, profile=profile, section=section)
            messages.success(request, _("Moved to %(section)s.") % {"section": section.name})
        else:
            raise forms.FormErrors({"action": _("Choose what to change.")})
        return redirect("web:movement_member", pk=pk)
    except (forms.FormErrors, ApplicationError) as exc:
        exc_fields = getattr(exc, "fields", {}) or {}
        if "reason" in exc_fields:
            exc_fields["officer_reason"] = exc_fields.pop("reason")
        return _refused(request, profile, exc, officer_form=True)


@login_required
def receipt(request, pk: int):
    """A dues receipt, printable on a 58 mm printer."""
    payment: DuesPayment = _fetch(selectors.get_payment_for_user, request.user, pk)
    profile = payment.profile
    return render(request, "movement/dues_receipt.html", {
        "pay": payment, "p": profile, "person": profile.person, "org": profile.section.organisation,
        # Oldest period first, each with its charge in the same query.
        "allocations": payment.allocations.select_related("charge").order_by(
            "charge__period_start", "pk"),
        "reverses": payment.reverses, "lang": get_language(),
        "latest": not DuesPayment.objects.filter(profile=profile, pk__gt=payment.pk).exists(),
    })


urlpatterns: list = [
    path("movement/", home, name="movement_home"),
    path("movement/sections/<int:pk>/", section_members, name="movement_section"),
    path("movement/members/new/", member_register, name="movement_register"),
    path("movement/members/group-fields/", group_fields, name="movement_group_fields"),
    path("movement/members/<int:pk>/", member_detail, name="movement_member"),
    path("movement/members/<int:pk>/edit/", member_edit, name="movement_member_edit"),
    path("movement/members/<int:pk>/pay/", dues_pay, name="movement_pay"),
    path("movement/members/<int:pk>/officer/", member_officer, name="movement_officer"),
    path("movement/members/<int:pk>/waiver/", waiver_request, name="movement_waiver"),
    path("movement/payments/<int:pk>/", receipt, name="movement_receipt"),
    path("movement/payments/<int:pk>/reverse/", dues_reverse, name="movement_reverse"),
    path("movement/waivers/<int:pk>/decide/", waiver_decide, name="movement_waiver_decide"),
]
