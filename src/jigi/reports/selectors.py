"""Reports: who sees which perimeter, the parameters, and one builder per report.

Every builder takes a `Perimeter` (the caisses it covers, checked against the user's scope)
and `on`, the as-of date, and returns a `tables.Report`. Portfolio figures come from
`reports.portfolio` (one set-based statement, no query per loan); ledger figures from
`ledger.selectors` (aggregated journal lines up to the value date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.credit.calendar_math import add_months
from jigi.credit.models import (
    GroupMember,
    Loan,
    LoanProduct,
    LoanTransaction,
    SolidarityGroup,
)
from jigi.orgs.models import Organisation, OrgKind, Role, Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import Membership, MembershipStatus, Sex
from jigi.reports import rules
from jigi.reports.models import GniPerCapita
from jigi.reports.portfolio import (
    REPAID_KINDS,
    Agg,
    Over,
    outstanding_at,
    portfolio,
    portfolio_series_cached,
)
from jigi.reports.tables import Column, Report, Table

REPORT_ROLES = frozenset({Role.LOAN_OFFICER.value, Role.CAISSE_MANAGER.value,
                          Role.NETWORK_AUDITOR.value, Role.NETWORK_ADMIN.value})
DIMENSIONS = ("caisse", "region", "product", "officer", "sex", "activity", "crop")
REPORTS = ("par", "ageing", "provisions", "flows", "yield", "writeoffs", "trial_balance",
           "balance_sheet", "income_statement", "prudential", "social")
REPORT_TITLES = {
    "par": gettext_lazy("Portfolio at risk (PAR)"),
    "ageing": gettext_lazy("Ageing of arrears"),
    "provisions": gettext_lazy("Loan-loss provisions (BCEAO)"),
    "flows": gettext_lazy("Disbursements and repayments (demand vs collection)"),
    "yield": gettext_lazy("Portfolio yield"),
    "writeoffs": gettext_lazy("Write-offs and recoveries"),
    "trial_balance": gettext_lazy("Trial balance"),
    "balance_sheet": gettext_lazy("Balance sheet (DIMF 2000)"),
    "income_statement": gettext_lazy("Income statement (DIMF 2080)"),
    "prudential": gettext_lazy("BCEAO prudential indicators"),
    "social": gettext_lazy("Social performance"),
}


# --- Perimeter --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Perimeter:
    organisation: Organisation
    unit: Unit
    caisse_ids: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.unit.code} {self.unit.name}"

    @property
    def is_caisse(self) -> bool:
        return self.unit.kind == UnitKind.CAISSE


def _caisses_under(unit: Unit) -> tuple[int, ...]:
    return tuple(Unit.objects.filter(organisation_id=unit.organisation_id, kind=UnitKind.CAISSE,
                                     path__startswith=unit.path).order_by("pk")
                 .values_list("pk", flat=True))


def network_perimeter(unit_code: str | None = None) -> Perimeter:
    """The whole savings-and-credit network, or one of its units by code (the CLI)."""
    org = Organisation.objects.filter(kind=OrgKind.SFD).order_by("pk").first()
    if org is None:
        raise NotFound("organisation_not_found", _("No savings and credit network yet."))
    if unit_code:
        unit = _unit_by_code(org, unit_code)
    else:
        unit = Unit.objects.filter(organisation=org, parent__isnull=True).order_by("pk").first()
        if unit is None:
            raise NotFound("unit_not_found", _("Unit not found."))
    return Perimeter(org, unit, _caisses_under(unit))


def _unit_by_code(org: Organisation, code: str) -> Unit:
    code = (code or "").strip()
    unit = (Unit.objects.filter(organisation=org, code=code).first()
            if code and code.isprintable() and len(code) <= 32 else None)
    if unit is None:
        raise NotFound("unit_not_found", _("Unknown caisse or region: %(code)s.")
                       % {"code": code[:32]}, {"unit": _("Unknown unit code.")})
    return unit


def perimeter_for(user, unit_code: str | None = None) -> Perimeter:
    """The perimeter a user asks for: by default the widest unit her report roles cover (the
    network for an auditor or administrator, her caisse for a manager); `unit_code` narrows
    it to a region or caisse she covers. Staff without a report role: 403; a unit she does
    not cover, or no such unit: 404 (the same answer, so nothing leaks)."""
    scope = user_scope(user)
    grants = [g for g in scope.grants if g.role in REPORT_ROLES]
    if scope.is_superuser:
        return network_perimeter(unit_code)
    if not grants:
        raise Forbidden("reports_forbidden", _("Reports are for credit and network staff."))
    org = Organisation.objects.get(pk=grants[0].organisation_id)
    if unit_code:
        try:
            unit = _unit_by_code(org, unit_code)
        except NotFound:
            raise NotFound("unit_not_found", _("Unknown caisse or region: %(code)s.")
                           % {"code": unit_code[:32]}, {"unit": _("Unknown unit code.")}
                           ) from None
        if not scope.covers_unit(unit, roles=set(REPORT_ROLES)):
            raise NotFound("unit_not_found", _("Unknown caisse or region: %(code)s.")
                           % {"code": unit_code[:32]}, {"unit": _("Unknown unit code.")})
    else:
        org_wide = [g for g in grants if g.unit_id is None]
        if org_wide:
            unit = Unit.objects.filter(organisation=org, parent__isnull=True).order_by("pk"
                                                                                      ).first()
        else:
            unit = Unit.objects.get(pk=min(grants, key=lambda g: len(g.unit_path or "")).unit_id)
    return Perimeter(org, unit, _caisses_under(unit))


def units_for(user, perimeter: Perimeter) -> list[Unit]:
    """Regions and caisses the user may narrow a report to (for the screen's selector)."""
    return list(Unit.objects.filter(organisation=perimeter.organisation,
                                    kind__in=[UnitKind.NETWORK, UnitKind.REGION, UnitKind.CAISSE],
                                    path__startswith=perimeter.unit.path).order_by("path"))


# --- Parameters -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Params:
    on: date
    by: str
    date_from: date | None


def _date_field(value: Any, field_name: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field_name] = _("A date as YYYY-MM-DD.")
        return None


def clean_params(name: str, *, on: Any = None, by: Any = None, date_from: Any = None,
                 today: date | None = None) -> Params:
    """Validate a report's parameters (screen, CSV/XLSX download, CLI alike): 404 for an
    unknown report, 422 naming the field for a bad date or dimension."""
    if name not in REPORTS:
        raise NotFound("report_not_found", _("Unknown report: %(name)s.") % {"name": str(name)[:40]})
    today = today or timezone.localdate()
    errors: dict[str, Any] = {}
    when = _date_field(on, "on", errors) or (None if "on" in errors else today)
    if when is not None and when > today:
        errors["on"] = _("Reports are as of today or a past date.")
    start = _date_field(date_from, "from", errors)
    dim = (by or "caisse").strip() if isinstance(by, str) or by is None else ""
    if dim not in DIMENSIONS:
        errors["by"] = _("One of: %(choices)s.") % {"choices": ", ".join(DIMENSIONS)}
    if start is not None and when is not None and start > when:
        errors["from"] = _("The start of the period is after its end.")
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    return Params(when, dim, start)


# --- Labels of dimension keys -----------------------------------------------------------------

def _labels(by: str, keys, perimeter: Perimeter) -> dict:
    if by in ("caisse", "region"):
        return {u.pk: f"{u.code} {u.name}" for u in Unit.objects.filter(pk__in=[
            k for k in keys if k is not None])}
    if by == "product":
        return {p.pk: f"{p.code} {p.name}" for p in LoanProduct.objects.filter(pk__in=[
            k for k in keys if k is not None])}
    if by == "officer":
        users = get_user_model().objects.filter(pk__in=[k for k in keys if k is not None])
        return {u.pk: (u.get_full_name() or u.get_username()) for u in users}
    if by == "sex":
        return {k: str(Sex(k).label) if k in Sex.values else k for k in keys}
    if by == "urban":
        return {True: _("Urban"), False: _("Rural")}
    return {k: k for k in keys}


def _label(labels: dict, key, by: str) -> str:
    if key in (None, ""):
        return {"officer": _("No officer"), "crop": _("Not a crop loan"),
                "activity": _("Not given")}.get(by, _("Not given"))
    return str(labels.get(key, key))


def _grouped(perimeter: Perimeter, on: date, by: str, limits: list[date]) -> list[tuple[str, Agg]]:
    data = portfolio(perimeter.caisse_ids, on, by, limits)
    labels = _labels(by, list(data), perimeter)
    rows = [(_label(labels, k, by), agg) for k, agg in data.items()]
    return sorted(rows, key=lambda r: r[0])


def _total(aggs, n: int) -> Agg:
    total = Agg(over=[Over() for _i in range(n)])
    for agg in aggs:
        total.add(agg)
    return total


# --- PAR ----------------------------------------------------------------------------------------

def _par_columns(by_label: str) -> list[Column]:
    cols = [Column("label", by_label), Column("loans", _("Loans"), "int"),
            Column("outstanding", _("Gross outstanding"), "francs")]
    for n in rules.PAR_DAYS:
        cols += [Column(f"at_risk{n}", _("At risk > %(n)s d") % {"n": n}, "francs"),
                 Column(f"par{n}", f"PAR{n} %", "pct")]
    return cols


def _par_row(label: str, agg: Agg) -> dict[str, Any]:
    row: dict[str, Any] = {"label": label, "loans": agg.loans, "outstanding": agg.outstanding}
    for n, over in zip(rules.PAR_DAYS, agg.over, strict=True):
        row[f"at_risk{n}"] = over.outstanding
        row[f"par{n}"] = rules.ratio_pct(over.outstanding, agg.outstanding)
    return row


def dimension_label(by: str) -> str:
    return str({"caisse": _("Caisse"), "region": _("Region"), "product": _("Product"),
                "officer": _("Loan officer"), "sex": _("Sex"), "activity": _("Activity"),
                "crop": _("Crop")}[by])


def par_totals(perimeter: Perimeter, on: date) -> dict[str, Any]:
    """The perimeter's gross outstanding and PAR1/30/60/90 at `on` (dashboard, prudential)."""
    data = portfolio(perimeter.caisse_ids, on, "none",
                     [rules.day_limit(on, n) for n in rules.PAR_DAYS])
    return _par_row(perimeter.label, _total(data.values(), len(rules.PAR_DAYS)))


def report_par(perimeter: Perimeter, p: Params) -> Report:
    limits = [rules.day_limit(p.on, n) for n in rules.PAR_DAYS]
    grouped = _grouped(perimeter, p.on, p.by, limits)
    table = Table("par", _("PAR by %(dim)s") % {"dim": dimension_label(p.by).lower()},
                  _par_columns(dimension_label(p.by)),
                  [_par_row(label, agg) for label, agg in grouped])
    if grouped:
        table.total = _par_row(_("Total"), _total((a for _l, a in grouped), len(limits)))
    return Report("par", REPORT_TITLES["par"], p.on, perimeter.label, [table],
                  {"by": p.by},
                  [_("PAR-N: outstanding principal of loans with any amount overdue more than "
                     "N days, over the gross outstanding (CGAP).")])


# --- Ageing -------------------------------------------------------------------------------------

def _bucket_label(i: int) -> str:
    lim = rules.AGEING_LIMITS
    if i == 0:
        return _("Not overdue")
    low = lim[i - 1] + 1
    if i == len(lim):
        return _("More than %(n)s days") % {"n": lim[-1]}
    return _("%(a)s to %(b)s days") % {"a": low, "b": lim[i]}


def report_ageing(perimeter: Perimeter, p: Params) -> Report:
    limits = [rules.day_limit(p.on, n) for n in rules.AGEING_LIMITS]
    total = _total(portfolio(perimeter.caisse_ids, p.on, "none", limits).values(), len(limits))
    # Cumulative "more than N days" -> buckets by difference.
    cum = [(total.loans, total.outstanding)] + [(o.loans, o.outstanding) for o in total.over]
    rows = []
    for i in range(len(cum)):
        nxt = cum[i + 1] if i + 1 < len(cum) else (0, 0)
        loans, amount = cum[i][0] - nxt[0], cum[i][1] - nxt[1]
        rows.append({"label": _bucket_label(i), "loans": loans, "outstanding": amount,
                     "share": rules.ratio_pct(amount, total.outstanding)})
    table = Table("ageing", _("Ageing of the portfolio by days overdue"),
                  [Column("label", _("Days overdue (oldest unpaid instalment)")),
                   Column("loans", _("Loans"), "int"),
                   Column("outstanding", _("Outstanding"), "francs"),
                   Column("share", _("Share %"), "pct")], rows,
                  {"label": _("Total"), "loans": total.loans, "outstanding": total.outstanding,
                   "share": rules.ratio_pct(total.outstanding, total.outstanding)})
    return Report("ageing", REPORT_TITLES["ageing"], p.on, perimeter.label, [table])


# --- Provisions ---------------------------------------------------------------------------------

def provision_rows(total: Agg) -> list[dict[str, Any]]:
    """Bands from the cumulative 'more than M months' sums: not overdue, 0-3 months (0 %),
    >3-6 (40 %), >6-12 (80 %), >12-24 (100 %), >24 (100 %, write-off proposed)."""
    bands = rules.PROVISION_BANDS
    over = total.over or [Over() for _b in range(len(bands) + 1)]
    # over[0] = any instalment unpaid (due before on); over[1..] = more than bands[i] months.
    cum = [Over(total.loans, total.outstanding, total.base), *over]
    labels = [_("Not overdue"), _("Overdue up to 3 months"), _("More than 3 to 6 months"),
              _("More than 6 to 12 months"), _("More than 12 to 24 months"),
              _("More than 24 months (to write off)")]
    rates = [0, 0] + [b.rate for b in bands]
    rows = []
    for i, label in enumerate(labels):
        nxt = cum[i + 1] if i + 1 < len(cum) else Over()
        loans = cum[i].loans - nxt.loans
        amount = cum[i].outstanding - nxt.outstanding
        base = cum[i].base - nxt.base
        rows.append({"label": label, "loans": loans, "outstanding": amount,
                     "guarantees": amount - base, "base": base, "rate": Decimal(rates[i]),
                     "provision": rules.provision_of(base, rates[i])})
    return rows


def _provision_limits(on: date) -> list[date]:
    return [rules.day_limit(on, 0)] + [rules.month_limit(on, b.months)
                                       for b in rules.PROVISION_BANDS]


def report_provisions(perimeter: Perimeter, p: Params) -> Report:
    limits = _provision_limits(p.on)
    data = portfolio(perimeter.caisse_ids, p.on, p.by, limits)
    total = _total(data.values(), len(limits))
    rows = provision_rows(total)
    cols = [Column("label", _("Class")), Column("loans", _("Loans"), "int"),
            Column("outstanding", _("Outstanding"), "francs"),
            Column("guarantees", _("Guarantee deposits deducted"), "francs"),
            Column("base", _("Base"), "francs"), Column("rate", _("Rate %"), "pct"),
            Column("provision", _("Provision required"), "francs")]
    summary = Table("provisions", _("Provisions by class of arrears"), cols, rows, {
        "label": _("Total"), "loans": total.loans, "outstanding": total.outstanding,
        "guarantees": sum(r["guarantees"] for r in rows), "base": total.base, "rate": None,
        "provision": sum(r["provision"] for r in rows)})
    labels = _labels(p.by, list(data), perimeter)
    by_rows = []
    for key, agg in data.items():
        prow = provision_rows(agg)
        by_rows.append({"label": _label(labels, key, p.by), "outstanding": agg.outstanding,
                        "doubtful": agg.over[0].outstanding if agg.over else 0,
                        "provision": sum(r["provision"] for r in prow)})
    by_rows.sort(key=lambda r: r["label"])
    detail = Table("provisions_by", _("Provisions by %(dim)s") % {
        "dim": dimension_label(p.by).lower()},
        [Column("label", dimension_label(p.by)),
         Column("outstanding", _("Outstanding"), "francs"),
         Column("doubtful", _("Créances en souffrance"), "francs"),
         Column("provision", _("Provision required"), "francs")], by_rows,
        {"label": _("Total"), "outstanding": total.outstanding,
         "doubtful": total.over[0].outstanding if total.over else 0,
         "provision": sum(r["provision"] for r in by_rows)})
    return Report("provisions", REPORT_TITLES["provisions"], p.on, perimeter.label,
                  [summary, detail], {"by": p.by},
                  [_("BCEAO schedule: one unpaid instalment moves the whole outstanding to "
                     "créances en souffrance; base = outstanding principal minus guarantee "
                     "deposits (compulsory savings still blocked and guarantors' pledges); "
                     "provision per class rounded to the franc.")])


# --- Flows: disbursements, demand and collection ------------------------------------------------

def _period(p: Params) -> tuple[date, date]:
    return (p.date_from or p.on.replace(day=1)), p.on


def _loans_in(perimeter: Perimeter):
    return Loan.objects.filter(caisse_id__in=perimeter.caisse_ids)


_ORM_KEYS = {"caisse": "caisse_id", "region": "caisse__parent_id", "product": "product_id",
             "officer": "loan_officer_id", "sex": "person__sex", "activity": "activity",
             "crop": "terms__seasonal__crop"}


def report_flows(perimeter: Perimeter, p: Params) -> Report:
    start, end = _period(p)
    key = _ORM_KEYS[p.by]
    loans = _loans_in(perimeter)
    disbursed = {r["k"]: r for r in loans.filter(disbursed_on__gte=start, disbursed_on__lte=end)
                 .values(k=_key_expr(key)).annotate(n=Count("pk"), amount=Sum("principal"))}
    from jigi.credit.models import Installment
    from jigi.credit.models import Rescheduling as Resch
    # Demand: instalments falling due in the period, of the schedule version in force on
    # their due date (a rescheduled loan's old instalments count until the rescheduling).
    in_force = Resch.objects.filter(loan_id=OuterRef("loan_id"), on__lte=OuterRef("due_on"),
                                    to_version__gt=OuterRef("version"))
    due = (Installment.objects.filter(loan__caisse_id__in=perimeter.caisse_ids,
                                      due_on__gte=start, due_on__lte=end)
           .exclude(Exists(in_force))
           .values(k=_key_expr("loan__" + key if key != "terms__seasonal__crop"
                               else "loan__terms__seasonal__crop"))
           .annotate(n=Count("pk"), principal=Sum("principal"), interest=Sum("interest"),
                     fees=Sum("fees")))
    demand = {r["k"]: r for r in due}
    paid = (LoanTransaction.objects.filter(loan__caisse_id__in=perimeter.caisse_ids,
                                           value_date__gte=start, value_date__lte=end,
                                           reversed=False, kind__in=REPAID_KINDS)
            .values(k=_key_expr("loan__" + key))
            .annotate(n=Count("pk"), principal=Sum("principal"), interest=Sum("interest"),
                      fees=Sum("fees"), penalties=Sum("penalties")))
    collected = {r["k"]: r for r in paid}
    keys = set(disbursed) | set(demand) | set(collected)
    labels = _labels(p.by, keys, perimeter)
    rows = []
    for k in keys:
        d, dm, c = disbursed.get(k, {}), demand.get(k, {}), collected.get(k, {})
        demand_amount = sum(dm.get(x) or 0 for x in ("principal", "interest", "fees"))
        coll = sum(c.get(x) or 0 for x in ("principal", "interest", "fees", "penalties"))
        rows.append({"label": _label(labels, k, p.by), "disbursed_n": d.get("n", 0),
                     "disbursed": d.get("amount") or 0, "demand": demand_amount,
                     "collected": coll, "collected_principal": c.get("principal") or 0,
                     "collected_interest": c.get("interest") or 0,
                     "rate": rules.ratio_pct(coll, demand_amount)})
    rows.sort(key=lambda r: r["label"])
    total = {"label": _("Total")}
    for col in ("disbursed_n", "disbursed", "demand", "collected", "collected_principal",
                "collected_interest"):
        total[col] = sum(r[col] for r in rows)
    total["rate"] = rules.ratio_pct(total["collected"], total["demand"])
    table = Table("flows", _("From %(a)s to %(b)s") % {"a": start.isoformat(),
                                                        "b": end.isoformat()},
                  [Column("label", dimension_label(p.by)),
                   Column("disbursed_n", _("Loans disbursed"), "int"),
                   Column("disbursed", _("Amount disbursed"), "francs"),
                   Column("demand", _("Due in the period"), "francs"),
                   Column("collected", _("Collected"), "francs"),
                   Column("collected_principal", _("of which principal"), "francs"),
                   Column("collected_interest", _("of which interest"), "francs"),
                   Column("rate", _("Collection rate %"), "pct")], rows, total)
    return Report("flows", REPORT_TITLES["flows"], p.on, perimeter.label, [table],
                  {"by": p.by, "from": start},
                  [_("Due: principal, interest and fees of the instalments falling due in the "
                     "period (schedule in force on their due date). Collected: every repayment "
                     "of the period, including arrears and advances, not reversed.")])


def _key_expr(path: str):
    from django.db.models import F
    from django.db.models.fields.json import KT

    if "terms__seasonal__crop" in path:
        return KT(path)
    return F(path)


# --- Yield and write-offs -----------------------------------------------------------------------

def _average_portfolio(perimeter: Perimeter, start: date, end: date, by: str) -> dict:
    """Average of the gross outstanding at the start and each month end up to `end`."""
    points = [start - timedelta(days=1)]
    cursor = start
    while True:
        month_end = add_months(cursor.replace(day=1), 1) - timedelta(days=1)
        if month_end >= end:
            break
        points.append(month_end)
        cursor = month_end + timedelta(days=1)
    points.append(end)
    series = outstanding_at(perimeter.caisse_ids, points, by if by != "region" else "region")
    keys = {k for v in series.values() for k in v}
    return {k: sum(series[d].get(k, 0) for d in points) // len(points) for k in keys}


def report_yield(perimeter: Perimeter, p: Params) -> Report:
    start = p.date_from or (add_months(p.on, -12) + timedelta(days=1))
    end = p.on
    key = _ORM_KEYS[p.by]
    income = {r["k"]: r for r in LoanTransaction.objects.filter(
        loan__caisse_id__in=perimeter.caisse_ids, value_date__gte=start, value_date__lte=end,
        reversed=False, kind__in=REPAID_KINDS).values(k=_key_expr("loan__" + key)).annotate(
        interest=Sum("interest"), fees=Sum("fees"), penalties=Sum("penalties"))}
    upfront = {r["k"]: r["f"] or 0 for r in _loans_in(perimeter).filter(
        disbursed_on__gte=start, disbursed_on__lte=end).values(k=_key_expr(key)).annotate(
        f=Sum("upfront_fees"))}
    average = _average_portfolio(perimeter, start, end, p.by)
    days = (end - start).days + 1
    keys = set(income) | set(upfront) | set(average)
    labels = _labels(p.by, keys, perimeter)
    rows = []
    for k in keys:
        i = income.get(k, {})
        revenue = sum(i.get(x) or 0 for x in ("interest", "fees", "penalties")) + upfront.get(k, 0)
        rows.append(_yield_row(_label(labels, k, p.by), i.get("interest") or 0,
                               (i.get("fees") or 0) + upfront.get(k, 0), i.get("penalties") or 0,
                               revenue, average.get(k, 0), days))
    rows.sort(key=lambda r: r["label"])
    total = _yield_row(_("Total"), sum(r["interest"] for r in rows),
                       sum(r["fees"] for r in rows), sum(r["penalties"] for r in rows),
                       sum(r["revenue"] for r in rows), sum(r["average"] for r in rows), days)
    table = Table("yield", _("From %(a)s to %(b)s") % {"a": start.isoformat(),
                                                        "b": end.isoformat()},
                  [Column("label", dimension_label(p.by)),
                   Column("interest", _("Interest received"), "francs"),
                   Column("fees", _("Fees (incl. withheld at disbursement)"), "francs"),
                   Column("penalties", _("Penalties"), "francs"),
                   Column("revenue", _("Revenue from loans"), "francs"),
                   Column("average", _("Average gross portfolio"), "francs"),
                   Column("yield", _("Yield for the period %"), "pct"),
                   Column("annual", _("Annualised yield %"), "pct")], rows, total)
    return Report("yield", REPORT_TITLES["yield"], p.on, perimeter.label, [table],
                  {"by": p.by, "from": start},
                  [_("Portfolio yield (CGAP): cash revenue from loans (interest, fees, "
                     "penalties) over the average gross portfolio (start and month ends); "
                     "annualised over 365 days.")])


def _yield_row(label, interest, fees, penalties, revenue, average, days) -> dict[str, Any]:
    period = rules.ratio_pct(revenue, average)
    annual = rules.ratio_pct(revenue * 365, average * days) if average else None
    return {"label": label, "interest": interest, "fees": fees, "penalties": penalties,
            "revenue": revenue, "average": average, "yield": period, "annual": annual}


def report_writeoffs(perimeter: Perimeter, p: Params) -> Report:
    start = p.date_from or p.on.replace(month=1, day=1)
    key = _ORM_KEYS[p.by]
    written = {r["k"]: r for r in _loans_in(perimeter).filter(
        written_off_on__gte=start, written_off_on__lte=p.on).values(k=_key_expr(key)).annotate(
        n=Count("pk"), amount=Sum("written_off_amount"))}
    recovered = {r["k"]: r["amount"] or 0 for r in LoanTransaction.objects.filter(
        loan__caisse_id__in=perimeter.caisse_ids, kind="recovery", reversed=False,
        value_date__gte=start, value_date__lte=p.on).values(
        k=_key_expr("loan__" + key)).annotate(amount=Sum("amount"))}
    average = _average_portfolio(perimeter, start, p.on, p.by)
    keys = set(written) | set(recovered)
    labels = _labels(p.by, keys, perimeter)
    rows = []
    for k in keys:
        w = written.get(k, {})
        rows.append({"label": _label(labels, k, p.by), "loans": w.get("n", 0),
                     "amount": w.get("amount") or 0, "recovered": recovered.get(k, 0),
                     "ratio": rules.ratio_pct(w.get("amount") or 0, average.get(k, 0))})
    rows.sort(key=lambda r: r["label"])
    total_avg = sum(average.values())
    total = {"label": _("Total"), "loans": sum(r["loans"] for r in rows),
             "amount": sum(r["amount"] for r in rows),
             "recovered": sum(r["recovered"] for r in rows)}
    total["ratio"] = rules.ratio_pct(total["amount"], total_avg)
    table = Table("writeoffs", _("From %(a)s to %(b)s") % {"a": start.isoformat(),
                                                            "b": p.on.isoformat()},
                  [Column("label", dimension_label(p.by)),
                   Column("loans", _("Loans written off"), "int"),
                   Column("amount", _("Amount written off"), "francs"),
                   Column("recovered", _("Recovered in the period"), "francs"),
                   Column("ratio", _("Write-off ratio %"), "pct")], rows, total)
    return Report("writeoffs", REPORT_TITLES["writeoffs"], p.on, perimeter.label, [table],
                  {"by": p.by, "from": start},
                  [_("Write-off ratio: amount written off in the period over the average "
                     "gross portfolio.")])


# --- Social performance -------------------------------------------------------------------------

def gni_on(on: date) -> GniPerCapita | None:
    return GniPerCapita.objects.filter(since__lte=on).order_by("-since").first()


def report_social(perimeter: Perimeter, p: Params) -> Report:
    on = p.on
    # A pending membership is a training participant registered on the spot, not a member.
    members = Membership.objects.filter(unit_id__in=perimeter.caisse_ids, start_date__lte=on
                                        ).filter(Q(end_date__isnull=True) | Q(end_date__gt=on)
                                                 ).exclude(status=MembershipStatus.PENDING)
    tables = []

    def outreach(title, key, by, member_rows, band=None):
        data = portfolio(perimeter.caisse_ids, on, by, [])
        borrowers: dict = {}
        outstanding: dict = {}
        for k, agg in data.items():
            kk = band(k) if band else k
            borrowers[kk] = borrowers.get(kk, 0) + agg.borrowers
            outstanding[kk] = outstanding.get(kk, 0) + agg.outstanding
        mem: dict = {}
        for k, n in member_rows:
            kk = band(k) if band else k
            mem[kk] = mem.get(kk, 0) + n
        keys = set(mem) | set(borrowers)
        labels = _labels(by if by in ("sex", "urban") else "none", keys, perimeter)
        total_b = sum(borrowers.values())
        rows = [{"label": _label(labels, k, by), "members": mem.get(k, 0),
                 "borrowers": borrowers.get(k, 0), "outstanding": outstanding.get(k, 0),
                 "share": rules.ratio_pct(borrowers.get(k, 0), total_b)}
                for k in sorted(keys, key=lambda x: (x in (None, ""), str(x)))]
        tables.append(Table(key, title, [
            Column("label", title), Column("members", _("Active members"), "int"),
            Column("borrowers", _("Borrowers"), "int"),
            Column("outstanding", _("Outstanding"), "francs"),
            Column("share", _("Share of borrowers %"), "pct")], rows,
            {"label": _("Total"), "members": sum(mem.values()), "borrowers": total_b,
             "outstanding": sum(outstanding.values()),
             "share": rules.ratio_pct(total_b, total_b)}))

    outreach(_("Sex"), "sex", "sex", members.values_list("person__sex").annotate(n=Count("pk")))
    outreach(_("Age band"), "age", "age",
             members.values_list("person__birth_year").annotate(n=Count("pk")),
             band=lambda y: rules.age_band(y, on))
    outreach(_("Urban or rural caisse"), "urban", "urban",
             members.values_list("unit__urban").annotate(n=Count("pk")))
    outreach(_("Poverty score (Simple Poverty Scorecard)"), "poverty", "poverty", [],
             band=rules.poverty_band)

    # Average loan disbursed over the 12 months to `on`, against GNI per capita.
    year_ago = add_months(on, -12) + timedelta(days=1)
    disb = _loans_in(perimeter).filter(disbursed_on__gte=year_ago, disbursed_on__lte=on
                                       ).aggregate(n=Count("pk"), s=Sum("principal"))
    avg = (disb["s"] or 0) // disb["n"] if disb["n"] else 0
    gni = gni_on(on)
    # Women's groups with at least one member at `on`.
    active_gm = GroupMember.objects.filter(joined_on__lte=on).filter(
        Q(left_on__isnull=True) | Q(left_on__gt=on))
    groups = SolidarityGroup.objects.filter(caisse_id__in=perimeter.caisse_ids, kind="women")
    group_members = active_gm.filter(group__in=groups)
    # Drop-outs over the 12 months to `on`: memberships ended; borrowers who repaid a loan and
    # have taken none since (CGAP client retention).
    members_start = Membership.objects.filter(
        unit_id__in=perimeter.caisse_ids, start_date__lt=year_ago).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=year_ago)).count()
    ended = Membership.objects.filter(unit_id__in=perimeter.caisse_ids,
                                      end_date__gte=year_ago, end_date__lte=on).count()
    closed = _loans_in(perimeter).filter(closed_on__gte=year_ago, closed_on__lte=on)
    later = Loan.objects.filter(person_id=OuterRef("person_id"),
                                disbursed_on__gte=OuterRef("closed_on"), disbursed_on__lte=on)
    closers = closed.values("person_id").distinct().count()
    dropped = closed.exclude(Exists(later)).values("person_id").distinct().count()
    rows = [
        {"label": _("Loans disbursed in the 12 months"), "value": disb["n"], "kind": "int"},
        {"label": _("Average loan disbursed"), "value": avg, "kind": "francs"},
        {"label": _("GNI per capita"), "value": gni.francs if gni else None, "kind": "francs",
         "note": (f"{gni.source} ({gni.since.isoformat()})" if gni else
                  _("No figure in force"))},
        {"label": _("Average loan / GNI per capita %"),
         "value": rules.ratio_pct(avg, gni.francs) if gni else None, "kind": "pct"},
        {"label": _("Women's groups"), "value": group_members.values("group_id").distinct()
         .count(), "kind": "int"},
        {"label": _("Members of women's groups"), "value": group_members.values("person_id")
         .distinct().count(), "kind": "int"},
        {"label": _("Memberships ended in the 12 months"), "value": ended, "kind": "int"},
        {"label": _("Member drop-out rate %"), "value": rules.ratio_pct(ended, members_start),
         "kind": "pct"},
        {"label": _("Borrowers who repaid in the 12 months"), "value": closers, "kind": "int"},
        {"label": _("of whom took no new loan (drop-outs)"), "value": dropped, "kind": "int"},
        {"label": _("Borrower retention %"),
         "value": rules.ratio_pct(closers - dropped, closers), "kind": "pct"},
    ]
    for r in rows:
        r["text"] = r["value"]
        r.setdefault("note", "")
    tables.append(Table("indicators", _("Depth, groups and drop-outs"), [
        Column("label", _("Indicator")), Column("value", _("Value"), "mixed"),
        Column("note", _("Source or note"))], rows))
    return Report("social", REPORT_TITLES["social"], on, perimeter.label, tables)


