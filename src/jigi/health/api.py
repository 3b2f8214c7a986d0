"""UTM coverage API (/api/v1/health): mutuals, packages, coverages and beneficiaries,
contributions, standing orders, group agreements, providers, conventions and the eligibility
check. The claims side is a second router on the same prefix (api_claims.py).

Money-moving calls (a contribution, its reversal) require an Idempotency-Key header: the same
key with the same body returns the first answer (same receipt), another body a 409, and nothing
is posted twice. Reads return 404 for what the caller may not see.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.lookup import MAX_ID, is_id
from jigi.health import selectors, services
from jigi.health.models import (
    Beneficiary,
    BenefitPackage,
    Contribution,
    ContributionDue,
    Convention,
    Coverage,
    GroupAgreement,
    MutualProfile,
    Provider,
    StandingOrder,
    TariffItem,
)
from jigi.health.services._common import (
    MANAGER_ROLES,
    clean_date,
    require_role,
    service_transaction,
    today,
)
from jigi.health.services.mutuals import PROFILE_FIELDS
from jigi.orgs.models import Organisation, OrgKind, Unit
from jigi.orgs.scoping import user_scope
from jigi.people.models import Household, Person
from jigi.people.selectors import get_person_for_user
from jigi.savings.api import Amount
from jigi.savings.idempotency import idempotent_call, require_key
from jigi.savings.models import SavingsAccount

router = Router(tags=["health"])



def _limits(offset: int, limit: int) -> tuple[int, int]:
    return min(max(0, offset), 10**9), max(1, min(limit, 200))


# --- schemas ----------------------------------------------------------------------------------


class BoardMemberIn(Schema):
    person_id: int = Field(ge=1, le=MAX_ID)
    office: str = Field(max_length=32, description="president | vice_president | secretary | "
                                                   "treasurer | member | auditor")
    since: date | None = None


class ProfileIn(Schema):
    area_kind: str | None = Field(default=None, description="urban | rural")
    area: str | None = Field(default=None, max_length=200)
    target_population: int | None = Field(default=None, ge=0, le=50_000_000)
    founded_on: date | None = None
    approval_ref: str | None = Field(default=None, max_length=64)
    last_general_assembly: date | None = None
    board: list[BoardMemberIn] | None = Field(default=None, max_length=40)


class RuleIn(Schema):
    group: str = Field(max_length=24)
    mutual_share_pct: int = Field(ge=0, le=100)
    ceiling_per_event: Amount | None = None
    ceiling_per_year: Amount | None = None
    max_quantity: int | None = Field(default=None, ge=1, le=10_000)
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)


class PackageIn(Schema):
    name: str | None = Field(default=None, max_length=100)
    active: bool | None = None
    card_fee: Amount | None = None
    contribution: Amount | None = None
    contribution_basis: str | None = Field(default=None, description="per_person | per_family")
    frequency: str | None = Field(default=None, description="monthly | seasonal | yearly")
    season_months: list[int] | None = Field(default=None, max_length=12)
    child_max_age: int | None = Field(default=None, ge=0, le=25)
    max_beneficiaries: int | None = Field(default=None, ge=1, le=100)
    other_dependants: bool | None = None
    waiting_days: int | None = Field(default=None, ge=0, le=730)
    waiting_days_lapse: int | None = Field(default=None, ge=0, le=365)
    grace_days: int | None = Field(default=None, ge=0, le=365)
    exclusions: list[str] | None = Field(default=None, max_length=500)
    valid_from: date | None = None
    valid_until: date | None = None
    rules: list[RuleIn] | None = Field(default=None, max_length=20)


class PackageCreateIn(PackageIn):
    code: str = Field(max_length=16)
    mutual_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                  description="none: a union-wide package")


class DependantIn(Schema):
    person_id: int = Field(ge=1, le=MAX_ID)
    relation: str = Field(max_length=8, description="spouse | child | parent | other")


class EnrolIn(Schema):
    mutual_id: int = Field(ge=1, le=MAX_ID)
    package_id: int = Field(ge=1, le=MAX_ID)
    member_id: int = Field(ge=1, le=MAX_ID)
    household_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                     description="enrol the household's members "
                                                 "(those who cannot be covered are skipped)")
    dependants: list[DependantIn] | None = Field(default=None, max_length=60)
    enrolled_on: date | None = None


class BeneficiaryIn(Schema):
    person_id: int = Field(ge=1, le=MAX_ID)
    relation: str = Field(max_length=8)
    since: date | None = None


class ReasonIn(Schema):
    reason: str = Field(max_length=200)
    on: date | None = None


class PaymentIn(Schema):
    amount: Amount = Field(description="whole francs CFA, e.g. 3300 or \"3 300\"")
    paid_on: date | None = None
    channel: str = Field(default="cash", description="cash | savings | mobile_money | partner")
    savings_account_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    reference: str = Field(default="", max_length=64)


class OrderIn(Schema):
    savings_account_id: int = Field(ge=1, le=MAX_ID)
    amount: Amount | None = None
    day_of_month: int = Field(default=5, ge=1, le=28)


class AgreementIn(Schema):
    mutual_id: int = Field(ge=1, le=MAX_ID)
    package_id: int = Field(ge=1, le=MAX_ID)
    partner_code: str = Field(max_length=16, description="e.g. MTC")
    partner_unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    name: str = Field(max_length=200)
    signed_on: date
    payer: str = Field(default="member", description="member | partner")
    waiting_waived: bool = False


class GroupEnrolIn(Schema):
    person_ids: list[int] = Field(min_length=1, max_length=500)
    enrolled_on: date | None = None


class ProviderIn(Schema):
    name: str | None = Field(default=None, max_length=200)
    kind: str | None = Field(default=None, description="cscom | csref | hospital | pharmacy | "
                                                       "clinic")
    region: str | None = Field(default=None, max_length=100)
    cercle: str | None = Field(default=None, max_length=100)
    commune: str | None = Field(default=None, max_length=100)
    village: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    active: bool | None = None


class ProviderCreateIn(ProviderIn):
    code: str = Field(max_length=16)


class StaffIn(Schema):
    username: str = Field(max_length=150)


class ItemIn(Schema):
    code: str = Field(max_length=24)
    label: str = Field(max_length=200)
    kind: str = Field(default="act", description="act | drug")
    group: str = Field(max_length=24)
    price: Amount
    max_quantity: int | None = Field(default=None, ge=1, le=10_000)


class ConventionIn(Schema):
    reference: str = Field(max_length=32)
    mutual_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                  description="none: union-wide")
    valid_from: date
    valid_until: date | None = None
    tolerance_pct: int = Field(default=50, ge=0, le=1_000)
    items: list[ItemIn] = Field(default_factory=list, max_length=5_000)


class ConventionPatchIn(Schema):
    reference: str | None = Field(default=None, max_length=32)
    valid_from: date | None = None
    valid_until: date | None = None
    tolerance_pct: int | None = Field(default=None, ge=0, le=1_000)


class RunIn(Schema):
    on: date


# --- renderers --------------------------------------------------------------------------------


def mutual_out(unit: Unit) -> dict[str, Any]:
    profile: MutualProfile | None = getattr(unit, "mutual_profile", None)
    out: dict[str, Any] = {"id": unit.pk, "code": unit.code, "name": unit.name,
                           "region": unit.region, "cercle": unit.cercle, "profile": None}
    if profile is not None:
        out["profile"] = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    return out


def package_out(p: BenefitPackage) -> dict[str, Any]:
    return {"id": p.pk, "code": p.code, "name": p.name, "mutual_id": p.mutual_id,
            "active": p.active, "card_fee": p.card_fee, "contribution": p.contribution,
            "contribution_basis": p.contribution_basis, "frequency": p.frequency,
            "season_months": p.season_months, "child_max_age": p.child_max_age,
            "max_beneficiaries": p.max_beneficiaries, "other_dependants": p.other_dependants,
            "waiting_days": p.waiting_days, "waiting_days_lapse": p.waiting_days_lapse,
            "grace_days": p.grace_days, "exclusions": p.exclusions,
            "valid_from": p.valid_from, "valid_until": p.valid_until,
            "rules": [{"group": r.group, "mutual_share_pct": r.mutual_share_pct,
                       "copay_pct": 100 - r.mutual_share_pct,
                       "ceiling_per_event": r.ceiling_per_event,
                       "ceiling_per_year": r.ceiling_per_year, "max_quantity": r.max_quantity,
                       "min_age": r.min_age, "max_age": r.max_age}
                      for r in sorted(p.rules.all(), key=lambda r: r.group)]}


def beneficiary_out(b: Beneficiary) -> dict[str, Any]:
    return {"id": b.pk, "person_id": b.person_id, "name": b.person.full_name,
            "sex": b.person.sex, "birth_year": b.person.birth_year, "relation": b.relation,
            "card_number": b.card_number, "since": b.since, "until": b.until}


def coverage_out(c: Coverage, *, detail: bool = False) -> dict[str, Any]:
    out = {"id": c.pk, "number": c.number, "mutual_id": c.mutual_id, "mutual": c.mutual.code,
           "package": c.package.code, "package_id": c.package_id, "member_id": c.member_id,
           "member": c.member.full_name, "status": c.status, "enrolled_on": c.enrolled_on,
           "covered_from": c.covered_from, "paid_through": c.paid_through,
           "suspended_on": c.suspended_on, "ended_on": c.ended_on,
           "renewal_due": c.renewal_due, "card_fee_paid": c.card_fee_paid,
           "household_id": c.household_id, "agreement_id": c.agreement_id}
    if detail:
        out["beneficiaries"] = [beneficiary_out(b) for b in selectors.beneficiaries_of(c)]
        out["amount_owed"] = selectors.amount_owed(c)
        out["suspensions"] = [{"start": s.start, "end": s.end, "reason": s.reason}
                              for s in selectors.suspensions_of(c)]
    return out


def due_out(d: ContributionDue) -> dict[str, Any]:
    return {"period_start": d.period_start, "period_end": d.period_end, "amount": d.amount,
            "paid": d.paid, "outstanding": d.amount - d.paid}


def contribution_out(c: Contribution) -> dict[str, Any]:
    return {"id": c.pk, "coverage_id": c.coverage_id, "receipt": c.receipt_number,
            "paid_on": c.paid_on, "amount": c.amount, "card_fee": c.card_fee,
            "channel": c.channel, "reference": c.external_ref,
            "reversed_by": c.reversed_by.receipt_number if c.reversed_by_id else None,
            "journal_entry_id": c.journal_entry_id,
            "savings_transaction_id": c.savings_transaction_id}


def payment_out(p: services.Payment) -> dict[str, Any]:
    return {"contribution": contribution_out(p.contribution),
            "coverage": coverage_out(p.coverage), "status_change": p.status_change}


def order_out(o: StandingOrder) -> dict[str, Any]:
    return {"id": o.pk, "coverage_id": o.coverage_id, "savings_account_id": o.account_id,
            "amount": o.amount, "day_of_month": o.day_of_month, "active": o.active,
            "last_run_on": o.last_run_on, "last_result": o.last_result}


def agreement_out(a: GroupAgreement) -> dict[str, Any]:
    return {"id": a.pk, "mutual_id": a.mutual_id, "package_id": a.package_id,
            "partner": a.partner.code, "partner_unit_id": a.partner_unit_id, "name": a.name,
            "signed_on": a.signed_on, "payer": a.payer, "waiting_waived": a.waiting_waived}


def provider_out(p: Provider) -> dict[str, Any]:
    return {"id": p.pk, "code": p.code, "name": p.name, "kind": p.kind, "region": p.region,
            "cercle": p.cercle, "commune": p.commune, "village": p.village, "phone": p.phone,
            "active": p.active}


def item_out(i: TariffItem) -> dict[str, Any]:
    return {"code": i.code, "label": i.label, "kind": i.kind, "group": i.group,
            "price": i.price, "max_quantity": i.max_quantity}


def convention_out(c: Convention, *, items: bool = False) -> dict[str, Any]:
    out = {"id": c.pk, "provider_id": c.provider_id, "mutual_id": c.mutual_id,
           "reference": c.reference, "valid_from": c.valid_from, "valid_until": c.valid_until,
           "tolerance_pct": c.tolerance_pct}
    if items:
        out["items"] = [item_out(i) for i in c.items.order_by("group", "code")]
    return out


def _reason_out(r) -> dict[str, Any]:
    return {"code": r.code, "message": selectors.reason_text(r), "until": r.until,
            "amount": r.amount, "group": r.group}


def eligibility_out(answer: selectors.EligibilityAnswer) -> dict[str, Any]:
    return {
        "on": answer.on, "group": answer.group, "covered": answer.covered,
        "reasons": [_reason_out(r) for r in answer.reasons],
        "matches": [{
            "card_number": m.beneficiary.card_number, "name": m.beneficiary.person.full_name,
            "sex": m.beneficiary.person.sex, "age": m.age, "relation": m.beneficiary.relation,
            "coverage": m.beneficiary.coverage.number,
            "mutual": m.beneficiary.coverage.mutual.code,
            "package": m.beneficiary.coverage.package.code,
            "covered": m.decision.covered, "covered_from": m.decision.covered_from,
            "reasons": [_reason_out(r) for r in m.decision.reasons],
            "in_network": m.in_network,
            "groups": [{"group": g.group, "mutual_share_pct": g.mutual_share_pct,
                        "copay_pct": g.copay_pct, "ceiling_per_event": g.ceiling_per_event,
                        "ceiling_per_year": g.ceiling_per_year,
                        "used_this_year": g.used_this_year,
                        "remaining_this_year": g.remaining_this_year, "covered": g.covered,
                        "reasons": [_reason_out(r) for r in g.reasons]}
                       for g in m.decision.groups],
        } for m in answer.matches],
    }


# --- helpers ----------------------------------------------------------------------------------


def _body(payload: Schema) -> dict[str, Any]:
    return {k: v for k, v in payload.dict(exclude_unset=True).items()}


def _package_fields(payload: PackageIn) -> tuple[dict[str, Any], list[dict] | None]:
    data = _body(payload)
    rules = data.pop("rules", None)
    for key in ("code", "mutual_id"):
        data.pop(key, None)
    return data, rules


def _organisation_of(user) -> Organisation:
    scope = user_scope(user)
    qs = Organisation.objects.filter(kind=OrgKind.MUTUAL_UNION)
    if not scope.is_superuser:
        qs = qs.filter(pk__in=scope.organisation_ids)
    org = qs.order_by("pk").first()
    if org is None:
        raise NotFound("not_found", _("Not found."))
    return org


def _person(request, pk: int, field: str) -> Person:
    try:
        return get_person_for_user(request.user, pk)
    except NotFound:
        raise NotFound("person_not_found", _("Person not found."),
                       {field: _("Person not found.")}) from None


def _savings_account(pk: int | None) -> SavingsAccount | None:
    """The account as the service checks it (held by a beneficiary who consented); the union
    never reads other accounts (404 from the service)."""
    if pk is None:
        return None
    account = SavingsAccount.objects.select_related("product", "caisse").filter(pk=pk).first()
    if account is None:
        raise NotFound("account_not_found", _("Account not found."))
    return account


# --- mutuals ----------------------------------------------------------------------------------


@router.get("/mutuals")
def mutual_list(request: HttpRequest):
    return [mutual_out(u) for u in selectors.mutuals_visible(request.user)]


@router.get("/mutuals/{mutual_id}")
def mutual_detail(request: HttpRequest, mutual_id: int):
    return mutual_out(selectors.get_mutual_visible(request.user, mutual_id))


@router.patch("/mutuals/{mutual_id}")
def mutual_profile(request: HttpRequest, mutual_id: int, payload: ProfileIn):
    mutual = selectors.get_mutual_visible(request.user, mutual_id)
    data = _body(payload)
    if "board" in data and data["board"] is not None:
        data["board"] = [{**row, "since": row["since"].isoformat() if row.get("since") else None}
                         for row in data["board"]]
    services.mutual_profile_save(acting_user=request.user, mutual=mutual, **data)
    return mutual_out(selectors.get_mutual_visible(request.user, mutual_id))


@router.post("/mutuals/{mutual_id}/day-runs")
def mutual_day_run(request: HttpRequest, mutual_id: int, payload: RunIn):
    """Arrears (suspensions, reinstatements) and recognition of advances for a date, as close
    of business runs it; a manager may run it for the mutual's past or present days."""
    mutual = selectors.get_mutual_visible(request.user, mutual_id)
    require_role(request.user, mutual, MANAGER_ROLES)
    on = clean_date(payload.on, "on")
    with service_transaction():
        run = services.arrears_run(mutual=mutual, on=on, acting_user=request.user)
    return {"mutual": run.mutual, "on": run.on, "checked": run.checked,
            "suspended": run.suspended, "reinstated": run.reinstated,
            "recognised": run.recognised}


