"""Writes to the ledger. Every money movement in Jigi ends here."""

from __future__ import annotations

import calendar
from contextlib import nullcontext
from datetime import date

from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.core import prepared
from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Conflict, Forbidden
from jigi.core.models import Counter
from jigi.core.numbering import next_number
from jigi.ledger.models import (
    Account,
    AccountBalance,
    Book,
    ClosedPeriod,
    JournalEntry,
    JournalLine,
)
from jigi.ledger.roles import ACCOUNTANT_ROLES
from jigi.ledger.rules import LineSpec, UnbalancedEntry, check_lines, reversed_lines

# source_type of entries typed by an accountant (the only ones the ledger API may reverse).
MANUAL = "manual"

# Chart lookups are hot (every deposit) and charts change rarely: cache per process, keyed by
# organisation; `chart_cache_clear` is called whenever an account is created.
_chart_cache: dict[int, dict[str, Account]] = {}


def chart_cache_clear() -> None:
    _chart_cache.clear()


def _accounts_for(book: Book) -> dict[str, Account]:
    chart = _chart_cache.get(book.organisation_id)
    if chart is None:
        chart = {a.code: a for a in Account.objects.filter(organisation_id=book.organisation_id)}
        _chart_cache[book.organisation_id] = chart
    return chart


def entry_post(
    *,
    book: Book,
    lines: list[LineSpec],
    value_date: date,
    description: str,
    acting_user,
    source_type: str = "",
    source_id: str = "",
    posting_date: date | None = None,
    reversal_of: JournalEntry | None = None,
    audit: bool = True,
) -> JournalEntry:
    """Post one balanced entry; refuse anything else with nothing written.

    Runs in the caller's transaction when there is one (a deposit posts its entry together with
    the deposit), or in its own. `audit=False` is for callers that audit the business operation
    themselves in the same transaction (one row per deposit, not two).

    Refused, with nothing written: fewer than two lines, an amount that is not a positive int
    (floats, bools, zero, negatives), a side other than D/C, debits different from credits by
    even one franc, an account unknown to the book's chart or not postable (a heading), a
    value date in a closed month of the book. A value date after today is accepted: close of
    business and schedulers post for explicit business dates (manual entries are held to
    today or earlier by manual_entry_post).
    """
    try:
        check_lines(lines)
    except UnbalancedEntry as exc:
        raise ApplicationError(
            "entry_unbalanced", _("The entry does not balance: debits must equal credits."),
            {"lines": _("Debits must equal credits, with positive whole amounts.")},
        ) from exc
    chart = _accounts_for(book)
    accounts = []
    for line in lines:
        account = chart.get(line.account)
        if account is None:
            chart_cache_clear()
            account = Account.objects.filter(
                organisation_id=book.organisation_id, code=line.account
            ).first()
        if account is None or not account.postable:
            raise ApplicationError(
                "entry_unknown_account", _("Unknown or non-postable account %(code)s.")
                % {"code": line.account},
                {"lines": _("Unknown or non-postable account %(code)s.") % {"code": line.account}},
            )
        accounts.append(account)
    posting_date = posting_date or timezone.localdate()
    created_by = acting_user if getattr(acting_user, "pk", None) else None
    # Its own transaction when called alone, else the caller's (a deposit's entry commits with
    # the deposit).
    outer = nullcontext() if transaction.get_connection().in_atomic_block \
        else transaction.atomic()
    with outer:
        # Taking the number first locks the book's counter row for the year (UPDATE ...
        # RETURNING). period_close takes the same lock, so a month cannot close between the
        # closed-month check below and the insert; postings of one book queue here anyway.
        # On PostgreSQL the number and the entry's insert are one statement (`_numbered_insert`:
        # same lock, same order); the first entry of a book's year, or SQLite, take two.
        numbered = _numbered_insert(book, value_date, posting_date, description, source_type,
                                    str(source_id), reversal_of, created_by) \
            if not audit and prepared.vendor() == "postgresql" else None
        number = numbered[0] if numbered is not None else \
            next_number(f"entry:{book.pk}", posting_date.year)
        # Should a statement below fail, a half-written entry must never commit: without a
        # savepoint the caller's transaction is marked for rollback. Callers that audit
        # themselves (audit=False: the counter, in its own durable transaction that any failure
        # aborts anyway) skip the savepoint's two statements; the others keep it, so a failed
        # posting (e.g. its audit row) leaves their transaction usable.
        with transaction.atomic(savepoint=audit):
            # Inserted only if the value date's month is open: the check and the insert are one
            # statement, run after the counter's lock, so it sees a close committed meanwhile.
            entry = numbered[1] if numbered is not None else \
                _entry_insert(book, number, value_date, posting_date, description,
                              source_type, str(source_id), reversal_of, created_by)
            if entry is not None:
                # The lines and the balances in one round trip where the driver allows it.
                with prepared.cursor() as cursor:
                    cursor.execute_all([
                        _lines_statement(entry.pk, book.pk, value_date, lines, accounts),
                        _balances_statement(book, zip(accounts, lines, strict=True))])
                if audit:
                    audit_log(
                        actor=acting_user, event_type="ledger.entry_posted", subject=entry,
                        after={"book": book.code, "number": number, "year": posting_date.year,
                               "value_date": value_date.isoformat(),
                               "total": sum(ln.amount for ln in lines if ln.side == "D")},
                        organisation=book.organisation, unit=book.unit,
                    )
        if entry is None:
            # A closed month. Nothing is written but the number, and the counter's lock is still
            # ours: giving the number back keeps numbering gapless, and refusing outside the
            # block above leaves a caller's transaction usable (a batch may skip this item).
            with prepared.cursor() as cursor:
                cursor.execute(_sql("counter_back", _counter_back_sql),
                               [f"entry:{book.pk}", posting_date.year])
            raise _period_closed(value_date)
    return entry


