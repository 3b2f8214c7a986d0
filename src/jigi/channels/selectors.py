"""Reads of the SMS side: the outbox a staff member may see, and the cost report."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import MessageStatus, OutboundMessage, SmsBudget
from jigi.channels.sender import _month_bounds
from jigi.core.errors import Forbidden
from jigi.orgs.models import Organisation, Role
from jigi.orgs.scoping import user_scope
from jigi.people.phones import PhoneError, normalize_mali_phone

# Who sees the cost report and sets budgets: managers and administrators.
REPORT_ROLES = {str(r) for r in (Role.CAISSE_MANAGER, Role.NETWORK_ADMIN, Role.NETWORK_AUDITOR,
                                 Role.MUTUAL_MANAGER, Role.UNION_ADMIN, Role.MOVEMENT_ADMIN)}


def organisations_for_user(user, *, roles: set[str] | None = None) -> set[int] | None:
    """The organisations whose messages the user sees (None: all, a superuser). Refuses a user
    with no staff role (403)."""
    scope = user_scope(user)
    if scope.is_superuser:
        return None
    orgs = {g.organisation_id for g in scope.grants if roles is None or g.role in roles}
    if not orgs:
        raise Forbidden("forbidden", _("You have no staff role for SMS."))
    return orgs


def phone_filter(text: str) -> Q:
    """A full number in any Malian writing ("76 12 34 56") matches exactly; a few digits
    match anywhere in the number."""
    text = (text or "").strip()
    if not text:
        return Q()
    try:
        return Q(phone=normalize_mali_phone(text))
    except PhoneError:
        digits = "".join(c for c in text if c.isdigit())[:16]
        return Q(phone__contains=digits) if digits else Q(pk__in=[])


def outbox_for_user(user, *, phone: str = "", status: str = "") -> QuerySet[OutboundMessage]:
    orgs = organisations_for_user(user)
    qs = OutboundMessage.objects.select_related("organisation").order_by("-created_at", "-pk")
    if orgs is not None:
        qs = qs.filter(organisation_id__in=orgs)
    if status in MessageStatus.values:
        qs = qs.filter(status=status)
    return qs.filter(phone_filter(phone))


@dataclass(frozen=True)
class CostRow:
    organisation: str
    purpose: str
    messages: int
    parts: int
    cost: int
    delivered: int
    failed: int


@dataclass(frozen=True)
class CostReport:
    month: date
    rows: list[CostRow]
    budgets: dict[str, int]  # organisation code -> budget (absent: none set)
    spent: dict[str, int]
    queued: dict[str, int]  # still queued (over budget or not yet sent)


def cost_report(*, month: date, organisation_ids: set[int] | None = None) -> CostReport:
    """Per organisation and purpose for the month: messages handed to the gateway (by the
    month they were sent), their parts, the cost the gateway reported, how many were
    delivered or failed; each organisation's budget, spending and what is still queued."""
    month = month.replace(day=1)
    start, end = _month_bounds(month)
    sent = (OutboundMessage.objects.filter(sent_at__gte=start, sent_at__lt=end)
            .exclude(status__in=[MessageStatus.QUEUED, MessageStatus.CANCELLED]))
    queued = OutboundMessage.objects.filter(status=MessageStatus.QUEUED)
    budgets = SmsBudget.objects.filter(month=month)
    if organisation_ids is not None:
        sent = sent.filter(organisation_id__in=organisation_ids)
        queued = queued.filter(organisation_id__in=organisation_ids)
        budgets = budgets.filter(organisation_id__in=organisation_ids)
    codes = dict(Organisation.objects.values_list("pk", "code"))
    rows = [CostRow(codes[r["organisation_id"]], r["purpose"], r["n"], r["p"] or 0, r["c"] or 0,
                    r["ok"], r["ko"])
            for r in sent.values("organisation_id", "purpose").annotate(
                n=Count("pk"), p=Sum("parts"), c=Sum("cost"),
                ok=Count("pk", filter=Q(status=MessageStatus.DELIVERED)),
                ko=Count("pk", filter=Q(status=MessageStatus.FAILED)))
            .order_by("organisation_id", "purpose")]
    spent: dict[str, int] = {}
    for r in rows:
        spent[r.organisation] = spent.get(r.organisation, 0) + r.cost
    return CostReport(
        month=month, rows=rows,
        budgets={codes[o]: a for o, a in budgets.values_list("organisation_id", "amount")},
        spent=spent,
        queued={codes[o]: n for o, n in queued.values("organisation_id")
                .annotate(n=Count("pk")).values_list("organisation_id", "n")})


CSV_HEADER = ["month", "organisation", "purpose", "messages", "parts", "cost", "delivered",
              "failed", "budget", "spent", "queued"]


def cost_report_csv(report: CostReport) -> str:
    """One line per organisation and purpose, then a TOTAL line per organisation with its
    budget, spending and queued messages."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_HEADER)
    month = report.month.strftime("%Y-%m")
    for r in report.rows:
        w.writerow([month, r.organisation, r.purpose, r.messages, r.parts, r.cost, r.delivered,
                    r.failed, "", "", ""])
    for org in sorted(set(report.spent) | set(report.budgets) | set(report.queued)):
        org_rows = [r for r in report.rows if r.organisation == org]
        w.writerow([month, org, "TOTAL", sum(r.messages for r in org_rows),
                    sum(r.parts for r in org_rows), report.spent.get(org, 0),
                    sum(r.delivered for r in org_rows), sum(r.failed for r in org_rows),
                    report.budgets.get(org, ""), report.spent.get(org, 0),
                    report.queued.get(org, 0)])
    return out.getvalue()
