"""Writes to the person registry: registration with duplicate checks, memberships, households,
consents and merges. Every write is audited in its own transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log, snapshot
from jigi.core.errors import ApplicationError, Conflict, Forbidden
from jigi.core.numbering import next_number
from jigi.orgs.models import Organisation, Unit
from jigi.orgs.scoping import user_scope
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
from jigi.people.selectors import DuplicateMatch, person_find_duplicates

PERSON_FIELDS = [
    "first_name", "last_name", "sex", "birth_date", "birth_year", "birth_year_estimated",
    "phone", "nina", "village", "commune", "cercle", "region", "literacy", "language",
]
LANGUAGES = {"fr", "bm", "en"}


class PossibleDuplicates(Conflict):
    """Registration stopped because the registry already holds persons who may be this one."""

    def __init__(self, matches: list[DuplicateMatch]) -> None:
        super().__init__(
            "possible_duplicates",
            _("This person may already be registered. Check the candidates, then confirm."),
            {"confirm_not_duplicate": _("Tick this box if it is a different person.")},
        )
        self.matches = matches

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["candidates"] = [
            {
                "id": m.person.pk, "first_name": m.person.first_name,
                "last_name": m.person.last_name, "birth_year": m.person.birth_year,
                "phone": m.person.phone, "cercle": m.person.cercle,
                "village": m.person.village, "reasons": list(m.reasons), "score": m.score,
            }
            for m in self.matches
        ]
        return data


def _clean_person(raw: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate identity fields; collect every field error before refusing."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    today = timezone.localdate()

    def text(name: str, *, required: bool, max_len: int) -> None:
        if name not in raw:
            if required and not partial:
                errors[name] = _("This field is required.")
            return
        value = (raw.get(name) or "").strip()
        if required and not value:
            errors[name] = _("This field is required.")
        elif len(value) > max_len:
            errors[name] = _("At most %(n)d characters.") % {"n": max_len}
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
        phone = (raw.get("phone") or "").strip()
        if phone:
            try:
                out["phone"] = normalize_mali_phone(phone)
            except PhoneError:
                errors["phone"] = _("Enter a Mali number: +223 and 8 digits.")
        else:
            out["phone"] = ""
    if "nina" in raw:
        nina = (raw.get("nina") or "").strip().upper().replace(" ", "")
        if nina and (len(nina) > 20 or not nina.isalnum()):
            errors["nina"] = _("A NINA has at most 20 letters and digits.")
        else:
            out["nina"] = nina or None
    if "birth_date" in raw and raw.get("birth_date") is not None:
        bd = raw["birth_date"]
        if not isinstance(bd, date):
            errors["birth_date"] = _("Enter a valid date (YYYY-MM-DD).")
        elif bd > today or bd.year < today.year - 120:
            errors["birth_date"] = _("The date of birth is not plausible.")
        else:
            out["birth_date"] = bd
            out["birth_year"] = bd.year
    if "birth_year" in raw and raw.get("birth_year") is not None and "birth_date" not in out:
        by = raw["birth_year"]
        if not isinstance(by, int) or isinstance(by, bool) or not (today.year - 120 <= by <= today.year):
            errors["birth_year"] = _("The year of birth is not plausible.")
        else:
            out["birth_year"] = by
    if not partial and "birth_year" not in out and "birth_year" not in errors \
            and "birth_date" not in errors:
        errors["birth_year"] = _("Give the date of birth or at least the year (estimated if needed).")
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
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors, status_code=422)
    return out


def _require_write(user, unit: Unit) -> None:
    if not user_scope(user).covers_unit(unit, write=True):
        # 404, not 403: a teller must not learn which units exist elsewhere.
        raise ApplicationError("unit_not_found", _("Unit not found."),
                               {"unit": _("You cannot register members in this unit.")},
                               status_code=404)


def _member_number(organisation: Organisation, unit: Unit) -> str:
    n = next_number(f"member:{organisation.pk}", 0)
    return f"{unit.code}-{n:06d}"


def person_register(
    *,
    acting_user,
    unit: Unit,
    confirm_not_duplicate: bool = False,
    start_date: date | None = None,
    **fields: Any,
) -> Person:
    """Register a person and their membership at `unit`.

    Stops with PossibleDuplicates when the registry may already hold the person; with
    `confirm_not_duplicate` the person is created and each candidate pair is recorded for a
    later human decision (never merged silently).
    """
    _require_write(acting_user, unit)
    clean = _clean_person(fields)
    matches = person_find_duplicates(
        first_name=clean["first_name"], last_name=clean["last_name"],
        phone=clean.get("phone", ""), nina=clean.get("nina"), birth_year=clean.get("birth_year"),
        cercle=clean.get("cercle", ""), village=clean.get("village", ""),
    )
    if matches and any("nina" in m.reasons for m in matches):
        # Two persons cannot share a national ID: confirmation does not help.
        raise PossibleDuplicates([m for m in matches if "nina" in m.reasons])
    if matches and not confirm_not_duplicate:
        raise PossibleDuplicates(matches)
    with transaction.atomic(durable=True):
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
            raise PossibleDuplicates(
                person_find_duplicates(first_name=clean["first_name"],
                                       last_name=clean["last_name"], nina=clean.get("nina"))
            ) from None
        membership = Membership.objects.create(
            person=person, organisation=unit.organisation, unit=unit,
            number=_member_number(unit.organisation, unit),
            status=MembershipStatus.ACTIVE, start_date=start_date or timezone.localdate(),
        )
        DuplicateCandidate.objects.bulk_create([
            DuplicateCandidate(person=person, other=m.person, reasons=list(m.reasons),
                               score=m.score)
            for m in matches
        ])
        audit_log(actor=acting_user, event_type="person.registered", subject=person,
                  after=snapshot(person, PERSON_FIELDS) | {
                      "membership": membership.number,
                      "duplicate_candidates": [m.person.pk for m in matches]},
                  organisation=unit.organisation, unit=unit)
    return person


def person_update(*, acting_user, person: Person, **fields: Any) -> Person:
    from jigi.people.selectors import get_person_for_user

    get_person_for_user(acting_user, person.pk)
    if not _writes_for_person(acting_user, person):
        raise Forbidden("forbidden", _("You may not change this person."))
    clean = _clean_person(fields, partial=True)
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


def _writes_for_person(user, person: Person) -> bool:
    scope = user_scope(user)
    if scope.is_superuser:
        return True
    return Membership.objects.filter(scope.unit_q("unit__", write=True), person=person).exists()


def membership_add(*, acting_user, person: Person, unit: Unit, start_date: date | None = None
                   ) -> Membership:
    _require_write(acting_user, unit)
    from jigi.people.selectors import get_person_for_user

    get_person_for_user(acting_user, person.pk)
    with transaction.atomic(durable=True):
        if Membership.objects.filter(
            person=person, organisation=unit.organisation,
            status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING, MembershipStatus.SUSPENDED],
        ).exists():
            raise ApplicationError(
                "already_member", _("This person is already a member of this organisation."),
                {"unit": _("This person is already a member of this organisation.")},
                status_code=409,
            )
        m = Membership.objects.create(
            person=person, organisation=unit.organisation, unit=unit,
            number=_member_number(unit.organisation, unit),
            start_date=start_date or timezone.localdate(),
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
    _require_write(acting_user, membership.unit)
    with transaction.atomic(durable=True):
        m = Membership.objects.select_for_update().get(pk=membership.pk)
        if status not in MEMBERSHIP_TRANSITIONS.get(MembershipStatus(m.status), set()):
            raise ApplicationError(
                "bad_transition",
                _("A membership cannot go from %(a)s to %(b)s.") % {"a": m.status, "b": status},
                {"status": _("This change of status is not allowed.")}, status_code=409,
            )
        before = snapshot(m, ["status", "end_date"])
        m.status = status
        if status == MembershipStatus.ENDED:
            m.end_date = on or timezone.localdate()
        m.save(update_fields=["status", "end_date"])
        audit_log(actor=acting_user, event_type="membership.status", subject=m, before=before,
                  after=snapshot(m, ["status", "end_date"]), organisation=m.organisation,
                  unit=m.unit)
    return m


def household_create(*, acting_user, head: Person, name: str = "", village: str = "") -> Household:
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
    if relation not in Relation.values:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"relation": _("Choose one of the allowed values.")}, status_code=422)
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

    Recorded by staff who serve the person (in scope), as said by the person in front of them.
    """
    from jigi.people.selectors import get_person_for_user

    get_person_for_user(acting_user, person.pk)
    errors = {}
    if scope not in ConsentScope.values:
        errors["scope"] = _("Choose one of the allowed values.")
    if not (purpose or "").strip():
        errors["purpose"] = _("Say why the data is shared.")
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors, status_code=422)
    if not _writes_for_person(acting_user, person):
        raise Forbidden("forbidden", _("Only staff of the person's own unit record a consent."))
    with transaction.atomic(durable=True):
        consent = Consent.objects.create(
            person=person, granted_to=granted_to, scope=scope, purpose=purpose.strip()[:200],
            given_at=timezone.now(), recorded_by=acting_user,
        )
        audit_log(actor=acting_user, event_type="consent.given", subject=consent,
                  after=snapshot(consent, ["person", "granted_to", "scope", "purpose"]))
    return consent


