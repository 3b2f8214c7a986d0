"""Reads of the SMS side: the outbox a staff member may see, and the cost report.

Who reads which message (access rule 5: a teller sees only her caisse; health data only health
roles), through `orgs.scoping` as every other selector:
- a role held organisation-wide (network administrator or auditor, union administrator,
  movement administrator, or any role granted without a unit) reads all its organisation's
  messages, those with no unit (organisation-level) included;
- a role limited to a unit reads the messages of that unit and the units below it (a region's
  caisses), never the organisation-level ones;
- health messages (contribution receipts, anything whose cause is in `health`) only through a
  health role; clinic staff (the providers' people) read no outbox at all.
The cost report stays per organisation, for REPORT_ROLES.
"""

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
from jigi.core.lookup import one_in
from jigi.orgs.models import HEALTH_ROLES, Organisation, Role
from jigi.orgs.scoping import Scope, user_scope
from jigi.people.phones import PhoneError, normalize_mali_phone

# Who sees the cost report and sets budgets: managers and administrators.
REPORT_ROLES = {str(r) for r in (Role.CAISSE_MANAGER, Role.NETWORK_ADMIN, Role.NETWORK_AUDITOR,
                                 Role.MUTUAL_MANAGER, Role.UNION_ADMIN, Role.MOVEMENT_ADMIN)}
# Who reads the outbox: every staff role but the clinics' (a provider's staff have no business
# with members' phones and receipts).
OUTBOX_ROLES = frozenset(str(r) for r in Role) - {str(Role.CLINIC_STAFF)}
_HEALTH_ROLES = frozenset(str(r) for r in HEALTH_ROLES)
# Health data: read through a health role only.
HEALTH_PURPOSES = frozenset({"contribution_receipt"})
HEALTH_REF_PREFIX = "health."


def organisations_for_user(user, *, roles: set[str] | frozenset[str] | None = None
                           ) -> set[int] | None:
    """The organisations whose messages the user sees (None: all, a superuser). Refuses a user
    with no staff role (403)."""
    scope = user_scope(user)
    if scope.is_superuser:
        return None
    orgs = {g.organisation_id for g in scope.grants if roles is None or g.role in roles}
    if not orgs:
        raise Forbidden("forbidden", _("You have no staff role for SMS."))
    return orgs


def budget_organisation_ids(user) -> set[int] | None:
    """The organisations whose monthly SMS budget the user sets (None: all, a superuser): a
    managing role held for the whole organisation. A caisse or mutual manager reads the
    organisation's cost report but does not set the budget every caisse shares."""
    scope = user_scope(user)
    if scope.is_superuser:
        return None
    return scope.org_wide_ids(write=True, roles=set(REPORT_ROLES))


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


def _held_through(scope: Scope, roles: frozenset[str]) -> Q:
    """Messages the user reads through her grants of `roles`: every message of an
    organisation where she holds one of them organisation-wide; the messages of the units (and
    sub-units) of her unit grants elsewhere. The units are a subquery, so the outbox's
    (unit, created_at) index serves a teller's page."""
    org_wide = scope.org_wide_ids(roles=set(roles))
    q = Q(organisation_id__in=org_wide)
    if any(g.unit_id is not None and g.role in roles and g.organisation_id not in org_wide
           for g in scope.grants):
        units = scope.units(roles=set(roles)).exclude(organisation_id__in=org_wide)
        q |= Q(unit__in=units.values("pk"))
    return q


# Sent, never shown in the outbox (but to the superuser).
UNREAD_PURPOSES = ("case_message", "petition_code")


def outbox_q(scope: Scope) -> Q:
    """The messages the scope reads (module docstring): health ones through health roles only,
    the others through any outbox role."""
    if scope.is_superuser:
        return Q()
    # A case worker's SMS to a member carries the case's details: read on the case's timeline
    # by its assigned workers (movement.services.messages), never in the outbox. A petition
    # code is the signer's own proof: staff reading it could sign in someone else's name.
    return sendable_q(scope) & ~Q(purpose__in=UNREAD_PURPOSES)


def sendable_q(scope: Scope, roles: frozenset[str] = OUTBOX_ROLES) -> Q:
    """The messages a manager's "send the waiting messages" sends: those of her units, case
    messages included (she sends them without reading them). `roles`: the grants that count
    (the send button passes the managing ones: what she reads as an auditor or a teller
    elsewhere is not hers to send)."""
    if scope.is_superuser:
        return Q()
    held = _held_through(scope, roles)
    roles = scope.roles & roles
    if roles <= _HEALTH_ROLES:  # health staff only: all they hold is theirs to read
        return held
    health = Q(purpose__in=HEALTH_PURPOSES) | Q(ref__startswith=HEALTH_REF_PREFIX)
    q = ~health & held
    if roles & _HEALTH_ROLES:
        q |= health & _held_through(scope, frozenset(roles & _HEALTH_ROLES))
    return q


def outbox_for_user(user, *, phone: str = "", status: str = "") -> QuerySet[OutboundMessage]:
    """The messages the user may read (module docstring), newest first; 403 for a user with
    no outbox role."""
    organisations_for_user(user, roles=OUTBOX_ROLES)
    qs = (OutboundMessage.objects.filter(outbox_q(user_scope(user)))
          .select_related("organisation", "unit").order_by("-created_at", "-pk"))
    if status in MessageStatus.values:
        qs = qs.filter(status=status)
    return qs.filter(phone_filter(phone))


def message_get_for_user(user, message_id: int) -> OutboundMessage:
    """One message of the user's outbox; 404 when it is not one she may read (another caisse's,
    another organisation's, a health message without a health role), 403 with no outbox role."""
    return one_in(outbox_for_user(user), message_id, code="message_not_found",
                  message=_("Message not found."))


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
