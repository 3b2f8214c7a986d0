"""The health home, a mutual's page (profile, packages, members) and the enrolment of a family."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jigi.core.errors import ApplicationError
from jigi.health import forms, forms_admin, selectors, selectors_admin, services
from jigi.health.models import AreaKind, CoverageStatus, ServiceGroup
from jigi.health.views._common import (
    CLINIC_ROLES,
    MUTUAL_STAFF_ROLES,
    UNION_ROLES,
    FormErrors,
    errors_of,
    fetch,
    is_manager,
    refusal,
    require_health,
    status_of,
    today,
)
from jigi.orgs.scoping import user_scope
from jigi.people import services as people
from jigi.people.errors import PossibleDuplicates
from jigi.people.models import Person, Relation, Sex
from jigi.people.phones import PhoneError, normalize_mali_phone
from jigi.people.selectors import (
    age_on,
    get_person_for_user,
    households_of,
    person_search_for_user,
    persons_visible_to,
)

# Relations a dependant may have on a coverage (the member himself is the head).
DEPENDANT_RELATIONS = [(r.value, r.label) for r in Relation if r != Relation.HEAD]


# --- home -------------------------------------------------------------------------------------


@login_required
def home(request):
    """Where a health role starts: the mutuals she works for and her tasks."""
    user = request.user
    require_health(user)
    scope = user_scope(user)
    staff = scope.has_role(*MUTUAL_STAFF_ROLES)
    return render(request, "health/home.html", {
        "mutuals": list(selectors.mutuals_visible(user)[:200]) if staff else [],
        "staff": staff,
        "clinic": scope.has_role(*CLINIC_ROLES),
        "union_admin": scope.has_role(*UNION_ROLES),
    })


# --- a mutual's page --------------------------------------------------------------------------


def _members(user, mutual, q: str, status: str):
    """Coverages of the mutual matching a policy or card number, the start of the member's
    name, or a phone number of a beneficiary (coverage_list knows the first three)."""
    phone = None
    if q and not forms.looks_like_card(q) and sum(c.isdigit() for c in q) >= 8:
        try:
            phone = normalize_mali_phone(q)
        except PhoneError:
            phone = None
    if phone:
        qs = selectors.coverages_visible(user).filter(mutual=mutual).filter(
            Q(member__phone=phone) | Q(beneficiaries__person__phone=phone)).distinct()
        if status:
            qs = qs.filter(status=status)
        qs = qs.select_related("member", "package", "mutual").order_by("-pk")
    else:
        qs = selectors.coverage_list(user, mutual=mutual, status=status, q=q)
        if q and (not forms.looks_like_card(q) or not qs.exists()):
            # coverage_list matches the start of the member's full name only; the registry's
            # search also finds a family name typed alone, without accents, or a dependant.
            persons = [p.pk for p in person_search_for_user(user, q, limit=100)]
            more = selectors.coverage_list(user, mutual=mutual, status=status).filter(
                beneficiaries__person_id__in=persons)
            qs = selectors.coverages_visible(user).filter(
                pk__in=[*qs.values_list("pk", flat=True)[:100],
                        *more.values_list("pk", flat=True)[:100]]
            ).select_related("member", "package", "mutual").order_by("-pk")
    return list(qs.prefetch_related("beneficiaries__person")[:100])


def _status_counts(user, mutual) -> dict[str, int]:
    """The mutual's coverages per status (every status, 0 when none), in one query."""
    found = dict(selectors.coverages_visible(user).filter(mutual=mutual).order_by()
                 .values_list("status").annotate(n=Count("pk")))
    return {s: found.get(s, 0) for s in CoverageStatus.values}


@login_required
def mutual_detail(request, pk: int):
    user = request.user
    mutual = fetch(selectors.get_mutual_visible, user, pk)
    q = forms.clean_text(request.GET.get("q", ""))[:60]
    status = request.GET.get("status", "")
    if status not in CoverageStatus.values:
        status = ""
    context = {"mutual": mutual, "q": q, "status": status, "statuses": CoverageStatus.choices,
               "coverages": _members(user, mutual, q, status)}
    if request.htmx:
        return render(request, "health/_members.html", context)
    packages = list(selectors.packages_offered(mutual))
    groups = dict(ServiceGroup.choices)
    return render(request, "health/mutual.html", context | {
        "profile": selectors.profile_of(mutual),
        "packages": [(p, [(groups.get(r.group, r.group), r, 100 - r.mutual_share_pct) for r in
                          sorted(p.rules.all(), key=lambda r: list(groups).index(r.group)
                                 if r.group in groups else 99)]) for p in packages],
        "counts": _status_counts(user, mutual),
        "can_enrol": is_manager(user, mutual),
    })


