"""Credit screens (htmx, French first). Thin: read the form, call the service, render.

A refused action (`ApplicationError`) re-renders its form with the messages next to the fields
and the service's status (422 for bad input, 403/409 for a refused decision): nothing is
written. Money-moving forms (disbursement, repayment, the group collection sheet) carry an
idempotency key generated when the form is drawn: a double click or a re-sent form posts once
and lands on the first answer.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.credit import forms, selectors, services
from jigi.credit.models import (
    Decision,
    LoanProduct,
    LoanStatus,
    Pattern,
    RescheduleReason,
    Rescheduling,
)
from jigi.credit.services._common import (
    COUNTER_ROLES,
    MANAGER_ROLES,
    NON_CASH_ROLES,
    OFFICER_ROLES,
    cap_on,
    has_role,
    schedule_of,
)
from jigi.credit.services.applications import instalment_ratios, monthly_surplus
from jigi.credit.services.products import reference_terms
from jigi.orgs.models import Role
from jigi.orgs.scoping import user_scope
from jigi.people.models import Membership
from jigi.people.selectors import get_person_for_user, person_search_for_user
from jigi.savings.idempotency import keyed_call
from jigi.savings.models import AccountStatus, ProductKind, SavingsAccount
from jigi.web.view_helpers import errors_of, form_key, new_key, refusal, status_of

FormErrors = forms.FormErrors


# --- helpers ----------------------------------------------------------------------------------


def _loan(request, pk):
    try:
        return selectors.get_loan_for_user(request.user, pk)
    except ApplicationError:
        raise Http404 from None


def _group(request, pk):
    try:
        return selectors.get_group_for_user(request.user, pk)
    except ApplicationError:
        raise Http404 from None


def _person(request, pk):
    try:
        return get_person_for_user(request.user, pk)
    except ApplicationError:
        raise Http404 from None


def _caisses(user, roles: set[str]):
    return list(user_scope(user).units(write=True, roles=roles).filter(kind="caisse")
                .order_by("code")[:200])


def _pick_caisse(caisses, value):
    if len(caisses) == 1:
        return caisses[0]
    return next((c for c in caisses if str(c.pk) == str(value)), None)


def _today() -> date:
    return timezone.localdate()


# --- loans: list and a member's loans ---------------------------------------------------------


@login_required
def loan_list(request):
    """Loans of the user's caisses (search by number or borrower), and where to start an
    application: find the member."""
    qs = selectors.loans_for_user(request.user)
    status = request.GET.get("status", "")
    if status in LoanStatus.values:
        qs = qs.filter(status=status)
    q = forms.clean_text(request.GET.get("q", ""))[:60]
    if q:
        qs = qs.filter(number__startswith=q.upper()) if any(c.isdigit() for c in q) else \
            qs.filter(person__search_name__contains=q.lower())
    people = person_search_for_user(request.user, q, limit=10) if q else []
    context = {"loans": list(qs.order_by("-pk")[:100]), "q": q, "status": status,
               "statuses": LoanStatus.choices, "people": people,
               "can_apply": bool(_caisses(request.user, OFFICER_ROLES))}
    template = "credit/_loan_rows.html" if request.htmx else "credit/loans.html"
    return render(request, template, context)


@login_required
def member_loans(request, person_id: int):
    person = _person(request, person_id)
    return render(request, "credit/member.html", {
        "person": person, "loans": selectors.loans_of_person(request.user, person),
        "can_apply": bool(_caisses(request.user, OFFICER_ROLES)),
    })


# --- products ---------------------------------------------------------------------------------


def _can_edit_products(user) -> set[int]:
    return user_scope(user).org_wide_ids(write=True, roles={Role.NETWORK_ADMIN.value})


def _dearest_teg(p: LoanProduct) -> Decimal | None:
    """The highest TEG of a regular loan at the ends of the product's ranges (what the usury
    check looks at)."""
    worst = None
    for principal in {p.min_amount, p.max_amount}:
        for n in {p.min_repayments, p.max_repayments}:
            try:
                _s, teg = schedule_of(reference_terms(p, principal=principal, repayments=n,
                                                      on=_today()))
            except ApplicationError:
                continue
            worst = teg.annual_rate_percent if worst is None else max(
                worst, teg.annual_rate_percent)
    return worst


@login_required
def product_list(request):
    items = list(selectors.products_for_user(request.user))
    rows = [(p, _dearest_teg(p)) for p in items]
    return render(request, "credit/products.html", {
        "rows": rows, "can_edit": bool(_can_edit_products(request.user)),
        "cap": cap_on(_today()),
    })


def _product_context(product, values=None) -> dict[str, Any]:
    return {"p": product or LoanProduct(), "patterns": Pattern.choices,
            "levels_text": forms.approval_levels_text(product.approval_levels if product
                                                      else []),
            "cycles_text": ", ".join(str(c) for c in (product.cycle_max_amounts or []))
            if product else "", "values": values,
            "checked_patterns": values.getlist("allowed_patterns") if values is not None
            else (product.allowed_patterns if product else [Pattern.REGULAR])}


@login_required
def product_edit(request, pk: int | None = None):
    """The network administrator's settings form (create when `pk` is None)."""
    orgs = _can_edit_products(request.user)
    if not orgs:
        raise PermissionDenied
    product = None
    if pk is not None:
        product = selectors.products_for_user(request.user).filter(pk=pk,
                                                                   organisation_id__in=orgs
                                                                   ).first()
        if product is None:
            raise Http404
    error, fields, status = None, {}, 200
    if request.method == "POST":
        from jigi.orgs.models import Organisation

        organisation = product.organisation if product else Organisation.objects.filter(
            pk__in=orgs).order_by("pk").first()
        try:
            values = forms.parse_product(request.POST, creating=product is None)
            saved = services.product_save(acting_user=request.user, organisation=organisation,
                                          values=values, product=product)
            messages.success(request, _("Product %(code)s saved.") % {"code": saved.code})
            return redirect("web:credit_products")
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
        if product is not None:
            product.refresh_from_db()  # product_save set attributes before refusing
    context = _product_context(product, request.POST if request.method == "POST" else None)
    return render(request, "credit/product_form.html", context | {
        "error": error, "errors": fields, "creating": product is None,
    }, status=status)


