"""Enrolment: families and their beneficiaries, cards, group enrolment through an agreement,
removal, end of coverage and annual renewal.

Persons come from the one registry (people): a coverage names a member (the adhérent, who pays)
and beneficiaries (the member, spouses - several are allowed, polygamy being legal in Mali -
children up to the package's age limit, other dependants when the package allows them). The
member holds a people.Membership of the union, created at the mutual if he has none.

A person is covered at most once at a time per package code, whichever mutual: a second active
coverage of the same person under the same code is refused (409).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, NotFound
from jigi.core.numbering import next_number
from jigi.health import dues as schedule
from jigi.health.cards import card_number
from jigi.health.models import (
    Beneficiary,
    BenefitPackage,
    ContributionDue,
    Coverage,
    CoverageStatus,
    GroupAgreement,
    StandingOrder,
    SuspensionPeriod,
)
from jigi.health.services._common import (
    MANAGER_ROLES,
    clean_date,
    clean_text,
    conflict,
    invalid,
    require_mutual,
    require_role,
    service_transaction,
    today,
)
from jigi.health.services.contributions import dues_ensure, resettle
from jigi.health.services.mutuals import package_offered
from jigi.orgs.models import Organisation, Unit
from jigi.people.models import (
    Consent,
    ConsentScope,
    Household,
    Membership,
    MembershipStatus,
    Person,
    Relation,
)
from jigi.people.selectors import age_on, get_person_for_user
from jigi.people.services import _member_number  # one numbering of members for all modules

LIVE_MEMBERSHIP = [MembershipStatus.ACTIVE, MembershipStatus.PENDING, MembershipStatus.SUSPENDED]
DEPENDANT_RELATIONS = {Relation.SPOUSE.value, Relation.CHILD.value, Relation.PARENT.value,
                       Relation.OTHER.value}
MEMBER_RELATION = Relation.HEAD.value


@dataclass(frozen=True)
class Skipped:
    """A household member not enrolled, and why (stable code, translated message)."""

    person: Person
    code: str
    message: Any


@dataclass
class Enrolment:
    coverage: Coverage
    beneficiaries: list[Beneficiary]
    skipped: list[Skipped] = field(default_factory=list)


def _age_refusal(package: BenefitPackage, person: Person, relation: str, on: date) -> Any:
    """Why a dependant cannot be covered under this package, or None."""
    if relation == Relation.CHILD:
        age = age_on(person, on)
        if age is not None and age > package.child_max_age:
            return _("A child is covered up to %(age)d years old.") % {
                "age": package.child_max_age}
    if relation in (Relation.PARENT, Relation.OTHER) and not package.other_dependants:
        return _("This package covers only the member, spouses and children.")
    return None


def _already_covered(person_ids: list[int], package: BenefitPackage, on: date,
                     exclude_coverage: int | None = None) -> set[int]:
    """Persons with an active coverage under the same package code (any mutual) on `on`."""
    qs = Beneficiary.objects.filter(person_id__in=person_ids,
                                    coverage__organisation_id=package.organisation_id,
                                    coverage__package__code=package.code).exclude(
        coverage__status=CoverageStatus.ENDED)
    qs = qs.filter(Q(until__isnull=True) | Q(until__gte=on))
    if exclude_coverage:
        qs = qs.exclude(coverage_id=exclude_coverage)
    return set(qs.values_list("person_id", flat=True))


def _card(mutual: Unit) -> str:
    n = next_number(f"health-card:{mutual.pk}", 0)
    return card_number(mutual.code, n)


def _membership_for(person: Person, mutual: Unit, on: date) -> Membership:
    """The member's live membership of the union, created at the mutual when he has none
    (the same numbering as people.services, in this transaction)."""
    m = Membership.objects.filter(person=person, organisation_id=mutual.organisation_id,
                                  status__in=LIVE_MEMBERSHIP).order_by("pk").first()
    if m is not None:
        if m.status == MembershipStatus.PENDING:
            # Registered at a health-education session: enrolling makes her a member here.
            m.unit, m.status, m.start_date = mutual, MembershipStatus.ACTIVE, on
            m.save(update_fields=["unit", "status", "start_date"])
        return m
    return Membership.objects.create(person=person, organisation_id=mutual.organisation_id,
                                     unit=mutual, number=_member_number(mutual),
                                     status=MembershipStatus.ACTIVE, start_date=on)


def _household_dependants(household: Household, member: Person, package: BenefitPackage,
                          on: date) -> tuple[list[tuple[Person, str]], list[Skipped]]:
    links = list(household.members.select_related("person").order_by("pk"))
    if not any(link.person_id == member.pk and link.relation == Relation.HEAD
               for link in links):
        raise invalid({"household": _("The member must be the head of this household "
                                      "(or list the dependants).")})
    out, skipped = [], []
    for link in links:
        p = link.person
        if p.pk == member.pk or (link.until is not None and link.until < on):
            continue
        if p.merged_into_id is not None:
            continue  # the survivor record is in the household too, or will be added
        refusal = _age_refusal(package, p, link.relation, on)
        if refusal is not None:
            code = "AGE_LIMIT" if link.relation == Relation.CHILD else "NOT_COVERED_RELATION"
            skipped.append(Skipped(p, code, refusal))
            continue
        out.append((p, link.relation))
    return out, skipped


def _clean_dependants(user, dependants: Any) -> list[tuple[Person, str]]:
    if not isinstance(dependants, list | tuple) or len(dependants) > 60:
        raise invalid({"dependants": _("Give at most 60 dependants.")})
    out = []
    for i, item in enumerate(dependants):
        try:
            person, relation = item
        except (TypeError, ValueError):
            raise invalid({f"dependants.{i}": _("Give a person and a relation.")}) from None
        if relation not in DEPENDANT_RELATIONS:
            raise invalid({f"dependants.{i}.relation": _("Choose spouse, child, parent or "
                                                         "other.")})
        try:
            person = get_person_for_user(user, getattr(person, "pk", person))
        except NotFound:
            raise NotFound("person_not_found", _("Person not found."),
                           {f"dependants.{i}.person": _("Person not found.")}) from None
        out.append((person, relation))
    return out


def _lock_persons(ids: list[int]) -> None:
    # Row locks in id order: two enrolments of the same person queue here, and the second
    # sees the first's coverage (SQLite's BEGIN IMMEDIATE serialises them anyway).
    list(Person.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
         .values_list("pk", flat=True))


def _refuse_duplicates(persons: list[tuple[Person, str]], package: BenefitPackage, on: date,
                       exclude_coverage: int | None = None) -> None:
    covered = _already_covered([p.pk for p, _r in persons], package, on, exclude_coverage)
    if covered:
        names = ", ".join(p.full_name for p, _r in persons if p.pk in covered)
        raise ApplicationError(
            "already_covered",
            _("Already covered under the package %(code)s: %(names)s.")
            % {"code": package.code, "names": names},
            {"person": _("This person already has an active coverage under this package.")},
            status_code=409)


def _enrol(*, user, mutual: Unit, package: BenefitPackage, member: Person,
           dependants: list[tuple[Person, str]], household: Household | None, on: date,
           agreement: GroupAgreement | None, skipped: list[Skipped]) -> Enrolment:
    """Inside the caller's transaction."""
    everyone = [(member, MEMBER_RELATION), *dependants]
    ids = [p.pk for p, _r in everyone]
    if len(set(ids)) != len(ids):
        raise invalid({"dependants": _("A person is listed twice.")})
    if package.max_beneficiaries and len(everyone) > package.max_beneficiaries:
        raise invalid({"dependants": _("This package covers at most %(n)d persons per family.")
                       % {"n": package.max_beneficiaries}})
    _lock_persons(ids)
    _refuse_duplicates(everyone, package, on)
    membership = _membership_for(member, mutual, on)
    waived = agreement is not None and agreement.waiting_waived
    n = next_number(f"health-coverage:{mutual.pk}", 0)
    coverage = Coverage.objects.create(
        organisation_id=mutual.organisation_id, mutual=mutual, package=package, member=member,
        membership=membership, household=household, agreement=agreement,
        number=f"{mutual.code}-F{n:06d}", status=CoverageStatus.ACTIVE, enrolled_on=on,
        covered_from=on if waived else on + timedelta(days=package.waiting_days),
        renewal_due=schedule.add_years(on, 1), created_by=user)
    beneficiaries = [Beneficiary.objects.create(coverage=coverage, person=p, relation=r,
                                                card_number=_card(mutual), since=on)
                     for p, r in everyone]
    coverage.package = package
    dues_ensure(coverage, on, spans=[schedule.Span(on) for _b in beneficiaries])
    audit_log(actor=user, event_type="health.coverage_enrolled", subject=coverage,
              after={"number": coverage.number, "package": package.code,
                     "member": member.pk, "enrolled_on": on.isoformat(),
                     "covered_from": coverage.covered_from.isoformat(),
                     "beneficiaries": [{"person": b.person_id, "relation": b.relation,
                                        "card": b.card_number} for b in beneficiaries],
                     "skipped": [{"person": s.person.pk, "code": s.code} for s in skipped],
                     "agreement": agreement.pk if agreement else None},
              unit=mutual)
    return Enrolment(coverage, beneficiaries, skipped)


