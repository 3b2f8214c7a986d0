"""Writes to the person registry: registration with duplicate checks, memberships, households,
consents, duplicate decisions and merges. Every write is audited in its own transaction.

Access rules (enforced here, whatever the caller):
- reading a person needs get_person_for_user (404 otherwise);
- changing a person needs a write role over a unit where the person is a member (403);
- registering or adding a membership needs a write role over the unit (404: a teller must not
  learn which units exist elsewhere);
- deciding duplicates (dismiss, flag, merge) needs a manager role over both records.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log, snapshot
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.numbering import next_number
from jigi.orgs.models import Organisation, Unit
from jigi.orgs.scoping import user_scope
from jigi.people.errors import PossibleDuplicates
from jigi.people.models import (
    Consent,
    ConsentScope,
    DuplicateCandidate,
    DuplicateStatus,
    Household,
    HouseholdMember,
    Literacy,
    Membership,
    MembershipStatus,
    Person,
    Relation,
    Sex,
)
from jigi.people.names import name_key, search_name
from jigi.people.phones import PhoneError, normalize_mali_phone
from jigi.people.selectors import (
    can_decide_duplicates,
    can_write_person,
    duplicate_candidates_for_user,
    get_person_for_user,
    person_find_duplicates,
    persons_visible_to,
)

__all__ = [
    "PossibleDuplicates", "consent_grant", "consent_withdraw", "duplicate_dismiss",
    "duplicate_flag", "household_create", "household_member_add", "membership_add",
    "membership_add_within", "membership_end", "membership_set_status", "person_merge",
    "person_register", "person_register_within", "person_update",
]

PERSON_FIELDS = [
    "first_name", "last_name", "sex", "birth_date", "birth_year", "birth_year_estimated",
    "phone", "nina", "village", "commune", "cercle", "region", "literacy", "language",
]
LANGUAGES = {"fr", "bm", "en"}
OLDEST_AGE = 120
LIVE_MEMBERSHIP = [MembershipStatus.ACTIVE, MembershipStatus.PENDING, MembershipStatus.SUSPENDED]


def _invalid(errors: dict[str, Any]) -> ApplicationError:
    return ApplicationError("invalid", _("Some fields are not valid."), errors, status_code=422)


def _plain_text(value: Any, *, max_len: int) -> tuple[str | None, Any]:
    """(clean text, None) or (None, error message). Control characters are refused: PostgreSQL
    cannot store NUL, and nothing typed by a person contains them."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return None, _("Enter text.")
    value = value.strip()
    if len(value) > max_len:
        return None, _("At most %(n)d characters.") % {"n": max_len}
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None, _("Remove the control characters.")
    return value, None


