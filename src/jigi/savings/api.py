"""Savings API (/api/v1/savings). Every money-moving call requires an Idempotency-Key header:
the same key with the same body returns the first answer (same receipt), another body a 409,
and nothing is ever posted twice."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status
from pydantic import PlainValidator, StrictInt

from jigi.core.errors import ApplicationError
from jigi.core.lookup import is_id
from jigi.orgs.selectors import get_unit_for_user
from jigi.people.selectors import get_person_for_user
from jigi.savings import selectors, services
from jigi.savings.idempotency import idempotent_call, require_key
from jigi.savings.models import DrawerSession, SavingsProduct

router = Router(tags=["savings"])



def _amount(value: Any) -> Any:
    # Numbers and strings reach the service on purpose: it refuses fractions, floats, zero and
    # absurd sizes with one field message ("whole francs only"), where a schema-level int would
    # quietly turn 100.0 or true into an amount. Anything else is not an amount at all.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(_("Enter an amount in francs CFA."))
    return value


Amount = Annotated[int | float | str, PlainValidator(_amount, json_schema_input_type=int | str)]


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
    maturity_on: date | None


class MoneyIn(Schema):
    amount: Amount = Field(description="whole francs CFA, e.g. 15000 or \"15 000\"")
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
    fee: int
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
    loan_reference: str = Field(default="", max_length=64)
    maturity_on: date | None = None
    renew_at_maturity: bool = False


class SharesIn(Schema):
    person_id: int
    caisse_id: int
    shares: StrictInt = Field(ge=1, le=100_000)


class SharesOut(Schema):
    person_id: int
    shares_bought: int
    shares_held: int
    amount: int
    entry_fee: int
    receipt: str
    receipt_id: int


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
    holder: str
    date_from: date | None
    date_to: date | None
    opening: int
    closing: int
    rows: list[StatementRowOut]


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class DrawerOpenIn(Schema):
    caisse_id: int
    amount: Amount


class DrawerCloseIn(Schema):
    count: dict[str, Any] = Field(description='pieces per denomination, e.g. {"10000": 12}')


class DrawerOut(Schema):
    id: int
    caisse: str
    teller: str
    business_date: date
    status: str
    opening_amount: int
    cash_in: int
    cash_out: int
    expected: int
    counted_amount: int | None
    difference: int | None
    flagged: bool


class InterestIn(Schema):
    period_end: date


class InterestOut(Schema):
    created: int
    total: int
    postings: list[dict[str, Any]]


def account_out(a) -> dict:
    return {"id": a.pk, "number": a.number, "product": a.product.code, "kind": a.product.kind,
            "caisse": a.caisse.code, "holder": a.holder_name, "person_id": a.person_id,
            "status": a.status, "balance": a.balance, "opened_on": a.opened_on,
            "last_activity_on": a.last_activity_on, "maturity_on": a.maturity_on}


def operation_out(op: services.Operation) -> dict:
    tx = op.transaction
    return {"transaction_id": tx.pk, "account": tx.account.number, "kind": tx.kind,
            "status": tx.status, "amount": tx.amount, "fee": op.fee.amount if op.fee else 0,
            "balance_after": tx.balance_after,
            "receipt": str(op.receipt) if op.receipt else None,
            "receipt_id": op.receipt.pk if op.receipt else None}


def drawer_out(d: DrawerSession) -> dict:
    return {"id": d.pk, "caisse": d.caisse.code, "teller": d.teller.username,
            "business_date": d.business_date, "status": d.status,
            "opening_amount": d.opening_amount, "cash_in": d.cash_in, "cash_out": d.cash_out,
            "expected": d.expected, "counted_amount": d.counted_amount,
            "difference": d.difference, "flagged": d.flagged}


@router.get("/accounts", response=list[AccountOut])
def accounts(request: HttpRequest, person_id: int | None = None, q: str = "",
             offset: int = 0, limit: int = 50):
    """Accounts of the caisses in the caller's scope (a teller: her caisse only)."""
    qs = selectors.accounts_for_user(request.user)
    if person_id is not None:
        # Ids beyond 64 bits cannot exist (and overflow SQLite's integers).
        qs = qs.filter(person_id=person_id) if is_id(person_id) else qs.none()
    if q:
        qs = qs.filter(number__startswith=q.strip().upper())
    offset, limit = min(max(0, offset), 10**9), max(1, min(limit, 200))
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
        signatures_required=payload.signatures_required, maturity_on=payload.maturity_on,
        renew_at_maturity=payload.renew_at_maturity, loan_reference=payload.loan_reference)
    return Status(201, account_out(account))