# --- application, appraisal, proposals ---------------------------------------------------------


def _seasonal_for(choice: str, data: dict[str, Any], proposals: list[dict[str, Any]]):
    if choice == Pattern.CUSTOM:
        return data["custom"]
    for p in proposals:
        if p["pattern"] == choice:
            return p["seasonal"]
    raise ApplicationError("invalid", _("Some fields are not valid."),
                           {"seasonal": _("Choose one of the proposed schedules.")},
                           status_code=422)


def _proposals(product, data, worksheet, on) -> list[dict[str, Any]]:
    """propose_schedules (regular, income, crop) and the custom schedule when given, best fit
    first, each with its rows (instalment, surplus of its month, ratio)."""
    found = services.propose_schedules(
        product, principal=data["principal"], repayments=data["repayments"] or 1,
        disbursed_on=data["disbursed_on"] or on, incomes=worksheet["incomes"],
        household_expenses=worksheet["household_expenses"],
        other_debts=worksheet["other_debts"], crop=data["crop"]) \
        if data["kind"] != Pattern.CUSTOM else []
    if data["kind"] == Pattern.CUSTOM:
        offer = services.offer_for(product, principal=data["principal"],
                                   repayments=data["repayments"],
                                   disbursed_on=data["disbursed_on"] or on,
                                   seasonal=data["custom"])
        surplus = monthly_surplus(worksheet["incomes"], worksheet["household_expenses"],
                                  worksheet["other_debts"])
        ratios = instalment_ratios(surplus, offer.schedule.installments)
        worst = None if any(r["ratio"] is None for r in ratios) else max(
            (Decimal(r["ratio"]) for r in ratios), default=Decimal(0))
        found = [{"pattern": Pattern.CUSTOM, "seasonal": data["custom"], "offer": offer,
                  "ratios": ratios, "max_ratio": worst,
                  "within_limit": worst is not None and
                  worst <= product.max_installment_to_surplus_percent}]
    out = []
    for p in found:
        offer = p["offer"]
        rows = [(i, r) for i, r in zip(offer.schedule.installments, p["ratios"], strict=True)]
        out.append(p | {"rows": rows, "teg": offer.teg.annual_rate_percent, "cap": offer.cap,
                        "label": Pattern(p["pattern"]).label,
                        "net": int(offer.schedule.net_disbursed -
                                   offer.schedule.compulsory_savings),
                        "limit": product.max_installment_to_surplus_percent})
    return out


