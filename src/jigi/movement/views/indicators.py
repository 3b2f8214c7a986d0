"""Movement screens: the decent-work indicators (now, by a dimension, the last 12 months) and
the gender and inclusion dashboard, each table also as CSV. Plain HTML bars, no chart library;
the filter form updates the results in place with htmx and works without it."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jigi.core.cleaning import invalid, today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.movement.decent_work import AGE_BANDS, DIMENSIONS, INDICATOR_KEYS, Figure
from jigi.movement.gender import CASE_KEYS, GENDER_DIMENSIONS, MEMBER_KEYS, TRAINING_KEYS
from jigi.movement.models import AreaKind, CaseCategory, CaseOutcome
from jigi.movement.selectors_indicators import (
    Period,
    decent_work_now,
    gender_dashboard,
    indicator_series,
    movement_view,
)
from jigi.orgs.models import MemberGroup
from jigi.web import forms
from jigi.web.view_helpers import refusal

DASH = "–"

INDICATOR_LABELS = {
    "contract": _("Written contract (domestic workers; teachers on State or local contract)"),
    "smig": _("Paid at least the SMIG"),
    "hours": _("Domestic workers within 10 hours a day"),
    "rest": _("Domestic workers with two half-days of rest a week"),
    "declared": _("Domestic workers declared"),
    "minors": _("Minors among domestic workers"),
    "teachers_below_smig": _("Teachers paid below the SMIG"),
    "youth_no_computer": _("Young people without computer access"),
}
SHORT_LABELS = {
    "contract": _("Contract"), "smig": _("≥ SMIG"), "hours": _("≤ 10 h"),
    "rest": _("Rest"), "declared": _("Declared"), "minors": _("Minors"),
    "teachers_below_smig": _("Teachers < SMIG"), "youth_no_computer": _("No computer"),
}
ICONS = {"contract": "📝", "smig": "💵", "hours": "⏰", "rest": "🛌", "declared": "🏛️",
         "minors": "🧒", "teachers_below_smig": "🧑‍🏫", "youth_no_computer": "💻"}
# Indicators where a high share is bad news: their bars are drawn in the warning colour.
BAD_WHEN_HIGH = {"minors", "teachers_below_smig", "youth_no_computer"}
DIMENSION_LABELS = {
    "group": _("Group"), "section": _("Section"), "sex": _("Sex"),
    "age_band": _("Age"), "area": _("Urban or rural"),
}
AGE_LABELS = {
    "under_15": _("under 15"), "15_17": _("15-17"), "18_24": _("18-24"), "25_34": _("25-34"),
    "35_49": _("35-49"), "50_plus": _("50 and over"), "unknown": _("age unknown"),
}
SEX_LABELS = {"F": _("Women"), "M": _("Men"), "unknown": _("not known")}
MEASURE_LABELS = {
    "members": _("Members"), "cases": _("Cases"), "urgent": _("Urgent"),
    "closed": _("Closed"), "resolved": _("Resolved"), "wages_recovered": _("Wages recovered"),
    "enrolled": _("Enrolled"), "completed": _("Completed"), "certificates": _("Certificates"),
    "literacy_assessed": _("Literacy assessed"),
    "literacy_gained": _("Gained a literacy level"), "levels_gained": _("Levels gained"),
    "women_members": _("Women members"),
}
TABLES = {"members": MEMBER_KEYS, "cases": CASE_KEYS, "trainings": TRAINING_KEYS}


def _value_label(dimension: str, value: str, sections: dict[str, str]) -> str:
    if dimension == "group":
        return str(dict(MemberGroup.choices).get(value, pgettext_lazy("group", "none")))
    if dimension == "section":
        return sections.get(value, value)
    if dimension == "sex":
        return str(SEX_LABELS.get(value, value))
    if dimension == "age_band":
        return str(AGE_LABELS.get(value, value))
    if dimension == "area":
        return str(dict(AreaKind.choices).get(value, SEX_LABELS["unknown"]))
    return value


def _pct(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:f}".replace(".", ",") + " %"


def _cell(key: str, f: Figure | None) -> dict[str, Any]:
    f = f or Figure()
    s = f.share
    return {"key": key, "share": _pct(s), "numerator": f.numerator,
            "denominator": f.denominator, "amount": f.amount,
            "width": 0 if s is None else int(s), "bad": key in BAD_WHEN_HIGH,
            "empty": s is None}


def _csv(rows: list[list[Any]], filename: str) -> HttpResponse:
    """Semicolon-separated with a BOM (French spreadsheets open it with the accents)."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, delimiter=";")
    for row in rows:
        w.writerow(["" if v is None else str(v).replace(".", ",") if isinstance(v, Decimal)
                    else str(v) for v in row])
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _refused(request, template: str, exc: ApplicationError, context: dict[str, Any]):
    if isinstance(exc, NotFound):
        raise Http404 from None
    if isinstance(exc, Forbidden):
        raise PermissionDenied from None
    error, fields, status = refusal(exc)
    return render(request, template, {**context, "error": error, "field_errors": fields},
                  status=status)


