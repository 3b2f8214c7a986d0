"""Reads of the trainings, always through the user's scope.

Programmes are seen by every staff member of their organisation; sessions (and their
enrolments, attendance and certificates) by staff whose scope covers the session's unit, or
org-wide staff of its organisation. Anything else is a 404.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from jigi.core.errors import NotFound
from jigi.core.lookup import one_in
from jigi.learning.attendance import (
    AGE_BANDS,
    UNKNOWN_AGE,
    LiteracySummary,
    age_band,
    attendance_pct,
    certificate_eligible,
    literacy_summary,
)
from jigi.learning.certificates import CertificateText
from jigi.learning.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    Programme,
    SessionStatus,
    TrainingSession,
)
from jigi.learning.services import MANAGER_ROLES
from jigi.orgs.models import Unit
from jigi.orgs.scoping import user_scope
from jigi.people.selectors import age_on
from jigi.web.formatting import format_day


def programmes_for_user(user) -> QuerySet[Programme]:
    scope = user_scope(user)
    qs = Programme.objects.select_related("organisation").order_by("organisation__code", "code")
    if scope.is_superuser:
        return qs
    return qs.filter(organisation_id__in=scope.organisation_ids)


def get_programme_for_user(user, pk: Any) -> Programme:
    return one_in(programmes_for_user(user), pk, code="programme_not_found",
                  message=_("Programme not found."))


def sessions_for_user(user) -> QuerySet[TrainingSession]:
    scope = user_scope(user)
    return (TrainingSession.objects.filter(scope.unit_q("unit__"))
            .select_related("programme", "programme__organisation", "unit")
            .order_by("-starts_on", "-pk"))


def get_session_for_user(user, pk: Any) -> TrainingSession:
    return one_in(sessions_for_user(user), pk, code="session_not_found",
                  message=_("Session not found."))


def get_enrolment_for_user(user, pk: Any) -> Enrolment:
    visible = (Enrolment.objects.filter(user_scope(user).unit_q("session__unit__"))
               .select_related("session", "session__programme",
                               "session__programme__organisation", "session__unit", "person"))
    return one_in(visible, pk, code="enrolment_not_found", message=_("Participant not found."))


def get_certificate_for_user(user, number: str) -> Enrolment:
    """A certificate by its number, for verification by staff of the issuing unit's scope."""
    scope = user_scope(user)
    number = (number or "").strip().upper()[:32]
    if not all(c.isascii() and (c.isalnum() or c == "-") for c in number):
        number = ""  # not a certificate number (and PostgreSQL refuses NUL in a query)
    enrolment = (Enrolment.objects.filter(scope.unit_q("session__unit__"),
                                          certificate_number=number)
                 .select_related("session", "session__programme",
                                 "session__programme__organisation", "session__unit", "person")
                 .first()) if number else None
    if enrolment is None:
        raise NotFound("certificate_not_found", _("Certificate not found."))
    return enrolment


def units_to_run(user, organisation_id: int | None = None) -> QuerySet[Unit]:
    """Units where the user may run trainings (caisses, mutuals, sections and the units
    above them), for the session form."""
    scope = user_scope(user)
    qs = Unit.objects.filter(scope.unit_q(write=True, roles=MANAGER_ROLES), is_active=True)
    if organisation_id is not None:
        qs = qs.filter(organisation_id=organisation_id)
    return qs.select_related("organisation").order_by("organisation__code", "path", "code")


# --- the roll ---------------------------------------------------------------------------------


@dataclass
class RollRow:
    enrolment: Enrolment
    marks: dict[int, bool]  # meeting -> present (absent when recorded False; missing: not taken)
    attended: int
    pct: Decimal
    eligible: bool


def session_roll(session: TrainingSession) -> list[RollRow]:
    """Every participant with her marks per meeting, attendance rate and whether she would
    earn the certificate now."""
    enrolments = list(session.enrolments.select_related("person").order_by(
        "person__last_name", "person__first_name", "pk"))
    marks: dict[int, dict[int, bool]] = defaultdict(dict)
    for e_id, meeting, present in Attendance.objects.filter(
            enrolment__session=session).values_list("enrolment_id", "meeting", "present"):
        if meeting <= session.meetings:
            marks[e_id][meeting] = present
    rows = []
    for e in enrolments:
        attended = sum(1 for p in marks[e.pk].values() if p)
        rows.append(RollRow(
            enrolment=e, marks=marks[e.pk], attended=attended,
            pct=attendance_pct(attended, session.meetings),
            eligible=certificate_eligible(attended, session.meetings,
                                          session.programme.min_attendance_pct)))
    return rows


def session_counts(session: TrainingSession) -> dict[str, int]:
    counts = dict(session.enrolments.values("status").annotate(n=Count("pk"))
                  .values_list("status", "n"))
    live = counts.get(EnrolmentStatus.ENROLLED, 0) + counts.get(EnrolmentStatus.COMPLETED, 0)
    return {"enrolled": live, "completed": counts.get(EnrolmentStatus.COMPLETED, 0),
            "dropped": counts.get(EnrolmentStatus.DROPPED, 0),
            "free": max(0, session.capacity - live)}


# --- reports ----------------------------------------------------------------------------------


@dataclass
class Breakdown:
    enrolled: int = 0
    completed: int = 0
    certificates: int = 0


@dataclass
class ProgrammeReport:
    programme: Programme
    sessions: int = 0
    sessions_completed: int = 0
    enrolled: int = 0
    completed: int = 0
    certificates: int = 0
    by_sex: dict[str, Breakdown] = field(default_factory=dict)
    by_age: dict[str, Breakdown] = field(default_factory=dict)
    literacy: LiteracySummary | None = None


