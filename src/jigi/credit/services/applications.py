"""From application to approval: terms, eligibility, the appraisal worksheet, the committee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Forbidden
from jigi.core.numbering import next_number
from jigi.credit.models import (
    Appraisal,
    Decision,
    Guarantor,
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    Pattern,
    SolidarityGroup,
)
from jigi.credit.schedule import Schedule
from jigi.credit.services._common import (
    MANAGER_ROLES,
    OFFICER_ROLES,
    conflict,
    has_role,
    invalid,
    refuse_usury,
    require_role,
    schedule_of,
    today,
)
from jigi.credit.teg import Teg
from jigi.orgs.models import Role, Unit
from jigi.people.models import Membership, MembershipStatus, Person
from jigi.savings.models import AccountStatus, ProductKind, SavingsAccount, ShareAccount
from jigi.savings.services._common import clean_amount

MONTHS = 12


def terms_for(product: LoanProduct, *, principal: int, repayments: int, disbursed_on: date,
              first_repayment_on: date | None, seasonal: dict[str, Any] | None
              ) -> dict[str, Any]:
    """The `jigi loan schedule` settings of a loan of this product (stored on the loan, so the
    schedule can always be regenerated and checked)."""
    fees = []
    if product.application_fee_percent:
        fees.append({"name": "Frais de dossier", "type": "upfront_percent",
                     "amount": str(product.application_fee_percent)})
    if product.insurance_percent:
        fees.append({"name": "Assurance décès-invalidité", "type": "upfront_percent",
                     "amount": str(product.insurance_percent)})
    if seasonal is not None:
        seasonal = dict(seasonal)
        seasonal.setdefault("limits", {"max_term_days": product.max_term_days,
                                       "max_installments": product.max_repayments})
    return {
        "principal": str(principal), "interest_rate": str(product.interest_rate),
        "interest_rate_per": product.interest_rate_per,
        "interest_method": product.interest_method, "amortization": product.amortization,
        "interest_period": product.interest_period, "days_in_year": product.days_in_year,
        "days_in_month": product.days_in_month, "repayments": repayments,
        "repayment_every": product.repayment_every, "repayment_unit": product.repayment_unit,
        "disbursed_on": disbursed_on.isoformat(),
        "first_repayment_on": first_repayment_on.isoformat() if first_repayment_on else None,
        "grace_on_principal": product.grace_on_principal if seasonal is None else 0,
        "currency_digits": 0, "installment_multiples_of": product.installment_multiples_of,
        "fees": fees, "seasonal": seasonal,
        "compulsory_savings_percent": str(product.compulsory_savings_percent),
        "teg_includes_compulsory_savings": product.teg_includes_compulsory_savings,
    }


def _pattern_of(seasonal: dict[str, Any] | None) -> str:
    if not seasonal:
        return Pattern.REGULAR
    kind = seasonal.get("pattern") if isinstance(seasonal, dict) else None
    if kind not in (Pattern.CROP, Pattern.INCOME, Pattern.CUSTOM):
        raise invalid("seasonal", _("Choose a crop, income or custom schedule."))
    return kind


@dataclass(frozen=True)
class Offer:
    """A proposed loan: its schedule, TEG and the cap it was checked against."""

    terms: dict[str, Any]
    schedule: Schedule
    teg: Teg
    cap: Decimal
    pattern: str


def offer_for(product: LoanProduct, *, principal: Any, repayments: Any, disbursed_on: date,
              first_repayment_on: date | None = None, seasonal: dict[str, Any] | None = None
              ) -> Offer:
    """Check an application's figures against the product and the usury cap, and compute the
    schedule. Out-of-range amounts or terms, a repayment date before the disbursement,
    impossible seasonal settings and a TEG above the cap are 422s naming the field."""
    amount = clean_amount(principal, "principal")
    errors: dict[str, Any] = {}
    if not product.min_amount <= amount <= product.max_amount:
        errors["principal"] = _("Between %(a)s and %(b)s F CFA for this product.") % {
            "a": product.min_amount, "b": product.max_amount}
    try:
        n = int(repayments)
        if isinstance(repayments, bool):
            raise ValueError
    except (TypeError, ValueError):
        n = 0
        errors["repayments"] = _("Enter a whole number.")
    pattern = _pattern_of(seasonal)
    if n and not product.min_repayments <= n <= product.max_repayments:
        errors["repayments"] = _("Between %(a)s and %(b)s repayments for this product.") % {
            "a": product.min_repayments, "b": product.max_repayments}
    allowed = product.allowed_patterns or [Pattern.REGULAR]
    if pattern not in allowed:
        errors["seasonal"] = _("This product does not offer this kind of schedule.")
    if first_repayment_on is not None and first_repayment_on <= disbursed_on:
        errors["first_repayment_on"] = _("The first repayment comes after the disbursement.")
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    terms = terms_for(product, principal=amount, repayments=n, disbursed_on=disbursed_on,
                      first_repayment_on=first_repayment_on, seasonal=seasonal)
    schedule, teg = schedule_of(terms)
    last = schedule.installments[-1].due_on
    if (last - disbursed_on).days > product.max_term_days:
        raise invalid("repayments", _("Longer than the product's maximum term of %(d)s days.")
                      % {"d": product.max_term_days})
    cap = refuse_usury(teg, disbursed_on)
    return Offer(terms, schedule, teg, cap, pattern)


# --- eligibility ------------------------------------------------------------------------------


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def borrower_cycle(person: Person, organisation_id: int) -> int:
    """1 for a first loan; one more for every loan this member repaid in full."""
    return 1 + Loan.objects.filter(person=person, caisse__organisation_id=organisation_id,
                                   status=LoanStatus.CLOSED).count()


def eligibility(product: LoanProduct, person: Person, caisse: Unit, amount: int,
                on: date) -> dict[str, Any]:
    """Which of the product's conditions this member meets (empty dict: eligible)."""
    problems: dict[str, Any] = {}
    membership = Membership.objects.filter(
        person=person, organisation_id=caisse.organisation_id,
        status=MembershipStatus.ACTIVE).order_by("start_date").first()
    if membership is None:
        problems["person"] = _("Not an active member of the cooperative.")
    elif _months_between(membership.start_date, on) < product.min_membership_months:
        problems["person"] = _("Credit comes after %(n)s months of membership.") % {
            "n": product.min_membership_months}
    shares = ShareAccount.objects.filter(person=person, product__organisation_id=caisse.
                                         organisation_id).aggregate(s=Sum("shares"))["s"] or 0
    if shares < product.min_shares:
        problems["shares"] = _("Holds %(h)s shares; this product needs %(n)s.") % {
            "h": shares, "n": product.min_shares}
    if product.savings_before_credit_percent:
        saved = SavingsAccount.objects.filter(
            person=person, caisse__organisation_id=caisse.organisation_id,
            product__kind=ProductKind.VOLUNTARY, status__in=[
                AccountStatus.ACTIVE, AccountStatus.DORMANT]).aggregate(
            s=Sum("balance"))["s"] or 0
        needed = int(amount * product.savings_before_credit_percent / 100)
        if saved < needed:
            problems["savings"] = _(
                "Savings before credit: %(need)s F CFA needed, %(have)s F CFA saved.") % {
                "need": needed, "have": saved}
    cycles = product.cycle_max_amounts or []
    if cycles:
        cycle = borrower_cycle(person, caisse.organisation_id)
        ceiling = cycles[min(cycle, len(cycles)) - 1]
        if amount > ceiling:
            problems["principal"] = _(
                "A loan of cycle %(c)s is at most %(m)s F CFA.") % {"c": cycle, "m": ceiling}
    if Loan.objects.filter(person=person, product=product, status__in=[
            LoanStatus.APPLIED, LoanStatus.APPROVED, LoanStatus.ACTIVE]).exists():
        problems["product_code"] = _("The member already has a loan of this product.")
    return problems


