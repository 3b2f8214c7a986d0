"""Reads of the UTM set-up screens: providers (with their place and clinic staff), the
conventions a user may see, packages she may change, the members of a group agreement's
partner she may enrol, a mutual's board with names.

Scoping follows health.selectors: providers are the union's and every health role of the union
sees them; a mutual's own convention is seen by that mutual's staff, the union administrator
and the clinic staff of that provider, never by another mutual (404); a person of a partner
organisation is seen only once she has allowed the union to see her identity (people.Consent)
or is a member of the union already.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from jigi.core.lookup import id_or_none, one_in
from jigi.health.models import (
    Beneficiary,
    BenefitPackage,
    Convention,
    Coverage,
    CoverageStatus,
    GroupAgreement,
    MutualProfile,
    Provider,
)
from jigi.health.selectors import coverages_visible, providers_visible
from jigi.health.services._common import (
    CLINIC_ROLES,
    MANAGER_ROLES,
    MUTUAL_STAFF_ROLES,
    is_union_admin,
    union_root,
)
from jigi.orgs.models import Organisation, OrgKind, StaffRole, Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import Membership, MembershipStatus, Person
from jigi.people.selectors import person_search_for_user, persons_visible_to

LIVE_MEMBERSHIP = [MembershipStatus.ACTIVE, MembershipStatus.PENDING,
                   MembershipStatus.SUSPENDED]


# --- providers --------------------------------------------------------------------------------


def provider_list(user, *, kind: str = "", place: str = "", active: str = ""
                  ) -> QuerySet[Provider]:
    """The union's providers the user sees, by kind, place (region, cercle, commune, village;
    name and code too) and active or not."""
    qs = providers_visible(user)
    if kind:
        qs = qs.filter(kind=kind)
    if place:
        qs = qs.filter(Q(name__icontains=place) | Q(code__icontains=place)
                       | Q(region__icontains=place) | Q(cercle__icontains=place)
                       | Q(commune__icontains=place) | Q(village__icontains=place))
    if active in ("yes", "no"):
        qs = qs.filter(active=active == "yes")
    return qs


def may_admin_providers(user, organisation_id: int) -> bool:
    """Whether the provider screens offer changes: the union administrator or a manager of
    any of its mutuals (the service decides; this only draws the buttons)."""
    scope = user_scope(user)
    if scope.is_superuser:
        return True
    root = union_root(organisation_id)
    return (root is not None and scope.covers_unit(root, write=True, roles=MANAGER_ROLES)) or \
        any(g.organisation_id == organisation_id and g.role in MANAGER_ROLES
            for g in scope.grants)


def provider_staff(provider: Provider):
    return provider.staff.order_by("username")


def clinic_staff_candidates(provider: Provider):
    """Users holding the clinic staff role in the provider's union, not yet linked to it."""
    ids = StaffRole.objects.filter(organisation_id=provider.organisation_id,
                                   role__in=CLINIC_ROLES, revoked_at__isnull=True
                                   ).values("user_id")
    return (get_user_model().objects.filter(pk__in=ids, is_active=True)
            .exclude(pk__in=provider.staff.values("pk")).order_by("username"))


def get_clinic_staff(provider: Provider, pk: Any):
    """A user to link (a clinic staff user of the union) or to unlink (linked), or None."""
    pk = id_or_none(pk)
    if pk is None:
        return None
    return get_user_model().objects.filter(pk=pk).filter(
        Q(pk__in=clinic_staff_candidates(provider).values("pk"))
        | Q(pk__in=provider.staff.values("pk"))).first()


# --- conventions ------------------------------------------------------------------------------


def _convention_q(user, provider: Provider | None = None) -> Q:
    scope = user_scope(user)
    if scope.is_superuser:
        return Q()
    q = Q(mutual__isnull=True) | Q(mutual__in=Unit.objects.filter(
        scope.unit_q(roles=MUTUAL_STAFF_ROLES)))
    if scope.roles & CLINIC_ROLES:
        # A centre's own staff enter claims for every mutual's members: they read all of
        # its tariffs.
        q |= Q(provider__in=Provider.objects.filter(staff=user))
    return q


def conventions_for_user(user, provider: Provider) -> QuerySet[Convention]:
    return (Convention.objects.filter(provider=provider).filter(_convention_q(user))
            .select_related("mutual").order_by("-valid_from", "pk"))


def get_convention_for_user(user, pk: Any) -> Convention:
    return one_in(Convention.objects.filter(provider__in=providers_visible(user))
                  .filter(_convention_q(user))
                  .select_related("provider", "provider__organisation", "mutual"),
                  pk, code="convention_not_found", message=_("Convention not found."))


def may_change_convention(user, convention: Convention) -> bool:
    if convention.mutual_id is None:
        return is_union_admin(user, convention.provider.organisation_id)
    return user_scope(user).covers_unit(convention.mutual, write=True, roles=MANAGER_ROLES)


