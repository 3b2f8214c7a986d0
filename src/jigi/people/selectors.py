"""Reads of the person registry, always through the user's scope and the person's consents.

Who sees a person: staff whose scope covers a unit where the person holds a membership, and
staff of an organisation the person allowed (active consent, scope "identity"). What they see
of the person beyond identity: `person_visible_sections`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import NotFound
from jigi.core.lookup import is_id
from jigi.orgs.models import Organisation, OrgKind, Role
from jigi.orgs.scoping import user_scope
from jigi.people.models import (
    Consent,
    ConsentScope,
    DuplicateCandidate,
    DuplicateStatus,
    HouseholdMember,
    Membership,
    Person,
)
from jigi.people.names import fold, name_key, name_similarity
from jigi.people.phones import PhoneError, normalize_mali_phone

# Near-same name: same phonetic family-name key, full-name Jaro-Winkler at least this, and a
# birth year within YEAR_TOLERANCE (ages are often estimated in rural Mali).
NAME_SIMILARITY_MIN = 0.88
YEAR_TOLERANCE = 2

# Who decides that two records are one person (merge) or two (dismiss): managers, never the
# teller who registered the second record.
MANAGER_ROLES = {
    str(Role.CAISSE_MANAGER), str(Role.NETWORK_ADMIN), str(Role.MUTUAL_MANAGER),
    str(Role.UNION_ADMIN), str(Role.MOVEMENT_ADMIN),
}

# The sections of a person's file that belong to each kind of organisation.
SECTIONS_OF_KIND = {
    OrgKind.SFD.value: {ConsentScope.SAVINGS.value, ConsentScope.CREDIT.value},
    OrgKind.MUTUAL_UNION.value: {ConsentScope.HEALTH.value},
    OrgKind.MOVEMENT.value: {ConsentScope.MOVEMENT.value},
}
KIND_OF_SECTION = {s: kind for kind, sections in SECTIONS_OF_KIND.items() for s in sections}

_PHONE_LIKE = re.compile(r"^[+\d\s().-]+$")


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
    if not scope.grants:
        return qs.none()
    in_units = Membership.objects.filter(scope.unit_q("unit__"), person=OuterRef("pk"))
    return qs.filter(
        Exists(in_units) | Exists(_active_consent(scope.organisation_ids, ConsentScope.IDENTITY))
    )


def _survivor(person: Person) -> Person:
    # A chain is possible (A merged into B, later B into C); history is never rewritten.
    seen = set()
    while person.merged_into_id is not None and person.pk not in seen:
        seen.add(person.pk)
        person = Person.objects.get(pk=person.merged_into_id)
    return person


def get_person_for_user(user, pk: Any) -> Person:
    """The person, or the survivor if this record was merged; NotFound if not visible."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("person_not_found", _("Person not found.")) from None
    # Out-of-range ids cannot exist; refusing them early keeps SQLite from overflowing.
    person = Person.objects.filter(pk=pk).first() if is_id(pk) else None
    if person is not None:
        person = _survivor(person)
    if person is None or not persons_visible_to(user).filter(pk=person.pk).exists():
        raise NotFound("person_not_found", _("Person not found."))
    return person


def person_identity_ids(person: Person) -> list[int]:
    """The survivor's id and the ids of every record merged into it (directly or not).

    Other modules keep their rows (accounts, loans, claims) on the record they were made
    for; they use this to show a merged person's whole history on the survivor.
    """
    ids = [person.pk]
    frontier = [person.pk]
    while frontier:
        frontier = list(Person.objects.filter(merged_into_id__in=frontier)
                        .values_list("pk", flat=True))
        frontier = [pk for pk in frontier if pk not in ids]
        ids.extend(frontier)
    return ids


def _name_hits(base: QuerySet[Person], folded: str, limit: int) -> list[Person]:
    if connection.vendor == "sqlite":
        # SQLite's LIKE is case-insensitive and so cannot use the (binary) index on
        # search_name; the equivalent range can. search_name is already folded to lower case,
        # so binary order makes the range exact; the LIKE stays as the definition.
        prefix_q = Q(search_name__gte=folded, search_name__lt=folded + "\U0010ffff",
                     search_name__startswith=folded)
    else:
        # PostgreSQL: Django adds a varchar_pattern_ops index for LIKE 'prefix%'. No range
        # here: under a locale collation a range is not a prefix.
        prefix_q = Q(search_name__startswith=folded)
    prefix = list(base.filter(prefix_q).order_by("search_name", "pk")[:limit])
    if len(prefix) >= limit:
        return prefix
    # Then every word anywhere: finds a family name typed alone, or "Traoré Fatoumata" typed
    # family name first. A scan, but DB-side and cut at `limit`.
    words = folded.split()[:5]
    contains = Q()
    for word in words:
        contains &= Q(search_name__contains=word)
    more = (base.filter(contains).exclude(pk__in=[p.pk for p in prefix])
            .order_by("search_name", "pk")[: limit - len(prefix)])
    return prefix + list(more)


