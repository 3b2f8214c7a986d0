"""Credit API (/api/v1/credit). Money-moving calls (disbursement, repayment, recovery, group
collection sheet) require an Idempotency-Key header: the same key with the same body returns
the first answer, another body a 409, and nothing is posted twice."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from jigi.core.errors import ApplicationError
from jigi.core.lookup import is_id
from jigi.credit import selectors, services
from jigi.credit.models import Loan, LoanProduct, LoanTransaction
from jigi.credit.services._common import product_for
from jigi.orgs.selectors import get_unit_for_user
from jigi.people.selectors import get_person_for_user
from jigi.savings.api import Amount
from jigi.savings.idempotency import idempotent_call, require_key
from jigi.savings.selectors import get_account_for_user

router = Router(tags=["credit"])


# --- schemas ----------------------------------------------------------------------------------


class ProductIn(Schema):
    values: dict[str, Any] = Field(description="loan product settings by field name")


class OfferIn(Schema):
    product_code: str = Field(max_length=16)
    caisse_id: int
    principal: Amount
    repayments: int = Field(ge=1, le=400)
    disbursed_on: date | None = None
    first_repayment_on: date | None = None
    seasonal: dict[str, Any] | None = None


class WorksheetIn(Schema):
    incomes: list[dict[str, Any]] = Field(max_length=20)
    household_expenses: list[int] | None = None
    other_debts: list[int] | None = None


class ProposalIn(OfferIn, WorksheetIn):
    crop: dict[str, Any] | None = None


class GuarantorIn(Schema):
    person_id: int
    savings_account_id: int
    amount: Amount


class ApplyIn(OfferIn):
    person_id: int
    purpose: str = Field(default="", max_length=200)
    activity: str = Field(default="", max_length=32)
    group_id: int | None = None
    guarantors: list[GuarantorIn] = Field(default_factory=list, max_length=5)


class AppraisalIn(WorksheetIn):
    override_reason: str = Field(default="", max_length=300)
    poverty_answers: dict[str, int] | None = None


class NoteIn(Schema):
    note: str = Field(default="", max_length=300)


class DisburseIn(Schema):
    value_date: date | None = None
    channel: str = Field(default="cash", description="cash | savings")
    savings_account_id: int | None = None


class RepayIn(DisburseIn):
    amount: Amount
    mode: str = Field(default="normal", description="normal | prepay | payoff")


class RecoverIn(Schema):
    amount: Amount
    value_date: date | None = None


class CoverIn(Schema):
    amount: Amount
    reason: str = Field(max_length=200)


class RescheduleIn(Schema):
    reason: str = Field(description="crop_failure | late_cotton_payment | illness | flood | "
                                    "other")
    note: str = Field(default="", max_length=300)
    repayments: int | None = Field(default=None, ge=1, le=400)
    first_repayment_on: date | None = None
    seasonal: dict[str, Any] | None = None


class ReasonIn(Schema):
    reason: str = Field(max_length=200)


class GroupIn(Schema):
    caisse_id: int
    name: str = Field(max_length=200)
    kind: str = "women"
    member_ids: list[int] = Field(max_length=60)
    leader_id: int | None = None
    meeting_every_days: int = Field(default=14, ge=1, le=92)
    first_meeting_on: date | None = None
    meeting_place: str = Field(default="", max_length=200)


class MemberIn(Schema):
    person_id: int


class SheetLineIn(Schema):
    person_id: int
    repayment: Amount | None = None
    savings: Amount | None = None


class SheetIn(Schema):
    meeting_on: date
    lines: list[SheetLineIn] = Field(max_length=200)


# --- renderers --------------------------------------------------------------------------------


def _installment(i) -> dict[str, Any]:
    return {"number": i.number, "due_on": i.due_on, "principal": int(i.principal),
            "interest": int(i.interest), "fees": int(i.fees),
            "penalties": int(getattr(i, "penalties", 0)), "total": int(i.total),
            "paid": int(getattr(i, "paid", 0)),
            "outstanding": int(getattr(i, "outstanding", i.total)),
            "paid_on": getattr(i, "paid_on", None)}


def offer_out(offer: services.Offer) -> dict[str, Any]:
    s = offer.schedule
    return {"pattern": offer.pattern, "principal": int(s.terms.principal),
            "upfront_fees": int(s.upfront_fees), "compulsory_savings": int(s.compulsory_savings),
            "net_disbursed": int(s.net_disbursed - s.compulsory_savings),
            "installments": [_installment(i) for i in s.installments],
            "totals": {"principal": int(s.total_principal), "interest": int(s.total_interest),
                       "fees": int(s.total_fees), "total": int(s.total)},
            "teg": {"period_rate": str(offer.teg.period_rate_percent),
                    "annual_rate": str(offer.teg.annual_rate_percent),
                    "base": offer.teg.base.value},
            "usury_cap": f"{offer.cap:.2f}"}


def loan_out(loan: Loan, *, detail: bool = False) -> dict[str, Any]:
    out = {"id": loan.pk, "number": loan.number, "product": loan.product.code,
           "caisse": loan.caisse.code, "person_id": loan.person_id,
           "borrower": loan.person.full_name, "group_id": loan.group_id,
           "status": loan.status, "principal": loan.principal, "pattern": loan.pattern,
           "cycle": loan.cycle, "teg_annual": str(loan.teg_annual),
           "teg_period": str(loan.teg_period), "usury_cap": str(loan.usury_cap),
           "applied_on": loan.applied_on, "approved_on": loan.approved_on,
           "disbursed_on": loan.disbursed_on, "closed_on": loan.closed_on,
           "principal_outstanding": loan.principal_outstanding,
           "principal_paid": loan.principal_paid, "interest_paid": loan.interest_paid,
           "penalties_paid": loan.penalties_paid, "restructured": loan.restructured,
           "schedule_version": loan.schedule_version}
    if detail:
        today = timezone.localdate()
        rows = selectors.schedule_rows(loan)
        late = selectors.loan_arrears(loan, today)
        out["installments"] = [_installment(i) for i in rows]
        out["arrears"] = {"overdue": late.overdue, "days": late.days,
                          "oldest_due_on": late.oldest_due_on}
        out["payoff"] = services.payoff_quote(loan, today) if loan.status == "active" else None
        out["transactions"] = [tx_out(t) for t in selectors.transactions_of(loan)]
        appraisal = getattr(loan, "appraisal", None) if hasattr(loan, "appraisal") else None
        out["appraisal"] = None if appraisal is None else {
            "max_ratio": None if appraisal.max_ratio is None else str(appraisal.max_ratio),
            "limit": str(appraisal.limit), "within_limit": appraisal.within_limit,
            "override_reason": appraisal.override_reason, "ratios": appraisal.ratios,
            "poverty_score": appraisal.poverty_score}
    return out


def tx_out(t: LoanTransaction) -> dict[str, Any]:
    return {"id": t.pk, "kind": t.kind, "amount": t.amount, "principal": t.principal,
            "interest": t.interest, "fees": t.fees, "penalties": t.penalties,
            "excess_to_savings": t.excess_to_savings, "value_date": t.value_date,
            "channel": t.channel, "receipt": t.receipt_label or None,
            "receipt_id": t.receipt_id, "reversed": t.reversed, "note": t.note}


def operation_out(op: services.LoanOperation) -> dict[str, Any]:
    return {"loan": loan_out(op.loan), "transaction": tx_out(op.transaction),
            "receipt": str(op.receipt) if op.receipt else None,
            "receipt_id": op.receipt.pk if op.receipt else None}


def product_out(p: LoanProduct) -> dict[str, Any]:
    from jigi.credit.services.products import EDITABLE

    out = {"id": p.pk}
    for name in EDITABLE:
        value = getattr(p, name)
        out[name] = str(value) if hasattr(value, "as_tuple") else value
    return out


def group_out(g) -> dict[str, Any]:
    return {"id": g.pk, "name": g.name, "kind": g.kind, "caisse": g.caisse.code,
            "leader_id": g.leader_id, "meeting_every_days": g.meeting_every_days,
            "first_meeting_on": g.first_meeting_on, "meeting_place": g.meeting_place,
            "members": [{"person_id": m.person_id, "name": m.person.full_name, "role": m.role}
                        for m in g.members.filter(left_on__isnull=True).select_related(
                            "person")]}


def _caisse_product(request, caisse_id: int, code: str, write: bool = True):
    caisse = get_unit_for_user(request.user, caisse_id, write=write)
    return caisse, product_for(caisse.organisation_id, code)


# --- products and offers ----------------------------------------------------------------------


@router.get("/products")
def products(request: HttpRequest):
    return [product_out(p) for p in selectors.products_for_user(request.user)]


@router.post("/products", response={201: dict})
def product_create(request: HttpRequest, payload: ProductIn, organisation_id: int):
    from jigi.orgs.models import Organisation

    org = Organisation.objects.filter(pk=organisation_id).first()
    if org is None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"organisation_id": _("Unknown organisation.")}, status_code=422)
    p = services.product_save(acting_user=request.user, organisation=org,
                              values=payload.values)
    return Status(201, product_out(p))


@router.patch("/products/{product_id}")
def product_update(request: HttpRequest, product_id: int, payload: ProductIn):
    p = selectors.get_product_for_user(request.user, product_id)
    p = services.product_save(acting_user=request.user, organisation=p.organisation,
                              values=payload.values, product=p)
    return product_out(p)


@router.post("/offers")
def offer(request: HttpRequest, payload: OfferIn):
    """The schedule and TEG a loan would have (nothing is written)."""
    _caisse, product = _caisse_product(request, payload.caisse_id, payload.product_code, False)
    result = services.offer_for(
        product, principal=payload.principal, repayments=payload.repayments,
        disbursed_on=payload.disbursed_on or timezone.localdate(),
        first_repayment_on=payload.first_repayment_on, seasonal=payload.seasonal)
    return offer_out(result)


@router.post("/proposals")
def proposals(request: HttpRequest, payload: ProposalIn):
    """The product's schedules ranked by how they fit the member's income (best first)."""
    _caisse, product = _caisse_product(request, payload.caisse_id, payload.product_code, False)
    found = services.propose_schedules(
        product, principal=payload.principal, repayments=payload.repayments,
        disbursed_on=payload.disbursed_on or timezone.localdate(), incomes=payload.incomes,
        household_expenses=payload.household_expenses, other_debts=payload.other_debts,
        crop=payload.crop)
    return [{"pattern": p["pattern"], "seasonal": p["seasonal"], "repayments": p["repayments"],
             "max_ratio": None if p["max_ratio"] is None else str(p["max_ratio"]),
             "within_limit": p["within_limit"], "ratios": p["ratios"],
             "offer": offer_out(p["offer"])} for p in found]


# --- loans ------------------------------------------------------------------------------------


@router.get("/loans")
def loans(request: HttpRequest, status: str = "", person_id: int | None = None, q: str = "",
          offset: int = 0, limit: int = 50):
    qs = selectors.loans_for_user(request.user)
    if status:
        qs = qs.filter(status=status)
    if person_id is not None:
        # Ids beyond 64 bits cannot exist (and overflow SQLite's integers).
        qs = qs.filter(person_id=person_id) if is_id(person_id) else qs.none()
    if q:
        qs = qs.filter(number__startswith=q.strip().upper())
    offset, limit = min(max(0, offset), 10**9), max(1, min(limit, 200))
    return [loan_out(x) for x in qs.order_by("-pk")[offset:offset + limit]]


@router.get("/loans/{loan_id}")
def loan_detail(request: HttpRequest, loan_id: int):
    return loan_out(selectors.get_loan_for_user(request.user, loan_id), detail=True)


@router.post("/loans", response={201: dict})
def loan_apply(request: HttpRequest, payload: ApplyIn):
    caisse, product = _caisse_product(request, payload.caisse_id, payload.product_code)
    person = get_person_for_user(request.user, payload.person_id)
    group = selectors.get_group_for_user(request.user, payload.group_id) \
        if payload.group_id else None
    guarantors = [(get_person_for_user(request.user, g.person_id),
                   get_account_for_user(request.user, g.savings_account_id), g.amount)
                  for g in payload.guarantors]
    loan = services.loan_apply(
        acting_user=request.user, caisse=caisse, person=person, product=product,
        principal=payload.principal, repayments=payload.repayments,
        expected_disbursement_on=payload.disbursed_on,
        first_repayment_on=payload.first_repayment_on, seasonal=payload.seasonal,
        purpose=payload.purpose, activity=payload.activity, group=group, guarantors=guarantors)
    return Status(201, loan_out(loan, detail=True))


@router.post("/loans/{loan_id}/appraisal")
def loan_appraisal(request: HttpRequest, loan_id: int, payload: AppraisalIn):
    loan = selectors.get_loan_for_user(request.user, loan_id)
    services.loan_appraise(acting_user=request.user, loan=loan, incomes=payload.incomes,
                           household_expenses=payload.household_expenses,
                           other_debts=payload.other_debts,
                           override_reason=payload.override_reason,
                           poverty_answers=payload.poverty_answers)
    return loan_out(selectors.get_loan_for_user(request.user, loan_id), detail=True)


@router.post("/loans/{loan_id}/approve")
def loan_approve(request: HttpRequest, loan_id: int, payload: NoteIn):
    loan = selectors.get_loan_for_user(request.user, loan_id)
    return loan_out(services.loan_approve(acting_user=request.user, loan=loan,
                                          note=payload.note))


@router.post("/loans/{loan_id}/reject")
def loan_reject(request: HttpRequest, loan_id: int, payload: NoteIn):
    loan = selectors.get_loan_for_user(request.user, loan_id)
    return loan_out(services.loan_reject(acting_user=request.user, loan=loan,
                                         note=payload.note))


def _savings(request, account_id: int | None):
    return get_account_for_user(request.user, account_id) if account_id else None


@router.post("/loans/{loan_id}/disburse", response={201: dict})
def loan_disburse(request: HttpRequest, loan_id: int, payload: DisburseIn):
    require_key(request)
    loan = selectors.get_loan_for_user(request.user, loan_id)
    account = _savings(request, payload.savings_account_id)
    status, answer = idempotent_call(
        request, endpoint=f"credit:disburse:{loan_id}", body=payload.dict(),
        render=operation_out,
        run=lambda claim: services.loan_disburse(
            acting_user=request.user, loan=loan, on=payload.value_date,
            channel=payload.channel, savings_account=account, idempotency=claim))
    return Status(status, answer)


@router.post("/loans/{loan_id}/repayments", response={201: dict})
def loan_repayment(request: HttpRequest, loan_id: int, payload: RepayIn):
    require_key(request)
    loan = selectors.get_loan_for_user(request.user, loan_id)
    account = _savings(request, payload.savings_account_id)
    status, answer = idempotent_call(
        request, endpoint=f"credit:repay:{loan_id}", body=payload.dict(), render=operation_out,
        run=lambda claim: services.loan_repay(
            acting_user=request.user, loan=loan, amount=payload.amount, on=payload.value_date,
            channel=payload.channel, savings_account=account, mode=payload.mode,
            idempotency=claim))
    return Status(status, answer)


@router.get("/loans/{loan_id}/payoff")
def loan_payoff(request: HttpRequest, loan_id: int, on: date | None = None):
    loan = selectors.get_loan_for_user(request.user, loan_id)
    if loan.status != "active":
        raise ApplicationError("not_active", _("This loan is not being repaid."),
                               status_code=409)
    return services.payoff_quote(loan, on or timezone.localdate())


@router.post("/loans/{loan_id}/recoveries", response={201: dict})
def loan_recovery(request: HttpRequest, loan_id: int, payload: RecoverIn):
    require_key(request)
    loan = selectors.get_loan_for_user(request.user, loan_id)
    status, answer = idempotent_call(
        request, endpoint=f"credit:recover:{loan_id}", body=payload.dict(),
        render=operation_out,
        run=lambda claim: services.loan_recover(acting_user=request.user, loan=loan,
                                                amount=payload.amount,
                                                on=payload.value_date, idempotency=claim))
    return Status(status, answer)


@router.post("/loans/{loan_id}/guarantee-cover", response={201: dict})
def loan_guarantee_cover(request: HttpRequest, loan_id: int, payload: CoverIn):
    loan = selectors.get_loan_for_user(request.user, loan_id)
    op = services.loan_cover_from_guarantee(acting_user=request.user, loan=loan,
                                            amount=payload.amount, reason=payload.reason)
    return Status(201, operation_out(op))


@router.post("/loans/{loan_id}/reschedule")
def loan_reschedule(request: HttpRequest, loan_id: int, payload: RescheduleIn):
    loan = selectors.get_loan_for_user(request.user, loan_id)
    services.loan_reschedule(acting_user=request.user, loan=loan, reason=payload.reason,
                             note=payload.note, repayments=payload.repayments,
                             first_repayment_on=payload.first_repayment_on,
                             seasonal=payload.seasonal)
    return loan_out(selectors.get_loan_for_user(request.user, loan_id), detail=True)


@router.post("/loans/{loan_id}/write-off")
def loan_write_off(request: HttpRequest, loan_id: int, payload: ReasonIn):
    loan = selectors.get_loan_for_user(request.user, loan_id)
    return loan_out(services.loan_write_off(acting_user=request.user, loan=loan,
                                            reason=payload.reason))


@router.post("/transactions/{tx_id}/reverse")
def transaction_reverse(request: HttpRequest, tx_id: int, payload: ReasonIn):
    tx = LoanTransaction.objects.filter(pk=tx_id, loan__in=selectors.loans_for_user(
        request.user)).select_related("loan__caisse").first() if is_id(tx_id) else None
    if tx is None:
        raise ApplicationError("not_found", _("Operation not found."), status_code=404)
    return tx_out(services.loan_transaction_reverse(acting_user=request.user, tx=tx,
                                                    reason=payload.reason))


@router.get("/queue")
def queue(request: HttpRequest):
    return [loan_out(x) for x in selectors.approval_queue(request.user)[:200]]


@router.get("/portfolio")
def portfolio(request: HttpRequest, on: date | None = None, days: int = 30):
    return selectors.portfolio_at_risk(request.user, on or timezone.localdate(),
                                       max(0, min(days, 3650)))


# --- groups -----------------------------------------------------------------------------------


@router.get("/groups")
def groups(request: HttpRequest):
    return [group_out(g) for g in selectors.groups_for_user(request.user)[:200]]


@router.post("/groups", response={201: dict})
def group_create(request: HttpRequest, payload: GroupIn):
    caisse = get_unit_for_user(request.user, payload.caisse_id, write=True)
    members = [get_person_for_user(request.user, pk) for pk in payload.member_ids]
    leader = get_person_for_user(request.user, payload.leader_id) if payload.leader_id else None
    group = services.group_create(
        acting_user=request.user, caisse=caisse, name=payload.name, members=members,
        leader=leader, kind=payload.kind, meeting_every_days=payload.meeting_every_days,
        first_meeting_on=payload.first_meeting_on, meeting_place=payload.meeting_place)
    return Status(201, group_out(group))


@router.get("/groups/{group_id}")
def group_detail(request: HttpRequest, group_id: int):
    return group_out(selectors.get_group_for_user(request.user, group_id))


@router.post("/groups/{group_id}/members", response={201: dict})
def group_member_add(request: HttpRequest, group_id: int, payload: MemberIn):
    group = selectors.get_group_for_user(request.user, group_id)
    services.group_member_add(acting_user=request.user, group=group,
                              person=get_person_for_user(request.user, payload.person_id))
    return Status(201, group_out(group))


@router.post("/groups/{group_id}/disburse", response={201: list})
def group_disburse(request: HttpRequest, group_id: int, payload: DisburseIn):
    group = selectors.get_group_for_user(request.user, group_id)
    ops = services.group_disburse(acting_user=request.user, group=group,
                                  on=payload.value_date, channel=payload.channel)
    return Status(201, [operation_out(op) for op in ops])


@router.get("/groups/{group_id}/collection-sheet")
def sheet_get(request: HttpRequest, group_id: int, on: date | None = None):
    group = selectors.get_group_for_user(request.user, group_id)
    meeting = on or services.next_meeting(group, timezone.localdate())
    return {"group_id": group.pk, "meeting_on": meeting,
            "lines": services.collection_sheet(group, meeting)}


@router.post("/groups/{group_id}/collection-sheet", response={201: dict})
def sheet_submit(request: HttpRequest, group_id: int, payload: SheetIn):
    key = require_key(request)
    group = selectors.get_group_for_user(request.user, group_id)
    sheet = services.collection_sheet_submit(
        acting_user=request.user, group=group, meeting_on=payload.meeting_on,
        lines=[line.dict() for line in payload.lines], idempotency_key=key)
    return Status(201, {"id": sheet.pk, "meeting_on": sheet.meeting_on, "lines": sheet.lines,
                        "total_repaid": sheet.total_repaid, "total_saved": sheet.total_saved})