def _month_names() -> list[str]:
    """January..December, abbreviated, in the user's language (Babel: fr_ML, bm_ML, en)."""
    from babel.dates import get_month_names
    from django.utils.translation import get_language

    from jigi.web.formatting import babel_locale

    names = get_month_names("abbreviated", locale=babel_locale(get_language()))
    return [names[m] for m in range(1, 13)]


def _grid(post, prefix: str) -> list[tuple[str, str]]:
    """(input name, value typed) for twelve month inputs, so a refused form comes back
    filled in."""
    return [(f"{prefix}_{m}", post.get(f"{prefix}_{m}", "")) for m in range(1, 13)]


def _apply_context(request, person, caisses, products, groups) -> dict[str, Any]:
    caisse = caisses[0] if caisses else None
    regions = forms.region_choices()
    post = request.POST if request.method == "POST" else {}
    return {
        "income_grid": [{"row": r, "activity": post.get(f"activity_{r}", ""),
                         "months": _grid(post, f"income_{r}")}
                        for r in range(1, forms.INCOME_ROWS + 1)],
        "expense_grid": _grid(post, "expense"), "debt_grid": _grid(post, "debt"),
        "poverty_grid": [(q, f"poverty_{q}", post.get(f"poverty_{q}", ""))
                         for q in range(1, forms.POVERTY_QUESTIONS + 1)],
        "person": person, "caisses": caisses, "products": products, "groups": groups,
        "crops": forms.crop_choices(), "regions": regions,
        "default_region": caisse.region if caisse and caisse.region in regions else "",
        "patterns": Pattern.choices, "today": _today(), "v": post,
        "month_names": _month_names(),
    }


@login_required
def loan_apply(request, person_id: int):
    """The application of one member: figures, the appraisal worksheet, the proposed
    schedules (best fit first); choosing one saves the application and its appraisal."""
    person = _person(request, person_id)
    caisses = _caisses(request.user, OFFICER_ROLES)
    if not caisses:
        raise PermissionDenied
    products = list(selectors.products_for_user(request.user).filter(
        active=True, organisation_id__in={c.organisation_id for c in caisses}))
    groups = list(selectors.groups_for_user(request.user).filter(
        members__person=person, members__left_on__isnull=True))
    context = _apply_context(request, person, caisses, products, groups)
    error, fields, status, proposals = None, {}, 200, []
    if request.method == "POST":
        try:
            caisse = _pick_caisse(caisses, request.POST.get("caisse"))
            if caisse is None:
                raise FormErrors({"caisse": _("Choose the caisse.")})
            data = forms.parse_application(request.POST)
            worksheet = forms.parse_worksheet(request.POST)
            product = next((p for p in products if p.code == data["product_code"].upper()
                            and p.organisation_id == caisse.organisation_id), None)
            if product is None:
                raise FormErrors({"product_code": _("Unknown loan product.")})
            group = next((g for g in groups if str(g.pk) == request.POST.get("group")), None)
            on = _today()
            proposals = _proposals(product, data, worksheet, on)
            choice = request.POST.get("choose", "")
            if choice:
                seasonal = _seasonal_for(choice, data, proposals)
                # One transaction: an application whose appraisal is refused is not kept.
                with transaction.atomic():
                    loan = services.loan_apply(
                        acting_user=request.user, caisse=caisse, person=person,
                        product=product, principal=data["principal"],
                        repayments=data["repayments"],
                        expected_disbursement_on=data["disbursed_on"],
                        # The proposals start one period after the disbursement: the saved
                        # schedule is the one the member chose.
                        first_repayment_on=None,
                        seasonal=seasonal, purpose=data["purpose"],
                        activity=data["activity"], group=group)
                    appraisal = services.loan_appraise(
                        acting_user=request.user, loan=loan, **worksheet)
                if appraisal.within_limit:
                    messages.success(request, _("Application %(n)s saved: it goes to the "
                                                "credit committee.") % {"n": loan.number})
                else:
                    messages.warning(request, _(
                        "Application %(n)s saved, but the instalments exceed the member's "
                        "capacity: the committee needs an override reason.") % {
                        "n": loan.number})
                return redirect("web:credit_loan", pk=loan.pk)
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "credit/apply.html", context | {
        "error": error, "errors": fields, "proposals": proposals,
    }, status=status)


