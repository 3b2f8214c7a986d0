"""Movement screens: rights cases. The list (filters, urgent first, alerts panel), the intake
form, the case page (timeline and action form by htmx, outcome form, documents, links, team).

Thin: read the form (forms_cases), call the service (services.cases), render. What a user
may see is the selectors' (selectors_cases): outside MTC every page is a 404; a staff member
opening a confidential case she is not assigned to gets a 403 page showing only what every
staff member may know of it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jigi.core.cleaning import today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.lookup import id_or_none
from jigi.movement import forms_cases as forms
from jigi.movement import selectors_cases as sel
from jigi.movement.models import CaseCategory, CaseOutcome, CaseStatus
from jigi.movement.services import cases as svc
from jigi.movement.services import messages as messages_svc
from jigi.movement.services._common import STAFF_ROLES, is_movement_staff
from jigi.orgs.models import Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import get_person_for_user, person_search_for_user
from jigi.web.forms import clean_text
from jigi.web.view_helpers import refusal

LINK_SCOPES = [("health", gettext_lazy("Health coverage (UTM)")),
               ("savings", gettext_lazy("Savings (Kondo)")),
               ("credit", gettext_lazy("Loans (Kondo)"))]


def _staff(user) -> None:
    if not is_movement_staff(user):
        raise Http404


def _case(user, pk: int):
    _staff(user)
    try:
        return sel.get_case_for_user(user, pk)
    except NotFound:
        raise Http404 from None


def _sections(user) -> list[Unit]:
    scope = user_scope(user)
    return list(Unit.objects.filter(scope.unit_q(write=True, roles=STAFF_ROLES),
                                    kind=UnitKind.SECTION).order_by("code")[:100])


# --- list and alerts --------------------------------------------------------------------------


def _alerts(user) -> list:
    return list(sel.alerts_visible(user)[:50])


@login_required
def case_list(request):
    user = request.user
    _staff(user)
    filters = forms.read_filters(request.GET)
    day = today()
    rows = [sel.case_row(c, user, day)
            for c in sel.cases_filtered(user, filters, day)[:300]]
    context = {"rows": rows, "f": filters, "statuses": CaseStatus.choices,
               "categories": CaseCategory.choices, "alerts": _alerts(user),
               "can_open": bool(_sections(user))}
    if request.htmx and request.htmx.target == "case-rows":
        return render(request, "movement/case_rows.html", context)
    return render(request, "movement/case_list.html", context)


@login_required
@require_POST
def alert_ack(request, pk: int):
    user = request.user
    _staff(user)
    error, status = None, 200
    try:
        alert = sel.get_alert_for_user(user, pk)
        svc.case_alert_acknowledge(acting_user=user, alert=alert)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        error, _fields, status = refusal(exc)
    if request.htmx:
        return render(request, "movement/case_alerts.html",
                      {"alerts": _alerts(user), "alert_error": error}, status=status)
    if error:
        messages.error(request, error)
    return redirect("web:movement_cases")


# --- intake -------------------------------------------------------------------------------------


@login_required
def case_new(request):
    user = request.user
    _staff(user)
    sections = _sections(user)
    if not sections:
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    q = clean_text(request.GET.get("q", ""))[:60]
    person, error, fields, status = None, None, {}, 200
    person_id = data.get("person")
    if person_id:
        try:
            person = get_person_for_user(user, person_id)
        except NotFound:
            error, fields, status = refusal(NotFound("person_not_found", _("Person not found.")))
    if request.method == "POST":
        try:
            intake = forms.read_intake(request.POST)
            if person is None:
                raise forms.FormErrors({"person": _("Choose the person.")})
            section = None
            if intake.section_id is not None:
                section = next((s for s in sections if s.pk == intake.section_id), None)
                if section is None:
                    raise forms.FormErrors({"section": _("Choose the section.")})
            case = svc.case_intake(acting_user=user, person=person, section=section,
                                   **intake.values)
            messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
            if sel.sees_details(user, sel.get_case_for_user(user, case.pk)):
                return redirect("web:movement_case", pk=case.pk)
            return redirect("web:movement_cases")
        except (forms.FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "movement/case_new.html", {
        "q": q, "found": person_search_for_user(user, q, limit=20) if q and not person else [],
        "person": person, "sections": sections, "categories": CaseCategory.choices,
        "channels": forms.CHANNEL_CHOICES, "v": request.POST, "error": error,
        "errors": fields, "today": today(),
    }, status=status)


# --- the case page ------------------------------------------------------------------------------


def _work_context(user, case) -> dict[str, Any]:
    return {
        "case": case, "timeline": list(sel.case_timeline(case)),
        "can_act": sel.is_assigned(user, case), "action_kinds": forms.ACTION_CHOICES,
        "outcomes": CaseOutcome.choices, "today": today(),
        "row": sel.case_row(case, user, today()),
    }


def _page_context(user, case) -> dict[str, Any]:
    can_assign = sel.can_assign(user, case)
    return _work_context(user, case) | {
        "age": sel.person_age(case, today()), "team": sel.case_team(case),
        "documents": list(sel.case_documents(case).select_related("uploaded_by")),
        "links": [(link, dict(LINK_SCOPES).get(link.scope, link.scope))
                  for link in sel.case_links(case, today())],
        "link_scopes": LINK_SCOPES,
        "other_labels": [CaseCategory(c).label for c in case.other_categories
                         if c in CaseCategory.values],
        "can_assign": can_assign,
        "workers": sel.case_workers_for(case) if can_assign else [],
    }


def _restricted(request, case):
    return render(request, "movement/case_restricted.html", {
        "row": sel.case_row(case, request.user, today()), "team": sel.case_team(case),
        "can_assign": sel.can_assign(request.user, case),
        "workers": sel.case_workers_for(case) if sel.can_assign(request.user, case) else [],
        "case": case,
    }, status=403)


@login_required
def case_detail(request, pk: int):
    user = request.user
    case = _case(user, pk)
    if not sel.sees_details(user, case):
        return _restricted(request, case)
    return render(request, "movement/case.html", _page_context(user, case))


def _answer(request, case, exc: Exception | None, success: str):
    """After an action or closing: the work panel (htmx) or the whole page."""
    user = request.user
    error, fields, status = (None, {}, 200) if exc is None else refusal(exc)
    case = sel.get_case_for_user(user, case.pk)
    if request.htmx:
        return render(request, "movement/case_work.html", _work_context(user, case) | {
            "error": error, "errors": fields, "v": request.POST if exc else {},
            "done": success if exc is None else ""}, status=status)
    if exc is None:
        messages.success(request, success)
        return redirect("web:movement_case", pk=case.pk)
    return render(request, "movement/case.html", _page_context(user, case) | {
        "error": error, "errors": fields, "v": request.POST}, status=status)


def _refused(exc: ApplicationError) -> None:
    if isinstance(exc, Forbidden):
        raise PermissionDenied


def _handled_case(user, pk: int):
    """The case for recording on it: its assigned workers only, checked BEFORE the form is
    read (a form error re-renders the case page, which must never show a confidential case's
    details to staff not assigned to it)."""
    case = _case(user, pk)
    try:
        sel.require_handler(user, case)
    except Forbidden:
        raise PermissionDenied from None
    return case


@login_required
@require_POST
def case_action(request, pk: int):
    user = request.user
    case = _handled_case(user, pk)
    try:
        values = forms.read_action(request.POST)
        svc.case_action_record(acting_user=user, case=case, **values)
    except forms.FormErrors as exc:
        return _answer(request, case, exc, "")
    except ApplicationError as exc:
        _refused(exc)
        return _answer(request, case, exc, "")
    return _answer(request, case, None, _("Recorded."))


@login_required
@require_POST
def case_sms(request, pk: int):
    """A message from the case's worker to its member (her phone, her language, her consent)."""
    user = request.user
    case = _handled_case(user, pk)
    try:
        messages_svc.case_message_send(acting_user=user, case=case,
                                       **forms.read_sms(request.POST))
    except forms.FormErrors as exc:
        return _answer(request, case, exc, "")
    except ApplicationError as exc:
        _refused(exc)
        return _answer(request, case, exc, "")
    return _answer(request, case, None, _("SMS queued for the member."))


