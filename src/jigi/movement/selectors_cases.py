"""Reads of MTC rights cases, with their confidentiality.

Three circles (models.Case):
- anyone outside MTC (a Kondo teller, a UTM manager) sees nothing: 404 for every case;
- MTC staff see that a case EXISTS when its section is in their scope (organisers their
  section, case workers and administrators the whole movement): number, category, section,
  status, urgency, deadlines (`CaseRow`);
- its DETAILS (person, summary, employer, timeline, documents, links) are shown to the case
  workers assigned to it (a live CaseAssignment) and, when the case is not confidential, to
  every staff member who sees it. An administrator is no exception: she assigns herself (an
  audited act) to read a confidential case.
A staff member who sees a case but not its details gets a 403 on the details (the case page,
the timeline, documents and links endpoints); what does not exist for her is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import Forbidden
from jigi.core.lookup import one_in
from jigi.movement import case_rules
from jigi.movement.models import Case, CaseAlert, CaseAssignment, CaseDocument, CaseLink
from jigi.movement.services._common import ADMIN_ROLES, CASE_ROLES, STAFF_ROLES
from jigi.orgs.models import OrgKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import Consent
from jigi.people.selectors import age_on, person_identity_ids

CASE_NOT_FOUND = _("Case not found.")


def _movement_scope_q(user, prefix: str = "section__") -> Q | None:
    """The filter on a case's section for MTC staff; None for anyone else."""
    scope = user_scope(user)
    if scope.is_superuser:
        return Q()
    if not any(g.role in STAFF_ROLES for g in scope.grants):
        return None
    return scope.unit_q(prefix, roles=STAFF_ROLES)


def cases_visible(user) -> QuerySet[Case]:
    """The cases whose existence the user may see (every field of the row is loaded, but only
    `CaseRow`'s may leave the server for a case whose details she does not see)."""
    q = _movement_scope_q(user)
    if q is None:
        return Case.objects.none()
    return Case.objects.filter(q, organisation__kind=OrgKind.MOVEMENT)


def live_assignment(user):
    return CaseAssignment.objects.filter(case=OuterRef("pk"), user_id=getattr(user, "pk", None),
                                         ended_at__isnull=True)


def cases_with_access(user) -> QuerySet[Case]:
    """cases_visible, annotated with `assigned` (a live assignment of the user)."""
    return cases_visible(user).annotate(assigned=Exists(live_assignment(user)))


def get_case_for_user(user, pk: Any) -> Case:
    """The case if the user sees it exists (404 otherwise), with `assigned` set."""
    return one_in(cases_with_access(user).select_related("section", "organisation"), pk,
                  code="case_not_found", message=CASE_NOT_FOUND)


def is_assigned(user, case: Case) -> bool:
    assigned = getattr(case, "assigned", None)
    if assigned is not None:
        return bool(assigned)
    return CaseAssignment.objects.filter(case=case, user_id=getattr(user, "pk", None),
                                         ended_at__isnull=True).exists()


def sees_details(user, case: Case) -> bool:
    """Whether the user may read the case's details (she must already see it exists)."""
    return is_assigned(user, case) or not case.confidential


def require_details(user, case: Case) -> None:
    if not sees_details(user, case):
        raise Forbidden("case_confidential",
                        _("This case is confidential: only its case workers see it."))


def require_handler(user, case: Case) -> None:
    """Recording on a case (actions, closing, documents, links) is for its assigned workers."""
    if not is_assigned(user, case):
        raise Forbidden("case_not_assigned",
                        _("Only the case workers assigned to this case may do this."))


def get_case_details_for_user(user, pk: Any) -> Case:
    case = get_case_for_user(user, pk)
    require_details(user, case)
    return case


def can_assign(user, case: Case) -> bool:
    return user_scope(user).covers_unit(case.section, write=True, roles=ADMIN_ROLES)


def can_handle_alerts(user, case: Case) -> bool:
    return user_scope(user).covers_unit(case.section, write=True, roles=CASE_ROLES)


# --- rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    """What every MTC staff member in scope may know of a case."""

    id: int
    number: str
    category: str
    category_label: str
    section_id: int
    section_name: str
    status: str
    status_label: str
    urgent: bool
    confidential: bool
    opened_on: date
    first_action_due: date
    resolution_due: date
    first_action_overdue: bool
    resolution_overdue: bool
    closed_on: date | None
    outcome: str
    sees_details: bool
    assigned: bool