def _check_value_date(request, account_id: int, value_date: date | None) -> None:
    """A value date the caller gives is today or earlier (the cash moves now: a later date
    would print a receipt of a future year and keep the account awake for years), and not
    before the account was opened (0001-01-01 is a typing accident). The account is read only
    when a date is given; a deposit without one (the counter's traffic) reads nothing more."""
    if value_date is None:
        return
    message = None
    if value_date > timezone.localdate():
        message = _("The value date cannot be in the future.")
    elif value_date < selectors.get_account_for_user(request.user, account_id).opened_on:
        message = _("The value date is before the account was opened.")
    if message is not None:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"value_date": message}, status_code=422)


def _money(request, endpoint: str, body: MoneyIn, run, *, lookup_first: bool = True) -> Status:
    status, answer = idempotent_call(request, endpoint=endpoint, body=body.dict(),
                                     render=operation_out, run=run, lookup_first=lookup_first)
    return Status(status, answer)


# Deposits and withdrawals are the counter's daily traffic: the service gets the account's id
# and checks the caller's scope on the row it locks (404 outside it, 403 for a role that may not
# work the counter), and the key's claim looks the key up itself (the checks before the
# service's transaction read only the request and the caller's roles). Same answers, three
# statements less per call.
@router.post("/accounts/{account_id}/deposits", response={201: OperationOut})
def deposit(request: HttpRequest, account_id: int, payload: MoneyIn):
    """Cash deposit into the caller's open drawer. Requires Idempotency-Key."""
    require_key(request)
    _check_value_date(request, account_id, payload.value_date)
    return _money(request, f"savings.deposit:{account_id}", payload, lambda claim: (
        services.savings_deposit(acting_user=request.user, account=account_id,
                                 amount=payload.amount, on=payload.value_date,
                                 description=payload.description, idempotency=claim)),
        lookup_first=False)


@router.post("/accounts/{account_id}/withdrawals", response={201: OperationOut})
def withdrawal(request: HttpRequest, account_id: int, payload: MoneyIn):
    """Cash withdrawal (pending when above the approval threshold). Requires Idempotency-Key."""
    require_key(request)
    _check_value_date(request, account_id, payload.value_date)
    return _money(request, f"savings.withdrawal:{account_id}", payload, lambda claim: (
        services.savings_withdraw(acting_user=request.user, account=account_id,
                                  amount=payload.amount, on=payload.value_date,
                                  description=payload.description,
                                  signatory_ids=payload.signatory_ids, idempotency=claim)),
        lookup_first=False)


@router.post("/accounts/{account_id}/transfers", response={201: OperationOut})
def transfer(request: HttpRequest, account_id: int, payload: TransferIn):
    """Transfer to another account of the same caisse. Requires Idempotency-Key."""
    require_key(request)
    account = selectors.get_account_for_user(request.user, account_id)
    _check_value_date(request, account.pk, payload.value_date)
    try:
        target = selectors.get_account_for_user(request.user, payload.target_account_id)
    except ApplicationError as exc:
        raise ApplicationError(exc.code, exc.message, {"target_account_id": exc.message},
                               status_code=exc.status_code) from None
    return _money(request, f"savings.transfer:{account.pk}", payload, lambda claim: (
        services.savings_transfer(acting_user=request.user, source=account, target=target,
                                  amount=payload.amount, on=payload.value_date,
                                  description=payload.description,
                                  signatory_ids=payload.signatory_ids, idempotency=claim)))


@router.get("/pending", response=list[OperationOut])
def pending(request: HttpRequest):
    """Operations of the caller's caisses awaiting a manager's approval."""
    return [operation_out(services.Operation(tx, None))
            for tx in selectors.pending_for_user(request.user)[:200]]


@router.post("/transactions/{tx_id}/approve", response={201: OperationOut})
def approve(request: HttpRequest, tx_id: int):
    """A manager approves a pending operation. Requires Idempotency-Key."""
    require_key(request)
    tx = selectors.transaction_for_user(request.user, tx_id)
    status, answer = idempotent_call(
        request, endpoint=f"savings.approve:{tx.pk}", body={}, render=operation_out,
        run=lambda claim: services.savings_transaction_approve(acting_user=request.user, tx=tx,
                                                               idempotency=claim))
    return Status(status, answer)


@router.post("/transactions/{tx_id}/reject", response={200: OperationOut})
def reject(request: HttpRequest, tx_id: int, payload: ReasonIn):
    tx = selectors.transaction_for_user(request.user, tx_id)
    done = services.savings_transaction_reject(acting_user=request.user, tx=tx,
                                               reason=payload.reason)
    return Status(200, operation_out(services.Operation(done, None)))


