"""Movement API (/api/v1/movement): sections, members with their group record, dues
(statement, payments, reversals, waivers) and the accrual run.

Money-moving calls (a payment, its reversal) require an Idempotency-Key header: the same key
with the same body returns the first answer (same receipt), another body a 409, and nothing
is posted twice. Reads return 404 for what the caller may not see (a Kondo teller or a UTM
manager sees no MTC member; a section's organiser sees only her section).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Max
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from jigi.core.cleaning import invalid, today
from jigi.core.errors import Forbidden, NotFound
from jigi.core.lookup import MAX_ID
from jigi.movement import selectors
from jigi.movement.models import DuesCharge, DuesPayment, DuesWaiver, MemberProfile
from jigi.movement.services import dues, members
from jigi.movement.services._common import (
    ADMIN_ROLES,
    is_movement_staff,
    movement_organisation,
    movement_root,
    require_role,
)
from jigi.people.selectors import get_person_for_user
from jigi.savings.api import Amount
from jigi.savings.idempotency import idempotent_call, require_key

router = Router(tags=["movement-members"])



def _limits(offset: int, limit: int) -> tuple[int, int]:
    return min(max(0, offset), 10**9), max(1, min(limit, 200))


# --- schemas ----------------------------------------------------------------------------------


class NewPersonIn(Schema):
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    sex: str = Field(max_length=1, description="F | M")
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
    language: str = Field(default="bm", max_length=2, description="fr | bm | en")


class RecordIn(Schema):
    """The fields of her group's record (only those of her group are accepted)."""

    # domestic workers
    employer_name: str | None = Field(default=None, max_length=200)
    employer_phone: str | None = Field(default=None, max_length=32)
    district: str | None = Field(default=None, max_length=100)
    start_date: date | None = None
    live_in: bool | None = None
    daily_hours: int | None = None
    weekly_rest_half_days: int | None = None
    written_contract: bool | None = None
    declared: bool | None = None
    monthly_pay: Amount | None = None
    # teachers
    school: str | None = Field(default=None, max_length=200)
    school_place: str | None = Field(default=None, max_length=100)
    status: str | None = Field(default=None, max_length=16)
    paid_by: str | None = Field(default=None, max_length=16)
    pay_arrears: Amount | None = None
    pay_arrears_months: int | None = None
    # artisans
    trade: str | None = Field(default=None, max_length=100)
    workshop: str | None = Field(default=None, max_length=200)
    workshop_place: str | None = Field(default=None, max_length=100)
    apprentices: int | None = None
    monthly_income: Amount | None = None
    # young people
    schooling: str | None = Field(default=None, max_length=12)
    in_school: bool | None = None
    skills: str | None = Field(default=None, max_length=300)
    computer_access: str | None = Field(default=None, max_length=8)
    seeking_work: bool | None = None


class ProfileIn(Schema):
    area_kind: str | None = Field(default=None, max_length=8, description="urban | rural")
    rural_origin: bool | None = None
    home_village: str | None = Field(default=None, max_length=100)


class RegisterIn(Schema):
    section_id: int = Field(ge=1, le=MAX_ID)
    person_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                  description="an existing registry person")
    person: NewPersonIn | None = Field(default=None, description="or a new person")
    confirm_not_duplicate: bool = False
    start_date: date | None = None
    profile: ProfileIn | None = None
    record: RecordIn


class UpdateIn(Schema):
    record: RecordIn | None = None
    profile: ProfileIn | None = None


class SectionIn(Schema):
    section_id: int = Field(ge=1, le=MAX_ID)


class EndIn(Schema):
    reason: str = Field(max_length=300)
    on: date | None = None


class ExemptIn(Schema):
    exempt: bool
    reason: str = Field(max_length=300)


class PayIn(Schema):
    amount: Amount = Field(description="whole francs CFA, e.g. 500 or \"1 500\"")
    channel: str = Field(max_length=14, description="cash | mobile_money | bank")
    paid_on: date | None = None
    reference: str = Field(default="", max_length=64)


class ReverseIn(Schema):
    reason: str = Field(max_length=200)
    on: date | None = None


class WaiverIn(Schema):
    amount: Amount
    reason: str = Field(max_length=300)


class DecideIn(Schema):
    approve: bool
    note: str = Field(default="", max_length=300)


class AccrueIn(Schema):
    as_of: date | None = None


def _set(schema: Schema | None) -> dict[str, Any]:
    return {} if schema is None else schema.dict(exclude_unset=True)


# --- output ---------------------------------------------------------------------------------