# --- packages ---------------------------------------------------------------------------------


@router.get("/packages")
def package_list(request: HttpRequest, mutual_id: int | None = None):
    qs = selectors.packages_visible(request.user)
    if mutual_id is not None:
        mutual = selectors.get_mutual_visible(request.user, mutual_id)
        qs = qs.filter(pk__in=selectors.packages_offered(mutual))
    return [package_out(p) for p in qs]


@router.get("/packages/{package_id}")
def package_detail(request: HttpRequest, package_id: int):
    return package_out(selectors.get_package_for_user(request.user, package_id))


@router.post("/packages", response={201: dict})
def package_create(request: HttpRequest, payload: PackageCreateIn):
    mutual = selectors.get_mutual_visible(request.user, payload.mutual_id) \
        if payload.mutual_id else None
    fields, rules = _package_fields(payload)
    p = services.package_create(acting_user=request.user,
                                organisation=mutual.organisation if mutual
                                else _organisation_of(request.user),
                                code=payload.code, mutual=mutual, rules=rules, **fields)
    return Status(201, package_out(selectors.get_package_for_user(request.user, p.pk)))


@router.patch("/packages/{package_id}")
def package_update(request: HttpRequest, package_id: int, payload: PackageIn):
    p = selectors.get_package_for_user(request.user, package_id)
    fields, rules = _package_fields(payload)
    services.package_update(acting_user=request.user, package=p, rules=rules, **fields)
    return package_out(selectors.get_package_for_user(request.user, package_id))