def consent_withdraw(*, acting_user, consent: Consent) -> Consent:
    from jigi.people.selectors import get_person_for_user

    get_person_for_user(acting_user, consent.person_id)
    if not _writes_for_person(acting_user, consent.person):
        raise Forbidden("forbidden", _("Only staff of the person's own unit record a consent."))
    with transaction.atomic(durable=True):
        c = Consent.objects.select_for_update().get(pk=consent.pk)
        if c.withdrawn_at is not None:
            raise ApplicationError("already_withdrawn", _("This consent is already withdrawn."),
                                   status_code=409)
        c.withdrawn_at = timezone.now()
        c.save(update_fields=["withdrawn_at"])
        audit_log(actor=acting_user, event_type="consent.withdrawn", subject=c,
                  before={"withdrawn_at": None}, after=snapshot(c, ["withdrawn_at"]))
    return c


def duplicate_dismiss(*, acting_user, candidate: DuplicateCandidate) -> DuplicateCandidate:
    with transaction.atomic(durable=True):
        c = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
        if c.status != DuplicateStatus.OPEN:
            raise ApplicationError("already_decided", _("This pair was already decided."),
                                   status_code=409)
        c.status = DuplicateStatus.DISMISSED
        c.decided_at = timezone.now()
        c.decided_by = acting_user
        c.save(update_fields=["status", "decided_at", "decided_by"])
        audit_log(actor=acting_user, event_type="duplicate.dismissed", subject=c,
                  after={"person": c.person_id, "other": c.other_id})
    return c


