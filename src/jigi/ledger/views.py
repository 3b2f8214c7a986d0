"""Ledger screens: books, a book's trial balance (as-of date through htmx), an account's
statement, a journal entry, and the consolidated trial balance for organisation-wide roles.
All reads go through ledger.selectors; what the user may not see is a 404."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from jigi.core.errors import ApplicationError
from jigi.ledger import selectors

# A screen shows at most this many statement lines (the totals still cover the whole period).
SCREEN_STATEMENT_LINES = 500


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _or_404(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ApplicationError:
        raise Http404 from None


@login_required
def book_list(request):
    return render(request, "ledger/books.html", {
        "books": selectors.book_list_for_user(request.user).order_by("code"),
        "orgs": selectors.organisations_for_consolidation(request.user),
    })


@login_required
def book_trial_balance(request, pk: int):
    book = _or_404(selectors.get_book_for_user, request.user, pk)
    as_of = _date(request.GET.get("as_of"))
    tb = selectors.trial_balance(book, as_of=as_of)
    template = "ledger/_trial_balance.html" if request.htmx else "ledger/trial_balance.html"
    return render(request, template, {"book": book, "tb": tb, "as_of": as_of})


@login_required
def org_trial_balance(request, code: str):
    org = _or_404(selectors.get_organisation_for_consolidation, request.user, code)
    as_of = _date(request.GET.get("as_of"))
    unit_code = request.GET.get("unit", "").strip()
    unit = _or_404(selectors.get_unit_of_organisation, org, unit_code) if unit_code else None
    tb = selectors.consolidated_trial_balance(org, as_of=as_of, unit=unit)
    template = "ledger/_trial_balance.html" if request.htmx else "ledger/trial_balance.html"
    return render(request, template, {
        "org": org, "tb": tb, "as_of": as_of, "unit": unit,
        "units": selectors.consolidation_units(org),
    })


@login_required
def account_statement(request, pk: int, code: str):
    book = _or_404(selectors.get_book_for_user, request.user, pk)
    date_from = _date(request.GET.get("from"))
    date_to = _date(request.GET.get("to"))
    subledger = request.GET.get("subledger", "").strip()[:64] or None
    st = _or_404(selectors.account_statement, book, code, date_from, date_to, subledger,
                 limit=SCREEN_STATEMENT_LINES)
    return render(request, "ledger/statement.html", {"book": book, "st": st})


@login_required
def entry_detail(request, pk: int):
    entry = _or_404(selectors.get_entry_for_user, request.user, pk)
    try:
        reversed_by = entry.reversed_by
    except type(entry).reversed_by.RelatedObjectDoesNotExist:
        reversed_by = None
    lines = sorted(entry.lines.all(), key=lambda ln: ln.pk)
    return render(request, "ledger/entry.html", {
        "entry": entry, "lines": lines, "reversed_by": reversed_by,
        "total": sum(ln.amount for ln in lines if ln.side == "D"),
    })