def coverage_enrol(*, acting_user, mutual: Unit, package: BenefitPackage, member: Person,
                   household: Household | None = None, dependants: list | None = None,
                   on: date | None = None) -> Enrolment:
    """Enrol a family with a mutual under a package, effective `on` (today by default; may be
    back-dated from paper registers).

    Beneficiaries: the member (relation "head"), then either the explicit `dependants`, a list
    of (person, relation) with relation spouse, child, parent or other (refused as a whole,
    422, if one cannot be covered: a child over the age limit, a parent when the package covers
    no other dependants), or, without a list, the member's `household` from the registry (the
    member must be its head): those who cannot be covered are left out and reported in
    `skipped`. Each beneficiary gets a card number; the family's first contribution period is
    scheduled; care is covered after the package's waiting period.
    Refused: persons the user cannot see (404), a package the mutual does not offer (422), a
    person already covered under the same package code (409).
    """
    mutual = require_mutual(mutual)
    require_role(acting_user, mutual, MANAGER_ROLES, not_found_code="mutual_not_found",
                 not_found=_("Mutual not found."))
    on = clean_date(on, "enrolled_on")
    if not isinstance(package, BenefitPackage):
        raise invalid({"package": _("Choose a package.")})
    package_offered(package, mutual, on)
    try:
        member = get_person_for_user(acting_user, getattr(member, "pk", member))
    except NotFound:
        raise NotFound("person_not_found", _("Person not found."),
                       {"member": _("Person not found.")}) from None
    skipped: list[Skipped] = []
    if dependants is not None:
        deps = _clean_dependants(acting_user, dependants)
        for i, (p, rel) in enumerate(deps):
            refusal = _age_refusal(package, p, rel, on)
            if refusal is not None:
                raise ApplicationError("age_limit" if rel == Relation.CHILD else
                                       "relation_not_covered", refusal,
                                       {f"dependants.{i}.person": refusal}, status_code=422)
    elif household is not None:
        if not isinstance(household, Household):
            raise invalid({"household": _("Household not found.")})
        deps, skipped = _household_dependants(household, member, package, on)
        visible = set()
        for p, _r in deps:
            try:
                visible.add(get_person_for_user(acting_user, p.pk).pk)
            except NotFound:
                skipped.append(Skipped(p, "NOT_VISIBLE", _("Register this person at the mutual "
                                                           "first.")))
        deps = [(p, r) for p, r in deps if p.pk in visible]
    else:
        deps = []
    with service_transaction():
        return _enrol(user=acting_user, mutual=mutual, package=package, member=member,
                      dependants=deps, household=household, on=on, agreement=None,
                      skipped=skipped)


