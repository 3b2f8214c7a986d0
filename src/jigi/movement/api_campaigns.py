"""Movement campaigns API (/api/v1/movement): partners, campaigns, milestones, actions,
petitions, signatures collected by organisers, counts and the CSV for partners; and the public
sign and confirm calls (no login) behind the public signing page.

Every MTC staff member reads; organisers and movement administrators write (403 for a case
worker); anyone else gets a 404. The public calls answer alike whether or not a phone has
signed, and never return a signer.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from jigi.core.errors import NotFound
from jigi.core.lookup import MAX_ID
from jigi.movement import selectors_campaigns as sel
from jigi.movement.models import (
    Campaign,
    CampaignAction,
    CampaignStatus,
    Milestone,
    Partner,
    Petition,
)
from jigi.movement.services import campaigns as svc

router = Router(tags=["movement-campaigns"])



def _limits(offset: int, limit: int) -> tuple[int, int]:
    return min(max(0, offset), 10**9), max(1, min(limit, 200))


# --- schemas ----------------------------------------------------------------------------------


class PartnerIn(Schema):
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16, description="mutual_union | union | association | "
                                                 "public | other")
    contact: str = Field(default="", max_length=200)
    jigi_organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class CampaignIn(Schema):
    code: str = Field(max_length=24)
    title: str = Field(max_length=200)
    goal: str = Field(max_length=4000)
    starts_on: date
    ends_on: date | None = None
    groups: list[str] = Field(default_factory=list, max_length=4,
                              description="teachers | domestic | artisans | youth")
    partner_ids: list[int] = Field(default_factory=list, max_length=100)


class CampaignPatch(Schema):
    title: str | None = Field(default=None, max_length=200)
    goal: str | None = Field(default=None, max_length=4000)
    starts_on: date | None = None
    ends_on: date | None = None
    groups: list[str] | None = Field(default=None, max_length=4)
    partner_ids: list[int] | None = Field(default=None, max_length=100)


class StatusIn(Schema):
    status: str = Field(max_length=8, description="active | won | ended")


class MilestoneIn(Schema):
    title: str = Field(max_length=200)
    due_on: date


class ReachIn(Schema):
    reached_on: date | None = None


class ActionIn(Schema):
    kind: str = Field(max_length=10, description="meeting | advocacy | media | march | "
                                                 "training | other")
    held_on: date
    place: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=2000)
    partner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    women: int = Field(default=0, ge=0, le=1_000_000)
    men: int = Field(default=0, ge=0, le=1_000_000)


class PetitionIn(Schema):
    title: str = Field(max_length=200)
    text: str = Field(max_length=10_000)
    target: int = Field(default=0, ge=0, le=10_000_000)
    opens_on: date
    closes_on: date | None = None


class SignIn(Schema):
    name: str = Field(max_length=200)
    phone: str = Field(max_length=32)
    sex: Literal["F", "M"]
    region: str = Field(default="", max_length=64)
    commune: str = Field(default="", max_length=100)
    language: Literal["fr", "bm"] | None = Field(
        default=None, description="language of the SMS (default: the request's, else fr)")


class CollectIn(SignIn):
    person_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ConfirmIn(Schema):
    phone: str = Field(max_length=32)
    code: str = Field(max_length=40)


# --- output -----------------------------------------------------------------------------------


def partner_out(p: Partner) -> dict[str, Any]:
    return {"id": p.pk, "name": p.name, "kind": p.kind, "contact": p.contact,
            "jigi_organisation_id": p.jigi_organisation_id}


def _day(d: date | None) -> str | None:
    return d.isoformat() if d else None


def counts_out(petition: Petition) -> dict[str, Any]:
    c = sel.petition_counts(petition)
    return {
        "confirmed": c.confirmed, "pending": c.pending, "target": c.target,
        "progress_pct": c.progress_pct, "by_sex": {"F": c.women, "M": c.men},
        "by_region": [{"region": r, "count": n} for r, n in c.by_region],
        "by_commune": [{"region": r, "commune": m, "count": n} for r, m, n in c.by_commune],
        "by_day": [{"day": _day(d), "count": n} for d, n in c.by_day],
    }


def petition_out(p: Petition, *, counts: bool = False) -> dict[str, Any]:
    out = {"id": p.pk, "campaign_id": p.campaign_id, "title": p.title, "text": p.text,
           "target": p.target, "opens_on": _day(p.opens_on), "closes_on": _day(p.closes_on),
           "open": sel.petition_is_open(p), "public_path": f"/p/{p.pk}/"}
    if counts:
        out["counts"] = counts_out(p)
    return out


def milestone_out(m: Milestone) -> dict[str, Any]:
    return {"id": m.pk, "title": m.title, "due_on": _day(m.due_on),
            "reached_on": _day(m.reached_on)}


def action_out(a: CampaignAction) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind, "held_on": _day(a.held_on), "place": a.place,
            "note": a.note, "partner_id": a.partner_id, "women": a.women, "men": a.men}


def campaign_out(c: Campaign, *, detail: bool = False) -> dict[str, Any]:
    out = {"id": c.pk, "code": c.code, "title": c.title, "goal": c.goal, "groups": c.groups,
           "status": c.status, "starts_on": _day(c.starts_on), "ends_on": _day(c.ends_on)}
    if detail:
        d = sel.campaign_detail(c)
        out |= {"partners": [partner_out(p) for p in d["partners"]],
                "milestones": [milestone_out(m) for m in d["milestones"]],
                "actions": [action_out(a) for a in d["actions"]],
                "taking_part": {"women": d["women"], "men": d["men"]},
                "petitions": [petition_out(p, counts=True) for p, _c in d["petitions"]]}
    return out


def signature_out(outcome: svc.SignOutcome) -> dict[str, Any]:
    s = outcome.signature
    return {"id": s.pk, "name": s.name, "phone": s.phone, "sex": s.sex, "region": s.region,
            "commune": s.commune, "status": s.status, "person_id": s.person_id}


def _sms_language(language: str | None) -> str:
    if language:
        return language
    return "bm" if (translation.get_language() or "").startswith("bm") else "fr"


# --- partners ---------------------------------------------------------------------------------


@router.get("/partners", response=list[dict])
def partner_list(request: HttpRequest, offset: int = 0, limit: int = 100):
    offset, limit = _limits(offset, limit)
    return [partner_out(p) for p in sel.partners_for_user(request.user)[offset:offset + limit]]


@router.post("/partners", response={201: dict})
def partner_create(request: HttpRequest, payload: PartnerIn):
    p = svc.partner_create(acting_user=request.user, **payload.model_dump())
    return Status(201, partner_out(p))


# --- campaigns --------------------------------------------------------------------------------


@router.get("/campaigns", response=list[dict])
def campaign_list(request: HttpRequest, status: str | None = None, offset: int = 0,
                  limit: int = 50):
    qs = sel.campaigns_for_user(request.user)
    if status:
        qs = qs.filter(status=status) if status in CampaignStatus.values else qs.none()
    offset, limit = _limits(offset, limit)
    return [campaign_out(c) for c in qs[offset:offset + limit]]


@router.post("/campaigns", response={201: dict})
def campaign_create(request: HttpRequest, payload: CampaignIn):
    c = svc.campaign_create(acting_user=request.user, **payload.model_dump())
    return Status(201, campaign_out(c, detail=True))


@router.get("/campaigns/{campaign_id}", response=dict)
def campaign_detail(request: HttpRequest, campaign_id: int):
    return campaign_out(sel.get_campaign_for_user(request.user, campaign_id), detail=True)


@router.patch("/campaigns/{campaign_id}", response=dict)
def campaign_update(request: HttpRequest, campaign_id: int, payload: CampaignPatch):
    c = sel.get_campaign_for_user(request.user, campaign_id)
    c = svc.campaign_update(acting_user=request.user, campaign=c, **payload.model_dump())
    return campaign_out(c, detail=True)


@router.post("/campaigns/{campaign_id}/status", response=dict)
def campaign_status(request: HttpRequest, campaign_id: int, payload: StatusIn):
    c = sel.get_campaign_for_user(request.user, campaign_id)
    return campaign_out(svc.campaign_status_set(acting_user=request.user, campaign=c,
                                                status=payload.status))


@router.post("/campaigns/{campaign_id}/milestones", response={201: dict})
def milestone_add(request: HttpRequest, campaign_id: int, payload: MilestoneIn):
    c = sel.get_campaign_for_user(request.user, campaign_id)
    m = svc.milestone_add(acting_user=request.user, campaign=c, title=payload.title,
                          due_on=payload.due_on)
    return Status(201, milestone_out(m))


@router.post("/campaigns/{campaign_id}/milestones/{milestone_id}/reach", response=dict)
def milestone_reach(request: HttpRequest, campaign_id: int, milestone_id: int,
                    payload: ReachIn):
    c = sel.get_campaign_for_user(request.user, campaign_id)
    m = sel.get_milestone_for_user(request.user, milestone_id)
    if m.campaign_id != c.pk:
        raise NotFound("milestone_not_found", _("Milestone not found."))
    return milestone_out(svc.milestone_reach(acting_user=request.user, milestone=m,
                                             reached_on=payload.reached_on))


@router.post("/campaigns/{campaign_id}/actions", response={201: dict})
def action_record(request: HttpRequest, campaign_id: int, payload: ActionIn):
    c = sel.get_campaign_for_user(request.user, campaign_id)
    a = svc.action_record(acting_user=request.user, campaign=c, **payload.model_dump())
    return Status(201, action_out(a))


@router.post("/campaigns/{campaign_id}/petitions", response={201: dict})
def petition_create(request: HttpRequest, campaign_id: int, payload: PetitionIn):
    c = sel.get_campaign_for_user(request.user, campaign_id)
    p = svc.petition_create(acting_user=request.user, campaign=c, **payload.model_dump())
    return Status(201, petition_out(p, counts=True))


# --- petitions (staff) ------------------------------------------------------------------------


@router.get("/petitions/{petition_id}", response=dict)
def petition_detail(request: HttpRequest, petition_id: int):
    return petition_out(sel.get_petition_for_user(request.user, petition_id), counts=True)


@router.get("/petitions/{petition_id}/counts", response=dict)
def petition_counts(request: HttpRequest, petition_id: int):
    return counts_out(sel.get_petition_for_user(request.user, petition_id))


@router.get("/petitions/{petition_id}/signatures.csv")
def petition_csv(request: HttpRequest, petition_id: int):
    """Confirmed signatures for the partners: name, sex, region, commune, date; no phones."""
    p = sel.get_petition_for_user(request.user, petition_id)
    response = HttpResponse(sel.petition_csv(p), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="petition-{p.pk}.csv"'
    return response


@router.post("/petitions/{petition_id}/signatures", response={201: dict})
def signature_collect(request: HttpRequest, petition_id: int, payload: CollectIn):
    """An organiser takes a signature; the code goes to the signer's phone by SMS."""
    p = sel.get_petition_for_user(request.user, petition_id)
    data = payload.model_dump()
    data["language"] = _sms_language(data["language"])
    return Status(201, signature_out(svc.signature_collect(acting_user=request.user,
                                                           petition=p, **data)))