def member_out(p: MemberProfile, *, detail: bool = False, adult: int | None = None
               ) -> dict[str, Any]:
    person = p.person
    out: dict[str, Any] = {
        "id": p.pk, "number": p.membership.number, "person_id": person.pk,
        "first_name": person.first_name, "last_name": person.last_name, "sex": person.sex,
        "birth_year": person.birth_year, "phone": person.phone,
        "section_id": p.section_id, "section": p.section.code, "group": p.group,
        "standing": p.standing, "arrears": p.arrears, "advance": p.advance,
        "owing_since": p.owing_since, "dues_exempt": p.dues_exempt,
        "membership_status": p.membership.status,
        "minor": members.is_minor_member(p, person, adult=adult),
    }
    if detail:
        rec = selectors.record_of(p)
        out["record"] = ({name: getattr(rec, name)
                          for name in sorted(members.record_fields(p.group))}
                         if rec is not None else None)
        out["profile"] = {"area_kind": p.area_kind, "rural_origin": p.rural_origin,
                          "home_village": p.home_village}
        out["start_date"] = p.membership.start_date
        out["end_date"] = p.membership.end_date
    return out


def charge_out(c: DuesCharge) -> dict[str, Any]:
    return {"id": c.pk, "period_start": c.period_start, "period_end": c.period_end,
            "amount": c.amount, "paid": c.paid, "waived": c.waived, "open": c.open_amount}


def payment_row(p: DuesPayment) -> dict[str, Any]:
    return {"id": p.pk, "member_id": p.profile_id, "receipt_number": p.receipt_number,
            "paid_on": p.paid_on, "amount": p.amount, "channel": p.channel,
            "advance_part": p.advance_part, "reverses": p.reverses_id,
            "reverses_receipt": p.reverses.receipt_number if p.reverses_id else None,
            "allocations": [{"charge_id": a.charge_id, "amount": a.amount}
                            for a in selectors.allocations_of(p)]}


def payment_out(result: dues.Payment) -> dict[str, Any]:
    return {"payment": payment_row(result.payment),
            "member": member_out(result.profile)}


def waiver_out(w: DuesWaiver) -> dict[str, Any]:
    return {"id": w.pk, "member_id": w.profile_id, "amount": w.amount, "reason": w.reason,
            "status": w.status, "requested_by": w.requested_by_id,
            "decided_by": w.decided_by_id, "decision_note": w.decision_note}


# --- sections and members -------------------------------------------------------------------


@router.get("/sections")
def section_list(request: HttpRequest):
    return [{"id": s.section.pk, "code": s.section.code, "name": s.section.name,
             "group": s.section.member_group, "members": s.members,
             "by_standing": s.by_standing, "minors": s.minors, "arrears": s.arrears}
            for s in selectors.section_summaries(request.user)]


@router.get("/members")
def member_list(request: HttpRequest, section_id: int | None = None, group: str = "",
                standing: str = "", minor: bool | None = None, q: str = "",
                offset: int = 0, limit: int = 50):
    section = (selectors.get_section_for_user(request.user, section_id)
               if section_id is not None else None)
    offset, limit = _limits(offset, limit)
    qs = selectors.members_filter(selectors.members_for_user(request.user), section=section,
                                  group=group[:16], standing=standing[:8], minor=minor,
                                  q=q[:64])
    adult = members.adult_age()
    return {"count": qs.count(), "offset": offset, "limit": limit,
            "results": [member_out(p, adult=adult) for p in qs[offset:offset + limit]]}


@router.get("/members/{member_id}")
def member_detail(request: HttpRequest, member_id: int):
    return member_out(selectors.get_member_for_user(request.user, member_id), detail=True)


@router.post("/members", response={201: dict})
def member_register(request: HttpRequest, payload: RegisterIn):
    """Register a member: `person_id` of a registry person (visible to you: another
    organisation's person needs her identity consent) or `person` for a new one. 409
    `possible_duplicates` when the registry may already hold her: check the candidates, then
    resend with `confirm_not_duplicate: true`."""
    section = selectors.get_section_for_user(request.user, payload.section_id)
    person = (get_person_for_user(request.user, payload.person_id)
              if payload.person_id is not None else None)
    reg = members.member_register(
        acting_user=request.user, section=section, person=person,
        person_fields=payload.person.dict() if payload.person is not None else None,
        confirm_not_duplicate=payload.confirm_not_duplicate, start_date=payload.start_date,
        profile=_set(payload.profile), record=_set(payload.record))
    return Status(201, member_out(
        selectors.get_member_for_user(request.user, reg.profile.pk), detail=True))


@router.patch("/members/{member_id}")
def member_update(request: HttpRequest, member_id: int, payload: UpdateIn):
    p = selectors.get_member_for_user(request.user, member_id)
    members.member_update(acting_user=request.user, profile=p, record=_set(payload.record),
                          details=_set(payload.profile))
    return member_out(selectors.get_member_for_user(request.user, member_id), detail=True)


@router.post("/members/{member_id}/section")
def member_section(request: HttpRequest, member_id: int, payload: SectionIn):
    p = selectors.get_member_for_user(request.user, member_id)
    section = selectors.get_section_for_user(request.user, payload.section_id)
    members.member_section_change(acting_user=request.user, profile=p, section=section)
    return member_out(selectors.get_member_for_user(request.user, member_id), detail=True)