# --- application ------------------------------------------------------------------------------


def _write_schedule(loan: Loan, schedule: Schedule, version: int) -> None:
    Installment.objects.filter(loan=loan, version=version).delete()
    Installment.objects.bulk_create([
        Installment(loan=loan, version=version, number=i.number, due_on=i.due_on,
                    principal=int(i.principal), interest=int(i.interest), fees=int(i.fees))
        for i in schedule.installments])


def _set_offer(loan: Loan, offer: Offer) -> None:
    loan.terms, loan.pattern = offer.terms, offer.pattern
    loan.teg_annual = offer.teg.annual_rate_percent
    loan.teg_period = offer.teg.period_rate_percent
    loan.teg_base = offer.teg.base.value
    loan.usury_cap = offer.cap
    loan.upfront_fees = int(offer.schedule.upfront_fees)
    loan.compulsory_savings = int(offer.schedule.compulsory_savings)


def loan_apply(*, acting_user, caisse: Unit, person: Person, product: LoanProduct,
               principal: Any, repayments: Any, expected_disbursement_on: date | None = None,
               first_repayment_on: date | None = None, seasonal: dict[str, Any] | None = None,
               purpose: str = "", activity: str = "", group: SolidarityGroup | None = None,
               guarantors: list[tuple[Person, SavingsAccount, Any]] = ()) -> Loan:
    """Record an application with its proposed schedule and TEG (status `applied`)."""
    require_role(acting_user, caisse, OFFICER_ROLES)
    if product.organisation_id != caisse.organisation_id or not product.active:
        raise invalid("product_code", _("This product is not offered here."))
    on = today()
    disburse_on = expected_disbursement_on or on
    if disburse_on < on:
        raise invalid("expected_disbursement_on", _("The disbursement cannot be in the past."))
    offer = offer_for(product, principal=principal, repayments=repayments,
                      disbursed_on=disburse_on, first_repayment_on=first_repayment_on,
                      seasonal=seasonal)
    amount = int(offer.terms["principal"])
    problems = eligibility(product, person, caisse, amount, on)
    if problems:
        raise ApplicationError("not_eligible", _("The member does not meet the product's "
                                                 "conditions."), problems, status_code=422)
    if group is not None and (group.caisse_id != caisse.pk or not group.members.filter(
            person=person, left_on__isnull=True).exists()):
        raise invalid("group_id", _("The member does not belong to this group."))
    pledges = []
    for g_person, account, g_amount in guarantors:
        value = clean_amount(g_amount, "guarantors")
        if g_person.pk == person.pk or account.person_id != g_person.pk or \
                account.caisse.organisation_id != caisse.organisation_id:
            raise invalid("guarantors", _("A guarantor pledges her own savings account."))
        pledges.append((g_person, account, value))
    with transaction.atomic():
        n = next_number(f"loan:{caisse.pk}", on.year)
        loan = Loan(number=f"{caisse.code}-P{on.year % 100:02d}-{n:05d}", product=product,
                    caisse=caisse, person=person, group=group, principal=amount,
                    purpose=str(purpose or "")[:200], activity=str(activity or "")[:32],
                    cycle=borrower_cycle(person, caisse.organisation_id), applied_on=on,
                    expected_disbursement_on=disburse_on, loan_officer=acting_user,
                    gl_account=product.gl_account)
        _set_offer(loan, offer)
        loan.save()
        _write_schedule(loan, offer.schedule, 1)
        Guarantor.objects.bulk_create([
            Guarantor(loan=loan, person=p, savings_account=a, amount=v) for p, a, v in pledges])
        audit_log(actor=acting_user, event_type="credit.loan_applied", subject=loan,
                  after={"number": loan.number, "principal": amount, "product": product.code,
                         "teg": str(loan.teg_annual), "pattern": loan.pattern},
                  unit=caisse)
    return loan