def _clean_person(raw: dict[str, Any], *, partial: bool = False,
                  current: Person | None = None) -> dict[str, Any]:
    """Validate identity fields; collect every field error before refusing (422)."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    today = timezone.localdate()

    def text(name: str, *, required: bool, max_len: int) -> None:
        if name not in raw:
            if required and not partial:
                errors[name] = _("This field is required.")
            return
        value, error = _plain_text(raw.get(name), max_len=max_len)
        if error is not None:
            errors[name] = error
        elif required and not value:
            errors[name] = _("This field is required.")
        else:
            out[name] = value

    text("first_name", required=True, max_len=100)
    text("last_name", required=True, max_len=100)
    for name in ("village", "commune", "cercle", "region"):
        text(name, required=False, max_len=100)
    if "sex" in raw or not partial:
        if raw.get("sex") not in Sex.values:
            errors["sex"] = _("Choose F or M.")
        else:
            out["sex"] = raw["sex"]
    if "phone" in raw:
        phone, error = _plain_text(raw.get("phone"), max_len=32)
        if error is not None or phone is None:
            errors["phone"] = _("Enter a Mali number: +223 and 8 digits.")
        elif phone:
            try:
                out["phone"] = normalize_mali_phone(phone)
            except PhoneError:
                errors["phone"] = _("Enter a Mali number: +223 and 8 digits.")
        else:
            out["phone"] = ""
    if "nina" in raw:
        nina, error = _plain_text(raw.get("nina"), max_len=32)
        nina = (nina or "").upper().replace(" ", "")
        if error is not None or (nina and (len(nina) > 20 or not nina.isascii()
                                           or not nina.isalnum())):
            errors["nina"] = _("A NINA has at most 20 letters and digits.")
        else:
            out["nina"] = nina or None
    if raw.get("birth_date") is not None:
        bd = raw["birth_date"]
        if not isinstance(bd, date):
            errors["birth_date"] = _("Enter a valid date (YYYY-MM-DD).")
        elif bd > today or bd.year < today.year - OLDEST_AGE:
            errors["birth_date"] = _("The date of birth is not plausible.")
        else:
            out["birth_date"] = bd
            out["birth_year"] = bd.year
    elif partial and "birth_date" in raw:
        out["birth_date"] = None  # explicitly cleared: the year stays
    if raw.get("birth_year") is not None and "birth_date" not in errors \
            and out.get("birth_date") is None:
        by = raw["birth_year"]
        if not isinstance(by, int) or isinstance(by, bool) \
                or not (today.year - OLDEST_AGE <= by <= today.year):
            errors["birth_year"] = _("The year of birth is not plausible.")
        else:
            out["birth_year"] = by
            # A new year contradicts a known date of another year: the date goes.
            if current is not None and current.birth_date and current.birth_date.year != by:
                out["birth_date"] = None
    elif partial and "birth_year" in raw and raw.get("birth_year") is None \
            and "birth_date" not in out:
        errors["birth_year"] = _("Give the date of birth or at least the year "
                                 "(estimated if needed).")
    if not partial and "birth_year" not in out and "birth_year" not in errors \
            and "birth_date" not in errors:
        errors["birth_year"] = _("Give the date of birth or at least the year "
                                 "(estimated if needed).")
    if "birth_year_estimated" in raw:
        out["birth_year_estimated"] = bool(raw.get("birth_year_estimated"))
    if "literacy" in raw or not partial:
        lit = raw.get("literacy") or Literacy.NONE
        if lit not in Literacy.values:
            errors["literacy"] = _("Choose one of the allowed values.")
        else:
            out["literacy"] = lit
    if "language" in raw or not partial:
        lang = raw.get("language") or "bm"
        if lang not in LANGUAGES:
            errors["language"] = _("Choose fr, bm or en.")
        else:
            out["language"] = lang
    unknown = set(raw) - set(PERSON_FIELDS)
    for name in unknown:
        errors[name] = _("Unknown field.")
    if errors:
        raise _invalid(errors)
    return out


def _require_write(user, unit: Unit) -> None:
    if not user_scope(user).covers_unit(unit, write=True):
        # 404, not 403: a teller must not learn which units exist elsewhere.
        raise NotFound("unit_not_found", _("Unit not found."),
                       {"unit": _("You cannot register members in this unit.")})


def _require_writes_person(user, person: Person, message: Any) -> None:
    if not can_write_person(user, person):
        raise Forbidden("forbidden", message)


def _member_number(unit: Unit) -> str:
    """Gapless per organisation (the counter row is locked until the caller commits), prefixed
    by the unit code so a card tells where the member joined: "C001-000123"."""
    n = next_number(f"member:{unit.organisation_id}", 0)
    return f"{unit.code}-{n:06d}"


def _check_start_date(on: date | None) -> None:
    """Memberships may be back-dated (paper registers being entered) but not absurdly."""
    if on is not None and not (date(1900, 1, 1) <= on
                               <= timezone.localdate() + timedelta(days=366)):
        raise _invalid({"start_date": _("The start date is not plausible.")})


def _check_household(user, household: Household) -> None:
    """A household is visible through its members: at least one must be visible to the user."""
    ids = list(household.members.values_list("person_id", flat=True))
    if ids and not persons_visible_to(user).filter(pk__in=ids).exists():
        raise NotFound("household_not_found", _("Household not found."))


def person_register(
    *,
    acting_user,
    unit: Unit,
    confirm_not_duplicate: bool = False,
    start_date: date | None = None,
    household: Household | None = None,
    relation: str | None = None,
    membership_status: str = MembershipStatus.ACTIVE,
    **fields: Any,
) -> Person:
    """`person_register_within` in its own durable transaction."""
    with transaction.atomic(durable=True):
        return person_register_within(
            acting_user=acting_user, unit=unit, confirm_not_duplicate=confirm_not_duplicate,
            start_date=start_date, household=household, relation=relation,
            membership_status=membership_status, **fields)


def person_register_within(
    *,
    acting_user,
    unit: Unit,
    confirm_not_duplicate: bool = False,
    start_date: date | None = None,
    household: Household | None = None,
    relation: str | None = None,
    membership_status: str = MembershipStatus.ACTIVE,
    **fields: Any,
) -> Person:
    """Register a person and their membership at `unit` (an active membership numbered
    gaplessly per organisation), optionally placing them in `household` as `relation`.

    `membership_status=PENDING` registers someone who is not (yet) a member: a participant
    typed in at a training session. The pending membership keeps her visible to the unit's
    staff but is not counted as a member; membership_set_status makes it active if she joins.

    Duplicate check first, against the whole registry: same phone, same NINA, or near-same
    name + birth year + place. If any, stops with PossibleDuplicates (409) carrying the
    candidates the user may see. With `confirm_not_duplicate` the person is created and each
    candidate pair is recorded (status open) for a manager's decision; never merged silently.
    An identical NINA cannot be confirmed away.

    Runs inside the caller's transaction (another module registering a person together with its
    own records); `person_register` is the top-level service.
    """
    _require_write(acting_user, unit)
    if membership_status not in (MembershipStatus.ACTIVE, MembershipStatus.PENDING):
        raise ValueError(f"a registration starts active or pending, not {membership_status!r}")
    clean = _clean_person(fields)
    _check_start_date(start_date)
    if household is not None:
        _check_household(acting_user, household)
        if relation not in Relation.values or relation == Relation.HEAD:
            raise _invalid({"relation": _("Choose one of the allowed values.")})
    matches = person_find_duplicates(
        first_name=clean["first_name"], last_name=clean["last_name"],
        phone=clean.get("phone", ""), nina=clean.get("nina"), birth_year=clean.get("birth_year"),
        cercle=clean.get("cercle", ""), village=clean.get("village", ""),
    )
    same_nina = [m for m in matches if "nina" in m.reasons]
    if same_nina:
        raise PossibleDuplicates(same_nina, duplicate_candidates_for_user(acting_user, same_nina),
                                 hard=True)
    if matches and not confirm_not_duplicate:
        raise PossibleDuplicates(matches, duplicate_candidates_for_user(acting_user, matches))
    with transaction.atomic():
        person = Person(
            **clean,
            search_name=search_name(clean["first_name"], clean["last_name"]),
            name_key=name_key(clean["first_name"], clean["last_name"]),
            created_by=acting_user,
        )
        try:
            with transaction.atomic():
                person.save()
        except IntegrityError:
            # The NINA was taken between the check and the write (a concurrent registration).
            raced = person_find_duplicates(first_name=clean["first_name"],
                                           last_name=clean["last_name"], nina=clean.get("nina"))
            raise PossibleDuplicates(raced, duplicate_candidates_for_user(acting_user, raced),
                                     hard=True) from None
        membership = Membership.objects.create(
            person=person, organisation=unit.organisation, unit=unit,
            number=_member_number(unit),
            status=membership_status, start_date=start_date or timezone.localdate(),
        )
        DuplicateCandidate.objects.bulk_create([
            DuplicateCandidate(person=person, other=m.person, reasons=list(m.reasons),
                               score=m.score)
            for m in matches
        ])
        if household is not None:
            HouseholdMember.objects.create(household=household, person=person,
                                           relation=relation)
        audit_log(actor=acting_user, event_type="person.registered", subject=person,
                  after=snapshot(person, PERSON_FIELDS) | {
                      "membership": membership.number, "membership_status": membership.status,
                      "household": household.pk if household else None,
                      "duplicate_candidates": [m.person.pk for m in matches]},
                  organisation=unit.organisation, unit=unit)
    return person


def person_update(*, acting_user, person: Person, **fields: Any) -> Person:
    """Change identity fields (only those given); audited with before and after."""
    person = get_person_for_user(acting_user, person.pk)
    _require_writes_person(acting_user, person, _("You may not change this person."))
    clean = _clean_person(fields, partial=True, current=person)
    with transaction.atomic(durable=True):
        locked = Person.objects.select_for_update().get(pk=person.pk)
        before = snapshot(locked, PERSON_FIELDS)
        for k, v in clean.items():
            setattr(locked, k, v)
        locked.search_name = search_name(locked.first_name, locked.last_name)
        locked.name_key = name_key(locked.first_name, locked.last_name)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise ApplicationError("nina_taken", _("Another person has this NINA."),
                                   {"nina": _("Another person has this NINA.")},
                                   status_code=409) from None
        audit_log(actor=acting_user, event_type="person.updated", subject=locked, before=before,
                  after=snapshot(locked, PERSON_FIELDS))
    return locked


def membership_add(*, acting_user, person: Person, unit: Unit, start_date: date | None = None
                   ) -> Membership:
    """`membership_add_within` in its own durable transaction."""
    with transaction.atomic(durable=True):
        return membership_add_within(acting_user=acting_user, person=person, unit=unit,
                                     start_date=start_date)


def membership_add_within(*, acting_user, person: Person, unit: Unit,
                          start_date: date | None = None) -> Membership:
    """A visible person joins the organisation of `unit` (one live membership per
    organisation). Staff of another organisation need the person's identity consent first.
    A pending membership of the organisation (someone registered at a training) becomes
    active at `unit`, keeping its number. Runs inside the caller's transaction;
    `membership_add` is the top-level service."""
    _require_write(acting_user, unit)
    person = get_person_for_user(acting_user, person.pk)
    _check_start_date(start_date)
    with transaction.atomic():
        # Lock the person so two tellers cannot enrol them twice at the same moment.
        Person.objects.select_for_update().get(pk=person.pk)
        pending = Membership.objects.filter(person=person, organisation_id=unit.organisation_id,
                                            status=MembershipStatus.PENDING).order_by("pk").first()
        if pending is not None:
            before = snapshot(pending, ["unit", "status", "start_date"])
            pending.unit = unit
            pending.status = MembershipStatus.ACTIVE
            pending.start_date = start_date or timezone.localdate()
            pending.save(update_fields=["unit", "status", "start_date"])
            audit_log(actor=acting_user, event_type="membership.status", subject=pending,
                      before=before, after=snapshot(pending, ["unit", "status", "start_date"]),
                      organisation=unit.organisation, unit=unit)
            return pending
        if Membership.objects.filter(person=person, organisation_id=unit.organisation_id,
                                     status__in=LIVE_MEMBERSHIP).exists():
            raise ApplicationError(
                "already_member", _("This person is already a member of this organisation."),
                {"unit": _("This person is already a member of this organisation.")},
                status_code=409,
            )
        m = Membership.objects.create(
            person=person, organisation=unit.organisation, unit=unit,
            number=_member_number(unit), start_date=start_date or timezone.localdate(),
        )
        audit_log(actor=acting_user, event_type="membership.added", subject=m,
                  after=snapshot(m, ["person", "unit", "number", "status", "start_date"]),
                  organisation=unit.organisation, unit=unit)
    return m


MEMBERSHIP_TRANSITIONS = {
    MembershipStatus.PENDING: {MembershipStatus.ACTIVE, MembershipStatus.ENDED},
    MembershipStatus.ACTIVE: {MembershipStatus.SUSPENDED, MembershipStatus.ENDED},
    MembershipStatus.SUSPENDED: {MembershipStatus.ACTIVE, MembershipStatus.ENDED},
    MembershipStatus.ENDED: set(),
}


def membership_set_status(*, acting_user, membership: Membership, status: str,
                          on: date | None = None) -> Membership:
    """Move a membership along MEMBERSHIP_TRANSITIONS (ended is final)."""
    _require_write(acting_user, membership.unit)
    if status not in MembershipStatus.values:
        raise _invalid({"status": _("Choose one of the allowed values.")})
    with transaction.atomic(durable=True):
        m = Membership.objects.select_for_update().get(pk=membership.pk)
        if status not in MEMBERSHIP_TRANSITIONS.get(MembershipStatus(m.status), set()):
            raise ApplicationError(
                "bad_transition",
                _("A membership cannot go from %(a)s to %(b)s.") % {"a": m.status, "b": status},
                {"status": _("This change of status is not allowed.")}, status_code=409,
            )
        if on is not None and on < m.start_date:
            raise _invalid({"on": _("The end date is before the start of the membership.")})
        before = snapshot(m, ["status", "end_date"])
        m.status = status
        if status == MembershipStatus.ENDED:
            m.end_date = on or timezone.localdate()
        m.save(update_fields=["status", "end_date"])
        audit_log(actor=acting_user, event_type="membership.status", subject=m, before=before,
                  after=snapshot(m, ["status", "end_date"]), organisation=m.organisation,
                  unit=m.unit)
    return m


def membership_end(*, acting_user, membership: Membership, on: date | None = None
                   ) -> Membership:
    """End a membership (the member leaves); the row and its number stay."""
    return membership_set_status(acting_user=acting_user, membership=membership,
                                 status=MembershipStatus.ENDED, on=on)


def household_create(*, acting_user, head: Person, name: str = "", village: str = "") -> Household:
    """A household around its head (a person the user may change)."""
    head = get_person_for_user(acting_user, head.pk)
    _require_writes_person(acting_user, head, _("You may not change this person."))
    errors = {}
    name, error = _plain_text(name, max_len=200)
    if error is not None:
        errors["name"] = error
    village, error = _plain_text(village, max_len=100)
    if error is not None:
        errors["village"] = error
    if errors:
        raise _invalid(errors)
    with transaction.atomic(durable=True):
        hh = Household.objects.create(name=name or f"Famille {head.last_name}",
                                      village=village or head.village)
        HouseholdMember.objects.create(household=hh, person=head, relation=Relation.HEAD)
        audit_log(actor=acting_user, event_type="household.created", subject=hh,
                  after={"head": head.pk, "name": hh.name})
    return hh


def household_member_add(*, acting_user, household: Household, person: Person, relation: str
                         ) -> HouseholdMember:
    """Add a person to a household. Several spouses are allowed (polygamy is legal in Mali);
    a household has one head."""
    person = get_person_for_user(acting_user, person.pk)
    _check_household(acting_user, household)
    _require_writes_person(acting_user, person, _("You may not change this person."))
    if relation not in Relation.values:
        raise _invalid({"relation": _("Choose one of the allowed values.")})
    with transaction.atomic(durable=True):
        Household.objects.select_for_update().get(pk=household.pk)
        if relation == Relation.HEAD and household.members.filter(relation=Relation.HEAD).exists():
            raise ApplicationError("household_has_head", _("This household already has a head."),
                                   {"relation": _("This household already has a head.")},
                                   status_code=409)
        if household.members.filter(person=person).exists():
            raise ApplicationError("already_in_household",
                                   _("This person is already in this household."),
                                   {"person": _("This person is already in this household.")},
                                   status_code=409)
        link = HouseholdMember.objects.create(household=household, person=person,
                                              relation=relation)
        audit_log(actor=acting_user, event_type="household.member_added", subject=household,
                  after={"person": person.pk, "relation": relation})
    return link


def consent_grant(*, acting_user, person: Person, granted_to: Organisation, scope: str,
                  purpose: str) -> Consent:
    """Record that the person lets `granted_to` see one category of their data held elsewhere.

    Recorded by staff who serve the person (write role over one of the person's memberships),
    as said by the person in front of them. Takes effect at once.
    """
    person = get_person_for_user(acting_user, person.pk)
    errors = {}
    if scope not in ConsentScope.values:
        errors["scope"] = _("Choose one of the allowed values.")
    purpose, error = _plain_text(purpose, max_len=200)
    if error is not None:
        errors["purpose"] = error
    elif not purpose:
        errors["purpose"] = _("Say why the data is shared.")
    if not isinstance(granted_to, Organisation):
        errors["granted_to"] = _("Unknown organisation.")
    if errors:
        raise _invalid(errors)
    _require_writes_person(acting_user, person,
                           _("Only staff of the person's own unit record a consent."))
    with transaction.atomic(durable=True):
        Person.objects.select_for_update().get(pk=person.pk)
        if Consent.objects.filter(person=person, granted_to=granted_to, scope=scope,
                                  withdrawn_at__isnull=True).exists():
            raise ApplicationError(
                "already_given", _("This consent is already given."),
                {"scope": _("This consent is already given.")}, status_code=409)
        consent = Consent.objects.create(
            person=person, granted_to=granted_to, scope=scope, purpose=purpose,
            given_at=timezone.now(), recorded_by=acting_user,
        )
        audit_log(actor=acting_user, event_type="consent.given", subject=consent,
                  after=snapshot(consent, ["person", "granted_to", "scope", "purpose"]),
                  organisation=granted_to)
    return consent


def consent_withdraw(*, acting_user, consent: Consent) -> Consent:
    """The person takes a consent back: access stops at once (every read checks
    withdrawn_at). The row stays as the record of what was allowed and when."""
    person = get_person_for_user(acting_user, consent.person_id)
    _require_writes_person(acting_user, person,
                           _("Only staff of the person's own unit record a consent."))
    with transaction.atomic(durable=True):
        c = Consent.objects.select_for_update().get(pk=consent.pk)
        if c.withdrawn_at is not None:
            raise ApplicationError("already_withdrawn", _("This consent is already withdrawn."),
                                   status_code=409)
        c.withdrawn_at = timezone.now()
        c.save(update_fields=["withdrawn_at"])
        audit_log(actor=acting_user, event_type="consent.withdrawn", subject=c,
                  before={"withdrawn_at": None}, after=snapshot(c, ["withdrawn_at"]),
                  organisation=c.granted_to)
    return c


def _require_decider(user, *persons: Person) -> None:
    if not all(can_decide_duplicates(user, p) for p in persons):
        raise Forbidden("forbidden", _("Only a manager of both records decides on duplicates."))


def duplicate_dismiss(*, acting_user, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """A manager decides that the pair are two different persons."""
    _require_decider(acting_user, get_person_for_user(acting_user, candidate.person_id),
                     get_person_for_user(acting_user, candidate.other_id))
    with transaction.atomic(durable=True):
        c = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
        if c.status not in (DuplicateStatus.OPEN, DuplicateStatus.CONFIRMED):
            raise ApplicationError("already_decided", _("This pair was already decided."),
                                   status_code=409)
        before = {"status": c.status}
        c.status = DuplicateStatus.DISMISSED
        c.decided_at = timezone.now()
        c.decided_by = acting_user
        c.save(update_fields=["status", "decided_at", "decided_by"])
        audit_log(actor=acting_user, event_type="duplicate.dismissed", subject=c, before=before,
                  after={"status": c.status, "person": c.person_id, "other": c.other_id})
    return c


def _pair(a: Person | int, b: Person | int):
    a_id, b_id = getattr(a, "pk", a), getattr(b, "pk", b)
    return DuplicateCandidate.objects.filter(
        Q(person_id=a_id, other_id=b_id) | Q(person_id=b_id, other_id=a_id))


def duplicate_flag(*, acting_user, person: Person, other: Person, reason: str
                   ) -> DuplicateCandidate:
    """A manager records two records as one person (found after registration): the pair is
    "confirmed" and may then be merged."""
    person = get_person_for_user(acting_user, person.pk)
    other = get_person_for_user(acting_user, other.pk)
    errors = {}
    reason, error = _plain_text(reason, max_len=500)
    if error is not None:
        errors["reason"] = error
    elif not reason:
        errors["reason"] = _("Say why these records are one person.")
    if person.pk == other.pk:
        errors["other"] = _("Choose two different records.")
    if errors:
        raise _invalid(errors)
    _require_decider(acting_user, person, other)
    with transaction.atomic(durable=True):
        c = _pair(person, other).select_for_update().first()
        if c is not None and c.status == DuplicateStatus.MERGED:
            raise ApplicationError("already_decided", _("This pair was already decided."),
                                   status_code=409)
        before = {"status": c.status} if c else None
        if c is None:
            c = DuplicateCandidate(person=person, other=other, reasons=["manual"], score=100)
        c.status = DuplicateStatus.CONFIRMED
        c.decided_at = timezone.now()
        c.decided_by = acting_user
        c.save()
        audit_log(actor=acting_user, event_type="duplicate.confirmed", subject=c, before=before,
                  after={"status": c.status, "person": c.person_id, "other": c.other_id,
                         "reason": reason})
    return c


def person_merge(*, acting_user, survivor: Person, merged: Person, reason: str) -> Person:
    """Merge a duplicate into the survivor, keeping history.

    Only for a pair recorded as a candidate (open) or confirmed by a manager, and only by a
    manager of both records. Memberships, household links and consents move to the survivor
    (a membership of an organisation the survivor already belongs to is ended: one person,
    one membership per organisation); identity fields the survivor lacks are taken over. The
    merged record is kept with merged_into set, so old receipts and audit rows still point
    somewhere true; it no longer appears in searches and leads to the survivor.
    """
    # A record merged earlier stands for its survivor (get_person_for_user follows the chain).
    survivor = get_person_for_user(acting_user, survivor.pk)
    merged = get_person_for_user(acting_user, merged.pk)
    errors = {}
    reason, error = _plain_text(reason, max_len=500)
    if error is not None:
        errors["reason"] = error
    elif not reason:
        errors["reason"] = _("Say why these records are one person.")
    if survivor.pk == merged.pk:
        errors["merged"] = _("Choose two different records.")
    if errors:
        raise _invalid(errors)
    _require_decider(acting_user, survivor, merged)
    with transaction.atomic(durable=True):
        # Both rows locked in primary-key order: two managers merging crosswise cannot
        # deadlock, and the second sees the first's merge.
        locked = {p.pk: p for p in Person.objects.select_for_update()
                  .filter(pk__in=[survivor.pk, merged.pk]).order_by("pk")}
        keep, gone = locked[survivor.pk], locked[merged.pk]
        if keep.merged_into_id or gone.merged_into_id:
            raise ApplicationError("already_merged", _("One of these records is already merged."),
                                   status_code=409)
        pair = _pair(keep, gone).filter(
            status__in=[DuplicateStatus.OPEN, DuplicateStatus.CONFIRMED]).first()
        if pair is None:
            raise ApplicationError(
                "not_a_duplicate_pair",
                _("These records were not flagged as possible duplicates. Flag them first."),
                {"merged": _("These records were not flagged as possible duplicates.")},
                status_code=409)
        before = snapshot(keep, PERSON_FIELDS)
        kept_orgs = set(Membership.objects.filter(person=keep, status__in=LIVE_MEMBERSHIP)
                        .values_list("organisation_id", flat=True))
        moved_memberships = list(Membership.objects.filter(person=gone).order_by("pk"))
        ended = []
        today = timezone.localdate()
        for m in moved_memberships:
            if m.organisation_id in kept_orgs and m.status in LIVE_MEMBERSHIP:
                m.status, m.end_date = MembershipStatus.ENDED, max(today, m.start_date)
                ended.append(m.number)
            m.person = keep
            m.save(update_fields=["person", "status", "end_date"])
        moved_consents = list(Consent.objects.filter(person=gone).values_list("pk", flat=True))
        Consent.objects.filter(person=gone).update(person=keep)
        links = []
        for link in HouseholdMember.objects.filter(person=gone):
            if HouseholdMember.objects.filter(household=link.household, person=keep).exists():
                continue  # both records were already in this household: keep the old link
            HouseholdMember.objects.filter(pk=link.pk).update(person=keep)
            links.append(link.pk)
        # Other open pairs of the merged record now concern the survivor.
        for c in DuplicateCandidate.objects.filter(
                Q(person=gone) | Q(other=gone),
                status__in=[DuplicateStatus.OPEN, DuplicateStatus.CONFIRMED]).exclude(pk=pair.pk):
            third = c.other_id if c.person_id == gone.pk else c.person_id
            if third == keep.pk or _pair(keep, third).exists():
                continue
            if c.person_id == gone.pk:
                c.person = keep
            else:
                c.other = keep
            c.save(update_fields=["person", "other"])
        for field in ("phone", "village", "commune", "cercle", "region", "birth_date"):
            if not getattr(keep, field) and getattr(gone, field):
                setattr(keep, field, getattr(gone, field))
        if keep.birth_year is None and gone.birth_year is not None:
            keep.birth_year = gone.birth_year
        nina = gone.nina
        gone.merged_into = keep
        gone.nina = None  # a NINA belongs to one live record (unique); the audit keeps it
        gone.save(update_fields=["merged_into", "nina"])
        if not keep.nina and nina:
            keep.nina = nina
        keep.save()
        DuplicateCandidate.objects.filter(pk=pair.pk).update(
            status=DuplicateStatus.MERGED, decided_at=timezone.now(), decided_by=acting_user)
        moved = {"memberships": [m.pk for m in moved_memberships], "ended": ended,
                 "consents": moved_consents, "household_links": links}
        audit_log(actor=acting_user, event_type="person.merged", subject=keep, before=before,
                  after=snapshot(keep, PERSON_FIELDS) | {"merged": gone.pk, "reason": reason,
                                                         "moved": moved})
        audit_log(actor=acting_user, event_type="person.merged_away", subject=gone,
                  before={"merged_into": None, "nina": nina},
                  after={"merged_into": keep.pk, "reason": reason})
    return keep
