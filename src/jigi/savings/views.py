"""Savings screens (htmx, French first). Thin: every write is a service call."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.core.lookup import id_or_none
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import get_person_for_user
from jigi.savings import selectors, services
from jigi.savings.api import statement_csv_response
from jigi.savings.models import DENOMINATIONS, OVERRIDABLE, ProductKind

MANAGER_ROLES = services.MANAGER_ROLES


def _account(request, pk):
    try:
        return selectors.get_account_for_user(request.user, pk)
    except ApplicationError:
        raise Http404 from None


def _date(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _message(exc: ApplicationError) -> str:
    """The error's sentence, then its field messages when they add something."""
    parts = [str(exc.message)]
    for value in exc.fields.values():
        for m in value if isinstance(value, list | tuple) else [value]:
            if str(m) not in parts:
                parts.append(str(m))
    return " ".join(parts)


def _counter_caisses(user):
    return list(user_scope(user).units(write=True, roles=services.COUNTER_ROLES)
                .filter(kind="caisse").order_by("code"))


@login_required
def counter_home(request):
    scope = user_scope(request.user)
    q = request.GET.get("q", "").strip()
    found = []
    if q:
        mine = selectors.accounts_for_user(request.user)
        found = list(mine.filter(number__icontains=q).order_by("number")[:20]) or list(
            mine.filter(person__search_name__contains=q.lower()).order_by("number")[:20]) or list(
            mine.filter(group_name__icontains=q).order_by("number")[:20])
    manager = scope.has_role(*MANAGER_ROLES)
    return render(request, "savings/counter.html", {
        "drawer": selectors.open_drawer_of(request.user), "q": q, "found": found,
        "pending": selectors.pending_for_user(request.user)[:50] if manager else [],
        "flagged": selectors.flagged_drawers_for_user(request.user)[:20] if manager else [],
        "caisses": _counter_caisses(request.user), "manager": manager,
        "recent_drawers": selectors.drawers_for_user(request.user)[:10],
    })


def _account_context(request, account) -> dict:
    return {"account": account, "available": services.available_balance(account),
            "holds": selectors.holds_of(account)}


@login_required
def account_detail(request, pk: int):
    account = _account(request, pk)
    recent = account.transactions.select_related("reversal_of", "created_by").order_by("-pk")[:15]
    manager = user_scope(request.user).covers_unit(account.caisse, write=True,
                                                    roles=MANAGER_ROLES)
    return render(request, "savings/account.html", _account_context(request, account) | {
        "recent": recent, "drawer": selectors.open_drawer_of(request.user),
        "signatories": account.signatories.select_related("person"), "manager": manager,
    })


@login_required
def account_balance(request, pk: int):
    """The live balance fragment (htmx polls it, so a second teller's operation shows up)."""
    account = _account(request, pk)
    return render(request, "savings/_balance.html", _account_context(request, account))


@login_required
@require_POST
def account_operation(request, pk: int, kind: str):
    """Deposit or withdrawal from the counter form; htmx swaps in the result fragment."""
    account = _account(request, pk)
    if kind not in ("deposit", "withdrawal"):
        raise Http404
    error = None
    op = None
    try:
        if kind == "deposit":
            op = services.savings_deposit(acting_user=request.user, account=account,
                                          amount=request.POST.get("amount", ""))
        else:
            op = services.savings_withdraw(acting_user=request.user, account=account,
                                           amount=request.POST.get("amount", ""),
                                           signatory_ids=request.POST.getlist("signatories"))
    except ApplicationError as exc:
        error = _message(exc)
    account.refresh_from_db()
    context = _account_context(request, account) | {"op": op, "error": error}
    if request.htmx:
        return render(request, "savings/_operation_result.html", context)
    if error:
        messages.error(request, error)
    elif op and op.receipt:
        return redirect("web:savings_receipt", pk=op.receipt.pk)
    return redirect("web:savings_account", pk=account.pk)


@login_required
def receipt(request, pk: int):
    """A small printable receipt (58 mm), in French or Bambara (?lang=fr|bm)."""
    try:
        rec = selectors.get_receipt_for_user(request.user, pk)
    except ApplicationError:
        raise Http404 from None
    lang = request.GET.get("lang")
    if lang not in ("fr", "bm", "en"):
        lang = translation.get_language()
    with translation.override(lang):
        return render(request, "savings/receipt.html", {"r": rec, "lang": lang})


@login_required
def statement(request, pk: int):
    """Statement for a period: on screen (printable), CSV, or the large-print passbook."""
    account = _account(request, pk)
    date_from, date_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
    if date_from and date_to and date_from > date_to:
        # As the API does (422 on date_to): a reversed period is refused, not shown as an
        # empty statement whose "opening" balance is the balance at the end.
        error = _("The end is before the start.")
        if request.GET.get("format") == "csv":
            return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
        messages.error(request, error)
        date_from = date_to = None
    st = selectors.account_statement(account=account, date_from=date_from, date_to=date_to)
    if request.GET.get("format") == "csv":
        return statement_csv_response(account, st)
    template = "savings/passbook.html" if request.GET.get("passbook") else "savings/statement.html"
    return render(request, template, {"account": account, "st": st})


