"""MTC rights cases from intake to outcome (CiviCase: a case type, a timeline of activities, case
roles; openIMIS grievance: categories, resolution times, confidential flag).

- Intake: an organiser (for her section's people), a case worker or an administrator opens a
  case for a person of the registry (her MTC profile when she is a member). Numbers are gapless
  per movement and year ("MTC-2026-000123"); deadlines come from CaseDeadline; a minor's case
  of violence, child labour or harassment is urgent (case_rules.urgency): an URGENT alert is
  raised and an SMS queued to the duty phones in the same transaction.
  An SMS intake (channels module) calls `case_intake(acting_user=None, intake_channel="sms",
  section=..., person=...)`: with no acting user the role checks are skipped, which only code
  can do (every API and screen passes the signed-in user), and the audit row has no actor.
- Assignment by an administrator (a lead and support workers); reassigning ends the previous
  assignments. An administrator assigning herself is audited as such.
- Timeline: append-only actions; the first fills `first_action_on`; referrals refer the case;
  closing records the outcome; a reopening is an action. Status changes follow case_rules.
- Every write locks the case row (select_for_update) and bumps `version`; a caller that read
  a version may pass it and gets a 409 if someone changed the case since.

Services run in `transaction.atomic()` (not durable) so that close of business, an SMS intake
or an idempotent API call can hold them in their own transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.channels.outbox import message_queue
from jigi.core.audit import audit_log
from jigi.core.cleaning import clean_amount, clean_date, clean_text, conflict, invalid
from jigi.core.cleaning import today as _today
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.core.numbering import next_number
from jigi.movement import case_rules, standing
from jigi.movement import selectors_cases as sel
from jigi.movement.models import (
    ActionKind,
    AlertKind,
    Case,
    CaseAction,
    CaseAlert,
    CaseAssignment,
    CaseCategory,
    CaseDeadline,
    CaseDocument,
    CaseLink,
    CaseOutcome,
    IntakeChannel,
    MemberProfile,
)
from jigi.movement.services._common import ADMIN_ROLES, CASE_ROLES, STAFF_ROLES, require_role
from jigi.movement.services.members import adult_age
from jigi.movement.setup import DEFAULT_DEADLINES
from jigi.orgs.models import Organisation, OrgKind, Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import Person
from jigi.people.phones import PhoneError, normalize_mali_phone
from jigi.people.selectors import persons_visible_to

log = logging.getLogger(__name__)

CATEGORIES = {c.value for c in CaseCategory}
MAX_DOCUMENT = 5 * 1024 * 1024
# Content types accepted, with the first bytes each file of that type starts with (a renamed
# executable is refused).
DOCUMENT_TYPES = {
    "application/pdf": (b"%PDF",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
LINK_SCOPES = ("savings", "credit", "health")
MAX_TEAM = 5


# --- helpers ------------------------------------------------------------------------------------


def _lock(case: Case, version: int | None) -> Case:
    """The case row locked for this transaction; a stale `version` is a 409."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if version is not None and version != locked.version:
        raise conflict("case_changed", _("Someone changed this case meanwhile: open it again."),
                       "version")
    # Keep the access annotation the caller's fetch computed.
    locked.assigned = getattr(case, "assigned", None)  # type: ignore[attr-defined]
    return locked


def _bump(case: Case, fields: list[str]) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version"])


def _categories(category: Any, other_categories: Any) -> tuple[str, list[str]]:
    errors: dict[str, Any] = {}
    if category not in CATEGORIES:
        errors["category"] = _("Choose a category.")
    others: list[str] = []
    if other_categories is None:
        other_categories = []
    if not isinstance(other_categories, list | tuple) or any(
            c not in CATEGORIES for c in other_categories):
        errors["other_categories"] = _("Choose categories from the list.")
    else:
        others = sorted({c for c in other_categories if c != category})
    if errors:
        raise invalid(errors)
    return category, others


def _deadline_days(organisation: Organisation, categories: Iterable[str]) -> list[tuple[int, int]]:
    cats = list(categories)
    rows = {d.category: (d.first_action_days, d.resolution_days)
            for d in CaseDeadline.objects.filter(organisation=organisation, category__in=cats)}
    return [rows.get(c) or DEFAULT_DEADLINES[CaseCategory(c)] for c in cats]