# --- Dashboard ----------------------------------------------------------------------------------

def par_trend(perimeter: Perimeter, on: date, months: int = 12) -> list[dict[str, Any]]:
    """PAR30 and PAR90 at each month end of the last `months` months (the last point is
    `on`), from the loans (no close-of-business needed)."""
    out = []
    points = [(point, [rules.day_limit(point, n) for n in (30, 90)])
              for point in rules.month_ends(on, months)]
    series = portfolio_series_cached(perimeter.caisse_ids, points)
    for point, _limits in points:
        total = series[point]
        at30, at90 = total.over[0].outstanding, total.over[1].outstanding
        out.append({"on": point, "outstanding": total.outstanding,
                    "par30": rules.ratio_pct(at30, total.outstanding),
                    "par90": rules.ratio_pct(at90, total.outstanding)})
    return out


def disbursements_by_month(perimeter: Perimeter, on: date, months: int = 12
                           ) -> list[dict[str, Any]]:
    keys = rules.months_back(on, months)
    start = date(*keys[0], 1)
    rows = (_loans_in(perimeter).filter(disbursed_on__gte=start, disbursed_on__lte=on)
            .annotate(m=TruncMonth("disbursed_on")).values("m")
            .annotate(n=Count("pk"), amount=Sum("principal")))
    found = {}
    for r in rows:
        m = r["m"]
        found[(m.year, m.month)] = r
    return [{"year": y, "month": m, "loans": found.get((y, m), {}).get("n", 0),
             "amount": found.get((y, m), {}).get("amount") or 0} for y, m in keys]


