"""Reads for the decent-work indicators and the gender and inclusion dashboard.

Set-based: the members' rows come in one statement (the profile, the person and the four group
records joined, `values_list`), the cases in one, the enrolments in one, the legal figures in
one; nothing is read per member. The calculations are in decent_work.py and gender.py.

Who sees what (orgs.scoping):
- decent-work indicators: MTC's staff only; an organiser her section's members, a case worker
  or the movement's administrator the whole movement. Anyone else gets a 404.
- gender dashboard: any organisation's staff; MTC's members and cases for MTC's staff (scoped
  as above), and the trainings of the units the user works for (a Kondo or UTM user sees her
  own organisation's trainings only, never MTC's members or cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from jigi.core.cleaning import invalid, today
from jigi.core.errors import NotFound
from jigi.learning.models import Enrolment, EnrolmentStatus, SessionStatus
from jigi.movement.decent_work import (
    AGE_BANDS,
    CONTRACT_STATUSES,
    INDICATOR_KEYS,
    DecentWork,
    Figure,
    LegalFigures,
    WorkRow,
    age_on,
    decent_work,
    last_months,
    month_start,
)
from jigi.movement.gender import CaseRow, Inclusion, TrainingRow, Who, inclusion
from jigi.movement.models import Case, CaseStatus, IndicatorSnapshot, LegalSetting, MemberProfile
from jigi.movement.selectors_cases import live_assignment
from jigi.movement.services._common import STAFF_ROLES
from jigi.orgs.models import MemberGroup, Organisation, OrgKind, Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import MembershipStatus

# LegalSetting names (movement/setup.py LEGAL_SETTINGS) -> LegalFigures fields.
LEGAL_NAMES = {"smig_month": "smig", "domestic_max_daily_hours": "max_daily_hours",
               "domestic_weekly_rest_half_days": "weekly_rest_half_days",
               "adult_age": "adult_age"}


@dataclass(frozen=True)
class MovementView:
    """What of the movement a user sees: its organisation, the sections, and whether she sees
    the whole movement (org-wide grant) or only some sections."""

    organisation: Organisation
    sections: tuple[Unit, ...]
    whole: bool

    @property
    def section_ids(self) -> set[int]:
        return {s.pk for s in self.sections}


@dataclass(frozen=True)
class Filters:
    section: Unit | None = None
    group: str | None = None


def _movement() -> Organisation | None:
    return Organisation.objects.filter(kind=OrgKind.MOVEMENT).order_by("pk").first()


def movement_view(user) -> MovementView | None:
    """The movement as the user may see it, or None when she is not MTC staff."""
    org = _movement()
    if org is None:
        return None
    scope = user_scope(user)
    if not scope.is_superuser and not any(
            g.role in STAFF_ROLES and g.organisation_id == org.pk for g in scope.grants):
        return None
    sections = tuple(Unit.objects.filter(organisation=org, kind=UnitKind.SECTION)
                     .filter(scope.unit_q(roles=STAFF_ROLES)).order_by("code"))
    whole = scope.is_superuser or org.pk in scope.org_wide_ids(roles=STAFF_ROLES)
    return MovementView(organisation=org, sections=sections, whole=whole)


def require_movement_view(user) -> MovementView:
    view = movement_view(user)
    if view is None:
        raise NotFound("not_found", _("Not found."))
    return view


def clean_filters(view: MovementView | None, *, section: Any = None, group: Any = None
                  ) -> Filters:
    """A section the user sees (404 otherwise: it tells nothing of what exists) and a group."""
    unit = None
    if section not in (None, ""):
        try:
            pk = int(section)
        except (TypeError, ValueError):
            raise invalid({"section": _("Choose a section from the list.")}) from None
        unit = next((s for s in (view.sections if view else ()) if s.pk == pk), None)
        if unit is None:
            raise NotFound("section_not_found", _("Section not found."))
    if group in ("", None):
        group = None
    elif group not in MemberGroup.values:
        raise invalid({"group": _("Choose a group from the list.")})
    return Filters(section=unit, group=group)


def legal_figures(on: date) -> LegalFigures:
    """The legal figures in force on `on` (one statement; the defaults of LegalFigures for a
    figure never set)."""
    values: dict[str, int] = {}
    for name, value in (LegalSetting.objects.filter(name__in=LEGAL_NAMES, valid_from__lte=on)
                        .order_by("name", "valid_from").values_list("name", "value")):
        values[LEGAL_NAMES[name]] = int(value)  # ordered by date: the latest wins
    return LegalFigures(**values)


def _profiles(view: MovementView, filters: Filters, *, active_on: date | None = None,
              since: date | None = None):
    qs = MemberProfile.objects.filter(section__organisation=view.organisation)
    if since is None:
        qs = qs.exclude(membership__status=MembershipStatus.ENDED)
    else:
        # Running at some time in the period: a member who left during it still counts.
        qs = qs.filter(Q(membership__end_date__gte=since)
                       | (Q(membership__end_date__isnull=True)
                          & ~Q(membership__status=MembershipStatus.ENDED)))
    if not view.whole:
        qs = qs.filter(section_id__in=view.section_ids)
    if filters.section is not None:
        qs = qs.filter(section=filters.section)
    if filters.group:
        qs = qs.filter(group=filters.group)
    if active_on is not None:
        qs = qs.filter(membership__start_date__lte=active_on)
    return qs


WORK_FIELDS = (
    "section_id", "group", "person__sex", "person__birth_date", "person__birth_year",
    "area_kind", "rural_origin",
    "teacher__id", "teacher__status", "teacher__monthly_pay", "teacher__pay_arrears",
    "domestic__id", "domestic__monthly_pay", "domestic__daily_hours",
    "domestic__weekly_rest_half_days", "domestic__written_contract", "domestic__declared",
    "artisan__id", "artisan__monthly_income", "youth__id", "youth__computer_access",
)


def work_rows(view: MovementView, filters: Filters, on: date, *,
              members_on: bool = False) -> list[WorkRow]:
    """One WorkRow per member the user sees (one statement): today's members, or with
    `members_on` those whose membership ran on `on` (joined by then, not ended before)."""
    profiles = (_profiles(view, filters, active_on=on, since=on) if members_on
                else _profiles(view, filters))
    rows = []
    for (section_id, group, sex, birth_date, birth_year, area, rural_origin,
         t_id, t_status, t_pay, t_arrears, d_id, d_pay, d_hours, d_rest, d_contract,
         d_declared, a_id, a_income, y_id, y_computer) in (
            profiles.values_list(*WORK_FIELDS).iterator(chunk_size=2000)):
        common = {"section_id": section_id, "group": group, "sex": sex,
                  "age": age_on(on, birth_date, birth_year), "area": area,
                  "rural_origin": rural_origin}
        if group == MemberGroup.TEACHERS and t_id is not None:
            row = WorkRow(**common, pay=t_pay, contract=t_status in CONTRACT_STATUSES,
                          pay_arrears=t_arrears)
        elif group == MemberGroup.DOMESTIC and d_id is not None:
            row = WorkRow(**common, pay=d_pay, contract=d_contract, daily_hours=d_hours,
                          rest_half_days=d_rest, declared=d_declared)
        elif group == MemberGroup.ARTISANS and a_id is not None:
            row = WorkRow(**common, pay=a_income)
        elif group == MemberGroup.YOUTH and y_id is not None:
            row = WorkRow(**common, computer_access=y_computer)
        else:
            row = WorkRow(**common, has_record=False)
        rows.append(row)
    return rows


def decent_work_now(user, *, section: Any = None, group: Any = None, on: date | None = None
                    ) -> tuple[DecentWork, MovementView, Filters]:
    """The indicators computed live from the records the user sees."""
    view = require_movement_view(user)
    filters = clean_filters(view, section=section, group=group)
    on = on or today()
    return decent_work(work_rows(view, filters, on), legal_figures(on)), view, filters


def movement_decent_work(organisation: Organisation, on: date) -> DecentWork:
    """The whole movement's indicators on `on` (for the monthly snapshot: no user scope), over
    the members of that day: a month kept late counts neither who joined after it nor leaves
    out who left since (their records are read as they stand now)."""
    view = MovementView(organisation=organisation, sections=(), whole=True)
    return decent_work(work_rows(view, Filters(), on, members_on=True), legal_figures(on))


# ---------------------------------------------------------------------------------------------
# Over time
# ---------------------------------------------------------------------------------------------


def _sum(figures: list[Figure]) -> Figure:
    out = Figure()
    for f in figures:
        out.numerator += f.numerator
        out.denominator += f.denominator
        out.amount += f.amount
    return out


def _figure_for(result: DecentWork, key: str, view: MovementView, filters: Filters) -> Figure:
    b = result.figures[key]
    if filters.section is not None:
        # The snapshot holds sections, not sections by group: a section of another group has
        # none of the group asked (as the live figures say).
        if filters.group and filters.section.member_group not in ("", None, filters.group):
            return Figure()
        return b.by["section"].get(str(filters.section.pk), Figure())
    if view.whole:
        return b.by["group"].get(filters.group, Figure()) if filters.group else b.total
    # An organiser: the sum of her sections (of the group asked, by the section's group).
    ids = [str(s.pk) for s in view.sections
           if not filters.group or s.member_group == filters.group]
    return _sum([b.by["section"][i] for i in ids if i in b.by["section"]])


# Months before this have no records to speak of (and no month before year 1 exists).
EARLIEST_MONTH = date(2000, 1, 1)


@dataclass(frozen=True)
class SeriesPoint:
    month: date
    figures: dict[str, Figure] | None  # None: no snapshot that month


def indicator_series(user, *, section: Any = None, group: Any = None, months: int = 12,
                     until: date | None = None) -> tuple[list[SeriesPoint], MovementView, Filters]:
    """The last `months` monthly snapshots (oldest first), read for the user's sections and
    the filters (the snapshots hold the breakdowns by section and by group)."""
    view = require_movement_view(user)
    filters = clean_filters(view, section=section, group=group)
    if until is not None and until < EARLIEST_MONTH:
        raise invalid({"until": _("Enter a month like 2026-05.")})
    wanted = last_months(month_start(until or today()), months)
    snaps = {s.month: s.data for s in IndicatorSnapshot.objects.filter(
        organisation=view.organisation, month__in=wanted).only("month", "data")}
    points = []
    for month in wanted:
        data = snaps.get(month)
        if data is None:
            points.append(SeriesPoint(month, None))
            continue
        result = DecentWork.from_data(data)
        points.append(SeriesPoint(month, {k: _figure_for(result, k, view, filters)
                                          for k in INDICATOR_KEYS}))
    return points, view, filters


# ---------------------------------------------------------------------------------------------
# Gender and inclusion
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def _area(urban: bool | None) -> str:
    return "" if urban is None else ("urban" if urban else "rural")


def gender_dashboard(user, *, period: Period, section: Any = None, group: Any = None
                     ) -> tuple[Inclusion, MovementView | None, Filters]:
    """The dashboard's tables for what the user may see: MTC's members and cases for MTC's
    staff, and the trainings of the units she works for. 404 for a user with no role."""
    scope = user_scope(user)
    if not scope.is_superuser and not scope.grants:
        raise NotFound("not_found", _("Not found."))
    view = movement_view(user)
    filters = clean_filters(view, section=section, group=group)
    on = min(period.end, today())  # ages on the period's last day, never a day to come
    members: list[Who] = []
    cases: list[CaseRow] = []
    if view is not None:
        for sex, bd, by, area, group_, origin in _profiles(
                view, filters, active_on=period.end, since=period.start).values_list(
                "person__sex", "person__birth_date", "person__birth_year", "area_kind",
                "group", "rural_origin").iterator(chunk_size=2000):
            members.append(Who(sex=sex, age=age_on(on, bd, by), area=area, group=group_,
                               rural_origin=origin))
        qs = Case.objects.filter(organisation=view.organisation,
                                 opened_on__range=(period.start, period.end))
        if not view.whole:
            qs = qs.filter(section_id__in=view.section_ids)
        if filters.section is not None:
            qs = qs.filter(section=filters.section)
        if filters.group:
            qs = qs.filter(Q(profile__group=filters.group)
                           | Q(profile__isnull=True, section__member_group=filters.group))
        # Counts only: never the summary, the employer or the person's name. The outcome of
        # a confidential case is one of its details (selectors_cases): it counts only for its
        # assigned workers; the others count the case and its status, as the list shows them
        # (a period of one day would otherwise tell what came of one case).
        qs = qs.annotate(_assigned=Exists(live_assignment(user)))
        for (sex, bd, by, area, group_, section_group, origin, category, urgency, status,
             outcome, wages, confidential, assigned) in qs.values_list(
                "person__sex", "person__birth_date", "person__birth_year",
                "profile__area_kind", "profile__group", "section__member_group",
                "profile__rural_origin", "category", "urgency", "status", "outcome",
                "wages_recovered", "confidential", "_assigned").iterator(chunk_size=2000):
            who = Who(sex=sex, age=age_on(on, bd, by), area=area or "",
                      group=group_ or section_group or "", rural_origin=bool(origin))
            details = assigned or not confidential
            cases.append(CaseRow(who=who, category=category, urgent=urgency == "urgent",
                                 closed=status == CaseStatus.CLOSED,
                                 outcome=outcome if details else "",
                                 wages_recovered=wages if details else 0))
    trainings = _training_rows(user, view, filters, period)
    orders = {"sex": ["F", "M"], "age_band": list(AGE_BANDS), "area": ["urban", "rural"],
              "group": list(MemberGroup.values)}
    return inclusion(members=members, cases=cases, trainings=trainings, orders=orders), \
        view, filters


def _training_rows(user, view: MovementView | None, filters: Filters, period: Period
                   ) -> list[TrainingRow]:
    scope = user_scope(user)
    qs = (Enrolment.objects.filter(scope.unit_q("session__unit__"))
          .exclude(session__status=SessionStatus.CANCELLED)
          .filter(session__starts_on__range=(period.start, period.end)))
    if filters.section is not None:
        qs = qs.filter(session__unit__path__startswith=filters.section.path)
    fields = ["person__sex", "person__birth_date", "person__birth_year", "session__urban",
              "status", "certificate_number", "literacy_before", "literacy_after"]
    if view is not None:
        # MTC's staff see the MTC group and origin of the trainees who are members (one
        # subquery in the same statement); anyone else sees none of MTC's data.
        profile = MemberProfile.objects.filter(
            person=OuterRef("person"), section__organisation=view.organisation)
        qs = qs.annotate(m_group=Subquery(profile.values("group")[:1]),
                         m_origin=Subquery(profile.values("rural_origin")[:1]))
        if filters.group:
            qs = qs.filter(m_group=filters.group)
        fields += ["m_group", "m_origin"]
    elif filters.group:
        return []
    rows = []
    for values in qs.values_list(*fields).iterator(chunk_size=2000):
        sex, bd, by, urban, status, certificate, before, after = values[:8]
        group_, origin = (values[8], values[9]) if view is not None else ("", False)
        who = Who(sex=sex, age=age_on(min(period.end, today()), bd, by), area=_area(urban),
                  group=group_ or "", rural_origin=bool(origin))
        rows.append(TrainingRow(who=who, completed=status == EnrolmentStatus.COMPLETED,
                                certificate=bool(certificate), literacy_before=before,
                                literacy_after=after))
    return rows