# --- enrolment --------------------------------------------------------------------------------


def _require_manager(user, mutual) -> None:
    if not is_manager(user, mutual):
        raise PermissionDenied


def _person_fields(post, errors: dict[str, Any], mutual) -> dict[str, Any]:
    """A person typed on the enrolment screens, for people.person_register."""
    birth_date = forms.parse_date(post, "birth_date", errors)
    birth_year = forms.parse_int(post, "birth_year", errors)
    fields = {
        "first_name": forms.clean_text(post.get("first_name", ""))[:100],
        "last_name": forms.clean_text(post.get("last_name", ""))[:100],
        "sex": post.get("sex", ""), "phone": forms.clean_text(post.get("phone", ""))[:32],
        "village": forms.clean_text(post.get("village", ""))[:100],
        "cercle": mutual.cercle, "region": mutual.region,
    }
    if birth_date is not None:
        fields["birth_date"] = birth_date
    else:
        fields["birth_year"] = birth_year
    return fields


@login_required
def enrol_start(request, pk: int):
    """Find the head of the family in the registry, or register him at the mutual."""
    user = request.user
    mutual = fetch(selectors.get_mutual_visible, user, pk)
    _require_manager(user, mutual)
    q = forms.clean_text(request.GET.get("q", ""))[:100]
    people_found = person_search_for_user(user, q) if q else []
    error, fields, status, candidates, confirmable = None, {}, 200, [], True
    if request.method == "POST":
        errors: dict[str, Any] = {}
        try:
            data = _person_fields(request.POST, errors, mutual)
            if errors:
                raise FormErrors(errors)
            person = people.person_register(
                acting_user=user, unit=mutual,
                confirm_not_duplicate=request.POST.get("confirm_not_duplicate") == "on", **data)
            people.household_create(acting_user=user, head=person)
            messages.success(request, _("Registered: %(name)s") % {"name": person.full_name})
            return redirect("web:health_enrol", pk=mutual.pk, person_id=person.pk)
        except PossibleDuplicates as exc:
            candidates, confirmable = exc.candidates, not exc.hard
            error, fields = errors_of(exc)
            status = 409
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "health/enrol_start.html", {
        "mutual": mutual, "q": q, "people": people_found, "error": error, "errors": fields,
        "candidates": candidates, "confirmable": confirmable, "sexes": Sex.choices,
        "v": request.POST if request.method == "POST" else {},
    }, status=status)


def _head_household(person: Person):
    """The household this person heads (the registry's), or None."""
    for link in households_of(person):
        if link.relation == Relation.HEAD and link.until is None:
            return link.household
    return None


def _household_rows(user, household, head: Person, on) -> list[dict[str, Any]]:
    """The other members of the head's household that the user may see, with their relation
    and age: the dependants the enrolment form offers."""
    if household is None:
        return []
    links = [link for link in household.members.select_related("person").order_by("pk")
             if link.person_id != head.pk and (link.until is None or link.until >= on)
             and link.person.merged_into_id is None]
    # One query for the lot, not one per member (persons_visible_to hides merged records).
    visible = set(persons_visible_to(user).filter(
        pk__in=[link.person_id for link in links]).values_list("pk", flat=True))
    return [{"person": link.person, "relation": link.relation, "age": age_on(link.person, on)}
            for link in links if link.person_id in visible]


def _dependants(post, rows: list[dict[str, Any]]) -> list[tuple[Person, str]]:
    chosen = []
    for row in rows:
        pk = row["person"].pk
        if post.get(f"cover_{pk}") == "on":
            chosen.append((row["person"], post.get(f"rel_{pk}") or row["relation"]))
    return chosen


def _dependant_errors(fields: dict[str, str], chosen: list[tuple[Person, str]]) -> None:
    """"dependants.2.person" is the third dependant sent: show it on that person's row."""
    for index, (person, _rel) in enumerate(chosen):
        for what in ("person", "relation"):
            msg = fields.get(forms.field_key(f"dependants.{index}.{what}"))
            if msg:
                fields[f"dep_{person.pk}"] = msg