def _duty_phones() -> list[str]:
    phones = []
    for raw in getattr(settings, "JIGI_MOVEMENT_ALERT_PHONES", []) or []:
        try:
            phones.append(normalize_mali_phone(str(raw)))
        except PhoneError:
            log.warning("JIGI_MOVEMENT_ALERT_PHONES: %r is not a Malian phone, skipped", raw)
    return sorted(set(phones))


def _alert_urgent(case: Case) -> CaseAlert:
    """The URGENT alert, and an SMS to each duty phone naming only the case number (the SMS
    leaves the movement's hands: no name, no detail)."""
    alert = CaseAlert.objects.create(case=case, kind=AlertKind.URGENT)
    with translation.override("fr"):
        text = gettext("Urgent case %(number)s, see Jigi") % {"number": case.number}
    for phone in _duty_phones():
        message_queue(organisation=case.organisation, phone=phone, text=text,
                      purpose="movement_case_urgent", ref=case.number, unit_id=case.section_id)
    return alert


def _section_for(person: Person, section: Unit | None, organisation: Organisation | None
                 ) -> tuple[Unit, MemberProfile | None]:
    profiles = MemberProfile.objects.filter(person=person).select_related("section")
    if organisation is not None:
        profiles = profiles.filter(membership__organisation=organisation)
    profile = profiles.order_by("-pk").first()
    if section is None and profile is not None:
        section = profile.section
    if section is None:
        raise invalid({"section": _("Choose the section.")})
    if not isinstance(section, Unit) or section.kind != UnitKind.SECTION:
        raise NotFound("section_not_found", _("Section not found."))
    if profile is not None and profile.membership.organisation_id != section.organisation_id:
        profile = None
    return section, profile


# --- intake -------------------------------------------------------------------------------------


def case_intake(*, acting_user, person: Person, category: Any, intake_channel: Any,
                summary: Any, other_categories: Any = None, employer_name: Any = "",
                employer_phone: Any = "", section: Unit | None = None,
                marked_urgent: bool = False, confidential: bool | None = None,
                opened_on: date | None = None) -> Case:
    """Open a case. `section` defaults to the member's section. `confidential` None takes the
    category's default (violence, child labour, harassment: confidential)."""
    channel = intake_channel if intake_channel in {c.value for c in IntakeChannel} else None
    section, profile = _section_for(person, section, None)
    if acting_user is None:
        # An SMS received by the channels module: the only intake without a person behind it.
        if channel != IntakeChannel.SMS:
            raise Forbidden("forbidden", _("Your role does not allow this operation."))
    else:
        require_role(acting_user, section, STAFF_ROLES, not_found=_("Section not found."))
        if person.merged_into_id is not None or not persons_visible_to(acting_user).filter(
                pk=person.pk).exists():
            raise NotFound("person_not_found", _("Person not found."))
    if section.organisation.kind != OrgKind.MOVEMENT:
        raise NotFound("section_not_found", _("Section not found."))
    errors: dict[str, Any] = {}
    if channel is None:
        errors["intake_channel"] = _("Choose how the case came in.")
    try:
        category, others = _categories(category, other_categories)
    except ApplicationError as exc:  # merged into one 422 below
        errors.update(exc.fields)
        others = []
    for name, value, max_len, required in [("summary", summary, 4000, True),
                                           ("employer_name", employer_name, 200, False)]:
        try:
            clean_text(value, name, max_len=max_len, required=required)
        except ApplicationError as exc:
            errors.update(exc.fields)
    phone = ""
    if employer_phone:
        try:
            phone = normalize_mali_phone(str(employer_phone))
        except PhoneError:
            errors["employer_phone"] = _("Enter a Malian phone number (8 digits).")
    if not isinstance(marked_urgent, bool):
        errors["urgent"] = _("Yes or no.")
    if confidential is not None and not isinstance(confidential, bool):
        errors["confidential"] = _("Yes or no.")
    if errors:
        raise invalid(errors)
    opened = clean_date(opened_on, "opened_on")
    all_categories = [category, *others]
    # The member screens' rule (movement.standing.is_minor): with only a year of birth she
    # counts as a minor while she could still be one, so a girl flagged a minor on her member
    # page is a minor here too and her case of violence is urgent.
    minor = bool(standing.is_minor(birth_date=person.birth_date, birth_year=person.birth_year,
                                   on=opened, adult_age=adult_age(opened)))
    try:
        urgency = case_rules.urgency(all_categories, minor=minor, marked_urgent=marked_urgent)
    except case_rules.RuleError:
        raise invalid({"urgent": _("Only violence, child labour or sexual harassment may be "
                                   "marked urgent.")}) from None
    if confidential is None:
        confidential = case_rules.confidential_default(all_categories)
    if urgency.urgent and minor:
        # A child's urgent case stays between its case workers whatever was ticked.
        confidential = True
    organisation = section.organisation
    due = case_rules.deadlines(opened, _deadline_days(organisation, all_categories))
    with transaction.atomic():
        n = next_number(f"movement.case.{organisation.pk}", opened.year)
        case = Case.objects.create(
            organisation=organisation, section=section,
            number=f"{organisation.code}-{opened.year}-{n:06d}", person=person, profile=profile,
            category=category, other_categories=others,
            urgency="urgent" if urgency.urgent else "normal", urgent_reason=urgency.reason,
            confidential=confidential, intake_channel=channel,
            summary=clean_text(summary, "summary", max_len=4000, required=True),
            employer_name=clean_text(employer_name, "employer_name", max_len=200),
            employer_phone=phone, opened_on=opened, first_action_due=due.first_action_due,
            resolution_due=due.resolution_due, created_by=acting_user)
        CaseAction.objects.create(case=case, kind=ActionKind.INTAKE, happened_on=opened,
                                  created_by=acting_user)
        # The audit row names the case, not the person or what happened (it is read by more
        # people than the case workers).
        audit_log(actor=acting_user, event_type="movement.case_opened", subject=case,
                  unit=section, after={"number": case.number, "category": category,
                                       "urgency": case.urgency, "channel": channel,
                                       "confidential": confidential})
        if urgency.urgent:
            _alert_urgent(case)
    return case


