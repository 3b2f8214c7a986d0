"""Reads of the person registry, always through the user's scope and the person's consents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import NotFound
from jigi.orgs.models import Organisation
from jigi.orgs.scoping import user_scope
from jigi.people.models import (
    Consent,
    ConsentScope,
    DuplicateCandidate,
    DuplicateStatus,
    Membership,
    Person,
)
from jigi.people.names import fold, name_key, name_similarity
from jigi.people.phones import PhoneError, normalize_mali_phone

# Near-same name: same phonetic family-name key, full-name Jaro-Winkler at least this, and a
# birth year within YEAR_TOLERANCE (ages are often estimated in rural Mali).
NAME_SIMILARITY_MIN = 0.88
YEAR_TOLERANCE = 2


def _active_consent(organisation_ids: set[int], scope: str):
    return Consent.objects.filter(
        person=OuterRef("pk"), granted_to_id__in=organisation_ids, scope=scope,
        withdrawn_at__isnull=True,
    )


def persons_visible_to(user) -> QuerySet[Person]:
    """Persons a member of the user's units, or who consented to show their identity to the
    user's organisation. Merged-away records are hidden (their survivor is shown)."""
    scope = user_scope(user)
    qs = Person.objects.filter(merged_into__isnull=True)
    if scope.is_superuser:
        return qs
    in_units = Membership.objects.filter(scope.unit_q("unit__"), person=OuterRef("pk"))
    return qs.filter(
        Exists(in_units) | Exists(_active_consent(scope.organisation_ids, ConsentScope.IDENTITY))
    )


def get_person_for_user(user, pk: int) -> Person:
    person = Person.objects.filter(pk=pk).first()
    if person is not None and person.merged_into_id is not None:
        person = person.merged_into
        while person.merged_into_id is not None:
            person = person.merged_into
    if person is None or not persons_visible_to(user).filter(pk=person.pk).exists():
        raise NotFound("person_not_found", _("Person not found."))
    return person


def person_search_for_user(user, q: str, *, limit: int = 25) -> list[Person]:
    """Search by name (accent- and case-insensitive), phone in any format, NINA or member number."""
    q = (q or "").strip()
    if not q:
        return []
    base = persons_visible_to(user)
    digits = q.replace(" ", "").replace("+", "")
    if digits.isdigit() and len(digits) >= 8:
        try:
            phone = normalize_mali_phone(q)
        except PhoneError:
            phone = None
        hits = base.filter(Q(phone=phone) | Q(nina=q.replace(" ", ""))) if phone else base.filter(
            nina=q.replace(" ", ""))
        return list(hits.order_by("last_name", "first_name", "pk")[:limit])
    if any(c.isdigit() for c in q):
        number_hits = base.filter(
            Q(memberships__number__iexact=q) | Q(nina=q.replace(" ", ""))
        ).distinct()
        return list(number_hits[:limit])
    folded = fold(q)
    # Prefix first (an index range scan), then "contains" to find family names typed alone.
    prefix = list(base.filter(search_name__startswith=folded).order_by("search_name", "pk")[:limit])
    if len(prefix) >= limit:
        return prefix
    seen = {p.pk for p in prefix}
    more = base.filter(search_name__contains=folded).exclude(pk__in=seen).order_by(
        "search_name", "pk")[: limit - len(prefix)]
    return prefix + list(more)


@dataclass(frozen=True)
class DuplicateMatch:
    person: Person
    reasons: tuple[str, ...]
    score: int