@router.post("/transactions/{tx_id}/reverse", response={201: OperationOut})
def reverse(request: HttpRequest, tx_id: int, payload: ReasonIn):
    """A supervisor reverses a posted operation, with a reason. Requires Idempotency-Key."""
    require_key(request)
    tx = selectors.transaction_for_user(request.user, tx_id)
    status, answer = idempotent_call(
        request, endpoint=f"savings.reverse:{tx.pk}", body=payload.dict(), render=operation_out,
        run=lambda claim: services.savings_transaction_reverse(
            acting_user=request.user, tx=tx, reason=payload.reason, idempotency=claim))
    return Status(status, answer)


def shares_out(op: services.ShareOperation) -> dict:
    return {"person_id": op.account.person_id, "shares_bought": op.transaction.shares,
            "shares_held": op.account.shares, "amount": op.transaction.amount,
            "entry_fee": op.transaction.entry_fee, "receipt": str(op.receipt),
            "receipt_id": op.receipt.pk}


@router.post("/shares", response={201: SharesOut})
def shares(request: HttpRequest, payload: SharesIn):
    """Buy member shares in cash (entry fee with the first purchase). Requires
    Idempotency-Key."""
    require_key(request)
    caisse = get_unit_for_user(request.user, payload.caisse_id, write=True)
    person = get_person_for_user(request.user, payload.person_id)
    status, answer = idempotent_call(
        request, endpoint="savings.shares", body=payload.dict(), render=shares_out,
        run=lambda claim: services.share_purchase(acting_user=request.user, person=person,
                                                  caisse=caisse, shares=payload.shares,
                                                  idempotency=claim))
    return Status(status, answer)


def _statement(request, account_id, date_from, date_to):
    if date_from and date_to and date_from > date_to:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"date_to": _("The end is before the start.")}, status_code=422)
    acc = selectors.get_account_for_user(request.user, account_id)
    return acc, selectors.account_statement(account=acc, date_from=date_from, date_to=date_to)


@router.get("/accounts/{account_id}/statement", response=StatementOut)
def statement(request: HttpRequest, account_id: int, date_from: date | None = None,
              date_to: date | None = None):
    acc, st = _statement(request, account_id, date_from, date_to)
    return {"account": acc.number, "holder": acc.holder_name, "date_from": date_from,
            "date_to": date_to, "opening": st.opening, "closing": st.closing,
            "rows": [vars(r) for r in st.rows]}


@router.get("/accounts/{account_id}/statement.csv", response={200: None})
def statement_csv(request: HttpRequest, account_id: int, date_from: date | None = None,
                  date_to: date | None = None):
    acc, st = _statement(request, account_id, date_from, date_to)
    return statement_csv_response(acc, st)


def statement_csv_response(acc, st) -> HttpResponse:
    """Semicolon-separated (French spreadsheets), UTF-8 with BOM so Excel reads the accents."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, delimiter=";")
    w.writerow(["date", "operation", "recu", "credit", "debit", "solde"])
    w.writerow([st.date_from.isoformat() if st.date_from else "", "solde initial", "", "", "",
                st.opening])
    for r in st.rows:
        w.writerow([r.value_date.isoformat(), r.label, r.receipt, r.credit, r.debit, r.balance])
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="releve-{acc.number}.csv"'
    return response


@router.post("/drawers", response={201: DrawerOut})
def drawer_open(request: HttpRequest, payload: DrawerOpenIn):
    caisse = get_unit_for_user(request.user, payload.caisse_id, write=True)
    d = services.drawer_open(acting_user=request.user, caisse=caisse, amount=payload.amount)
    return Status(201, drawer_out(d))


@router.post("/drawers/{drawer_id}/close", response={200: DrawerOut})
def drawer_close(request: HttpRequest, drawer_id: int, payload: DrawerCloseIn):
    d = selectors.drawers_for_user(request.user).filter(pk=drawer_id).first()
    if d is None:
        raise ApplicationError("not_found", _("Drawer not found."), status_code=404)
    return Status(200, drawer_out(services.drawer_close(acting_user=request.user, drawer=d,
                                                        count=payload.count)))


@router.post("/caisses/{caisse_id}/interest", response={200: InterestOut})
def interest(request: HttpRequest, caisse_id: int, payload: InterestIn):
    """Post the period's interest for the whole caisse (idempotent per period)."""
    caisse = get_unit_for_user(request.user, caisse_id, write=True)
    if payload.period_end > timezone.localdate():
        # Interest is earned by the days that have passed: a period still running (or one of
        # the year 9999) would credit days not yet lived, and then count as posted.
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"period_end": _("This period has not ended yet.")},
                               status_code=422)
    run = services.interest_post_caisse(caisse=caisse, period_end=payload.period_end,
                                        acting_user=request.user)
    return Status(200, {"created": run.created, "total": run.total, "postings": [
        {"product": p.product.code, "period_start": p.period_start.isoformat(),
         "period_end": p.period_end.isoformat(), "accounts": p.accounts, "total": p.total}
        for p in run.postings]})
