"""Indicators per mutual and for the union (on screen and as CSV), and the RAMU report the
union hands to the authorities (printable, CSV)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from jigi.health import forms, selectors_claims
from jigi.health.indicators import Indicators, Period, as_csv, as_row, columns
from jigi.health.views._common import MUTUAL_STAFF_ROLES, fetch, require_roles, today
from jigi.web.formatting import format_francs

MONEY = {"contributions_due", "contributions_paid", "contributions_received",
         "claims_approved_amount", "claims_paid_amount", "cost_per_beneficiary",
         "reinsurance_premiums", "reinsurance_recoveries", "reinsurance_balance"}
# The figures of the overview table, one column each (the detail shows every column).
OVERVIEW = ["members", "beneficiaries", "coverage_rate", "renewal_rate", "collection_rate",
            "contributions_received", "claims_paid_amount", "claims_ratio",
            "cost_per_beneficiary", "days_to_decision", "reinsurance_balance",
            "prevention_sessions"]


def show(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in MONEY:
        return format_francs(value)
    if isinstance(value, Decimal):
        text = f"{value:f}".replace(".", ",")
        return f"{text} %" if key.endswith("_rate") or key == "claims_ratio" else text
    if key == "area_kind":
        return {"urban": "🏙️", "rural": "🌾"}.get(value, value)
    return str(value)


def _year(request) -> int:
    errors: dict[str, Any] = {}
    year = forms.parse_int(request.GET, "year", errors) or today().year
    return year if 2000 <= year <= today().year else today().year


def _csv(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _table(rows: list[Indicators], total: Indicators | None, keys: list[str]
           ) -> dict[str, Any]:
    labels = dict(columns())
    body = []
    for ind in [*rows, *([total] if total is not None else [])]:
        row = as_row(ind)
        body.append({"ind": ind, "total": ind is total,
                     "cells": [(k, show(k, row[k])) for k in keys]})
    return {"headers": [(k, labels[k]) for k in keys], "rows": body}


@login_required
def indicators(request):
    """Every mutual the user works for (all of them for the union administrator) and the
    union's total; `mutual` narrows to one mutual with every figure."""
    user = request.user
    require_roles(user, MUTUAL_STAFF_ROLES)
    year = _year(request)
    period = Period.year(year)
    mutual = None
    if request.GET.get("mutual"):
        mutual = fetch(selectors_claims.get_mutual_for_user, user, request.GET["mutual"],
                       roles=MUTUAL_STAFF_ROLES)
        rows, total = [selectors_claims.mutual_indicators(user, mutual, period)], None
    else:
        rows, total = fetch(selectors_claims.union_indicators, user, period)
    if request.GET.get("format") == "csv":
        name = f"indicateurs-{mutual.code if mutual else 'utm'}-{year}.csv"
        return _csv(as_csv([*rows, *([total] if total is not None else [])]), name)
    detail = None
    if mutual is not None:
        row = as_row(rows[0])
        detail = [(label, show(k, row[k])) for k, label in columns()]
    return render(request, "health/indicators.html", {
        "year": year, "years": list(range(today().year, today().year - 6, -1)),
        "mutual": mutual, "detail": detail,
        "table": _table(rows, total, OVERVIEW),
        "mutuals": list(selectors_claims.mutuals_for_user(user, roles=MUTUAL_STAFF_ROLES)),
        "union_admin": selectors_claims.is_union_admin(user),
    })


@login_required
def ramu_report(request):
    """The year's figures of every mutual and the union's total, for the authorities."""
    user = request.user
    year = _year(request)
    rows, total = fetch(selectors_claims.ramu_report, user, year)
    if request.GET.get("format") == "csv":
        return _csv(as_csv([*rows, total]), f"rapport-ramu-{year}.csv")
    keys = [k for k, _label in columns() if k not in ("code", "name", "region", "cercle")]
    return render(request, "health/ramu.html", {
        "year": year, "years": list(range(today().year, today().year - 6, -1)),
        "table": _table(rows, total, keys), "today": today(),
    })
