"""Ledger API: books, trial balances, statements, manual entries, reversals, period close."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.idempotency import run_idempotent
from jigi.core.money import MoneyError, to_francs
from jigi.ledger import selectors, services
from jigi.ledger.models import JournalEntry
from jigi.ledger.rules import LineSpec
from jigi.orgs.models import Organisation, Role
from jigi.orgs.scoping import user_scope

router = Router(tags=["ledger"])

# Who may write journal entries by hand, reverse them and close months.
ACCOUNTANT_ROLES = {Role.CAISSE_MANAGER.value, Role.NETWORK_ADMIN.value,
                    Role.MUTUAL_MANAGER.value, Role.UNION_ADMIN.value, Role.MOVEMENT_ADMIN.value}
AUDIT_ROLES = ACCOUNTANT_ROLES | {Role.NETWORK_AUDITOR.value}


class BookOut(Schema):
    id: int
    code: str
    name: str
    organisation: str
    unit_id: int | None


class TrialBalanceRowOut(Schema):
    code: str
    name: str
    kind: str
    debit: int
    credit: int
    balance: int


class TrialBalanceOut(Schema):
    title: str
    as_of: date | None
    rows: list[TrialBalanceRowOut]
    total_debit: int
    total_credit: int
    balanced: bool


class StatementLineOut(Schema):
    entry_id: int
    number: int
    value_date: date
    description: str
    debit: int
    credit: int
    balance: int


class StatementOut(Schema):
    account: str
    account_name: str
    opening: int
    closing: int
    total_debit: int
    total_credit: int
    lines: list[StatementLineOut]


class LineIn(Schema):
    account: str = Field(max_length=16)
    side: str = Field(max_length=1, description="D or C")
    # Floats are accepted by the schema only so that to_francs can refuse them with a clear
    # field message (a union error from pydantic would name types, not the problem).
    amount: int | float | str = Field(
        description="whole francs CFA, as an integer or a decimal string")


class EntryIn(Schema):
    value_date: date
    description: str = Field(min_length=1, max_length=255)
    lines: list[LineIn] = Field(max_length=200)


class LineOut(Schema):
    account: str
    side: str
    amount: int
    subledger: str


class EntryOut(Schema):
    id: int
    book: str
    number: int
    year: int
    value_date: date
    posting_date: date
    description: str
    reversal_of: int | None
    reversed_by: int | None
    lines: list[LineOut]


class ReverseIn(Schema):
    reason: str = Field(min_length=1, max_length=200)
    value_date: date | None = None


class PeriodIn(Schema):
    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)


class AuditOut(Schema):
    id: int
    created_at: datetime
    actor: str | None
    event_type: str
    subject_type: str
    subject_id: str
    before: dict | None
    after: dict | None


def _tb_out(tb) -> dict:
    return {
        "title": tb.title, "as_of": tb.as_of,
        "rows": [{"code": r.code, "name": r.name, "kind": r.kind, "debit": r.debit,
                  "credit": r.credit, "balance": r.balance} for r in tb.rows],
        "total_debit": tb.total_debit, "total_credit": tb.total_credit, "balanced": tb.balanced,
    }


def entry_out(entry) -> dict:
    reversed_by = JournalEntry.objects.filter(reversal_of=entry).values_list("pk", flat=True).first()
    return {
        "id": entry.pk, "book": entry.book.code, "number": entry.number, "year": entry.year,
        "value_date": entry.value_date, "posting_date": entry.posting_date,
        "description": entry.description, "reversal_of": entry.reversal_of_id,
        "reversed_by": reversed_by,
        "lines": [{"account": ln.account.code, "side": ln.side, "amount": ln.amount,
                   "subledger": ln.subledger}
                  for ln in entry.lines.select_related("account").order_by("pk")],
    }


@router.get("/books", response=list[BookOut])
def books(request: HttpRequest):
    return [{"id": b.pk, "code": b.code, "name": b.name, "organisation": b.organisation.code,
             "unit_id": b.unit_id} for b in selectors.books_for_user(request.user).order_by("code")]


@router.get("/books/{book_id}/trial-balance", response=TrialBalanceOut)
def book_trial_balance(request: HttpRequest, book_id: int, as_of: date | None = None):
    book = selectors.get_book_for_user(request.user, book_id)
    return _tb_out(selectors.trial_balance(book=book, as_of=as_of))


@router.get("/organisations/{code}/trial-balance", response=TrialBalanceOut)
def organisation_trial_balance(request: HttpRequest, code: str, as_of: date | None = None):
    org = Organisation.objects.filter(code=code.upper()).first()
    scope = user_scope(request.user)
    if org is None or not (scope.is_superuser or org.pk in scope.org_wide_ids()):
        raise NotFound("organisation_not_found", _("Organisation not found."))
    return _tb_out(selectors.consolidated_trial_balance(organisation=org, as_of=as_of))


class StatementQuery(Schema):
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")


@router.get("/books/{book_id}/accounts/{code}/statement", response=StatementOut)
def statement(request: HttpRequest, book_id: int, code: str, q: Query[StatementQuery]):
    book = selectors.get_book_for_user(request.user, book_id)
    st = selectors.account_statement(book=book, account_code=code, date_from=q.date_from,
                                     date_to=q.date_to)
    return {"account": st.account.code, "account_name": st.account.name, "opening": st.opening,
            "closing": st.closing, "total_debit": st.total_debit, "total_credit": st.total_credit,
            "lines": [vars(x) for x in st.lines]}


@router.get("/books/{book_id}/entries", response=list[EntryOut])
def entries(request: HttpRequest, book_id: int, offset: int = 0, limit: int = 50):
    book = selectors.get_book_for_user(request.user, book_id)
    offset, limit = max(0, offset), max(1, min(limit, 200))
    qs = selectors.entries_of_book(book).select_related("book")[offset:offset + limit]
    return [entry_out(e) for e in qs]


@router.get("/entries/{entry_id}", response=EntryOut)
def entry_detail(request: HttpRequest, entry_id: int):
    return entry_out(selectors.get_entry_for_user(request.user, entry_id))


def _lines(payload: EntryIn) -> list[LineSpec]:
    errors = {}
    out = []
    for i, line in enumerate(payload.lines):
        if line.side not in ("D", "C"):
            errors[f"lines.{i}.side"] = _("D (debit) or C (credit).")
            continue
        try:
            amount = to_francs(line.amount)
        except MoneyError as exc:
            errors[f"lines.{i}.amount"] = {
                "fractional_franc": _("Whole francs only: the franc CFA has no cents."),
                "float_not_allowed": _("Whole francs only: the franc CFA has no cents."),
                "zero": _("The amount must be more than zero."),
                "negative": _("The amount must be more than zero."),
                "too_large": _("This amount is not plausible."),
            }.get(str(exc), _("Enter an amount in francs CFA."))
            continue
        out.append(LineSpec(line.account, line.side, amount))
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors, status_code=422)
    return out


@router.post("/books/{book_id}/entries", response={201: EntryOut})
def entry_create(request: HttpRequest, book_id: int, payload: EntryIn):
    """Post a manual journal entry (accountants only). Requires an Idempotency-Key header."""
    if not user_scope(request.user).has_role(*ACCOUNTANT_ROLES):
        raise Forbidden("forbidden", _("Only a manager may post journal entries."))
    book = selectors.get_book_for_user(request.user, book_id, write=True, roles=ACCOUNTANT_ROLES)
    lines = _lines(payload)

    def action():
        entry = services.entry_post(book=book, lines=lines, value_date=payload.value_date,
                                    description=payload.description, acting_user=request.user,
                                    source_type="manual")
        return 201, entry_out(entry)

    return Status(*run_idempotent(request, endpoint=f"ledger.entry:{book.pk}",
                                  body=payload.dict(), action=action))


@router.post("/entries/{entry_id}/reverse", response={201: EntryOut})
def entry_reverse(request: HttpRequest, entry_id: int, payload: ReverseIn):
    entry = selectors.get_entry_for_user(request.user, entry_id)
    if not user_scope(request.user).has_role(*ACCOUNTANT_ROLES):
        raise Forbidden("forbidden", _("Only a manager may reverse entries."))
    selectors.get_book_for_user(request.user, entry.book_id, write=True, roles=ACCOUNTANT_ROLES)

    def action():
        reversal = services.entry_reverse(entry=entry, reason=payload.reason,
                                          acting_user=request.user, value_date=payload.value_date)
        return 201, entry_out(reversal)

    return Status(*run_idempotent(request, endpoint=f"ledger.reverse:{entry.pk}",
                                  body=payload.dict(), action=action))


@router.post("/books/{book_id}/periods", response={201: dict})
def close_period(request: HttpRequest, book_id: int, payload: PeriodIn):
    if not user_scope(request.user).has_role(*ACCOUNTANT_ROLES):
        raise Forbidden("forbidden", _("Only a manager may close a month."))
    book = selectors.get_book_for_user(request.user, book_id, write=True, roles=ACCOUNTANT_ROLES)
    p = services.period_close(book=book, year=payload.year, month=payload.month,
                              acting_user=request.user)
    return Status(201, {"book": book.code, "year": p.year, "month": p.month})


@router.get("/audit-events", response=list[AuditOut])
def audit_events(request: HttpRequest, event_type: str = "", subject_type: str = "",
                 subject_id: str = "", offset: int = 0, limit: int = 100):
    from jigi.core.selectors import audit_events_for_user

    scope = user_scope(request.user)
    if not scope.has_role(*AUDIT_ROLES):
        raise Forbidden("forbidden", _("Only auditors and managers read the audit trail."))
    qs = audit_events_for_user(request.user, event_type=event_type, subject_type=subject_type,
                               subject_id=subject_id)
    offset, limit = max(0, offset), max(1, min(limit, 500))
    return [{"id": e.pk, "created_at": e.created_at,
             "actor": e.actor.get_username() if e.actor else None, "event_type": e.event_type,
             "subject_type": e.subject_type, "subject_id": e.subject_id, "before": e.before,
             "after": e.after} for e in qs.select_related("actor")[offset:offset + limit]]