def _lock_live(coverage: Coverage) -> Coverage:
    cov = Coverage.objects.select_for_update().select_related("package", "mutual").get(
        pk=coverage.pk)
    if cov.status == CoverageStatus.ENDED:
        raise conflict("coverage_ended", _("This coverage has ended."), "coverage")
    return cov


def beneficiary_add(*, acting_user, coverage: Coverage, person: Person, relation: str,
                    on: date | None = None) -> Beneficiary:
    """Add a dependant to a live coverage from `on` (a newborn, a new wife): a new card, the
    package's waiting period from that day (none for a baby under one year), contributions
    from the next period. Same refusals as enrolment."""
    require_role(acting_user, coverage.mutual, MANAGER_ROLES,
                 not_found_code="coverage_not_found", not_found=_("Coverage not found."))
    if relation not in DEPENDANT_RELATIONS:
        raise invalid({"relation": _("Choose spouse, child, parent or other.")})
    try:
        person = get_person_for_user(acting_user, getattr(person, "pk", person))
    except NotFound:
        raise NotFound("person_not_found", _("Person not found."),
                       {"person": _("Person not found.")}) from None
    on = clean_date(on, "since", earliest=coverage.enrolled_on)
    package = coverage.package
    refusal = _age_refusal(package, person, relation, on)
    if refusal is not None:
        raise ApplicationError("age_limit" if relation == Relation.CHILD else
                               "relation_not_covered", refusal, {"person": refusal},
                               status_code=422)
    with service_transaction():
        cov = _lock_live(coverage)
        _lock_persons([person.pk])
        current = Beneficiary.objects.filter(coverage=cov).filter(until__isnull=True)
        if current.filter(person=person).exists():
            raise conflict("already_beneficiary", _("This person is already on this card."),
                           "person")
        if package.max_beneficiaries and current.count() >= package.max_beneficiaries:
            raise invalid({"person": _("This package covers at most %(n)d persons per family.")
                           % {"n": package.max_beneficiaries}})
        _refuse_duplicates([(person, relation)], package, on)
        b = Beneficiary.objects.create(coverage=cov, person=person, relation=relation,
                                       card_number=_card(cov.mutual), since=on)
        resettle(cov, today(), acting_user, recompute_from=on)
        audit_log(actor=acting_user, event_type="health.beneficiary_added", subject=cov,
                  after={"person": person.pk, "relation": relation, "card": b.card_number,
                         "since": on.isoformat()}, unit=cov.mutual)
    return b