def convention_mutuals(user, provider: Provider) -> list[Unit]:
    """The mutuals for which the user may sign a convention with this provider."""
    scope = user_scope(user)
    return list(Unit.objects.filter(scope.unit_q(write=True, roles=MANAGER_ROLES),
                                    kind=UnitKind.MUTUAL,
                                    organisation_id=provider.organisation_id).order_by("code"))


def tariff_items(convention: Convention):
    return convention.items.order_by("group", "code")


# --- packages ---------------------------------------------------------------------------------


def may_change_package(user, package: BenefitPackage) -> bool:
    if package.mutual_id is None:
        return is_union_admin(user, package.organisation_id)
    return user_scope(user).covers_unit(package.mutual, write=True, roles=MANAGER_ROLES)


def package_owners(user) -> list[tuple[str, Any, Unit | None]]:
    """Whom a new package may be for: ("union", organisation, None) for the union
    administrator, ("mutual", organisation, unit) for each mutual the user manages."""
    scope = user_scope(user)
    out: list[tuple[str, Any, Unit | None]] = []
    for org in Organisation.objects.filter(kind=OrgKind.MUTUAL_UNION).order_by("code"):
        if (scope.is_superuser or org.pk in scope.organisation_ids) \
                and is_union_admin(user, org.pk):
            out.append(("union", org, None))
    for unit in Unit.objects.filter(scope.unit_q(write=True, roles=MANAGER_ROLES),
                                    kind=UnitKind.MUTUAL).select_related("organisation"
                                                                         ).order_by("code"):
        out.append(("mutual", unit.organisation, unit))
    return out


def coverages_under(package: BenefitPackage) -> int:
    return Coverage.objects.filter(package=package).exclude(status=CoverageStatus.ENDED).count()


# --- group agreements -------------------------------------------------------------------------


def partner_units(organisations) -> QuerySet[Unit]:
    """The units of the partner organisations (sections, caisses) an agreement may name."""
    return (Unit.objects.filter(organisation__in=organisations, is_active=True)
            .exclude(kind__in=[UnitKind.NETWORK, UnitKind.MOVEMENT])
            .select_related("organisation").order_by("organisation__code", "code"))


def _partner_memberships(agreement: GroupAgreement) -> QuerySet[Membership]:
    qs = Membership.objects.filter(organisation_id=agreement.partner_id,
                                   status__in=LIVE_MEMBERSHIP)
    if agreement.partner_unit_id:
        qs = qs.filter(unit__path__startswith=agreement.partner_unit.path)
    return qs


def partner_members_for_user(user, agreement: GroupAgreement, *, q: str = "",
                             limit: int = 200) -> list[Person]:
    """Members of the agreement's partner (its unit when named) the user may see: those who
    allowed the union to see their identity, or who are members of the union already. `q`
    narrows them by name, phone or member number (the registry's search)."""
    qs = persons_visible_to(user).filter(
        pk__in=_partner_memberships(agreement).values("person_id"))
    if q:
        qs = qs.filter(pk__in=[p.pk for p in person_search_for_user(user, q, limit=100)])
    return list(qs.order_by("last_name", "first_name", "pk")[:limit])


def partner_members_hidden(user, agreement: GroupAgreement) -> int:
    """How many members of the partner the user cannot see yet (no consent recorded): a
    number only, so that the manager knows to ask the partner, never who they are."""
    visible = persons_visible_to(user).values("pk")
    return (_partner_memberships(agreement).exclude(person_id__in=visible)
            .values("person_id").distinct().count())


def covered_persons(package: BenefitPackage, person_ids: list[int]) -> dict[int, str]:
    """Of these persons, those with a live card under the package's code: person -> card."""
    rows = (Beneficiary.objects.filter(person_id__in=person_ids, until__isnull=True,
                                       coverage__organisation_id=package.organisation_id,
                                       coverage__package__code=package.code)
            .exclude(coverage__status=CoverageStatus.ENDED)
            .values_list("person_id", "card_number"))
    return dict(rows)


def agreement_coverages(user, agreement: GroupAgreement) -> QuerySet[Coverage]:
    return (coverages_visible(user).filter(agreement=agreement)
            .select_related("member").prefetch_related("beneficiaries").order_by("-pk"))


# --- a mutual's board -------------------------------------------------------------------------


def board_rows(user, profile: MutualProfile | None) -> list[dict[str, Any]]:
    """The board as stored, each seat with its person when the user may see him (a seat of a
    person she may not see keeps its number, without a name)."""
    if profile is None:
        return []
    ids = [seat.get("person_id") for seat in profile.board]
    persons = {p.pk: p for p in persons_visible_to(user).filter(pk__in=ids)}
    return [{"person_id": seat.get("person_id"), "person": persons.get(seat.get("person_id")),
             "office": seat.get("office", ""), "since": seat.get("since") or ""}
            for seat in profile.board]

