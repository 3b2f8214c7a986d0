"""MTC members: registration (a registry person, her MTC membership at a section, her profile
and the record of her group, in ONE transaction), changes of the group record, changes of
section, exemption from dues, and the end of a membership (an officer's decision: a member
never expires for not paying).

A domestic worker under the legal adult age (setup.legal_value("adult_age")) is flagged as a
minor: child domestic work is an urgent matter, so registering one writes an audit event the
movement's staff can follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log, snapshot
from jigi.core.cleaning import (
    clean_amount,
    clean_int,
    clean_text,
    invalid,
    service_transaction,
    today,
)
from jigi.core.errors import ApplicationError
from jigi.movement import standing as rules
from jigi.movement.decent_work import age_on
from jigi.movement.models import (
    AreaKind,
    ArtisanRecord,
    ComputerAccess,
    DomesticWorkerRecord,
    DuesCharge,
    MemberProfile,
    PayBy,
    Schooling,
    TeacherRecord,
    TeacherStatus,
    YouthRecord,
)
from jigi.movement.services._common import (
    ADMIN_ROLES,
    ORGANISER_ROLES,
    conflict,
    require_role,
    require_section,
)
from jigi.movement.setup import legal_value
from jigi.orgs.models import MemberGroup, Unit
from jigi.people.models import Membership, MembershipStatus, Person
from jigi.people.phones import PhoneError, normalize_mali_phone
from jigi.people.services import membership_add_within, person_register_within

# Pay and income above this are typing errors (the SMIG is 40,000 F a month).
MAX_PAY = 10_000_000
EARLIEST_JOB = date(1950, 1, 1)

RECORD_MODEL = {
    MemberGroup.DOMESTIC: DomesticWorkerRecord,
    MemberGroup.TEACHERS: TeacherRecord,
    MemberGroup.ARTISANS: ArtisanRecord,
    MemberGroup.YOUTH: YouthRecord,
}
RECORD_ATTR = {MemberGroup.DOMESTIC: "domestic", MemberGroup.TEACHERS: "teacher",
               MemberGroup.ARTISANS: "artisan", MemberGroup.YOUTH: "youth"}
PROFILE_FIELDS = ["area_kind", "rural_origin", "home_village"]


# --- cleaning -------------------------------------------------------------------------------


class _Fields:
    """Cleans a dict of fields, collecting every error before refusing (one 422)."""

    def __init__(self, raw: dict[str, Any], *, partial: bool) -> None:
        self.raw, self.partial = raw, partial
        self.out: dict[str, Any] = {}
        self.errors: dict[str, Any] = {}

    def _take(self, name: str, required: bool, clean: Callable[[Any], Any]) -> None:
        if name not in self.raw or self.raw[name] is None:
            if required and not self.partial:
                self.errors[name] = _("This field is required.")
            return
        try:
            self.out[name] = clean(self.raw[name])
        except ApplicationError as exc:
            self.errors.update(exc.fields or {name: exc.message})
        except ValueError as exc:
            self.errors[name] = exc.args[0]

    def text(self, name: str, max_len: int, *, required: bool = False) -> None:
        self._take(name, required,
                   lambda v: clean_text(v, name, max_len=max_len, required=required))

    def choice(self, name: str, choices: list[str], *, required: bool = False) -> None:
        def clean(value: Any) -> str:
            if value not in choices:
                raise ValueError(_("Choose one of the allowed values."))
            return str(value)
        self._take(name, required, clean)

    def flag(self, name: str) -> None:
        def clean(value: Any) -> bool:
            if not isinstance(value, bool):
                raise ValueError(_("Answer yes or no."))
            return value
        self._take(name, False, clean)

    def number(self, name: str, low: int, high: int) -> None:
        self._take(name, False, lambda v: clean_int(v, name, low=low, high=high))

    def money(self, name: str) -> None:
        self._take(name, False, lambda v: clean_amount(v, name, allow_zero=True,
                                                       maximum=MAX_PAY - 1))

    def phone(self, name: str) -> None:
        def clean(value: Any) -> str:
            if not isinstance(value, str):
                raise ValueError(_("Enter a Mali number: +223 and 8 digits."))
            if not value.strip():
                return ""
            try:
                return normalize_mali_phone(value)
            except PhoneError:
                raise ValueError(_("Enter a Mali number: +223 and 8 digits.")) from None
        self._take(name, False, clean)

    def day(self, name: str) -> None:
        def clean(value: Any) -> date:
            if not isinstance(value, date):
                raise ValueError(_("Enter a valid date (YYYY-MM-DD)."))
            if value > today() or value < EARLIEST_JOB:
                raise ValueError(_("This date is not plausible."))
            return value
        self._take(name, False, clean)

    def known(self, names: set[str]) -> None:
        for name in set(self.raw) - names:
            self.errors[name] = _("Unknown field.")

    def result(self) -> dict[str, Any]:
        if self.errors:
            raise invalid(self.errors)
        return self.out


def clean_record(group: str, raw: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The fields of a group's record, validated (every error at once, 422)."""
    f = _Fields(raw, partial=partial)
    if group == MemberGroup.DOMESTIC:
        f.text("employer_name", 200, required=True)
        f.phone("employer_phone")
        f.text("district", 100, required=True)
        f.day("start_date")
        f.flag("live_in")
        f.money("monthly_pay")
        f.number("daily_hours", 0, 24)
        f.number("weekly_rest_half_days", 0, 14)
        f.flag("written_contract")
        f.flag("declared")
    elif group == MemberGroup.TEACHERS:
        f.text("school", 200, required=True)
        f.text("school_place", 100)
        f.choice("status", TeacherStatus.values, required=True)
        f.money("monthly_pay")
        f.choice("paid_by", PayBy.values, required=True)
        f.money("pay_arrears")
        f.number("pay_arrears_months", 0, 240)
    elif group == MemberGroup.ARTISANS:
        f.text("trade", 100, required=True)
        f.text("workshop", 200)
        f.text("workshop_place", 100)
        f.number("apprentices", 0, 500)
        f.money("monthly_income")
    else:
        f.choice("schooling", Schooling.values, required=True)
        f.flag("in_school")
        f.text("skills", 300)
        f.choice("computer_access", ComputerAccess.values)
        f.flag("seeking_work")
    f.known(record_fields(group))
    return f.result()