# Every deposit, withdrawal and transfer ends in entry_post: its statements are written once per
# process and database vendor instead of being compiled by the ORM on each call (the ORM's
# create + bulk_create + exists() cost more than the database work itself). Table and column
# names come from the models; every value is a parameter (jigi.core.prepared keeps them).


def _sql(name: str, build) -> str:
    return prepared.statement(f"ledger.{name}", build)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _counter_back_sql() -> str:
    return (f"UPDATE {_q(Counter._meta.db_table)} SET value = value - 1 "  # noqa: S608
            "WHERE scope = %s AND year = %s")


def _period_closed(value_date: date) -> ApplicationError:
    return ApplicationError(
        "period_closed", _("The period %(month)02d/%(year)d is closed for this book.")
        % {"month": value_date.month, "year": value_date.year},
        {"value_date": _("This month is closed; post in an open month.")},
    )


_ENTRY_COLUMNS = ("book_id", "year", "number", "value_date", "posting_date", "description",
                  "source_type", "source_id", "reversal_of_id", "created_by_id", "created_at")


def _entry_sql() -> str:
    # INSERT ... SELECT with no FROM: one row, or none when the value date's month is closed.
    return (f"INSERT INTO {_q(JournalEntry._meta.db_table)} "  # noqa: S608
            f"({', '.join(_q(c) for c in _ENTRY_COLUMNS)}) "
            f"SELECT {', '.join(['%s'] * len(_ENTRY_COLUMNS))} WHERE NOT EXISTS ("
            f"SELECT 1 FROM {_q(ClosedPeriod._meta.db_table)} "
            f"WHERE book_id = %s AND year = %s AND month = %s) RETURNING {_q('id')}")


def _numbered_entry_sql() -> str:
    # PostgreSQL: the counter's UPDATE (which locks the row, as next_number does) feeds the
    # entry's conditional insert; the outer SELECT gives (number, id), id NULL when the month is
    # closed (the number is then given back by the caller), and no row when the book has no
    # counter for the year yet (the caller takes the two-statement path, which creates it).
    cols = ", ".join(_q(c) for c in _ENTRY_COLUMNS)
    values = ", ".join("n.value" if c == "number" else "%s" for c in _ENTRY_COLUMNS)
    return (f"WITH n AS (UPDATE {_q(Counter._meta.db_table)} SET value = value + 1 "  # noqa: S608
            "WHERE scope = %s AND year = %s RETURNING value), "
            f"e AS (INSERT INTO {_q(JournalEntry._meta.db_table)} ({cols}) SELECT {values} "
            f"FROM n WHERE NOT EXISTS (SELECT 1 FROM {_q(ClosedPeriod._meta.db_table)} "
            f"WHERE book_id = %s AND year = %s AND month = %s) RETURNING {_q('id')}) "
            f"SELECT n.value, e.{_q('id')} FROM n LEFT JOIN e ON TRUE")


