"""Report screens (htmx: the parameters form swaps the tables), CSV/XLSX/JSON downloads, and
the managers' dashboard with inline SVG charts. Views stay thin: parameters and perimeter
through `selectors`, the report through `registry.build_report`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from jigi.core.errors import ApplicationError
from jigi.reports import selectors, svg, tables
from jigi.reports.registry import build_report

FORMATS = ("html", "csv", "xlsx", "json")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error(request, exc: ApplicationError, fmt: str):
    if fmt in ("json", "csv", "xlsx"):
        return JsonResponse(exc.as_dict(), status=exc.status_code)
    template = "reports/_error.html" if request.htmx else "reports/error.html"
    return render(request, template, {"error": exc, "fields": exc.as_dict()["fields"]},
                  status=exc.status_code)


@login_required
def index(request):
    try:
        perimeter = selectors.perimeter_for(request.user)
    except ApplicationError as exc:
        return _error(request, exc, "html")
    return render(request, "reports/index.html", {
        "perimeter": perimeter, "reports": [(n, selectors.REPORT_TITLES[n])
                                            for n in selectors.REPORTS],
        "today": timezone.localdate()})


@login_required
def report(request, name: str):
    fmt = request.GET.get("format", "html")
    if fmt not in FORMATS:
        fmt = "html"
    try:
        params = selectors.clean_params(name, on=request.GET.get("on"),
                                        by=request.GET.get("by") or None,
                                        date_from=request.GET.get("from"))
        perimeter = selectors.perimeter_for(request.user, request.GET.get("unit") or None)
        rep = build_report(name, perimeter, params)
    except ApplicationError as exc:
        return _error(request, exc, fmt)
    stem = f"{name}_{perimeter.unit.code}_{params.on.isoformat()}"
    if fmt == "csv":
        response = HttpResponse(tables.to_csv(rep), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(tables.to_xlsx(rep), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
        return response
    if fmt == "json":
        return JsonResponse(tables.to_json(rep))
    context = {
        "rep": rep, "name": name, "params": params, "perimeter": perimeter,
        "units": selectors.units_for(request.user, perimeter),
        "unit_code": request.GET.get("unit", ""),
        "dimensions": [(d, selectors.dimension_label(d)) for d in selectors.DIMENSIONS],
        "has_by": name in ("par", "provisions", "flows", "yield", "writeoffs"),
        "has_from": name in ("flows", "yield", "writeoffs"),
        "query": request.GET.urlencode(),
    }
    template = "reports/_report.html" if request.htmx else "reports/report.html"
    return render(request, template, context)


@login_required
def dashboard(request):
    errors: dict = {}
    try:
        params = selectors.clean_params("par", on=request.GET.get("on"))
        perimeter = selectors.perimeter_for(request.user, request.GET.get("unit") or None)
    except ApplicationError as exc:
        return _error(request, exc, "html")
    on = params.on
    trend = selectors.par_trend(perimeter, on)
    trend_svg = svg.line_chart(
        [p["on"].strftime("%m/%y") for p in trend],
        [("PAR30", [p["par30"] for p in trend]), ("PAR90", [p["par90"] for p in trend])],
        title=_("Portfolio at risk, month ends"), unit="%",
        limit=(_("BCEAO norm: PAR90 at most 3 %"), selectors.rules.PAR90_MAX))
    months = selectors.disbursements_by_month(perimeter, on)
    farming = selectors.farming_months(perimeter, on)
    labels = [f"{_(MONTHS[m['month'] - 1])} {m['year'] % 100:02d}" for m in months]
    bands = []
    for lab, m in zip(labels, months, strict=True):
        sow, harvest = m["month"] in farming["sowing"], m["month"] in farming["harvest"]
        if sow and harvest:
            bands.append((lab, "#e4d9f2", _("sowing and harvest")))
        elif sow:
            bands.append((lab, "#dcefd9", _("sowing")))
        elif harvest:
            bands.append((lab, "#f7ebc8", _("harvest")))
    disb_svg = svg.bar_chart(labels, [m["amount"] for m in months],
                             title=_("Disbursements by month"), unit="F CFA", bands=bands,
                             band_legend=[(_("sowing"), "#dcefd9"), (_("harvest"), "#f7ebc8"),
                                          (_("sowing and harvest"), "#e4d9f2")])
    by, top = selectors.top_at_risk(perimeter, on)
    return render(request, "reports/dashboard.html", {
        "perimeter": perimeter, "on": on, "trend": trend, "months": months,
        "trend_svg": mark_safe(trend_svg),  # noqa: S308 - built by svg.py, texts escaped
        "disb_svg": mark_safe(disb_svg),  # noqa: S308
        "top": top, "top_by": selectors.dimension_label(by),
        "latest": trend[-1] if trend else None, "farming": farming,
        "units": selectors.units_for(request.user, perimeter),
        "unit_code": request.GET.get("unit", ""), "errors": errors,
    })