def record_fields(group: str) -> set[str]:
    model = RECORD_MODEL[MemberGroup(group)]
    return {fld.name for fld in model._meta.concrete_fields} - {"id", "profile", "updated_at"}


def clean_profile(raw: dict[str, Any]) -> dict[str, Any]:
    f = _Fields(raw, partial=True)
    f.choice("area_kind", AreaKind.values)
    f.flag("rural_origin")
    f.text("home_village", 100)
    f.known(set(PROFILE_FIELDS))
    return f.result()


# --- minors ---------------------------------------------------------------------------------


# The adult age when the movement's settings were never seeded (movement_setup seeds 18).
DEFAULT_ADULT_AGE = 18


def adult_age(on: date | None = None) -> int:
    try:
        return legal_value("adult_age", on or today())
    except LookupError:
        return DEFAULT_ADULT_AGE


def is_minor_member(profile: MemberProfile, person: Person, on: date | None = None, *,
                    adult: int | None = None) -> bool:
    """A domestic worker who is (or may be) under the legal adult age: the urgent flag.
    `adult`: the adult age already read (a list computes it once)."""
    if profile.group != MemberGroup.DOMESTIC:
        return False
    on = on or today()
    return bool(rules.is_minor(birth_date=person.birth_date, birth_year=person.birth_year,
                               on=on, adult_age=adult if adult is not None else adult_age(on)))


# --- registration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    profile: MemberProfile
    minor: bool


def _group_of(section: Unit, group: str | None) -> str:
    if section.member_group:
        if group and group != section.member_group:
            raise invalid({"group": _("This section is for another group.")})
        return section.member_group
    if group not in MemberGroup.values:
        raise invalid({"group": _("Choose one of the allowed values.")})
    return str(group)


# The youngest member MTC registers (a starting rule of the movement, not a law): children
# work as domestic workers from about ten (DOMAIN.md §4: ~30 % under 15 in Bamako) and are
# registered to be protected; a baby is a typing mistake. A teacher is an adult.
MIN_MEMBER_AGE = 10


