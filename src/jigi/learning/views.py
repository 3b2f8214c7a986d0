"""Trainings screens: the home (programmes and sessions in scope), a new programme, a new
session, the session page (participants, enrolment, state buttons, certificates), the roll
call (one tap per person, htmx), completion with the level reached, the certificate PDF and
the report with its CSV.

Views stay thin: forms.py reads the fields, services decide, selectors read.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.cleaning import today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.learning import forms, selectors, services
from jigi.learning.certificates import certificate_pdf
from jigi.learning.models import (
    EnrolmentStatus,
    LiteracyLevel,
    ProgrammeKind,
    SessionStatus,
)
from jigi.orgs.models import Organisation
from jigi.orgs.scoping import user_scope
from jigi.people.errors import PossibleDuplicates
from jigi.people.selectors import person_search_for_user
from jigi.web.view_helpers import refusal

LANGUAGE_NAMES = [("bm", "Bamanankan"), ("fr", "Français"), ("ff", "Fulfulde"),
                  ("snk", "Soninke"), ("son", "Songhay"), ("tmh", "Tamasheq"), ("dgo", "Dogon"),
                  ("en", "English")]


def _fetch(getter, user, *args):
    try:
        return getter(user, *args)
    except Forbidden:
        raise PermissionDenied from None
    except (NotFound, ApplicationError):
        raise Http404 from None


def _today() -> date:
    return today()


def _managed_organisations(user) -> list[Organisation]:
    scope = user_scope(user)
    qs = Organisation.objects.order_by("code")
    if not scope.is_superuser:
        qs = qs.filter(pk__in=scope.organisation_ids)
    return [o for o in qs if services.can_manage_programmes(user, o.pk)]


@login_required
def home(request):
    user = request.user
    status = request.GET.get("status", "")
    sessions = selectors.sessions_filter(selectors.sessions_for_user(user), status=status)
    return render(request, "learning/home.html", {
        "programmes": selectors.programmes_for_user(user)[:200],
        "sessions": sessions[:200], "status": status, "statuses": SessionStatus.choices,
        "managed": {o.pk for o in _managed_organisations(user)},
        "can_plan": selectors.units_to_run(user).exists(),
    })


@login_required
def programme_new(request):
    user = request.user
    orgs = _managed_organisations(user)
    if not orgs:
        raise PermissionDenied
    error, fields, status, post = None, {}, 200, request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            org = next((o for o in orgs if str(o.pk) == post.get("organisation")), None)
            if org is None:
                raise forms.FormErrors({"organisation": _("Choose the organisation.")})
            services.programme_create(acting_user=user, organisation=org,
                                      **forms.programme_fields(post))
            messages.success(request, _("Programme created."))
            return redirect("web:learning_home")
        except (forms.FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "learning/programme_form.html", {
        "organisations": orgs, "kinds": ProgrammeKind.choices, "error": error,
        "errors": fields, "v": post}, status=status)


@login_required
def programme_edit(request, pk: int):
    """Change a programme's name, attendance needed, certificate title, or stop offering it."""
    user = request.user
    programme = _fetch(selectors.get_programme_for_user, user, pk)
    if not services.can_manage_programmes(user, programme.organisation_id):
        raise PermissionDenied
    error, fields, status = None, {}, 200
    post: Any = request.POST if request.method == "POST" else {
        "name": programme.name, "description": programme.description,
        "certificate_title": programme.certificate_title,
        "min_attendance_pct": str(programme.min_attendance_pct),
        "active": "on" if programme.active else ""}
    if request.method == "POST":
        try:
            data = forms.programme_fields(post)
            services.programme_update(
                acting_user=user, programme=programme, name=data["name"],
                description=data["description"], certificate_title=data["certificate_title"],
                min_attendance_pct=data["min_attendance_pct"],
                active=post.get("active") == "on")
            messages.success(request, _("Programme changed."))
            return redirect("web:learning_home")
        except (forms.FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "learning/programme_form.html", {
        "programme": programme, "error": error, "errors": fields, "v": post}, status=status)