# --- coverages --------------------------------------------------------------------------------


@router.get("/coverages")
def coverage_list(request: HttpRequest, mutual_id: int | None = None, status: str = "",
                  q: str = "", offset: int = 0, limit: int = 50):
    mutual = selectors.get_mutual_visible(request.user, mutual_id) if mutual_id else None
    offset, limit = _limits(offset, limit)
    qs = selectors.coverage_list(request.user, mutual=mutual, status=status[:16], q=q[:64])
    return [coverage_out(c) for c in qs[offset:offset + limit]]


@router.get("/coverages/{coverage_id}")
def coverage_detail(request: HttpRequest, coverage_id: int):
    return coverage_out(selectors.get_coverage_for_user(request.user, coverage_id), detail=True)


@router.post("/coverages", response={201: dict})
def coverage_enrol(request: HttpRequest, payload: EnrolIn):
    mutual = selectors.get_mutual_visible(request.user, payload.mutual_id)
    package = selectors.get_package_for_user(request.user, payload.package_id)
    member = _person(request, payload.member_id, "member_id")
    household = None
    if payload.household_id is not None:
        household = Household.objects.filter(pk=payload.household_id).first()
        if household is None:
            raise NotFound("household_not_found", _("Household not found."))
    dependants = None
    if payload.dependants is not None:
        dependants = [(_person(request, d.person_id, f"dependants.{i}.person_id"), d.relation)
                      for i, d in enumerate(payload.dependants)]
    result = services.coverage_enrol(acting_user=request.user, mutual=mutual, package=package,
                                     member=member, household=household, dependants=dependants,
                                     on=payload.enrolled_on)
    out = coverage_out(result.coverage, detail=True)
    out["skipped"] = [{"person_id": s.person.pk, "name": s.person.full_name, "code": s.code,
                       "message": str(s.message)} for s in result.skipped]
    return Status(201, out)