@login_required
def apply_start(request):
    """Find the member who applies."""
    if not _caisses(request.user, OFFICER_ROLES):
        raise PermissionDenied
    q = forms.clean_text(request.GET.get("q", ""))[:100]
    people = person_search_for_user(request.user, q) if q else []
    return render(request, "credit/apply_start.html", {"q": q, "people": people})


# --- loan page and the big-figure schedule ------------------------------------------------------


def _schedule_rows(loan, on: date):
    rows = []
    for i in selectors.schedule_rows(loan):
        state = "paid" if i.outstanding <= 0 else ("late" if i.due_on < on else "due")
        rows.append({"i": i, "state": state})
    return rows


@login_required
def loan_detail(request, pk: int):
    loan = _loan(request, pk)
    on = _today()
    user = request.user
    arrears = selectors.loan_arrears(loan, on) if loan.status == LoanStatus.ACTIVE else None
    payoff = services.payoff_quote(loan, on) if loan.status == LoanStatus.ACTIVE else None
    appraisal = getattr(loan, "appraisal", None) if hasattr(loan, "appraisal") else None
    return render(request, "credit/loan.html", {
        "loan": loan, "rows": _schedule_rows(loan, on), "arrears": arrears, "payoff": payoff,
        "transactions": selectors.transactions_of(loan), "appraisal": appraisal,
        "decisions": Decision.objects.filter(loan=loan).select_related("decided_by")
        .order_by("pk"),
        "reschedulings": Rescheduling.objects.filter(loan=loan).order_by("pk"),
        "guarantors": loan.guarantors.select_related("person", "savings_account"),
        "can_decide": loan.status == LoanStatus.APPLIED and has_role(user, loan.caisse,
                                                                     OFFICER_ROLES),
        "can_disburse": loan.status == LoanStatus.APPROVED and has_role(user, loan.caisse,
                                                                        NON_CASH_ROLES),
        "can_repay": loan.status == LoanStatus.ACTIVE and has_role(user, loan.caisse,
                                                                   NON_CASH_ROLES),
        "can_reschedule": loan.status == LoanStatus.ACTIVE and has_role(user, loan.caisse,
                                                                        MANAGER_ROLES),
        "today": on,
    })


SEASON_ICONS = {"sowing": "🌱", "growth": "🌿", "harvest": "🌾", "cash": "💰", "month": "📅"}


def _season(row, month: int) -> str:
    if row is None:
        return "month"
    if month in row.cash_months:
        return "cash"
    if month in row.harvest_months:
        return "harvest"
    if month in row.sowing_months:
        return "sowing"
    return "growth"