@router.post("/petitions/{petition_id}/signatures/confirm", response=dict)
def signature_confirm(request: HttpRequest, petition_id: int, payload: ConfirmIn):
    p = sel.get_petition_for_user(request.user, petition_id)
    s = svc.signature_confirm(acting_user=request.user, petition=p, phone=payload.phone,
                              code=payload.code)
    return {"id": s.pk, "status": s.status}


# --- public (no login) ------------------------------------------------------------------------


@router.get("/petitions/{petition_id}/public", response=dict, auth=None)
def public_petition(request: HttpRequest, petition_id: int):
    p = sel.get_public_petition(petition_id)
    return {"id": p.pk, "title": p.title, "text": p.text, "target": p.target,
            "closes_on": _day(p.closes_on), "open": sel.petition_is_open(p),
            "confirmed": sel.confirmed_total(p)}


@router.post("/petitions/{petition_id}/public/sign", response={202: dict}, auth=None)
def public_sign(request: HttpRequest, petition_id: int, payload: SignIn):
    """The same answer whether or not the phone has signed before (nothing to probe)."""
    p = sel.get_public_petition(petition_id)
    data = payload.model_dump()
    data["language"] = _sms_language(data["language"])
    svc.signature_sign_public(petition=p, address=request.META.get("REMOTE_ADDR", ""),
                              **data)
    return Status(202, {"status": "code_sent"})


@router.post("/petitions/{petition_id}/public/confirm", response=dict, auth=None)
def public_confirm(request: HttpRequest, petition_id: int, payload: ConfirmIn):
    p = sel.get_public_petition(petition_id)
    svc.signature_confirm(petition=p, phone=payload.phone, code=payload.code, public=True)
    return {"status": "confirmed"}
