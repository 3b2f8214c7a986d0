"""Reads of the ledger: books in scope, statements, trial balances, verification."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import NotFound
from jigi.ledger.models import (
    Account,
    AccountBalance,
    AccountKind,
    Book,
    JournalEntry,
    JournalLine,
    Side,
)
from jigi.orgs.models import Organisation, Unit
from jigi.orgs.scoping import user_scope

DEBIT_NORMAL = {AccountKind.ASSET, AccountKind.EXPENSE}


def books_for_user(user, *, write: bool = False, roles: set[str] | None = None
                   ) -> QuerySet[Book]:
    """Books of units in the user's scope; a head-office book (unit None or the root unit)
    only for organisation-wide roles of that organisation."""
    scope = user_scope(user)
    qs = Book.objects.select_related("organisation", "unit")
    if scope.is_superuser:
        return qs
    org_wide = scope.org_wide_ids(write=write, roles=roles)
    return qs.filter(
        scope.unit_q("unit__", write=write, roles=roles) | Q(organisation_id__in=org_wide)
    )


def get_book_for_user(user, pk: int, *, write: bool = False, roles: set[str] | None = None
                      ) -> Book:
    book = books_for_user(user, write=write, roles=roles).filter(pk=pk).first()
    if book is None:
        raise NotFound("book_not_found", _("Book not found."))
    return book


def get_entry_for_user(user, pk: int) -> JournalEntry:
    entry = JournalEntry.objects.select_related("book").filter(
        pk=pk, book__in=books_for_user(user)).first()
    if entry is None:
        raise NotFound("entry_not_found", _("Entry not found."))
    return entry


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    number: int
    value_date: date
    description: str
    debit: int
    credit: int
    balance: int


@dataclass(frozen=True)
class Statement:
    book: Book
    account: Account
    date_from: date | None
    date_to: date | None
    opening: int
    closing: int
    total_debit: int
    total_credit: int
    lines: list[StatementLine] = field(default_factory=list)


def _signed(kind: str, debit: int, credit: int) -> int:
    """Balance on the account's normal side: assets and expenses debit, the rest credit."""
    return debit - credit if kind in DEBIT_NORMAL else credit - debit


def account_statement(
    *, book: Book, account_code: str, date_from: date | None = None,
    date_to: date | None = None, subledger: str | None = None, limit: int = 5000,
) -> Statement:
    account = Account.objects.filter(organisation_id=book.organisation_id,
                                     code=account_code).first()
    if account is None:
        raise NotFound("account_not_found", _("Account not found."))
    lines = JournalLine.objects.filter(book=book, account=account)
    if subledger:
        lines = lines.filter(subledger=subledger)
    opening = 0
    if date_from:
        before = lines.filter(value_date__lt=date_from).aggregate(
            d=Sum("amount", filter=Q(side=Side.DEBIT)), c=Sum("amount", filter=Q(side=Side.CREDIT)))
        opening = _signed(account.kind, before["d"] or 0, before["c"] or 0)
        lines = lines.filter(value_date__gte=date_from)
    if date_to:
        lines = lines.filter(value_date__lte=date_to)
    rows = lines.select_related("entry").order_by("value_date", "entry_id", "pk")[:limit]
    balance = opening
    out = []
    total_d = total_c = 0
    for ln in rows:
        d = ln.amount if ln.side == Side.DEBIT else 0
        c = ln.amount if ln.side == Side.CREDIT else 0
        total_d += d
        total_c += c
        balance += _signed(account.kind, d, c)
        out.append(StatementLine(ln.entry_id, ln.entry.number, ln.value_date,
                                 ln.entry.description, d, c, balance))
    return Statement(book, account, date_from, date_to, opening, balance, total_d, total_c, out)


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    kind: str
    debit: int
    credit: int

    @property
    def balance(self) -> int:
        return _signed(self.kind, self.debit, self.credit)


@dataclass(frozen=True)
class TrialBalance:
    title: str
    as_of: date | None
    rows: list[TrialBalanceRow]

    @property
    def total_debit(self) -> int:
        return sum(r.debit for r in self.rows)

    @property
    def total_credit(self) -> int:
        return sum(r.credit for r in self.rows)

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


def _totals(book_ids: list[int] | QuerySet, as_of: date | None) -> dict[int, tuple[int, int]]:
    if as_of is None:
        rows = AccountBalance.objects.filter(book_id__in=book_ids).values("account_id").annotate(
            d=Sum("debit"), c=Sum("credit"))
    else:
        rows = JournalLine.objects.filter(book_id__in=book_ids, value_date__lte=as_of).values(
            "account_id").annotate(d=Sum("amount", filter=Q(side=Side.DEBIT)),
                                   c=Sum("amount", filter=Q(side=Side.CREDIT)))
    return {r["account_id"]: (r["d"] or 0, r["c"] or 0) for r in rows}


def _trial_balance(title: str, organisation_id: int, book_ids, as_of: date | None) -> TrialBalance:
    totals = _totals(book_ids, as_of)
    accounts = Account.objects.filter(pk__in=totals, organisation_id=organisation_id).order_by("code")
    rows = [TrialBalanceRow(a.code, a.name, a.kind, *totals[a.pk]) for a in accounts
            if totals[a.pk] != (0, 0)]
    return TrialBalance(title, as_of, rows)


def trial_balance(*, book: Book, as_of: date | None = None) -> TrialBalance:
    return _trial_balance(book.name, book.organisation_id, [book.pk], as_of)


def consolidated_trial_balance(
    *, organisation: Organisation, as_of: date | None = None, unit: Unit | None = None
) -> TrialBalance:
    """All books of the organisation, or those of the units under `unit` (a region)."""
    books = Book.objects.filter(organisation=organisation)
    title = organisation.name
    if unit is not None:
        books = books.filter(unit__path__startswith=unit.path)
        title = f"{organisation.name} · {unit.name}"
    return _trial_balance(title, organisation.pk, books.values("pk"), as_of)


def ledger_verify(book: Book) -> list[tuple[str, int, int, int, int]]:
    """Accounts whose kept balance differs from the sum of their lines (should be none):
    (code, kept debit, kept credit, lines debit, lines credit)."""
    kept = {b.account_id: (b.debit, b.credit) for b in AccountBalance.objects.filter(book=book)}
    real = _totals([book.pk], date.max)
    diffs = []
    codes = dict(Account.objects.filter(pk__in=set(kept) | set(real)).values_list("pk", "code"))
    for account_id in set(kept) | set(real):
        k = kept.get(account_id, (0, 0))
        r = real.get(account_id, (0, 0))
        if k != r:
            diffs.append((codes[account_id], k[0], k[1], r[0], r[1]))
    return sorted(diffs)


def entries_of_book(book: Book) -> QuerySet[JournalEntry]:
    return JournalEntry.objects.filter(book=book).order_by("-posting_date", "-number")