def _check_member_age(person: Person, group: str) -> None:
    """Inside the registration's transaction: a refusal leaves no person behind."""
    age = age_on(today(), person.birth_date, person.birth_year)
    if age is None:
        return
    field = "birth_date" if person.birth_date else "birth_year"
    if age < MIN_MEMBER_AGE:
        raise invalid({field: _("A member is at least %(n)d years old.")
                       % {"n": MIN_MEMBER_AGE}})
    if group == MemberGroup.TEACHERS and age < adult_age():
        raise invalid({field: _("A teacher is an adult (at least %(n)d years old).")
                       % {"n": adult_age()}})


def member_register(*, acting_user, section: Unit, group: str | None = None,
                    person: Person | None = None, person_fields: dict[str, Any] | None = None,
                    confirm_not_duplicate: bool = False, start_date: date | None = None,
                    profile: dict[str, Any] | None = None, record: dict[str, Any] | None = None
                    ) -> Registration:
    """Register a member of `section`: a new person (`person_fields`, through the registry's
    rules: duplicate check, phone normalisation) or an existing one (`person`, whom the
    organiser must be allowed to see: another organisation's person needs her identity
    consent), her MTC membership at the section, her profile and her group record. All or
    nothing: any refusal leaves no person, membership or profile behind."""
    section = require_section(section)
    require_role(acting_user, section, ORGANISER_ROLES,
                 not_found=_("Section not found."))
    group = _group_of(section, group)
    clean_rec = clean_record(group, record or {})
    clean_prof = clean_profile(profile or {})
    if (person is None) == (person_fields is None):
        raise invalid({"person": _("Give either an existing person or a new person's "
                                   "details.")})
    with service_transaction():
        if person is None:
            person = person_register_within(acting_user=acting_user, unit=section,
                                            confirm_not_duplicate=confirm_not_duplicate,
                                            start_date=start_date, **(person_fields or {}))
            membership = Membership.objects.get(person=person,
                                                organisation_id=section.organisation_id,
                                                status=MembershipStatus.ACTIVE)
        else:
            membership = membership_add_within(acting_user=acting_user, person=person,
                                               unit=section, start_date=start_date)
            person = membership.person
        _check_member_age(person, group)
        member = MemberProfile.objects.create(membership=membership, person=person,
                                              section=section, group=group,
                                              registered_by=acting_user, **clean_prof)
        RECORD_MODEL[MemberGroup(group)].objects.create(profile=member, **clean_rec)
        minor = is_minor_member(member, person)
        audit_log(actor=acting_user, event_type="movement.member_registered", subject=member,
                  after={"membership": membership.number, "group": group, "minor": minor,
                         **snapshot(member, PROFILE_FIELDS)}, unit=section)
        if minor:
            audit_log(actor=acting_user, event_type="movement.minor_registered",
                      subject=member, after={"membership": membership.number,
                                             "birth_year": person.birth_year,
                                             "adult_age": adult_age()}, unit=section)
    return Registration(member, minor)


# --- changes --------------------------------------------------------------------------------


def _lock(profile: MemberProfile) -> MemberProfile:
    return (MemberProfile.objects.select_for_update(of=("self",))
            .select_related("membership", "person", "section").get(pk=profile.pk))


def member_update(*, acting_user, profile: MemberProfile, record: dict[str, Any] | None = None,
                  details: dict[str, Any] | None = None) -> MemberProfile:
    """Change some fields of her group record and of her profile (only those given)."""
    require_role(acting_user, profile.section, ORGANISER_ROLES,
                 not_found=_("Member not found."))
    clean_rec = clean_record(profile.group, record or {}, partial=True)
    clean_prof = clean_profile(details or {})
    with service_transaction():
        locked = _lock(profile)
        rec = getattr(locked, RECORD_ATTR[MemberGroup(locked.group)])
        names = sorted(clean_rec)
        before = snapshot(rec, names) | snapshot(locked, sorted(clean_prof))
        for k, v in clean_rec.items():
            setattr(rec, k, v)
        rec.save()
        for k, v in clean_prof.items():
            setattr(locked, k, v)
        locked.version += 1
        locked.save()
        audit_log(actor=acting_user, event_type="movement.member_updated", subject=locked,
                  before=before,
                  after=snapshot(rec, names) | snapshot(locked, sorted(clean_prof)),
                  unit=locked.section)
    return locked