def _add_member(request, mutual, head: Person, household):
    """Register a new family member at the mutual, in the head's household (created if he
    has none), or place an already registered person (found by member number or phone)."""
    user = request.user
    post = request.POST
    relation = post.get("relation", "")
    if relation not in dict(DEPENDANT_RELATIONS):
        raise FormErrors({"relation": _("Choose spouse, child, parent or other.")})
    existing = forms.clean_text(post.get("existing", ""))[:100]
    if existing:
        found = person_search_for_user(user, existing, limit=2)
        if len(found) != 1:
            raise FormErrors({"existing": _("Give the member number or phone of one person.")})
        if household is None:
            household = people.household_create(acting_user=user, head=head)
        people.household_member_add(acting_user=user, household=household, person=found[0],
                                    relation=relation)
        return found[0]
    errors: dict[str, Any] = {}
    data = _person_fields(post, errors, mutual)
    if errors:
        raise FormErrors(errors)
    if household is None:
        household = people.household_create(acting_user=user, head=head)
    return people.person_register(
        acting_user=user, unit=mutual, household=household, relation=relation,
        confirm_not_duplicate=post.get("confirm_not_duplicate") == "on", **data)


@login_required
def enrol(request, pk: int, person_id: int):
    """The family's form: the head, the household's members to cover (several spouses allowed)
    with their relation, new members registered on the spot, the package and the date."""
    user = request.user
    mutual = fetch(selectors.get_mutual_visible, user, pk)
    _require_manager(user, mutual)
    head = fetch(get_person_for_user, user, person_id)
    on = today()
    household = _head_household(head)
    packages = list(selectors.packages_offered(mutual, on))
    error, fields, status, candidates, confirmable = None, {}, 200, [], True
    action = request.POST.get("action", "") if request.method == "POST" else ""
    rows = _household_rows(user, household, head, on)
    chosen: list[tuple[Person, str]] = []
    if action == "add_member":
        try:
            added = _add_member(request, mutual, head, household)
            messages.success(request, _("%(name)s added to the family.") % {
                "name": added.full_name})
            return redirect("web:health_enrol", pk=mutual.pk, person_id=head.pk)
        except PossibleDuplicates as exc:
            candidates, confirmable = exc.candidates, not exc.hard
            error, fields = errors_of(exc)
            status = 409
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    elif action == "enrol":
        errors: dict[str, Any] = {}
        chosen = _dependants(request.POST, rows)
        try:
            enrolled_on = forms.parse_date(request.POST, "enrolled_on", errors)
            package = next((p for p in packages if str(p.pk) == request.POST.get("package")),
                           None)
            if package is None:
                errors["package"] = _("Choose a package.")
            if errors:
                raise FormErrors(errors)
            result = services.coverage_enrol(
                acting_user=user, mutual=mutual, package=package, member=head,
                household=household, dependants=chosen, on=enrolled_on)
            cards = ", ".join(f"{b.person.full_name} {b.card_number}"
                              for b in result.beneficiaries)
            messages.success(request, _("Family enrolled under %(number)s. Cards: %(cards)s.")
                             % {"number": result.coverage.number, "cards": cards})
            return redirect("web:health_coverage", pk=result.coverage.pk)
        except FormErrors as exc:
            error, fields = errors_of(exc.as_application_error())
            status = 422
        except ApplicationError as exc:
            error, fields = errors_of(exc)
            status = status_of(exc)
            _dependant_errors(fields, chosen)
    posted = request.method == "POST"
    ticked = {p.pk: rel for p, rel in chosen}
    for row in rows:
        pk_ = row["person"].pk
        row["checked"] = (pk_ in ticked) if action == "enrol" else True
        row["relation"] = ticked.get(pk_, row["relation"])
        row["error"] = fields.get(f"dep_{pk_}", "")
    return render(request, "health/enrol.html", {
        "existing": list(selectors.coverages_visible(user).filter(member=head).exclude(
            status=CoverageStatus.ENDED).select_related("package", "mutual")),
        "mutual": mutual, "head": head, "head_age": age_on(head, on), "household": household,
        "rows": rows, "packages": packages, "relations": DEPENDANT_RELATIONS,
        "sexes": Sex.choices, "error": error, "errors": fields, "action": action,
        "candidates": candidates, "confirmable": confirmable, "today": on,
        "v": request.POST if posted else {},
    }, status=status)


# --- the mutual's profile (set-up) ------------------------------------------------------------