@login_required
@require_POST
def case_close(request, pk: int):
    user = request.user
    case = _handled_case(user, pk)
    try:
        values = forms.read_close(request.POST)
        svc.case_close(acting_user=user, case=case, **values)
    except forms.FormErrors as exc:
        return _answer(request, case, exc, "")
    except ApplicationError as exc:
        _refused(exc)
        return _answer(request, case, exc, "")
    return _answer(request, case, None, _("Case closed."))


@login_required
@require_POST
def case_assign(request, pk: int):
    user = request.user
    case = _case(user, pk)
    users = get_user_model().objects
    lead = users.filter(pk=id_or_none(request.POST.get("lead"))).first()
    support = list(users.filter(pk__in=[i for i in (id_or_none(v) for v in
                                                    request.POST.getlist("support")) if i]))
    try:
        svc.case_assign(acting_user=user, case=case, lead=lead, support=support)
        messages.success(request, _("Team saved."))
    except ApplicationError as exc:
        _refused(exc)
        messages.error(request, refusal(exc)[0])
    if sel.sees_details(user, sel.get_case_for_user(user, case.pk)):
        return redirect("web:movement_case", pk=case.pk)
    return redirect("web:movement_cases")


@login_required
@require_POST
def case_document_upload(request, pk: int):
    user = request.user
    case = _case(user, pk)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise forms.FormErrors({"file": _("Choose a file.")})
        if upload.size > svc.MAX_DOCUMENT:
            raise forms.FormErrors({"file": _("The file is larger than 5 MB.")})
        svc.case_document_add(acting_user=user, case=case, name=upload.name,
                              content_type=upload.content_type, content=upload.read())
        messages.success(request, _("Document kept."))
    except forms.FormErrors as exc:
        messages.error(request, refusal(exc)[0])
    except ApplicationError as exc:
        _refused(exc)
        messages.error(request, refusal(exc)[0])
    return redirect("web:movement_case", pk=case.pk)