@router.post("/coverages/{coverage_id}/beneficiaries", response={201: dict})
def beneficiary_add(request: HttpRequest, coverage_id: int, payload: BeneficiaryIn):
    cov = selectors.get_coverage_for_user(request.user, coverage_id)
    person = _person(request, payload.person_id, "person_id")
    b = services.beneficiary_add(acting_user=request.user, coverage=cov, person=person,
                                 relation=payload.relation, on=payload.since)
    return Status(201, beneficiary_out(b))


@router.post("/beneficiaries/{beneficiary_id}/remove")
def beneficiary_remove(request: HttpRequest, beneficiary_id: int, payload: ReasonIn):
    b = selectors.get_beneficiary_for_user(request.user, beneficiary_id)
    b = services.beneficiary_remove(acting_user=request.user, beneficiary=b,
                                    reason=payload.reason, on=payload.on)
    return beneficiary_out(Beneficiary.objects.select_related("person").get(pk=b.pk))


@router.post("/coverages/{coverage_id}/end")
def coverage_end(request: HttpRequest, coverage_id: int, payload: ReasonIn):
    cov = selectors.get_coverage_for_user(request.user, coverage_id)
    services.coverage_end(acting_user=request.user, coverage=cov, reason=payload.reason,
                          on=payload.on)
    return coverage_out(selectors.get_coverage_for_user(request.user, coverage_id), detail=True)


