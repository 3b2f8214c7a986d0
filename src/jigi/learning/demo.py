"""Demo trainings: one step of `jigi demo` (jigi.demo.builder.STEPS, after the movement).

Deterministic for a seed (its own random stream, `ctx.rng("learning")`):

- programmes of the three organisations: Kondo's functional literacy in Bambara and financial
  education, UTM's health education, MTC's rights awareness, literacy for domestic workers and
  computer skills for young people;
- sessions over the last 18 months and the next three (completed, running, planned, a few
  cancelled) at caisses, mutuals and sections, scaled to the demo's size;
- enrolments of each unit's members with realistic sex shares (literacy classes mostly women,
  health education mostly mothers, rights awareness as the section is), attendance per meeting
  for the meetings already held, literacy levels before (from the registry) and after;
- who attended at least the programme's share of meetings of a completed session completed it
  and got a certificate, numbered gaplessly per organisation and year
  (ORG-CERT-YYYY-NNNNN, core.Counter continued so later certificates follow), the others
  dropped out.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from jigi.core.audit import audit_log
from jigi.demo.bulk import Counters, at, bulk_insert
from jigi.learning.attendance import certificate_eligible
from jigi.learning.models import Attendance, Enrolment, Programme, TrainingSession
from jigi.people.models import Person

if TYPE_CHECKING:
    from jigi.demo.builder import DemoContext
    from jigi.orgs.models import Organisation, Unit

CERTIFICATE_SCOPE = "learning-cert:{org}"  # learning.services.certificate_number
MIN_ATTENDANCE_PCT = 75
PAST_DAYS = 540
FUTURE_DAYS = 90


def certificate_number(org_code: str, year: int, n: int) -> str:
    return f"{org_code}-CERT-{year}-{n:05d}"


@dataclass(frozen=True)
class _Plan:
    """A programme and how its sessions run."""

    org: str  # KONDO, UTM, MTC
    code: str
    name: str
    kind: str
    description: str
    certificate: str
    tracks_literacy: bool
    meetings: int
    days_between: int  # between two meetings
    women_weight: float  # a woman is this many times likelier to enrol than a man
    per_members: int  # one session per this many members of the organisation
    where: str  # caisse, mutual, section code


PLANS = [
    _Plan("KONDO", "ALPHA", "Alphabétisation fonctionnelle en bambara", "literacy",
          "Lire, écrire et compter en bambara pour tenir son carnet d'épargne.",
          "Attestation d'alphabétisation", True, 24, 3, 4.0, 600, "caisse"),
    _Plan("KONDO", "EDUFIN", "Éducation financière", "financial_education",
          "Épargner, emprunter sans se surendetter, gérer un petit commerce.",
          "Attestation d'éducation financière", False, 6, 7, 1.5, 900, "caisse"),
    _Plan("UTM", "SANTE", "Éducation pour la santé", "health_education",
          "Paludisme, consultations prénatales, vaccination, nutrition des enfants.",
          "Attestation de participation", False, 4, 7, 3.0, 300, "mutual"),
    _Plan("MTC", "DROITS", "Connaître ses droits au travail", "rights",
          "Le décret 96-178, le SMIG, le repos, que faire en cas d'abus.",
          "Attestation de formation aux droits", False, 4, 7, 1.0, 40, "section"),
    _Plan("MTC", "ALPHA-AM", "Alphabétisation des aides ménagères", "literacy",
          "Cours du dimanche pour les aides ménagères de la section.",
          "Attestation d'alphabétisation", True, 20, 7, 1.0, 120, "S-DOM"),
    _Plan("MTC", "INFO-JEUNES", "Initiation à l'informatique", "computer",
          "Clavier, souris, traitement de texte, internet et téléphone.",
          "Attestation d'initiation à l'informatique", False, 12, 3, 1.0, 60, "S-JEU"),
]
LITERACY_START = {"none": 0, "basic": 1, "local": 2, "french": 3}
TRAINERS = ["Mme Coulibaly Awa", "M. Diarra Soumaïla", "Mme Traoré Kadiatou",
            "M. Sangaré Boubacar", "Mme Keïta Oumou", "M. Dembélé Lassana"]


class LearningDemo:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng: random.Random = ctx.rng("learning")
        self.today = ctx.today
        o = ctx.o
        self.orgs: dict[str, Organisation] = {"KONDO": o.kondo, "UTM": o.utm, "MTC": o.mtc}
        self.counts: dict[str, Any] = {}
        self.counters = Counters([CERTIFICATE_SCOPE.format(org=org.pk)
                                   for org in self.orgs.values()])
        # Members of each unit (person indexes), from the memberships step (and the movement's
        # minors, which it appended).
        self.members: dict[int, list[int]] = defaultdict(list)
        for code in ("KONDO", "UTM", "MTC"):
            for i, unit, _since in ctx.joined.get(code, []):
                self.members[unit.pk].append(i)

    def _units(self, plan: _Plan) -> list[Unit]:
        ctx = self.ctx
        if plan.where == "caisse":
            # Caisses with people: the most populated first (a small demo has few).
            return sorted(ctx.caisses, key=lambda u: -len(self.members[u.pk]))
        if plan.where == "mutual":
            return sorted(ctx.mutuals, key=lambda u: -len(self.members[u.pk]))
        if plan.where == "section":
            return sorted(ctx.sections, key=lambda u: -len(self.members[u.pk]))
        return [s for s in ctx.sections if s.code == plan.where]

    def build(self) -> None:
        rng, today, ctx = self.rng, self.today, self.ctx
        org_members = {code: len(ctx.joined.get(code, [])) for code in self.orgs}
        programme_ids = bulk_insert(Programme, [
            "organisation_id", "code", "name", "kind", "description", "min_attendance_pct",
            "certificate_title", "tracks_literacy", "active"], [
            (self.orgs[p.org].pk, p.code, p.name, p.kind, p.description, MIN_ATTENDANCE_PCT,
             p.certificate, p.tracks_literacy, True) for p in PLANS])
        sessions = []  # (plan, programme pk, unit, starts, ends, status)
        for plan, programme in zip(PLANS, programme_ids, strict=True):
            units = [u for u in self._units(plan) if self.members[u.pk]]
            if not units:
                continue
            count = max(3, org_members[plan.org] // plan.per_members)
            for k in range(count):
                # The busiest units run most sessions; every unit with members may get one.
                unit = units[k % len(units)] if k < len(units) and k % 3 else units[
                    min(len(units) - 1, int(rng.expovariate(0.3)))]
                starts = today + timedelta(days=rng.randint(-PAST_DAYS, FUTURE_DAYS))
                ends = starts + timedelta(days=(plan.meetings - 1) * plan.days_between)
                if ends < today:
                    status = "cancelled" if rng.random() < 0.05 else "completed"
                elif starts <= today:
                    status = "running"
                else:
                    status = "planned"
                sessions.append((plan, programme, unit, starts, ends, status))
        sessions.sort(key=lambda s: (s[3], s[1], s[2].pk))
        rows = []
        for plan, programme, unit, starts, ends, status in sessions:
            place = unit.name if plan.where != "caisse" else f"{unit.name}, salle de réunion"
            rows.append((programme, unit.pk, f"{plan.name} - {unit.name}", place, unit.urban,
                         rng.choice(TRAINERS), starts, ends, plan.meetings,
                         rng.choice([20, 25, 30]), "bm", status))
        session_ids = bulk_insert(TrainingSession, [
            "programme_id", "unit_id", "title", "place", "urban", "trainer", "starts_on",
            "ends_on", "meetings", "capacity", "language", "status"], rows)
        literacy_pks = {ctx.people[i].pk for plan, _p, unit, *_ in sessions
                        if plan.tracks_literacy for i in self.members[unit.pk]}
        literacy = dict(Person.objects.filter(pk__in=literacy_pks).values_list("pk",
                                                                               "literacy"))
        enrolments: list[list[Any]] = []
        for pk, row, (plan, _prog, unit, starts, _ends, status) in zip(
                session_ids, rows, sessions, strict=True):
            if status == "cancelled":
                continue
            capacity = row[9]
            pool = self.members[unit.pk]
            wanted = min(len(pool), round(capacity * rng.uniform(0.55, 1.0)))
            if status == "planned":
                wanted = round(wanted * rng.uniform(0.2, 0.8))

            def weight(i: int, plan: _Plan = plan) -> float:
                p = ctx.people[i]
                w = plan.women_weight if p.sex == "F" else 1.0
                if plan.code == "INFO-JEUNES" or plan.code == "ALPHA-AM":
                    return w
                return w * (1.5 if plan.tracks_literacy and p.age > 25 else 1.0)

            chosen = sorted(pool, key=lambda i: -rng.random() ** (1 / weight(i)))[:wanted]
            held = plan.meetings if status == "completed" else 0
            if status == "running":
                held = min(plan.meetings, (today - starts).days // plan.days_between + 1)
            for i in chosen:
                person = ctx.people[i]
                regular = rng.random() < 0.78
                rate = rng.uniform(0.8, 1.0) if regular else rng.uniform(0.2, 0.7)
                present = [rng.random() < rate for _ in range(held)]
                before = None
                if plan.tracks_literacy:
                    before = LITERACY_START.get(literacy.get(person.pk, "none"), 0)
                enrolments.append([pk, person.pk, "enrolled", before, None, None, None,
                                   plan, starts, _ends, present, status, person.sex])
        # Completion: who attended enough of a completed session's meetings gets her
        # certificate, numbered per organisation in the order of issue.
        finished = [e for e in enrolments if e[11] == "completed"]
        ends_of = {e[0]: e[9] for e in finished}
        completed_on = {pk: min(today, ends_of[pk] + timedelta(days=rng.randint(0, 7)))
                        for pk in sorted(ends_of)}
        finished.sort(key=lambda e: (completed_on[e[0]], e[0], e[1]))
        certificates = 0
        for e in finished:
            plan, present = e[7], e[10]
            # The rule session_complete applies; every participant completing gets her
            # certificate on the day the session is completed.
            if certificate_eligible(sum(present), plan.meetings, MIN_ATTENDANCE_PCT):
                e[2] = "completed"
                if plan.tracks_literacy:
                    e[4] = min(4, e[3] + self.rng.choice([0, 1, 1, 2]))
                org = self.orgs[plan.org]
                issued = completed_on[e[0]]
                n = self.counters.take(CERTIFICATE_SCOPE.format(org=org.pk), issued.year)
                e[5], e[6] = certificate_number(org.code, issued.year, n), issued
                certificates += 1
            else:
                e[2] = "dropped"
        ids = bulk_insert(Enrolment, ["session_id", "person_id", "status", "literacy_before",
                                      "literacy_after", "certificate_number",
                                      "certificate_issued_on", "enrolled_at"], [
            (e[0], e[1], e[2], e[3], e[4], e[5], e[6],
             at(min(today, e[8] - timedelta(days=7)), 10))
            for e in enrolments])
        bulk_insert(Attendance, ["enrolment_id", "meeting", "present"], [
            (pk, k, present) for pk, e in zip(ids, enrolments, strict=True)
            for k, present in enumerate(e[10], 1)])
        self.counts.update(
            programmes=len(programme_ids), sessions=len(session_ids), enrolments=len(ids),
            enrolled_women=sum(e[12] == "F" for e in enrolments),
            completed=sum(e[2] == "completed" for e in enrolments), certificates=certificates,
            attendance=sum(len(e[10]) for e in enrolments))

    def finish(self) -> None:
        self.counters.save()
        for org in self.orgs.values():
            audit_log(actor=None, event_type="learning.demo_loaded", subject=org,
                      after={"seed": self.ctx.seed, **self.counts}, organisation=org)


def learning_demo_build(ctx: DemoContext) -> dict[str, Any]:
    demo = LearningDemo(ctx)
    demo.build()
    demo.finish()
    return demo.counts


def step_learning(ctx: DemoContext) -> None:
    """Trainings of the three organisations: programmes, sessions, enrolments, attendance,
    literacy levels and certificates."""
    counts = learning_demo_build(ctx)
    ctx.counts["learning"] = counts
    ctx.log("learning: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
