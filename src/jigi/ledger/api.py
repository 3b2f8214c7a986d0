"""Ledger API (/api/v1/ledger): books, trial balances, statements, journal entries, manual
entries, reversals, month closes and the audit trail.

Reading follows the book's unit (ledger.selectors.book_list_for_user); writing is for the
book's manager or the organisation's administrator (ledger.roles.ACCOUNTANT_ROLES). Money
moving calls need an Idempotency-Key header (jigi.core.idempotency).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, Header, Query, Router, Schema, Status
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from jigi.core.errors import Forbidden
from jigi.core.idempotency import HEADER, run_idempotent
from jigi.core.money import MoneyError, to_francs
from jigi.core.selectors import AUDIT_ROLES, audit_events_for_user
from jigi.ledger import selectors, services
from jigi.ledger.roles import ACCOUNTANT_ROLES
from jigi.ledger.rules import LineSpec
from jigi.orgs.scoping import user_scope

router = Router(tags=["ledger"])

MAX_PAGE = 200

_MONEY_MESSAGES = {
    "fractional_franc": lambda: gettext("Whole francs only: the franc CFA has no cents."),
    "float_not_allowed": lambda: gettext(
        "Send the amount as a whole number or a decimal string, not a floating-point number."),
    "zero": lambda: gettext("The amount must be more than zero."),
    "negative": lambda: gettext("The amount must be more than zero."),
    "too_large": lambda: gettext("This amount is not plausible."),
    "thousands_point": lambda: gettext(
        "Whole francs, without a point or a comma: write 15000 or 15 000."),
}


def _francs(value: object) -> int:
    """Pydantic hook: the one money conversion (to_francs) with a field message per refusal.

    JSON numbers arrive as int or float, strings as str; a float (even 1500.0) and a bool are
    refused, "12 500" and "12500.00" are accepted. Runs before type coercion so that `true`
    never becomes 1 franc.
    """
    try:
        return to_francs(value)
    except MoneyError as exc:
        message = _MONEY_MESSAGES.get(str(exc), lambda: gettext("Enter an amount in francs CFA."))
        raise ValueError(message()) from None


Francs = Annotated[
    int,
    BeforeValidator(_francs),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1},
                              {"type": "string", "pattern": r"^\s*\d[\d\s]*(\.0+)?\s*$"}],
                    "description": "Whole francs CFA: an integer or a decimal string."}),
]


def _no_control(value: str) -> str:
    # Nothing typed by a person contains control characters, and PostgreSQL cannot store NUL.
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(gettext("Remove the control characters."))
    return value


Text = Annotated[str, AfterValidator(_no_control)]


# --- Schemas -----------------------------------------------------------------------------------

class BookOut(Schema):
    id: int
    code: str
    name: str
    organisation: str
    unit_id: int | None
    unit_code: str | None


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
    books: int
    rows: list[TrialBalanceRowOut]
    total_debit: int
    total_credit: int
    balanced: bool


class StatementLineOut(Schema):
    entry_id: int
    number: int
    year: int
    value_date: date
    description: str
    subledger: str
    debit: int
    credit: int
    balance: int


class StatementOut(Schema):
    book: str
    account: str
    account_name: str
    date_from: date | None
    date_to: date | None
    opening: int
    closing: int
    total_debit: int
    total_credit: int
    truncated: bool
    lines: list[StatementLineOut]


class LineIn(Schema):
    account: Text = Field(min_length=1, max_length=16)
    side: Literal["D", "C"] = Field(description="D (debit) or C (credit)")
    amount: Francs
    subledger: Text = Field(default="", max_length=64)


class EntryIn(Schema):
    value_date: date
    description: Text = Field(min_length=1, max_length=255)
    lines: list[LineIn] = Field(min_length=2, max_length=200)


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
    source_type: str
    source_id: str
    reversal_of: int | None
    reversed_by: int | None
    created_by: str | None
    lines: list[LineOut]


class EntryPageOut(Schema):
    count: int
    offset: int
    limit: int
    items: list[EntryOut]


class ReverseIn(Schema):
    reason: Text = Field(min_length=1, max_length=200)
    value_date: date | None = None


class PeriodIn(Schema):
    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)


class PeriodOut(Schema):
    book: str
    year: int
    month: int
    closed_at: datetime


class AuditOut(Schema):
    id: int
    created_at: datetime
    actor: str | None
    organisation_id: int | None
    unit_id: int | None
    event_type: str
    subject_type: str
    subject_id: str
    before: dict | None
    after: dict | None


class AuditPageOut(Schema):
    count: int
    offset: int
    limit: int
    items: list[AuditOut]


class StatementQuery(Schema):
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")
    subledger: str = Field(default="", max_length=64)


class PageQuery(Schema):
    offset: int = Field(default=0, ge=0, le=10**9)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class AuditQuery(PageQuery):
    event_type: str = Field(default="", max_length=64)
    subject_type: str = Field(default="", max_length=64)
    subject_id: str = Field(default="", max_length=64)
    actor: str = Field(default="", max_length=150)
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")


# --- Output helpers ----------------------------------------------------------------------------

def _tb_out(tb) -> dict:
    return {
        "title": tb.title, "as_of": tb.as_of, "books": tb.books,
        "rows": [{"code": r.code, "name": r.name, "kind": r.kind, "debit": r.debit,
                  "credit": r.credit, "balance": r.balance} for r in tb.rows],
        "total_debit": tb.total_debit, "total_credit": tb.total_credit, "balanced": tb.balanced,
    }


def entry_out(entry) -> dict:
    """An entry with its lines. Works on a plain entry and, without further queries, on one
    from selectors.entry_list (lines and reversal prefetched)."""
    try:
        reversed_by = entry.reversed_by.pk
    except type(entry).reversed_by.RelatedObjectDoesNotExist:
        reversed_by = None
    lines = sorted(entry.lines.all(), key=lambda ln: ln.pk)
    return {
        "id": entry.pk, "book": entry.book.code, "number": entry.number, "year": entry.year,
        "value_date": entry.value_date, "posting_date": entry.posting_date,
        "description": entry.description, "source_type": entry.source_type,
        "source_id": entry.source_id, "reversal_of": entry.reversal_of_id,
        "reversed_by": reversed_by,
        "created_by": entry.created_by.get_username() if entry.created_by_id else None,
        "lines": [{"account": ln.account.code, "side": ln.side, "amount": ln.amount,
                   "subledger": ln.subledger} for ln in lines],
    }


def _entry_full(pk: int):
    from jigi.ledger.models import JournalEntry

    return (JournalEntry.objects.select_related("book", "reversed_by", "created_by")
            .prefetch_related("lines__account").get(pk=pk))


def _require_accountant_role(user, message) -> None:
    """403 for roles that never write the books (tellers, auditors), before any lookup that
    would answer 404: they may read the book, so they may know it exists."""
    if not user_scope(user).has_role(*ACCOUNTANT_ROLES):
        raise Forbidden("forbidden", message)


IdempotencyKey = Annotated[
    str | None,
    Header(alias=HEADER, description="Required. One key per operation (1-128 characters): a "
                                     "resend with the same body replays the first answer."),
]


# --- Reading -----------------------------------------------------------------------------------

@router.get("/books", response=list[BookOut])
def books(request: HttpRequest):
    return [{"id": b.pk, "code": b.code, "name": b.name, "organisation": b.organisation.code,
             "unit_id": b.unit_id, "unit_code": b.unit.code if b.unit_id else None}
            for b in selectors.book_list_for_user(request.user).order_by("code")]


@router.get("/books/{book_id}/trial-balance", response=TrialBalanceOut)
def book_trial_balance(request: HttpRequest, book_id: int, as_of: date | None = None):
    book = selectors.get_book_for_user(request.user, book_id)
    return _tb_out(selectors.trial_balance(book, as_of=as_of))


@router.get("/organisations/{code}/trial-balance", response=TrialBalanceOut)
def organisation_trial_balance(request: HttpRequest, code: str, as_of: date | None = None,
                               unit: str = ""):
    """All books of the organisation (organisation-wide roles only), or those under `unit`
    (a unit code, e.g. a region)."""
    org = selectors.get_organisation_for_consolidation(request.user, code)
    within = selectors.get_unit_of_organisation(org, unit) if unit else None
    return _tb_out(selectors.consolidated_trial_balance(org, as_of=as_of, unit=within))


@router.get("/books/{book_id}/accounts/{code}/statement", response=StatementOut)
def statement(request: HttpRequest, book_id: int, code: str, q: Query[StatementQuery]):
    book = selectors.get_book_for_user(request.user, book_id)
    st = selectors.account_statement(book, code, q.date_from, q.date_to, q.subledger or None)
    return {"book": book.code, "account": st.account.code, "account_name": st.account.name,
            "date_from": st.date_from, "date_to": st.date_to, "opening": st.opening,
            "closing": st.closing, "total_debit": st.total_debit,
            "total_credit": st.total_credit, "truncated": st.truncated,
            "lines": [vars(x) for x in st.lines]}


@router.get("/books/{book_id}/entries", response=EntryPageOut)
def entries(request: HttpRequest, book_id: int, page: Query[PageQuery]):
    book = selectors.get_book_for_user(request.user, book_id)
    qs = selectors.entry_list(book)
    items = list(qs.select_related("created_by")[page.offset:page.offset + page.limit])
    return {"count": qs.count(), "offset": page.offset, "limit": page.limit,
            "items": [entry_out(e) for e in items]}


@router.get("/entries/{entry_id}", response=EntryOut)
def entry_detail(request: HttpRequest, entry_id: int):
    return entry_out(selectors.get_entry_for_user(request.user, entry_id))


# --- Writing -----------------------------------------------------------------------------------

@router.post("/books/{book_id}/entries", response={201: EntryOut})
def entry_create(request: HttpRequest, book_id: int, payload: EntryIn,
                 idempotency_key: IdempotencyKey = None):
    """Post a manual journal entry (a caisse manager or an administrator; not tellers, not
    auditors). Unbalanced entries, unknown accounts, closed months and future value dates are
    refused with field messages and nothing written."""
    _require_accountant_role(request.user, _("Only a manager may post journal entries."))
    book = selectors.get_book_for_user(request.user, book_id)
    lines = [LineSpec(ln.account, ln.side, ln.amount, ln.subledger) for ln in payload.lines]

    def action():
        entry = services.manual_entry_post(book=book, lines=lines, value_date=payload.value_date,
                                           description=payload.description,
                                           acting_user=request.user)
        return 201, entry_out(_entry_full(entry.pk))

    return Status(*run_idempotent(request, endpoint=f"ledger.entry:{book.pk}",
                                  body=payload.dict(), action=action))


@router.post("/entries/{entry_id}/reverse", response={201: EntryOut})
def entry_reverse(request: HttpRequest, entry_id: int, payload: ReverseIn,
                  idempotency_key: IdempotencyKey = None):
    """Reverse a manual entry (manager or administrator). Entries posted by an operation are
    reversed from that operation (409 here)."""
    _require_accountant_role(request.user, _("Only a manager may reverse entries."))
    entry = selectors.get_entry_for_user(request.user, entry_id)

    def action():
        reversal = services.manual_entry_reverse(entry=entry, reason=payload.reason,
                                                 acting_user=request.user,
                                                 value_date=payload.value_date)
        return 201, entry_out(_entry_full(reversal.pk))

    return Status(*run_idempotent(request, endpoint=f"ledger.reverse:{entry.pk}",
                                  body=payload.dict(), action=action))


@router.post("/books/{book_id}/periods", response={201: PeriodOut})
def close_period(request: HttpRequest, book_id: int, payload: PeriodIn):
    """Close a month of the book (manager or administrator). Closed months stay closed."""
    _require_accountant_role(request.user, _("Only a manager may close a month."))
    book = selectors.get_book_for_user(request.user, book_id)
    p = services.manual_period_close(book=book, year=payload.year, month=payload.month,
                                     acting_user=request.user)
    return Status(201, {"book": book.code, "year": p.year, "month": p.month,
                        "closed_at": p.closed_at})


# --- Audit trail -------------------------------------------------------------------------------

@router.get("/audit-events", response=AuditPageOut)
def audit_events(request: HttpRequest, q: Query[AuditQuery]):
    """Audit rows in the user's scope (auditors, managers, administrators), newest first."""
    if not user_scope(request.user).has_role(*AUDIT_ROLES):
        raise Forbidden("forbidden", _("Only auditors and managers read the audit trail."))
    qs = audit_events_for_user(request.user, event_type=q.event_type,
                               subject_type=q.subject_type, subject_id=q.subject_id,
                               actor=q.actor, date_from=q.date_from, date_to=q.date_to)
    items = qs.select_related("actor")[q.offset:q.offset + q.limit]
    return {"count": qs.count(), "offset": q.offset, "limit": q.limit,
            "items": [{"id": e.pk, "created_at": e.created_at,
                       "actor": e.actor.get_username() if e.actor_id else None,
                       "organisation_id": e.organisation_id, "unit_id": e.unit_id,
                       "event_type": e.event_type, "subject_type": e.subject_type,
                       "subject_id": e.subject_id, "before": e.before, "after": e.after}
                      for e in items]}