@router.post("/coverages/{coverage_id}/renew")
def coverage_renew(request: HttpRequest, coverage_id: int, payload: RunIn):
    cov = selectors.get_coverage_for_user(request.user, coverage_id)
    result = services.coverage_renew(acting_user=request.user, coverage=cov, on=payload.on)
    out = coverage_out(selectors.get_coverage_for_user(request.user, coverage_id), detail=True)
    out["removed"] = [b.person_id for b in result.removed]
    return out


# --- contributions ----------------------------------------------------------------------------


@router.get("/coverages/{coverage_id}/dues")
def coverage_dues(request: HttpRequest, coverage_id: int, through: date | None = None):
    cov = selectors.get_coverage_for_user(request.user, coverage_id)
    quote = selectors.contribution_quote(cov, through=through)
    return {"dues": [due_out(d) for d in selectors.dues_of(cov)],
            "quote": {"through": quote.through, "card_fee": quote.card_fee,
                      "dues": quote.dues, "total": quote.total}}


@router.get("/coverages/{coverage_id}/contributions")
def coverage_contributions(request: HttpRequest, coverage_id: int):
    cov = selectors.get_coverage_for_user(request.user, coverage_id)
    return [contribution_out(c) for c in selectors.payments_of(cov)]


@router.post("/coverages/{coverage_id}/contributions", response={201: dict})
def contribution_pay(request: HttpRequest, coverage_id: int, payload: PaymentIn):
    require_key(request)
    cov = selectors.get_coverage_for_user(request.user, coverage_id)
    account = _savings_account(payload.savings_account_id)
    status, answer = idempotent_call(
        request, endpoint=f"health:pay:{coverage_id}", body=payload.dict(), render=payment_out,
        run=lambda claim: services.contribution_pay(
            acting_user=request.user, coverage=cov, amount=payload.amount, on=payload.paid_on,
            channel=payload.channel, savings_account=account, reference=payload.reference,
            idempotency=claim))
    return Status(status, answer)


