from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.orgs.models import Organisation
from jigi.orgs.scoping import user_scope
from jigi.people import selectors, services
from jigi.people.forms import ConsentForm, PersonForm
from jigi.people.models import Consent, DuplicateCandidate, DuplicateStatus


def _person_or_404(user, pk):
    try:
        return selectors.get_person_for_user(user, pk)
    except ApplicationError:
        raise Http404 from None


@login_required
def person_search(request):
    q = request.GET.get("q", "")
    results = selectors.person_search_for_user(request.user, q) if q else []
    template = "people/_results.html" if request.htmx else "people/search.html"
    return render(request, template, {"q": q, "results": results})


@login_required
def person_register(request):
    units = list(user_scope(request.user).units(write=True).exclude(kind__in=["network", "region",
                                                                             "union", "movement"]))
    candidates = []
    if request.method == "POST":
        form = PersonForm(request.POST, units=units)
        if form.is_valid():
            data = form.cleaned_data
            unit = next(u for u in units if str(u.pk) == data.pop("unit"))
            confirm = data.pop("confirm_not_duplicate")
            try:
                person = services.person_register(
                    acting_user=request.user, unit=unit, confirm_not_duplicate=confirm, **data)
            except services.PossibleDuplicates as exc:
                candidates = exc.matches
                form.add_error(None, exc.message)
            except ApplicationError as exc:
                for field, msg in exc.fields.items():
                    form.add_error(field if field in form.fields else None, msg)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("Registered: %(name)s") % {"name": person.full_name})
                return redirect("web:person_detail", pk=person.pk)
    else:
        initial = {"literacy": "none", "language": "bm"}
        if len(units) == 1:
            initial.update(unit=units[0].pk, cercle=units[0].cercle, region=units[0].region)
        form = PersonForm(initial=initial, units=units)
    if not units:
        messages.error(request, _("You cannot register members."))
    return render(request, "people/register.html", {"form": form, "candidates": candidates})


@login_required
def person_detail(request, pk: int):
    person = _person_or_404(request.user, pk)
    if person.pk != pk:
        return redirect("web:person_detail", pk=person.pk)
    sections = selectors.person_visible_sections(request.user, person)
    duplicates = DuplicateCandidate.objects.filter(
        person=person, status=DuplicateStatus.OPEN).select_related("other")
    return render(request, "people/detail.html", {
        "person": person,
        "memberships": selectors.memberships_visible(request.user, person),
        "consents": selectors.consents_of(person),
        "households": person.household_links.select_related("household"),
        "sections": sorted(sections),
        "duplicates": duplicates,
        "consent_form": ConsentForm(organisations=Organisation.objects.order_by("code")),
    })


@login_required
@require_POST
def consent_add(request, pk: int):
    person = _person_or_404(request.user, pk)
    form = ConsentForm(request.POST, organisations=Organisation.objects.order_by("code"))
    if form.is_valid():
        try:
            services.consent_grant(
                acting_user=request.user, person=person,
                granted_to=Organisation.objects.get(pk=form.cleaned_data["granted_to"]),
                scope=form.cleaned_data["scope"], purpose=form.cleaned_data["purpose"])
            messages.success(request, _("Consent recorded."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Some fields are not valid."))
    return redirect("web:person_detail", pk=person.pk)


@login_required
@require_POST
def consent_withdraw(request, pk: int, consent_id: int):
    person = _person_or_404(request.user, pk)
    consent = Consent.objects.filter(pk=consent_id, person=person).first()
    if consent is None:
        raise Http404
    try:
        services.consent_withdraw(acting_user=request.user, consent=consent)
        messages.success(request, _("Consent withdrawn."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("web:person_detail", pk=person.pk)


@login_required
@require_POST
def person_merge(request, pk: int, other_id: int):
    person = _person_or_404(request.user, pk)
    other = _person_or_404(request.user, other_id)
    try:
        survivor = services.person_merge(acting_user=request.user, survivor=other, merged=person,
                                         reason=request.POST.get("reason", ""))
        messages.success(request, _("Records merged."))
        return redirect("web:person_detail", pk=survivor.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("web:person_detail", pk=person.pk)


@login_required
@require_POST
def duplicate_dismiss(request, pk: int, candidate_id: int):
    person = _person_or_404(request.user, pk)
    cand = DuplicateCandidate.objects.filter(pk=candidate_id, person=person).first()
    if cand is None:
        raise Http404
    try:
        services.duplicate_dismiss(acting_user=request.user, candidate=cand)
        messages.success(request, _("Marked as different persons."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("web:person_detail", pk=person.pk)
