from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import get_person_for_user
from jigi.savings import selectors, services
from jigi.savings.api import statement_csv_response
from jigi.savings.models import DENOMINATIONS, SavingsProduct, ShareProduct

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


@login_required
def counter_home(request):
    scope = user_scope(request.user)
    q = request.GET.get("q", "").strip()
    found = []
    if q:
        found = list(selectors.accounts_for_user(request.user).filter(
            number__icontains=q)[:20]) or list(selectors.accounts_for_user(request.user).filter(
                person__search_name__contains=q.lower())[:20])
    caisses = list(scope.units(write=True, roles=services.COUNTER_ROLES).filter(kind="caisse"))
    return render(request, "savings/counter.html", {
        "drawer": selectors.open_drawer_of(request.user), "q": q, "found": found,
        "pending": selectors.pending_for_user(request.user)[:50]
        if scope.has_role(*MANAGER_ROLES) else [],
        "caisses": caisses, "recent_drawers": selectors.drawers_for_user(request.user)[:10],
    })


@login_required
def account_detail(request, pk: int):
    account = _account(request, pk)
    recent = account.transactions.order_by("-pk")[:15]
    return render(request, "savings/account.html", {
        "account": account, "recent": recent, "available": services.available_balance(account),
        "drawer": selectors.open_drawer_of(request.user),
        "signatories": account.signatories.select_related("person"),
    })


@login_required
@require_POST
def account_operation(request, pk: int, kind: str):
    """Deposit or withdrawal from the counter form; htmx swaps in the result fragment."""
    account = _account(request, pk)
    error = None
    op = None
    try:
        if kind == "deposit":
            op = services.savings_deposit(acting_user=request.user, account=account,
                                          amount=request.POST.get("amount", ""))
        elif kind == "withdrawal":
            op = services.savings_withdraw(acting_user=request.user, account=account,
                                           amount=request.POST.get("amount", ""),
                                           signatory_ids=request.POST.getlist("signatories"))
        else:
            raise Http404
    except ApplicationError as exc:
        fields = "; ".join(str(m) for m in exc.fields.values())
        error = f"{exc.message} {fields}".strip() if fields and str(exc.message) != fields \
            else str(exc.message)
    account.refresh_from_db()
    context = {"account": account, "op": op, "error": error,
               "available": services.available_balance(account)}
    if request.htmx:
        return render(request, "savings/_operation_result.html", context)
    if error:
        messages.error(request, error)
    elif op and op.receipt:
        return redirect("web:savings_receipt", pk=op.receipt.pk)
    return redirect("web:savings_account", pk=account.pk)


@login_required
def receipt(request, pk: int):
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
    account = _account(request, pk)
    date_from, date_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
    if request.GET.get("format") == "csv":
        return statement_csv_response(account, date_from, date_to)
    st = selectors.account_statement(account=account, date_from=date_from, date_to=date_to)
    template = "savings/passbook.html" if request.GET.get("passbook") else "savings/statement.html"
    return render(request, template, {"account": account, "st": st})


@login_required
def drawer(request):
    scope = user_scope(request.user)
    caisses = list(scope.units(write=True, roles=services.COUNTER_ROLES).filter(kind="caisse"))
    current = selectors.open_drawer_of(request.user)
    closed = None
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
            count = {}
            for d in DENOMINATIONS:
                raw = request.POST.get(f"d{d}", "").strip() or "0"
                if not raw.isdigit():
                    raise ApplicationError("invalid", _("Enter a number of pieces."),
                                           {str(d): _("Enter a number of pieces.")})
                count[str(d)] = int(raw)
            closed = services.drawer_close(acting_user=request.user, drawer=current,
                                           count=count)
            current = None
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(request, "savings/drawer.html", {
        "drawer": current, "closed": closed, "caisses": caisses,
        "denominations": DENOMINATIONS,
    })


@login_required
@require_POST
def approve(request, tx_id: int):
    tx = selectors.pending_for_user(request.user).filter(pk=tx_id).first()
    if tx is None:
        raise Http404
    try:
        op = services.savings_withdrawal_approve(acting_user=request.user, tx=tx)
        messages.success(request, _("Approved: receipt %(r)s") % {"r": op.receipt})
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("web:savings_counter")


@login_required
def member_savings(request, person_id: int):
    try:
        person = get_person_for_user(request.user, person_id)
    except ApplicationError:
        raise Http404 from None
    scope = user_scope(request.user)
    caisses = list(scope.units(write=True, roles=services.COUNTER_ROLES).filter(kind="caisse"))
    share_product = ShareProduct.objects.filter(
        organisation__code="KONDO").first()
    if request.method == "POST" and caisses:
        caisse = next((c for c in caisses if str(c.pk) == request.POST.get("caisse")), caisses[0])
        try:
            if request.POST.get("action") == "shares":
                shares = request.POST.get("shares", "")
                _acc, rec = services.share_purchase(
                    acting_user=request.user, product=share_product, person=person,
                    caisse=caisse, shares=int(shares) if shares.isdigit() else 0)
                return redirect("web:savings_receipt", pk=rec.pk)
            product = SavingsProduct.objects.filter(
                organisation=caisse.organisation, code=request.POST.get("product", ""),
                kind__in=["voluntary", "term"]).first()
            if product is None:
                raise ApplicationError("invalid", _("Choose a product."))
            acc = services.savings_account_open(acting_user=request.user, product=product,
                                                caisse=caisse, person=person)
            messages.success(request, _("Account %(n)s opened.") % {"n": acc.number})
            return redirect("web:savings_account", pk=acc.pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return render(request, "savings/member.html", {
        "person": person, "accounts": selectors.accounts_of_person(request.user, person),
        "shares": selectors.shares_of_person(person), "caisses": caisses,
        "share_product": share_product,
        "products": SavingsProduct.objects.filter(organisation__code="KONDO",
                                                  kind__in=["voluntary", "term"], active=True),
    })


@login_required
def products(request):
    scope = user_scope(request.user)
    can_edit = scope.is_superuser or bool(scope.org_wide_ids(write=True, roles={"network_admin"}))
    items = SavingsProduct.objects.filter(organisation_id__in=scope.organisation_ids) \
        if not scope.is_superuser else SavingsProduct.objects.all()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        product = items.filter(pk=request.POST.get("product")).first()
        if product is None:
            raise Http404
        try:
            services.product_update(acting_user=request.user, product=product,
                                    values=request.POST)
            messages.success(request, _("Product saved."))
        except ApplicationError as exc:
            messages.error(request, "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
                           or exc.message)
        return redirect("web:savings_products")
    return render(request, "savings/products.html", {"products": items.order_by("code"),
                                                     "can_edit": can_edit})
