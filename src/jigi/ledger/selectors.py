"""Reads of the ledger: books in scope, statements, trial balances, consolidation, verification.

Balances are on the account's normal side: assets and expenses are debit-normal, liabilities,
equity and income credit-normal, so a healthy cash account and a healthy deposit account both
show positive balances. Totals without a date read the kept `AccountBalance` rows (a few hundred
rows whatever the number of lines); totals "as of" a value date aggregate the journal lines in
SQL over the (book, account, value_date) index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import ApplicationError, NotFound
from jigi.ledger.models import (
    Account,
    AccountBalance,
    AccountKind,
    Book,
    JournalEntry,
    JournalLine,
    Side,
)
from jigi.ledger.roles import LEDGER_READ_ROLES
from jigi.orgs.models import Organisation, Unit
from jigi.orgs.scoping import user_scope

DEBIT_NORMAL = frozenset({AccountKind.ASSET, AccountKind.EXPENSE})
STATEMENT_MAX_LINES = 5000


def _code(value: str | None) -> str | None:
    """A code as typed in a URL, or None when it cannot be one (control characters, which
    PostgreSQL also refuses to compare)."""
    value = (value or "").strip()
    return value if value and value.isprintable() and len(value) <= 64 else None


# --- Books and entries in the user's scope -----------------------------------------------------

def book_list_for_user(
    user, *, write: bool = False, roles: frozenset[str] | set[str] | None = None
) -> QuerySet[Book]:
    """Books the user may read (or write, with `write=True` and the writing `roles`).

    A book follows its unit: a role on a unit covers that unit's book and the books of every
    unit below it. A book without a unit (a head office's) and the book of the root unit belong
    to the whole organisation: only roles not limited to a unit see them.
    """
    scope = user_scope(user)
    qs = Book.objects.select_related("organisation", "unit")
    if scope.is_superuser:
        return qs
    roles = LEDGER_READ_ROLES if roles is None else roles
    org_wide = scope.org_wide_ids(write=write, roles=roles)
    return qs.filter(
        Q(unit__isnull=False) & scope.unit_q("unit__", write=write, roles=roles)
        | Q(organisation_id__in=org_wide)
    )


def get_book_for_user(
    user, pk: int, *, write: bool = False, roles: frozenset[str] | set[str] | None = None
) -> Book:
    """The book, or NotFound (404) when it does not exist or the user may not see it."""
    book = book_list_for_user(user, write=write, roles=roles).filter(pk=pk).first()
    if book is None:
        raise NotFound("book_not_found", _("Book not found."))
    return book


def get_entry_for_user(user, pk: int) -> JournalEntry:
    entry = (
        JournalEntry.objects.select_related("book", "book__organisation", "book__unit",
                                            "created_by", "reversed_by")
        .prefetch_related("lines__account")
        .filter(pk=pk, book__in=book_list_for_user(user))
        .first()
    )
    if entry is None:
        raise NotFound("entry_not_found", _("Entry not found."))
    return entry


def entry_list(book: Book) -> QuerySet[JournalEntry]:
    """A book's entries, newest first, with their lines and reversal links loaded in bulk."""
    return (
        JournalEntry.objects.filter(book=book)
        .select_related("book", "reversed_by")
        .prefetch_related("lines__account")
        .order_by("-posting_date", "-year", "-number")
    )


def organisations_for_consolidation(user) -> QuerySet[Organisation]:
    """Organisations whose consolidated books the user may read: organisation-wide roles only
    (a network auditor, an administrator), never a role limited to one unit."""
    scope = user_scope(user)
    if scope.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=scope.org_wide_ids(roles=LEDGER_READ_ROLES))


def get_organisation_for_consolidation(user, code: str) -> Organisation:
    code = _code(code)
    org = code and organisations_for_consolidation(user).filter(code=code.upper()).first()
    if org is None or not code:
        raise NotFound("organisation_not_found", _("Organisation not found."))
    return org