def case_row(case: Case, user, today: date) -> CaseRow:
    late = case_rules.overdue(status=case.status, today=today,
                              first_action_due=case.first_action_due,
                              resolution_due=case.resolution_due,
                              first_action_on=case.first_action_on)
    assigned = is_assigned(user, case)
    details = assigned or not case.confidential
    return CaseRow(
        id=case.pk, number=case.number, category=case.category,
        category_label=str(case.get_category_display()), section_id=case.section_id,
        section_name=case.section.name, status=case.status,
        status_label=str(case.get_status_display()), urgent=case.urgency == "urgent",
        confidential=case.confidential, opened_on=case.opened_on,
        first_action_due=case.first_action_due, resolution_due=case.resolution_due,
        first_action_overdue=late.first_action, resolution_overdue=late.resolution,
        closed_on=case.closed_on,
        # The outcome says what happened to the person: a detail.
        outcome=case.outcome if details else "", sees_details=details, assigned=assigned)


@dataclass
class CaseFilters:
    status: str = ""
    category: str = ""
    urgent: bool | None = None
    overdue: bool | None = None
    section_id: int | None = None
    mine: bool = False
    errors: dict[str, Any] = field(default_factory=dict)


def cases_filtered(user, filters: CaseFilters, today: date) -> QuerySet[Case]:
    """The list's cases, urgent first, then by resolution deadline. Filters use only what
    every staff member may see (status, category, urgency, deadlines, section)."""
    qs = cases_with_access(user).select_related("section")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        # The JSON list as text (SQLite and PostgreSQL alike): '["violence", "no_contract"]'.
        # The other categories are details: they match only the cases whose details the user
        # reads (a confidential case's must not surface under "sexual harassment").
        others = Q(_others__contains=f'"{filters.category}"') & (
            Q(confidential=False) | Q(assigned=True))
        qs = qs.annotate(_others=Cast("other_categories", TextField())).filter(
            Q(category=filters.category) | others)
    if filters.urgent is not None:
        qs = qs.filter(urgency="urgent" if filters.urgent else "normal")
    if filters.section_id is not None:
        qs = qs.filter(section_id=filters.section_id)
    if filters.mine:
        qs = qs.filter(assigned=True)
    if filters.overdue is not None:
        late = (Q(first_action_on__isnull=True, first_action_due__lt=today)
                | Q(resolution_due__lt=today))
        qs = qs.exclude(status="closed").filter(late) if filters.overdue else qs.exclude(
            Q(late) & ~Q(status="closed"))
    return qs.order_by("-urgency", "resolution_due", "pk")


# --- details ------------------------------------------------------------------------------------


def _live_team_qs() -> QuerySet[CaseAssignment]:
    return (CaseAssignment.objects.filter(ended_at__isnull=True).select_related("user")
            .order_by("-lead", "pk"))


def live_team_prefetch() -> Prefetch:
    """For a list of cases: each case's live team in one query (read by `case_team`)."""
    return Prefetch("assignments", queryset=_live_team_qs(), to_attr="live_team")


def case_team(case: Case) -> list[CaseAssignment]:
    prefetched = getattr(case, "live_team", None)
    if prefetched is not None:
        return list(prefetched)
    return list(_live_team_qs().filter(case=case))


def case_timeline(case: Case):
    return case.actions.select_related("created_by").order_by("happened_on", "pk")


def case_documents(case: Case) -> QuerySet[CaseDocument]:
    return case.documents.defer("content").order_by("uploaded_at", "pk")


def get_document_for_user(user, case: Case, pk: Any) -> CaseDocument:
    """A document of the case, for download: its assigned workers only (403 for other staff
    who see the case, even when the case is not confidential)."""
    require_handler(user, case)
    return one_in(CaseDocument.objects.filter(case=case), pk, code="document_not_found",
                  message=_("Document not found."))


def person_age(case: Case, on: date) -> int | None:
    return age_on(case.person, on)


# --- links to Kondo and UTM ----------------------------------------------------------------------