SEXES = ("F", "M")


def learning_report(user, *, start: date, end: date, programme: Programme | None = None
                    ) -> list[ProgrammeReport]:
    """Per programme, sessions whose first day falls in [start, end] in the user's scope
    (cancelled ones excluded): sessions, enrolled (not dropped before completion counted as
    enrolled: every enrolment), completed, certificates, by sex and by age band (age on the
    session's first day), and literacy gains of the programmes that record them."""
    sessions = sessions_for_user(user).filter(starts_on__gte=start, starts_on__lte=end).exclude(
        status=SessionStatus.CANCELLED)
    if programme is not None:
        sessions = sessions.filter(programme=programme)
    reports: dict[int, ProgrammeReport] = {}
    for s in sessions:
        r = reports.setdefault(s.programme_id, ProgrammeReport(
            programme=s.programme,
            by_sex={k: Breakdown() for k in SEXES},
            by_age={label: Breakdown() for label, _lo, _hi in AGE_BANDS} | {
                UNKNOWN_AGE: Breakdown()}))
        r.sessions += 1
        if s.status == SessionStatus.COMPLETED:
            r.sessions_completed += 1
    pairs: dict[int, list[tuple[int | None, int | None]]] = defaultdict(list)
    for e in (Enrolment.objects.filter(session__in=sessions)
              .select_related("person", "session").order_by("pk")):
        r = reports[e.session.programme_id]
        completed = e.status == EnrolmentStatus.COMPLETED
        certified = bool(e.certificate_number)
        sex = r.by_sex.setdefault(e.person.sex, Breakdown())
        band = r.by_age[age_band(age_on(e.person, e.session.starts_on))]
        for b in (sex, band):
            b.enrolled += 1
            b.completed += completed
            b.certificates += certified
        r.enrolled += 1
        r.completed += completed
        r.certificates += certified
        if r.programme.tracks_literacy:
            pairs[r.programme.pk].append((e.literacy_before, e.literacy_after))
    for pk, r in reports.items():
        if r.programme.tracks_literacy:
            r.literacy = literacy_summary(pairs[pk])
    return sorted(reports.values(), key=lambda r: (r.programme.organisation.code,
                                                   r.programme.code))


def learning_report_csv(reports: list[ProgrammeReport], *, start: date, end: date) -> str:
    """One line per programme and group (all, each sex, each age band); literacy columns on
    the "all" line of programmes that record literacy."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["organisation", "programme", "kind", "start", "end", "group", "sessions",
                "enrolled", "completed", "certificates", "literacy_assessed",
                "literacy_improved", "literacy_mean_before", "literacy_mean_after",
                "literacy_mean_gain"])
    for r in reports:
        p = r.programme
        lit = r.literacy
        lit_cols = ([lit.assessed, lit.improved, lit.mean_before or "", lit.mean_after or "",
                     lit.mean_gain or ""] if lit else ["", "", "", "", ""])
        base = [p.organisation.code, p.code, p.kind, start.isoformat(), end.isoformat()]
        w.writerow(base + ["all", r.sessions, r.enrolled, r.completed, r.certificates]
                   + lit_cols)
        groups = [(f"sex:{k}", b) for k, b in r.by_sex.items()] + [
            (f"age:{k}", b) for k, b in r.by_age.items()]
        for name, b in groups:
            w.writerow(base + [name, "", b.enrolled, b.completed, b.certificates,
                               "", "", "", "", ""])
    return out.getvalue()


def sessions_filter(qs: QuerySet[TrainingSession], *, status: str | None = None,
                    programme_id: int | None = None) -> QuerySet[TrainingSession]:
    q = Q()
    if status in SessionStatus.values:
        q &= Q(status=status)
    if programme_id:
        q &= Q(programme_id=programme_id)
    return qs.filter(q)


def certificate_text(enrolment: Enrolment) -> CertificateText:
    """The certificate's words in the current language, dates formatted with Babel."""
    if not enrolment.certificate_number or enrolment.certificate_issued_on is None:
        raise NotFound("certificate_not_found", _("Certificate not found."))
    s = enrolment.session
    p = s.programme
    lang = get_language()
    issued = format_day(enrolment.certificate_issued_on, lang, "long")
    return CertificateText(
        heading=str(_("Certificate")),
        organisation=p.organisation.name,
        awarded_to=str(_("awarded to")),
        name=enrolment.person.full_name,
        for_completing=str(_("for completing the training")),
        programme=p.certificate_title or p.name,
        details=str(_("%(place)s, from %(start)s to %(end)s, %(n)d meetings, trainer "
                      "%(trainer)s")) % {
            "place": s.place, "start": format_day(s.starts_on, lang, "long"),
            "end": format_day(s.ends_on, lang, "long"), "n": s.meetings, "trainer": s.trainer},
        unit=s.unit.name,
        number_line=str(_("No. %(number)s, issued on %(day)s")) % {
            "number": enrolment.certificate_number, "day": issued},
        verification=str(_("Verification: ask %(org)s, or look up %(number)s in Jigi "
                           "(Trainings, /api/v1/learning/certificates/%(number)s).")) % {
            "org": p.organisation.name, "number": enrolment.certificate_number},
        signature=str(_("For %(org)s: ______________________")) % {"org": p.organisation.name},
        issued_on=enrolment.certificate_issued_on,
    )