@router.get("/contributions/{contribution_id}")
def contribution_detail(request: HttpRequest, contribution_id: int):
    return contribution_out(selectors.get_contribution_for_user(request.user, contribution_id))


@router.post("/contributions/{contribution_id}/reverse", response={201: dict})
def contribution_reverse(request: HttpRequest, contribution_id: int, payload: ReasonIn):
    require_key(request)
    row = selectors.get_contribution_for_user(request.user, contribution_id)
    status, answer = idempotent_call(
        request, endpoint=f"health:reverse:{contribution_id}", body=payload.dict(),
        render=payment_out,
        run=lambda claim: services.contribution_reverse(
            acting_user=request.user, contribution=row, reason=payload.reason, on=payload.on,
            idempotency=claim))
    return Status(status, answer)


@router.get("/coverages/{coverage_id}/standing-orders")
def order_list(request: HttpRequest, coverage_id: int):
    cov = selectors.get_coverage_for_user(request.user, coverage_id)
    return [order_out(o) for o in selectors.standing_orders_of(cov)]


@router.post("/coverages/{coverage_id}/standing-orders", response={201: dict})
def order_create(request: HttpRequest, coverage_id: int, payload: OrderIn):
    cov = selectors.get_coverage_for_user(request.user, coverage_id)
    account = _savings_account(payload.savings_account_id)
    o = services.standing_order_create(acting_user=request.user, coverage=cov, account=account,
                                       amount=payload.amount, day_of_month=payload.day_of_month)
    return Status(201, order_out(o))