def member_section_change(*, acting_user, profile: MemberProfile, section: Unit
                          ) -> MemberProfile:
    """Move a member to another section of her group (her number stays): the user must
    organise both sections (or the whole movement)."""
    section = require_section(section)
    require_role(acting_user, profile.section, ORGANISER_ROLES,
                 not_found=_("Member not found."))
    require_role(acting_user, section, ORGANISER_ROLES, not_found=_("Section not found."))
    if section.organisation_id != profile.section.organisation_id:
        raise invalid({"section": _("Section not found.")})
    if section.member_group and section.member_group != profile.group:
        raise invalid({"section": _("This section is for another group.")})
    with service_transaction():
        locked = _lock(profile)
        if locked.section_id == section.pk:
            raise conflict("same_section", _("She is already in this section."), "section")
        before = {"section": locked.section.code}
        Membership.objects.filter(pk=locked.membership_id).update(unit=section)
        locked.section = section
        locked.version += 1
        locked.save(update_fields=["section", "version"])
        audit_log(actor=acting_user, event_type="movement.member_moved", subject=locked,
                  before=before, after={"section": section.code}, unit=section)
    return locked


def member_exempt_set(*, acting_user, profile: MemberProfile, exempt: bool, reason: str
                      ) -> MemberProfile:
    """A movement administrator exempts a member from dues (or ends the exemption). Charges
    already made stay; no new ones while exempt."""
    from jigi.movement.services.dues import standing_refresh

    require_role(acting_user, profile.section, ADMIN_ROLES, not_found=_("Member not found."))
    f = _Fields({"reason": reason, "exempt": exempt}, partial=False)
    f.text("reason", 300, required=True)
    f.flag("exempt")
    clean = f.result()
    with service_transaction():
        locked = _lock(profile)
        before = {"dues_exempt": locked.dues_exempt}
        locked.dues_exempt = clean["exempt"]
        locked.save(update_fields=["dues_exempt"])
        standing_refresh(locked, today())
        audit_log(actor=acting_user, event_type="movement.member_exempt", subject=locked,
                  before=before, after={"dues_exempt": locked.dues_exempt,
                                        "reason": clean["reason"]}, unit=locked.section)
    return locked


def member_end(*, acting_user, profile: MemberProfile, reason: str, on: date | None = None
               ) -> MemberProfile:
    """An officer (movement administrator) ends a membership: the member left, died, or was
    excluded by the assembly. The records and dues history stay; no more charges."""
    require_role(acting_user, profile.section, ADMIN_ROLES, not_found=_("Member not found."))
    f = _Fields({"reason": reason}, partial=False)
    f.text("reason", 300, required=True)
    clean = f.result()
    on = on or today()
    if not isinstance(on, date) or on > today():
        raise invalid({"on": _("This date is in the future.")})
    with service_transaction():
        locked = _lock(profile)
        membership = Membership.objects.select_for_update().get(pk=locked.membership_id)
        if membership.status == MembershipStatus.ENDED:
            raise conflict("already_ended", _("This membership has already ended."))
        if on < membership.start_date:
            raise invalid({"on": _("The end date is before the start of the membership.")})
        # Dues are charged up to the end of a membership (dues_accrue): ending it before a
        # period already charged would leave her owing dues for months after she left.
        last = (DuesCharge.objects.filter(profile=locked).order_by("-period_start")
                .values_list("period_start", flat=True).first())
        if last is not None and on < last:
            raise invalid({"on": _("Dues are already charged up to %(day)s: end the membership "
                                   "on that day or later, then ask to forgive what she owes.")
                           % {"day": last.isoformat()}})
        before = snapshot(membership, ["status", "end_date"])
        membership.status, membership.end_date = MembershipStatus.ENDED, on
        membership.save(update_fields=["status", "end_date"])
        audit_log(actor=acting_user, event_type="movement.membership_ended", subject=locked,
                  before=before, after=snapshot(membership, ["status", "end_date"])
                  | {"reason": clean["reason"]}, unit=locked.section)
    return locked


__all__ = [
    "MAX_PAY", "Registration", "adult_age", "clean_profile", "clean_record", "is_minor_member",
    "member_end", "member_exempt_set", "member_register", "member_section_change",
    "member_update", "record_fields",
]