def beneficiary_remove(*, acting_user, beneficiary: Beneficiary, reason: str,
                       on: date | None = None) -> Beneficiary:
    """A dependant leaves the coverage after `on` (divorce, death, a child grown up): the card
    stops, contributions stop from the next period (money paid ahead moves to later periods).
    The member cannot be removed: end the coverage instead."""
    coverage = beneficiary.coverage
    require_role(acting_user, coverage.mutual, MANAGER_ROLES,
                 not_found_code="coverage_not_found", not_found=_("Coverage not found."))
    reason = clean_text(reason, "reason", max_len=200, required=True)
    on = clean_date(on, "until", earliest=beneficiary.since)
    with service_transaction():
        cov = _lock_live(coverage)
        b = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
        if b.person_id == cov.member_id:
            raise conflict("member_not_removable",
                           _("The member cannot be removed: end the coverage instead."),
                           "beneficiary")
        if b.until is not None:
            raise conflict("already_removed", _("This beneficiary already left the coverage."),
                           "beneficiary")
        b.until = on
        b.save(update_fields=["until"])
        resettle(cov, today(), acting_user, recompute_from=on + timedelta(days=1))
        audit_log(actor=acting_user, event_type="health.beneficiary_removed", subject=cov,
                  after={"person": b.person_id, "card": b.card_number, "until": on.isoformat(),
                         "reason": reason}, unit=cov.mutual)
    return b


def coverage_end(*, acting_user, coverage: Coverage, reason: str, on: date | None = None
                 ) -> Coverage:
    """End a coverage after `on` (the family leaves, the member died): every card stops,
    standing orders stop, periods not begun and unpaid are dropped. Contributions already
    paid for later periods stay with the mutual until reversed (its refund rules decide).
    An ended coverage takes no more contributions and cannot be reopened: enrol again."""
    require_role(acting_user, coverage.mutual, MANAGER_ROLES,
                 not_found_code="coverage_not_found", not_found=_("Coverage not found."))
    reason = clean_text(reason, "reason", max_len=200, required=True)
    on = clean_date(on, "ended_on", earliest=coverage.enrolled_on,
                    latest=today() + timedelta(days=366))
    with service_transaction():
        cov = _lock_live(coverage)
        before = {"status": cov.status}
        cov.status, cov.ended_on, cov.suspended_on = CoverageStatus.ENDED, on, None
        cov.save(update_fields=["status", "ended_on", "suspended_on"])
        Beneficiary.objects.filter(coverage=cov, until__isnull=True).update(until=on)
        Beneficiary.objects.filter(coverage=cov, until__gt=on).update(until=on)
        SuspensionPeriod.objects.filter(coverage=cov, end__isnull=True).update(end=on)
        ContributionDue.objects.filter(coverage=cov, period_start__gt=on, paid=0).delete()
        StandingOrder.objects.filter(coverage=cov, active=True).update(
            active=False, last_result="stopped: coverage ended")
        audit_log(actor=acting_user, event_type="health.coverage_ended", subject=cov,
                  before=before, after={"status": cov.status, "ended_on": on.isoformat(),
                                        "reason": reason}, unit=cov.mutual)
    return cov