# --- assignment ---------------------------------------------------------------------------------


def _assignee(case: Case, user, field: str):
    if user is None or not getattr(user, "is_active", False) or not user_scope(user).covers_unit(
            case.section, write=True, roles=CASE_ROLES):
        raise invalid({field: _("Choose a case worker of the movement.")})
    return user


def case_assign(*, acting_user, case: Case, lead, support: Iterable[Any] = (),
                version: int | None = None) -> list[CaseAssignment]:
    """Set the case's team: a lead and support workers (MTC case workers or administrators
    covering its section). Assignments not in the new team, or whose lead flag changes, are
    ended; the others are kept. Only a movement administrator assigns."""
    require_role(acting_user, case.section, ADMIN_ROLES, not_found=sel.CASE_NOT_FOUND)
    support = list(support)
    if len(support) > MAX_TEAM:
        raise invalid({"support": _("At most %(n)d support workers.") % {"n": MAX_TEAM}})
    team = {_assignee(case, lead, "lead").pk: True}
    for u in support:
        if _assignee(case, u, "support").pk not in team:
            team[u.pk] = False
    now = timezone.now()
    with transaction.atomic():
        case = _lock(case, version)
        live = list(CaseAssignment.objects.select_for_update().filter(
            case=case, ended_at__isnull=True).order_by("pk"))
        before = {a.user_id: a.lead for a in live}
        kept = set()
        for a in live:
            if team.get(a.user_id) is a.lead:
                kept.add(a.user_id)
            else:
                a.ended_at = now
                a.save(update_fields=["ended_at"])
        for user_id, is_lead in team.items():
            if user_id not in kept:
                CaseAssignment.objects.create(case=case, user_id=user_id, lead=is_lead,
                                              assigned_by=acting_user)
        _bump(case, [])
        audit_log(actor=acting_user, event_type="movement.case_assigned", subject=case,
                  unit=case.section,
                  before={"team": {str(k): v for k, v in before.items()}},
                  after={"team": {str(k): v for k, v in team.items()}})
        if acting_user.pk in team and acting_user.pk not in before:
            # An administrator opening a confidential case to herself: its own audit event.
            audit_log(actor=acting_user, event_type="movement.case_self_assigned",
                      subject=case, unit=case.section,
                      after={"confidential": case.confidential, "lead": team[acting_user.pk]})
    return sel.case_team(case)


