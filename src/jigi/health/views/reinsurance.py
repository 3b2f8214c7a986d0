"""UTM's reinsurance service on screen: treaties and their terms, settlement statements by
quarter and year (computed by the union administrator), and the simulation of a mutual's year
with and without the treaty (a table by quarter and a bar chart in inline SVG)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jigi.core.errors import ApplicationError
from jigi.health import forms, selectors, selectors_claims
from jigi.health import reinsurance as rs
from jigi.health.services import reinsurance as rs_services
from jigi.health.views._common import (
    MUTUAL_STAFF_ROLES,
    UNION_ROLES,
    FormErrors,
    fetch,
    is_union_admin,
    refusal,
    require_roles,
    today,
)
from jigi.web.formatting import format_francs

# Treaty terms in the order and words a mutual's board reads them; "%" terms are basis points.
TERM_LABELS: list[tuple[str, Any, str]] = [
    ("cession_bp", gettext_lazy("Share of contributions ceded to the pool"), "%"),
    ("premium_per_beneficiary_month", gettext_lazy("Fixed premium per beneficiary per month"),
     "F"),
    ("xol_priority", gettext_lazy("Excess of loss: the mutual keeps each claim up to"), "F"),
    ("xol_share_bp", gettext_lazy("Excess of loss: share of the excess paid by the pool"), "%"),
    ("xol_limit", gettext_lazy("Excess of loss: at most per claim"), "F"),
    ("xol_per_event", gettext_lazy("Excess of loss counted per event (person, provider, day)"),
     "?"),
    ("stop_loss_attachment_bp",
     gettext_lazy("Stop-loss: the pool pays net claims above this share of contributions"), "%"),
    ("stop_loss_limit_bp", gettext_lazy("Stop-loss: at most this share of contributions"), "%"),
    ("stop_loss_limit", gettext_lazy("Stop-loss: at most"), "F"),
]

FIGURE_LABELS: list[tuple[str, Any]] = [
    ("contributions", gettext_lazy("Contributions earned")),
    ("beneficiary_months", gettext_lazy("Beneficiary-months")),
    ("premium_share", gettext_lazy("Premium: share of contributions")),
    ("premium_fixed", gettext_lazy("Premium: fixed per beneficiary")),
    ("premiums", gettext_lazy("Premiums ceded")),
    ("claims_paid", gettext_lazy("Claims paid by the mutual")),
    ("xol_recoveries", gettext_lazy("Excess-of-loss recoveries")),
    ("net_claims", gettext_lazy("Claims net of recoveries")),
    ("stop_loss_attachment", gettext_lazy("Stop-loss attachment")),
    ("stop_loss_recovery", gettext_lazy("Stop-loss recovery")),
    ("recoveries", gettext_lazy("Recoveries due to the mutual")),
    ("posted_premiums", gettext_lazy("Premiums posted by this statement")),
    ("posted_recoveries", gettext_lazy("Recoveries posted by this statement")),
    ("balance", gettext_lazy("Balance (above 0: the mutual owes the pool)")),
]
COUNTS = {"beneficiary_months"}


def _percent(bp: int) -> str:
    return forms.bp_to_percent(bp) + " %"


def terms_in_words(terms: dict[str, Any]) -> list[tuple[Any, str]]:
    out = []
    for name, label, unit in TERM_LABELS:
        value = terms.get(name)
        if value is None or (unit != "?" and value == 0 and name != "xol_priority"):
            continue
        if unit == "%":
            text = _percent(value)
        elif unit == "F":
            text = format_francs(value)
        else:
            text = _("yes") if value else _("no")
        out.append((label, text))
    return out


def figures_in_words(figures: dict[str, Any]) -> list[tuple[str, Any, str]]:
    out = []
    for name, label in FIGURE_LABELS:
        value = figures.get(name)
        if value is None:
            continue
        out.append((name, label, str(value) if name in COUNTS else format_francs(value)))
    ratio = figures.get("claims_ratio_bp")
    if ratio is not None:
        out.append(("claims_ratio", _("Claims ratio (net claims / contributions)"),
                    _percent(ratio)))
    return out


def _period(quarter: int, year: int) -> str:
    return _("Q%(q)s %(year)s") % {"q": quarter, "year": year} if quarter else \
        _("Year %(year)s") % {"year": year}


# --- treaties ---------------------------------------------------------------------------------


@login_required
def reinsurance_home(request):
    user = request.user
    require_roles(user, MUTUAL_STAFF_ROLES)
    treaties = list(selectors_claims.treaties_for_user(user).order_by("mutual__code",
                                                                      "-valid_from"))
    return render(request, "health/reinsurance.html", {
        "treaties": treaties,
        "mutuals": list(selectors_claims.mutuals_for_user(user, roles=MUTUAL_STAFF_ROLES)),
        "union_admin": bool(list(selectors_claims.mutuals_for_user(user, roles=UNION_ROLES)
                                 [:1])),
        "today": today(),
    })


@login_required
def treaty_new(request):
    """The union administrator signs a treaty with a mutual."""
    user = request.user
    mutuals = list(selectors_claims.mutuals_for_user(user, roles=UNION_ROLES))
    if not mutuals:
        raise PermissionDenied
    error, fields, status = None, {}, 200
    post = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        errors: dict[str, Any] = {}
        try:
            mutual = next((m for m in mutuals if str(m.pk) == post.get("mutual")), None)
            if mutual is None:
                errors["mutual"] = _("Choose the mutual.")
            valid_from = forms.parse_date(post, "valid_from", errors, required=True)
            valid_until = forms.parse_date(post, "valid_until", errors, required=True)
            terms = forms.parse_terms(post, errors)
            if errors:
                raise FormErrors(errors)
            treaty = rs_services.treaty_create(
                acting_user=user, mutual=mutual, reference=forms.clean_text(
                    post.get("reference", ""))[:32], valid_from=valid_from,
                valid_until=valid_until, terms=terms)
            messages.success(request, _("Treaty %(ref)s signed.") % {"ref": treaty.reference})
            return redirect("web:health_treaty", pk=treaty.pk)
        except (FormErrors, ApplicationError) as exc:
            error, fields, status = refusal(exc)
    year = today().year
    return render(request, "health/treaty_new.html", {
        "mutuals": mutuals, "error": error, "errors": fields, "v": post,
        "default_from": date(year, 1, 1), "default_until": date(year, 12, 31),
    }, status=status)


def _treaty_context(request, treaty) -> dict[str, Any]:
    statements = list(treaty.statements.order_by("-year", "quarter"))
    for st in statements:
        st.period = _period(st.quarter, st.year)
    last = min(treaty.valid_until.year, today().year)
    return {
        "treaty": treaty, "mutual": treaty.mutual, "terms": terms_in_words(treaty.terms),
        "statements": statements, "can_settle": is_union_admin(request.user, treaty.mutual),
        "years": list(range(last, treaty.valid_from.year - 1, -1)),
        "quarters": [(q, _("Q%(q)s") % {"q": q}) for q in (1, 2, 3, 4)]
        + [(0, _("The whole year"))],
        "v": request.POST if request.method == "POST" else {},
    }


@login_required
def treaty_detail(request, pk: int):
    treaty = fetch(selectors_claims.get_treaty_for_user, request.user, pk)
    return render(request, "health/treaty.html", _treaty_context(request, treaty))


@login_required
@require_POST
def treaty_settle(request, pk: int):
    """Draw up (compute, store and post) a quarter's or the year's statement."""
    user = request.user
    treaty = fetch(selectors_claims.get_treaty_for_user, user, pk)
    errors: dict[str, Any] = {}
    year = forms.parse_int(request.POST, "year", errors, required=True)
    quarter = forms.parse_int(request.POST, "quarter", errors, required=True)
    try:
        if errors:
            raise FormErrors(errors)
        statement = rs_services.statement_settle(acting_user=user, treaty=treaty, year=year,
                                                 quarter=quarter)
        messages.success(request, _("Statement %(period)s drawn up.") % {
            "period": _period(statement.quarter, statement.year)})
        return redirect("web:health_statement", pk=statement.pk)
    except (FormErrors, ApplicationError) as exc:
        error, fields, status = refusal(exc)
    return render(request, "health/treaty.html", _treaty_context(request, treaty) | {
        "error": error, "errors": fields}, status=status)


def _entry_lines(entry) -> list:
    if entry is None:
        return []
    return sorted(entry.lines.select_related("account"), key=lambda ln: (ln.side != "D", ln.pk))


@login_required
def statement_detail(request, pk: int):
    st = fetch(selectors_claims.get_statement_for_user, request.user, pk)
    figures = st.figures or {}
    return render(request, "health/statement.html", {
        "st": st, "treaty": st.treaty, "mutual": st.treaty.mutual,
        "period": _period(st.quarter, st.year), "figures": figures_in_words(figures),
        "recovered": figures.get("recovered_claims") or [],
        "entries": [(label, e, _entry_lines(e)) for label, e in (
            (_("The mutual's book"), st.mutual_entry), (_("The pool's book (union)"),
                                                         st.pool_entry)) if e is not None],
    })


# --- simulation -------------------------------------------------------------------------------

CHART_HEIGHT = 180
BAR_WIDTH = 34


def chart(outcomes) -> dict[str, Any]:
    """Bars of the result without and with the treaty per quarter, to scale, around a zero
    line (a loss goes below it)."""
    values = [v for o in outcomes for v in (o.result_without, o.result_with)]
    top = max([0, *values])
    bottom = min([0, *values])
    span = (top - bottom) or 1
    zero = round(CHART_HEIGHT * top / span) + 10
    groups = []
    for i, o in enumerate(outcomes):
        x = 50 + i * (2 * BAR_WIDTH + 40)
        bars = []
        for j, (kind, value) in enumerate((("without", o.result_without),
                                           ("with", o.result_with))):
            h = round(CHART_HEIGHT * abs(value) / span)
            bars.append({"kind": kind, "x": x + j * BAR_WIDTH, "value": value, "h": max(h, 1),
                         "y": zero - h if value >= 0 else zero})
        groups.append({"label": _("Q%(q)s") % {"q": o.quarter}, "x": x + BAR_WIDTH,
                       "bars": bars})
    return {"groups": groups, "zero": zero, "height": CHART_HEIGHT + 40,
            "width": 60 + len(outcomes) * (2 * BAR_WIDTH + 40), "bar": BAR_WIDTH - 4}


@login_required
def simulation(request, pk: int):
    """How the mutual's year ended (or is going) with and without reinsurance: the treaty in
    force that year, or terms typed on the form to try another treaty."""
    user = request.user
    mutual = fetch(selectors.get_mutual_visible, user, pk)
    data = request.GET
    errors: dict[str, Any] = {}
    year = forms.parse_int(data, "year", errors) or today().year
    if not 2000 <= year <= today().year:
        errors["year"] = _("A year from 2000 to this year.")
        year = today().year
    trying = data.get("try") == "1"
    terms = None
    error, fields, status = None, {}, 200
    if trying:
        raw = forms.parse_terms(data, errors)
        if not errors:
            try:
                terms = rs.treaty_from_terms(raw, valid_from=date(year, 1, 1),
                                             valid_to=date(year, 12, 31))
            except rs.ReinsuranceError as exc:
                errors[f"terms.{exc.field}"] = exc.message
    if errors:
        error, fields, status = refusal(FormErrors(errors))
        terms = None
    treaty = selectors_claims.treaty_in_force(mutual, year)
    sim = selectors_claims.reinsurance_simulation(mutual, year, terms=terms)
    shown = terms is not None or treaty is not None
    initial = forms.terms_initial(treaty.terms) if treaty is not None else {}
    return render(request, "health/simulation.html", {
        "mutual": mutual, "year": year, "sim": sim, "quarters": sim.quarters,
        "annual": sim.annual, "treaty": treaty if terms is None else None, "trying": trying,
        "has_treaty": shown, "chart": chart(sim.quarters),
        "terms": terms_in_words(rs.treaty_terms(terms)) if terms is not None else
        terms_in_words(treaty.terms) if treaty is not None else [],
        "v": data if trying else initial, "years": list(range(today().year, 2019, -1))[:8],
        "error": error, "errors": fields,
    }, status=status)
