"""Demo credit portfolio: about 60 % of Kondo members with a loan being repaid, 12-18 months of
history, posted to the ledger.

    credit_demo_build(*, seed: int, today: date) -> dict

Called by `jigi demo` after the savings step, inside the demo's transaction. Who borrows what
follows the member's caisse: small trade and crafts in towns, crop loans by crop and region in
the villages (the crop calendar of jigi/demo/data/crop_calendar.csv: cotton in Sikasso, rice of
the Office du Niger in Ségou, flood-recession rice on the river, millet and sorghum elsewhere),
livestock fattening before Tabaski, and women's groups (5-25 members, GRF loans repaid every
two weeks). About 40 % of borrowers repaid an earlier loan (borrower cycle 2); some pay late,
some are more than 30 days in arrears (PAR30 about 6 %), cotton farmers hit by a late CMDT
payment were rescheduled, a few loans were written off.

Schedules come from the real engine (`terms_for`, `generate_schedule`, `teg_of_schedule`; the
same terms are computed once). At 75,000 members the history does not go through the services
(one journal entry per repayment): loans, instalments, transactions, guarantee savings
accounts and journal lines are bulk-inserted, and the ledger gets per caisse and month one
entry for the disbursements and one for the repayments (and one for reschedulings, write-offs and
guarantee releases), with one line per loan on the loan account (subledger = loan number) and
per guarantee account on 2545, so a loan's subledger balance is its outstanding principal.
Account balances are moved by the same totals, so `ledger_verify` stays empty; entry, loan
and savings-account counters continue after the demo. The history's receipts were paper
receipts: its loan transactions carry none, and receipt numbers continue where savings left.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from jigi.core.audit import audit_log
from jigi.core.models import Counter
from jigi.credit.allocation import Due as AllocDue
from jigi.credit.allocation import penalties_to_charge
from jigi.credit.models import (
    GroupMember,
    Installment,
    Loan,
    LoanStatus,
    LoanTransaction,
    LoanTxKind,
    Pattern,
    RescheduleReason,
    Rescheduling,
    SolidarityGroup,
)
from jigi.credit.models import UsuryCap as CapModel
from jigi.credit.schedule import generate_schedule
from jigi.credit.schedule_errors import ScheduleError
from jigi.credit.schedule_json import terms_from_json
from jigi.credit.seasonal import crop_calendar_row
from jigi.credit.services.applications import terms_for
from jigi.credit.setup import kondo_loan_products_seed
from jigi.credit.teg import DEFAULT_USURY_CAPS, teg_of_schedule, usury_cap_on
from jigi.credit.teg import UsuryCap as CapRow
from jigi.demo.bulk import balances_add, bulk_insert
from jigi.ledger.models import Account, Book, JournalEntry, JournalLine
from jigi.orgs.models import Organisation, Unit
from jigi.people.models import Membership, MembershipStatus, Person
from jigi.savings.models import (
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    TxKind,
)

BORROWER_SHARE = 0.64
WRITTEN_OFF_SHARE = 0.004
GROUP_SHARE = 0.33  # of women borrowers, in a women's group
PREVIOUS_LOAN_SHARE = 0.42  # borrowers who repaid an earlier loan in the last 18 months
HISTORY_DAYS = 548  # 18 months
# Repayment behaviour of a loan being repaid: on time, sometimes late, in arrears.
PROFILES = (("good", 0.79), ("late", 0.135), ("arrears", 0.075))

# Activities by kind of place (weights); agriculture is split by crop below.
ACTIVITIES = {
    "bamako": {"small_trade": 55, "crafts": 30, "agriculture": 10, "livestock": 5},
    "town": {"small_trade": 45, "crafts": 20, "agriculture": 25, "livestock": 10},
    "village": {"small_trade": 17, "crafts": 8, "agriculture": 60, "livestock": 15},
}
# (crop, zone or None, weight) per region: cotton in the CMDT zone, the Office du Niger's rice
# in Ségou, flood-recession rice on the river, millet and sorghum on rain-fed land.
CROPS = {
    "Sikasso": [("cotton", None, 55), ("maize", None, 20), ("millet", None, 10),
                ("sorghum", None, 5), ("groundnut", None, 5), ("market gardening", None, 5)],
    "Ségou": [("rice", "Office du Niger irrigated", 45), ("rice", "Office du Niger off-season", 5),
              ("millet", None, 30), ("sorghum", None, 15), ("shea", None, 5)],
    "Mopti": [("rice", None, 35), ("millet", None, 45), ("sorghum", None, 20)],
    "Kayes": [("millet", None, 35), ("sorghum", None, 30), ("groundnut", None, 25),
              ("maize", None, 10)],
    "Koulikoro": [("millet", None, 30), ("sorghum", None, 20), ("maize", None, 20),
                  ("groundnut", None, 15), ("market gardening", None, 15)],
    "Tombouctou": [("rice", None, 100)],
    "Gao": [("rice", None, 100)],
    "Bamako": [("market gardening", None, 100)],
}
LIVESTOCK_REGIONS = {"Ségou", "Mopti", "Kayes", "Koulikoro"}
PURPOSES = {
    "cotton": "Intrants coton (engrais, semences)", "rice": "Intrants riz (engrais, repiquage)",
    "millet": "Semences et labour (mil)", "sorghum": "Semences et labour (sorgho)",
    "maize": "Engrais et semences (maïs)", "groundnut": "Semences d'arachide",
    "market gardening": "Maraîchage (oignons, légumes)", "shea": "Collecte et transformation du karité",
    "livestock": "Embouche ovine avant la Tabaski", "small_trade": "Fonds de roulement petit commerce",
    "crafts": "Matières premières (artisanat)", "womens_group": "Activité génératrice de revenus",
}
GROUP_WORDS = ["Benkadi", "Jigiya", "Yiriwa", "Danaya", "Badenya", "Sabati", "Hèrè", "Musoya",
               "Kènèya", "Siniyèsigi", "Dèmèdèmè", "Nyèta"]


@dataclass
class Sim:
    """One loan while the demo is built: plain values, written in bulk at the end."""

    idx: int
    person: int
    caisse: int
    product: str
    activity: str
    principal: int
    terms: dict[str, Any]
    disbursed_on: date
    cycle: int = 1
    group: int | None = None  # index into groups
    status: str = LoanStatus.ACTIVE
    closed_on: date | None = None
    written_off_on: date | None = None
    gl_account: str = "202"
    pattern: str = Pattern.REGULAR
    teg: Any = None
    fees: int = 0
    savings: int = 0
    version: int = 1
    # (version, number, due_on, principal, interest, fees, penalties, p_paid, i_paid, f_paid,
    #  pen_paid, waived, penalised, paid_on) as lists, mutated by the simulation
    installments: list[list[Any]] = field(default_factory=list)
    payments: list[tuple[date, list[tuple[int, int, int, int, int]]]] = field(
        default_factory=list)  # (day, [(number, principal, interest, fees, penalties)])
    reschedule: tuple | None = None  # (on, outstanding, carried_interest, new_terms, n)
    outstanding: int = 0
    # Filled when written.
    applied: date | None = None
    approved: date | None = None
    number: str = ""
    nan_number: str = ""
    released: bool = False
    gl_final: str = "202"
    totals: tuple[int, int, int, int] = (0, 0, 0, 0)


# Column positions in Sim.installments rows.
V, N, DUE, P, INT, F, PEN, PP, IP, FP, PENP, W, PD, PAID = range(14)


def _schedule_cache():
    cache: dict[str, Any] = {}

    def schedule(terms: dict[str, Any]):
        seasonal = terms["seasonal"]
        key = (terms["principal"], terms["interest_rate"], terms["repayments"],
               terms["repayment_every"], terms["repayment_unit"], terms["disbursed_on"],
               terms["first_repayment_on"], terms["installment_multiples_of"],
               terms["interest_period"], terms["interest_method"], terms["amortization"],
               terms["days_in_year"], terms["days_in_month"], terms["grace_on_principal"],
               terms["teg_includes_compulsory_savings"], json.dumps(terms["fees"]),
               terms["compulsory_savings_percent"],
               None if seasonal is None else json.dumps(seasonal, sort_keys=True))
        hit = cache.get(key)
        if hit is None:
            try:
                s = generate_schedule(terms_from_json(terms))
                hit = (s, teg_of_schedule(s))
            except ScheduleError as exc:
                hit = exc
            cache[key] = hit
        if isinstance(hit, ScheduleError):
            raise hit
        return hit

    schedule.cache = cache
    return schedule


def _cash_dates(row, disbursed_on: date, repayments: int) -> list[date]:
    """The principal due dates of a crop loan (the rule of seasonal._plan_crop, day <= 28)."""
    index = disbursed_on.year * 12 + disbursed_on.month
    while index % 12 + 1 != row.cash_months[0]:
        index += 1
    out = []
    for k in range(repayments):
        year, month0 = divmod(index + k, 12)
        out.append(date(year, month0 + 1, disbursed_on.day))
    return out


def _allowed_months(row) -> tuple[int, ...]:
    if not row.sowing_months:
        return tuple(range(1, 13))
    first = row.sowing_months[0]
    return tuple((first - k - 1) % 12 + 1 for k in (2, 1)) + row.sowing_months


# Loan officers propose round amounts, and committees sit on set days: the same terms come
# back again and again, and each distinct schedule is computed once.
AMOUNTS = (20_000, 25_000, 30_000, 40_000, 50_000, 60_000, 75_000, 100_000, 125_000, 150_000,
           200_000, 250_000, 300_000, 400_000, 500_000, 750_000, 1_000_000)
COMMITTEE_DAYS = (1, 8, 15, 22)


def _committee_day(day: date) -> date:
    return day.replace(day=max(d for d in COMMITTEE_DAYS if d <= day.day))


def _month(day: date) -> date:
    return day.replace(day=1)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


class Builder:
    def __init__(self, *, seed: int, today: date) -> None:
        self.rng = random.Random(f"{seed}/credit")
        self.today = today
        self.start = today - timedelta(days=HISTORY_DAYS)
        self.schedule = _schedule_cache()
        self.loans: list[Sim] = []
        self.groups: list[dict[str, Any]] = []
        self.crop_rows: dict[tuple, Any] = {}

    # --- terms ------------------------------------------------------------------------------

    def terms(self, code: str, principal: int, repayments: int, on: date,
              seasonal: dict[str, Any] | None, first: date | None = None) -> dict[str, Any]:
        return terms_for(self.products[code], principal=principal, repayments=repayments,
                         disbursed_on=on, first_repayment_on=first, seasonal=seasonal)

    def crop_plan(self, crop: str, zone: str | None, region: str, *, current: bool,
                  before: date | None = None) -> tuple[date, int] | None:
        """A disbursement date at sowing and a number of principal instalments such that the
        loan is still being repaid today (current) or was fully due before `before`."""
        key = (crop, region, zone)
        row = self.crop_rows.get(key)
        if row is None:
            row = self.crop_rows[key] = crop_calendar_row(crop, region, zone)
        options = []
        for year in range(self.start.year, self.today.year + 1):
            for month in _allowed_months(row):
                for repayments in range(max(1, len(row.cash_months) - 2),
                                        len(row.cash_months) + 1):
                    options.append((year, month, repayments))
        self.rng.shuffle(options)
        for year, month, repayments in options:
            on = date(year, month, self.rng.choice(COMMITTEE_DAYS))
            if on < self.start or on > self.today - timedelta(days=7):
                continue
            last = _cash_dates(row, on, repayments)[-1]
            if current and last > self.today + timedelta(days=5):
                return on, repayments
            if not current and before is not None and last < before - timedelta(days=20):
                return on, repayments
        return None

    def make_loan(self, person: int, caisse: int, activity: str, crop: tuple | None,
                  principal: int, *, current: bool, before: date | None = None,
                  code: str | None = None, repayments: int | None = None,
                  on: date | None = None, seasonal: dict[str, Any] | None = None
                  ) -> Sim | None:
        """The loan's product, terms and schedule; None when no date fits."""
        region = self.caisses[caisse]["region"]
        if crop is not None:
            name, zone = crop
            plan = self.crop_plan(name, zone, region, current=current, before=before)
            if plan is None:
                return None
            on, repayments = plan
            code = "AGR"
            seasonal = {"pattern": "crop", "crop": name, "region": region}
            if zone:
                seasonal["zone"] = zone
        elif on is None:
            code = code or "COM"
            product = self.products[code]
            repayments = repayments or self.rng.choice([6, 8, 10, 12, 12, 18])
            span = repayments * (30 if product.repayment_unit == "months" else 14)
            if current:
                low = max(self.start, self.today - timedelta(days=span - 10))
                high = self.today - timedelta(days=7)
            else:
                low, high = self.start, before - timedelta(days=span + 25)
            if high < low:
                return None
            on = _committee_day(low + timedelta(days=self.rng.randrange((high - low).days + 1)))
            if on < low:
                on = _committee_day(high)
            if on < self.start:
                return None
        code = code or "COM"
        product = self.products[code]
        principal = min(max(principal, product.min_amount), product.max_amount)
        terms = self.terms(code, principal, repayments, on, seasonal)
        try:
            schedule, teg = self.schedule(terms)
        except ScheduleError:
            return None
        if (schedule.installments[-1].due_on - on).days > product.max_term_days or \
                teg.annual_rate_percent > usury_cap_on(on, "sfd", self.caps):
            return None  # what offer_for refuses (too long, or usurious: a short loan's fees)
        sim = Sim(idx=len(self.loans), person=person, caisse=caisse, product=code,
                  activity=activity, principal=principal, terms=terms, disbursed_on=on,
                  pattern=Pattern.CROP if seasonal else Pattern.REGULAR, teg=teg,
                  fees=int(schedule.upfront_fees), savings=int(schedule.compulsory_savings),
                  gl_account=product.gl_account, outstanding=principal)
        sim.installments = [[1, i.number, i.due_on, int(i.principal), int(i.interest),
                             int(i.fees), 0, 0, 0, 0, 0, 0, False, None]
                            for i in schedule.installments]
        return sim

    # --- repayment behaviour ---------------------------------------------------------------

    def pay(self, sim: Sim, profile: str, *, stop: int | None = None,
            until: date | None = None, version: int = 1) -> None:
        """Repay the instalments of `version` in order, each in one payment (late beyond the
        grace days: the product's one-off penalty is charged first, as the service does)."""
        product = self.products[sim.product]
        pct = int(product.penalty_percent * 100)
        grace = product.penalty_grace_days
        rows = [r for r in sim.installments if r[V] == version]
        until = until or self.today
        last = sim.disbursed_on if version == 1 else sim.reschedule[0]
        for k, row in enumerate(rows):
            if stop is not None and k >= stop:
                break
            if row[PAID] is not None:
                continue
            due = row[DUE]
            roll = self.rng.random()
            if profile == "late" and roll < 0.5:
                day = due + timedelta(days=self.rng.randint(3, 30))
            elif roll < 0.08:
                day = due + timedelta(days=self.rng.randint(1, 4))
            else:
                day = due - timedelta(days=self.rng.randint(0, 2))
            day = max(day, last + timedelta(days=0), sim.disbursed_on + timedelta(days=1))
            if day > until:
                break
            # Penalties the service charges at this payment: every unpaid instalment late
            # beyond the grace days and not yet penalised (none when this one is not).
            if pct and (day - due).days > grace:
                dues = [AllocDue(r[N], r[DUE], r[P] - r[PP], r[INT] - r[IP] - r[W],
                                 r[F] - r[FP], r[PEN] - r[PENP])
                        for r in rows[k:] if r[PAID] is None and (day - r[DUE]).days > grace
                        and not r[PD]]
                charges = penalties_to_charge(dues, day, percent_x100=pct, grace_days=grace,
                                              already=set())
                for r in rows[k:]:
                    if r[N] in charges:
                        r[PEN] += charges[r[N]]
                        r[PD] = True
            parts = (row[N], row[P] - row[PP], row[INT] - row[IP] - row[W], row[F] - row[FP],
                     row[PEN] - row[PENP])
            row[PP], row[IP], row[FP], row[PENP] = row[P], row[INT] - row[W], row[F], row[PEN]
            row[PAID] = day
            sim.outstanding -= parts[1]
            sim.payments.append((day, [parts]))
            last = day

    def reschedule(self, sim: Sim, on: date, repayments: int, first: date) -> bool:
        """Late cotton payment: the outstanding principal gets a new schedule (loan_reschedule's
        rules: interest due by then carried into the first new instalment, later interest of
        the old schedule waived, the loan moved to 291)."""
        rows = [r for r in sim.installments if r[V] == sim.version]
        carried = sum(r[INT] - r[IP] - r[W] for r in rows if r[PAID] is None and r[DUE] <= on)
        carried_fees = sum(r[F] - r[FP] for r in rows if r[PAID] is None and r[DUE] <= on)
        carried_pen = sum(r[PEN] - r[PENP] for r in rows if r[PAID] is None)
        terms = dict(sim.terms, principal=str(sim.outstanding), repayments=repayments,
                     disbursed_on=on.isoformat(), fees=[], compulsory_savings_percent="0",
                     first_repayment_on=first.isoformat(), seasonal=None, grace_on_principal=0)
        try:
            schedule, teg = self.schedule(terms)
        except ScheduleError:
            return False
        if teg.annual_rate_percent > usury_cap_on(on, "sfd", self.caps):
            return False
        for r in rows:
            if r[PAID] is None:
                r[W] += r[INT] - r[IP] - r[W]
        sim.version += 1
        new = [[sim.version, i.number, i.due_on, int(i.principal), int(i.interest),
                int(i.fees), 0, 0, 0, 0, 0, 0, False, None] for i in schedule.installments]
        new[0][INT] += carried
        new[0][F] += carried_fees
        new[0][PEN] += carried_pen
        new[0][PD] = carried_pen > 0
        sim.installments += new
        sim.reschedule = (on, sim.outstanding, carried, terms, repayments)
        sim.teg = teg
        sim.terms = terms
        sim.gl_account = "291"
        return True

    def finish(self, sim: Sim) -> None:
        """Closed when everything of the current version is paid."""
        rows = [r for r in sim.installments if r[V] == sim.version]
        if all(r[PAID] is not None for r in rows):
            sim.status = LoanStatus.CLOSED
            sim.closed_on = max(r[PAID] for r in rows)

    # --- who borrows what --------------------------------------------------------------------

    def load(self) -> None:
        self.kondo = Organisation.objects.get(code="KONDO")
        self.products = kondo_loan_products_seed(organisation=self.kondo)
        self.caps = [CapRow(c.lender, c.since, c.rate) for c in CapModel.objects.all()] or \
            DEFAULT_USURY_CAPS
        self.caisses = {u.pk: {"code": u.code, "region": u.region, "cercle": u.cercle,
                               "urban": u.urban, "commune": u.commune}
                        for u in Unit.objects.filter(organisation=self.kondo, kind="caisse")}
        members = list(Membership.objects.filter(
            organisation=self.kondo, status=MembershipStatus.ACTIVE,
            unit__kind="caisse").order_by("pk").values_list("person_id", "unit_id",
                                                            "start_date"))
        who = {pk: (sex, village) for pk, sex, village in
               Person.objects.values_list("pk", "sex", "village")}
        self.members = [(p, u, s, *who[p]) for p, u, s in members]

    def kind_of_place(self, caisse: int) -> str:
        c = self.caisses[caisse]
        return "bamako" if c["region"] == "Bamako" else "town" if c["urban"] else "village"

    def choose_activity(self, caisse: int) -> tuple[str, tuple | None]:
        rng = self.rng
        region = self.caisses[caisse]["region"]
        weights = ACTIVITIES[self.kind_of_place(caisse)]
        activity = rng.choices(list(weights), weights=list(weights.values()))[0]
        if activity == "agriculture":
            crops = CROPS.get(region)
            if not crops:
                return "livestock", None
            name, zone, _w = rng.choices(crops, weights=[c[2] for c in crops])[0]
            return name, (name, zone)
        if activity == "livestock" and region in LIVESTOCK_REGIONS:
            return "livestock", ("livestock fattening", None)
        return activity, None

    def amount(self, code: str, cycle: int) -> int:
        ceilings = self.products[code].cycle_max_amounts
        ceiling = ceilings[min(cycle, len(ceilings)) - 1]
        typical = {"AGR": 150_000, "COM": 140_000, "GRF": 50_000}[code] * (1.4 if cycle > 1
                                                                           else 1)
        wanted = min(ceiling, self.rng.lognormvariate(0, 0.45) * typical)
        return max([a for a in AMOUNTS if a <= wanted] or [AMOUNTS[0]])

    def individual(self, person: int, caisse: int, start: date) -> None:
        rng = self.rng
        activity, crop = self.choose_activity(caisse)
        previous = rng.random() < PREVIOUS_LOAN_SHARE
        code = "AGR" if crop else "COM"
        cycle = 2 if previous else 1
        sim = self.make_loan(person, caisse, activity, crop, self.amount(code, cycle),
                             current=True)
        if sim is None:  # no season fits today's date: a small-trade loan instead
            activity, crop = "small_trade", None
            sim = self.make_loan(person, caisse, activity, None, self.amount("COM", cycle),
                                 current=True)
        if sim is None or sim.disbursed_on < start:
            return
        profile = rng.choices([p for p, _w in PROFILES], weights=[w for _p, w in PROFILES])[0]
        if sim.activity == "cotton" and rng.random() < 0.12:
            late_cotton = self.cotton_rescheduled(person, caisse, cycle)
            if late_cotton is not None:
                sim = late_cotton
                profile = "rescheduled"
        if previous and profile != "rescheduled":
            prev = self.make_loan(person, caisse, activity, crop,
                                  self.amount(sim.product, 1), current=False,
                                  before=sim.disbursed_on, code=sim.product)
            if prev is not None and prev.disbursed_on >= start:
                self.pay(prev, "late" if rng.random() < 0.15 else "good",
                         until=sim.disbursed_on - timedelta(days=3))
                self.finish(prev)
                if prev.status == LoanStatus.CLOSED:
                    self.loans.append(prev)
                    prev.idx = len(self.loans) - 1
                    sim.cycle = 2
        if profile != "rescheduled":
            self.simulate(sim, profile)
        sim.idx = len(self.loans)
        self.loans.append(sim)

    def simulate(self, sim: Sim, profile: str) -> None:
        if profile == "arrears":
            rows = [r for r in sim.installments if r[V] == 1]
            late = [k for k, r in enumerate(rows) if r[DUE] <= self.today - timedelta(days=31)]
            if late:
                self.pay(sim, "good", stop=self.rng.choice(late[-5:]))
            else:
                self.pay(sim, "late")
        else:
            self.pay(sim, profile)
        self.finish(sim)

    def cotton_rescheduled(self, person: int, caisse: int, cycle: int) -> Sim | None:
        """Last season's cotton loan: the CMDT paid late, the principal was rescheduled."""
        region = self.caisses[caisse]["region"]
        for _try in range(4):
            on = date(self.today.year - 1, self.rng.choice((4, 5, 6)),
                      self.rng.choice(COMMITTEE_DAYS))
            if on < self.start:
                continue
            sim = self.make_loan(person, caisse, "cotton", None, self.amount("AGR", cycle),
                                 current=False, code="AGR", repayments=3, on=on,
                                 seasonal={"pattern": "crop", "crop": "cotton",
                                           "region": region})
            if sim is None:
                continue
            rows = sim.installments
            first_cash = next(k for k, r in enumerate(rows) if r[P] > 0)
            cash_due = rows[first_cash][DUE]
            if cash_due > self.today - timedelta(days=120):
                continue
            # Interest paid through the growing season; the cotton money did not come.
            self.pay(sim, "good", stop=first_cash)
            on = cash_due + timedelta(days=self.rng.randint(15, 45))
            first = on + timedelta(days=self.rng.randint(60, 100))
            first = first.replace(day=min(first.day, 28))
            if not self.reschedule(sim, on, self.rng.randint(3, 6), first):
                continue
            if self.rng.random() < 0.3:
                new = [r for r in sim.installments if r[V] == sim.version]
                late = [k for k, r in enumerate(new) if r[DUE] <= self.today - timedelta(days=31)]
                self.pay(sim, "good", stop=self.rng.choice(late) if late else None,
                         version=sim.version)
            else:
                self.pay(sim, "good", version=sim.version)
            self.finish(sim)
            return sim
        return None

    def written_off(self, person: int, caisse: int) -> None:
        """A loan of a year ago that stopped being repaid, written off after six months."""
        code = "COM"
        high = self.today - timedelta(days=365)
        if high < self.start:
            return
        on = _committee_day(self.start + timedelta(
            days=self.rng.randrange((high - self.start).days + 1)))
        if on < self.start:
            return
        sim = self.make_loan(person, caisse, "small_trade", None, self.amount(code, 1),
                             current=False, code=code, repayments=self.rng.choice([6, 8, 10]),
                             on=on)
        if sim is None:
            return
        stop = self.rng.randint(0, 2)
        self.pay(sim, "late", stop=stop)
        rows = sim.installments
        missed = rows[min(stop, len(rows) - 1)][DUE]
        day = missed + timedelta(days=self.rng.randint(180, 270))
        if day > self.today - timedelta(days=7):
            return
        sim.status, sim.written_off_on = LoanStatus.WRITTEN_OFF, day
        sim.idx = len(self.loans)
        self.loans.append(sim)

    def women_groups(self, women: dict[int, list[tuple[int, date, str]]]) -> None:
        """Women's groups of 5-25 members per caisse; one GRF loan each, disbursed together."""
        rng = self.rng
        for caisse in sorted(women):
            pool = women[caisse]
            while len(pool) >= 5:
                size = min(len(pool), rng.randint(5, 25))
                if len(pool) - size < 5 and len(pool) <= 25:
                    size = len(pool)
                members, pool = pool[:size], pool[size:]
                repayments = rng.choice([13, 20, 26])
                previous = rng.random() < 0.45
                place = members[0][2] or self.caisses[caisse]["commune"]
                group = {"caisse": caisse, "members": members, "place": place,
                         "name": f"Groupement {rng.choice(GROUP_WORDS)} de {place}"}
                template = self.make_loan(members[0][0], caisse, "womens_group", None, 50_000,
                                          current=True, code="GRF", repayments=repayments)
                if template is None:
                    continue
                on = template.disbursed_on
                joined = max(m[1] for m in members)
                if on < joined + timedelta(days=60):
                    continue
                gi = len(self.groups)
                group["first_meeting"] = max(joined, on - timedelta(days=rng.randint(90, 300)))
                prev_on = None
                if previous:
                    prev_tpl = self.make_loan(members[0][0], caisse, "womens_group", None,
                                              40_000, current=False, before=on, code="GRF",
                                              repayments=13)
                    if prev_tpl is not None and prev_tpl.disbursed_on > group["first_meeting"]:
                        prev_on = prev_tpl.disbursed_on
                self.groups.append(group)
                profile = rng.choices(["good", "late", "arrears"], weights=[80, 14, 6])[0]
                for person, _joined, _v in members:
                    cycle = 1
                    if prev_on is not None:
                        prev = self.make_loan(person, caisse, "womens_group", None,
                                              self.amount("GRF", 1), current=False, code="GRF",
                                              repayments=13, on=prev_on)
                        if prev is not None:
                            prev.group = gi
                            self.pay(prev, "good", until=on - timedelta(days=2))
                            self.finish(prev)
                            if prev.status == LoanStatus.CLOSED:
                                prev.idx = len(self.loans)
                                self.loans.append(prev)
                                cycle = 2
                    sim = self.make_loan(person, caisse, "womens_group", None,
                                         self.amount("GRF", cycle), current=True, code="GRF",
                                         repayments=repayments, on=on)
                    if sim is None:
                        continue
                    sim.group, sim.cycle = gi, cycle
                    # Joint liability: members of a group in arrears mostly are, together.
                    own = profile if rng.random() < 0.8 else "good"
                    self.simulate(sim, own)
                    sim.idx = len(self.loans)
                    self.loans.append(sim)

    def plan(self) -> None:
        rng = self.rng
        eligible = [m for m in self.members if m[2] <= self.today - timedelta(days=120)]
        order = list(range(len(eligible)))
        rng.shuffle(order)
        n_borrowers = min(len(eligible), round(BORROWER_SHARE * len(self.members)))
        chosen = sorted(order[:n_borrowers])
        rest = order[n_borrowers:]
        written = sorted(rest[:round(WRITTEN_OFF_SHARE * len(self.members))])
        women: dict[int, list[tuple[int, date, str]]] = defaultdict(list)
        for k in chosen:
            person, caisse, start, sex, village = eligible[k]
            if sex == "F" and rng.random() < GROUP_SHARE:
                women[caisse].append((person, start, village))
                continue
            self.individual(person, caisse, start)
        # Women left over from a group too small borrow alone.
        for caisse in sorted(women):
            pool = women[caisse]
            rng.shuffle(pool)
            extra = len(pool) % 5 if len(pool) < 5 else 0
            for person, start, _v in pool[:extra]:
                self.individual(person, caisse, start)
            women[caisse] = pool[extra:]
        self.women_groups(women)
        for k in written:
            person, caisse, _start, _sex, _v = eligible[k]
            self.written_off(person, caisse)


