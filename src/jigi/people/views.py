"""Screens of the person registry: search (htmx live results), registration with the duplicate
warning, and the person's page (identity, memberships, household, consents, duplicates)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.orgs.models import Organisation, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people import selectors, services
from jigi.people.errors import PossibleDuplicates
from jigi.people.forms import ConsentForm, PersonForm
from jigi.people.models import Consent

# Units that hold members (a network, region, union or movement node does not).
MEMBER_UNIT_KINDS = [UnitKind.CAISSE, UnitKind.MUTUAL, UnitKind.SECTION]


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


def _register_units(user):
    return list(user_scope(user).units(write=True).filter(kind__in=MEMBER_UNIT_KINDS,
                                                          is_active=True)
                .select_related("organisation").order_by("organisation__code", "code"))


@login_required
def person_register(request):
    units = _register_units(request.user)
    candidates: list[dict] = []
    confirmable = True
    if request.method == "POST":
        form = PersonForm(request.POST, units=units)
        if form.is_valid():
            data = form.cleaned_data
            unit = next(u for u in units if str(u.pk) == data.pop("unit"))
            confirm = data.pop("confirm_not_duplicate")
            try:
                person = services.person_register(
                    acting_user=request.user, unit=unit, confirm_not_duplicate=confirm, **data)
            except PossibleDuplicates as exc:
                candidates, confirmable = exc.candidates, not exc.hard
                if exc.hard:
                    form.add_error("nina", exc.fields["nina"])
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
            # A teller registers in her own caisse: chosen for her, with its place.
            initial.update(unit=units[0].pk, cercle=units[0].cercle, region=units[0].region,
                           commune=units[0].commune)
        form = PersonForm(initial=initial, units=units)
    status = 200
    if not units:
        status = 403
        messages.error(request, _("You cannot register members."))
    return render(request, "people/register.html", {
        "form": form, "candidates": candidates, "confirmable": confirmable, "units": units,
    }, status=status)


@login_required
def person_detail(request, pk: int):
    person = _person_or_404(request.user, pk)
    if person.pk != pk:
        # A merged record: its survivor's page.
        return redirect("web:person_detail", pk=person.pk)
    user = request.user
    duplicates = selectors.person_duplicates_for_user(user, person)
    can_write = selectors.can_write_person(user, person)
    visible_ids = set(selectors.persons_visible_to(user).filter(
        household_links__household__members__person=person).values_list("pk", flat=True))
    return render(request, "people/detail.html", {
        "person": person,
        "memberships": selectors.memberships_visible(user, person),
        "consents": selectors.consents_visible(user, person),
        "households": selectors.households_of(person),
        "household_visible": visible_ids,
        "sections": sorted(selectors.person_visible_sections(user, person)),
        # Each open pair with the record that is not this one.
        "duplicates": [(d, d.other if d.person_id == person.pk else d.person)
                       for d in duplicates.pairs],
        "duplicates_hidden": duplicates.hidden,
        "can_write": can_write,
        "can_decide": selectors.can_decide_duplicates(user, person),
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
    """Merge record `pk` into `other_id` (the survivor), from `pk`'s page."""
    person = _person_or_404(request.user, pk)
    other = _person_or_404(request.user, other_id)
    try:
        survivor = services.person_merge(acting_user=request.user, survivor=other, merged=person,
                                         reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, " ".join([str(exc.message)]
                                         + [str(m) for m in exc.fields.values()]))
        return redirect("web:person_detail", pk=person.pk)
    messages.success(request, _("Records merged."))
    return redirect("web:person_detail", pk=survivor.pk)


@login_required
@require_POST
def duplicate_dismiss(request, pk: int, candidate_id: int):
    person = _person_or_404(request.user, pk)
    try:
        cand = selectors.get_duplicate_for_user(request.user, candidate_id)
        services.duplicate_dismiss(acting_user=request.user, candidate=cand)
        messages.success(request, _("Marked as different persons."))
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise Http404 from None
        messages.error(request, exc.message)
    return redirect("web:person_detail", pk=person.pk)
