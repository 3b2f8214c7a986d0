"""Prevention and health-education sessions (causeries): the list, a new session, and the
attendance by person (found by card number, name or phone)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.health import forms, selectors, selectors_claims
from jigi.health.cards import CardNumberError, normalise_card
from jigi.health.models import Beneficiary
from jigi.health.services import prevention as prevention_services
from jigi.health.views._common import (
    MUTUAL_STAFF_ROLES,
    FormErrors,
    fetch,
    refusal,
    require_health,
    today,
)
from jigi.orgs.models import Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import person_search_for_user


def _organiser_units(user) -> list[Unit]:
    """Mutuals (and the union itself, for its administrator) whose sessions the user records."""
    scope = user_scope(user)
    return list(Unit.objects.filter(scope.unit_q(write=True, roles=MUTUAL_STAFF_ROLES),
                                    kind__in=[UnitKind.UNION, UnitKind.MUTUAL])
                .order_by("kind", "code")[:200])


@login_required
def session_list(request):
    user = request.user
    require_health(user)
    units = _organiser_units(user)
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        errors: dict[str, Any] = {}
        try:
            unit = next((u for u in units if str(u.pk) == post.get("unit")), None)
            if unit is None:
                errors["unit"] = _("Choose the mutual.")
            held_on = forms.parse_date(post, "held_on", errors, required=True)
            if errors:
                raise FormErrors(errors)
            session = prevention_services.prevention_session_create(
                acting_user=user, unit=unit, topic=forms.clean_text(post.get("topic", "")),
                place=forms.clean_text(post.get("place", "")), held_on=held_on,
                facilitator=forms.clean_text(post.get("facilitator", "")))
            messages.success(request, _("Session recorded."))
            return redirect("web:health_session", pk=session.pk)
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    sessions = (selectors_claims.prevention_sessions_for_user(user)
                .prefetch_related("attendees").order_by("-held_on", "-pk")[:200])
    return render(request, "health/prevention.html", {
        "sessions": sessions, "units": units, "error": error, "errors": fields, "v": post,
        "today": today(),
    }, status=status)


def _candidates(user, session, q: str) -> list[dict[str, Any]]:
    """Persons to tick as present: beneficiaries of the session's mutual by card number, and
    persons of the registry the user sees by name, phone or member number."""
    found: dict[int, dict[str, Any]] = {}
    if not q:
        return []
    if forms.looks_like_card(q) and session.unit.kind == UnitKind.MUTUAL:
        try:
            card = normalise_card(q)
        except CardNumberError:
            card = None
        if card:
            for b in Beneficiary.objects.filter(
                    card_number=card, coverage__in=selectors.coverages_visible(user),
                    coverage__mutual=session.unit).select_related("person"):
                found[b.person_id] = {"person": b.person, "card": b.card_number}
    for p in person_search_for_user(user, q, limit=20):
        found.setdefault(p.pk, {"person": p, "card": ""})
    return list(found.values())


def _session_context(request, session) -> dict[str, Any]:
    user = request.user
    q = forms.clean_text(request.GET.get("q", ""))[:60]
    present = set(session.attendees.values_list("pk", flat=True))
    scope = user_scope(user)
    return {
        "session": session, "attendees": list(selectors_claims.prevention_attendees(session)),
        "q": q, "candidates": [c for c in _candidates(user, session, q)
                               if c["person"].pk not in present],
        "can_record": scope.covers_unit(session.unit, write=True, roles=MUTUAL_STAFF_ROLES),
        "held": session.held_on <= today(),
    }


@login_required
def session_detail(request, pk: int):
    session = fetch(selectors_claims.get_prevention_session_for_user, request.user, pk)
    return render(request, "health/session.html", _session_context(request, session))


@login_required
@require_POST
def session_attendance(request, pk: int):
    """Tick persons present (or take one off the list with `remove`)."""
    user = request.user
    session = fetch(selectors_claims.get_prevention_session_for_user, user, pk)
    errors: dict[str, Any] = {}
    ids = []
    for raw in request.POST.getlist("person_ids"):
        if not raw.isdigit() or len(raw) > 18:
            errors["person_ids"] = _("Give each person once, by number.")
            break
        ids.append(int(raw))
    try:
        if errors:
            raise FormErrors(errors)
        if request.POST.get("remove"):
            prevention_services.prevention_attendance_remove(acting_user=user, session=session,
                                                             person_ids=ids)
            messages.success(request, _("Taken off the attendance list."))
        else:
            n = prevention_services.prevention_attendance_record(
                acting_user=user, session=session, person_ids=ids)
            messages.success(request, _("%(n)s persons recorded as present.") % {"n": n})
        return redirect("web:health_session", pk=session.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return render(request, "health/session.html", _session_context(request, session) | {
        "error": error, "errors": fields}, status=status)