def get_unit_of_organisation(organisation: Organisation, code: str) -> Unit:
    code = _code(code)
    unit = code and Unit.objects.filter(organisation=organisation, code=code).first()
    if unit is None or not code:
        raise NotFound("unit_not_found", _("Unit not found."), {"unit": _("Unknown unit code.")})
    return unit


def consolidation_units(organisation: Organisation) -> QuerySet[Unit]:
    """Units worth consolidating under: those with children (a region, the network)."""
    return Unit.objects.filter(organisation=organisation, children__isnull=False).distinct(
    ).order_by("path")


# --- Normal-side balances ----------------------------------------------------------------------

def signed_balance(kind: str, debit: int, credit: int) -> int:
    """Balance on the account's normal side: assets and expenses debit, the rest credit."""
    return debit - credit if kind in DEBIT_NORMAL else credit - debit


def _debit_credit(qs: QuerySet[JournalLine]) -> tuple[int, int]:
    row = qs.aggregate(d=Sum("amount", filter=Q(side=Side.DEBIT)),
                       c=Sum("amount", filter=Q(side=Side.CREDIT)))
    return row["d"] or 0, row["c"] or 0


# --- Account statement -------------------------------------------------------------------------

@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    number: int
    year: int
    value_date: date
    description: str
    subledger: str
    debit: int
    credit: int
    balance: int


@dataclass(frozen=True)
class Statement:
    book: Book
    account: Account
    date_from: date | None
    date_to: date | None
    subledger: str | None
    opening: int
    closing: int
    total_debit: int
    total_credit: int
    lines: list[StatementLine] = field(default_factory=list)
    # More lines than a screen or an API answer should carry: the totals and the closing
    # balance still cover the whole period; only the listing stops.
    truncated: bool = False


def account_statement(
    book: Book, account_code: str, date_from: date | None = None, date_to: date | None = None,
    subledger: str | None = None, *, limit: int = STATEMENT_MAX_LINES,
) -> Statement:
    """One account of one book over [date_from, date_to] (value dates, both included).

    Opening = balance of all lines before date_from; each line carries the running balance;
    closing = opening + the period's movements, computed in SQL so it is exact even when the
    listing is cut at `limit` lines. Optionally restricted to one sub-ledger reference (a
    savings account number, a loan number).
    """
    code = _code(account_code)
    account = code and Account.objects.filter(organisation_id=book.organisation_id,
                                              code=code).first()
    if account is None or not code:
        raise NotFound("account_not_found", _("Account not found."))
    lines = JournalLine.objects.filter(book=book, account=account)
    if subledger:
        if _code(subledger) is None:
            raise ApplicationError("invalid", _("Some fields are not valid."),
                                   {"subledger": _("Letters, digits and signs only.")},
                                   status_code=422)
        lines = lines.filter(subledger=subledger.strip())
    opening = 0
    if date_from is not None:
        opening = signed_balance(account.kind, *_debit_credit(lines.filter(
            value_date__lt=date_from)))
        lines = lines.filter(value_date__gte=date_from)
    if date_to is not None:
        lines = lines.filter(value_date__lte=date_to)
    total_d, total_c = _debit_credit(lines)
    rows = list(
        lines.select_related("entry").order_by("value_date", "entry_id", "pk")[:limit + 1]
    )
    truncated = len(rows) > limit
    balance = opening
    out = []
    for ln in rows[:limit]:
        d = ln.amount if ln.side == Side.DEBIT else 0
        c = ln.amount if ln.side == Side.CREDIT else 0
        balance += signed_balance(account.kind, d, c)
        out.append(StatementLine(ln.entry_id, ln.entry.number, ln.entry.year, ln.value_date,
                                 ln.entry.description, ln.subledger, d, c, balance))
    closing = opening + signed_balance(account.kind, total_d, total_c)
    return Statement(book, account, date_from, date_to, subledger or None, opening, closing,
                     total_d, total_c, out, truncated)


# --- Trial balances ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    kind: str
    debit: int
    credit: int

    @property
    def balance(self) -> int:
        return signed_balance(self.kind, self.debit, self.credit)


