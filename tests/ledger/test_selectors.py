"""Reads: scoping of books, statements, trial balances, consolidation."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.core.errors import NotFound
from jigi.ledger.models import Book
from jigi.ledger.roles import ACCOUNTANT_ROLES
from jigi.ledger.rules import LineSpec
from jigi.ledger.selectors import (
    account_statement,
    book_list_for_user,
    consolidated_trial_balance,
    get_book_for_user,
    get_entry_for_user,
    trial_balance,
)
from jigi.ledger.services import book_open, entry_post
from jigi.orgs.models import Role
from jigi.orgs.services import role_grant

D = date(2026, 10, 15)


def _book(unit):
    return Book.objects.get(unit=unit)


def _post(book, lines, value_date=D, description="op"):
    return entry_post(book=book, lines=[LineSpec(*ln) for ln in lines], value_date=value_date,
                      description=description, acting_user=None)


def _codes(user, **kw):
    return set(book_list_for_user(user, **kw).values_list("code", flat=True))


def test_books_follow_the_units_of_each_role(world):
    u = world.users
    assert _codes(u["teller_a"]) == {"KONDO-C001"}
    assert _codes(u["teller_b"]) == {"KONDO-C002"}
    assert _codes(u["manager_a"]) == {"KONDO-C001"}
    assert _codes(u["auditor"]) == {"KONDO-RES", "KONDO-C001", "KONDO-C002"}
    assert _codes(u["mutual_manager"]) == {"UTM-M01"}
    # Clinic staff work for a provider; the organiser's section keeps no book.
    assert _codes(u["clinic"]) == set()
    assert _codes(u["organiser"]) == set()
    assert _codes(u["admin"]) == set(Book.objects.values_list("code", flat=True))


def test_a_regional_role_sees_its_caisses_but_not_head_office(world):
    user = world.users["teller_b"]
    role_grant(user=user, organisation=world.orgs.kondo, role=Role.CAISSE_MANAGER,
               unit=world.region_segou)
    user = type(user).objects.get(pk=user.pk)  # scope is cached per user object
    assert _codes(user) == {"KONDO-C001", "KONDO-C002"}
    assert _codes(user, write=True, roles=ACCOUNTANT_ROLES) == {"KONDO-C001"}


def test_a_head_office_book_without_unit_is_for_organisation_wide_roles(world):
    book = book_open(organisation=world.orgs.kondo, code="KONDO-HQ", name="Siège")
    assert book.pk in book_list_for_user(world.users["auditor"]).values_list("pk", flat=True)
    for who in ("teller_a", "manager_a", "mutual_manager"):
        with pytest.raises(NotFound):
            get_book_for_user(world.users[who], book.pk)


def test_auditors_read_but_do_not_write(world):
    assert _codes(world.users["auditor"], write=True, roles=ACCOUNTANT_ROLES) == set()
    assert _codes(world.users["teller_a"], write=True, roles=ACCOUNTANT_ROLES) == set()
    assert _codes(world.users["manager_a"], write=True, roles=ACCOUNTANT_ROLES) == {"KONDO-C001"}


def test_entries_are_scoped_like_their_book(world):
    entry = _post(_book(world.caisse_a), [("101", "D", 10), ("251", "C", 10)])
    assert get_entry_for_user(world.users["teller_a"], entry.pk) == entry
    assert get_entry_for_user(world.users["auditor"], entry.pk) == entry
    for who in ("teller_b", "mutual_manager", "clinic"):
        with pytest.raises(NotFound):
            get_entry_for_user(world.users[who], entry.pk)
    with pytest.raises(NotFound):
        get_book_for_user(world.users["teller_a"], 10**9)


def test_statement_running_balance_opening_and_closing(world):
    book = _book(world.caisse_a)
    for day, side, amount, sub in [(1, "C", 10_000, "SAV-1"), (3, "C", 999, "SAV-2"),
                                   (5, "D", 3_000, "SAV-1"), (20, "C", 2_500, "SAV-1"),
                                   (31, "D", 1, "SAV-1")]:
        other = "D" if side == "C" else "C"
        _post(book, [("251", side, amount, sub), ("101", other, amount)],
              value_date=date(2026, 10, day), description=f"op {day}")
    st = account_statement(book, "251", date(2026, 10, 2), date(2026, 10, 30), "SAV-1")
    assert st.opening == 10_000
    assert [(ln.value_date.day, ln.debit, ln.credit, ln.balance) for ln in st.lines] == [
        (5, 3_000, 0, 7_000), (20, 0, 2_500, 9_500)]
    assert (st.closing, st.total_debit, st.total_credit, st.truncated) == (9_500, 3_000, 2_500,
                                                                           False)
    whole = account_statement(book, "251")
    assert [ln.balance for ln in whole.lines] == [10_000, 10_999, 7_999, 10_499, 10_498]
    assert (whole.opening, whole.closing) == (0, 10_498)
    # Cash is debit-normal: the same movements show from the other side.
    cash = account_statement(book, "101", date_to=date(2026, 10, 5))
    assert [ln.balance for ln in cash.lines] == [10_000, 10_999, 7_999]


def test_statement_cut_at_the_limit_keeps_exact_totals(world):
    book = _book(world.caisse_a)
    for day in range(1, 6):
        _post(book, [("101", "D", day * 100), ("251", "C", day * 100)],
              value_date=date(2026, 10, day))
    st = account_statement(book, "101", limit=2)
    assert st.truncated
    assert [ln.balance for ln in st.lines] == [100, 300]
    assert (st.total_debit, st.closing) == (1_500, 1_500)


def test_statement_of_an_unknown_account_is_not_found(world):
    with pytest.raises(NotFound):
        account_statement(_book(world.caisse_a), "9999")
    with pytest.raises(NotFound):
        account_statement(_book(world.caisse_a), "701")  # UTM's chart


def test_trial_balance_rows_totals_and_as_of(world):
    book = _book(world.caisse_a)
    _post(book, [("101", "D", 1_000), ("57", "C", 1_000)], value_date=date(2026, 1, 10))
    _post(book, [("101", "D", 4_000), ("57", "C", 4_000)], value_date=date(2026, 3, 10))
    _post(book, [("6025", "D", 250), ("251", "C", 250)], value_date=date(2026, 3, 31))
    _post(book, [("202", "D", 3_000), ("101", "C", 3_000)], value_date=date(2026, 4, 1))
    tb = trial_balance(book)
    assert [(r.code, r.debit, r.credit, r.balance) for r in tb.rows] == [
        ("101", 5_000, 3_000, 2_000), ("202", 3_000, 0, 3_000), ("251", 0, 250, 250),
        ("57", 0, 5_000, 5_000), ("6025", 250, 0, 250)]
    assert (tb.total_debit, tb.total_credit, tb.balanced) == (8_250, 8_250, True)
    feb = trial_balance(book, as_of=date(2026, 2, 1))
    assert [(r.code, r.balance) for r in feb.rows] == [("101", 1_000), ("57", 1_000)]
    assert trial_balance(book, as_of=date(2026, 3, 31)).total_debit == 5_250
    assert trial_balance(book, as_of=date(2025, 12, 31)).rows == []
    # As of any date after the last posting, the lines give the kept totals.
    assert trial_balance(book, as_of=date(2030, 1, 1)).rows == tb.rows


def test_consolidated_is_the_sum_of_books_and_a_region_takes_its_subtree(world):
    for unit, amount in [(world.caisse_a, 1_000), (world.caisse_b, 2_000),
                         (world.orgs.network, 40)]:
        _post(_book(unit), [("101", "D", amount), ("251", "C", amount)])
    _post(_book(world.mutual_1), [("57", "D", 550), ("701", "C", 550)])
    tb = consolidated_trial_balance(world.orgs.kondo)
    assert {r.code: r.balance for r in tb.rows} == {"101": 3_040, "251": 3_040}
    assert tb.books == 3
    seg = consolidated_trial_balance(world.orgs.kondo, unit=world.region_segou)
    assert {r.code: r.balance for r in seg.rows} == {"101": 1_000, "251": 1_000}
    assert seg.books == 1
    assert seg.title == "Kondo Jigima · Région de Ségou"
    utm = consolidated_trial_balance(world.orgs.utm)
    assert {r.code: r.balance for r in utm.rows} == {"57": 550, "701": 550}
    assert consolidated_trial_balance(world.orgs.kondo, as_of=date(2026, 10, 14)).rows == []