@dataclass
class Renewal:
    coverage: Coverage
    removed: list[Beneficiary]  # children over the age limit on the renewal date


RENEWAL_WINDOW_DAYS = 60


def coverage_renew(*, acting_user, coverage: Coverage, on: date | None = None) -> Renewal:
    """The annual renewal: from `RENEWAL_WINDOW_DAYS` before the renewal date, the coverage is
    renewed for a year; children past the age limit on that date leave it (reported)."""
    require_role(acting_user, coverage.mutual, MANAGER_ROLES,
                 not_found_code="coverage_not_found", not_found=_("Coverage not found."))
    on = clean_date(on, "on")
    with service_transaction():
        cov = _lock_live(coverage)
        due = cov.renewal_due or schedule.add_years(cov.enrolled_on, 1)
        if on < due - timedelta(days=RENEWAL_WINDOW_DAYS):
            raise conflict("renewal_too_early",
                           _("Renewal opens %(n)d days before %(date)s.")
                           % {"n": RENEWAL_WINDOW_DAYS, "date": due.isoformat()}, "on")
        removed = []
        for b in Beneficiary.objects.filter(coverage=cov, until__isnull=True,
                                            relation=Relation.CHILD).select_related("person"):
            age = age_on(b.person, due)
            if age is not None and age > cov.package.child_max_age:
                b.until = max(b.since, due - timedelta(days=1))
                b.save(update_fields=["until"])
                removed.append(b)
        before = cov.renewal_due
        cov.renewal_due = schedule.add_years(due, 1)
        cov.save(update_fields=["renewal_due"])
        if removed:
            resettle(cov, on, acting_user, recompute_from=due)
        audit_log(actor=acting_user, event_type="health.coverage_renewed", subject=cov,
                  before={"renewal_due": before.isoformat() if before else None},
                  after={"renewal_due": cov.renewal_due.isoformat(),
                         "removed": [b.person_id for b in removed]}, unit=cov.mutual)
    return Renewal(cov, removed)


# --- group enrolment --------------------------------------------------------------------------


def group_agreement_create(*, acting_user, mutual: Unit, package: BenefitPackage,
                           partner: Organisation, name: str, signed_on: date,
                           partner_unit: Unit | None = None, payer: str = "member",
                           waiting_waived: bool = False) -> GroupAgreement:
    """An agreement by which a partner's members join a mutual together (e.g. the domestic
    workers of an MTC section): the package, who pays (each member or the partner), and
    whether the waiting period is waived."""
    mutual = require_mutual(mutual)
    require_role(acting_user, mutual, MANAGER_ROLES, not_found_code="mutual_not_found",
                 not_found=_("Mutual not found."))
    name = clean_text(name, "name", max_len=200, required=True)
    signed_on = clean_date(signed_on, "signed_on", earliest=date(2000, 1, 1))
    if not isinstance(package, BenefitPackage):
        raise invalid({"package": _("Choose a package.")})
    package_offered(package, mutual, signed_on if package.valid_from <= signed_on
                    else package.valid_from)
    if not isinstance(partner, Organisation) or partner.pk == mutual.organisation_id:
        raise invalid({"partner": _("Choose the partner organisation.")})
    if partner_unit is not None and (not isinstance(partner_unit, Unit)
                                     or partner_unit.organisation_id != partner.pk):
        raise invalid({"partner_unit": _("This unit is not the partner's.")})
    if payer not in ("member", "partner"):
        raise invalid({"payer": _("Choose member or partner.")})
    if not isinstance(waiting_waived, bool):
        raise invalid({"waiting_waived": _("Enter true or false.")})
    with transaction.atomic(durable=True):
        agreement = GroupAgreement.objects.create(
            mutual=mutual, package=package, partner=partner, partner_unit=partner_unit,
            name=name, signed_on=signed_on, payer=payer, waiting_waived=waiting_waived,
            created_by=acting_user)
        audit_log(actor=acting_user, event_type="health.agreement_created", subject=agreement,
                  after={"name": name, "partner": partner.code, "package": package.code,
                         "payer": payer, "waiting_waived": waiting_waived}, unit=mutual)
    return agreement