@dataclass(frozen=True)
class TrialBalance:
    title: str
    as_of: date | None
    rows: list[TrialBalanceRow]
    books: int = 1

    @property
    def total_debit(self) -> int:
        return sum(r.debit for r in self.rows)

    @property
    def total_credit(self) -> int:
        return sum(r.credit for r in self.rows)

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


def _totals(books: list[int] | QuerySet, as_of: date | None) -> dict[int, tuple[int, int]]:
    """Debit and credit totals per account id over some books, kept or as of a value date."""
    if as_of is None:
        rows = (AccountBalance.objects.filter(book_id__in=books)
                .values("account_id").annotate(d=Sum("debit"), c=Sum("credit")))
    else:
        rows = (JournalLine.objects.filter(book_id__in=books, value_date__lte=as_of)
                .values("account_id")
                .annotate(d=Sum("amount", filter=Q(side=Side.DEBIT)),
                          c=Sum("amount", filter=Q(side=Side.CREDIT))))
    return {r["account_id"]: (r["d"] or 0, r["c"] or 0) for r in rows}


def _trial_balance(title: str, organisation_id: int, books, as_of: date | None,
                   book_count: int) -> TrialBalance:
    totals = {k: v for k, v in _totals(books, as_of).items() if v != (0, 0)}
    accounts = Account.objects.filter(pk__in=list(totals), organisation_id=organisation_id
                                      ).order_by("code")
    rows = [TrialBalanceRow(a.code, a.name, a.kind, *totals[a.pk]) for a in accounts]
    return TrialBalance(title, as_of, rows, book_count)


def trial_balance(book: Book, as_of: date | None = None) -> TrialBalance:
    """Every account of the book with movements: debit and credit totals and the balance on
    the normal side. Total debits equal total credits by construction of the postings."""
    return _trial_balance(book.name, book.organisation_id, [book.pk], as_of, 1)


def consolidated_trial_balance(
    organisation: Organisation, as_of: date | None = None, unit: Unit | None = None
) -> TrialBalance:
    """The sum of all books of the organisation, or of the books of `unit` and the units under
    it (a region). Inter-caisse liaison accounts (38) are summed, not eliminated: they net out
    only when both sides of every liaison are inside the perimeter."""
    books = Book.objects.filter(organisation=organisation)
    title = organisation.name
    if unit is not None:
        books = books.filter(unit__path__startswith=unit.path)
        title = f"{organisation.name} · {unit.name}"
    ids = list(books.values_list("pk", flat=True))
    return _trial_balance(title, organisation.pk, ids, as_of, len(ids))


# --- Verification ------------------------------------------------------------------------------

@dataclass(frozen=True)
class BalanceDifference:
    """An account whose kept totals differ from the sum of its journal lines."""

    account: str
    kept_debit: int
    kept_credit: int
    lines_debit: int
    lines_credit: int


def ledger_verify(book: Book) -> list[BalanceDifference]:
    """Recompute every account's totals from the journal lines and compare them with the kept
    AccountBalance rows. The answer must be empty; anything else means a write bypassed
    entry_post. Also checks that each entry of the book balances on its own."""
    kept = {b.account_id: (b.debit, b.credit) for b in AccountBalance.objects.filter(book=book)}
    real = _totals([book.pk], date.max)
    ids = set(kept) | set(real)
    codes = dict(Account.objects.filter(pk__in=ids).values_list("pk", "code"))
    diffs = []
    for account_id in ids:
        k = kept.get(account_id, (0, 0))
        r = real.get(account_id, (0, 0))
        if k != r:
            diffs.append(BalanceDifference(codes[account_id], k[0], k[1], r[0], r[1]))
    return sorted(diffs, key=lambda d: d.account)


def unbalanced_entries(book: Book) -> list[int]:
    """Ids of entries whose own lines do not balance (must be none; a database check cannot
    express it, so verification does)."""
    rows = (JournalLine.objects.filter(book=book).values("entry_id")
            .annotate(d=Sum("amount", filter=Q(side=Side.DEBIT)),
                      c=Sum("amount", filter=Q(side=Side.CREDIT))))
    return sorted(r["entry_id"] for r in rows if (r["d"] or 0) != (r["c"] or 0))