def loan_terms_change(*, acting_user, loan: Loan, principal: Any = None, repayments: Any = None,
                      expected_disbursement_on: date | None = None,
                      first_repayment_on: date | None = None,
                      seasonal: dict[str, Any] | None = None) -> Loan:
    """Change an application's figures (after the appraisal, the committee's conditions)."""
    require_role(acting_user, loan.caisse, OFFICER_ROLES)
    if loan.status != LoanStatus.APPLIED:
        raise conflict("not_an_application", _("Only an application can be changed."))
    disburse_on = expected_disbursement_on or loan.expected_disbursement_on
    offer = offer_for(loan.product, principal=principal or loan.principal,
                      repayments=repayments or loan.terms["repayments"],
                      disbursed_on=disburse_on, first_repayment_on=first_repayment_on,
                      seasonal=seasonal)
    with transaction.atomic():
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        before = {"principal": locked.principal, "terms": locked.terms}
        locked.principal = int(offer.terms["principal"])
        locked.expected_disbursement_on = disburse_on
        _set_offer(locked, offer)
        locked.save()
        _write_schedule(locked, offer.schedule, 1)
        Appraisal.objects.filter(loan=locked).delete()  # the figures changed: appraise again
        audit_log(actor=acting_user, event_type="credit.loan_terms_changed", subject=locked,
                  before=before, after={"principal": locked.principal, "terms": locked.terms},
                  unit=locked.caisse)
    return locked