@dataclass(frozen=True)
class GroupResult:
    """One person's outcome in a group enrolment."""

    person_id: Any
    ok: bool
    coverage: Coverage | None = None
    card_number: str = ""
    code: str = ""
    message: Any = ""


def _partner_member(person_id: int, agreement: GroupAgreement) -> bool:
    qs = Membership.objects.filter(person_id=person_id, organisation_id=agreement.partner_id,
                                   status__in=LIVE_MEMBERSHIP)
    if agreement.partner_unit_id:
        qs = qs.filter(unit__path__startswith=agreement.partner_unit.path)
    return qs.exists()


def group_enrol(*, acting_user, agreement: GroupAgreement, persons: list,
                on: date | None = None) -> list[GroupResult]:
    """Enrol each of `persons` (Person objects or ids; at most 500) as a member of his own
    coverage under the agreement's package, in one call. Each person is its own attempt: one
    refused does not stop the others, and the result says, per person, the coverage and card
    or the reason (person_not_found, not_a_partner_member, consent_missing, already_covered,
    ...). A person registered by the partner needs his consent that the union sees his identity
    (people.Consent, scope identity) before the union enrols him."""
    mutual = agreement.mutual
    require_role(acting_user, mutual, MANAGER_ROLES, not_found_code="agreement_not_found",
                 not_found=_("Agreement not found."))
    on = clean_date(on, "enrolled_on", earliest=agreement.signed_on)
    if not isinstance(persons, list | tuple) or not persons or len(persons) > 500:
        raise invalid({"persons": _("Give from 1 to 500 persons.")})
    package = agreement.package
    package_offered(package, mutual, on)
    results: list[GroupResult] = []
    seen: set[int] = set()
    with service_transaction():
        for raw in persons:
            pid = getattr(raw, "pk", raw)
            try:
                if isinstance(pid, bool) or not isinstance(pid, int):
                    raise NotFound("person_not_found", _("Person not found."))
                if pid in seen:
                    raise ApplicationError("listed_twice", _("This person is listed twice."),
                                           status_code=422)
                seen.add(pid)
                person = get_person_for_user(acting_user, pid)
                if not _partner_member(person.pk, agreement):
                    raise ApplicationError("not_a_partner_member",
                                           _("This person is not a member of the partner."),
                                           status_code=422)
                own = Membership.objects.filter(person=person,
                                                organisation_id=mutual.organisation_id,
                                                status__in=LIVE_MEMBERSHIP).exists()
                if not own and not Consent.objects.filter(
                        person=person, granted_to_id=mutual.organisation_id,
                        scope=ConsentScope.IDENTITY, withdrawn_at__isnull=True).exists():
                    raise ApplicationError(
                        "consent_missing",
                        _("The person has not allowed the union to receive his identity from "
                          "the partner."), status_code=403)
                with transaction.atomic():
                    done = _enrol(user=acting_user, mutual=mutual, package=package,
                                  member=person, dependants=[], household=None, on=on,
                                  agreement=agreement, skipped=[])
                results.append(GroupResult(pid, True, done.coverage,
                                           done.beneficiaries[0].card_number))
            except ApplicationError as exc:
                results.append(GroupResult(pid, False, code=exc.code, message=exc.message))
        audit_log(actor=acting_user, event_type="health.group_enrolled", subject=agreement,
                  after={"on": on.isoformat(), "enrolled": sum(r.ok for r in results),
                         "refused": [{"person": r.person_id, "code": r.code}
                                     for r in results if not r.ok]}, unit=mutual)
    return results