def _filters_context(view, filters, request) -> dict[str, Any]:
    return {
        "sections": list(view.sections) if view else [],
        "groups": MemberGroup.choices,
        "section_id": filters.section.pk if filters and filters.section else None,
        "group": filters.group if filters else None,
        "query": request.GET.urlencode(),
    }


# ---------------------------------------------------------------------------------------------
# Decent-work indicators
# ---------------------------------------------------------------------------------------------


@login_required
def indicators(request):
    """Now (live from the records), by one dimension, and the last 12 monthly snapshots."""
    user = request.user
    by = request.GET.get("by") if request.GET.get("by") in DIMENSIONS else "group"
    base = {"by": by, "dimensions": [(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
            "labels": [(k, SHORT_LABELS[k], ICONS[k]) for k in INDICATOR_KEYS]}
    try:
        result, view, filters = decent_work_now(user, section=request.GET.get("section"),
                                                group=request.GET.get("group"))
        until = _until(request)
        points, _v, _f = indicator_series(user, section=request.GET.get("section"),
                                          group=request.GET.get("group"), until=until)
    except ApplicationError as exc:
        view = movement_view(user)
        if view is None:
            raise Http404 from None
        return _refused(request, "movement/indicators.html", exc,
                        {**base, **_filters_context(view, None, request), "result": None})
    sections = {str(s.pk): f"{s.code} · {s.name}" for s in view.sections}
    now = [{**_cell(k, result.figures[k].total), "label": INDICATOR_LABELS[k],
            "icon": ICONS[k]} for k in INDICATOR_KEYS]
    values = sorted({v for k in INDICATOR_KEYS for v in result.figures[k].by[by]},
                    key=lambda v: _order(by, v))
    breakdown = [{"value": v, "label": _value_label(by, v, sections),
                  "cells": [_cell(k, result.figures[k].by[by].get(v)) for k in INDICATOR_KEYS]}
                 for v in values]
    series = [{"month": p.month, "cells": [_cell(k, p.figures[k]) if p.figures else None
                                           for k in INDICATOR_KEYS]} for p in points]
    table = request.GET.get("table", "now")
    if request.GET.get("format") == "csv":
        return _indicators_csv(table, result, now, breakdown, series, by)
    context = {**base, **_filters_context(view, filters, request), "result": result,
               "now": now, "breakdown": breakdown, "series": series, "today": today(),
               "by_label": DIMENSION_LABELS[by], "whole": view.whole,
               "until": until.isoformat()[:7]}
    if request.htmx:
        return render(request, "movement/indicators_results.html", context)
    return render(request, "movement/indicators.html", context)


def _until(request) -> date:
    """The series' last month (`until=YYYY-MM`, default this month; never after it)."""
    text = forms.clean_text(request.GET.get("until", ""))
    if not text:
        return today()
    try:
        month = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise invalid({"until": _("Enter a month like 2026-05.")}) from None
    return min(month, today())


def _order(dimension: str, value: str) -> tuple[int, str]:
    order = {"group": list(MemberGroup.values), "sex": ["F", "M"], "age_band": list(AGE_BANDS),
             "area": ["urban", "rural"]}.get(dimension, [])
    return (order.index(value) if value in order else len(order), value)


def _indicators_csv(table, result, now, breakdown, series, by) -> HttpResponse:
    head = [str(_("Indicator")), str(_("Numerator")), str(_("Denominator")), "%",
            str(_("Amount"))]
    if table == "by":
        rows = [[str(DIMENSION_LABELS[by]), *[h for k in INDICATOR_KEYS for h in (
            f"{SHORT_LABELS[k]} n", f"{SHORT_LABELS[k]} N", f"{SHORT_LABELS[k]} %")]]]
        for line in breakdown:
            rows.append([line["label"], *[v for c in line["cells"] for v in (
                c["numerator"], c["denominator"], "" if c["empty"] else c["share"][:-2])]])
        return _csv(rows, f"travail-decent-par-{by}.csv")
    if table == "series":
        rows = [[str(_("Month")), *[h for k in INDICATOR_KEYS for h in (
            f"{SHORT_LABELS[k]} n", f"{SHORT_LABELS[k]} N", f"{SHORT_LABELS[k]} %")]]]
        for p in series:
            cells = p["cells"]
            rows.append([p["month"].isoformat()[:7], *[v for c in cells for v in (
                ("", "", "") if c is None else (c["numerator"], c["denominator"],
                                                "" if c["empty"] else c["share"][:-2]))]])
        return _csv(rows, "travail-decent-12-mois.csv")
    rows = [head]
    for c in now:
        rows.append([c["label"], c["numerator"], c["denominator"],
                     "" if c["empty"] else c["share"][:-2], c["amount"] or ""])
    return _csv(rows, f"travail-decent-{today().isoformat()}.csv")


# ---------------------------------------------------------------------------------------------
# Gender and inclusion
# ---------------------------------------------------------------------------------------------


def _period(request) -> Period:
    errors: dict[str, Any] = {}
    end = forms.parse_date(request.GET, "to", errors) or today()
    start = forms.parse_date(request.GET, "from", errors) or date(end.year, 1, 1)
    if errors or start > end:
        raise invalid(errors or {"from": _("The first day must come before the last.")})
    return Period(start=start, end=end)


def _crosstab_view(tab, sections: dict[str, str]) -> dict[str, Any]:
    first = tab.keys[0]
    top = max([line[first] for _v, line in tab.lines] or [0])
    return {"dimension": tab.dimension, "label": DIMENSION_LABELS[tab.dimension],
            "keys": [(k, MEASURE_LABELS[k]) for k in tab.keys], "total": tab.total,
            "totals": [tab.total[k] for k in tab.keys],
            "lines": [{"value": v, "label": _value_label(tab.dimension, v, sections),
                       "values": [line[k] for k in tab.keys],
                       "width": int(line[first] * 100 / top) if top else 0}
                      for v, line in tab.lines]}


@login_required
def gender(request):
    """Members, cases and trainings by sex, age, area and group, and the rural women panel;
    `table` and `by` choose what the CSV export holds."""
    user = request.user
    base = {"dimensions": [(d, DIMENSION_LABELS[d]) for d in GENDER_DIMENSIONS]}
    try:
        period = _period(request)
        result, view, filters = gender_dashboard(user, period=period,
                                                 section=request.GET.get("section"),
                                                 group=request.GET.get("group"))
    except ApplicationError as exc:
        return _refused(request, "movement/gender.html", exc, {
            **base, **_filters_context(movement_view(user), None, request), "result": None,
            "period": None})
    sections = {str(s.pk): f"{s.code} · {s.name}" for s in (view.sections if view else ())}
    by = request.GET.get("by") if request.GET.get("by") in GENDER_DIMENSIONS else "sex"
    tables = {name: _crosstab_view(getattr(result, name)[by], sections) for name in TABLES}
    categories = [{"value": c, "label": dict(CaseCategory.choices).get(c, c), **n}
                  for c, n in result.categories.items()]
    outcomes = [{"value": o, "label": dict(CaseOutcome.choices).get(o, SEX_LABELS["unknown"]),
                 **n} for o, n in result.outcomes.items()]
    # Outside MTC the panel holds the trainings only (no member or case of MTC's).
    panel = [(k, MEASURE_LABELS[k], v) for k, v in result.rural_women.items()
             if view is not None or k in TRAINING_KEYS]
    if request.GET.get("format") == "csv":
        return _gender_csv(request.GET.get("table", "members"), tables, categories, outcomes,
                           panel, period)
    context = {**base, **_filters_context(view, filters, request), "result": result, "by": by,
               "period": period, "tables": tables, "categories": categories,
               "outcomes": outcomes, "panel": dict((k, v) for k, _l, v in panel),
               "mtc": view is not None,
               "rural_by_group": [(_value_label("group", g, {}), n)
                                  for g, n in result.rural_women_by_group.items()]}
    if request.htmx:
        return render(request, "movement/gender_results.html", context)
    return render(request, "movement/gender.html", context)


def _gender_csv(table, tables, categories, outcomes, panel, period) -> HttpResponse:
    stamp = f"{period.start.isoformat()}-{period.end.isoformat()}"
    if table == "categories":
        rows = [[str(_("Category")), str(SEX_LABELS["F"]), str(SEX_LABELS["M"]),
                 str(_("Total"))]]
        rows += [[str(c["label"]), c["F"], c["M"], c["total"]] for c in categories]
        return _csv(rows, f"cas-categories-{stamp}.csv")
    if table == "outcomes":
        rows = [[str(_("Outcome")), str(SEX_LABELS["F"]), str(SEX_LABELS["M"]),
                 str(_("Total"))]]
        rows += [[str(o["label"]), o["F"], o["M"], o["total"]] for o in outcomes]
        return _csv(rows, f"cas-resultats-{stamp}.csv")
    if table == "rural":
        rows = [[str(_("Rural women")), str(_("Number"))]]
        rows += [[str(label), v] for _k, label, v in panel]
        return _csv(rows, f"femmes-rurales-{stamp}.csv")
    if table not in TABLES:
        table = "members"
    tab = tables[table]
    rows = [[str(tab["label"]), *[str(label) for _k, label in tab["keys"]]]]
    rows += [[line["label"], *line["values"]] for line in tab["lines"]]
    rows.append([str(_("Total")), *[tab["total"][k] for k, _l in tab["keys"]]])
    return _csv(rows, f"{table}-{tab['dimension']}-{stamp}.csv")


urlpatterns: list = [
    path("movement/indicators/", indicators, name="movement_indicators"),
    path("movement/gender/", gender, name="movement_gender"),
]
