"""People API (/api/v1/people): search, registration with duplicate checks, identity updates,
memberships, consents, duplicate decisions and merges.

Every read goes through people.selectors (scope and consent); every write through
people.services. Errors: 404 for what the user may not see, 403 for a visible person the
user may not change, 409 with `candidates` when the person may already be registered, 422 with
per-field messages in the caller's language.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.lookup import MAX_ID
from jigi.orgs.models import Organisation
from jigi.orgs.selectors import get_unit_for_user
from jigi.people import selectors, services
from jigi.people.models import Consent, Membership

router = Router(tags=["people"])



class MembershipOut(Schema):
    id: int
    organisation: str
    unit_id: int
    unit_code: str
    number: str
    status: str
    start_date: date
    end_date: date | None


class ConsentOut(Schema):
    id: int
    granted_to: str
    scope: str
    purpose: str
    given_at: datetime
    withdrawn_at: datetime | None


class HouseholdOut(Schema):
    household_id: int
    name: str
    relation: str
    members: list[dict[str, Any]]


class PersonOut(Schema):
    id: int
    first_name: str
    last_name: str
    sex: str
    birth_date: date | None
    birth_year: int | None
    birth_year_estimated: bool
    phone: str
    nina: str | None
    village: str
    commune: str
    cercle: str
    region: str
    literacy: str
    language: str


class PersonDetailOut(PersonOut):
    memberships: list[MembershipOut]
    consents: list[ConsentOut]
    households: list[HouseholdOut]
    visible_sections: list[str]


class PersonIn(Schema):
    unit_id: int = Field(ge=1, le=MAX_ID)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    sex: str = Field(max_length=1)
    birth_date: date | None = None
    birth_year: int | None = Field(default=None, ge=1800, le=2200)
    birth_year_estimated: bool = False
    phone: str = Field(default="", max_length=32)
    nina: str | None = Field(default=None, max_length=32)
    village: str = Field(default="", max_length=100)
    commune: str = Field(default="", max_length=100)
    cercle: str = Field(default="", max_length=100)
    region: str = Field(default="", max_length=100)
    literacy: str = Field(default="none", max_length=8)
    language: str = Field(default="bm", max_length=8)
    confirm_not_duplicate: bool = False


class PersonPatch(Schema):
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    sex: str | None = Field(default=None, max_length=1)
    birth_date: date | None = None
    birth_year: int | None = Field(default=None, ge=1800, le=2200)
    birth_year_estimated: bool | None = None
    phone: str | None = Field(default=None, max_length=32)
    nina: str | None = Field(default=None, max_length=32)
    village: str | None = Field(default=None, max_length=100)
    commune: str | None = Field(default=None, max_length=100)
    cercle: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    literacy: str | None = Field(default=None, max_length=8)
    language: str | None = Field(default=None, max_length=8)


class ConsentIn(Schema):
    granted_to: str = Field(max_length=16, description="organisation code: KONDO, UTM, MTC")
    scope: str = Field(max_length=16, description="identity, savings, credit, health, movement")
    purpose: str = Field(max_length=200)


class MembershipIn(Schema):
    unit_id: int = Field(ge=1, le=MAX_ID)
    start_date: date | None = None


class MembershipStatusIn(Schema):
    status: str = Field(max_length=16)
    on: date | None = None


class MergeIn(Schema):
    survivor_id: int = Field(ge=1, le=MAX_ID)
    merged_id: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(max_length=500)


class FlagIn(Schema):
    person_id: int = Field(ge=1, le=MAX_ID)
    other_id: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(max_length=500)


class DuplicateOut(Schema):
    id: int
    person_id: int
    other_id: int
    person_name: str
    other_name: str
    reasons: list[str]
    score: int
    status: str


def _in_range(pk: int) -> bool:
    return 0 < pk <= MAX_ID


def _person_out(p) -> dict:
    return {f: getattr(p, f) for f in PersonOut.model_fields}


def _membership_out(m: Membership) -> dict:
    return {"id": m.pk, "organisation": m.organisation.code, "unit_id": m.unit_id,
            "unit_code": m.unit.code, "number": m.number, "status": m.status,
            "start_date": m.start_date, "end_date": m.end_date}


def _consent_out(c: Consent) -> dict:
    return {"id": c.pk, "granted_to": c.granted_to.code, "scope": c.scope,
            "purpose": c.purpose, "given_at": c.given_at, "withdrawn_at": c.withdrawn_at}


def _duplicate_out(d) -> dict:
    return {"id": d.pk, "person_id": d.person_id, "other_id": d.other_id,
            "person_name": d.person.full_name, "other_name": d.other.full_name,
            "reasons": d.reasons, "score": d.score, "status": d.status}


def _detail(user, p) -> dict:
    out = _person_out(p)
    out["memberships"] = [_membership_out(m) for m in selectors.memberships_visible(user, p)]
    out["consents"] = [_consent_out(c) for c in selectors.consents_visible(user, p)]
    visible = set(selectors.persons_visible_to(user).filter(
        household_links__household__members__person=p).values_list("pk", flat=True))
    out["households"] = [
        {"household_id": link.household_id, "name": link.household.name,
         "relation": link.relation,
         # Other members are named only if the user may see them.
         "members": [{"person_id": hm.person_id, "relation": hm.relation}
                     for hm in link.household.members.all() if hm.person_id in visible]}
        for link in selectors.households_of(p)
    ]
    out["visible_sections"] = sorted(selectors.person_visible_sections(user, p))
    return out


@router.get("/", response=list[PersonOut])
def search(request: HttpRequest, q: str = "", limit: int = 25):
    """Name (accent-insensitive), phone in any format, NINA or member number."""
    limit = max(1, min(limit, 100))
    return [_person_out(p) for p in selectors.person_search_for_user(request.user, q, limit)]


@router.get("/search", response=list[PersonOut])
def search_alias(request: HttpRequest, q: str = "", limit: int = 25):
    """The same search as GET /api/v1/people/?q=..."""
    return search(request, q, limit)


@router.post("/", response={201: PersonDetailOut})
def register(request: HttpRequest, payload: PersonIn):
    """Register a person with a membership at `unit_id`. 409 `possible_duplicates` with
    `candidates` when the registry may already hold the person: check them with the person,
    then resend with `confirm_not_duplicate: true` (not possible for an identical NINA)."""
    unit = get_unit_for_user(request.user, payload.unit_id, write=True)
    data = payload.dict()
    data.pop("unit_id")
    confirm = data.pop("confirm_not_duplicate")
    person = services.person_register(acting_user=request.user, unit=unit,
                                      confirm_not_duplicate=confirm, **data)
    return Status(201, _detail(request.user, person))


@router.get("/duplicates", response=list[DuplicateOut])
def duplicates(request: HttpRequest):
    """Pairs still to decide, where the user can see both records."""
    return [_duplicate_out(d) for d in selectors.duplicates_open_for_user(request.user)[:200]]


@router.post("/duplicates", response={201: DuplicateOut})
def duplicate_flag(request: HttpRequest, payload: FlagIn):
    """A manager records two records as one person, so that they can be merged."""
    person = selectors.get_person_for_user(request.user, payload.person_id)
    other = selectors.get_person_for_user(request.user, payload.other_id)
    d = services.duplicate_flag(acting_user=request.user, person=person, other=other,
                                reason=payload.reason)
    return Status(201, _duplicate_out(d))


@router.post("/duplicates/{candidate_id}/dismiss", response=DuplicateOut)
def duplicate_dismiss(request: HttpRequest, candidate_id: int):
    d = selectors.get_duplicate_for_user(request.user, candidate_id)
    d = services.duplicate_dismiss(acting_user=request.user, candidate=d)
    return _duplicate_out(d)


@router.post("/merge", response=PersonDetailOut)
def merge(request: HttpRequest, payload: MergeIn):
    """Merge `merged_id` into `survivor_id` (a flagged pair; managers only)."""
    survivor = selectors.get_person_for_user(request.user, payload.survivor_id)
    merged = selectors.get_person_for_user(request.user, payload.merged_id)
    person = services.person_merge(acting_user=request.user, survivor=survivor, merged=merged,
                                   reason=payload.reason)
    return _detail(request.user, person)


@router.post("/memberships/{membership_id}/status", response=MembershipOut)
def membership_status(request: HttpRequest, membership_id: int, payload: MembershipStatusIn):
    from jigi.orgs.scoping import user_scope

    m = Membership.objects.filter(
        user_scope(request.user).unit_q("unit__"), pk=membership_id
    ).select_related("unit", "organisation").first() if _in_range(membership_id) else None
    if m is None:
        raise NotFound("membership_not_found", _("Membership not found."))
    m = services.membership_set_status(acting_user=request.user, membership=m,
                                       status=payload.status, on=payload.on)
    return _membership_out(m)


@router.post("/consents/{consent_id}/withdraw", response=ConsentOut)
def withdraw_consent(request: HttpRequest, consent_id: int):
    c = Consent.objects.select_related("granted_to", "person").filter(
        pk=consent_id).first() if _in_range(consent_id) else None
    if c is None:
        raise NotFound("consent_not_found", _("Consent not found."))
    c = services.consent_withdraw(acting_user=request.user, consent=c)
    return _consent_out(c)


@router.get("/{person_id}", response=PersonDetailOut)
def detail(request: HttpRequest, person_id: int):
    """The person (the survivor, for a merged record) with what the user may see."""
    return _detail(request.user, selectors.get_person_for_user(request.user, person_id))


@router.patch("/{person_id}", response=PersonDetailOut)
def update(request: HttpRequest, person_id: int, payload: PersonPatch):
    person = selectors.get_person_for_user(request.user, person_id)
    fields = payload.dict(exclude_unset=True)
    person = services.person_update(acting_user=request.user, person=person, **fields)
    return _detail(request.user, person)


@router.post("/{person_id}/memberships", response={201: MembershipOut})
def add_membership(request: HttpRequest, person_id: int, payload: MembershipIn):
    person = selectors.get_person_for_user(request.user, person_id)
    unit = get_unit_for_user(request.user, payload.unit_id, write=True)
    m = services.membership_add(acting_user=request.user, person=person, unit=unit,
                                start_date=payload.start_date)
    return Status(201, _membership_out(m))


@router.post("/{person_id}/consents", response={201: ConsentOut})
def give_consent(request: HttpRequest, person_id: int, payload: ConsentIn):
    person = selectors.get_person_for_user(request.user, person_id)
    org = Organisation.objects.filter(code=payload.granted_to.strip().upper()).first()
    if org is None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"granted_to": _("Unknown organisation.")}, status_code=422)
    c = services.consent_grant(acting_user=request.user, person=person, granted_to=org,
                               scope=payload.scope, purpose=payload.purpose)
    return Status(201, _consent_out(c))