# --- timeline -------------------------------------------------------------------------------------


def _action_date(value: Any, case: Case, field: str = "happened_on") -> date:
    return clean_date(value, field, earliest=case.opened_on)


def _audit_details(case: Case, details: dict[str, Any]) -> dict[str, Any]:
    """What an audit row may say of a case's step: a confidential case's details (the kind
    of step, the outcome, the wages) stay on its timeline, which only its assigned workers
    read; the movement's auditors and administrators read the audit trail."""
    return {"details": "timeline"} if case.confidential else details


def case_action_record(*, acting_user, case: Case, kind: Any, happened_on: Any = None,
                       note: Any = "", amount_recovered: Any = 0, next_step: Any = "",
                       next_step_due: Any = None, version: int | None = None) -> CaseAction:
    """Append an action to the timeline (assigned workers only). A mediation may record
    wages recovered (whole francs); a referral refers the case; a reopening brings a closed
    case back in progress (its outcome is cleared, the closure stays on the timeline)."""
    sel.require_handler(acting_user, case)
    errors: dict[str, Any] = {}
    if kind not in case_rules.RECORDABLE_KINDS:
        errors["kind"] = _("Choose an action.")
    amount = 0
    if amount_recovered not in (None, 0, "", "0"):
        if kind != ActionKind.MEDIATION:
            errors["amount_recovered"] = _("Wages recovered go with a mediation.")
        else:
            try:
                amount = clean_amount(amount_recovered, "amount_recovered")
            except ApplicationError as exc:  # merged into one 422
                errors.update(exc.fields)
    texts = {}
    for name, value, max_len in [("note", note, 4000), ("next_step", next_step, 200)]:
        try:
            texts[name] = clean_text(value, name, max_len=max_len)
        except ApplicationError as exc:
            errors.update(exc.fields)
    if kind == ActionKind.NOTE and not texts.get("note") and "note" not in errors:
        errors["note"] = _("This field is required.")
    if errors:
        raise invalid(errors)
    on = _action_date(happened_on, case)
    step_due = None
    if next_step_due not in (None, ""):
        if not isinstance(next_step_due, date):
            raise invalid({"next_step_due": _("Enter a valid date (YYYY-MM-DD).")})
        if next_step_due < on:
            raise invalid({"next_step_due": _("The next step cannot be due before this action.")})
        step_due = next_step_due
    with transaction.atomic():
        case = _lock(case, version)
        try:
            new_status = case_rules.status_after_action(case.status, kind)
        except case_rules.RuleError as exc:
            messages = {
                "case_closed": _("This case is closed: reopen it first."),
                "case_not_closed": _("Only a closed case can be reopened."),
            }
            raise conflict(exc.code, messages.get(exc.code, _("This step is not allowed now.")),
                           "kind") from None
        action = CaseAction.objects.create(
            case=case, kind=kind, happened_on=on, note=texts["note"], amount_recovered=amount,
            next_step=texts["next_step"], next_step_due=step_due, created_by=acting_user)
        fields = []
        before = {"status": case.status}
        if new_status != case.status:
            case.status = new_status
            fields.append("status")
        if kind == ActionKind.REOPENING:
            case.closed_on, case.outcome, case.outcome_note = None, "", ""
            case.wages_recovered = 0
            # A fresh resolution period from the reopening: without it the case would be
            # overdue the day it is reopened.
            case.resolution_due = case_rules.resolution_due_on_reopening(
                on, case.resolution_due, _deadline_days(
                    case.organisation, [case.category, *case.other_categories]))
            fields += ["closed_on", "outcome", "outcome_note", "wages_recovered",
                       "resolution_due"]
        elif case.first_action_on is None:
            case.first_action_on = on
            fields.append("first_action_on")
        _bump(case, fields)
        event = "reopened" if kind == ActionKind.REOPENING else "action"
        audit_log(actor=acting_user, event_type=f"movement.case_{event}", subject=case,
                  unit=case.section, before=before,
                  after={"status": case.status, "action": action.pk,
                         **_audit_details(case, {"kind": kind, "amount_recovered": amount})})
    return action


