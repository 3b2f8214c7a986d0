"""The eligibility check at the point of care: one field (card number or phone), one big
answer (covered in green, not covered in red with the reason in words), the co-payment of each
kind of care. Made for a phone screen at a clinic's counter."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from jigi.core.errors import ApplicationError, Forbidden
from jigi.health import forms, selectors
from jigi.health.models import ServiceGroup
from jigi.health.views._common import errors_of, require_health, status_of, today
from jigi.people.models import Relation


def _match_rows(answer) -> list[dict[str, Any]]:
    groups = dict(ServiceGroup.choices)
    relations = dict(Relation.choices)
    rows = []
    for m in answer.matches:
        d = m.decision
        rows.append({
            "m": m, "b": m.beneficiary, "covered": d.covered,
            "relation": relations.get(m.beneficiary.relation, m.beneficiary.relation),
            "reasons": [selectors.reason_text(r) for r in d.reasons],
            "groups": [{"label": groups.get(g.group, g.group), "g": g} for g in d.groups],
        })
    return rows


@login_required
def eligibility(request):
    user = request.user
    require_health(user)
    providers = list(selectors.providers_of_staff(user))
    data = request.GET
    q = forms.clean_text(data.get("q", ""))[:40]
    group = data.get("group", "")
    if group not in ServiceGroup.values:
        group = ""
    chosen = data.get("provider", "")
    provider = next((p for p in providers if str(p.pk) == chosen),
                    providers[0] if len(providers) == 1 and not chosen else None)
    answer, error, fields, status = None, None, {}, 200
    if q:
        kind = "card" if forms.looks_like_card(q) else "phone"
        try:
            answer = selectors.eligibility_check(
                user, on=today(), group=group or None, provider=provider,
                **{kind: q})
        except Forbidden as exc:
            if exc.code == "forbidden":
                raise PermissionDenied from None
            error, fields = errors_of(exc)
            status = 403
        except ApplicationError as exc:
            error, fields = errors_of(exc)
            status = status_of(exc)
    return render(request, "health/eligibility.html", {
        "q": q, "group": group, "groups": ServiceGroup.choices, "providers": providers,
        "provider": provider, "answer": answer,
        "rows": _match_rows(answer) if answer else [],
        "reasons": [selectors.reason_text(r) for r in answer.reasons] if answer else [],
        "error": error, "errors": fields, "today": today(),
    }, status=status)
