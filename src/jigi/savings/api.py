"""Savings API. Every money-moving call requires an Idempotency-Key header."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from jigi.core.errors import ApplicationError
from jigi.core.idempotency import run_idempotent
from jigi.orgs.selectors import get_unit_for_user
from jigi.people.selectors import get_person_for_user
from jigi.savings import selectors, services
from jigi.savings.models import SavingsProduct, ShareProduct

router = Router(tags=["savings"])


class AccountOut(Schema):
    id: int
    number: str
    product: str
    kind: str
    caisse: str
    holder: str
    person_id: int | None
    status: str
    balance: int
    opened_on: date
    last_activity_on: date | None


class MoneyIn(Schema):
    # Floats reach the service so that it refuses them with a field message.
    amount: int | float | str = Field(description="whole francs CFA")
    value_date: date | None = None
    description: str = Field(default="", max_length=200)
    signatory_ids: list[int] = Field(default_factory=list, max_length=20)


class TransferIn(MoneyIn):
    target_account_id: int


class OperationOut(Schema):
    transaction_id: int
    account: str
    kind: str
    status: str
    amount: int
    balance_after: int | None
    receipt: str | None
    receipt_id: int | None


class OpenIn(Schema):
    product_code: str = Field(max_length=16)
    caisse_id: int
    person_id: int | None = None
    group_name: str = Field(default="", max_length=200)
    signatory_ids: list[int] = Field(default_factory=list, max_length=30)
    signatures_required: int = Field(default=1, ge=1, le=30)


class SharesIn(Schema):
    person_id: int
    caisse_id: int
    shares: int = Field(ge=1, le=10_000)


class SharesOut(Schema):
    person_id: int
    shares: int
    receipt: str
    amount: int


class StatementRowOut(Schema):
    value_date: date
    kind: str
    label: str
    receipt: str
    credit: int
    debit: int
    balance: int


class StatementOut(Schema):
    account: str
    opening: int
    closing: int
    rows: list[StatementRowOut]


class ReverseIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


def account_out(a) -> dict:
    return {"id": a.pk, "number": a.number, "product": a.product.code, "kind": a.product.kind,
            "caisse": a.caisse.code, "holder": a.holder_name, "person_id": a.person_id,
            "status": a.status, "balance": a.balance, "opened_on": a.opened_on,
            "last_activity_on": a.last_activity_on}


def operation_out(op) -> dict:
    tx = op.transaction
    return {"transaction_id": tx.pk, "account": tx.account.number, "kind": tx.kind,
            "status": tx.status, "amount": tx.amount, "balance_after": tx.balance_after,
            "receipt": str(op.receipt) if op.receipt else None,
            "receipt_id": op.receipt.pk if op.receipt else None}


@router.get("/accounts", response=list[AccountOut])
def accounts(request: HttpRequest, person_id: int | None = None, q: str = "",
             offset: int = 0, limit: int = 50):
    qs = selectors.accounts_for_user(request.user)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if q:
        qs = qs.filter(number__startswith=q.strip().upper())
    offset, limit = max(0, offset), max(1, min(limit, 200))
    return [account_out(a) for a in qs.order_by("number")[offset:offset + limit]]


@router.get("/accounts/{account_id}", response=AccountOut)
def account_detail(request: HttpRequest, account_id: int):
    return account_out(selectors.get_account_for_user(request.user, account_id))


@router.post("/accounts", response={201: AccountOut})
def account_open(request: HttpRequest, payload: OpenIn):
    caisse = get_unit_for_user(request.user, payload.caisse_id, write=True)
    product = SavingsProduct.objects.filter(organisation=caisse.organisation,
                                            code=payload.product_code.upper()).first()
    if product is None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"product_code": _("Unknown product.")}, status_code=422)
    person = get_person_for_user(request.user, payload.person_id) if payload.person_id else None
    signatories = [get_person_for_user(request.user, pk) for pk in payload.signatory_ids]
    account = services.savings_account_open(
        acting_user=request.user, product=product, caisse=caisse, person=person,
        group_name=payload.group_name, signatories=signatories,
        signatures_required=payload.signatures_required)
    return Status(201, account_out(account))


def _money(request, account_id: int, payload: MoneyIn, endpoint: str, run):
    account = selectors.get_account_for_user(request.user, account_id)

    def action():
        return 201, operation_out(run(account))

    return Status(*run_idempotent(request, endpoint=f"{endpoint}:{account.pk}",
                                  body=payload.dict(), action=action))


@router.post("/accounts/{account_id}/deposits", response={201: OperationOut})
def deposit(request: HttpRequest, account_id: int, payload: MoneyIn):
    return _money(request, account_id, payload, "savings.deposit", lambda acc: (
        services.savings_deposit(acting_user=request.user, account=acc, amount=payload.amount,
                                 on=payload.value_date, description=payload.description)))


@router.post("/accounts/{account_id}/withdrawals", response={201: OperationOut})
def withdrawal(request: HttpRequest, account_id: int, payload: MoneyIn):
    return _money(request, account_id, payload, "savings.withdrawal", lambda acc: (
        services.savings_withdraw(acting_user=request.user, account=acc, amount=payload.amount,
                                  on=payload.value_date, description=payload.description,
                                  signatory_ids=payload.signatory_ids)))


@router.post("/accounts/{account_id}/transfers", response={201: OperationOut})
def transfer(request: HttpRequest, account_id: int, payload: TransferIn):
    target = selectors.get_account_for_user(request.user, payload.target_account_id)
    return _money(request, account_id, payload, "savings.transfer", lambda acc: (
        services.savings_transfer(acting_user=request.user, source=acc, target=target,
                                  amount=payload.amount, on=payload.value_date,
                                  description=payload.description,
                                  signatory_ids=payload.signatory_ids)))


@router.post("/transactions/{tx_id}/approve", response={201: OperationOut})
def approve(request: HttpRequest, tx_id: int):
    tx = selectors.pending_for_user(request.user).filter(pk=tx_id).first()
    if tx is None:
        raise ApplicationError("not_found", _("Operation not found."), status_code=404)

    def action():
        return 201, operation_out(services.savings_withdrawal_approve(acting_user=request.user,
                                                                      tx=tx))

    return Status(*run_idempotent(request, endpoint=f"savings.approve:{tx.pk}", body={},
                                  action=action))


@router.post("/transactions/{tx_id}/reverse", response={201: OperationOut})
def reverse(request: HttpRequest, tx_id: int, payload: ReverseIn):
    from jigi.savings.models import SavingsTransaction

    tx = SavingsTransaction.objects.filter(
        pk=tx_id, account__in=selectors.accounts_for_user(request.user)).first()
    if tx is None:
        raise ApplicationError("not_found", _("Operation not found."), status_code=404)

    def action():
        rev = services.savings_transaction_reverse(acting_user=request.user, tx=tx,
                                                   reason=payload.reason)
        return 201, operation_out(services.Operation(rev, None))

    return Status(*run_idempotent(request, endpoint=f"savings.reverse:{tx.pk}",
                                  body=payload.dict(), action=action))


@router.post("/shares", response={201: SharesOut})
def shares(request: HttpRequest, payload: SharesIn):
    caisse = get_unit_for_user(request.user, payload.caisse_id, write=True)
    person = get_person_for_user(request.user, payload.person_id)
    product = ShareProduct.objects.filter(organisation=caisse.organisation).first()
    if product is None:
        raise ApplicationError("invalid", _("No share product in this network."),
                               status_code=409)

    def action():
        acc, rec = services.share_purchase(acting_user=request.user, product=product,
                                           person=person, caisse=caisse, shares=payload.shares)
        return 201, {"person_id": person.pk, "shares": acc.shares, "receipt": str(rec),
                     "amount": rec.amount}

    return Status(*run_idempotent(request, endpoint="savings.shares", body=payload.dict(),
                                  action=action))


@router.get("/accounts/{account_id}/statement", response=StatementOut)
def statement(request: HttpRequest, account_id: int, date_from: date | None = None,
              date_to: date | None = None):
    acc = selectors.get_account_for_user(request.user, account_id)
    st = selectors.account_statement(account=acc, date_from=date_from, date_to=date_to)
    return {"account": acc.number, "opening": st.opening, "closing": st.closing,
            "rows": [vars(r) for r in st.rows]}


@router.get("/accounts/{account_id}/statement.csv", response={200: None})
def statement_csv(request: HttpRequest, account_id: int, date_from: date | None = None,
                  date_to: date | None = None):
    acc = selectors.get_account_for_user(request.user, account_id)
    return statement_csv_response(acc, date_from, date_to)


def statement_csv_response(acc, date_from, date_to) -> HttpResponse:
    st = selectors.account_statement(account=acc, date_from=date_from, date_to=date_to)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["date", "operation", "recu", "credit", "debit", "solde"])
    w.writerow([st.date_from or "", "solde initial", "", "", "", st.opening])
    for r in st.rows:
        w.writerow([r.value_date.isoformat(), r.label, r.receipt, r.credit, r.debit, r.balance])
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="releve-{acc.number}.csv"'
    return response