@login_required
def loan_schedule_card(request, pk: int):
    """The schedule for a member who cannot read: one card per instalment, the amount in large
    type, an icon of the season it falls in; printable."""
    loan = _loan(request, pk)
    crop = forms.crop_row_for(loan.terms)
    on = _today()
    cards = []
    for r in _schedule_rows(loan, on):
        season = _season(crop, r["i"].due_on.month)
        cards.append(r | {"season": season, "icon": SEASON_ICONS[season]})
    return render(request, "credit/schedule_card.html", {
        "loan": loan, "cards": cards, "crop": crop, "icons": SEASON_ICONS,
        "total": sum(r["i"].total for r in cards),
    })


# --- approval queue ---------------------------------------------------------------------------


def _queue_context(request) -> dict[str, Any]:
    loans = list(selectors.approval_queue(request.user).select_related("appraisal")[:200])
    return {"applied": [x for x in loans if x.status == LoanStatus.APPLIED],
            "approved": [x for x in loans if x.status == LoanStatus.APPROVED]}


@login_required
def queue(request):
    return render(request, "credit/queue.html", _queue_context(request))


@login_required
@require_POST
def loan_decide(request, pk: int, decision: str):
    """Approve (with a note) or reject (with a reason) from the queue or the loan page."""
    loan = _loan(request, pk)
    if decision not in ("approve", "reject"):
        raise Http404
    note = forms.clean_text(request.POST.get("note", ""))[:300]
    try:
        if decision == "approve":
            services.loan_approve(acting_user=request.user, loan=loan, note=note)
            messages.success(request, _("Loan %(n)s approved.") % {"n": loan.number})
        else:
            services.loan_reject(acting_user=request.user, loan=loan, note=note)
            messages.success(request, _("Application %(n)s rejected.") % {"n": loan.number})
    except ApplicationError as exc:
        error, _fields = errors_of(exc)
        return render(request, "credit/queue.html", _queue_context(request) | {
            "error": error, "error_loan": loan.pk}, status=status_of(exc))
    if request.POST.get("next") == "loan":
        return redirect("web:credit_loan", pk=loan.pk)
    return redirect("web:credit_queue")


# --- disbursement and repayment ---------------------------------------------------------------


def _savings_accounts(loan) -> list[SavingsAccount]:
    return list(SavingsAccount.objects.filter(
        person_id=loan.person_id, caisse_id=loan.caisse_id, product__kind=ProductKind.VOLUNTARY,
        status__in=[AccountStatus.ACTIVE, AccountStatus.DORMANT]).order_by("pk"))


def _render_op(op) -> dict[str, Any]:
    return {"loan_id": op.loan.pk, "receipt_id": op.receipt.pk if op.receipt else None}


def _after_op(request, answer: dict[str, Any], loan):
    if answer.get("receipt_id"):
        return redirect("web:savings_receipt", pk=answer["receipt_id"])
    return redirect("web:credit_loan", pk=loan.pk)


def _money_call(request, loan, *, what: str, body: dict[str, Any], run):
    """Run a money service once per form key; a replay answers as the first call did."""
    key = form_key(request)
    _status_code, answer = keyed_call(request.user, key, endpoint=f"web:credit:{what}:{loan.pk}",
                                      body=body, render=_render_op, run=run)
    return answer


def _channel_account(request, loan, accounts):
    channel = request.POST.get("channel", "cash")
    account = None
    if channel == "savings":
        account = next((a for a in accounts if str(a.pk) == request.POST.get("savings_account")),
                       accounts[0] if accounts else None)
    return channel, account