def case_close(*, acting_user, case: Case, outcome: Any, closed_on: Any = None,
               wages_recovered: Any = None, note: Any = "", version: int | None = None) -> Case:
    """Close the case with its outcome. Wages recovered: the amount entered, else the sum of
    the mediations' amounts; the outcome "wages recovered" needs more than zero."""
    sel.require_handler(acting_user, case)
    errors: dict[str, Any] = {}
    if outcome not in {o.value for o in CaseOutcome}:
        errors["outcome"] = _("Choose the outcome.")
    entered = None
    if wages_recovered not in (None, ""):
        try:
            entered = clean_amount(wages_recovered, "wages_recovered", allow_zero=True)
        except ApplicationError as exc:
            errors.update(exc.fields)
    try:
        note = clean_text(note, "note", max_len=4000)
    except ApplicationError as exc:
        errors.update(exc.fields)
    if errors:
        raise invalid(errors)
    on = _action_date(closed_on, case, "closed_on")
    with transaction.atomic():
        case = _lock(case, version)
        try:
            case_rules.check_transition(case.status, case_rules.CLOSED)
        except case_rules.RuleError:
            raise conflict("case_closed", _("This case is already closed."), "outcome") from None
        mediations = CaseAction.objects.filter(case=case, kind=ActionKind.MEDIATION)
        if case.first_action_on is None:
            case.first_action_on = on
        # Mediations recorded since the last reopening count (earlier ones were counted at the
        # earlier closing and stay on the timeline).
        last_reopen = (CaseAction.objects.filter(case=case, kind=ActionKind.REOPENING)
                       .order_by("-pk").values_list("pk", flat=True).first())
        if last_reopen is not None:
            mediations = mediations.filter(pk__gt=last_reopen)
        try:
            total = case_rules.wages_at_closing(
                outcome, mediation_amounts=mediations.values_list("amount_recovered", flat=True),
                entered=entered)
        except case_rules.RuleError:
            raise invalid({"wages_recovered": _("Enter the wages recovered, or record the "
                                                "mediation that recovered them.")}) from None
        before = {"status": case.status}
        case.status, case.outcome, case.closed_on = case_rules.CLOSED, outcome, on
        case.wages_recovered, case.outcome_note = total, note
        CaseAction.objects.create(case=case, kind=ActionKind.CLOSURE, happened_on=on, note=note,
                                  created_by=acting_user)
        _bump(case, ["status", "outcome", "closed_on", "wages_recovered", "outcome_note",
                     "first_action_on"])
        audit_log(actor=acting_user, event_type="movement.case_closed", subject=case,
                  unit=case.section, before=before,
                  after={"closed_on": on.isoformat(), **_audit_details(
                      case, {"outcome": outcome, "wages_recovered": total})})
    return case


# --- documents ----------------------------------------------------------------------------------


def case_document_add(*, acting_user, case: Case, name: Any, content_type: Any,
                      content: bytes) -> CaseDocument:
    """Keep a scan or photo (PDF, JPEG, PNG; 5 MB at most) with its SHA-256."""
    sel.require_handler(acting_user, case)
    errors: dict[str, Any] = {}
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    try:
        base = clean_text(base, "name", max_len=200, required=True)
    except ApplicationError as exc:
        errors.update(exc.fields)
    ctype = str(content_type or "").split(";")[0].strip().lower()
    if not isinstance(content, bytes | bytearray) or not content:
        errors["file"] = _("Choose a file.")
    elif len(content) > MAX_DOCUMENT:
        errors["file"] = _("The file is larger than 5 MB.")
    elif ctype not in DOCUMENT_TYPES:
        errors["file"] = _("Send a PDF, JPEG or PNG file.")
    elif not content.startswith(DOCUMENT_TYPES[ctype]):
        errors["file"] = _("The file's content is not a %(type)s.") % {"type": ctype}
    if errors:
        raise invalid(errors)
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        case = _lock(case, None)
        doc = CaseDocument.objects.create(case=case, name=base, content_type=ctype,
                                          size=len(content), sha256=digest,
                                          content=bytes(content), uploaded_by=acting_user)
        _bump(case, [])
        audit_log(actor=acting_user, event_type="movement.case_document_added", subject=case,
                  unit=case.section, after={"document": doc.pk, "sha256": digest,
                                            "size": len(content)})
    return doc