def farming_months(perimeter: Perimeter, on: date) -> dict[str, set[int]]:
    """Sowing and harvest months of the crops financed in the perimeter over the last year
    (the crop calendar, DOMAIN.md §2); every crop's when no crop loan was made."""
    from jigi.credit.seasonal import crop_calendar

    start = add_months(on, -12)
    crops = set(_loans_in(perimeter).filter(disbursed_on__gte=start, disbursed_on__lte=on)
                .annotate(c=_key_expr("terms__seasonal__crop")).exclude(c__isnull=True)
                .values_list("c", flat=True).distinct())
    regions = set(Unit.objects.filter(pk__in=perimeter.caisse_ids).values_list("region",
                                                                               flat=True))
    sowing: set[int] = set()
    harvest: set[int] = set()
    for row in crop_calendar():
        if crops and row.crop not in crops:
            continue
        if regions and not (set(row.regions) & regions) and crops:
            continue
        sowing |= set(row.sowing_months)
        harvest |= set(row.harvest_months)
    return {"sowing": sowing, "harvest": harvest, "crops": crops}


def top_at_risk(perimeter: Perimeter, on: date, limit: int = 10) -> tuple[str, list[dict]]:
    """Caisses (or, in one caisse, loan officers) with the highest PAR30 at `on`."""
    by = "officer" if perimeter.is_caisse else "caisse"
    limits = [rules.day_limit(on, n) for n in rules.PAR_DAYS]
    rows = [_par_row(label, agg) for label, agg in _grouped(perimeter, on, by, limits)]
    rows.sort(key=lambda r: (r["par30"] or Decimal(0), r["at_risk30"]), reverse=True)
    return by, rows[:limit]