@login_required
def loan_disburse(request, pk: int):
    """Pay out an approved loan: cash from the teller's drawer or into the member's savings;
    then the receipt."""
    loan = _loan(request, pk)
    if not has_role(request.user, loan.caisse, NON_CASH_ROLES):
        raise PermissionDenied
    # A POST goes to the service even when the loan has moved on: a re-sent form replays the
    # first answer (its receipt) instead of being refused.
    if loan.status != LoanStatus.APPROVED and request.method != "POST":
        messages.error(request, _("Only an approved loan is disbursed."))
        return redirect("web:credit_loan", pk=loan.pk)
    accounts = _savings_accounts(loan)
    error, fields, status = None, {}, 200
    if request.method == "POST":
        channel, account = _channel_account(request, loan, accounts)
        try:
            answer = _money_call(
                request, loan, what="disburse",
                body={"channel": channel, "account": account.pk if account else None},
                run=lambda claim: services.loan_disburse(
                    acting_user=request.user, loan=loan, channel=channel,
                    savings_account=account, idempotency=claim))
            return _after_op(request, answer, loan)
        except ApplicationError as exc:
            error, fields = errors_of(exc)
            status = status_of(exc)
    net = loan.principal - loan.upfront_fees - loan.compulsory_savings
    return render(request, "credit/disburse.html", {
        "loan": loan, "accounts": accounts, "net": net, "error": error, "errors": fields,
        "key": request.POST.get("idempotency_key") or new_key(),
        "cash_allowed": has_role(request.user, loan.caisse, COUNTER_ROLES),
        "channel": request.POST.get("channel", "cash"),
    }, status=status)


@login_required
def loan_repay(request, pk: int):
    """A repayment (normal, prepayment or payoff; cash or savings) -> the receipt."""
    loan = _loan(request, pk)
    if not has_role(request.user, loan.caisse, NON_CASH_ROLES):
        raise PermissionDenied
    if loan.status != LoanStatus.ACTIVE and request.method != "POST":
        messages.error(request, _("This loan is not being repaid."))
        return redirect("web:credit_loan", pk=loan.pk)
    on = _today()
    accounts = _savings_accounts(loan)
    error, fields, status = None, {}, 200
    if request.method == "POST":
        channel, account = _channel_account(request, loan, accounts)
        mode = request.POST.get("mode", "normal")
        amount = forms.amount_text(request.POST, "amount")
        try:
            answer = _money_call(
                request, loan, what="repay",
                body={"amount": amount, "channel": channel, "mode": mode,
                      "account": account.pk if account else None},
                run=lambda claim: services.loan_repay(
                    acting_user=request.user, loan=loan, amount=amount, channel=channel,
                    savings_account=account, mode=mode, idempotency=claim))
            return _after_op(request, answer, loan)
        except ApplicationError as exc:
            error, fields = errors_of(exc)
            status = status_of(exc)
    arrears = selectors.loan_arrears(loan, on)
    next_due = next((r["i"] for r in _schedule_rows(loan, on) if r["state"] != "paid"), None)
    return render(request, "credit/repay.html", {
        "loan": loan, "accounts": accounts, "error": error, "errors": fields,
        "payoff": services.payoff_quote(loan, on), "arrears": arrears, "next_due": next_due,
        "key": request.POST.get("idempotency_key") or new_key(),
        "cash_allowed": has_role(request.user, loan.caisse, COUNTER_ROLES),
        "v": request.POST if request.method == "POST" else {},
    }, status=status)


# --- rescheduling -----------------------------------------------------------------------------