# --- appraisal --------------------------------------------------------------------------------


def _twelve(value: Any, field: str, errors: dict) -> list[int]:
    if value in (None, []):
        return [0] * MONTHS
    if not isinstance(value, list | tuple) or len(value) != MONTHS:
        errors[field] = _("Give 12 monthly amounts, January first.")
        return [0] * MONTHS
    out = []
    for v in value:
        try:
            if isinstance(v, bool):
                raise ValueError
            number = int(str(v).replace(" ", "") or 0)
        except (TypeError, ValueError):
            errors[field] = _("Whole francs only.")
            return [0] * MONTHS
        if number < 0 or number > 10**10:
            errors[field] = _("Out of range.")
            return [0] * MONTHS
        out.append(number)
    return out


def clean_worksheet(incomes: Any, household_expenses: Any, other_debts: Any
                    ) -> tuple[list[dict[str, Any]], list[int], list[int]]:
    errors: dict[str, Any] = {}
    rows = []
    if not isinstance(incomes, list) or not incomes:
        errors["incomes"] = _("Give at least one activity with its monthly income.")
    else:
        for row in incomes[:20]:
            if not isinstance(row, dict) or not str(row.get("activity") or "").strip():
                errors["incomes"] = _("Each income names its activity.")
                break
            rows.append({"activity": str(row["activity"]).strip()[:60],
                         "months": _twelve(row.get("months"), "incomes", errors)})
    expenses = _twelve(household_expenses, "household_expenses", errors)
    debts = _twelve(other_debts, "other_debts", errors)
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    return rows, expenses, debts


def monthly_surplus(incomes: list[dict[str, Any]], expenses: list[int], debts: list[int]
                    ) -> list[int]:
    return [sum(r["months"][m] for r in incomes) - expenses[m] - debts[m] for m in range(MONTHS)]


def instalment_ratios(surplus: list[int], installments) -> list[dict[str, Any]]:
    """Instalment / surplus of the month it falls due, in % (None: no surplus that month)."""
    out = []
    for i in installments:
        total = int(i.total)
        s = surplus[i.due_on.month - 1]
        ratio = None if s <= 0 else (Decimal(total) * 100 / s).quantize(Decimal("0.01"))
        if total == 0:
            ratio = Decimal("0.00")
        out.append({"number": i.number, "due_on": i.due_on.isoformat(), "total": total,
                    "surplus": s, "ratio": None if ratio is None else str(ratio)})
    return out


def _max_ratio(ratios: list[dict[str, Any]]) -> Decimal | None:
    """The worst ratio; None stands for "due in a month without surplus" (worse than any)."""
    worst = Decimal(0)
    for r in ratios:
        if r["ratio"] is None:
            return None
        worst = max(worst, Decimal(r["ratio"]))
    return worst


POVERTY_QUESTIONS = 10


def _poverty(answers: Any) -> tuple[dict[str, int], int | None]:
    """The Simple Poverty Scorecard answers (points per question, Schreiner 2008); the score
    is their sum (0-100). The likelihood table is data, kept outside the code."""
    if not answers:
        return {}, None
    if not isinstance(answers, dict):
        raise invalid("poverty_answers", _("Answers by question number."))
    clean = {}
    for key, value in answers.items():
        if str(key) not in {str(n) for n in range(1, POVERTY_QUESTIONS + 1)} or \
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 40:
            raise invalid("poverty_answers", _("Questions 1 to 10, points 0 to 40."))
        clean[str(key)] = value
    score = sum(clean.values())
    if score > 100:
        raise invalid("poverty_answers", _("The score is at most 100."))
    return clean, score