@login_required
def drawer(request):
    caisses = _counter_caisses(request.user)
    current = selectors.open_drawer_of(request.user)
    closed = None
    counted = {}
    if request.method == "POST":
        try:
            if current is None:
                caisse = next((c for c in caisses if str(c.pk) == request.POST.get("caisse")),
                              None)
                if caisse is None:
                    raise PermissionDenied
                services.drawer_open(acting_user=request.user, caisse=caisse,
                                     amount=request.POST.get("amount", ""))
                messages.success(request, _("Drawer open."))
                return redirect("web:savings_drawer")
            counted = {str(d): request.POST.get(f"d{d}", "").strip() for d in DENOMINATIONS}
            closed = services.drawer_close(acting_user=request.user, drawer=current,
                                           count=counted)
            current = None
        except ApplicationError as exc:
            messages.error(request, _message(exc))
    return render(request, "savings/drawer.html", {
        "drawer": current, "closed": closed, "caisses": caisses,
        "rows": [(d, counted.get(str(d), "")) for d in DENOMINATIONS],
    })


@login_required
@require_POST
def drawer_acknowledge(request, pk: int):
    d = selectors.flagged_drawers_for_user(request.user).filter(pk=pk).first()
    if d is None:
        raise Http404
    try:
        services.drawer_difference_acknowledge(acting_user=request.user, drawer=d,
                                               note=request.POST.get("note", ""))
        messages.success(request, _("Difference acknowledged."))
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    return redirect("web:savings_counter")


def _pending_tx(request, tx_id):
    tx = selectors.pending_for_user(request.user).filter(pk=tx_id).first()
    if tx is None:
        raise Http404
    return tx


@login_required
@require_POST
def approve(request, tx_id: int):
    tx = _pending_tx(request, tx_id)
    try:
        op = services.savings_transaction_approve(acting_user=request.user, tx=tx)
        messages.success(request, _("Approved: receipt %(r)s") % {"r": op.receipt})
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    return redirect("web:savings_counter")


@login_required
@require_POST
def reject(request, tx_id: int):
    tx = _pending_tx(request, tx_id)
    try:
        services.savings_transaction_reject(acting_user=request.user, tx=tx,
                                            reason=request.POST.get("reason", ""))
        messages.success(request, _("Operation refused."))
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    return redirect("web:savings_counter")


@login_required
@require_POST
def reverse(request, tx_id: int):
    try:
        tx = selectors.transaction_for_user(request.user, tx_id)
    except ApplicationError:
        raise Http404 from None
    try:
        op = services.savings_transaction_reverse(acting_user=request.user, tx=tx,
                                                  reason=request.POST.get("reason", ""))
        messages.success(request, _("Operation reversed."))
        if op.receipt:
            return redirect("web:savings_receipt", pk=op.receipt.pk)
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    return redirect("web:savings_account", pk=tx.account_id)


@login_required
def member_savings(request, person_id: int):
    """A member's shares and accounts; buy shares, open an account."""
    try:
        person = get_person_for_user(request.user, person_id)
    except ApplicationError:
        raise Http404 from None
    caisses = _counter_caisses(request.user)
    share_product = selectors.share_product_for(caisses[0]) if caisses else None
    products = selectors.products_for_user(request.user).filter(
        active=True, kind__in=[ProductKind.VOLUNTARY, ProductKind.TERM])
    if request.method == "POST" and caisses:
        caisse = next((c for c in caisses if str(c.pk) == request.POST.get("caisse")), caisses[0])
        try:
            if request.POST.get("action") == "shares":
                op = services.share_purchase(acting_user=request.user, person=person,
                                             caisse=caisse,
                                             shares=request.POST.get("shares", "").strip())
                return redirect("web:savings_receipt", pk=op.receipt.pk)
            product = products.filter(organisation=caisse.organisation,
                                      code=request.POST.get("product", "")).first()
            if product is None:
                raise ApplicationError("invalid", _("Choose a product."))
            acc = services.savings_account_open(acting_user=request.user, product=product,
                                                caisse=caisse, person=person)
            messages.success(request, _("Account %(n)s opened.") % {"n": acc.number})
            return redirect("web:savings_account", pk=acc.pk)
        except ApplicationError as exc:
            messages.error(request, _message(exc))
    share_accounts = selectors.shares_of_person(person)
    return render(request, "savings/member.html", {
        "person": person, "accounts": selectors.accounts_of_person(request.user, person),
        "shares": share_accounts, "caisses": caisses, "share_product": share_product,
        "is_member": any(s.shares >= s.product.min_shares for s in share_accounts),
        "products": products,
    })


@login_required
def products(request):
    """Network products (network administrator edits) and each caisse's overrides (its
    manager edits)."""
    scope = user_scope(request.user)
    can_edit = scope.is_superuser or bool(scope.org_wide_ids(write=True, roles={"network_admin"}))
    items = selectors.products_for_user(request.user)
    manager_caisses = list(scope.units(write=True, roles=MANAGER_ROLES).filter(kind="caisse")
                           .order_by("code")[:20])
    if request.method == "POST":
        pk = id_or_none(request.POST.get("product"))
        product = items.filter(pk=pk).first() if pk else None
        if product is None:
            raise Http404
        caisse_id = request.POST.get("caisse")
        try:
            if caisse_id:
                caisse = next((c for c in manager_caisses if str(c.pk) == caisse_id), None)
                if caisse is None:
                    raise PermissionDenied
                services.product_override_set(acting_user=request.user, product=product,
                                              caisse=caisse, values=request.POST)
            else:
                if not can_edit:
                    raise PermissionDenied
                services.product_update(acting_user=request.user, product=product,
                                        values=request.POST)
            messages.success(request, _("Product saved."))
        except ApplicationError as exc:
            messages.error(request, _message(exc))
        return redirect("web:savings_products")
    rows = [(p, [(c, selectors.overrides_of(p, manager_caisses).get(c.pk))
                 for c in manager_caisses]) for p in items]
    return render(request, "savings/products.html", {
        "rows": rows, "can_edit": can_edit, "overridable": OVERRIDABLE,
    })