def case_document_downloaded(*, acting_user, case: Case, document: CaseDocument) -> None:
    """Reading a confidential file is audited like a change."""
    with transaction.atomic():
        audit_log(actor=acting_user, event_type="movement.case_document_read", subject=case,
                  unit=case.section, after={"document": document.pk})


# --- links to Kondo and UTM ----------------------------------------------------------------------


def case_link_create(*, acting_user, case: Case, scope: Any, note: Any = "") -> CaseLink:
    """Link the case to what Kondo (savings, credit) or UTM (health) holds of the person, on
    her live consent to MTC for that scope; without it, a 403 and nothing written."""
    sel.require_handler(acting_user, case)
    if scope not in LINK_SCOPES:
        raise invalid({"scope": _("Choose savings, loans or health.")})
    note = clean_text(note, "note", max_len=200)
    consent = sel.live_consent(case, scope)
    if consent is None:
        raise Forbidden("consent_required",
                        _("The person has not given MTC her consent for this: ask her first."),
                        {"scope": _("No consent.")})
    holder = (Organisation.objects.filter(kind=sel.HOLDER_KIND[scope]).order_by("pk").first())
    if holder is None:
        raise NotFound("not_found", _("Not found."))
    with transaction.atomic():
        case = _lock(case, None)
        existing = CaseLink.objects.filter(case=case, scope=scope, consent=consent).first()
        if existing is not None:
            return existing
        link = CaseLink.objects.create(case=case, consent=consent, organisation=holder,
                                       scope=scope, note=note, created_by=acting_user)
        _bump(case, [])
        audit_log(actor=acting_user, event_type="movement.case_linked", subject=case,
                  unit=case.section, after={"scope": scope, "consent": consent.pk,
                                            "organisation": holder.pk})
    return link


# --- alerts -------------------------------------------------------------------------------------


def case_alert_acknowledge(*, acting_user, alert: CaseAlert) -> CaseAlert:
    """A case worker or administrator acknowledges an alert (once; again is a no-op)."""
    case = alert.case
    if not sel.can_handle_alerts(acting_user, case):
        raise Forbidden("forbidden", _("Your role does not allow this operation."))
    with transaction.atomic():
        alert = CaseAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by = timezone.now(), acting_user
            alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
            audit_log(actor=acting_user, event_type="movement.case_alert_acknowledged",
                      subject=case, unit=case.section, after={"alert": alert.kind})
    return alert


def cases_check_overdue(*, organisation: Organisation, today: date | None = None
                        ) -> dict[str, int]:
    """Raise FIRST_ACTION_OVERDUE and RESOLUTION_OVERDUE alerts for the movement's open cases
    whose deadline passed before `today`; once per case, kind and deadline (running it again
    raises nothing; a reopened case's new deadline is a new one). Called by close of business and `jigi movement_overdue`. Returns the counts of
    alerts raised."""
    day = today or _today()
    raised = {AlertKind.FIRST_ACTION_OVERDUE.value: 0, AlertKind.RESOLUTION_OVERDUE.value: 0}
    candidates = (Case.objects.filter(organisation=organisation).exclude(status="closed")
                  .filter(resolution_due__lt=day)
                  | Case.objects.filter(organisation=organisation, first_action_on__isnull=True,
                                        first_action_due__lt=day).exclude(status="closed"))
    rows = list(candidates.values_list("pk", "status", "first_action_due", "resolution_due",
                                       "first_action_on"))
    with transaction.atomic():
        existing = set(CaseAlert.objects.filter(case_id__in=[r[0] for r in rows])
                       .values_list("case_id", "kind", "due_on"))
        new = []
        for pk, status, first_due, resolution_due, first_on in rows:
            late = case_rules.overdue(status=status, today=day, first_action_due=first_due,
                                      resolution_due=resolution_due, first_action_on=first_on)
            for kind, is_late, due in [
                    (AlertKind.FIRST_ACTION_OVERDUE.value, late.first_action, first_due),
                    (AlertKind.RESOLUTION_OVERDUE.value, late.resolution, resolution_due)]:
                if is_late and (pk, kind, due) not in existing:
                    new.append(CaseAlert(case_id=pk, kind=kind, due_on=due))
                    raised[kind] += 1
        CaseAlert.objects.bulk_create(new, ignore_conflicts=True)
    return raised