@login_required
def session_new(request):
    user = request.user
    units = list(selectors.units_to_run(user)[:300])
    if not units:
        raise PermissionDenied
    org_ids = {u.organisation_id for u in units}
    programmes = [p for p in selectors.programmes_for_user(user).filter(active=True)
                  if p.organisation_id in org_ids]
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            errors: dict[str, Any] = {}
            programme = next((p for p in programmes if str(p.pk) == post.get("programme")),
                             None)
            unit = next((u for u in units if str(u.pk) == post.get("unit")), None)
            if programme is None:
                errors["programme"] = _("Choose the programme.")
            if unit is None:
                errors["unit"] = _("Choose the place of the organisation.")
            data = forms.session_fields(post)
            if errors:
                raise forms.FormErrors(errors)
            session = services.session_create(acting_user=user, programme=programme, unit=unit,
                                              **data)
            messages.success(request, _("Session planned."))
            return redirect("web:learning_session", pk=session.pk)
        except (forms.FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    today = _today()
    return render(request, "learning/session_form.html", {
        "programmes": programmes, "units": units, "languages": LANGUAGE_NAMES,
        "error": error, "errors": fields, "v": post,
        "default_start": today, "default_end": today + timedelta(days=30)}, status=status)


@login_required
def session_edit(request, pk: int):
    """Change a planned or running session: place, trainer, dates, meetings, places,
    language (the programme and the unit stay)."""
    user = request.user
    session = _fetch(selectors.get_session_for_user, user, pk)
    if not services.can_run(user, session.unit):
        raise PermissionDenied
    error, fields, status = None, {}, 200
    if request.method == "POST":
        post: Any = request.POST
        try:
            services.session_update(acting_user=user, session=session,
                                    **forms.session_fields(post))
            messages.success(request, _("Session changed."))
            return redirect("web:learning_session", pk=session.pk)
        except (forms.FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    else:
        post = {f: getattr(session, f) for f in ("title", "place", "trainer", "starts_on",
                                                 "ends_on", "meetings", "capacity",
                                                 "language")}
    return render(request, "learning/session_form.html", {
        "session": session, "languages": LANGUAGE_NAMES, "error": error, "errors": fields,
        "v": post, "default_start": session.starts_on, "default_end": session.ends_on},
        status=status)


def _session_context(request, session, **extra: Any) -> dict[str, Any]:
    user = request.user
    q = forms.clean_text(request.GET.get("q", ""))[:60]
    rows = selectors.session_roll(session)
    enrolled_ids = {r.enrolment.person_id for r in rows}
    can_run = services.can_run(user, session.unit)
    candidates = ([p for p in person_search_for_user(user, q, limit=20)
                   if p.pk not in enrolled_ids] if q and can_run else [])
    return {
        "session": session, "programme": session.programme, "rows": rows,
        "counts": selectors.session_counts(session), "can_run": can_run,
        "q": q, "candidates": candidates, "levels": LiteracyLevel.choices,
        "meetings": range(1, session.meetings + 1), "open": session.status in (
            SessionStatus.PLANNED, SessionStatus.RUNNING),
        "today": _today(), "v": {}, "errors": {},
    } | extra


@login_required
def session_detail(request, pk: int):
    session = _fetch(selectors.get_session_for_user, request.user, pk)
    return render(request, "learning/session.html", _session_context(request, session))


@login_required
@require_POST
def session_action(request, pk: int, action: str):
    """Start or cancel a session."""
    user = request.user
    session = _fetch(selectors.get_session_for_user, user, pk)
    try:
        if action == "start":
            services.session_start(acting_user=user, session=session)
            messages.success(request, _("The session has started."))
        elif action == "cancel":
            services.session_cancel(acting_user=user, session=session,
                                    reason=forms.clean_text(request.POST.get("reason")))
            messages.success(request, _("The session is cancelled."))
        else:
            raise Http404
        return redirect("web:learning_session", pk=session.pk)
    except ApplicationError as exc:
        error, fields, status = refusal(exc)
    return render(request, "learning/session.html", _session_context(
        request, session, error=error, errors=fields), status=status)


@login_required
@require_POST
def session_enrol(request, pk: int):
    """Enrol a person found in the registry (`person`), or register a new participant."""
    user = request.user
    session = _fetch(selectors.get_session_for_user, user, pk)
    post = request.POST
    duplicates = None
    try:
        errors: dict[str, Any] = {}
        before = forms.level(post, "literacy_before", errors)
        if errors:
            raise forms.FormErrors(errors)
        if post.get("person"):
            services.require_runner(user, session.unit)
            person = _fetch_person(user, post.get("person"))
            services.enrolment_create(acting_user=user, session=session, person=person,
                                      literacy_before=before)
        else:
            services.enrolment_register_person(
                acting_user=user, session=session, literacy_before=before,
                confirm_not_duplicate=post.get("confirm_not_duplicate") == "on",
                **forms.person_fields(post))
        messages.success(request, _("Enrolled."))
        return redirect("web:learning_session", pk=session.pk)
    except PossibleDuplicates as exc:
        duplicates = exc
        error, fields, status = refusal(exc)
    except (forms.FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return render(request, "learning/session.html", _session_context(
        request, session, error=error, errors=fields, v=post,
        duplicates=duplicates.candidates if duplicates else None,
        confirmable=duplicates is not None and not duplicates.hard), status=status)


def _fetch_person(user, raw: Any):
    from jigi.people.selectors import get_person_for_user

    try:
        return get_person_for_user(user, raw)
    except NotFound:
        raise NotFound("person_not_found", _("Person not found."),
                       {"person": _("Person not found.")}) from None


@login_required
@require_POST
def enrolment_drop(request, pk: int):
    user = request.user
    enrolment = _fetch(selectors.get_enrolment_for_user, user, pk)
    try:
        services.enrolment_update(acting_user=user, enrolment=enrolment,
                                  dropped=request.POST.get("dropped") != "no")
        return redirect("web:learning_session", pk=enrolment.session_id)
    except ApplicationError as exc:
        error, fields, status = refusal(exc)
    return render(request, "learning/session.html", _session_context(
        request, enrolment.session, error=error, errors=fields), status=status)


def _roll_items(session, meeting: int) -> list[dict[str, Any]]:
    """The participants still in, with their mark at this meeting (present, absent, or not
    taken yet)."""
    items = []
    for r in selectors.session_roll(session):
        if r.enrolment.status == EnrolmentStatus.DROPPED:
            continue
        mark = r.marks.get(meeting)
        items.append({"r": r, "state": "unmarked" if mark is None
                      else "present" if mark else "absent"})
    return items


@login_required
@require_POST
def enrolment_level(request, pk: int):
    """Set a participant's literacy level before the training (assessed after enrolment)."""
    user = request.user
    enrolment = _fetch(selectors.get_enrolment_for_user, user, pk)
    try:
        errors: dict[str, Any] = {}
        before = forms.level(request.POST, "literacy_before", errors)
        if errors:
            raise forms.FormErrors(errors)
        services.enrolment_update(acting_user=user, enrolment=enrolment, literacy_before=before)
        return redirect("web:learning_session", pk=enrolment.session_id)
    except (forms.FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return render(request, "learning/session.html", _session_context(
        request, enrolment.session, error=error, errors=fields), status=status)


@login_required
def roll_call(request, pk: int, meeting: int):
    """One meeting's roll: a big button per participant (present / absent). A tap posts that
    one mark with htmx and gets the participant's row back; without JavaScript the form posts
    and the page comes back."""
    user = request.user
    session = _fetch(selectors.get_session_for_user, user, pk)
    if not 1 <= meeting <= session.meetings:
        raise Http404
    error, fields, status = None, {}, 200
    if request.method == "POST":
        raw = forms.clean_text(request.POST.get("enrolment"))
        try:
            if not raw.isdigit() or len(raw) > 18:
                raise forms.FormErrors({"enrolment": _("Participant not found.")})
            services.attendance_record(acting_user=user, session=session, meeting=meeting,
                                       marks={int(raw): request.POST.get("present") == "yes"})
            if request.htmx:
                item = next(i for i in _roll_items(session, meeting)
                            if i["r"].enrolment.pk == int(raw))
                return render(request, "learning/_roll_row.html", item | {
                    "session": session, "meeting": meeting, "can_run": True})
            return redirect("web:learning_roll", pk=session.pk, meeting=meeting)
        except (forms.FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
            if request.htmx:
                # htmx does not swap a 4xx answer: the refusal comes as a 200 aimed at the
                # page's error box (the row keeps its last recorded state).
                response = render(request, "learning/_error.html", {"error": error})
                response["HX-Retarget"] = "#roll-error"
                response["HX-Reswap"] = "innerHTML"
                return response
    return render(request, "learning/roll.html", {
        "session": session, "meeting": meeting, "rows": _roll_items(session, meeting),
        "meetings": range(1, session.meetings + 1),
        "can_run": services.can_run(user, session.unit)
        and session.status == SessionStatus.RUNNING,
        "error": error, "errors": fields}, status=status)


@login_required
def session_complete(request, pk: int):
    """Completion: who earns the certificate by attendance, the level reached for literacy
    programmes, then one button."""
    user = request.user
    session = _fetch(selectors.get_session_for_user, user, pk)
    if not services.can_run(user, session.unit):
        raise PermissionDenied
    error, fields, status = None, {}, 200
    if request.method == "POST":
        try:
            errors: dict[str, Any] = {}
            levels: dict[int, int] = {}
            for r in selectors.session_roll(session):
                if r.enrolment.status != EnrolmentStatus.ENROLLED:
                    continue
                lv = forms.level(request.POST, f"after_{r.enrolment.pk}", errors)
                if lv is not None:
                    levels[r.enrolment.pk] = lv
            if errors:
                raise forms.FormErrors(errors)
            services.session_complete(acting_user=user, session=session,
                                      literacy_after=levels)
            messages.success(request, _("The session is completed; certificates issued."))
            return redirect("web:learning_session", pk=session.pk)
        except (forms.FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    rows = [r for r in selectors.session_roll(session)
            if r.enrolment.status == EnrolmentStatus.ENROLLED]
    return render(request, "learning/complete.html", {
        "session": session, "programme": session.programme, "rows": rows,
        "levels": LiteracyLevel.choices, "error": error, "errors": fields,
        "v": request.POST if request.method == "POST" else {}}, status=status)


@login_required
def certificate(request, pk: int):
    enrolment = _fetch(selectors.get_enrolment_for_user, request.user, pk)
    text = _fetch(lambda _u, e: selectors.certificate_text(e), request.user, enrolment)
    response = HttpResponse(certificate_pdf(text), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{enrolment.certificate_number}.pdf"')
    return response


@login_required
def report(request):
    user = request.user
    errors: dict[str, Any] = {}
    today = _today()
    start = forms.parse_date(request.GET, "date_from", errors) or date(today.year, 1, 1)
    end = forms.parse_date(request.GET, "date_to", errors) or date(today.year, 12, 31)
    if start > end:
        errors["date_to"] = _("The end is before the start.")
        start, end = end, start
    reports = selectors.learning_report(user, start=start, end=end)
    if request.GET.get("format") == "csv" and not errors:
        response = HttpResponse(selectors.learning_report_csv(reports, start=start, end=end),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="formations-{start}-{end}.csv"'
        return response
    return render(request, "learning/report.html", {
        "reports": reports, "start": start, "end": end, "errors": errors,
        "levels": LiteracyLevel.choices}, status=422 if errors else 200)


urlpatterns: list = [
    path("learning/", home, name="learning_home"),
    path("learning/programmes/new/", programme_new, name="learning_programme_new"),
    path("learning/programmes/<int:pk>/", programme_edit, name="learning_programme"),
    path("learning/sessions/new/", session_new, name="learning_session_new"),
    path("learning/sessions/<int:pk>/", session_detail, name="learning_session"),
    path("learning/sessions/<int:pk>/edit/", session_edit, name="learning_session_edit"),
    path("learning/sessions/<int:pk>/enrol/", session_enrol, name="learning_enrol"),
    path("learning/sessions/<int:pk>/roll/<int:meeting>/", roll_call, name="learning_roll"),
    path("learning/sessions/<int:pk>/complete/", session_complete, name="learning_complete"),
    path("learning/sessions/<int:pk>/<str:action>/", session_action,
         name="learning_session_action"),
    path("learning/enrolments/<int:pk>/drop/", enrolment_drop, name="learning_drop"),
    path("learning/enrolments/<int:pk>/level/", enrolment_level, name="learning_level"),
    path("learning/enrolments/<int:pk>/certificate.pdf", certificate,
         name="learning_certificate"),
    path("learning/reports/", report, name="learning_report"),
]