def _numbered_insert(book: Book, value_date: date, posting_date: date, description: str,
                     source_type: str, source_id: str, reversal_of: JournalEntry | None,
                     created_by) -> tuple[int, JournalEntry | None] | None:
    """(number, the entry or None for a closed month), or None when the counter row is
    missing (nothing done)."""
    ops = connection.ops
    created_at = timezone.now()
    values = {"book_id": book.pk, "year": posting_date.year,
              "value_date": ops.adapt_datefield_value(value_date),
              "posting_date": ops.adapt_datefield_value(posting_date),
              "description": description[:255], "source_type": source_type,
              "source_id": source_id,
              "reversal_of_id": reversal_of.pk if reversal_of is not None else None,
              "created_by_id": created_by.pk if created_by is not None else None,
              "created_at": ops.adapt_datetimefield_value(created_at)}
    with prepared.cursor() as cursor:
        cursor.execute(_sql("numbered_entry", _numbered_entry_sql), [
            f"entry:{book.pk}", posting_date.year,
            *(values[c] for c in _ENTRY_COLUMNS if c != "number"),
            book.pk, value_date.year, value_date.month])
        row = cursor.fetchone()
    if row is None:
        return None
    number, pk = row
    if pk is None:
        return number, None
    return number, _entry_object(pk, book, number, value_date, posting_date, description,
                                 source_type, source_id, reversal_of, created_by, created_at)


def _entry_insert(book: Book, number: int, value_date: date, posting_date: date,
                  description: str, source_type: str, source_id: str,
                  reversal_of: JournalEntry | None, created_by) -> JournalEntry | None:
    """The entry's row, or None (nothing inserted) when its value date is in a closed month."""
    ops = connection.ops
    created_at = timezone.now()
    with prepared.cursor() as cursor:
        cursor.execute(_sql("entry", _entry_sql), [
            book.pk, posting_date.year, number, ops.adapt_datefield_value(value_date),
            ops.adapt_datefield_value(posting_date), description[:255], source_type,
            source_id, reversal_of.pk if reversal_of is not None else None,
            created_by.pk if created_by is not None else None,
            ops.adapt_datetimefield_value(created_at),
            book.pk, value_date.year, value_date.month])
        row = cursor.fetchone()
    if row is None:
        return None
    return _entry_object(row[0], book, number, value_date, posting_date, description,
                         source_type, source_id, reversal_of, created_by, created_at)


def _entry_object(pk: int, book: Book, number: int, value_date: date, posting_date: date,
                  description: str, source_type: str, source_id: str,
                  reversal_of: JournalEntry | None, created_by, created_at) -> JournalEntry:
    entry = prepared.new(
        JournalEntry, pk=pk, book=book, year=posting_date.year, number=number,
        value_date=value_date, posting_date=posting_date, description=description[:255], source_type=source_type,
        source_id=source_id, reversal_of=reversal_of, created_by=created_by,
        created_at=created_at)
    entry._state.adding, entry._state.db = False, DEFAULT_DB_ALIAS
    return entry


def _lines_sql(n: int):
    def build() -> str:
        table = _q(JournalLine._meta.db_table)
        return (f"INSERT INTO {table} (entry_id, book_id, value_date, account_id, side, "  # noqa: S608
                f"amount, subledger) VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s)'] * n)}")
    return build


def _lines_statement(entry_id: int, book_id: int, value_date: date, lines: list[LineSpec],
                     accounts: list[Account]) -> tuple[str, list]:
    day = connection.ops.adapt_datefield_value(value_date)
    params: list = []
    for line, account in zip(lines, accounts, strict=True):
        params += [entry_id, book_id, day, account.pk, line.side, line.amount, line.subledger]
    return _sql(f"lines{len(lines)}", _lines_sql(len(lines))), params


def _balances_statement(book: Book, pairs) -> tuple[str, list]:
    """Add the entry's debits and credits to the kept totals in one statement.

    INSERT ... ON CONFLICT DO UPDATE (PostgreSQL, SQLite >= 3.24) creates a missing row and
    increments an existing one atomically: no read-modify-write, no lost update, no race
    between two first postings to a new account, one round trip whatever the number of
    accounts. Rows are listed by account id so concurrent postings lock them in the same
    order and cannot deadlock.
    """
    per_account: dict[int, list[int]] = {}
    for account, line in pairs:
        d_c = per_account.setdefault(account.pk, [0, 0])
        d_c[0 if line.side == "D" else 1] += line.amount
    params: list[int] = []
    for account_id in sorted(per_account):
        params += [book.pk, account_id, *per_account[account_id]]
    return _sql(f"balances{len(per_account)}", _balances_sql(len(per_account))), params


