"""Movement API (/api/v1/movement): decent-work indicators (now, the monthly series, taking a
month's snapshot) and the gender and inclusion dashboard's figures.

Every figure is a numerator, a denominator, the share in % (null when the denominator is 0)
and, where one applies, an amount in francs. Reads are scoped as the screens are: an
organiser her section's members, case workers and administrators the movement, anyone else a
404 for the indicators; the gender figures hold a Kondo or UTM user's own trainings only.
Taking a snapshot is the movement administrator's (403 for other MTC staff, 404 outside);
it is idempotent (the month's first snapshot stays), so it needs no Idempotency-Key.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status

from jigi.core.cleaning import invalid, today
from jigi.movement.decent_work import INDICATOR_KEYS, DecentWork, Figure
from jigi.movement.gender import GENDER_DIMENSIONS
from jigi.movement.selectors_indicators import (
    Period,
    decent_work_now,
    gender_dashboard,
    indicator_series,
    require_movement_view,
)
from jigi.movement.services._common import ADMIN_ROLES, movement_root, require_role
from jigi.movement.services.indicators import indicator_snapshot_take

router = Router(tags=["movement-indicators"])


class SnapshotIn(Schema):
    month: date


def _figure(f: Figure | None) -> dict[str, Any] | None:
    if f is None:
        return None
    s = f.share
    return {"numerator": f.numerator, "denominator": f.denominator,
            "share": None if s is None else str(s), "amount": f.amount}


def _result(result: DecentWork, on: date) -> dict[str, Any]:
    return {
        "on": on, "members": result.members,
        "law": {"smig": result.law.smig, "max_daily_hours": result.law.max_daily_hours,
                "weekly_rest_half_days": result.law.weekly_rest_half_days,
                "adult_age": result.law.adult_age},
        "indicators": {k: {**_figure(result.figures[k].total),
                           "by": {d: {v: _figure(f) for v, f in values.items()}
                                  for d, values in result.figures[k].by.items()}}
                       for k in INDICATOR_KEYS},
    }


@router.get("/indicators")
def indicators_now(request: HttpRequest, section: int | None = None, group: str | None = None):
    """The indicators now, computed from the members' records, with every breakdown."""
    on = today()
    result, _view, _f = decent_work_now(request.user, section=section, group=group, on=on)
    return _result(result, on)


@router.get("/indicators/series")
def indicators_series(request: HttpRequest, section: int | None = None,
                      group: str | None = None, months: int = 12, until: date | None = None):
    """The `months` (1 to 36) monthly snapshots up to the month of `until` (default and at
    the latest: this month), oldest first; null for a month with no snapshot."""
    if not 1 <= months <= 36:
        raise invalid({"months": _("Between 1 and 36 months.")})
    points, _view, _f = indicator_series(request.user, section=section, group=group,
                                         months=months,
                                         until=min(until or today(), today()))
    return [{"month": p.month.isoformat()[:7],
             "indicators": None if p.figures is None
             else {k: _figure(p.figures[k]) for k in INDICATOR_KEYS}} for p in points]


@router.post("/indicators/snapshots", response={200: dict, 201: dict})
def indicators_snapshot(request: HttpRequest, payload: SnapshotIn):
    """Keep a month's indicators (201 when made now, 200 when the month was already kept)."""
    view = require_movement_view(request.user)
    require_role(request.user, movement_root(view.organisation), ADMIN_ROLES)
    snap, created = indicator_snapshot_take(organisation=view.organisation,
                                            month=payload.month, acting_user=request.user)
    body = {"month": snap.month.isoformat()[:7], "created": created, "smig": snap.smig,
            "members": snap.data.get("members", 0)}
    return Status(201 if created else 200, body)


@router.get("/gender")
def gender(request: HttpRequest, date_from: date | None = None, date_to: date | None = None,
           section: int | None = None, group: str | None = None):
    """Members, cases (counts only) and trainings by sex, age band, area and group, the cases
    by category and outcome, and the rural women panel, for what the caller may see."""
    end = date_to or today()
    start = date_from or date(end.year, 1, 1)
    if start > end:
        raise invalid({"date_from": _("The first day must come before the last.")})
    result, view, _f = gender_dashboard(request.user, period=Period(start, end),
                                        section=section, group=group)

    def tables(name: str) -> dict[str, Any]:
        return {d: {"lines": dict(getattr(result, name)[d].lines),
                    "total": getattr(result, name)[d].total} for d in GENDER_DIMENSIONS}

    return {"from": start, "to": end, "movement": view is not None,
            "members": tables("members"), "cases": tables("cases"),
            "trainings": tables("trainings"), "categories": result.categories,
            "outcomes": result.outcomes, "rural_women": result.rural_women,
            "rural_women_by_group": result.rural_women_by_group}