# Which kind of organisation holds what a consent scope opens.
HOLDER_KIND = {"savings": OrgKind.SFD, "credit": OrgKind.SFD, "health": OrgKind.MUTUAL_UNION}


def live_consent(case: Case, scope: str) -> Consent | None:
    """The person's live consent to MTC for `scope` (her merged records' consents count)."""
    return (Consent.objects.filter(person_id__in=person_identity_ids(case.person),
                                   granted_to=case.organisation, scope=scope,
                                   withdrawn_at__isnull=True)
            .order_by("-given_at", "-pk").first())


def _health_facts(person_ids: list[int], today: date) -> list[dict[str, Any]]:
    from jigi.health.models import Beneficiary

    out = []
    for b in (Beneficiary.objects.filter(person_id__in=person_ids)
              .select_related("coverage", "coverage__mutual").order_by("pk")[:20]):
        cov = b.coverage
        covered = (cov.status == "active" and cov.covered_from <= today
                   and (b.until is None or b.until >= today)
                   and (cov.paid_through is None or cov.paid_through >= today))
        out.append({"mutual": cov.mutual.name, "policy": cov.number, "status": cov.status,
                    "status_label": str(cov.get_status_display()),
                    "covered_today": covered,
                    "paid_through": cov.paid_through.isoformat() if cov.paid_through else None})
    return out


def _savings_facts(person_ids: list[int]) -> list[dict[str, Any]]:
    from jigi.savings.models import SavingsAccount

    return [{"account": a.number, "status": a.status, "balance": a.balance}
            for a in SavingsAccount.objects.filter(person_id__in=person_ids).order_by("pk")[:20]]


def _credit_facts(person_ids: list[int]) -> list[dict[str, Any]]:
    from jigi.credit.models import Loan

    return [{"loan": ln.number, "status": ln.status,
             "status_label": str(ln.get_status_display()), "principal": ln.principal}
            for ln in Loan.objects.filter(person_id__in=person_ids).order_by("pk")[:20]]


@dataclass(frozen=True)
class LinkView:
    id: int
    scope: str
    organisation: str
    note: str
    consent_live: bool
    facts: list[dict[str, Any]]


def case_links(case: Case, today: date) -> list[LinkView]:
    """The case's links with what each consent allows today; a link whose consent was since
    withdrawn shows nothing more."""
    ids = person_identity_ids(case.person)
    out = []
    for link in CaseLink.objects.filter(case=case).select_related("consent", "organisation"):
        live = link.consent.withdrawn_at is None or live_consent(case, link.scope) is not None
        facts: list[dict[str, Any]] = []
        if live:
            if link.scope == "health":
                facts = _health_facts(ids, today)
            elif link.scope == "savings":
                facts = _savings_facts(ids)
            elif link.scope == "credit":
                facts = _credit_facts(ids)
        out.append(LinkView(id=link.pk, scope=link.scope, organisation=link.organisation.name,
                            note=link.note, consent_live=live, facts=facts))
    return out


# --- alerts ---------------------------------------------------------------------------------------


def alerts_visible(user, *, open_only: bool = True) -> QuerySet[CaseAlert]:
    """Alerts of the cases the user sees exist (an alert names only the case's number, kind
    and deadline: nothing confidential)."""
    qs = CaseAlert.objects.filter(case__in=cases_visible(user)).select_related(
        "case", "case__section")
    if open_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs.order_by("-case__urgency", "raised_at", "pk")


def get_alert_for_user(user, pk: Any) -> CaseAlert:
    return one_in(alerts_visible(user, open_only=False), pk, code="alert_not_found",
                  message=_("Alert not found."))


def case_workers_for(case: Case):
    """Users who may be assigned to the case: MTC case workers and administrators whose scope
    covers its section."""
    from django.contrib.auth import get_user_model

    from jigi.orgs.models import StaffRole

    grants = StaffRole.objects.filter(organisation_id=case.organisation_id,
                                      role__in=CASE_ROLES, revoked_at__isnull=True)
    users = get_user_model().objects.filter(pk__in=grants.values("user_id"), is_active=True)
    return [u for u in users.order_by("username")
            if user_scope(u).covers_unit(case.section, write=True, roles=CASE_ROLES)]