@router.post("/standing-orders/{order_id}/stop")
def order_stop(request: HttpRequest, order_id: int, payload: ReasonIn):
    o = selectors.get_standing_order_for_user(request.user, order_id)
    return order_out(services.standing_order_stop(acting_user=request.user, order=o,
                                                  reason=payload.reason))


# --- group agreements -------------------------------------------------------------------------


@router.get("/agreements")
def agreement_list(request: HttpRequest):
    return [agreement_out(a) for a in selectors.agreements_visible(request.user)]


@router.post("/agreements", response={201: dict})
def agreement_create(request: HttpRequest, payload: AgreementIn):
    mutual = selectors.get_mutual_visible(request.user, payload.mutual_id)
    package = selectors.get_package_for_user(request.user, payload.package_id)
    partner = Organisation.objects.filter(code=payload.partner_code.strip().upper()).first()
    if partner is None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"partner_code": _("Unknown organisation.")}, status_code=422)
    partner_unit = None
    if payload.partner_unit_id is not None:
        partner_unit = Unit.objects.filter(pk=payload.partner_unit_id,
                                           organisation=partner).first()
        if partner_unit is None:
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {"partner_unit_id": _("This unit is not the partner's.")},
                                   status_code=422)
    a = services.group_agreement_create(
        acting_user=request.user, mutual=mutual, package=package, partner=partner,
        partner_unit=partner_unit, name=payload.name, signed_on=payload.signed_on,
        payer=payload.payer, waiting_waived=payload.waiting_waived)
    return Status(201, agreement_out(a))


@router.post("/agreements/{agreement_id}/enrolments")
def agreement_enrol(request: HttpRequest, agreement_id: int, payload: GroupEnrolIn):
    """Enrol a list of the partner's members; one result per person (enrolled or why not)."""
    a = selectors.get_agreement_for_user(request.user, agreement_id)
    results = services.group_enrol(acting_user=request.user, agreement=a,
                                   persons=payload.person_ids, on=payload.enrolled_on)
    return {"enrolled": sum(r.ok for r in results),
            "results": [{"person_id": r.person_id, "ok": r.ok,
                         "coverage": r.coverage.number if r.coverage else None,
                         "card_number": r.card_number or None, "code": r.code or None,
                         "message": str(r.message) if r.message else None}
                        for r in results]}


# --- eligibility ------------------------------------------------------------------------------


@router.get("/eligibility")
def eligibility(request: HttpRequest, card: str | None = None, phone: str | None = None,
                on: date | None = None, group: str | None = None,
                provider_id: int | None = None):
    """Is the holder of this card (or the people behind this phone) covered on `on` (today by
    default), for the service `group` when given? Coverage status only: never the claims or
    payments history."""
    answer = selectors.eligibility_check(request.user, card=(card or "")[:40] or None,
                                         phone=(phone or "")[:40] or None, on=on, group=group,
                                         provider=provider_id)
    return eligibility_out(answer)


# --- providers and conventions ----------------------------------------------------------------


@router.get("/providers")
def provider_list(request: HttpRequest, kind: str = "", q: str = ""):
    qs = selectors.providers_visible(request.user)
    if kind:
        qs = qs.filter(kind=kind[:10])
    if q:
        qs = qs.filter(name__icontains=q.strip()[:100])
    return [provider_out(p) for p in qs[:500]]