def person_find_duplicates(
    *,
    first_name: str,
    last_name: str,
    phone: str = "",
    nina: str | None = None,
    birth_year: int | None = None,
    cercle: str = "",
    village: str = "",
    exclude_pk: int | None = None,
) -> list[DuplicateMatch]:
    """Persons who may be the same human: same phone, same NINA, or near-same name + birth year
    + place. Every lookup uses an index (phone, nina, name_key), never a scan of the registry.

    Searches the whole registry on purpose: a duplicate in another caisse or organisation is
    still a duplicate. Callers show only what the user may see.
    """
    found: dict[int, tuple[set[str], int]] = {}

    def add(p: Person, reason: str, score: int) -> None:
        reasons, best = found.get(p.pk, (set(), 0))
        reasons.add(reason)
        found[p.pk] = (reasons, max(best, score))

    alive = Person.objects.filter(merged_into__isnull=True)
    if exclude_pk:
        alive = alive.exclude(pk=exclude_pk)
    if phone:
        for p in alive.filter(phone=phone)[:20]:
            add(p, "phone", 80)
    if nina:
        for p in alive.filter(nina=nina)[:5]:
            add(p, "nina", 100)
    key = name_key(first_name, last_name)
    if key and birth_year:
        near = alive.filter(
            name_key=key,
            birth_year__gte=birth_year - YEAR_TOLERANCE,
            birth_year__lte=birth_year + YEAR_TOLERANCE,
        )
        place = Q()
        if cercle:
            place |= Q(cercle__iexact=cercle)
        if village:
            place |= Q(village__iexact=village)
        if place:
            near = near.filter(place)
        for p in near[:200]:
            sim = name_similarity(first_name, last_name, p.first_name, p.last_name)
            if sim >= NAME_SIMILARITY_MIN:
                add(p, "name_birth_place", int(sim * 70))
    persons = {p.pk: p for p in Person.objects.filter(pk__in=found)}
    matches = [
        DuplicateMatch(persons[pk], tuple(sorted(reasons)), score)
        for pk, (reasons, score) in found.items()
    ]
    return sorted(matches, key=lambda m: (-m.score, m.person.pk))


def person_visible_sections(user, person: Person) -> set[str]:
    """What parts of a person's file the user may see: identity always (if the person is
    visible at all), an organisation's own data to that organisation's staff in scope, and
    another organisation's data only with an active consent of that scope. Health data needs a
    health role too."""
    scope = user_scope(user)
    if scope.is_superuser:
        return {s.value for s in ConsentScope}
    sections = {ConsentScope.IDENTITY.value}
    own_orgs = set(
        Membership.objects.filter(scope.unit_q("unit__"), person=person)
        .values_list("organisation__kind", flat=True)
    )
    by_kind = {"sfd": {"savings", "credit"}, "mutual_union": {"health"}, "movement": {"movement"}}
    for kind in own_orgs:
        sections |= by_kind.get(kind, set())
    consented = set(
        Consent.objects.filter(
            person=person, granted_to_id__in=scope.organisation_ids, withdrawn_at__isnull=True
        ).values_list("scope", flat=True)
    )
    sections |= consented
    if "health" in sections and not scope.sees_health_data:
        sections.discard("health")
    return sections


def memberships_visible(user, person: Person) -> list[Membership]:
    """The person's memberships the user may know of: in the user's scope, or of organisations
    whose data the person allowed the user's organisation to see."""
    scope = user_scope(user)
    qs = Membership.objects.filter(person=person).select_related("organisation", "unit")
    if scope.is_superuser:
        return list(qs.order_by("start_date"))
    sections = person_visible_sections(user, person)
    kinds = set()
    if sections & {"savings", "credit"}:
        kinds.add("sfd")
    if "health" in sections:
        kinds.add("mutual_union")
    if "movement" in sections:
        kinds.add("movement")
    return list(
        qs.filter(scope.unit_q("unit__") | Q(organisation__kind__in=kinds)).order_by("start_date")
    )


def consents_of(person: Person) -> QuerySet[Consent]:
    return Consent.objects.filter(person=person).select_related("granted_to").order_by("-given_at")


def duplicates_open_for_user(user) -> QuerySet[DuplicateCandidate]:
    visible = persons_visible_to(user)
    return (
        DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN, person__in=visible)
        .select_related("person", "other")
        .order_by("-created_at")
    )


def organisations_for_consent() -> QuerySet[Organisation]:
    return Organisation.objects.order_by("code")


def age_on(person: Person, on: date) -> int | None:
    if person.birth_date:
        b = person.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))
    if person.birth_year:
        return on.year - person.birth_year
    return None
