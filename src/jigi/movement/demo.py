"""Demo MTC data: one step of `jigi demo` (jigi.demo.builder.STEPS, after health).

What it builds, deterministically for a seed (its own random stream, `ctx.rng("movement")`):

- the movement's settings (movement.setup: dues rates, case deadlines, legal figures);
- minor domestic workers: the registry of the other steps holds adults only, so girls (and a
  few boys) aged 12-17 are added as persons with an S-DOM membership numbered after the
  others (the MTC counter continues), about 40 % of the domestic workers, three quarters of
  them under 15 (DOMAIN.md §4: ~30 % of Bamako's domestic workers are under 15);
- a MemberProfile and the record of her group for every MTC member: domestic workers mostly
  women from the countryside, paid 5,000-20,000 F, 10-16 hours a day, most without rest day
  or contract, few declared; teachers mostly in community schools on the 25,000 F subsidy,
  some on local contracts, many owed months of pay; artisans by trade with apprentices; young
  people by schooling, mostly without a computer;
- dues: monthly charges from the member's start (at most 24 months of history), one 411/756
  entry per section and month; irregular payments (some up to date, some in grace, many in
  arrears), each with a gapless receipt and its entry (57 or 53 / 411) allocated oldest charge
  first; a few approved waivers (658/411), some still requested or rejected; the profile's
  standing, arrears and owing_since from the open charges;
- rights cases (about one per 25 members, most among domestic workers and minors): gapless
  numbers MTC-YYYY-NNNNNN, deadlines from CaseDeadline, urgency for minors in violence, child
  labour or harassment cases, assignments to the case workers, timelines, outcomes (resolved,
  wages recovered, referred, no result), open and overdue ones with their CaseAlert rows;
- the half-day-of-rest campaign with its partners (UTM on Jigi, unions, an NGO, the labour
  administration), milestones, actions with women and men counted, and a petition signed by a
  few hundred people of Bamako's communes and the regions (confirmed by SMS code: only an HMAC
  of a random code is kept);
- last month's and this month's decent-work indicators (IndicatorSnapshot).

Rows are written in bulk (jigi.demo.bulk) with the numbers and balances the services would
compute; the counters continue after them (receipts, cases, member numbers, journal entries).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max

from jigi.core.audit import audit_log
from jigi.demo.bulk import BulkLedger, Counters, at, bulk_insert
from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.movement import case_rules, petition_codes
from jigi.movement import standing as rules
from jigi.movement.decent_work import month_end, month_start
from jigi.movement.models import (
    ArtisanRecord,
    Campaign,
    CampaignAction,
    Case,
    CaseAction,
    CaseAlert,
    CaseAssignment,
    CaseDeadline,
    DomesticWorkerRecord,
    DuesAllocation,
    DuesCharge,
    DuesPayment,
    DuesRate,
    DuesWaiver,
    IndicatorSnapshot,
    MemberProfile,
    Milestone,
    Partner,
    Petition,
    Signature,
    TeacherRecord,
    YouthRecord,
)
from jigi.movement.selectors_indicators import movement_decent_work
from jigi.movement.setup import legal_value, movement_setup
from jigi.people.models import Membership, Person
from jigi.people.names import name_key, search_name

if TYPE_CHECKING:
    from jigi.demo.builder import DemoContext

HISTORY_MONTHS = 24  # dues history kept short: 24 charges a member at most
MINOR_SHARE = 0.40  # of the domestic workers; 3/4 of them under 15 -> ~30 % under 15
CASE_EVERY = 25  # about one case per 25 members

# Numbering: the services' counter scopes and formats (services/dues.py _receipt_number,
# services/cases.py case_open), so the next real receipt or case continues the sequence.
RECEIPT_SCOPE = "movement-receipt:{org}"
CASE_SCOPE = "movement.case.{org}"


def receipt_number(org_code: str, year: int, n: int) -> str:
    return f"{org_code}-{year}-{n:06d}"


def case_number(org_code: str, year: int, n: int) -> str:
    return f"{org_code}-{year}-{n:06d}"


# --- realistic distributions ------------------------------------------------------------------

RURAL_CERCLES = ["Ségou", "San", "Bla", "Macina", "Mopti", "Djenné", "Bandiagara", "Koutiala",
                 "Bougouni", "Sikasso", "Dioïla", "Kolokani", "Banamba", "Nara", "Tominian"]
TRADES_M = ["Tisserand", "Forgeron", "Cordonnier", "Tailleur", "Menuisier", "Bijoutier",
            "Mécanicien", "Maçon", "Sculpteur"]
TRADES_F = ["Couturière", "Potière", "Teinturière", "Vannière", "Coiffeuse", "Savonnière",
            "Tisserande"]
YOUTH_SKILLS = ["Couture", "Mécanique moto", "Électricité", "Soudure", "Commerce",
                "Informatique de base", "Coiffure", "Maçonnerie", "Cuisine", "Agriculture",
                "Réparation de téléphones", "Menuiserie"]

CATEGORIES = {
    "minor": {"child_labour": 40, "violence": 18, "unpaid_wages": 15, "no_rest_day": 10,
              "sexual_harassment": 9, "dismissal": 8},
    "domestic": {"unpaid_wages": 26, "no_rest_day": 20, "dismissal": 20, "excessive_hours": 9,
                 "violence": 8, "below_smig": 7, "no_contract": 5, "sexual_harassment": 5},
    "teachers": {"unpaid_wages": 50, "below_smig": 20, "no_contract": 20, "dismissal": 10},
    "artisans": {"unpaid_wages": 40, "no_contract": 30, "dismissal": 20, "violence": 10},
    "youth": {"dismissal": 30, "unpaid_wages": 30, "no_contract": 25, "sexual_harassment": 15},
}
MONEY = {"unpaid_wages", "dismissal", "below_smig"}
SUMMARIES = {
    "unpaid_wages": "{months} mois de salaire non payés par l'employeur.",
    "dismissal": "Renvoyée sans préavis ni paiement du dernier mois.",
    "violence": "Coups et insultes au domicile de l'employeur.",
    "child_labour": "Enfant de {age} ans employée comme aide ménagère, sans école.",
    "no_contract": "Travaille depuis des années sans contrat écrit.",
    "no_rest_day": "Aucun jour de repos depuis son arrivée chez l'employeur.",
    "excessive_hours": "Travaille de 5 h à 22 h tous les jours.",
    "below_smig": "Payée bien en dessous du SMIG pour un temps plein.",
    "sexual_harassment": "Harcèlement par un membre de la famille de l'employeur.",
}


@dataclass(slots=True)
class _Member:
    person: int  # person pk
    membership: int
    number: str  # membership number (the sub-ledger of her payments and waivers)
    section: int  # section pk
    group: str
    since: date
    sex: str
    age: int
    minor: bool
    first_name: str
    last_name: str
    quarter: str  # where she lives and works (a quarter of Bamako)
    commune: str
    pay: int = 0
    profile: int = 0
    # [period_start, period_end, amount, paid, waived, accrual key (section, run day)]
    charges: list[list[Any]] = field(default_factory=list)
    standing: str = "new"
    arrears: int = 0
    owing_since: date | None = None


class MovementDemo:
    """The movement step's state while it builds (one instance per `jigi demo`)."""

    def __init__(self, ctx: DemoContext) -> None:
        from jigi.demo.builder import BAMAKO_QUARTERS, _data

        self.ctx = ctx
        self.rng = ctx.rng("movement")
        self.today = ctx.today
        self.mtc = ctx.o.mtc
        self.quarters = BAMAKO_QUARTERS
        names = _data("mali_names.csv")
        self.family = [r["name"] for r in names if r["kind"] == "family"]
        self.first = {"F": [r["name"] for r in names if r["kind"] == "female"],
                      "M": [r["name"] for r in names if r["kind"] == "male"]}
        self.counts: dict[str, Any] = {}
        self.ledger = BulkLedger(self.mtc.pk)
        self.book = Book.objects.get(unit=ctx.o.movement).pk
        self.counters = Counters([RECEIPT_SCOPE.format(org=self.mtc.pk),
                                   CASE_SCOPE.format(org=self.mtc.pk)])
        self.members: list[_Member] = []
        self.section_of = {s.member_group: s for s in ctx.sections}

    # --- set-up -------------------------------------------------------------------------------

    def setup(self) -> None:
        movement_setup(self.mtc)
        User = get_user_model()
        users = {u.username: u for u in User.objects.filter(username__in=[
            "animatrice", "travailleur_social", "travailleur_social2", "mtc_admin", "admin"])}
        admin = users.get("admin")
        self.admin = users.get("mtc_admin") or admin
        self.organiser = users.get("animatrice") or self.admin
        self.workers = [u for u in (users.get("travailleur_social"),
                                    users.get("travailleur_social2")) if u] or [self.admin]
        self.rates = {r.group: r for r in DuesRate.objects.filter(organisation=self.mtc)
                      .order_by("valid_from")}
        self.deadlines = {d.category: (d.first_action_days, d.resolution_days)
                          for d in CaseDeadline.objects.filter(organisation=self.mtc)}
        self.adult_age = legal_value("adult_age", self.today)

    # --- members ------------------------------------------------------------------------------

    def _quarter(self) -> tuple[str, str]:
        commune = self.rng.choice(list(self.quarters))
        return commune, self.rng.choice(self.quarters[commune])

    def adults(self) -> None:
        ctx = self.ctx
        by_person = {p: (pk, n, u, d) for p, pk, n, u, d in Membership.objects.filter(
            organisation=self.mtc).values_list("person_id", "pk", "number", "unit_id",
                                               "start_date")}
        group_of = {s.pk: s.member_group for s in ctx.sections}
        places = dict(Person.objects.filter(pk__in=list(by_person)).values_list(
            "pk", "village"))
        for i, _unit, _since in ctx.joined["MTC"]:
            p = ctx.people[i]
            pk, number, unit, since = by_person[p.pk]
            commune = ctx.caisses[p.caisse].cercle
            self.members.append(_Member(
                person=p.pk, membership=pk, number=number, section=unit, group=group_of[unit], since=since,
                sex=p.sex, age=p.age, minor=False, first_name=p.first_name,
                last_name=p.last_name, quarter=places.get(p.pk) or commune, commune=commune))

    def minors(self) -> None:
        """Girls (and a few boys) aged 12-17 working in Bamako's households: new persons of
        the registry with an S-DOM membership numbered after the demo's others."""
        from jigi.demo.builder import DemoPerson

        ctx, rng = self.ctx, self.rng
        section = self.section_of["domestic"]
        adults = sum(m.group == "domestic" for m in self.members)
        count = max(3, round(adults * MINOR_SHARE / (1 - MINOR_SHARE)))
        caisse = next(k for k, c in enumerate(ctx.caisses) if c.region == "Bamako")
        planned = []
        for _ in range(count):
            sex = "F" if rng.random() < 0.9 else "M"
            age = rng.choice([12, 13, 14]) if rng.random() < 0.75 else rng.choice([15, 16, 17])
            birth = self.today - timedelta(days=age * 365 + age // 4 + 1 + rng.randrange(360))
            known = rng.random() < 0.3  # most girls from the villages have no birth paper
            commune, quarter = self._quarter()
            first, last = rng.choice(self.first[sex]), rng.choice(self.family)
            roll = rng.random()
            literacy = "none" if roll < 0.7 else "basic" if roll < 0.9 else "local"
            joined = self.today - timedelta(days=rng.randrange(min(700, (age - 11) * 365)))
            planned.append((sex, age, birth, known, commune, quarter, first, last, literacy,
                            joined))
        planned.sort(key=lambda r: r[9])  # member numbers follow seniority
        ids = bulk_insert(Person, [
            "first_name", "last_name", "sex", "birth_date", "birth_year", "birth_year_estimated",
            "phone", "nina", "village", "commune", "cercle", "region", "literacy", "language",
            "search_name", "name_key",
        ], [(first, last, sex, birth if known else None,
             birth.year if known else self.today.year - age, not known, "", None, quarter,
             commune, commune, "Bamako", literacy, "bm", search_name(first, last),
             name_key(first, last))
            for sex, age, birth, known, commune, quarter, first, last, literacy, _j in planned])
        from jigi.core.models import Counter

        counter = Counter.objects.get(scope=f"member:{self.mtc.pk}", year=0)
        start = counter.value
        m_ids = bulk_insert(Membership, ["person_id", "organisation_id", "unit_id", "number",
                                         "status", "start_date"],
                            [(pk, self.mtc.pk, section.pk, f"{section.code}-{start + n:06d}",
                              "active", r[9]) for n, (pk, r) in enumerate(zip(ids, planned,
                                                                              strict=True), 1)])
        counter.value = start + len(ids)
        counter.save(update_fields=["value"])
        for n, (pk, m_pk, r) in enumerate(zip(ids, m_ids, planned, strict=True), 1):
            sex, age, _b, _k, commune, quarter, first, last, _l, joined = r
            # The other steps see them too (learning enrols them in the section's trainings).
            ctx.people.append(DemoPerson(caisse=caisse, sex=sex, age=age, first_name=first,
                                         last_name=last, village=quarter, pk=pk))
            ctx.joined["MTC"].append((len(ctx.people) - 1, section, joined))
            self.members.append(_Member(
                person=pk, membership=m_pk, number=f"{section.code}-{start + n:06d}",
                section=section.pk, group="domestic", since=joined,
                sex=sex, age=age, minor=True, first_name=first, last_name=last, quarter=quarter,
                commune=commune))
        ctx.counts["members_mtc"] = ctx.counts.get("members_mtc", 0) + len(ids)
        self.counts["minors"] = len(ids)
        self.counts["under_15"] = sum(r[1] < 15 for r in planned)

    def _domestic(self, m: _Member) -> tuple:
        rng = self.rng
        if m.minor:
            pay = rng.randrange(5_000, 12_501, 500)
            hours = rng.choice([12, 13, 14, 14, 15, 16])
        else:
            pay = rng.randrange(5_000, 20_001, 500) if rng.random() < 0.88 \
                else rng.randrange(25_000, 40_001, 2_500)
            hours = rng.choices([8, 10, 11, 12, 13, 14, 15, 16],
                                weights=[3, 8, 8, 22, 20, 20, 11, 8])[0]
        m.pay = pay
        rest = 0 if rng.random() < 0.74 else rng.choice([1, 2, 2, 2, 4])
        contract = not m.minor and rng.random() < 0.08
        declared = contract and rng.random() < 0.4
        live_in = rng.random() < (0.9 if m.minor else 0.65)
        years_before = rng.randrange(30, max(31, (m.age - 11) * 365)) if m.minor \
            else rng.randrange(0, 6 * 365)
        employer = f"Famille {rng.choice(self.family)}"
        phone = f"+223{rng.choice([76, 66, 75, 65, 79, 70])}{rng.randrange(10**6):06d}" \
            if rng.random() < 0.5 else ""
        return (employer, phone, f"{m.commune}, {m.quarter}",
                m.since - timedelta(days=years_before), live_in, pay, hours, rest, contract,
                declared)

    def _teacher(self, m: _Member) -> tuple:
        rng = self.rng
        status = rng.choices(["community", "local_contract", "volunteer", "state_contract"],
                             weights=[55, 25, 10, 10])[0]
        commune, quarter = self._quarter()
        if status == "community":
            # Most get only the State's 25,000 F subsidy; some schools add a little or less.
            pay = 25_000 if rng.random() < 0.6 else rng.randrange(15_000, 35_001, 2_500)
            paid_by = "state" if pay == 25_000 else "community"
            school = f"École communautaire de {quarter}"
        elif status == "local_contract":
            pay, paid_by = rng.randrange(40_000, 65_001, 2_500), "local_authority"
            school = f"École fondamentale de {quarter}"
        elif status == "volunteer":
            pay = rng.choice([0, 0, 5_000, 10_000])
            paid_by = "nobody" if pay == 0 else "community"
            school = f"École communautaire de {quarter}"
        else:
            pay, paid_by = rng.randrange(75_000, 110_001, 5_000), "state"
            school = f"École publique de {quarter}"
        m.pay = pay
        months = rng.choice([1, 2, 3, 4, 6, 8]) if pay and rng.random() < 0.45 else 0
        return (school, f"{commune}, {quarter}", status, pay, paid_by, pay * months, months)

    def _artisan(self, m: _Member) -> tuple:
        rng = self.rng
        trade = rng.choice(TRADES_F if m.sex == "F" else TRADES_M)
        apprentices = rng.choices([0, 1, 2, 3, 4, 6], weights=[35, 25, 20, 10, 7, 3])[0]
        income = rng.randrange(15_000, 90_001, 2_500)
        m.pay = income
        workshop = rng.choice([f"Atelier {m.last_name}", f"Marché de {m.quarter}",
                               "Maison des artisans", f"Atelier de {m.quarter}"])
        return (trade, workshop, f"{m.commune}, {m.quarter}", apprentices, income)

    def _youth(self, m: _Member) -> tuple:
        rng = self.rng
        schooling = rng.choices(["none", "primary", "secondary", "vocational", "higher"],
                                weights=[20, 30, 30, 12, 8])[0]
        in_school = schooling in ("secondary", "higher", "vocational") and rng.random() < 0.3
        skills = ", ".join(rng.sample(YOUTH_SKILLS, rng.choice([0, 1, 1, 2])))
        access = rng.choices(["none", "shared", "own"], weights=[65, 25, 10])[0]
        return (schooling, in_school, skills, access, not in_school and rng.random() < 0.75)

    # --- dues ---------------------------------------------------------------------------------

    def dues(self) -> None:
        """Charges, payments and waivers in memory, their entries added to the ledger."""
        rng, today = self.rng, self.today
        self.payments: list[list[Any]] = []  # [member, day, amount, channel, charges, receipt]
        self.waivers: list[tuple[Any, ...]] = []
        # Charges of a section are posted by a monthly run: one 411/756 entry per section and
        # month, dated the day of the month's last period start (services/dues.py posts one
        # entry per section and run, dated the run's day).
        runs: dict[tuple[int, date], date] = {}
        for m in self.members:
            rate = self.rates[m.group]
            # Monthly periods anchored on her start date (standing.periods, as dues_accrue),
            # only the last HISTORY_MONTHS of them.
            anchor = max(m.since, rate.valid_from)
            for start, end in rules.periods(anchor, 1, today)[-HISTORY_MONTHS:]:
                month = start.replace(day=1)
                runs[(m.section, month)] = max(runs.get((m.section, month), start), start)
                m.charges.append([start, end, rate.amount, 0, 0, (m.section, month)])
        accrued: dict[tuple[int, date], int] = defaultdict(int)
        for m in self.members:
            for c in m.charges:
                c[5] = (c[5][0], runs[c[5]])
                accrued[c[5]] += c[2]
        for m in self.members:
            n = len(m.charges)
            roll = rng.random()
            if roll < 0.35:
                paid_months = n if today.day >= 10 or rng.random() < 0.5 else n - 1
            elif roll < 0.58:
                paid_months = n - rng.randint(1, 3)
            else:
                paid_months = rng.randint(0, max(0, n - 4))
            if m.minor and rng.random() < 0.5:
                paid_months = min(paid_months, rng.randint(0, 2))
            paid_months = max(0, paid_months)
            k, last_day = 0, None
            while k < paid_months:
                size = min(paid_months - k, rng.choice([1, 1, 1, 2, 3, 3, 6, 12]))
                chunk = m.charges[k:k + size]
                # Paid in the month of its last charge, or some weeks late, never before the
                # charge was posted (its section's run day, no later than today).
                day = chunk[-1][0] + timedelta(days=rng.randrange(45))
                day = min(max(day, last_day or day, chunk[-1][5][1]), today)
                amount = sum(c[2] for c in chunk)
                for c in chunk:
                    c[3] = c[2]
                channel = "mobile_money" if rng.random() < 0.3 else "cash"
                self.payments.append([m, day, amount, channel, chunk, ""])
                last_day = day
                k += size
            open_charges = [c for c in m.charges if c[2] - c[3] - c[4] > 0]
            if len(open_charges) >= 4 and rng.random() < (0.35 if m.minor else 0.06):
                waived = open_charges[: rng.randint(1, len(open_charges) - 1)]
                day = min(today, max(waived[-1][0] + timedelta(days=rng.randrange(20, 120)),
                                     waived[-1][5][1]))
                for c in waived:
                    c[4] = c[2] - c[3]
                reason = (("Mineure" if m.sex == "F" else "Mineur") + " sans revenu propre"
                          if m.minor else
                          rng.choice(["Maladie", "Sans travail depuis plusieurs mois",
                                      "Renvoyée par son employeur"]))
                self.waivers.append((m, sum(c[4] for c in waived), reason, "approved", day))
            elif len(open_charges) >= 2 and rng.random() < 0.03:
                amount = sum(c[2] - c[3] for c in open_charges)
                status = rng.choice(["requested", "rejected"])
                day = today - timedelta(days=rng.randrange(1, 30))
                self.waivers.append((m, amount, "Difficultés de la famille", status, day))
            result = rules.standing_of(
                [rules.Charge(c[0], c[1], c[2] - c[3] - c[4]) for c in m.charges], as_of=today,
                grace_months=self.rates[m.group].grace_months)
            m.standing, m.arrears, m.owing_since = (result.standing, result.arrears,
                                                    result.owing_since)
        self._post(accrued)

    def _post(self, accrued: dict[tuple[int, date], int]) -> None:
        """The entries of the dues, as services/dues.py posts them (accounts, sub-ledgers,
        sources), gathered for one bulk write."""
        sections = {s.pk: s.code for s in self.ctx.sections}
        for (section, day), amount in sorted(accrued.items()):
            code = sections[section]
            self.ledger.add(("accrual", section, day), self.book, day,
                            f"Cotisations de la section {code} jusqu'au {day.isoformat()}",
                            "movement.accrual", f"{code}:{day.isoformat()}",
                            [LineSpec("411", "D", amount, code), LineSpec("756", "C", amount, code)])
        self.payments.sort(key=lambda p: (p[1], p[0].membership))
        scope = RECEIPT_SCOPE.format(org=self.mtc.pk)
        for pay in self.payments:
            m, day, amount, channel = pay[0], pay[1], pay[2], pay[3]
            pay[5] = receipt = receipt_number(self.mtc.code, day.year,
                                              self.counters.take(scope, day.year))
            account = "53" if channel == "mobile_money" else "57"
            self.ledger.add(("payment", receipt), self.book, day,
                            f"Cotisations de {m.number}, reçu {receipt}",
                            "movement.dues_payment", receipt,
                            [LineSpec(account, "D", amount, m.number),
                             LineSpec("411", "C", amount, m.number)])
        # A waiver's entry names the waiver's id: the ids bulk_insert will give them.
        first = (DuesWaiver.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        for n, (m, amount, _reason, status, day) in enumerate(self.waivers):
            if status == "approved":
                self.ledger.add(("waiver", n), self.book, day,
                                f"Exonération de cotisations de {m.number}",
                                "movement.waiver", str(first + n),
                                [LineSpec("658", "D", amount, m.number),
                                 LineSpec("411", "C", amount, m.number)])

    # --- writing members and dues -------------------------------------------------------------

    def write_members(self) -> None:
        from jigi.demo.builder import _village

        rng = self.rng
        rows = []
        for m in self.members:
            rural = rng.random() < (0.95 if m.minor else 0.85 if m.group == "domestic" else 0.35)
            village = f"{_village(rng)} ({rng.choice(RURAL_CERCLES)})" if rural else ""
            registered_by = self.organiser.pk if m.group == "domestic" else self.admin.pk
            rows.append((m.membership, m.person, m.section, m.group, "urban", rural, village,
                         m.standing, m.owing_since, m.arrears, 0, False, registered_by, 0))
        ids = bulk_insert(MemberProfile, [
            "membership_id", "person_id", "section_id", "group", "area_kind", "rural_origin",
            "home_village", "standing", "owing_since", "arrears", "advance", "dues_exempt",
            "registered_by_id", "version"], rows)
        records: dict[str, list[tuple]] = defaultdict(list)
        for pk, m in zip(ids, self.members, strict=True):
            m.profile = pk
            make = {"domestic": self._domestic, "teachers": self._teacher,
                    "artisans": self._artisan, "youth": self._youth}[m.group]
            records[m.group].append((pk, *make(m)))
        bulk_insert(DomesticWorkerRecord, [
            "profile_id", "employer_name", "employer_phone", "district", "start_date", "live_in",
            "monthly_pay", "daily_hours", "weekly_rest_half_days", "written_contract",
            "declared"], records["domestic"])
        bulk_insert(TeacherRecord, ["profile_id", "school", "school_place", "status",
                                    "monthly_pay", "paid_by", "pay_arrears",
                                    "pay_arrears_months"], records["teachers"])
        bulk_insert(ArtisanRecord, ["profile_id", "trade", "workshop", "workshop_place",
                                    "apprentices", "monthly_income"], records["artisans"])
        bulk_insert(YouthRecord, ["profile_id", "schooling", "in_school", "skills",
                                  "computer_access", "seeking_work"], records["youth"])
        self.counts["profiles"] = len(ids)
        for group in ("domestic", "teachers", "artisans", "youth"):
            self.counts[group] = len(records[group])

    def write_dues(self, entries: dict[Any, int]) -> None:
        rates = {g: r.pk for g, r in self.rates.items()}
        charge_rows, owners = [], []
        for m in self.members:
            for c in m.charges:
                charge_rows.append((m.profile, c[0], c[1], c[2], c[3], c[4], rates[m.group],
                                    entries[("accrual", *c[5])]))
                owners.append(c)
        ids = bulk_insert(DuesCharge, ["profile_id", "period_start", "period_end", "amount",
                                       "paid", "waived", "rate_id", "journal_entry_id"],
                          charge_rows)
        charge_pk = {id(c): pk for c, pk in zip(owners, ids, strict=True)}
        pay_rows = []
        for n, (m, day, amount, channel, _chunk, receipt) in enumerate(self.payments):
            by = self.organiser.pk if m.group == "domestic" else self.admin.pk
            pay_rows.append((m.profile, day, amount, channel, receipt,
                             entries[("payment", receipt)], 0, by, at(day, 9 + n % 8, n % 60)))
        pay_ids = bulk_insert(DuesPayment, ["profile_id", "paid_on", "amount", "channel",
                                            "receipt_number", "journal_entry_id",
                                            "advance_part", "created_by_id", "created_at"],
                              pay_rows)
        bulk_insert(DuesAllocation, ["payment_id", "charge_id", "amount"], [
            (pk, charge_pk[id(c)], c[3]) for pk, pay in zip(pay_ids, self.payments, strict=True)
            for c in pay[4]])
        bulk_insert(DuesWaiver, [
            "profile_id", "amount", "reason", "status", "requested_at", "requested_by_id",
            "decided_at", "decided_by_id", "decision_note", "journal_entry_id"], [
            (m.profile, amount, reason, status, at(day - timedelta(days=3), 10),
             self.organiser.pk, at(day, 15) if status != "requested" else None,
             self.admin.pk if status != "requested" else None,
             "Pas de revenu propre" if status == "rejected" else "",
             entries.get(("waiver", n)))
            for n, (m, amount, reason, status, day) in enumerate(self.waivers)])
        self.counts.update(charges=len(ids), payments=len(pay_ids),
                           waivers_approved=sum(w[3] == "approved" for w in self.waivers))
        for standing in ("current", "grace", "arrears"):
            self.counts[standing] = sum(m.standing == standing for m in self.members)

    # --- cases --------------------------------------------------------------------------------

    def cases(self) -> None:
        rng, today = self.rng, self.today
        # At least eight, so a small demo's case screens have urgent, open and closed ones.
        wanted = max(8, round(len(self.members) / CASE_EVERY))

        def weight(m: _Member) -> float:
            return 8.0 if m.minor else {"domestic": 3.0, "teachers": 1.5}.get(m.group, 0.5)

        # Weighted sample without replacement (Efraimidis-Spirakis keys).
        chosen = sorted(self.members, key=lambda m: -rng.random() ** (1 / weight(m)))[:wanted]
        records = {p: (e, ph) for p, e, ph in DomesticWorkerRecord.objects.filter(
            profile_id__in=[m.profile for m in chosen]).values_list(
            "profile_id", "employer_name", "employer_phone")}
        cases = []
        for m in chosen:
            kind = "minor" if m.minor else m.group
            category = rng.choices(list(CATEGORIES[kind]),
                                   weights=list(CATEGORIES[kind].values()))[0]
            first_days, resolution_days = self.deadlines[category]
            minor = case_rules.is_minor(m.age, self.adult_age)
            roll = rng.random()
            status = "closed" if roll < 0.68 else "referred" if roll < 0.76 else "open"
            earliest = max(m.since, today - timedelta(days=720))
            span = (today - earliest).days
            if status == "open":
                opened = today - timedelta(days=rng.randrange(min(span, 100) + 1))
            else:
                opened = earliest + timedelta(days=rng.randrange(max(1, span - 10) + 1))
                opened = min(opened, today - timedelta(days=8))
            opened = max(opened, m.since)
            # The intake officer marks about half of the adults' violence cases urgent.
            urgency = case_rules.urgency([category], minor=minor, marked_urgent=(
                category == "violence" and rng.random() < 0.5))
            cases.append([m, category, status, opened, first_days, resolution_days, urgency])
        cases.sort(key=lambda c: (c[3], c[0].membership))
        scope = CASE_SCOPE.format(org=self.mtc.pk)
        case_rows, actions, assignments, alerts = [], [], [], []
        for n, (m, category, status, opened, first_days, resolution_days, urgency) in \
                enumerate(cases):
            urgent = urgency.urgent
            number = case_number(self.mtc.code, opened.year,
                                 self.counters.take(scope, opened.year))
            due = case_rules.deadlines(opened, [(first_days, resolution_days)])
            first_due, resolution_due = due.first_action_due, due.resolution_due
            employer, employer_phone = records.get(m.profile, ("", ""))
            if not employer:
                employer = {"teachers": "Comité de gestion de l'école",
                            "artisans": f"Client {rng.choice(self.family)}",
                            "youth": f"Entreprise {rng.choice(self.family)} et frères"}.get(
                    m.group, f"Famille {rng.choice(self.family)}")
            months = rng.randint(1, 6)
            summary = SUMMARIES[category].format(months=months, age=m.age)
            by = self.organiser.pk if m.group == "domestic" else self.workers[0].pk
            timeline = [("intake", opened, "Accueil et écoute.", 0, "")]
            lead = self.workers[n % len(self.workers)]
            elapsed = (today - opened).days
            late_start = status == "open" and rng.random() < 0.3
            first_action = None
            if not late_start and elapsed >= 1:
                delay = rng.randint(0, 1) if urgent else rng.randint(1, first_days + 3)
                first_action = min(today, opened + timedelta(days=delay))
                timeline.append(("interview", first_action, "Entretien avec le membre.", 0, ""))
            closed_on, outcome, recovered, note = None, "", 0, ""
            if status in ("closed", "referred") and first_action:
                step = first_action + timedelta(days=rng.randint(3, 20))
                step = min(step, today)
                if category in MONEY:
                    timeline.append(("call", step, "Appel à l'employeur.", 0, "Médiation"))
                    step = min(today, step + timedelta(days=rng.randint(3, 15)))
                    owed = max(m.pay, 10_000) * months
                    got = owed if rng.random() < 0.6 else owed // 2 if rng.random() < 0.5 else 0
                    timeline.append(("mediation", step, "Médiation avec l'employeur.", got, ""))
                    recovered = got
                elif category in ("violence", "sexual_harassment", "child_labour"):
                    kind = rng.choice(["legal_aid", "labour_inspection", "health_care"])
                    timeline.append((kind, step, "Orientation du membre.", 0, ""))
                else:
                    timeline.append(("mediation", step, "Médiation avec l'employeur.", 0, ""))
                if status == "referred":
                    timeline.append((rng.choice(["labour_inspection", "union", "legal_aid"]),
                                     min(today, step + timedelta(days=2)),
                                     "Dossier transmis.", 0, "Suivre la réponse"))
                else:
                    closed_on = min(today, step + timedelta(days=rng.randint(1, 30)))
                    if recovered:
                        outcome = "wages_recovered"
                    else:
                        outcome = rng.choices(["resolved", "referred", "no_result"],
                                              weights=[55, 20, 25])[0]
                    note = {"wages_recovered": f"{recovered} F récupérés.",
                            "resolved": "Accord trouvé.", "referred": "Confié à un partenaire.",
                            "no_result": "L'employeur ne répond pas."}[outcome]
                    timeline.append(("closure", closed_on, note, 0, ""))
            elif status in ("closed", "referred"):
                status = "open"
            if status == "open" and first_action:
                status = "in_progress"
            case_rows.append((
                self.mtc.pk, m.section, number, m.person, m.profile, category, [],
                "urgent" if urgent else "normal", urgency.reason,
                # A child's urgent case stays confidential (as case_open does).
                case_rules.confidential_default([category]) or urgency.reason == "minor",
                rng.choice(["in_person", "in_person", "phone"]),
                summary, employer, employer_phone, status, opened, first_due, resolution_due,
                first_action, closed_on, outcome, recovered, note, by, at(opened, 10)))
            actions.append(timeline)
            ended = status == "closed"
            if first_action or rng.random() < 0.5:
                assignments.append((n, lead.pk, True, opened))
                if len(self.workers) > 1 and rng.random() < 0.25:
                    other = self.workers[(n + 1) % len(self.workers)]
                    assignments.append((n, other.pk, False, opened))
            if urgent:
                alerts.append((n, "urgent", opened, first_action))
            if first_action is None and first_due < today:
                alerts.append((n, "first_action_overdue", first_due + timedelta(days=1), None))
            elif first_action and first_action > first_due:
                alerts.append((n, "first_action_overdue", first_due + timedelta(days=1),
                               first_action))
            done = closed_on or (today if not ended else None)
            if done and resolution_due < done:
                alerts.append((n, "resolution_overdue", resolution_due + timedelta(days=1),
                               closed_on))
        ids = bulk_insert(Case, [
            "organisation_id", "section_id", "number", "person_id", "profile_id", "category",
            "other_categories", "urgency", "urgent_reason", "confidential", "intake_channel",
            "summary", "employer_name", "employer_phone", "status", "opened_on",
            "first_action_due", "resolution_due", "first_action_on", "closed_on", "outcome",
            "wages_recovered", "outcome_note", "created_by_id", "created_at"], case_rows)
        bulk_insert(CaseAction, ["case_id", "kind", "happened_on", "note", "amount_recovered",
                                 "next_step", "created_by_id", "created_at"], [
            (pk, kind, day, note, amount, nxt, self.workers[0].pk, at(day, 11))
            for pk, timeline in zip(ids, actions, strict=True)
            for kind, day, note, amount, nxt in timeline])
        bulk_insert(CaseAssignment, ["case_id", "user_id", "lead", "assigned_at",
                                     "assigned_by_id"], [
            (ids[n], user, lead, at(day, 12), self.admin.pk)
            for n, user, lead, day in assignments])
        # An overdue alert is raised the day after its deadline (the due day is in time).
        bulk_insert(CaseAlert, ["case_id", "kind", "due_on", "raised_at", "acknowledged_at",
                                "acknowledged_by_id"], [
            (ids[n], kind, None if kind == "urgent" else day - timedelta(days=1), at(day, 6),
             at(ack, 9) if ack else None, self.workers[0].pk if ack else None)
            for n, kind, day, ack in alerts])
        self.counts.update(
            cases=len(ids), cases_urgent=sum(r[7] == "urgent" for r in case_rows),
            cases_open=sum(r[14] != "closed" for r in case_rows),
            wages_recovered=sum(r[21] for r in case_rows), case_alerts=len(alerts))

    # --- the campaign -------------------------------------------------------------------------

    def campaign(self) -> None:
        rng, today, mtc = self.rng, self.today, self.mtc
        utm = self.ctx.o.utm
        partner_rows = [
            (mtc.pk, utm.name, "mutual_union", utm.pk, ""),
            (mtc.pk, "UNTM - Union nationale des travailleurs du Mali", "union", None,
             "Bourse du travail, Bamako"),
            (mtc.pk, "CSTM - Confédération syndicale des travailleurs du Mali", "union", None,
             ""),
            (mtc.pk, "ADDAD - Association de défense des droits des aides ménagères et "
                     "domestiques", "association", None, "Bamako"),
            (mtc.pk, "Direction régionale du travail du District de Bamako", "public", None, ""),
        ]
        partners = bulk_insert(Partner, ["organisation_id", "name", "kind",
                                         "jigi_organisation_id", "contact"], partner_rows)
        starts = today - timedelta(days=300)
        [campaign] = bulk_insert(Campaign, [
            "organisation_id", "code", "title", "goal", "groups", "starts_on", "ends_on",
            "status", "created_by_id"], [(
                mtc.pk, "REPOS-AM", "Une demi-journée de repos pour les aides ménagères",
                "Que chaque aide ménagère ait au moins une demi-journée de repos par semaine, "
                "comme le décret 96-178 en prévoit deux, et que les employeurs la respectent.",
                ["domestic"], starts, starts + timedelta(days=540), "active", self.admin.pk)])
        bulk_insert(Campaign.partners.through, ["campaign_id", "partner_id"],
                    [(campaign, p) for p in partners])
        milestones = [
            ("Lancement avec les partenaires", 0, True),
            ("Causeries dans les six communes", 90, True),
            ("Rencontre avec la Direction régionale du travail", 180, True),
            ("Remise de la pétition au Ministère du Travail", 330, False),
            ("Mille familles engagées à donner le repos", 500, False),
        ]
        bulk_insert(Milestone, ["campaign_id", "title", "due_on", "reached_on"], [
            (campaign, title, starts + timedelta(days=d),
             min(today, starts + timedelta(days=d + rng.randint(0, 10))) if reached else None)
            for title, d, reached in milestones])
        actions = []
        communes = list(self.quarters)
        for k in range(14):
            day = starts + timedelta(days=5 + k * 21 + rng.randint(0, 6))
            if day > today:
                break
            kind = rng.choices(["meeting", "advocacy", "media", "march", "training"],
                               weights=[50, 12, 15, 8, 15])[0]
            commune = communes[k % len(communes)]
            place = f"{commune}, {rng.choice(self.quarters[commune])}"
            note = {"meeting": "Causerie avec les aides ménagères et des employeuses",
                    "advocacy": "Rencontre avec les autorités",
                    "media": "Émission en bambara sur une radio de proximité",
                    "march": "Marche pour la journée des travailleurs domestiques",
                    "training": "Formation des animatrices sur le décret 96-178"}[kind]
            women = rng.randint(25, 120) if kind != "advocacy" else rng.randint(2, 6)
            men = rng.randint(2, 25) if kind != "advocacy" else rng.randint(1, 5)
            if kind == "march":
                women, men = rng.randint(300, 800), rng.randint(40, 150)
            actions.append((campaign, kind, day, place, note, rng.choice(partners), women, men,
                            self.organiser.pk))
        bulk_insert(CampaignAction, ["campaign_id", "kind", "held_on", "place", "note",
                                     "partner_id", "women", "men", "created_by_id"], actions)
        opens = starts + timedelta(days=30)
        signers = min(200 + self.ctx.members // 50, 3000)
        [petition] = bulk_insert(Petition, ["campaign_id", "title", "text", "target",
                                            "opens_on", "closes_on"], [(
            campaign, "Pétition : une demi-journée de repos par semaine",
            "Nous demandons que chaque aide ménagère ait au moins une demi-journée de repos "
            "par semaine et que le décret 96-178 soit appliqué dans toutes les familles.",
            max(1000, signers * 2), opens, starts + timedelta(days=330))])
        self._signatures(petition, opens, signers)
        self.counts.update(partners=len(partners), campaign_actions=len(actions),
                           signatures=signers)

    def _signatures(self, petition: int, opens: date, count: int) -> None:
        rng, today = self.rng, self.today
        from jigi.demo.builder import OPERATORS

        ranges = [r for r, _ in OPERATORS.values()]
        shares = [s for _, s in OPERATORS.values()]
        linked = [m for m in self.members if not m.minor]
        phones_of = dict(Person.objects.filter(pk__in=[m.person for m in linked]).exclude(
            phone="").values_list("pk", "phone"))
        regions = [("Koulikoro", "Kati"), ("Ségou", "Ségou"), ("Sikasso", "Sikasso"),
                   ("Kayes", "Kayes"), ("Mopti", "Mopti")]
        secret = settings.SECRET_KEY
        seen: set[str] = set()
        rows = []
        span = max(1, (today - opens).days)
        for _ in range(count):
            member = rng.choice(linked) if linked and rng.random() < 0.15 else None
            phone = phones_of.get(member.person, "") if member else ""
            if not phone or phone in seen:
                member = None
                while not phone or phone in seen:
                    ops = rng.choices(ranges, weights=shares)[0]
                    phone = f"+223{rng.choice(ops)}{rng.randrange(10**6):06d}"
            seen.add(phone)
            if member:
                name, sex = f"{member.first_name} {member.last_name}", member.sex
                region, commune = "Bamako", member.commune
            else:
                sex = "F" if rng.random() < 0.7 else "M"
                name = f"{rng.choice(self.first[sex])} {rng.choice(self.family)}"
                region, commune = ("Bamako", rng.choice(list(self.quarters))) \
                    if rng.random() < 0.78 else rng.choice(regions)
            code_hash = petition_codes.code_hash(secret, petition_id=petition, phone=phone,
                                                 code=f"{rng.randrange(10**6):06d}")
            day = opens + timedelta(days=rng.randrange(span))
            sent = at(day, 8 + rng.randrange(11), rng.randrange(60))
            rows.append((petition, name, phone, sex, region, commune,
                         member.person if member else None, "confirmed", code_hash, sent,
                         1, sent + timedelta(minutes=rng.randint(1, 30)),
                         self.organiser.pk if rng.random() < 0.4 else None, sent))
        bulk_insert(Signature, ["petition_id", "name", "phone", "sex", "region", "commune",
                                "person_id", "status", "code_hash", "code_sent_at", "attempts",
                                "confirmed_at", "collected_by_id", "created_at"], rows)

    def snapshots(self) -> None:
        """Last month's and this month's decent-work indicators (IndicatorSnapshot), computed
        by the indicators' selector as indicator_snapshot_take does; written here because that
        service opens its own durable transaction. The records hold only the present, so both
        months show today's members (those who had joined by the month's end)."""
        this_month = self.today.replace(day=1)
        rows = []
        for month in (month_start(this_month - timedelta(days=1)), this_month):
            result = movement_decent_work(self.mtc, min(month_end(month), self.today))
            rows.append((self.mtc.pk, month, result.as_data(), result.law.smig))
        bulk_insert(IndicatorSnapshot, ["organisation_id", "month", "data", "smig"], rows)
        self.counts["indicator_snapshots"] = len(rows)

    def finish(self) -> None:
        self.counters.save()
        audit_log(actor=None, event_type="movement.demo_loaded", subject=self.mtc,
                  after={"seed": self.ctx.seed, **{k: v for k, v in self.counts.items()
                                                   if isinstance(v, int)}},
                  organisation=self.mtc)


def movement_demo_build(ctx: DemoContext) -> dict[str, Any]:
    """Build the MTC demo inside the demo's transaction; returns its counts."""
    demo = MovementDemo(ctx)
    demo.setup()
    demo.adults()
    demo.minors()
    demo.dues()
    demo.write_members()
    entries = demo.ledger.flush()
    demo.write_dues(entries)
    demo.cases()
    demo.campaign()
    demo.snapshots()
    demo.finish()
    return demo.counts


def step_movement(ctx: DemoContext) -> None:
    """MTC: members' profiles and group records (with minor domestic workers), two years of
    dues, rights cases, the half-day-of-rest campaign and its petition."""
    counts = movement_demo_build(ctx)
    ctx.counts["movement"] = counts
    ctx.log("movement: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