@router.get("/providers/{provider_id}")
def provider_detail(request: HttpRequest, provider_id: int):
    p = selectors.get_provider_for_user(request.user, provider_id)
    out = provider_out(p)
    out["conventions"] = [convention_out(c) for c in selectors.conventions_of(p)]
    return out


@router.post("/providers", response={201: dict})
def provider_create(request: HttpRequest, payload: ProviderCreateIn):
    data = _body(payload)
    data.pop("code", None)
    p = services.provider_create(acting_user=request.user, code=payload.code,
                                 organisation=_organisation_of(request.user), **data)
    return Status(201, provider_out(p))


@router.patch("/providers/{provider_id}")
def provider_update(request: HttpRequest, provider_id: int, payload: ProviderIn):
    p = selectors.get_provider_for_user(request.user, provider_id)
    return provider_out(services.provider_update(acting_user=request.user, provider=p,
                                                 **_body(payload)))


@router.post("/providers/{provider_id}/staff", response={201: dict})
def provider_staff_link(request: HttpRequest, provider_id: int, payload: StaffIn):
    p = selectors.get_provider_for_user(request.user, provider_id)
    user = get_user_model().objects.filter(username=payload.username).first()
    if user is None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"username": _("Unknown user.")}, status_code=422)
    services.provider_staff_link(acting_user=request.user, provider=p, user=user)
    return Status(201, {"provider_id": p.pk, "username": user.username})


@router.get("/providers/{provider_id}/tariff")
def provider_tariff(request: HttpRequest, provider_id: int, mutual_id: int | None = None,
                    on: date | None = None):
    """The tariff in force on `on` for a mutual's beneficiaries (its own convention, else the
    union's)."""
    p = selectors.get_provider_for_user(request.user, provider_id)
    mutual = None
    if mutual_id is not None:
        mutual = Unit.objects.filter(pk=mutual_id, kind="mutual",
                                     organisation_id=p.organisation_id).first() \
            if is_id(mutual_id) else None
        if mutual is None:
            raise NotFound("mutual_not_found", _("Mutual not found."))
    tariff = selectors.tariff_for(p, mutual, on or today())
    if tariff is None:
        raise NotFound("no_convention", _("No convention with this provider on this date."))
    out = convention_out(tariff.convention)
    out["items"] = [item_out(i) for i in sorted(tariff.items.values(),
                                                key=lambda i: (i.group, i.code))]
    return out


@router.post("/providers/{provider_id}/conventions", response={201: dict})
def convention_create(request: HttpRequest, provider_id: int, payload: ConventionIn):
    p = selectors.get_provider_for_user(request.user, provider_id)
    mutual = selectors.get_mutual_visible(request.user, payload.mutual_id) \
        if payload.mutual_id else None
    c = services.convention_create(
        acting_user=request.user, provider=p, mutual=mutual, reference=payload.reference,
        valid_from=payload.valid_from, valid_until=payload.valid_until,
        tolerance_pct=payload.tolerance_pct, items=[i.dict() for i in payload.items])
    return Status(201, convention_out(c, items=True))


@router.get("/conventions/{convention_id}")
def convention_detail(request: HttpRequest, convention_id: int):
    return convention_out(selectors.get_convention_for_user(request.user, convention_id),
                          items=True)


@router.patch("/conventions/{convention_id}")
def convention_update(request: HttpRequest, convention_id: int, payload: ConventionPatchIn):
    c = selectors.get_convention_for_user(request.user, convention_id)
    services.convention_update(acting_user=request.user, convention=c, **_body(payload))
    return convention_out(selectors.get_convention_for_user(request.user, convention_id),
                          items=True)


@router.put("/conventions/{convention_id}/items", response={201: dict})
def tariff_item_save(request: HttpRequest, convention_id: int, payload: ItemIn):
    c = selectors.get_convention_for_user(request.user, convention_id)
    item = services.tariff_item_save(acting_user=request.user, convention=c,
                                     item=payload.dict())
    return Status(201, item_out(item))