# --- writing --------------------------------------------------------------------------------


class Ledger:
    """Per (caisse, month, kind) one entry; lines kept until the end."""

    def __init__(self) -> None:
        self.lines: dict[tuple[int, date, str], list[tuple[str, str, int, str]]] = \
            defaultdict(list)

    def add(self, caisse: int, day: date, kind: str, account: str, side: str, amount: int,
            sub: str = "") -> None:
        if amount:
            self.lines[(caisse, _month(day), kind)].append((account, side, amount, sub))


DESCRIPTIONS = {
    "0refinance": "Refinancement du portefeuille de crédit par le réseau",
    "1disburse": "Reprise historique crédit: décaissements {m}",
    "2repay": "Reprise historique crédit: remboursements {m}",
    "3restructure": "Reprise historique crédit: restructurations {m}",
    "4release": "Reprise historique crédit: épargne nantie libérée {m}",
    "5writeoff": "Reprise historique crédit: passages en perte {m}",
}


def _write(b: Builder) -> dict[str, Any]:
    rng = b.rng
    today = b.today
    loans = b.loans
    products = b.products
    caisses = b.caisses
    kondo = b.kondo
    User = get_user_model()
    manager = User.objects.filter(is_superuser=True).order_by("pk").first() or \
        User.objects.order_by("pk").first()
    caps = b.caps
    books = {bk.unit_id: bk.pk for bk in Book.objects.filter(organisation=kondo,
                                                              unit__isnull=False)}
    nan = SavingsProduct.objects.get(organisation=kondo, code="NAN")
    epv = {(p, c): (pk, number) for pk, p, c, number in SavingsAccount.objects.filter(
        product__organisation=kondo, product__kind="voluntary", person__isnull=False,
        status="active").order_by("pk").values_list("pk", "person_id", "caisse_id", "number")}

    existing = {(scope, year): value for scope, year, value in Counter.objects.filter(
        scope__regex=r"^(loan|savings-account|entry|receipt):").values_list(
        "scope", "year", "value")}
    counters: dict[tuple[str, int], int] = {}

    def take(scope: str, year: int) -> int:
        key = (scope, year)
        if key not in counters:
            counters[key] = existing.get(key, 0)
        counters[key] += 1
        return counters[key]

    # Loan numbers per caisse and year of application, in order of application.
    for s in loans:
        s.applied = s.disbursed_on - timedelta(days=rng.randint(7, 21))
        s.approved = s.disbursed_on - timedelta(days=rng.randint(0, 5))
        s.approved = max(s.approved, s.applied)
    order = sorted(loans, key=lambda s: (s.caisse, s.applied, s.idx))
    for s in order:
        code = caisses[s.caisse]["code"]
        year = s.applied.year
        s.number = f"{code}-P{year % 100:02d}-{take(f'loan:{s.caisse}', year):05d}"
    # Guarantee savings accounts (épargne nantie), numbered after the member's savings book.
    for s in sorted(loans, key=lambda s: (s.caisse, s.disbursed_on, s.idx)):
        if s.savings:
            code = caisses[s.caisse]["code"]
            s.nan_number = f"{code}-NAN-{take(f'savings-account:{s.caisse}', 0):06d}"

    ledger = Ledger()
    # (caisse, day, kind, amount, loan idx marker...)
    nan_tx: list[tuple[int, str, str, int, int, date, str, str]] = []
    releases: list[tuple[date, int, int, str, str]] = []
    cash_flow: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for s in loans:
        c, num = s.caisse, s.number
        net = s.principal - s.fees - s.savings
        d = s.disbursed_on
        ledger.add(c, d, "1disburse", "202", "D", s.principal, num)
        ledger.add(c, d, "1disburse", "102", "C", net)
        ledger.add(c, d, "1disburse", "102", "D", net)  # the vault funds the drawers
        ledger.add(c, d, "1disburse", "101", "C", net)
        ledger.add(c, d, "1disburse", "7029", "C", s.fees)
        ledger.add(c, d, "1disburse", "2545", "C", s.savings, s.nan_number)
        cash_flow[c].append((d, -net))
        gl = "202"
        events = [(day, 0, parts) for day, parts in s.payments]
        if s.reschedule:
            events.append((s.reschedule[0], 1, None))
        if s.status == LoanStatus.WRITTEN_OFF:
            events.append((s.written_off_on, 2, None))
        events.sort(key=lambda e: (e[0], e[1]))
        outstanding = s.principal
        for day, what, parts in events:
            if what == 1:
                ledger.add(c, day, "3restructure", "291", "D", outstanding, num)
                ledger.add(c, day, "3restructure", gl, "C", outstanding, num)
                gl = "291"
                continue
            if what == 2:
                ledger.add(c, day, "5writeoff", "669", "D", outstanding, num)
                ledger.add(c, day, "5writeoff", gl, "C", outstanding, num)
                continue
            principal = sum(p[1] for p in parts)
            interest = sum(p[2] for p in parts)
            fees = sum(p[3] for p in parts)
            pen = sum(p[4] for p in parts)
            total = principal + interest + fees + pen
            outstanding -= principal
            ledger.add(c, day, "2repay", "102", "D", total)
            ledger.add(c, day, "2repay", gl, "C", principal, num)
            ledger.add(c, day, "2repay", "7021", "C", interest)
            ledger.add(c, day, "2repay", "7029", "C", fees)
            ledger.add(c, day, "2repay", "7022", "C", pen)
            ledger.add(c, day, "2repay", "101", "D", total)  # drawers handed in to the vault
            ledger.add(c, day, "2repay", "102", "C", total)
            cash_flow[c].append((day, total))
        s.gl_final = gl
        if s.savings:
            nan_tx.append((s.idx, "loan_in", "C", s.savings, s.savings, d,
                           f"Épargne nantie du prêt {num}", "1disburse"))
            target = epv.get((s.person, c))
            if s.status == LoanStatus.CLOSED and target is not None:
                day = s.closed_on
                ledger.add(c, day, "4release", "2545", "D", s.savings, s.nan_number)
                ledger.add(c, day, "4release", "251", "C", s.savings, target[1])
                nan_tx.append((s.idx, "transfer", "D", s.savings, 0, day,
                               f"Prêt {num} remboursé", "4release"))
                releases.append((day, s.idx, target[0], target[1], num))
                s.released = True
    # The network refinances each caisse's portfolio once, at the start of the history, for
    # the largest shortfall its cash would otherwise show.
    first_month = _month(b.start)
    for c, flows in cash_flow.items():
        running, worst = 0, 0
        for _day, amount in sorted(flows):
            running += amount
            worst = min(worst, running)
        if worst < 0:
            amount = (-worst + 999_999) // 1_000_000 * 1_000_000
            ledger.add(c, first_month, "0refinance", "101", "D", amount)
            ledger.add(c, first_month, "0refinance", "38", "C", amount)

    # --- journal entries, lines, balances ---------------------------------------------------
    accounts = dict(Account.objects.filter(organisation=kondo).values_list("code", "pk"))
    keys = sorted(ledger.lines, key=lambda k: (k[0], k[1], k[2]))
    entry_rows = []
    for c, month, kind in keys:
        value_date = max(month, b.start) if kind == "0refinance" else min(_month_end(month),
                                                                          today)
        book = books[c]
        number = take(f"entry:{book}", value_date.year)
        entry_rows.append((book, value_date.year, number, value_date, value_date,
                           DESCRIPTIONS[kind].format(m=f"{month:%m/%Y}"), "credit.history",
                           f"{caisses[c]['code']}:{month:%Y-%m}:{kind[1:]}"))
    entry_ids = bulk_insert(JournalEntry, ["book_id", "year", "number", "value_date",
                                           "posting_date", "description", "source_type",
                                           "source_id"], entry_rows)
    entry_of = dict(zip(keys, entry_ids, strict=True))
    date_of = {k: row[3] for k, row in zip(keys, entry_rows, strict=True)}
    totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])

    def line_rows():
        for key in keys:
            c = key[0]
            book = books[c]
            merged: dict[tuple[str, str, str], int] = defaultdict(int)
            for account, side, amount, sub in ledger.lines[key]:
                merged[(account, side, sub)] += amount
            debit = sum(a for (_ac, sd, _sb), a in merged.items() if sd == "D")
            credit = sum(a for (_ac, sd, _sb), a in merged.items() if sd == "C")
            if debit != credit:
                raise RuntimeError(f"demo credit entry {key} does not balance")
            for (account, side, sub), amount in merged.items():
                t = totals[(book, accounts[account])]
                t[0 if side == "D" else 1] += amount
                yield (entry_of[key], book, date_of[key], accounts[account], side, amount, sub)

    bulk_insert(JournalLine, ["entry_id", "book_id", "value_date", "account_id", "side",
                              "amount", "subledger"], line_rows())
    balances_add(totals)

    def entry(c: int, day: date, kind: str) -> int:
        return entry_of[(c, _month(day), kind)]

    # --- guarantee savings accounts ---------------------------------------------------------
    with_savings = [s for s in loans if s.savings]
    nan_ids = bulk_insert(SavingsAccount, [
        "number", "product_id", "caisse_id", "person_id", "opened_on", "last_activity_on",
        "balance", "status", "closed_on", "loan_reference"], (
        (s.nan_number, nan.pk, s.caisse, s.person, s.disbursed_on,
         s.closed_on if s.released else s.disbursed_on,
         0 if s.released else s.savings,
         "closed" if s.released else "active",
         s.closed_on if s.released else None, s.number)
        for s in with_savings))
    nan_of = {s.idx: pk for s, pk in zip(with_savings, nan_ids, strict=True)}
    bulk_insert(SavingsTransaction, ["account_id", "kind", "direction", "amount", "status",
                                     "balance_after", "value_date", "description", "cash",
                                     "journal_entry_id"], (
        (nan_of[i], kind, direction, amount, "posted", after, day, text, False,
         entry(loans[i].caisse, day, ekind))
        for i, kind, direction, amount, after, day, text, ekind in nan_tx))
    # Released guarantees reach the member's savings book: later rows' running balances move
    # up by the amount (one statement per release, in date order).
    tx_table = connection.ops.quote_name(SavingsTransaction._meta.db_table)
    acc_table = connection.ops.quote_name(SavingsAccount._meta.db_table)
    releases.sort()
    ops = connection.ops
    with connection.cursor() as cursor:
        for day, i, account_id, _number, num in releases:
            s = loans[i]
            d = ops.adapt_datefield_value(day)
            cursor.execute(f"UPDATE {tx_table} SET balance_after = balance_after + %s "  # noqa: S608
                           "WHERE account_id = %s AND value_date > %s",
                           [s.savings, account_id, d])
            cursor.execute(
                f"INSERT INTO {tx_table} (account_id, kind, direction, amount, status, "  # noqa: S608
                "balance_after, value_date, description, cash, journal_entry_id, created_at, "
                "idempotency_key, reason) SELECT %s, %s, 'C', %s, 'posted', "
                f"COALESCE(SUM(CASE WHEN direction = 'C' THEN amount ELSE -amount END), 0) + %s, "
                f"%s, %s, %s, %s, %s, '', '' FROM {tx_table} WHERE account_id = %s "
                "AND value_date <= %s AND status IN ('posted', 'reversed')",
                [account_id, TxKind.TRANSFER, s.savings, s.savings, d,
                 f"Épargne nantie libérée ({num})", False, entry(s.caisse, day, "4release"),
                 ops.adapt_datetimefield_value(_now()), account_id, d])
            cursor.execute(f"UPDATE {acc_table} SET balance = balance + %s, "  # noqa: S608
                           "last_activity_on = CASE WHEN last_activity_on IS NULL OR "
                           "last_activity_on < %s THEN %s ELSE last_activity_on END "
                           "WHERE id = %s", [s.savings, d, d, account_id])

    # --- groups -----------------------------------------------------------------------------
    group_ids = bulk_insert(SolidarityGroup, [
        "caisse_id", "name", "kind", "leader_id", "meeting_every_days", "first_meeting_on",
        "meeting_place"], (
        (g["caisse"], g["name"], "women", g["members"][0][0], 14, g["first_meeting"],
         g["place"]) for g in b.groups))
    roles = ("leader", "treasurer")
    bulk_insert(GroupMember, ["group_id", "person_id", "role", "joined_on"], (
        (gid, person, roles[k] if k < 2 else "member", g["first_meeting"])
        for gid, g in zip(group_ids, b.groups, strict=True)
        for k, (person, _j, _v) in enumerate(g["members"])))

    # --- loans ------------------------------------------------------------------------------
    def loan_row(s: Sim):
        teg = s.teg
        paid = [p for _d, parts in s.payments for p in parts]
        principal_paid = sum(p[1] for p in paid)
        s.totals = (principal_paid, sum(p[2] for p in paid), sum(p[3] for p in paid),
                    sum(p[4] for p in paid))
        outstanding = 0 if s.status == LoanStatus.WRITTEN_OFF else s.principal - principal_paid
        return (s.number, products[s.product].pk, s.caisse, s.person,
                group_ids[s.group] if s.group is not None else None, s.status, s.principal,
                PURPOSES.get(s.activity, "")[:200], s.activity[:32], s.cycle, s.terms,
                s.pattern, teg.annual_rate_percent, teg.period_rate_percent, teg.base.value,
                usury_cap_on(s.disbursed_on, "sfd", caps), s.fees, s.savings,
                s.applied, s.disbursed_on, s.approved, s.disbursed_on,
                s.closed_on, s.written_off_on, s.version, s.reschedule is not None,
                s.gl_final,
                nan_of.get(s.idx), outstanding, principal_paid, s.totals[1], s.totals[2],
                s.totals[3],
                s.principal - principal_paid if s.status == LoanStatus.WRITTEN_OFF else 0,
                manager.pk if manager else None)

    loan_ids = bulk_insert(Loan, [
        "number", "product_id", "caisse_id", "person_id", "group_id", "status", "principal",
        "purpose", "activity", "cycle", "terms", "pattern", "teg_annual", "teg_period",
        "teg_base", "usury_cap", "upfront_fees", "compulsory_savings", "applied_on",
        "expected_disbursement_on", "approved_on", "disbursed_on", "closed_on",
        "written_off_on", "schedule_version", "restructured", "gl_account",
        "guarantee_account_id", "principal_outstanding", "principal_paid", "interest_paid",
        "fees_paid", "penalties_paid", "written_off_amount", "approved_by_id"],
        (loan_row(s) for s in loans))
    bulk_insert(Installment, [
        "loan_id", "version", "number", "due_on", "principal", "interest", "fees", "penalties",
        "principal_paid", "interest_paid", "fees_paid", "penalties_paid", "interest_waived",
        "penalised", "paid_on"], (
        (loan_ids[s.idx], *r) for s in loans for r in s.installments))

    # --- loan transactions, in date order (the history's receipts were on paper) ---
    txs: list[tuple] = []
    for s in loans:
        num = s.number
        net = s.principal - s.fees - s.savings
        txs.append((s.disbursed_on, 0, s.idx, LoanTxKind.DISBURSEMENT, s.principal, s.principal,
                    0, s.fees, 0, [], net, f"net {net}",
                    f"Prêt {num}: {s.principal} - frais {s.fees} - épargne {s.savings}",
                    s.principal))
        outstanding = s.principal
        for day, parts in s.payments:
            principal = sum(p[1] for p in parts)
            outstanding -= principal
            amount = sum(p[1] + p[2] + p[3] + p[4] for p in parts)
            txs.append((day, 1, s.idx, LoanTxKind.REPAYMENT, amount, principal,
                        sum(p[2] for p in parts), sum(p[3] for p in parts),
                        sum(p[4] for p in parts),
                        [{"number": p[0], "principal": p[1], "interest": p[2], "fees": p[3],
                          "penalties": p[4], "waived": 0} for p in parts], amount, "",
                        f"Prêt {num}", outstanding))
        if s.reschedule:
            txs.append((s.reschedule[0], 2, s.idx, LoanTxKind.RESCHEDULE, 0, 0, 0, 0, 0, [],
                        0, f"{RescheduleReason.LATE_COTTON}: paiement CMDT en retard", "", 0))
        if s.status == LoanStatus.WRITTEN_OFF:
            left = s.principal - sum(p[1] for _d, parts in s.payments for p in parts)
            txs.append((s.written_off_on, 3, s.idx, LoanTxKind.WRITE_OFF, left, left, 0, 0, 0,
                        [], 0, "Passage en perte après 6 mois d'impayés", "", 0))
    txs.sort(key=lambda t: (t[0], t[1], t[2]))
    kinds_entry = {0: "1disburse", 1: "2repay", 3: "5writeoff"}

    def tx_rows():
        for t in txs:
            s = loans[t[2]]
            je = entry(s.caisse, t[0], kinds_entry[t[1]]) if t[1] in kinds_entry else None
            yield (loan_ids[s.idx], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[0],
                   "cash" if t[1] <= 1 else "none", je, t[11],
                   manager.pk if manager and t[1] >= 2 else None)

    bulk_insert(LoanTransaction, ["loan_id", "kind", "amount", "principal", "interest", "fees",
                                  "penalties", "portions", "value_date", "channel",
                                  "journal_entry_id", "note", "created_by_id"], tx_rows())
    if manager is not None:
        bulk_insert(Rescheduling, ["loan_id", "reason", "note", "from_version", "to_version",
                                   "outstanding_principal", "carried_interest", "new_terms",
                                   "on", "created_by_id"], (
            (loan_ids[s.idx], RescheduleReason.LATE_COTTON, "Paiement CMDT en retard",
             s.version - 1, s.version, s.reschedule[1], s.reschedule[2], s.reschedule[3],
             s.reschedule[0], manager.pk) for s in loans if s.reschedule))

    # Counters continue after the demo.
    counter_table = connection.ops.quote_name(Counter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {counter_table} SET value = %s "  # noqa: S608
                           "WHERE scope = %s AND year = %s",
                           [(v, sc, y) for (sc, y), v in counters.items() if (sc, y) in existing])
    Counter.objects.bulk_create([Counter(scope=sc, year=y, value=v)
                                 for (sc, y), v in counters.items() if (sc, y) not in existing])

    active = [s for s in loans if s.status == LoanStatus.ACTIVE]
    par30 = _par(active, today, 30)
    outstanding = sum(s.principal - s.totals[0] for s in active)
    return {
        "loans": len(loans), "active_loans": len(active),
        "closed_loans": sum(s.status == LoanStatus.CLOSED for s in loans),
        "written_off": sum(s.status == LoanStatus.WRITTEN_OFF for s in loans),
        "rescheduled": sum(s.reschedule is not None for s in loans),
        "groups": len(group_ids), "installments": sum(len(s.installments) for s in loans),
        "transactions": len(txs), "ledger_entries": len(entry_ids),
        "outstanding": outstanding,
        "par30_percent": round(100 * par30 / outstanding, 1) if outstanding else 0.0,
        "schedules_computed": len(b.schedule.cache),
    }


def _now():
    from django.utils import timezone

    return timezone.now()


def _par(active: list[Sim], today: date, days: int) -> int:
    """Outstanding principal of loans with an instalment unpaid more than `days` days."""
    total = 0
    for s in active:
        rows = [r for r in s.installments if r[V] == s.version]
        if any(r[PAID] is None and (today - r[DUE]).days > days for r in rows):
            total += s.principal - s.totals[0]
    return total


def credit_demo_build(*, seed: int, today: date) -> dict[str, Any]:
    """The demo loan portfolio; returns counts. Runs inside the caller's transaction.
    Deterministic for a seed and a date. Does nothing when loans already exist."""
    present = Loan.objects.count()
    if present:
        return {"already_present": present}
    b = Builder(seed=seed, today=today)
    with transaction.atomic():
        b.load()
        b.plan()
        result = _write(b)
        result["members"] = len(b.members)
        audit_log(actor=None, event_type="demo.credit_loaded", subject=b.kondo,
                  after={k: v for k, v in result.items() if not isinstance(v, float)},
                  organisation=b.kondo)
    return result


__all__ = ["credit_demo_build"]