def person_merge(*, acting_user, survivor: Person, merged: Person, reason: str) -> Person:
    """Merge a confirmed duplicate into the survivor, keeping history.

    Memberships, household links and consents move to the survivor; the merged record stays
    (merged_into set) so old receipts and audit rows still point somewhere true.
    """
    from jigi.people.selectors import get_person_for_user

    get_person_for_user(acting_user, survivor.pk)
    get_person_for_user(acting_user, merged.pk)
    if not (reason or "").strip():
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"reason": _("Say why these records are one person.")},
                               status_code=422)
    if survivor.pk == merged.pk:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"merged": _("Choose two different records.")}, status_code=422)
    if not (_writes_for_person(acting_user, survivor) and _writes_for_person(acting_user, merged)):
        raise Forbidden("forbidden", _("You may not merge these records."))
    with transaction.atomic(durable=True):
        a, b = sorted([survivor.pk, merged.pk])
        locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[a, b])
                  .order_by("pk")}
        keep, gone = locked[survivor.pk], locked[merged.pk]
        if keep.merged_into_id or gone.merged_into_id:
            raise ApplicationError("already_merged", _("One of these records is already merged."),
                                   status_code=409)
        pair = DuplicateCandidate.objects.filter(
            person_id__in=[a, b], other_id__in=[a, b]
        ).exclude(status=DuplicateStatus.MERGED)
        moved = {
            "memberships": list(Membership.objects.filter(person=gone).values_list("pk", flat=True)),
            "consents": list(Consent.objects.filter(person=gone).values_list("pk", flat=True)),
        }
        Membership.objects.filter(person=gone).update(person=keep)
        Consent.objects.filter(person=gone).update(person=keep)
        for link in HouseholdMember.objects.filter(person=gone):
            if HouseholdMember.objects.filter(household=link.household, person=keep).exists():
                continue  # both records were already in this household
            HouseholdMember.objects.filter(pk=link.pk).update(person=keep)
        # Identity fields the survivor lacks are taken from the merged record.
        before = snapshot(keep, PERSON_FIELDS)
        for field in ("phone", "village", "commune", "cercle", "region", "birth_date"):
            if not getattr(keep, field) and getattr(gone, field):
                setattr(keep, field, getattr(gone, field))
        nina = gone.nina
        gone.merged_into = keep
        gone.nina = None  # a NINA belongs to one live record
        gone.save(update_fields=["merged_into", "nina"])
        if not keep.nina and nina:
            keep.nina = nina
        keep.save()
        pair.update(status=DuplicateStatus.MERGED, decided_at=timezone.now(),
                    decided_by=acting_user)
        audit_log(actor=acting_user, event_type="person.merged", subject=keep, before=before,
                  after=snapshot(keep, PERSON_FIELDS) | {"merged": gone.pk, "reason": reason,
                                                         "moved": moved})
        audit_log(actor=acting_user, event_type="person.merged_away", subject=gone,
                  after={"into": keep.pk, "reason": reason})
    return keep
