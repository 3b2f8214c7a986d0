from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from jigi.core.errors import ApplicationError
from jigi.ledger import selectors
from jigi.orgs.models import Organisation
from jigi.orgs.scoping import user_scope


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def book_list(request):
    books = selectors.books_for_user(request.user).order_by("code")
    scope = user_scope(request.user)
    orgs = Organisation.objects.all() if scope.is_superuser else Organisation.objects.filter(
        pk__in=scope.org_wide_ids())
    return render(request, "ledger/books.html", {"books": books, "orgs": orgs})


@login_required
def book_trial_balance(request, pk: int):
    try:
        book = selectors.get_book_for_user(request.user, pk)
    except ApplicationError:
        raise Http404 from None
    as_of = _date(request.GET.get("as_of"))
    tb = selectors.trial_balance(book=book, as_of=as_of)
    template = "ledger/_trial_balance.html" if request.htmx else "ledger/trial_balance.html"
    return render(request, template, {"book": book, "tb": tb, "as_of": as_of})


@login_required
def org_trial_balance(request, code: str):
    scope = user_scope(request.user)
    org = Organisation.objects.filter(code=code.upper()).first()
    if org is None or not (scope.is_superuser or org.pk in scope.org_wide_ids()):
        raise Http404
    as_of = _date(request.GET.get("as_of"))
    tb = selectors.consolidated_trial_balance(organisation=org, as_of=as_of)
    template = "ledger/_trial_balance.html" if request.htmx else "ledger/trial_balance.html"
    return render(request, template, {"org": org, "tb": tb, "as_of": as_of})


@login_required
def account_statement(request, pk: int, code: str):
    try:
        book = selectors.get_book_for_user(request.user, pk)
        date_from = _date(request.GET.get("from"))
        date_to = _date(request.GET.get("to"))
        st = selectors.account_statement(book=book, account_code=code, date_from=date_from,
                                         date_to=date_to)
    except ApplicationError:
        raise Http404 from None
    return render(request, "ledger/statement.html", {"book": book, "st": st})
