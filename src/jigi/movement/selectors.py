"""Reads of MTC members and dues, always through the user's scope: movement staff see the
sections their grants cover; anyone else (a Kondo teller, a UTM manager) sees nothing and gets
a 404 for a member, a payment or a waiver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from jigi.core.cleaning import today
from jigi.core.errors import NotFound
from jigi.core.lookup import id_or_none as _pk
from jigi.movement.models import (
    DuesAllocation,
    DuesCharge,
    DuesPayment,
    DuesWaiver,
    MemberProfile,
    Standing,
    WaiverStatus,
)
from jigi.movement.services._common import ADMIN_ROLES, STAFF_ROLES
from jigi.movement.services.members import adult_age
from jigi.orgs.models import MemberGroup, Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import MembershipStatus
from jigi.people.names import fold


def sections_for_user(user) -> QuerySet[Unit]:
    """The movement sections the user works for (all of them for the movement's staff)."""
    scope = user_scope(user)
    return (Unit.objects.filter(scope.unit_q(roles=STAFF_ROLES), kind=UnitKind.SECTION)
            .order_by("code"))


def get_section_for_user(user, pk: Any) -> Unit:
    pk = _pk(pk)
    section = sections_for_user(user).filter(pk=pk).first() if pk else None
    if section is None:
        raise NotFound("section_not_found", _("Section not found."))
    return section


def members_for_user(user) -> QuerySet[MemberProfile]:
    scope = user_scope(user)
    return (MemberProfile.objects.filter(scope.unit_q("section__", roles=STAFF_ROLES))
            .select_related("person", "membership", "section"))


def minors_q(on: date | None = None, prefix: str = "") -> Q:
    """Domestic workers who are (or may be) under the adult age on `on` (movement.standing's
    rule: with only a year of birth, she counts while she could still be a minor)."""
    on = on or today()
    age = adult_age(on)
    try:
        cutoff = on.replace(year=on.year - age)
    except ValueError:  # 29 February
        cutoff = on.replace(year=on.year - age, day=28)
    p = f"{prefix}person__"
    return Q(**{f"{prefix}group": MemberGroup.DOMESTIC}) & (
        Q(**{f"{p}birth_date__gt": cutoff})
        | Q(**{f"{p}birth_date__isnull": True, f"{p}birth_year__gte": on.year - age}))


def members_filter(qs: QuerySet[MemberProfile], *, section: Unit | None = None,
                   group: str | None = None, standing: str | None = None,
                   minor: bool | None = None, q: str = "", live_only: bool = True
                   ) -> QuerySet[MemberProfile]:
    if section is not None:
        qs = qs.filter(section=section)
    # Unknown values filter everything out (no NUL or stray text reaches the database).
    if group:
        qs = qs.filter(group=group) if group in MemberGroup.values else qs.none()
    if standing:
        qs = qs.filter(standing=standing) if standing in Standing.values else qs.none()
    if minor is True:
        qs = qs.filter(minors_q())
    elif minor is False:
        qs = qs.exclude(minors_q())
    if live_only:
        qs = qs.exclude(membership__status=MembershipStatus.ENDED)
    q = " ".join("".join(c for c in str(q or "") if c.isprintable()).split())
    if q:
        cond = Q(person__search_name__contains=fold(q)) | Q(membership__number__iexact=q)
        digits = "".join(c for c in q if c.isdigit())
        if len(digits) >= 4:
            cond |= Q(person__phone__endswith=digits[-8:])
        qs = qs.filter(cond)
    return qs.order_by("person__last_name", "person__first_name", "pk")


def get_member_for_user(user, pk: Any) -> MemberProfile:
    pk = _pk(pk)
    member = members_for_user(user).filter(pk=pk).first() if pk else None
    if member is None:
        raise NotFound("member_not_found", _("Member not found."))
    return member


def record_of(profile: MemberProfile):
    from jigi.movement.services.members import RECORD_ATTR

    return getattr(profile, RECORD_ATTR[MemberGroup(profile.group)], None)


def get_payment_for_user(user, pk: Any) -> DuesPayment:
    pk = _pk(pk)
    scope = user_scope(user)
    row = (DuesPayment.objects.select_related("profile__section", "profile__person",
                                              "profile__membership", "reverses")
           .filter(scope.unit_q("profile__section__", roles=STAFF_ROLES), pk=pk).first()
           if pk else None)
    if row is None:
        raise NotFound("payment_not_found", _("Payment not found."))
    return row


def get_waiver_for_user(user, pk: Any) -> DuesWaiver:
    pk = _pk(pk)
    scope = user_scope(user)
    row = (DuesWaiver.objects.select_related("profile__section", "profile__membership")
           .filter(scope.unit_q("profile__section__", roles=STAFF_ROLES), pk=pk).first()
           if pk else None)
    if row is None:
        raise NotFound("waiver_not_found", _("Waiver not found."))
    return row


def waivers_pending_for_user(user) -> QuerySet[DuesWaiver]:
    scope = user_scope(user)
    return (DuesWaiver.objects.filter(scope.unit_q("profile__section__", roles=ADMIN_ROLES),
                                      status=WaiverStatus.REQUESTED)
            .select_related("profile__person", "profile__membership", "requested_by")
            .order_by("requested_at"))


_ALLOCATIONS = DuesAllocation.objects.order_by("charge__period_start", "pk")


def allocations_of(payment: DuesPayment) -> list[DuesAllocation]:
    """How a payment was spread over the charges, oldest first (prefetched by dues_statement
    for a whole statement)."""
    prefetched = getattr(payment, "ordered_allocations", None)
    if prefetched is not None:
        return list(prefetched)
    return list(_ALLOCATIONS.filter(payment=payment))


@dataclass(frozen=True)
class Statement:
    profile: MemberProfile
    charges: list[DuesCharge]
    payments: list[DuesPayment]
    waivers: list[DuesWaiver]
    charged: int
    paid: int
    waived: int
    arrears: int
    advance: int


def dues_statement(profile: MemberProfile) -> Statement:
    """Her charges (newest first), payments and reversals, waivers and the totals."""
    charges = list(DuesCharge.objects.filter(profile=profile).order_by("-period_start"))
    payments = list(DuesPayment.objects.filter(profile=profile).select_related("reverses")
                    .prefetch_related(Prefetch("allocations", queryset=_ALLOCATIONS,
                                               to_attr="ordered_allocations"))
                    .order_by("-paid_on", "-pk"))
    waivers = list(DuesWaiver.objects.filter(profile=profile).order_by("-requested_at"))
    return Statement(
        profile=profile, charges=charges, payments=payments, waivers=waivers,
        charged=sum(c.amount for c in charges), paid=sum(c.paid for c in charges),
        waived=sum(c.waived for c in charges), arrears=sum(c.open_amount for c in charges),
        advance=profile.advance)


@dataclass(frozen=True)
class SectionSummary:
    section: Unit
    members: int
    by_standing: dict[str, int]
    minors: int
    arrears: int


def section_summaries(user) -> list[SectionSummary]:
    """Each section the user works for: live members by standing, minors, total arrears."""
    sections = list(sections_for_user(user))
    live = MemberProfile.objects.filter(section__in=sections).exclude(
        membership__status=MembershipStatus.ENDED)
    counts: dict[int, dict[str, int]] = {s.pk: {} for s in sections}
    for row in live.values("section_id", "standing").annotate(n=Count("pk")):
        counts[row["section_id"]][row["standing"]] = row["n"]
    minors = dict(live.filter(minors_q()).values("section_id").annotate(n=Count("pk"))
                  .values_list("section_id", "n"))
    # Summed by the database (not one row per member brought into Python).
    arrears = dict(live.values("section_id").annotate(s=Sum("arrears"))
                   .values_list("section_id", "s"))
    out = []
    for s in sections:
        by = {k: counts[s.pk].get(k, 0) for k in Standing.values}
        out.append(SectionSummary(s, sum(by.values()), by, minors.get(s.pk, 0),
                                  arrears.get(s.pk, 0)))
    return out


__all__ = [
    "SectionSummary", "Statement", "allocations_of", "dues_statement", "get_member_for_user",
    "get_payment_for_user", "get_section_for_user", "get_waiver_for_user", "members_filter",
    "members_for_user", "minors_q", "record_of", "section_summaries", "sections_for_user",
    "waivers_pending_for_user",
]