def _balances_sql(n: int):
    def build() -> str:
        table = _q(AccountBalance._meta.db_table)
        values = ", ".join(["(%s, %s, %s, %s)"] * n)
        return (f"INSERT INTO {table} (book_id, account_id, debit, credit) "  # noqa: S608
                f"VALUES {values} ON CONFLICT (book_id, account_id) DO UPDATE SET "
                f"debit = {table}.debit + excluded.debit, "
                f"credit = {table}.credit + excluded.credit")
    return build


def entry_reverse(
    *, entry: JournalEntry, reason: str, acting_user, value_date: date | None = None
) -> JournalEntry:
    """Cancel an entry by posting its mirror image (same accounts, sides swapped) dated
    `value_date` (today by default, so a closed month is corrected in an open one). The
    original stays as it was. An entry is reversed at most once, and a reversal is never
    reversed: a mistaken reversal is corrected by posting the right entry again."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("reason_required", _("A reason is required."),
                               {"reason": _("Say why this entry is reversed.")})
    _refuse_control_characters(reason, "reason")
    with transaction.atomic():
        # The row lock makes two concurrent reversals of one entry queue; the second then
        # sees the first one's reversal and is refused (reversal_of is also unique).
        locked = JournalEntry.objects.select_for_update().select_related("book").get(
            pk=entry.pk)
        if locked.reversal_of_id is not None:
            raise ApplicationError("entry_is_reversal", _("A reversal cannot itself be reversed."),
                                   status_code=409)
        if JournalEntry.objects.filter(reversal_of=locked).exists():
            raise ApplicationError("entry_already_reversed", _("This entry is already reversed."),
                                   status_code=409)
        lines = [LineSpec(ln.account.code, ln.side, ln.amount, ln.subledger)
                 for ln in locked.lines.select_related("account").order_by("pk")]
        description = gettext("Reversal of %(entry)s: %(reason)s") % {
            "entry": f"{locked.book.code}/{locked.year}/{locked.number}", "reason": reason}
        reversal = entry_post(
            book=locked.book, lines=reversed_lines(lines),
            value_date=value_date or timezone.localdate(),
            description=description[:255], acting_user=acting_user,
            source_type=locked.source_type, source_id=locked.source_id, reversal_of=locked,
            audit=False,
        )
        audit_log(actor=acting_user, event_type="ledger.entry_reversed", subject=locked,
                  after={"reversal": reversal.pk, "number": reversal.number,
                         "value_date": reversal.value_date.isoformat(), "reason": reason},
                  organisation=locked.book.organisation, unit=locked.book.unit)
    return reversal


def _require_accountant(user, book: Book) -> None:
    """Manual entries, reversals and month closes: the book's manager or the organisation's
    administrator (ledger.roles.ACCOUNTANT_ROLES), never a teller or an auditor."""
    from jigi.ledger.selectors import book_list_for_user

    if not book_list_for_user(user, write=True, roles=ACCOUNTANT_ROLES).filter(
            pk=book.pk).exists():
        raise Forbidden("forbidden", _("Only the manager of this book may do this."))


def _refuse_control_characters(text: str, field: str) -> None:
    # Nothing typed by a person contains them, and PostgreSQL cannot store NUL.
    if any(ord(c) < 32 or ord(c) == 127 for c in str(text)):
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {field: _("Remove the control characters.")}, status_code=422)


def _not_in_future(value_date: date) -> None:
    if value_date > timezone.localdate():
        raise ApplicationError(
            "value_date_in_future", _("The value date is in the future."),
            {"value_date": _("A manual entry records what has happened: today or earlier.")},
            status_code=422)


def manual_entry_post(
    *, book: Book, lines: list[LineSpec], value_date: date, description: str, acting_user
) -> JournalEntry:
    """A journal entry typed by an accountant (an expense paid, a correction, an opening
    balance). Only ACCOUNTANT_ROLES on the book; value date today or earlier (batches may
    post for a future business date, people may not); one audit row with the lines, since a
    hand-made entry is the first thing an auditor reviews."""
    _require_accountant(acting_user, book)
    _not_in_future(value_date)
    description = (description or "").strip()
    if not description:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"description": _("Say what this entry is for.")},
                               status_code=422)
    _refuse_control_characters(description, "description")
    for line in lines:
        _refuse_control_characters(f"{line.account}{line.subledger}", "lines")
    with transaction.atomic():
        entry = entry_post(book=book, lines=lines, value_date=value_date,
                           description=description, acting_user=acting_user,
                           source_type=MANUAL, audit=False)
        audit_log(actor=acting_user, event_type="ledger.manual_entry_posted", subject=entry,
                  after={"book": book.code, "number": entry.number, "year": entry.year,
                         "value_date": value_date.isoformat(), "description": description,
                         "lines": [[ln.account, ln.side, ln.amount] for ln in lines]},
                  organisation=book.organisation, unit=book.unit)
    return entry


def manual_entry_reverse(
    *, entry: JournalEntry, reason: str, acting_user, value_date: date | None = None
) -> JournalEntry:
    """Reverse a manual entry. Entries posted by an operation (a deposit, a disbursement) are
    reversed by that operation's own service, so the business record moves with its entry."""
    _require_accountant(acting_user, entry.book)
    if value_date is not None:
        _not_in_future(value_date)
    if entry.source_type != MANUAL:
        raise Conflict(
            "entry_not_manual",
            _("This entry belongs to an operation; reverse the operation itself."),
        )
    return entry_reverse(entry=entry, reason=reason, acting_user=acting_user,
                         value_date=value_date)