def person_search_for_user(user, q: str, limit: int = 25) -> list[Person]:
    """Search by name (accent- and case-insensitive), phone in any format, NINA or member number.

    Only persons the user may see; merged-away records never appear.
    """
    # Printable characters only: PostgreSQL refuses NUL in a query string.
    q = " ".join("".join(c for c in (q or "")[:200] if c.isprintable()).split())[:100]
    limit = max(1, min(int(limit), 100))
    if not q:
        return []
    base = persons_visible_to(user)
    compact = re.sub(r"[\s.\-()]", "", q).upper()
    digits = re.sub(r"\D", "", q)
    # Phone, NINA and member number each have their own index: find the ids by exact lookups,
    # then apply the scope to those few rows (an OR across columns would scan the registry).
    nina_ids = Person.objects.filter(nina=compact.lstrip("+")).values("pk")
    if _PHONE_LIKE.match(q) and len(digits) >= 8:
        try:
            phone = normalize_mali_phone(q)
        except PhoneError:
            phone = None
        match = Q(pk__in=nina_ids)
        if phone:
            match |= Q(pk__in=Person.objects.filter(phone=phone).values("pk"))
        return list(base.filter(match).order_by("last_name", "first_name", "pk")[:limit])
    if digits:
        # A member number ("C001-000123") of a membership in the user's own scope (a number of
        # another organisation is not the user's to search by), or a NINA.
        scope = user_scope(user)
        numbered = Membership.objects.filter(scope.unit_q("unit__"), number=q.upper())
        return list(base.filter(Q(pk__in=numbered.values("person_id")) | Q(pk__in=nina_ids))
                    .order_by("last_name", "first_name", "pk")[:limit])
    folded = fold(q)
    if not folded:
        return []
    return _name_hits(base, folded, limit)


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
    + place. Every lookup uses an index (phone, nina, name_key + birth_year), never a scan of
    the registry.

    Near-same name: the same phonetic key of the family name (names.name_key), full-name
    Jaro-Winkler >= NAME_SIMILARITY_MIN, birth year within YEAR_TOLERANCE, and the same
    cercle or village when the place is known.

    Searches the whole registry on purpose: a duplicate in another caisse or organisation is
    still a duplicate. Callers show only what the user may see (duplicate_candidates_for_user).
    """
    found: dict[int, tuple[set[str], int]] = {}

    def add(p: Person, reason: str, score: int) -> None:
        reasons, best = found.get(p.pk, (set(), 0))
        reasons.add(reason)
        found[p.pk] = (reasons, max(best, score))

    alive = Person.objects.filter(merged_into__isnull=True)
    if exclude_pk:
        alive = alive.exclude(pk=exclude_pk)
    persons: dict[int, Person] = {}
    if phone:
        for p in alive.filter(phone=phone)[:20]:
            persons[p.pk] = p
            add(p, "phone", 80)
    if nina:
        for p in alive.filter(nina=nina)[:5]:
            persons[p.pk] = p
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
                persons[p.pk] = p
                add(p, "name_birth_place", int(sim * 70))
    matches = [
        DuplicateMatch(persons[pk], tuple(sorted(reasons)), score)
        for pk, (reasons, score) in found.items()
    ]
    return sorted(matches, key=lambda m: (-m.score, m.person.pk))


def duplicate_candidates_for_user(user, matches: list[DuplicateMatch]) -> list[dict[str, Any]]:
    """What the user may be shown of duplicate matches: details and member numbers of persons
    the user can see; for the others only the reasons (someone elsewhere has this phone)."""
    visible = set(persons_visible_to(user).filter(pk__in=[m.person.pk for m in matches])
                  .values_list("pk", flat=True))
    out: list[dict[str, Any]] = []
    for m in matches[:10]:
        p = m.person
        if p.pk not in visible:
            out.append({"id": None, "visible": False, "reasons": list(m.reasons),
                        "score": m.score})
            continue
        out.append({
            "id": p.pk, "visible": True, "first_name": p.first_name, "last_name": p.last_name,
            "sex": p.sex, "birth_year": p.birth_year, "phone": p.phone, "village": p.village,
            "cercle": p.cercle,
            "member_numbers": [f"{ms.organisation.code} {ms.number}"
                               for ms in memberships_visible(user, p)],
            "reasons": list(m.reasons), "score": m.score,
        })
    return out


def person_visible_sections(user, person: Person) -> set[str]:
    """What parts of a person's file the user may see.

    - "identity" whenever the person is visible at all (call get_person_for_user first);
    - an organisation's own sections ("savings"/"credit" for Kondo, "health" for UTM,
      "movement" for MTC) to its staff whose scope covers one of the person's memberships;
      health only for health roles (Scope.sees_health_data);
    - any section the person consented to show to one of the user's organisations (active,
      not withdrawn consent of that scope).
    """
    scope = user_scope(user)
    if scope.is_superuser:
        return {s.value for s in ConsentScope}
    sections = {ConsentScope.IDENTITY.value}
    own_kinds = set(
        Membership.objects.filter(scope.unit_q("unit__"), person=person)
        .values_list("organisation__kind", flat=True)
    )
    for kind in own_kinds:
        sections |= SECTIONS_OF_KIND.get(kind, set())
    if not scope.sees_health_data:
        sections.discard(ConsentScope.HEALTH.value)
    consented = set(
        Consent.objects.filter(
            person=person, granted_to_id__in=scope.organisation_ids, withdrawn_at__isnull=True
        ).values_list("scope", flat=True)
    )
    return sections | consented


def memberships_visible(user, person: Person) -> list[Membership]:
    """The person's memberships the user may know of: in the user's scope, or of organisations
    whose data the person allowed the user's organisation to see."""
    scope = user_scope(user)
    qs = Membership.objects.filter(person=person).select_related("organisation", "unit")
    if scope.is_superuser:
        return list(qs.order_by("start_date", "pk"))
    sections = person_visible_sections(user, person)
    kinds = {KIND_OF_SECTION[s] for s in sections if s in KIND_OF_SECTION}
    return list(
        qs.filter(scope.unit_q("unit__") | Q(organisation__kind__in=kinds))
        .order_by("start_date", "pk")
    )