@login_required
def loan_reschedule(request, pk: int):
    """A new schedule for the outstanding principal, with the reason (crop failure, late
    cotton payment, illness, flood, other)."""
    loan = _loan(request, pk)
    if not has_role(request.user, loan.caisse, MANAGER_ROLES):
        raise PermissionDenied
    if loan.status != LoanStatus.ACTIVE:
        messages.error(request, _("Only a loan being repaid is rescheduled."))
        return redirect("web:credit_loan", pk=loan.pk)
    error, fields, status = None, {}, 200
    if request.method == "POST":
        errors: dict[str, Any] = {}
        repayments = forms.parse_int(request.POST, "repayments", errors)
        first = forms.parse_date(request.POST, "first_repayment_on", errors)
        crop = forms.parse_crop(request.POST, errors)
        try:
            if errors:
                raise FormErrors(errors)
            record = services.loan_reschedule(
                acting_user=request.user, loan=loan,
                reason=request.POST.get("reason", ""),
                note=forms.clean_text(request.POST.get("note", ""))[:300],
                repayments=repayments, first_repayment_on=first,
                seasonal={"pattern": "crop", **crop} if crop else None)
            messages.success(request, _(
                "Loan rescheduled: new schedule (version %(v)s) below.") % {
                "v": record.to_version})
            return redirect("web:credit_loan", pk=loan.pk)
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    on = _today()
    return render(request, "credit/reschedule.html", {
        "loan": loan, "rows": _schedule_rows(loan, on), "reasons": RescheduleReason.choices,
        "crops": forms.crop_choices(), "regions": forms.region_choices(),
        "error": error, "errors": fields,
        "v": request.POST if request.method == "POST" else {},
        "seasonal": loan.terms.get("seasonal") or {},
    }, status=status)


# --- groups -----------------------------------------------------------------------------------


def _members_by_number(user, caisse, text: str, errors: dict[str, Any], field: str):
    """Persons from member numbers (or person ids) written one per line or comma-separated."""
    found = []
    for token in [t for t in forms.clean_text(text).replace(",", " ").replace(";", " ").split()
                  if t]:
        m = Membership.objects.filter(organisation_id=caisse.organisation_id,
                                      number=token.upper()).select_related("person").first()
        person = None
        if m is not None:
            try:
                person = get_person_for_user(user, m.person_id)
            except ApplicationError:
                person = None
        if person is None:
            errors[field] = _("Unknown member number: %(n)s.") % {"n": token}
            return []
        found.append(person)
    return found


@login_required
def group_list(request):
    caisses = _caisses(request.user, OFFICER_ROLES)
    error, fields, status = None, {}, 200
    if request.method == "POST":
        if not caisses:
            raise PermissionDenied
        errors: dict[str, Any] = {}
        try:
            caisse = _pick_caisse(caisses, request.POST.get("caisse"))
            if caisse is None:
                raise FormErrors({"caisse": _("Choose the caisse.")})
            members = _members_by_number(request.user, caisse, request.POST.get("members", ""),
                                         errors, "member_ids")
            leader_list = _members_by_number(request.user, caisse,
                                             request.POST.get("leader", ""), errors,
                                             "leader_id")
            every = forms.parse_int(request.POST, "meeting_every_days", errors, required=True)
            first = forms.parse_date(request.POST, "first_meeting_on", errors)
            if errors:
                raise FormErrors(errors)
            group = services.group_create(
                acting_user=request.user, caisse=caisse,
                name=forms.clean_text(request.POST.get("name", ""))[:200], members=members,
                leader=leader_list[0] if leader_list else None,
                kind=request.POST.get("kind", "women"), meeting_every_days=every,
                first_meeting_on=first,
                meeting_place=forms.clean_text(request.POST.get("meeting_place", ""))[:200])
            messages.success(request, _("Group %(name)s created.") % {"name": group.name})
            return redirect("web:credit_group", pk=group.pk)
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    groups = list(selectors.groups_for_user(request.user)[:200])
    return render(request, "credit/groups.html", {
        "groups": groups, "caisses": caisses, "error": error, "errors": fields,
        "v": request.POST if request.method == "POST" else {}, "today": _today(),
    }, status=status)