@router.post("/members/{member_id}/end")
def member_end(request: HttpRequest, member_id: int, payload: EndIn):
    p = selectors.get_member_for_user(request.user, member_id)
    members.member_end(acting_user=request.user, profile=p, reason=payload.reason,
                       on=payload.on)
    return member_out(selectors.get_member_for_user(request.user, member_id), detail=True)


@router.post("/members/{member_id}/exempt")
def member_exempt(request: HttpRequest, member_id: int, payload: ExemptIn):
    p = selectors.get_member_for_user(request.user, member_id)
    members.member_exempt_set(acting_user=request.user, profile=p, exempt=payload.exempt,
                              reason=payload.reason)
    return member_out(selectors.get_member_for_user(request.user, member_id), detail=True)


# --- dues -----------------------------------------------------------------------------------


@router.get("/members/{member_id}/dues")
def dues_statement(request: HttpRequest, member_id: int):
    st = selectors.dues_statement(selectors.get_member_for_user(request.user, member_id))
    return {"member": member_out(st.profile), "charged": st.charged, "paid": st.paid,
            "waived": st.waived, "arrears": st.arrears, "advance": st.advance,
            "charges": [charge_out(c) for c in st.charges],
            "payments": [payment_row(p) for p in st.payments],
            "waivers": [waiver_out(w) for w in st.waivers]}


@router.post("/members/{member_id}/payments", response={201: dict})
def dues_pay(request: HttpRequest, member_id: int, payload: PayIn):
    require_key(request)
    p = selectors.get_member_for_user(request.user, member_id)
    status, answer = idempotent_call(
        request, endpoint=f"movement:pay:{member_id}", body=payload.dict(), render=payment_out,
        run=lambda claim: dues.dues_pay(
            acting_user=request.user, profile=p, amount=payload.amount,
            channel=payload.channel, paid_on=payload.paid_on, reference=payload.reference,
            idempotency=claim))
    return Status(status, answer)


@router.get("/payments/{payment_id}")
def payment_detail(request: HttpRequest, payment_id: int):
    return payment_row(selectors.get_payment_for_user(request.user, payment_id))


@router.post("/payments/{payment_id}/reverse", response={201: dict})
def dues_reverse(request: HttpRequest, payment_id: int, payload: ReverseIn):
    require_key(request)
    row = selectors.get_payment_for_user(request.user, payment_id)
    status, answer = idempotent_call(
        request, endpoint=f"movement:reverse:{payment_id}", body=payload.dict(),
        render=payment_out,
        run=lambda claim: dues.dues_reverse(acting_user=request.user, payment=row,
                                            reason=payload.reason, on=payload.on,
                                            idempotency=claim))
    return Status(status, answer)


@router.post("/members/{member_id}/waivers", response={201: dict})
def waiver_request(request: HttpRequest, member_id: int, payload: WaiverIn):
    p = selectors.get_member_for_user(request.user, member_id)
    w = dues.waiver_request(acting_user=request.user, profile=p, amount=payload.amount,
                            reason=payload.reason)
    return Status(201, waiver_out(w))


@router.get("/waivers")
def waiver_list(request: HttpRequest):
    """Requests waiting for a movement administrator's decision."""
    return [waiver_out(w) for w in selectors.waivers_pending_for_user(request.user)[:200]]


@router.post("/waivers/{waiver_id}/decide")
def waiver_decide(request: HttpRequest, waiver_id: int, payload: DecideIn):
    w = selectors.get_waiver_for_user(request.user, waiver_id)
    return waiver_out(dues.waiver_decide(acting_user=request.user, waiver=w,
                                         approve=payload.approve, note=payload.note))


@router.post("/dues/accrue")
def dues_accrue(request: HttpRequest, payload: AccrueIn):
    """Make the members' missing charges up to `as_of` (today by default): a movement
    administrator (close of business does it every day)."""
    org = movement_organisation()
    try:
        require_role(request.user, movement_root(org), ADMIN_ROLES)
    except NotFound:
        if is_movement_staff(request.user, org.pk):  # a section's organiser sees the movement
            raise Forbidden("forbidden", _("Your role does not allow this operation.")) from None
        raise
    as_of = payload.as_of or today()
    if as_of > today():
        raise invalid({"as_of": _("This date is in the future.")})
    # A day before periods already charged makes no charge but would rewrite every member's
    # standing as of that past day.
    charged = (DuesCharge.objects.filter(profile__section__organisation=org)
               .aggregate(m=Max("period_start"))["m"])
    if charged is not None and as_of < charged:
        raise invalid({"as_of": _("Dues are already charged up to %(day)s.")
                       % {"day": charged.isoformat()}})
    run = dues.dues_accrue(organisation=org, as_of=as_of, acting_user=request.user)
    return {"as_of": run.as_of, "charges": run.charges, "amount": run.amount,
            "advance_used": run.advance_used, "entries": run.entries,
            "members_changed": run.members, "sections": run.sections}
