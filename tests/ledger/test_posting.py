"""The posting service and its siblings: entry_post, entry_reverse, period_close, manual entries."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.ledger import services
from jigi.ledger.models import (
    Account,
    AccountBalance,
    Book,
    ClosedPeriod,
    JournalEntry,
    JournalLine,
)
from jigi.ledger.rules import LineSpec
from jigi.ledger.selectors import ledger_verify, trial_balance, unbalanced_entries
from jigi.ledger.services import (
    chart_cache_clear,
    entry_post,
    entry_reverse,
    manual_entry_post,
    manual_entry_reverse,
    manual_period_close,
    period_close,
)

D = date(2026, 10, 15)
TODAY = date(2026, 11, 20)


@pytest.fixture
def today(time_machine):
    time_machine.move_to("2026-11-20 10:00:00+00:00", tick=False)
    return TODAY


def _book(unit):
    return Book.objects.get(unit=unit)


def _state():
    """Everything a refused posting must leave untouched."""
    return (JournalEntry.objects.count(), JournalLine.objects.count(),
            list(AccountBalance.objects.order_by("pk").values_list("debit", "credit")),
            AuditEvent.objects.filter(event_type__startswith="ledger.").count())


def _post(book, amount=1_000, value_date=D, debit="101", credit="251", **kw):
    return entry_post(book=book, lines=[LineSpec(debit, "D", amount),
                                        LineSpec(credit, "C", amount)],
                      value_date=value_date, description="op", acting_user=kw.pop("user", None),
                      **kw)


def test_balanced_entry_is_posted_with_numbers_balances_and_audit(world):
    book = _book(world.caisse_a)
    user = world.users["manager_a"]
    e1 = entry_post(book=book, lines=[LineSpec("101", "D", 50_000), LineSpec("251", "C", 50_000)],
                    value_date=D, description="Dépôt", acting_user=user, posting_date=D)
    e2 = entry_post(book=book, lines=[LineSpec("102", "D", 10_000), LineSpec("101", "C", 10_000)],
                    value_date=D, description="Dotation guichet", acting_user=user, posting_date=D)
    assert (e1.number, e2.number, e1.year) == (1, 2, 2026)
    assert [(ln.account.code, ln.side, ln.amount) for ln in e1.lines.order_by("pk")] == [
        ("101", "D", 50_000), ("251", "C", 50_000)]
    tb = trial_balance(book)
    assert tb.balanced
    assert {r.code: (r.debit, r.credit, r.balance) for r in tb.rows} == {
        "101": (50_000, 10_000, 40_000), "102": (10_000, 0, 10_000), "251": (0, 50_000, 50_000)}
    assert ledger_verify(book) == []
    audit = AuditEvent.objects.filter(event_type="ledger.entry_posted", actor=user).order_by("pk")
    assert [a.after["total"] for a in audit] == [50_000, 10_000]
    assert audit[0].subject_id == str(e1.pk)
    assert audit[0].unit_id == world.caisse_a.pk
    assert audit[0].organisation_id == world.orgs.kondo.pk


def test_numbers_are_gapless_per_book_and_posting_year(world):
    a, b = _book(world.caisse_a), _book(world.caisse_b)
    numbers = [(_post(a, posting_date=date(2026, 12, 31)).number),
               (_post(b, posting_date=date(2026, 12, 31)).number),
               (_post(a, posting_date=date(2026, 12, 31)).number),
               (_post(a, posting_date=date(2027, 1, 2), value_date=date(2027, 1, 2)).number)]
    assert numbers == [1, 1, 2, 1]


def test_audit_false_leaves_auditing_to_the_caller(world):
    _post(_book(world.caisse_a), audit=False)
    assert not AuditEvent.objects.filter(event_type="ledger.entry_posted").exists()


@pytest.mark.parametrize(
    "lines",
    [
        [LineSpec("101", "D", 100), LineSpec("251", "C", 99)],
        [LineSpec("101", "D", 100)],
        [],
        [LineSpec("101", "D", 0), LineSpec("251", "C", 0)],
        [LineSpec("101", "D", -5), LineSpec("251", "C", -5)],
        [LineSpec("101", "D", 100.0), LineSpec("251", "C", 100.0)],
        [LineSpec("101", "D", True), LineSpec("251", "C", True)],
        [LineSpec("101", "D", "100"), LineSpec("251", "C", "100")],
        [LineSpec("101", "D", 10**16), LineSpec("251", "C", 10**16)],
        [LineSpec("101", "X", 100), LineSpec("251", "C", 100)],
        [LineSpec("999", "D", 100), LineSpec("251", "C", 100)],
        [LineSpec("25", "D", 100), LineSpec("251", "C", 100)],  # a heading, not postable
        [LineSpec("701", "D", 100), LineSpec("251", "C", 100)],  # UTM's chart, not Kondo's
    ],
)
def test_invalid_entries_are_refused_and_write_nothing(world, lines):
    book = _book(world.caisse_a)
    _post(book)
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        entry_post(book=book, lines=lines, value_date=D, description="x",
                   acting_user=world.users["manager_a"])
    assert exc.value.code in {"entry_unbalanced", "entry_unknown_account"}
    assert "lines" in exc.value.fields
    assert _state() == before


def test_closed_month_refuses_postings_and_gives_the_number_back(world):
    book = _book(world.caisse_a)
    period_close(book=book, year=2026, month=9, acting_user=world.users["manager_a"])
    assert _post(book, value_date=date(2026, 10, 1)).number == 1
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        _post(book, value_date=date(2026, 9, 30))
    assert exc.value.code == "period_closed"
    assert "value_date" in exc.value.fields
    assert _state() == before
    # The refused posting's number was rolled back with it: numbering stays gapless.
    assert _post(book, value_date=date(2026, 10, 1)).number == 2
    # Other books are not concerned by caisse A's close.
    _post(_book(world.caisse_b), value_date=date(2026, 9, 30))


def test_a_refusal_inside_a_callers_transaction_leaves_it_usable(world):
    """entry_post works in a savepoint when nested: a batch may skip one refused item and go on."""
    book = _book(world.caisse_a)
    period_close(book=book, year=2026, month=9, acting_user=None)
    with transaction.atomic():
        with pytest.raises(ApplicationError):
            _post(book, value_date=date(2026, 9, 1))
        ok = _post(book, value_date=date(2026, 10, 1))
    assert JournalEntry.objects.get().pk == ok.pk
    assert ok.number == 1


def test_a_closed_month_refusal_without_savepoint_gives_the_number_back(world):
    """audit=False (the counter's path) posts without a savepoint: the refusal must still leave
    the caller's transaction usable, nothing written and the numbering gapless."""
    book = _book(world.caisse_a)
    period_close(book=book, year=2026, month=9, acting_user=None)
    before = _state()
    with transaction.atomic():
        with pytest.raises(ApplicationError) as exc:
            _post(book, value_date=date(2026, 9, 1), audit=False)
        assert exc.value.code == "period_closed"
        assert _state() == before
        ok = _post(book, value_date=date(2026, 10, 1), audit=False)
    assert ok.number == 1
    assert [e.number for e in JournalEntry.objects.all()] == [1]
    assert ledger_verify(book) == []


def test_future_value_dates_are_accepted_by_the_service(world):
    """Close of business posts for explicit business dates, sometimes ahead of the clock."""
    entry = _post(_book(world.caisse_a), value_date=date(2099, 1, 2))
    assert entry.value_date == date(2099, 1, 2)


def test_audit_row_is_written_in_the_same_transaction(world, monkeypatch):
    book = _book(world.caisse_a)
    before = _state()

    def broken_audit(**kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(services, "audit_log", broken_audit)
    with pytest.raises(RuntimeError):
        _post(book)
    assert _state() == before


def test_a_new_account_gets_its_balance_row_on_first_posting(world):
    book = _book(world.caisse_a)
    Account.objects.create(organisation=world.orgs.kondo, code="6299", name="Frais divers",
                           kind="expense", postable=True)
    chart_cache_clear()
    _post(book, 700, debit="6299", credit="101")
    _post(book, 300, debit="6299", credit="101")
    row = AccountBalance.objects.get(book=book, account__code="6299")
    assert (row.debit, row.credit) == (1_000, 0)
    assert ledger_verify(book) == []


def test_ledger_verify_and_unbalanced_entries_detect_writes_that_bypass_the_service(world):
    book = _book(world.caisse_a)
    entry = _post(book, 5_000)
    assert ledger_verify(book) == []
    assert unbalanced_entries(book) == []
    AccountBalance.objects.filter(book=book, account__code="251").update(credit=4_999)
    JournalLine.objects.filter(entry=entry, side="D").update(amount=4_000)
    diffs = ledger_verify(book)
    assert [(d.account, d.kept_debit, d.kept_credit, d.lines_debit, d.lines_credit)
            for d in diffs] == [("101", 5_000, 0, 4_000, 0), ("251", 0, 4_999, 0, 5_000)]
    assert unbalanced_entries(book) == [entry.pk]


# --- Period close ------------------------------------------------------------------------------

def test_period_close_is_audited_and_refused_twice(world, today):
    book = _book(world.caisse_a)
    period = period_close(book=book, year=2026, month=10, acting_user=world.users["manager_a"])
    assert (period.year, period.month, period.closed_by) == (2026, 10, world.users["manager_a"])
    event = AuditEvent.objects.get(event_type="ledger.period_closed")
    assert event.after == {"book": book.code, "year": 2026, "month": 10}
    with pytest.raises(ApplicationError) as exc:
        period_close(book=book, year=2026, month=10, acting_user=None)
    assert (exc.value.code, exc.value.status_code) == ("period_already_closed", 409)
    assert ClosedPeriod.objects.count() == 1


@pytest.mark.parametrize(("year", "month", "code"), [
    (2026, 11, "period_not_ended"),  # the running month
    (2027, 1, "period_not_ended"),
    (2026, 13, "invalid"),
    (2026, 0, "invalid"),
    (10_000, 1, "invalid"),
])
def test_period_close_refuses_running_future_and_impossible_months(world, today, year, month,
                                                                   code):
    with pytest.raises(ApplicationError) as exc:
        period_close(book=_book(world.caisse_a), year=year, month=month, acting_user=None)
    assert exc.value.code == code
    assert not ClosedPeriod.objects.exists()


def test_a_month_can_be_closed_on_its_last_day(world, time_machine):
    time_machine.move_to("2026-11-30 18:00:00+00:00", tick=False)
    period_close(book=_book(world.caisse_a), year=2026, month=11, acting_user=None)
    with pytest.raises(ApplicationError):
        _post(_book(world.caisse_a), value_date=date(2026, 11, 30))


# --- Reversal ----------------------------------------------------------------------------------

def test_reversal_restores_balances_exactly_and_only_once(world):
    book = _book(world.caisse_a)
    _post(book, 2_000)
    before = {r.code: (r.balance) for r in trial_balance(book).rows}
    e = entry_post(book=book, lines=[LineSpec("101", "D", 7_500),
                                     LineSpec("7029", "C", 5_000),
                                     LineSpec("2545", "C", 2_500, "SAV-9")],
                   value_date=D, description="Frais", acting_user=None)
    r = entry_reverse(entry=e, reason="Erreur de saisie", acting_user=world.users["manager_a"],
                      value_date=D)
    assert r.reversal_of == e
    assert r.number == 3
    assert [(ln.account.code, ln.side, ln.amount, ln.subledger) for ln in r.lines.order_by("pk")] \
        == [("101", "C", 7_500, ""), ("7029", "D", 5_000, ""), ("2545", "D", 2_500, "SAV-9")]
    after = {r.code: r.balance for r in trial_balance(book).rows}
    assert after == {**before, "7029": 0, "2545": 0}
    assert ledger_verify(book) == []
    event = AuditEvent.objects.get(event_type="ledger.entry_reversed")
    assert event.subject_id == str(e.pk)
    assert event.after["reason"] == "Erreur de saisie"

    state = _state()
    with pytest.raises(ApplicationError) as exc:
        entry_reverse(entry=e, reason="encore", acting_user=None)
    assert (exc.value.code, exc.value.status_code) == ("entry_already_reversed", 409)
    with pytest.raises(ApplicationError) as exc:
        entry_reverse(entry=r, reason="annuler l'annulation", acting_user=None)
    assert (exc.value.code, exc.value.status_code) == ("entry_is_reversal", 409)
    with pytest.raises(ApplicationError) as exc:
        entry_reverse(entry=_post(book), reason="  ", acting_user=None)
    assert exc.value.code == "reason_required"
    assert JournalEntry.objects.count() == state[0] + 1  # only the last _post


def test_an_entry_of_a_closed_month_is_reversed_in_an_open_month(world, today):
    book = _book(world.caisse_a)
    e = _post(book, 4_000, value_date=date(2026, 9, 12))
    period_close(book=book, year=2026, month=9, acting_user=None)
    with pytest.raises(ApplicationError) as exc:
        entry_reverse(entry=e, reason="x", acting_user=None, value_date=date(2026, 9, 30))
    assert exc.value.code == "period_closed"
    r = entry_reverse(entry=e, reason="Doublon", acting_user=None)
    assert r.value_date == TODAY
    assert all(row.balance == 0 for row in trial_balance(book).rows)
    assert {row.code: row.balance for row in trial_balance(book, as_of=date(2026, 9, 30)).rows} \
        == {"101": 4_000, "251": 4_000}


# --- Manual entries ----------------------------------------------------------------------------

MANUAL_LINES = [LineSpec("62", "D", 12_500), LineSpec("101", "C", 12_500)]


@pytest.mark.parametrize("who", ["teller_a", "loan_officer_a", "auditor", "teller_b",
                                 "mutual_manager", "clinic"])
def test_only_the_books_manager_posts_manual_entries(world, today, who):
    before = _state()
    with pytest.raises(ApplicationError) as exc:
        manual_entry_post(book=_book(world.caisse_a), lines=MANUAL_LINES, value_date=D,
                          description="Fournitures", acting_user=world.users[who])
    assert exc.value.status_code == 403
    assert _state() == before


def test_manager_of_a_cannot_post_in_b_nor_at_head_office(world, today):
    for book in (_book(world.caisse_b), _book(world.orgs.network)):
        with pytest.raises(ApplicationError) as exc:
            manual_entry_post(book=book, lines=MANUAL_LINES, value_date=D, description="x",
                              acting_user=world.users["manager_a"])
        assert exc.value.status_code == 403
    assert not JournalEntry.objects.exists()


def test_manual_entry_is_audited_with_its_lines(world, today):
    book = _book(world.caisse_a)
    entry = manual_entry_post(book=book, lines=MANUAL_LINES, value_date=D,
                              description="  Fournitures de bureau ",
                              acting_user=world.users["manager_a"])
    assert (entry.source_type, entry.description) == ("manual", "Fournitures de bureau")
    event = AuditEvent.objects.get(subject_type="ledger.journalentry", subject_id=str(entry.pk))
    assert event.event_type == "ledger.manual_entry_posted"
    assert event.after["lines"] == [["62", "D", 12_500], ["101", "C", 12_500]]
    # The administrator of the network may post in any Kondo book, head office included.
    manual_entry_post(book=_book(world.orgs.network), lines=MANUAL_LINES, value_date=D,
                      description="Siège", acting_user=world.users["admin"])


@pytest.mark.parametrize(("value_date", "description", "field"), [
    (date(2026, 11, 21), "demain", "value_date"),
    (date(2026, 10, 1), "   ", "description"),
])
def test_manual_entry_refuses_future_dates_and_blank_descriptions(world, today, value_date,
                                                                  description, field):
    with pytest.raises(ApplicationError) as exc:
        manual_entry_post(book=_book(world.caisse_a), lines=MANUAL_LINES, value_date=value_date,
                          description=description, acting_user=world.users["manager_a"])
    assert exc.value.status_code == 422
    assert field in exc.value.fields
    assert not JournalEntry.objects.exists()


def test_manual_reversal_only_for_manual_entries(world, today):
    book = _book(world.caisse_a)
    manager = world.users["manager_a"]
    deposit = _post(book, 3_000, source_type="savings", source_id="42")
    with pytest.raises(ApplicationError) as exc:
        manual_entry_reverse(entry=deposit, reason="x", acting_user=manager)
    assert (exc.value.code, exc.value.status_code) == ("entry_not_manual", 409)
    manual = manual_entry_post(book=book, lines=MANUAL_LINES, value_date=D, description="x",
                               acting_user=manager)
    with pytest.raises(ApplicationError) as exc:
        manual_entry_reverse(entry=manual, reason="x", acting_user=world.users["teller_a"])
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        manual_entry_reverse(entry=manual, reason="x", acting_user=manager,
                             value_date=date(2026, 12, 1))
    assert exc.value.code == "value_date_in_future"
    reversal = manual_entry_reverse(entry=manual, reason="Saisie en double", acting_user=manager)
    assert reversal.reversal_of_id == manual.pk
    assert reversal.source_type == "manual"


def test_manual_period_close_is_for_managers(world, today):
    with pytest.raises(ApplicationError) as exc:
        manual_period_close(book=_book(world.caisse_a), year=2026, month=10,
                            acting_user=world.users["auditor"])
    assert exc.value.status_code == 403
    manual_period_close(book=_book(world.caisse_a), year=2026, month=10,
                        acting_user=world.users["manager_a"])
    assert ClosedPeriod.objects.get().closed_by == world.users["manager_a"]


def test_manual_entry_refuses_control_characters(world, today):
    for kwargs, field in [({"description": "Achat\x00"}, "description"),
                          ({"lines": [LineSpec("62\x01", "D", 5), LineSpec("101", "C", 5)]},
                           "lines")]:
        args = {"book": _book(world.caisse_a), "lines": MANUAL_LINES, "value_date": D,
                "description": "Achat", "acting_user": world.users["manager_a"], **kwargs}
        with pytest.raises(ApplicationError) as exc:
            manual_entry_post(**args)
        assert (exc.value.status_code, list(exc.value.fields)) == (422, [field])
    entry = _post(_book(world.caisse_a))
    with pytest.raises(ApplicationError) as exc:
        entry_reverse(entry=entry, reason="oups\x00", acting_user=None)
    assert list(exc.value.fields) == ["reason"]
    assert JournalEntry.objects.count() == 1


def test_chart_seed_is_idempotent_and_names_read_well(world):
    from jigi.core.models import AuditEvent as Event
    from jigi.ledger.services import chart_seed

    seeded = Event.objects.filter(event_type="ledger.chart_seeded").count()
    assert chart_seed(organisation=world.orgs.kondo) == 0
    assert Event.objects.filter(event_type="ledger.chart_seeded").count() == seeded
    book = _book(world.caisse_a)
    entry = _post(book)
    assert str(Account.objects.get(organisation=world.orgs.kondo, code="251")) == \
        "251 Dépôts à vue"
    assert str(book) == "KONDO Caisse de Niono"
    assert str(entry) == f"KONDO-C001/{entry.year}/1"