def period_close(*, book: Book, year: int, month: int, acting_user) -> ClosedPeriod:
    """Close a month of a book: no posting with a value date inside it is accepted afterwards.

    There is no reopening (docs/ledger.md): a closed month has been reported, and a mistake
    found later is corrected by an entry (or a reversal) dated in an open month. A month can
    be closed from its last day on, not before.
    """
    if not 1 <= month <= 12 or not 1900 <= year <= 9999:
        raise ApplicationError("invalid", _("Some fields are not valid."),
                               {"month": _("Choose a month from 1 to 12 and a real year.")},
                               status_code=422)
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    if last_day > timezone.localdate():
        raise ApplicationError(
            "period_not_ended", _("This month has not ended yet."),
            {"month": _("A month can be closed from its last day on.")}, status_code=422)
    with transaction.atomic():
        _lock_numbering(book)
        period, created = ClosedPeriod.objects.get_or_create(
            book=book, year=year, month=month,
            defaults={"closed_by": acting_user if getattr(acting_user, "pk", None) else None},
        )
        if not created:
            raise Conflict("period_already_closed", _("This month is already closed."))
        audit_log(actor=acting_user, event_type="ledger.period_closed", subject=period,
                  after={"book": book.code, "year": year, "month": month},
                  organisation=book.organisation, unit=book.unit)
    return period


def manual_period_close(*, book: Book, year: int, month: int, acting_user) -> ClosedPeriod:
    """A month close asked for by a person: the book's manager or the organisation's
    administrator (close of business calls period_close directly)."""
    _require_accountant(acting_user, book)
    return period_close(book=book, year=year, month=month, acting_user=acting_user)


def _lock_numbering(book: Book) -> None:
    """Hold the book's entry counters (the rows entry_post locks first) until commit.

    The current year's row is created if missing, so even the book's first posting of the
    year waits for the close and then sees the closed month.
    """
    scope = f"entry:{book.pk}"
    Counter.objects.get_or_create(scope=scope, year=timezone.localdate().year)
    list(Counter.objects.select_for_update().filter(scope=scope).order_by("pk")
         .values_list("pk", flat=True))


def chart_seed(*, organisation, acting_user=None) -> int:
    """Create the organisation's chart from ledger.charts if missing. Returns accounts created."""
    from jigi.ledger.charts import CHARTS

    rows = CHARTS[organisation.kind]
    created = 0
    with transaction.atomic():
        by_code = {a.code: a for a in Account.objects.filter(organisation=organisation)}
        for code, name, kind, parent, postable in rows:
            if code in by_code:
                continue
            by_code[code] = Account.objects.create(
                organisation=organisation, code=code, name=name, kind=kind,
                parent=by_code.get(parent), postable=postable,
            )
            created += 1
        if created:
            audit_log(actor=acting_user, event_type="ledger.chart_seeded",
                      subject=organisation, after={"accounts": created},
                      organisation=organisation)
    chart_cache_clear()
    return created


def book_open(*, organisation, code: str, name: str, unit=None, acting_user=None) -> Book:
    with transaction.atomic():
        book = Book.objects.create(organisation=organisation, unit=unit, code=code, name=name)
        AccountBalance.objects.bulk_create([
            AccountBalance(book=book, account=a)
            for a in Account.objects.filter(organisation=organisation, postable=True)])
        audit_log(actor=acting_user, event_type="ledger.book_opened", subject=book,
                  after={"code": code}, organisation=organisation, unit=unit)
    return book