def consents_of(person: Person) -> QuerySet[Consent]:
    return Consent.objects.filter(person=person).select_related("granted_to").order_by("-given_at")


def consents_visible(user, person: Person) -> list[Consent]:
    """Staff who serve the person see all the person's consents; staff of another organisation
    only those given to their own organisation (a consent to the movement says something)."""
    scope = user_scope(user)
    qs = consents_of(person)
    if scope.is_superuser or Membership.objects.filter(scope.unit_q("unit__"),
                                                       person=person).exists():
        return list(qs)
    return list(qs.filter(granted_to_id__in=scope.organisation_ids))


def households_of(person: Person) -> list[HouseholdMember]:
    return list(person.household_links.select_related("household")
                .prefetch_related("household__members__person").order_by("pk"))


def can_write_person(user, person: Person, *, roles: set[str] | None = None) -> bool:
    """The user may change the person: a write role over a unit where the person is a member."""
    scope = user_scope(user)
    if scope.is_superuser:
        return True
    return Membership.objects.filter(scope.unit_q("unit__", write=True, roles=roles),
                                     person=person).exists()


def can_decide_duplicates(user, person: Person) -> bool:
    return can_write_person(user, person, roles=MANAGER_ROLES)


def _open_pairs(user) -> QuerySet[DuplicateCandidate]:
    visible = persons_visible_to(user)
    return DuplicateCandidate.objects.filter(
        status__in=[DuplicateStatus.OPEN, DuplicateStatus.CONFIRMED],
        person__in=visible, other__in=visible,
    )


def duplicates_open_for_user(user) -> QuerySet[DuplicateCandidate]:
    """Pairs still to decide where the user can see both records."""
    return _open_pairs(user).select_related("person", "other").order_by("-created_at", "-pk")


def get_duplicate_for_user(user, pk: Any) -> DuplicateCandidate:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = 0
    found = duplicates_open_for_user(user).filter(pk=pk).first() if is_id(pk) else None
    if found is None:
        raise NotFound("duplicate_not_found", _("Duplicate candidate not found."))
    return found


@dataclass(frozen=True)
class PersonDuplicates:
    pairs: list[DuplicateCandidate]
    hidden: int  # pairs whose other record the user may not see (decided by wider scope)


def person_duplicates_for_user(user, person: Person) -> PersonDuplicates:
    """Open pairs involving the person, in both directions."""
    undecided = [DuplicateStatus.OPEN, DuplicateStatus.CONFIRMED]
    mine = DuplicateCandidate.objects.filter(Q(person=person) | Q(other=person),
                                             status__in=undecided)
    visible = list(_open_pairs(user).filter(pk__in=mine).select_related("person", "other")
                   .order_by("pk"))
    return PersonDuplicates(pairs=visible, hidden=mine.count() - len(visible))


def organisations_for_consent() -> QuerySet[Organisation]:
    return Organisation.objects.order_by("code")


def age_on(person: Person, on: date) -> int | None:
    if person.birth_date:
        b = person.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))
    if person.birth_year:
        return on.year - person.birth_year
    return None