@login_required
def case_document(request, pk: int, doc: int):
    user = request.user
    case = _case(user, pk)
    try:
        document = sel.get_document_for_user(user, case, doc)
    except Forbidden:
        raise PermissionDenied from None
    except NotFound:
        raise Http404 from None
    svc.case_document_downloaded(acting_user=user, case=case, document=document)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    # Quoted and encoded by Django: a name with quotes or accents ("contrat signé.pdf") stays
    # one attachment header instead of a broken or MIME-encoded one (shown inline).
    response["Content-Disposition"] = content_disposition_header(
        True, f"{document.pk}-{document.name}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def case_link(request, pk: int):
    user = request.user
    case = _case(user, pk)
    try:
        svc.case_link_create(acting_user=user, case=case,
                             scope=clean_text(request.POST.get("scope", "")),
                             note=clean_text(request.POST.get("note", "")))
        messages.success(request, _("Linked."))
    except ApplicationError as exc:
        if exc.code != "consent_required":
            _refused(exc)
        messages.error(request, refusal(exc)[0])
    return redirect("web:movement_case", pk=case.pk)


urlpatterns = [
    path("movement/cases/", case_list, name="movement_cases"),
    path("movement/cases/new/", case_new, name="movement_case_new"),
    path("movement/cases/<int:pk>/", case_detail, name="movement_case"),
    path("movement/cases/<int:pk>/actions/", case_action, name="movement_case_action"),
    path("movement/cases/<int:pk>/close/", case_close, name="movement_case_close"),
    path("movement/cases/<int:pk>/sms/", case_sms, name="movement_case_sms"),
    path("movement/cases/<int:pk>/assign/", case_assign, name="movement_case_assign"),
    path("movement/cases/<int:pk>/documents/", case_document_upload,
         name="movement_case_documents"),
    path("movement/cases/<int:pk>/documents/<int:doc>/", case_document,
         name="movement_case_document"),
    path("movement/cases/<int:pk>/links/", case_link, name="movement_case_link"),
    path("movement/case-alerts/<int:pk>/ack/", alert_ack, name="movement_alert_ack"),
]