def loan_appraise(*, acting_user, loan: Loan, incomes: Any, household_expenses: Any = None,
                  other_debts: Any = None, override_reason: str = "",
                  poverty_answers: Any = None) -> Appraisal:
    """Record the repayment-capacity worksheet: the ratio of each instalment to the surplus of
    the month it falls due, against the product's limit. Above the limit the application can
    only go forward with an override reason, recorded."""
    require_role(acting_user, loan.caisse, OFFICER_ROLES)
    if loan.status != LoanStatus.APPLIED:
        raise conflict("not_an_application", _("Only an application is appraised."))
    rows, expenses, debts = clean_worksheet(incomes, household_expenses, other_debts)
    answers, score = _poverty(poverty_answers)
    surplus = monthly_surplus(rows, expenses, debts)
    ratios = instalment_ratios(surplus, loan.installments.filter(version=1).order_by("number"))
    worst = _max_ratio(ratios)
    limit = loan.product.max_installment_to_surplus_percent
    within = worst is not None and worst <= limit
    reason = str(override_reason or "").strip()[:300]
    with transaction.atomic():
        appraisal, _created = Appraisal.objects.update_or_create(loan=loan, defaults={
            "incomes": rows, "household_expenses": expenses, "other_debts": debts,
            "ratios": ratios, "max_ratio": worst, "limit": limit, "within_limit": within,
            "override_reason": "" if within else reason, "poverty_answers": answers,
            "poverty_score": score, "appraised_by": acting_user})
        audit_log(actor=acting_user, event_type="credit.loan_appraised", subject=loan,
                  after={"max_ratio": None if worst is None else str(worst),
                         "limit": str(limit), "within_limit": within,
                         "override_reason": appraisal.override_reason,
                         "poverty_score": score}, unit=loan.caisse)
    return appraisal


def propose_schedules(product: LoanProduct, *, principal: Any, repayments: Any,
                      disbursed_on: date, incomes: Any, household_expenses: Any = None,
                      other_debts: Any = None, crop: dict[str, Any] | None = None
                      ) -> list[dict[str, Any]]:
    """The schedules the product allows, each with its TEG and instalment/surplus ratios,
    best fit first (lowest worst ratio): the system proposes the one that fits the income."""
    rows, expenses, debts = clean_worksheet(incomes, household_expenses, other_debts)
    surplus = monthly_surplus(rows, expenses, debts)
    income = [sum(r["months"][m] for r in rows) for m in range(MONTHS)]
    outgo = [expenses[m] + debts[m] for m in range(MONTHS)]
    by_income = {"pattern": "income", "monthly_income": [str(v) for v in income],
                 "monthly_expenses": [str(v) for v in outgo]}
    # The asked number of repayments for each kind, and for the income pattern also a whole
    # year of monthly dates, so a harvest month can carry most of the principal.
    candidates: list[tuple[str, dict[str, Any] | None, Any]] = [
        (Pattern.REGULAR, None, repayments), (Pattern.INCOME, by_income, repayments)]
    year = min(12, product.max_repayments)
    if product.repayment_unit == "months" and str(repayments) != str(year):
        candidates.append((Pattern.INCOME, by_income, year))
    if crop:
        candidates.append((Pattern.CROP, {"pattern": "crop", **crop}, repayments))
    allowed = product.allowed_patterns or [Pattern.REGULAR]
    proposals = []
    first_error: ApplicationError | None = None
    for pattern, seasonal, count in candidates:
        if pattern not in allowed:
            continue
        try:
            offer = offer_for(product, principal=principal, repayments=count,
                              disbursed_on=disbursed_on, seasonal=seasonal)
        except ApplicationError as exc:
            first_error = first_error or exc
            continue
        ratios = instalment_ratios(surplus, offer.schedule.installments)
        worst = _max_ratio(ratios)
        proposals.append({"pattern": pattern, "seasonal": seasonal, "repayments": count,
                          "offer": offer,
                          "ratios": ratios, "max_ratio": worst,
                          "within_limit": worst is not None and
                          worst <= product.max_installment_to_surplus_percent})
    if not proposals:
        raise first_error or invalid("seasonal", _("No schedule of this product fits."))
    proposals.sort(key=lambda p: (p["max_ratio"] is None, p["max_ratio"] or 0))
    return proposals