def _board_seats(user, data, profile, fields: dict[str, str]) -> list[dict[str, Any]]:
    """The board's seats for the form: as sent after a refusal, or as stored; each with its
    person when the user may see him, and its messages."""
    if data:
        rows = []
        for i in range(forms_admin.MAX_BOARD + 1):
            raw = data.get(f"board_person_{i}")
            if raw is None:
                break
            rows.append({"person_id": forms.clean_text(raw)[:18],
                         "office": data.get(f"board_office_{i}", ""),
                         "since": forms.clean_text(data.get(f"board_since_{i}", ""))[:10],
                         "remove": forms_admin.checked(data, f"board_remove_{i}")})
    else:
        rows = [dict(r, remove=False) for r in selectors_admin.board_rows(user, profile)]
    ids = [int(r["person_id"]) for r in rows if str(r["person_id"]).isdigit()]
    persons = {p.pk: p for p in persons_visible_to(user).filter(pk__in=ids)}
    for i, row in enumerate(rows):
        row["i"] = i
        row["person"] = persons.get(int(row["person_id"])) \
            if str(row["person_id"]).isdigit() else None
        row["errors"] = " ".join(m for m in (fields.get(f"board_{k}_{i}") for k in (
            "person", "office", "since")) if m)
    return rows


def _check_board_persons(user, data, profile, errors: dict[str, Any]) -> None:
    """A seat keeps a person already on the board, or takes one the user may see in the
    registry: a number typed into the form names nobody else."""
    current = {seat.get("person_id") for seat in (profile.board if profile else [])}
    sent = {}
    for i in range(forms_admin.MAX_BOARD + 1):
        raw = data.get(f"board_person_{i}")
        if raw is None:
            break
        sent[f"board_person_{i}"] = raw
    if data.get("add_person"):
        sent["add_person"] = data.get("add_person")
    wanted = {k: int(v) for k, v in sent.items() if str(v).isdigit() and len(str(v)) <= 18}
    visible = set(persons_visible_to(user).filter(pk__in=list(wanted.values()))
                  .values_list("pk", flat=True))
    for key, pk in wanted.items():
        if pk not in visible and (key == "add_person" or pk not in current):
            errors[key] = _("Choose a person from the registry.")


@login_required
def mutual_edit(request, pk: int):
    """The mutual's profile: urban or rural, area, target population, foundation, approval,
    last general assembly, and its board (persons picked from the registry, their office and
    since when). The mutual's manager or the union administrator."""
    user = request.user
    mutual = fetch(selectors.get_mutual_visible, user, pk)
    _require_manager(user, mutual)
    profile = selectors.profile_of(mutual)
    board_q = forms.clean_text(request.GET.get("board_q", ""))[:100]
    found = person_search_for_user(user, board_q, limit=20) if board_q else []
    if request.htmx and "board_q" in request.GET:
        return render(request, "health/mutual_edit_candidates.html", {
            "found": found, "board_q": board_q})
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else None
    if post is not None:
        errors: dict[str, Any] = {}
        data = forms_admin.profile_fields(post, errors)
        _check_board_persons(user, post, profile, errors)
        try:
            if errors:
                raise FormErrors(errors)
            services.mutual_profile_save(acting_user=user, mutual=mutual, **data)
            messages.success(request, _("Profile of %(name)s saved.") % {"name": mutual.name})
            return redirect("web:health_mutual", pk=mutual.pk)
        except FormErrors as exc:
            error, fields = errors_of(exc.as_application_error())
            status = 422
        except ApplicationError as exc:
            error, fields = errors_of(exc)
            status = status_of(exc)
            forms_admin.board_errors(fields, data["board"], forms_admin.board_rows_sent(post))
    if post is not None:
        v: dict[str, Any] = post
    elif profile is not None:
        v = {name: getattr(profile, name) for name in (
            "area_kind", "area", "target_population", "approval_ref")}
        v["founded_on"] = profile.founded_on or ""
        v["last_general_assembly"] = profile.last_general_assembly or ""
    else:
        v = {"area_kind": AreaKind.URBAN if mutual.urban else AreaKind.RURAL,
             "area": ", ".join(x for x in (mutual.commune, mutual.cercle, mutual.region) if x)}
    return render(request, "health/mutual_edit.html", {
        "mutual": mutual, "profile": profile, "v": v, "error": error, "errors": fields,
        "seats": _board_seats(user, post, profile, fields), "offices": forms_admin.BOARD_OFFICES,
        "area_kinds": AreaKind.choices, "found": found, "board_q": board_q,
        "add_error": " ".join(m for m in (fields.get(f"add_{k}") for k in (
            "person", "office", "since")) if m),
    }, status=status)


__all__ = ["enrol", "enrol_start", "home", "mutual_detail", "mutual_edit"]