@login_required
def group_detail(request, pk: int):
    group = _group(request, pk)
    on = _today()
    error, fields, status = None, {}, 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add_member":
                errors: dict[str, Any] = {}
                people = _members_by_number(request.user, group.caisse,
                                            request.POST.get("member", ""), errors, "person_id")
                if errors or not people:
                    raise FormErrors(errors or {"person_id": _("Required.")})
                services.group_member_add(acting_user=request.user, group=group,
                                          person=people[0])
                messages.success(request, _("Member added."))
            elif action == "disburse":
                # All the group's approved loans together: a second click finds none left.
                ops = services.group_disburse(acting_user=request.user, group=group,
                                              channel=request.POST.get("channel", "cash"))
                messages.success(request, _("%(n)s loans disbursed.") % {"n": len(ops)})
            else:
                raise Http404
            return redirect("web:credit_group", pk=group.pk)
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    return render(request, "credit/group.html", {
        "group": group,
        "members": group.members.filter(left_on__isnull=True).select_related("person")
        .order_by("person__last_name"),
        "loans": group.loans.select_related("person").order_by("-pk"),
        "next_meeting": services.next_meeting(group, on),
        "sheets": group.collection_sheets.order_by("-pk")[:10],
        "can_manage": has_role(request.user, group.caisse, OFFICER_ROLES),
        "can_collect": has_role(request.user, group.caisse, COUNTER_ROLES),
        "has_approved": group.loans.filter(status=LoanStatus.APPROVED).exists(),
        "error": error, "errors": fields, "v": request.POST if request.method == "POST" else {},
    }, status=status)


@login_required
def collection_sheet(request, pk: int):
    """The meeting's sheet: one row per member (amount due, savings), entered in one
    submission; then one result per line."""
    group = _group(request, pk)
    if not has_role(request.user, group.caisse, COUNTER_ROLES):
        raise PermissionDenied
    errors: dict[str, Any] = {}
    meeting = forms.parse_date(request.POST if request.method == "POST" else request.GET,
                               "on", errors) or services.next_meeting(group, _today())
    lines = services.collection_sheet(group, meeting)
    error, fields, status = None, {}, 200
    if request.method == "POST":
        submitted = forms.parse_sheet_lines(request.POST, [ln["person_id"] for ln in lines])
        try:
            if errors:
                raise FormErrors(errors)
            sheet = services.collection_sheet_submit(
                acting_user=request.user, group=group, meeting_on=meeting, lines=submitted,
                idempotency_key=form_key(request))
            return redirect("web:credit_sheet_result", pk=group.pk, sheet_id=sheet.pk)
        except FormErrors as exc:
            error, fields = errors_of(exc.as_application_error())
            status = 422
        except ApplicationError as exc:
            error, fields = errors_of(exc)
            status = status_of(exc)
            # "lines[3].repayment" is the 4th submitted line: show it on that member's row.
            for index, line in enumerate(submitted):
                for what in ("repayment", "savings", "person_id"):
                    msg = fields.get(forms.field_key(f"lines[{index}].{what}"))
                    if msg:
                        fields[f"{what}_{line['person_id']}"] = msg
    posted = request.method == "POST"
    rows = [ln | {"repay_error": fields.get(f"repayment_{ln['person_id']}", ""),
                  "save_error": fields.get(f"savings_{ln['person_id']}", ""),
                  "repay_value": request.POST.get(f"repay_{ln['person_id']}", "") if posted
                  else (ln["due"] or ""),
                  "save_value": request.POST.get(f"save_{ln['person_id']}", "") if posted
                  else ""}
            for ln in lines]
    return render(request, "credit/sheet.html", {
        "group": group, "meeting": meeting, "rows": rows, "error": error, "errors": fields,
        "key": request.POST.get("idempotency_key") or new_key(),
        "v": request.POST if request.method == "POST" else {},
        "total_due": sum(ln["due"] for ln in lines),
    }, status=status)


@login_required
def collection_sheet_result(request, pk: int, sheet_id: int):
    group = _group(request, pk)
    sheet = group.collection_sheets.filter(pk=sheet_id).first()
    if sheet is None:
        raise Http404
    names = {m.person_id: m.person.full_name
             for m in group.members.select_related("person")}
    lines = [ln | {"name": names.get(ln.get("person_id"), "?")} for ln in sheet.lines]
    return render(request, "credit/sheet_result.html", {
        "group": group, "sheet": sheet, "lines": lines,
        "failed": sum(1 for ln in lines if not ln.get("ok")),
    })