# --- committee --------------------------------------------------------------------------------


def approval_role(loan: Loan) -> str:
    """The role that decides a loan of this amount (the product's levels, lowest first); the
    caisse manager when the product names none."""
    for level in loan.product.approval_levels or []:
        if level.get("up_to") is None or loan.principal <= level["up_to"]:
            return level["role"]
    return Role.CAISSE_MANAGER.value


def _require_decider(user, loan: Loan) -> str:
    role = approval_role(loan)
    roles = {role, Role.NETWORK_ADMIN.value}
    if role == Role.LOAN_OFFICER.value:
        roles |= MANAGER_ROLES
    if role == Role.CAISSE_MANAGER.value:
        roles.add(Role.CAISSE_MANAGER.value)
    require_role(user, loan.caisse, OFFICER_ROLES)
    if not has_role(user, loan.caisse, roles):
        raise Forbidden("approval_level",
                        _("A loan of this amount is decided by: %(role)s.") % {
                            "role": Role(role).label})
    if loan.loan_officer_id == getattr(user, "pk", None):
        raise Forbidden("maker_checker", _("Another person must decide on your application."))
    return role


def loan_approve(*, acting_user, loan: Loan, note: str = "") -> Loan:
    """The credit committee approves: the appraisal is done (within the limit, or an override
    reason is recorded) and the TEG is within the cap in force."""
    with transaction.atomic():
        locked = Loan.objects.select_for_update(of=("self",)).select_related(
            "product", "caisse").get(pk=loan.pk)
        role = _require_decider(acting_user, locked)
        if locked.status != LoanStatus.APPLIED:
            raise conflict("not_an_application", _("Only an application can be approved."))
        appraisal = Appraisal.objects.filter(loan=locked).first()
        if appraisal is None:
            raise conflict("not_appraised", _("Appraise the repayment capacity first."),
                           "appraisal")
        if not appraisal.within_limit and not appraisal.override_reason:
            raise conflict("over_limit", _(
                "Instalments exceed the member's capacity: record an override reason or "
                "change the schedule."), "override_reason")
        on = today()
        offer = offer_for(locked.product, principal=locked.principal,
                          repayments=locked.terms["repayments"],
                          disbursed_on=max(locked.expected_disbursement_on, on),
                          first_repayment_on=_date_or_none(locked.terms["first_repayment_on"]),
                          seasonal=locked.terms.get("seasonal"))
        locked.status, locked.approved_on, locked.approved_by = (LoanStatus.APPROVED, on,
                                                                 acting_user)
        locked.usury_cap = offer.cap
        locked.save(update_fields=["status", "approved_on", "approved_by", "usury_cap"])
        Decision.objects.create(loan=locked, level=1, role=role, decision="approved",
                                note=str(note or "")[:300], decided_by=acting_user)
        audit_log(actor=acting_user, event_type="credit.loan_approved", subject=locked,
                  after={"role": role, "note": note, "teg": str(offer.teg.annual_rate_percent),
                         "cap": str(offer.cap)}, unit=locked.caisse)
    return locked


def loan_reject(*, acting_user, loan: Loan, note: str) -> Loan:
    text = str(note or "").strip()
    if not text:
        raise invalid("note", _("Say why the application is rejected."))
    with transaction.atomic():
        locked = Loan.objects.select_for_update(of=("self",)).select_related(
            "product", "caisse").get(pk=loan.pk)
        role = _require_decider(acting_user, locked)
        if locked.status not in (LoanStatus.APPLIED, LoanStatus.APPROVED):
            raise conflict("not_an_application", _("Only an application can be rejected."))
        locked.status = LoanStatus.REJECTED
        locked.save(update_fields=["status"])
        Decision.objects.create(loan=locked, level=1, role=role, decision="rejected",
                                note=text[:300], decided_by=acting_user)
        audit_log(actor=acting_user, event_type="credit.loan_rejected", subject=locked,
                  after={"note": text}, unit=locked.caisse)
    return locked


def _date_or_none(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None
