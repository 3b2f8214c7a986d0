"""Demo UTM health data: one step of `jigi demo` (jigi.demo.builder.STEPS, after credit).

What it builds, deterministically for a seed (its own random stream, `ctx.rng("health")`):

- a profile per mutual (urban or rural, area, target population, founding, approval, last
  general assembly, a board of its members); the union's default packages (health.setup: AMV for
  the six urban mutuals, RUR paid after the harvest for the six rural ones); a union
  administrator login (`union`);
- a coverage for every UTM member of the registry (people.Membership at a mutual): a member who
  heads a household covers his wives (several in polygamous households) and the children still
  within the package's age; a wife who is the member covers herself, her husband and the
  children, unless another coverage already holds them (one live coverage per person and
  package code); enrolment on the membership's date, cards from health.cards, renewals every
  year (children past the age limit leave at a renewal, as coverage_renew does); a group
  agreement with the MTC domestic workers' section (S-DOM) whose members, with a recorded
  consent, are enrolled by it at M01 (payer: the section, waiting period waived; only those
  already members of the union at M01: the registry's union memberships are the demo's own);
- twelve months of contribution dues and payments (most urban members pay monthly, some three
  months at a time, some late; rural members pay after the harvest in one or two instalments;
  about one in five urban members stops paying and is suspended after the grace, a few rural
  ones pay nothing after a bad harvest, some come back and wait the lapse stage), allocated oldest period first as health.dues says, receipts numbered per mutual
  and year, advances (412) recognised when their period begins;
- providers of each mutual's area (two CSCom, the CSRef, a pharmacy) and the regional hospitals,
  each under a union-wide convention with its tariff (prices in francs CFA by kind of facility,
  lower in the villages), and M01's own convention with its first CSCom (cheaper, from a date in
  the history);
- a year of care sheets with a realistic frequency (1.4-2.0 outpatient contacts a year, the
  malaria season, antenatal visits and deliveries at Mali's birth rate, some caesareans with an
  evacuation, a few hospital stays and operations), a few prices above the tariff, sheets sent
  twice, unknown items; every claim checked and valued by the claims service's batch
  adjudication (`claims_adjudicate`, once per mutual), the old flagged ones reviewed through
  `claim_review`, the recent ones left in the review queue; approved a few days later (maker-
  checker: approved by another person than the one who entered it) and paid in monthly batches
  per provider (prepared on the 3rd, approved on the 5th, paid on the 10th of the next month);
- one reinsurance treaty per mutual (`treaty_create`) and its statements for every ended
  quarter and year of the history (`statement_settle`); a rural mutual has a catastrophic
  surgery (about 900,000 F claimed) recovered through the excess of loss of its quarter;
- monthly prevention sessions per mutual with the attendance of its beneficiaries.

Ledger (each mutual's book, MUTUAL chart): per mutual and day one entry for the contributions
received (57 cash, 53 mobile money, 52 the partner's transfers / 702 card fees, 701 dues of
periods begun, 412 advances), per mutual and period start one entry recognising the advances
(412 / 701), per month the cash banked (57 and 53 / 52), per payment batch its approval
(601 / 401) and payment (401 / 52) with the provider as sub-ledger, and an opening balance of the
mutual's funds (52 / 101) large enough that the bank never goes below zero. Reinsurance
statements are posted by the reinsurance service (both the mutual's and the pool's books).

Big tables are written with jigi.demo.bulk (plain tuples), the way the savings and credit steps
load their history; small things go through the services where they are not durable
transactions of their own (the demo is one transaction). Rows written directly carry the same
derived fields the services compute (numbers, cards, schedules, paid-through, suspensions) and
the counters continue after them, so the next real enrolment, receipt, claim or batch gets the
next number. One audit row (`health.demo_loaded`) records the counts.

Dates: the history ends on `ctx.today`; the checks, reviews and statements run by the services
use the machine's date (a demo built with a `--today` in the future leaves the claims after the
real date rejected as FUTURE_DATE, and settles only the quarters ended by the real date).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError
from jigi.demo.bulk import BulkLedger, Counters, at, bulk_insert
from jigi.health import dues as schedule
from jigi.health.cards import card_number
from jigi.health.models import (
    AreaKind,
    Beneficiary,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    Contribution,
    ContributionDue,
    Convention,
    Coverage,
    CoverageStatus,
    GroupAgreement,
    MutualProfile,
    PaymentBatch,
    PreventionSession,
    Provider,
    SuspensionPeriod,
    TariffItem,
)
from jigi.health.services.batches import batch_prepare
from jigi.health.services.claims import LineDecision, bulk_set, claim_review, claims_adjudicate
from jigi.health.services.reinsurance import statement_settle, treaty_create
from jigi.health.setup import health_setup
from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.orgs.models import Role, Unit
from jigi.orgs.services import staff_user_create
from jigi.people.models import Consent, ConsentScope, HouseholdMember, Membership

if TYPE_CHECKING:
    from jigi.demo.builder import DemoContext

HISTORY_MONTHS = 12  # dues and claims from the first day of the month a year before today
# Plain strings for rows written in bulk: psycopg writes an Enum member by its name.
ACTIVE, SUSPENDED = CoverageStatus.ACTIVE.value, CoverageStatus.SUSPENDED.value
ENTERED, REVIEW, VALUED = (ClaimStatus.ENTERED.value, ClaimStatus.REVIEW.value,
                           ClaimStatus.VALUED.value)
APPROVED, REJECTED, PAID = (ClaimStatus.APPROVED.value, ClaimStatus.REJECTED.value,
                            ClaimStatus.PAID.value)

# --- places and facilities ----------------------------------------------------------------------

# Population of each mutual's commune or cercle (RGPH 2009, rounded): the target population is
# a share of it, scaled to the demo's size.
AREA_POPULATION = {
    "Commune I": 335_000, "Commune II": 160_000, "Commune III": 128_000,
    "Commune IV": 300_000, "Commune V": 414_000, "Commune VI": 470_000,
    "Bougouni": 460_000, "Koutiala": 575_000, "Bla": 250_000, "Niono": 365_000,
    "Bandiagara": 325_000, "Djenné": 210_000,
}
# The reference hospital of each region of the demo's mutuals.
HOSPITALS = {
    "Bamako": ("HOP-GT", "CHU Gabriel Touré"),
    "Sikasso": ("HOP-SIK", "Hôpital régional de Sikasso"),
    "Ségou": ("HOP-SEG", "Hôpital Nianankoro Fomba de Ségou"),
    "Mopti": ("HOP-MOP", "Hôpital Sominé Dolo de Mopti"),
}

# code: (label, kind, service group, quantity limit per event)
ITEMS: dict[str, tuple[str, str, str, int]] = {
    "CONS": ("Consultation curative (infirmier)", "act", "consultation", 1),
    "CONS-MED": ("Consultation de médecin généraliste", "act", "consultation", 1),
    "CONS-SPEC": ("Consultation spécialisée (gynécologue, pédiatre, chirurgien)", "act",
                  "consultation", 2),
    "PANS": ("Pansement simple", "act", "consultation", 1),
    "CPN": ("Consultation prénatale", "act", "antenatal", 1),
    "CPON": ("Consultation postnatale", "act", "antenatal", 1),
    "SP": ("Sulfadoxine-pyriméthamine (TPI), comprimé", "drug", "antenatal", 3),
    "TDR": ("Test de diagnostic rapide du paludisme", "act", "lab", 1),
    "GE": ("Goutte épaisse", "act", "lab", 1),
    "HB": ("Taux d'hémoglobine", "act", "lab", 1),
    "URIN": ("Examen d'urines (albumine, sucre)", "act", "lab", 1),
    "NFS": ("Numération formule sanguine", "act", "lab", 2),
    "GLY": ("Glycémie", "act", "lab", 1),
    "WIDAL": ("Sérodiagnostic de Widal", "act", "lab", 1),
    "ECHO": ("Échographie", "act", "lab", 1),
    "RADIO": ("Radiographie pulmonaire", "act", "lab", 2),
    "BIOCHIM": ("Bilan biochimique complet", "act", "lab", 1),
    "ACC": ("Accouchement simple", "act", "delivery", 1),
    "ACC-DYST": ("Accouchement dystocique (ventouse, forceps)", "act", "delivery_complicated",
                 1),
    "CES": ("Césarienne (acte et kit)", "act", "delivery_complicated", 1),
    "HOSP": ("Journée d'hospitalisation", "act", "hospitalisation", 15),
    "HOSP-H": ("Journée d'hospitalisation (hôpital)", "act", "hospitalisation", 30),
    "REA": ("Journée de réanimation", "act", "hospitalisation", 10),
    "TRANSF": ("Transfusion sanguine (poche)", "act", "hospitalisation", 4),
    "APP": ("Appendicectomie", "act", "surgery", 1),
    "HERN": ("Cure de hernie inguinale", "act", "surgery", 1),
    "CHIR-MAJ": ("Chirurgie viscérale majeure (péritonite, occlusion)", "act", "surgery", 1),
    "EVAC": ("Évacuation en ambulance vers le CSRef", "act", "transport", 1),
    "EVAC-H": ("Évacuation sanitaire vers l'hôpital", "act", "transport", 1),
    "PARA": ("Paracétamol 500 mg, comprimé", "drug", "drugs", 30),
    "AMOX": ("Amoxicilline 500 mg, gélule", "drug", "drugs", 30),
    "ACT": ("Artéméther-luméfantrine 20/120 mg, plaquette", "drug", "drugs", 2),
    "SRO": ("Sels de réhydratation orale, sachet", "drug", "drugs", 10),
    "METRO": ("Métronidazole 250 mg, comprimé", "drug", "drugs", 30),
    "COTRI": ("Cotrimoxazole 480 mg, comprimé", "drug", "drugs", 30),
    "IBU": ("Ibuprofène 400 mg, comprimé", "drug", "drugs", 30),
    "FER": ("Fer et acide folique, comprimé", "drug", "drugs", 90),
    "OMEP": ("Oméprazole 20 mg, gélule", "drug", "drugs", 30),
    "AMLO": ("Amlodipine 5 mg, comprimé", "drug", "drugs", 60),
    "OCYT": ("Ocytocine 10 UI, ampoule", "drug", "drugs", 2),
    "QUIN": ("Quinine 400 mg injectable, ampoule", "drug", "drugs", 9),
    "ARTES": ("Artésunate 60 mg injectable, flacon", "drug", "drugs", 9),
    "CEFTR": ("Ceftriaxone 1 g injectable, flacon", "drug", "drugs", 30),
    "SERUM": ("Sérum glucosé 5 %, flacon de 500 ml", "drug", "drugs", 20),
    "PARA-INJ": ("Paracétamol 1 g injectable, flacon", "drug", "drugs", 15),
    "KIT-OP": ("Kit opératoire et consommables", "drug", "drugs", 1),
    "SIROP": ("Sirop antitussif, flacon", "drug", "drugs", 2),
    "POMM": ("Pommade antibiotique, tube", "drug", "drugs", 2),
}
_ESSENTIAL = {"PARA": 10, "AMOX": 35, "ACT": 700, "SRO": 100, "METRO": 10, "COTRI": 10,
              "IBU": 15, "FER": 5, "OMEP": 25, "OCYT": 500, "QUIN": 400, "SERUM": 600,
              "POMM": 500}
# Agreed prices in francs CFA by kind of facility: (in town, in a village). CSCom prices follow
# the community health associations' tariffs (consultation 500-1,500 F), drugs the essential
# generic drugs' public prices; private pharmacies sell dearer.
PRICES: dict[str, dict[str, tuple[int, int]]] = {
    "cscom": {"CONS": (1_500, 750), "PANS": (500, 300), "CPN": (1_000, 500),
              "CPON": (1_000, 500), "SP": (50, 50), "TDR": (500, 500), "GE": (1_000, 750),
              "HB": (1_000, 750), "URIN": (500, 500), "ACC": (5_000, 3_500),
              **{k: (p, p) for k, p in _ESSENTIAL.items()}},
    "csref": {"CONS-MED": (2_000, 1_500), "CONS-SPEC": (3_500, 2_500), "CPN": (1_500, 1_000),
              "TDR": (500, 500), "GE": (1_000, 1_000), "NFS": (2_500, 2_000),
              "GLY": (1_000, 1_000), "WIDAL": (2_500, 2_000), "ECHO": (7_500, 6_000),
              "URIN": (750, 750), "ACC": (7_500, 5_000), "ACC-DYST": (25_000, 20_000),
              "CES": (75_000, 60_000), "HOSP": (2_500, 2_000), "APP": (75_000, 60_000),
              "HERN": (60_000, 50_000), "EVAC": (15_000, 20_000), "ARTES": (1_500, 1_500),
              "CEFTR": (800, 800), "PARA-INJ": (900, 900),
              **{k: (p + p // 10, p + p // 10) for k, p in _ESSENTIAL.items()}},
    "hospital": {"CONS-SPEC": (5_000, 5_000), "NFS": (3_000, 3_000), "GLY": (1_500, 1_500),
                 "WIDAL": (3_000, 3_000), "ECHO": (10_000, 10_000),
                 "RADIO": (7_500, 7_500), "BIOCHIM": (8_000, 8_000), "CES": (100_000, 100_000),
                 "HOSP-H": (5_000, 5_000), "REA": (30_000, 30_000), "TRANSF": (15_000, 15_000),
                 "APP": (100_000, 100_000), "HERN": (80_000, 80_000),
                 "CHIR-MAJ": (450_000, 450_000), "EVAC-H": (40_000, 40_000),
                 "ARTES": (1_800, 1_800), "CEFTR": (900, 900), "SERUM": (700, 700),
                 "PARA-INJ": (1_000, 1_000), "KIT-OP": (60_000, 60_000),
                 "AMOX": (50, 50), "PARA": (15, 15), "OMEP": (35, 35)},
    "pharmacy": {"PARA": (25, 25), "AMOX": (75, 60), "ACT": (1_500, 1_200), "SRO": (150, 125),
                 "METRO": (25, 20), "COTRI": (20, 20), "IBU": (25, 25), "FER": (15, 10),
                 "OMEP": (50, 40), "AMLO": (60, 60), "SIROP": (1_500, 1_250),
                 "POMM": (1_000, 800), "CEFTR": (1_500, 1_250)},
}
# M01's own convention with its first CSCom: what the mutual negotiated for its members.
M01_DISCOUNT = {"CONS": 1_000, "CPN": 750, "CPON": 750, "GE": 750, "ACC": 4_000}
# Not in any tariff: claimed now and then, rejected as UNKNOWN_ITEM.
UNKNOWN_ITEMS = ["VIT-C", "ANTALGIC-X", "TEST-GROSS"]

# Outpatient illnesses: (ICD-10, weight, lines at a CSCom or CSRef, lines at a pharmacy).
# A line is (code, low quantity, high quantity); codes missing from a tariff are left out.
ILLNESSES: list[tuple[str, int, list[tuple[str, int, int]], list[tuple[str, int, int]]]] = [
    ("B54", 34, [("CONS", 1, 1), ("TDR", 1, 1), ("ACT", 1, 1), ("PARA", 6, 12)],
     [("ACT", 1, 1), ("PARA", 6, 12)]),
    ("J06.9", 18, [("CONS", 1, 1), ("PARA", 6, 12), ("AMOX", 15, 21)],
     [("AMOX", 15, 21), ("PARA", 6, 12), ("SIROP", 1, 1)]),
    ("A09", 10, [("CONS", 1, 1), ("SRO", 2, 6), ("METRO", 9, 15)],
     [("SRO", 2, 6), ("METRO", 9, 15)]),
    ("J18.9", 5, [("CONS", 1, 1), ("NFS", 1, 1), ("AMOX", 21, 30), ("PARA", 9, 12)],
     [("AMOX", 21, 30), ("PARA", 9, 12)]),
    ("N39.0", 7, [("CONS", 1, 1), ("URIN", 1, 1), ("COTRI", 10, 14)], [("COTRI", 10, 14)]),
    ("K29.7", 8, [("CONS", 1, 1), ("OMEP", 14, 28)], [("OMEP", 14, 28)]),
    ("I10", 5, [("CONS", 1, 1), ("GLY", 1, 1), ("AMLO", 30, 30)], [("AMLO", 30, 60)]),
    ("L08.9", 5, [("CONS", 1, 1), ("PANS", 1, 1), ("POMM", 1, 1), ("AMOX", 10, 15)],
     [("POMM", 1, 2), ("AMOX", 10, 15)]),
    ("D64.9", 5, [("CONS", 1, 1), ("HB", 1, 1), ("FER", 30, 60)], [("FER", 30, 60)]),
    ("M54.5", 3, [("CONS", 1, 1), ("IBU", 10, 20)], [("IBU", 10, 20)]),
]
# Malaria and fevers peak in the rainy season (July-November).
MONTH_WEIGHT = {1: 0.8, 2: 0.7, 3: 0.7, 4: 0.7, 5: 0.8, 6: 0.9, 7: 1.1, 8: 1.4, 9: 1.6,
                10: 1.6, 11: 1.3, 12: 0.9}

OUTPATIENT_RATE = {True: 2.0, False: 1.4}  # contacts per beneficiary-year, town / village
PREGNANCY_RATE = 0.14  # deliveries per woman of 18-45 per year covered (Mali: ~0.18)
HOSPITAL_RATE = 0.035
SURGERY_RATE = 0.007
DUPLICATE_RATE = 0.01  # care sheets sent twice
ABOVE_TARIFF_RATE = 0.04  # lines billed above the tariff, within the review tolerance
FAR_ABOVE_RATE = 0.002  # claims with a line far above the tariff (to review)
UNKNOWN_RATE = 0.005
REVIEW_AGE_DAYS = 21  # flagged claims older than this were reviewed; newer wait in the queue

# Reinsurance treaty of every mutual (health.reinsurance terms).
TREATY_TERMS = {"cession_bp": 700, "premium_per_beneficiary_month": 0,
                "xol_priority": 150_000, "xol_limit": 1_000_000, "xol_share_bp": 10_000,
                "xol_per_event": True, "stop_loss_attachment_bp": 11_000,
                "stop_loss_limit_bp": 5_000, "stop_loss_limit": None}

TOPICS = [
    "Paludisme : dormir sous moustiquaire imprégnée",
    "Consultations prénatales et accouchement assisté",
    "Eau potable et lavage des mains",
    "Allaitement et nutrition du jeune enfant",
    "Vaccination des enfants",
    "Planification familiale",
    "Hypertension et diabète : dépistage",
    "La mutuelle : droits et devoirs des adhérents",
    "VIH/sida et infections sexuellement transmissibles",
    "Choléra et maladies diarrhéiques",
    "Santé de la femme : dépistage du cancer du col",
    "Premiers secours et évacuations",
]
FACILITATORS = ["Infirmier du {cscom}", "Sage-femme du {cscom}", "Animatrice de la mutuelle",
                "Médecin du {csref}", "Agent de santé communautaire"]
BOARD_OFFICES = ["president", "vice_president", "secretary", "treasurer", "member", "member",
                 "auditor"]


# --- small helpers -----------------------------------------------------------------------------


def _month_add(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, 1)


@dataclass(frozen=True)
class _Born:
    """A person's two birth fields, as people.selectors.age_on reads them."""

    birth_date: date | None
    birth_year: int | None

    def age_on(self, on: date) -> int | None:
        b = self.birth_date
        if b:
            return on.year - b.year - ((on.month, on.day) < (b.month, b.day))
        return on.year - self.birth_year if self.birth_year else None


# --- the plan of coverages ----------------------------------------------------------------------


@dataclass(slots=True)
class _Ben:
    person: int  # person pk
    relation: str
    since: date
    until: date | None = None
    card: str = ""
    pk: int = 0


@dataclass(slots=True)
class _Cov:
    mutual: int  # index into ctx.mutuals
    member: int  # person pk
    membership: int | None
    household: int | None
    enrolled_on: date
    agreement: bool = False
    bens: list[_Ben] = field(default_factory=list)
    number: str = ""
    pk: int = 0
    covered_from: date | None = None
    renewal_due: date | None = None
    card_fee_paid: bool = False
    # Filled by the contributions' simulation.
    dues: list[list] = field(default_factory=list)  # [start, end, amount, paid, recognised]
    payments: list[tuple] = field(default_factory=list)  # (day, amount, card, parts)
    suspensions: list[tuple[date, date | None, str]] = field(default_factory=list)
    status: str = ACTIVE
    suspended_on: date | None = None
    paid_through: date | None = None


class HealthDemo:
    """The health step's state while it builds (one instance per `jigi demo`)."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("health")
        self.today = ctx.today
        self.start = _month_add(ctx.today.replace(day=1), -HISTORY_MONTHS)
        # The services' checks and statements use the machine's date.
        self.real_today = min(timezone.localdate(), ctx.today)
        self.utm = ctx.o.utm
        self.mutuals: list[Unit] = ctx.mutuals
        self.counts: dict[str, Any] = {}
        self.ledger = BulkLedger(self.utm.pk)
        self.books = dict(Book.objects.filter(unit__in=self.mutuals).values_list("unit_id",
                                                                                  "pk"))

    # --- set-up: users, packages, profiles, providers ------------------------------------------

    def users(self) -> None:
        User = get_user_model()
        by_name = {u.username: u for u in User.objects.filter(
            username__in=["mutuelle1", "clinique", "gestionnaire", "union", "admin"])}
        union = by_name.get("union")
        if union is None:
            union = staff_user_create(username="union", password=None, first_name="Mamadou",
                                      last_name="Sanogo", organisation=self.utm,
                                      role=Role.UNION_ADMIN, unit=None)
            # The demo logins share one password: copy its hash (PBKDF2 is slow on purpose).
            union.password = next((u.password for u in by_name.values()
                                   if u.username != "admin"), union.password)
            union.save(update_fields=["password"])
            self.ctx.logins.append(("union", str(Role.UNION_ADMIN.label), self.utm.name))
        self.manager = by_name.get("mutuelle1") or union
        self.clinic = by_name.get("clinique")
        self.officer = by_name.get("gestionnaire") or union
        self.union_admin = union

    def setup(self) -> None:
        packages = health_setup(organisation=self.utm, acting_user=self.union_admin)
        self.packages = {True: packages["AMV"], False: packages["RUR"]}

    def providers(self) -> None:
        """Facilities of each mutual's area and the regional hospitals, each with its union-wide
        convention; M01's own convention with its first CSCom."""
        from jigi.demo.builder import BAMAKO_QUARTERS, _village

        rng = self.rng
        rows: list[dict[str, Any]] = []
        self.facility: dict[tuple[int, str], int] = {}  # (mutual index, role) -> row index
        hospital_rows: dict[str, int] = {}
        for i, m in enumerate(self.mutuals):
            if m.urban:
                quarters = BAMAKO_QUARTERS[m.cercle]
                places = [quarters[0], quarters[1 + rng.randrange(len(quarters) - 1)]]
                csref = f"CSRef de la {m.cercle}"
            else:
                places = [m.cercle, _village(rng)]
                csref = f"CSRef de {m.cercle}"
            for k, place in enumerate(places):
                kind = "central de " if not m.urban and k == 0 else "de "
                self.facility[(i, f"cscom{k}")] = len(rows)
                rows.append({"code": f"CSC-{m.code}{'AB'[k]}", "name": f"CSCom {kind}{place}",
                             "kind": "cscom", "mutual": i, "village": place})
            self.facility[(i, "csref")] = len(rows)
            rows.append({"code": f"CSR-{m.code}", "name": csref, "kind": "csref", "mutual": i,
                         "village": m.commune})
            self.facility[(i, "pharmacy")] = len(rows)
            pharmacy = (f"Pharmacie de {places[1]}" if m.urban
                        else f"Pharmacie populaire de {m.cercle}")
            rows.append({"code": f"PH-{m.code}", "name": pharmacy, "kind": "pharmacy",
                         "mutual": i, "village": places[1] if m.urban else m.cercle})
            if m.region not in hospital_rows:
                code, name = HOSPITALS[m.region]
                hospital_rows[m.region] = len(rows)
                rows.append({"code": code, "name": name, "kind": "hospital", "mutual": i,
                             "village": m.region})
            self.facility[(i, "hospital")] = hospital_rows[m.region]
        providers = Provider.objects.bulk_create([
            Provider(organisation=self.utm, code=r["code"], name=r["name"], kind=r["kind"],
                     region=self.mutuals[r["mutual"]].region,
                     cercle=self.mutuals[r["mutual"]].cercle,
                     commune=self.mutuals[r["mutual"]].commune, village=r["village"])
            for r in rows])
        for p in providers:
            audit_log(actor=self.union_admin, event_type="health.provider_created", subject=p,
                      after={"code": p.code, "name": p.name, "kind": p.kind},
                      organisation=self.utm)
        self.provider_rows = rows
        self.provider_list = providers
        valid_from = date(self.start.year, 1, 1)
        conventions = Convention.objects.bulk_create([
            Convention(provider=p, mutual=None, reference=f"UTM-{p.code}",
                       valid_from=valid_from, tolerance_pct=50) for p in providers])
        # The rural price applies where the facility is outside Bamako, except hospitals.
        items = []
        for p, conv in zip(providers, conventions, strict=True):
            rural = p.region != "Bamako" and p.kind != "hospital"
            for code, prices in PRICES[p.kind].items():
                items.append(self._item(conv, code, prices[1 if rural else 0]))
        m01 = self.mutuals[0]
        cscom = providers[self.facility[(0, "cscom0")]]
        # M01 signed its own, cheaper convention with its first CSCom four months into the
        # history: claims before it are checked against the union's tariff, after it against
        # M01's (health.selectors.tariff_for).
        own_from = _month_add(self.start, 4)
        own = Convention.objects.create(provider=cscom, mutual=m01,
                                        reference=f"{m01.code}-{cscom.code}",
                                        valid_from=own_from, tolerance_pct=50)
        for code, (price, _rural) in PRICES["cscom"].items():
            items.append(self._item(own, code, M01_DISCOUNT.get(code, price)))
        TariffItem.objects.bulk_create(items)
        for conv in [*conventions, own]:
            audit_log(actor=self.union_admin, event_type="health.convention_created",
                      subject=conv, after={"reference": conv.reference,
                                           "valid_from": conv.valid_from.isoformat()},
                      organisation=self.utm, unit=conv.mutual)
        # Tariffs as the claims read them: convention -> code -> (item id, group, price).
        self.tariff: dict[int, dict[str, tuple[int, str, int]]] = defaultdict(dict)
        for pk, conv_id, code, group, price in TariffItem.objects.filter(
                convention__in=[*conventions, own]).values_list(
                "pk", "convention_id", "code", "group", "price"):
            self.tariff[conv_id][code] = (pk, group, price)
        self.union_convention = {p.pk: c.pk for p, c in zip(providers, conventions,
                                                                  strict=True)}
        self.own_convention = (cscom.pk, own.pk, own_from)
        if self.clinic is not None:
            cscom.staff.add(self.clinic)
            audit_log(actor=self.union_admin, event_type="health.provider_staff_linked",
                      subject=cscom, after={"user": self.clinic.pk}, organisation=self.utm)
        self.counts.update(providers=len(providers), conventions=len(conventions) + 1,
                           tariff_items=len(items))

    @staticmethod
    def _item(conv: Convention, code: str, price: int) -> TariffItem:
        label, kind, group, max_qty = ITEMS[code]
        return TariffItem(convention=conv, code=code, label=label, kind=kind, group=group,
                          price=price, max_quantity=max_qty)

    def convention_for(self, provider_pk: int, mutual_index: int, day: date) -> int:
        """The convention a claim is checked against (the mutual's own first)."""
        own_provider, own, own_from = self.own_convention
        if mutual_index == 0 and provider_pk == own_provider and day >= own_from:
            return own
        return self.union_convention[provider_pk]

    # --- coverages ---------------------------------------------------------------------------------

    def plan_coverages(self) -> None:
        ctx = self.ctx
        mutual_index = {m.pk: i for i, m in enumerate(self.mutuals)}
        utm_members = ctx.joined.get("UTM", [])
        ids = [ctx.people[i].pk for i, _u, _d in utm_members]
        memberships = dict(Membership.objects.filter(
            organisation=self.utm, person_id__in=ids).values_list("person_id", "pk"))
        relation: dict[int, tuple[int, str]] = {}  # person index -> (household, relation)
        for n, hh in enumerate(ctx.households):
            relation[hh.head] = (n, "head")
            for s in hh.spouses:
                relation[s] = (n, "spouse")
            for c in hh.children:
                relation[c] = (n, "child")
        family_people = {ctx.people[p].pk for hh in ctx.households
                         for p in (hh.head, *hh.spouses, *hh.children)}
        self.born = {pk: _Born(bd, by) for pk, bd, by in
                     _persons_birth(set(ids) | family_people)}
        household_pk = dict(HouseholdMember.objects.filter(
            relation="head", person_id__in=[ctx.people[hh.head].pk for hh in ctx.households]
        ).values_list("person_id", "household_id"))

        # S-DOM members who are UTM members of M01 join through the section's agreement.
        m01 = self.mutuals[0] if self.mutuals else None
        sdom = {i for i, unit, _d in ctx.joined.get("MTC", []) if unit.code == "S-DOM"}
        self.agreement_signed = self.start + timedelta(days=75)
        covered: set[int] = set()
        plans: list[_Cov] = []
        self.agreement_people: list[tuple[int, date]] = []
        # Heads first, then wives, then everyone else: a family is covered once, by the first
        # of its members to hold the card.
        order = sorted(utm_members, key=lambda j: (
            {"head": 0, "spouse": 1}.get(relation.get(j[0], (0, ""))[1], 2), j[2], j[0]))
        for i, unit, joined in order:
            person = ctx.people[i]
            if person.pk in covered:
                continue
            urban = unit.urban
            package = self.packages[urban]
            hh_rel = relation.get(i)
            if i in sdom and m01 is not None and unit.pk == m01.pk:
                enrolled = max(joined, self.agreement_signed)
                if enrolled > self.today:
                    continue
                cov = _Cov(mutual=0, member=person.pk, membership=memberships.get(person.pk),
                           household=None, enrolled_on=enrolled, agreement=True)
                cov.bens.append(_Ben(person.pk, "head", enrolled))
                self.agreement_people.append((person.pk, enrolled))
            else:
                cov = _Cov(mutual=mutual_index[unit.pk], member=person.pk,
                           membership=memberships.get(person.pk), household=None,
                           enrolled_on=joined)
                cov.bens.append(_Ben(person.pk, "head", joined))
                if hh_rel is not None and hh_rel[1] in ("head", "spouse"):
                    hh = ctx.households[hh_rel[0]]
                    if hh_rel[1] == "head":
                        cov.household = household_pk.get(person.pk)
                        spouses = list(hh.spouses)
                    else:
                        spouses = [hh.head]  # the husband, on his wife's card
                    for s in spouses:
                        pk = ctx.people[s].pk
                        if pk not in covered:
                            cov.bens.append(_Ben(pk, "spouse", joined))
                    for c in hh.children:
                        pk = ctx.people[c].pk
                        age = self.born[pk].age_on(joined)
                        if pk not in covered and age is not None \
                                and age <= package.child_max_age:
                            cov.bens.append(_Ben(pk, "child", joined))
            cov.covered_from = cov.enrolled_on if cov.agreement else \
                cov.enrolled_on + timedelta(days=package.waiting_days)
            self._renewals(cov, package)
            covered.update(b.person for b in cov.bens)
            plans.append(cov)
        # Numbers and cards per mutual in order of enrolment, as the counters would give them.
        plans.sort(key=lambda c: (c.mutual, c.enrolled_on, c.member))
        self.counters = Counters([])
        for cov in plans:
            m = self.mutuals[cov.mutual]
            cov.number = f"{m.code}-F{self.counters.take(f'health-coverage:{m.pk}', 0):06d}"
            for b in cov.bens:
                b.card = card_number(m.code, self.counters.take(f"health-card:{m.pk}", 0))
        self.plans = plans

    def _renewals(self, cov: _Cov, package) -> None:
        """Renewed every year on the enrolment's anniversary; a child past the age limit on a
        renewal date leaves the card the day before (coverage_renew)."""
        k = 1
        due = schedule.add_years(cov.enrolled_on, 1)
        while due <= self.today:
            for b in cov.bens:
                if b.relation == "child" and b.until is None:
                    age = self.born[b.person].age_on(due)
                    if age is not None and age > package.child_max_age:
                        b.until = max(b.since, due - timedelta(days=1))
            k += 1
            due = schedule.add_years(cov.enrolled_on, k)
        cov.renewal_due = due

    # --- contributions ----------------------------------------------------------------------------

    def simulate_contributions(self) -> None:
        self._first: dict[tuple[int, date], schedule.Period] = {}
        self._runs: dict[tuple[int, date], tuple[list, list]] = {}
        for cov in self.plans:
            urban = self.mutuals[cov.mutual].urban
            self._simulate(cov, self.packages[urban], urban)

    def _periods(self, cov: _Cov, package) -> tuple[list[schedule.Period], list[schedule.Period]]:
        """The coverage's periods in the history (to the one containing today) and the three
        after it (paid in advance by some). Monthly and seasonal periods do not depend on the
        enrolment date (health.dues), so they are computed once per package and first period."""
        freq, months = package.frequency, package.season_months
        first = max(cov.enrolled_on, self.start)
        key = (package.pk, first)
        p = self._first.get(key)
        if p is None:
            p = schedule.period_containing(freq, months, cov.enrolled_on, first)
            if cov.enrolled_on < self.start and p.start < self.start:
                # Periods begun before the history were settled on paper.
                p = schedule.next_period(freq, months, cov.enrolled_on, p)
            self._first[key] = p
        run_key = (package.pk, p.start)
        cached = self._runs.get(run_key)
        if cached is None:
            out = []
            while p.start <= self.today:
                out.append(p)
                p = schedule.next_period(freq, months, cov.enrolled_on, p)
            ahead = []
            for _k in range(3):
                ahead.append(p)
                p = schedule.next_period(freq, months, cov.enrolled_on, p)
            cached = self._runs[run_key] = (out, ahead)
        return cached

    def _simulate(self, cov: _Cov, package, urban: bool) -> None:
        """Payments by the member's habit, allocated oldest period first (health.dues), the
        accounting split, and arrears: suspension and reinstatement as sync_status decides."""
        today = self.today
        spans = [schedule.Span(b.since, b.until) for b in cov.bens]
        periods, ahead = self._periods(cov, package)

        def amount(p: schedule.Period) -> int:
            return schedule.period_amount(package.contribution_basis, package.contribution,
                                          schedule.persons_counted(p, cov.enrolled_on, spans))

        allp = periods + ahead
        amounts = [amount(p) for p in allp]
        intents = self._intents(cov, allp, urban, package.frequency)
        fresh = cov.enrolled_on >= self.start
        cov.card_fee_paid = not fresh
        paid = [0] * len(allp)
        paid_day: list[date | None] = [None] * len(allp)
        k = 0
        for day, n in sorted(intents):
            if day > today or k >= len(allp):
                continue
            card = 0 if cov.card_fee_paid else package.card_fee
            parts = []
            for j in range(k, min(k + n, len(allp))):
                parts.append((j, amounts[j]))
                paid[j] = amounts[j]
                paid_day[j] = day
            k = min(k + n, len(allp))
            total = card + sum(a for _j, a in parts)
            if total <= 0:
                continue
            cov.card_fee_paid = True
            cov.payments.append((day, total, card, parts))
        last = max(len(periods), k)
        cov.dues = [[allp[j].start, allp[j].end, amounts[j], paid[j],
                     paid[j] if allp[j].start <= today else 0] for j in range(last)]
        cov.paid_through = schedule.paid_through(
            [schedule.Due(d[0], d[1], d[2], d[3], d[4]) for d in cov.dues])
        self._arrears(cov, package, allp[:last], paid_day[:last])

    def _intents(self, cov: _Cov, periods: list[schedule.Period], urban: bool,
                 freq: str) -> list[tuple[date, int]]:
        """(day, number of periods paid) by the member's habit."""
        rng = self.rng
        out: list[tuple[date, int]] = []
        fresh = cov.enrolled_on >= self.start
        if not periods:
            return out
        if cov.agreement:
            # The section pays for its members by transfer around the 10th of each month.
            if fresh:
                out.append((cov.enrolled_on, 1))
            for j, p in enumerate(periods):
                if j == 0 and fresh:
                    continue
                out.append((max(p.start + timedelta(days=9), cov.enrolled_on), 1))
            return out
        habit = rng.random()
        if freq == schedule.MONTHLY:
            stop = resume = None
            if habit < 0.22:  # stops paying; some come back and pay their arrears
                stop = rng.randrange(1, max(2, len(periods)))
                if rng.random() < 0.3:
                    resume = rng.randrange(100, 200)
            step = 3 if habit > 0.80 else 1  # some pay a quarter at a time
            late = 0.70 < habit <= 0.80
            j = 0
            if fresh:
                out.append((cov.enrolled_on, step))
                j = step
            last_day = cov.enrolled_on
            while j < len(periods):
                p = periods[j]
                if stop is not None and j >= stop:
                    if resume is None:
                        break
                    day = periods[stop].start + timedelta(days=resume)
                    owed = sum(1 for q in periods if q.start <= day) - j
                    out.append((day, max(1, owed)))
                    j += max(1, owed)
                    stop = resume = None
                    last_day = day
                    continue
                day = p.start + timedelta(days=rng.randrange(15, 80) if late
                                          else rng.randrange(0, 25))
                day = max(day, last_day)
                out.append((day, step))
                last_day = day
                j += step
            return out
        # Seasonal: after the harvest, both instalments at once or one after the other.
        if fresh:
            out.append((cov.enrolled_on, 1))
        seasons = 0
        for j, p in enumerate(periods):
            if fresh and j == 0:
                continue
            if p.start.month != min(self.packages[False].season_months):
                continue  # the second instalment is planned with the first
            seasons += 1
            if habit < 0.65:
                out.append((p.start + timedelta(days=rng.randrange(4, 40)), 2))
            elif habit < 0.85:
                first = p.start + timedelta(days=rng.randrange(4, 30))
                out.append((first, 1))
                out.append((first + timedelta(days=rng.randrange(40, 95)), 1))
            elif seasons > 1 and rng.random() < 0.6:
                continue  # a bad harvest again: nothing paid yet this season
            else:
                out.append((p.start + timedelta(days=rng.randrange(4, 30)), 1))
                if rng.random() < 0.4:  # pays the rest after the lean season
                    out.append((p.start + timedelta(days=rng.randrange(180, 270)), 1))
        # A member enrolled after the harvest pays the running period on enrolment only.
        return out

    def _arrears(self, cov: _Cov, package, periods: list[schedule.Period],
                 paid_day: list[date | None]) -> None:
        """Suspension on the first day the oldest unpaid period began more than the grace
        ago; reinstatement on the day it is paid, with the lapse stage (sync_status)."""
        grace, lapse = package.grace_days, package.waiting_days_lapse
        days = {d for d, _a, _c, _p in cov.payments}
        days |= {p.start + timedelta(days=grace + 1) for p in periods}
        status, since = ACTIVE, None
        for d in sorted(x for x in days if x <= self.today):
            oldest = next((p for p, when in zip(periods, paid_day, strict=True)
                           if p.start <= d and (when is None or when > d)), None)
            late = oldest is not None and (d - oldest.start).days > grace
            if status == ACTIVE and late:
                status, since = SUSPENDED, d
            elif status == SUSPENDED and not late:
                if since < d:
                    cov.suspensions.append((since, d - timedelta(days=1), "arrears"))
                if lapse:
                    cov.suspensions.append((d, d + timedelta(days=lapse - 1), "waiting"))
                status, since = ACTIVE, None
        if status == SUSPENDED:
            cov.suspensions.append((since, None, "arrears"))
            cov.suspended_on = since
        cov.status = status

    def write_coverages(self) -> None:
        """Coverages, beneficiaries, dues, suspensions, the agreement and its consents."""
        ctx = self.ctx
        mtc = ctx.o.mtc
        sdom = next((s for s in ctx.sections if s.code == "S-DOM"), None)
        self.agreement = None
        if self.mutuals and sdom is not None:
            self.agreement = GroupAgreement.objects.create(
                mutual=self.mutuals[0], package=self.packages[True], partner=mtc,
                partner_unit=sdom, name="Adhésion groupée des travailleuses domestiques (S-DOM)",
                signed_on=self.agreement_signed, payer="partner", waiting_waived=True,
                created_by=self.manager)
            audit_log(actor=self.manager, event_type="health.agreement_created",
                      subject=self.agreement, after={"partner": mtc.code, "payer": "partner",
                                                     "waiting_waived": True},
                      unit=self.mutuals[0])
            # The section passes on its members' identity with their consent (people.Consent).
            bulk_insert(Consent, ["person_id", "granted_to_id", "scope", "purpose", "given_at"],
                        [(pk, self.utm.pk, ConsentScope.IDENTITY.value,
                          "Adhésion groupée à la mutuelle par la section S-DOM",
                          at(day - timedelta(days=3), 10)) for pk, day in self.agreement_people])
        creator = {0: self.manager.pk}
        cov_ids = bulk_insert(Coverage, [
            "organisation_id", "mutual_id", "package_id", "member_id", "membership_id",
            "household_id", "agreement_id", "number", "status", "enrolled_on", "covered_from",
            "paid_through", "suspended_on", "card_fee_paid", "renewal_due", "created_by_id"], (
            (self.utm.pk, self.mutuals[c.mutual].pk,
             self.packages[self.mutuals[c.mutual].urban].pk, c.member, c.membership,
             c.household, self.agreement.pk if c.agreement and self.agreement else None,
             c.number, c.status, c.enrolled_on, c.covered_from, c.paid_through, c.suspended_on,
             c.card_fee_paid, c.renewal_due, creator.get(c.mutual))
            for c in self.plans))
        for c, pk in zip(self.plans, cov_ids, strict=True):
            c.pk = pk
        ben_rows = [(c.pk, b.person, b.relation, b.card, b.since, b.until)
                    for c in self.plans for b in c.bens]
        ben_ids = bulk_insert(Beneficiary, ["coverage_id", "person_id", "relation",
                                            "card_number", "since", "until"], ben_rows)
        it = iter(ben_ids)
        for c in self.plans:
            for b in c.bens:
                b.pk = next(it)
        bulk_insert(ContributionDue, ["coverage_id", "period_start", "period_end", "amount",
                                      "paid", "recognised"],
                    ((c.pk, *d) for c in self.plans for d in c.dues))
        bulk_insert(SuspensionPeriod, ["coverage_id", "start", "end", "reason"],
                    ((c.pk, s, e, r) for c in self.plans for s, e, r in c.suspensions))
        self.counts.update(
            coverages=len(self.plans), beneficiaries=len(ben_rows),
            families=sum(len(c.bens) > 1 for c in self.plans),
            polygamous_families=sum(sum(b.relation == "spouse" and b.until is None
                                        for b in c.bens) > 1 for c in self.plans),
            group_enrolled=len(self.agreement_people),
            suspended=sum(c.status == SUSPENDED for c in self.plans),
            dues=sum(len(c.dues) for c in self.plans))

    def write_contributions(self) -> None:
        """Receipts numbered per mutual and year; per mutual and day one entry; advances
        recognised when their period begins; the month's takings banked."""
        rng = self.rng
        book_of = {i: self.books[m.pk] for i, m in enumerate(self.mutuals)}
        daily: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        recognise: dict[tuple[int, date], int] = defaultdict(int)
        rows = []
        for c in self.plans:
            dues = c.dues
            urban = self.mutuals[c.mutual].urban
            for day, amount, card, parts in c.payments:
                if c.agreement:
                    channel, ref = "partner", f"S-DOM/{day:%Y-%m}"
                elif urban and rng.random() < 0.12:
                    channel, ref = "mobile_money", f"OM{day:%y%m%d}{rng.randrange(10**6):06d}"
                else:
                    channel, ref = "cash", ""
                income = sum(a for j, a in parts if dues[j][0] <= day)
                advance = amount - card - income
                book = daily[(c.mutual, day)]
                book[{"cash": "57", "mobile_money": "53", "partner": "52"}[channel]] += amount
                book["702"] += card
                book["701"] += income
                book["412"] += advance
                for j, a in parts:
                    start = dues[j][0]
                    if day < start <= self.today:
                        recognise[(c.mutual, start)] += a
                rows.append((c.mutual, day, c.number, c.pk, amount, card, channel, ref))
        for (i, day), sums in daily.items():
            lines = [LineSpec(acc, "D", sums[acc]) for acc in ("57", "53", "52")]
            lines += [LineSpec(acc, "C", sums[acc]) for acc in ("702", "701", "412")]
            self.ledger.add(("contrib", i, day), book_of[i], day,
                            f"Cotisations reçues le {day:%d/%m/%Y}", "health.contribution",
                            f"{self.mutuals[i].code}:{day.isoformat()}", lines)
        for (i, day), amount in recognise.items():
            self.ledger.add(("recognise", i, day), book_of[i], day,
                            f"Cotisations payées d'avance, périodes commencées le "
                            f"{day:%d/%m/%Y}", "health.recognition", day.isoformat(),
                            [LineSpec("412", "D", amount), LineSpec("701", "C", amount)])
        self.bank_flows: dict[int, list[tuple[date, int]]] = defaultdict(list)
        banked: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (i, day), sums in daily.items():
            month_end = min(_month_add(day, 1) - timedelta(days=1), self.today)
            for acc in ("57", "53"):
                banked[(i, month_end)][acc] += sums[acc]
            self.bank_flows[i].append((day, sums["52"]))
        for (i, day), sums in banked.items():
            total = sums["57"] + sums["53"]
            self.ledger.add(("bank", i, day), book_of[i], day,
                            f"Versement des encaissements de {day:%m/%Y} en banque",
                            "health.banking", f"{self.mutuals[i].code}:{day:%Y-%m}",
                            [LineSpec("52", "D", total), LineSpec("57", "C", sums["57"]),
                             LineSpec("53", "C", sums["53"])])
            self.bank_flows[i].append((day, total))
        entries = self.ledger.flush()
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        counters = Counters([f"health-receipt:{m.pk}" for m in self.mutuals])
        bulk_insert(Contribution, [
            "coverage_id", "mutual_id", "paid_on", "amount", "card_fee", "channel",
            "receipt_number", "journal_entry_id", "external_ref", "created_by_id"],
            ((pk, self.mutuals[i].pk, day, amount, card, channel,
              f"{self.mutuals[i].code}-{day.year}-"
              f"{counters.take(f'health-receipt:{self.mutuals[i].pk}', day.year):06d}",
              entries[("contrib", i, day)], ref, self.manager.pk if i == 0 else None)
             for i, day, _n, pk, amount, card, channel, ref in rows))
        counters.save()
        self.counts.update(payments=len(rows),
                           contributions_total=sum(r[4] for r in rows))

    # --- claims ----------------------------------------------------------------------------------

    def plan_claims(self) -> list[dict[str, Any]]:
        """Care sheets of the history, in memory: beneficiary, provider, dates, lines."""
        rng = self.rng
        people = {p.pk: p for p in self.ctx.people}
        sheets: list[dict[str, Any]] = []
        for cov in self.plans:
            urban = self.mutuals[cov.mutual].urban
            for b in cov.bens:
                lo = max(self.start, b.since, cov.enrolled_on)
                hi = self.today if b.until is None else min(self.today, b.until)
                if hi < lo:
                    continue
                years = ((hi - lo).days + 1) / 365
                person = people.get(b.person)
                female = person is not None and person.sex == "F"
                for _k in range(_poisson(rng, OUTPATIENT_RATE[urban] * years)):
                    day = self._care_day(lo, hi)
                    if self._keeps(cov, b, day):
                        sheets.append(self._outpatient(cov, b, day))
                if female:
                    age = self.born[b.person].age_on(self.today)
                    if age is not None and 18 <= age <= 45 and \
                            rng.random() < PREGNANCY_RATE * years:
                        day = lo + timedelta(days=rng.randrange((hi - lo).days + 1))
                        sheets.extend(s for s in self._pregnancy(cov, b, day, lo)
                                      if self._keeps(cov, b, s["care_date"]))
                if rng.random() < HOSPITAL_RATE * years:
                    day = self._care_day(lo, hi)
                    if self._keeps(cov, b, day):
                        sheets.append(self._stay(cov, b, day))
                if rng.random() < SURGERY_RATE * years:
                    day = self._care_day(lo, hi)
                    if self._keeps(cov, b, day):
                        sheets.append(self._surgery(cov, b, day))
        # Each mutual's last fortnight has a pharmacy bill far above the tariff: the review
        # queue is never empty on the demo's screens.
        for i in range(len(self.mutuals)):
            fortnight = self.today - timedelta(days=14)
            live = [(c, b) for c in self.plans if c.mutual == i and c.status == ACTIVE
                    and c.covered_from <= fortnight and not any(
                        e is None or e >= fortnight for _s, e, _r in c.suspensions)
                    for b in c.bens if b.until is None and b.since <= c.enrolled_on]
            for c, b in rng.sample(live, min(2, len(live))):
                day = self.today - timedelta(days=rng.randrange(0, 14))
                sheet = self._outpatient(c, b, day, where="pharmacy")
                code, q, price = sheet["lines"][0]
                sheet["lines"][0] = (code, q, price * 2 + 5)
                sheets.append(sheet)
        dup = [dict(s, entered=min(self.today, s["entered"] + timedelta(
            days=rng.randrange(3, 20))), duplicate=True)
               for s in sheets if rng.random() < DUPLICATE_RATE]
        sheets.extend(dup)
        cata = self._catastrophic()
        if cata is not None:
            sheets.append(cata)
        return sheets

    def _care_day(self, lo: date, hi: date) -> date:
        span = (hi - lo).days
        while True:
            day = lo + timedelta(days=self.rng.randrange(span + 1))
            if self.rng.random() * 1.6 < MONTH_WEIGHT[day.month]:
                return day

    def _keeps(self, cov: _Cov, b: _Ben, day: date) -> bool:
        """A family without cover that day mostly stays home (or pays itself): a third of
        their care still reaches the mutual as a sheet, and is rejected."""
        waiting = day < cov.covered_from and b.since <= cov.enrolled_on
        suspended = any(s <= day and (e is None or day <= e) for s, e, _r in cov.suspensions)
        return not (waiting or suspended) or self.rng.random() < 0.3

    def _provider(self, cov: _Cov, role: str) -> Provider:
        return self.provider_list[self.facility[(cov.mutual, role)]]

    def _sheet(self, cov: _Cov, b: _Ben, day: date, provider: Provider, diagnosis: str,
               wanted: list[tuple[str, int, int]], *, discharge: date | None = None,
               stay: int = 0) -> dict[str, Any]:
        rng = self.rng
        conv = self.convention_for(provider.pk, cov.mutual, day)
        tariff = self.tariff[conv]
        lines = []
        for code, lo, hi in wanted:
            if code not in tariff:
                continue
            q = rng.randint(lo, hi)
            price = tariff[code][2]
            roll = rng.random()
            if roll < ABOVE_TARIFF_RATE:
                price = price + max(1, price * rng.randrange(10, 41) // 100)
            elif roll < ABOVE_TARIFF_RATE + 0.01:
                q = min(q + ITEMS[code][3], 10 * ITEMS[code][3])  # beyond the limit
            lines.append((code, q, price))
        if rng.random() < UNKNOWN_RATE:
            lines.append((rng.choice(UNKNOWN_ITEMS), 1, 500 * rng.randint(1, 6)))
        if lines and rng.random() < FAR_ABOVE_RATE:
            code, q, price = lines[-1]
            lines[-1] = (code, q, price * 2 + 5)
        last = discharge or day
        # Sheets reach the mutual from the same day (clinic staff) to three weeks later.
        entered = min(self.today, last + timedelta(days=rng.randrange(0, 21)))
        return {"cov": cov, "ben": b, "provider": provider, "care_date": day,
                "discharge": discharge, "diagnosis": diagnosis, "lines": lines,
                "entered": entered, "conv": conv}

    def _outpatient(self, cov: _Cov, b: _Ben, day: date, where: str | None = None):
        rng = self.rng
        if where is None:
            roll = rng.random()
            where = "cscom0" if roll < 0.45 else "cscom1" if roll < 0.70 else \
                "pharmacy" if roll < 0.85 else "csref"
        diag, _w, care, pharmacy = rng.choices(ILLNESSES, weights=[x[1] for x in ILLNESSES])[0]
        provider = self._provider(cov, where)
        wanted = pharmacy if where == "pharmacy" else care
        if where == "csref":
            wanted = [("CONS-MED" if c == "CONS" else c, lo, hi) for c, lo, hi in wanted]
        return self._sheet(cov, b, day, provider, diag, wanted)

    def _pregnancy(self, cov: _Cov, b: _Ben, delivery: date, lo: date):
        rng = self.rng
        out = []
        for months in (6, 4, 2):
            visit = delivery - timedelta(days=30 * months + rng.randrange(10))
            if visit >= lo:
                out.append(self._sheet(cov, b, visit, self._provider(cov, "cscom0"), "Z34.9",
                                       [("CPN", 1, 1), ("FER", 30, 30), ("SP", 1, 1)]))
        roll = rng.random()
        if roll < 0.88:
            out.append(self._sheet(cov, b, delivery, self._provider(cov, "cscom0"), "O80",
                                   [("ACC", 1, 1), ("OCYT", 1, 1), ("PARA", 6, 9)]))
        elif roll < 0.94:
            stay = 2
            out.append(self._sheet(cov, b, delivery, self._provider(cov, "csref"), "O66.9",
                                   [("ACC-DYST", 1, 1), ("HOSP", stay, stay), ("OCYT", 1, 2),
                                    ("AMOX", 15, 15)],
                                   discharge=delivery + timedelta(days=stay)))
        else:
            stay = rng.randint(4, 6)
            lines = [("CES", 1, 1), ("HOSP", stay, stay), ("CEFTR", 3, 6), ("SERUM", 3, 5),
                     ("PARA-INJ", 3, 5), ("NFS", 1, 1)]
            if not self.mutuals[cov.mutual].urban:
                lines.append(("EVAC", 1, 1))  # the referral from the village CSCom
            out.append(self._sheet(cov, b, delivery, self._provider(cov, "csref"), "O82.0",
                                   lines, discharge=delivery + timedelta(days=stay)))
        post = delivery + timedelta(days=rng.randrange(7, 15))
        if post <= self.today:
            out.append(self._sheet(cov, b, post, self._provider(cov, "cscom0"), "Z39.2",
                                   [("CPON", 1, 1), ("FER", 30, 30)]))
        return [s for s in out if s["care_date"] <= self.today and s["lines"]]

    def _stay(self, cov: _Cov, b: _Ben, day: date):
        rng = self.rng
        where = "csref" if rng.random() < 0.6 else "hospital"
        days = rng.randint(2, 6)
        hosp = "HOSP" if where == "csref" else "HOSP-H"
        diag, drugs = rng.choice([("B50.9", [("ARTES", 3, 6), ("PARA-INJ", 3, 6)]),
                                  ("J18.9", [("CEFTR", 5, 7), ("PARA-INJ", 2, 4)]),
                                  ("A01.0", [("CEFTR", 5, 7), ("WIDAL", 1, 1)])])
        lines = [("CONS-MED" if where == "csref" else "CONS-SPEC", 1, 1), (hosp, days, days),
                 ("NFS", 1, 1), ("GLY", 1, 1), ("SERUM", 2, 6), *drugs]
        return self._sheet(cov, b, day, self._provider(cov, where), diag, lines,
                           discharge=min(self.today, day + timedelta(days=days)))

    def _surgery(self, cov: _Cov, b: _Ben, day: date):
        rng = self.rng
        where = "csref" if rng.random() < 0.5 else "hospital"
        act, diag = rng.choice([("APP", "K35.8"), ("HERN", "K40.9")])
        days = rng.randint(3, 5)
        hosp = "HOSP" if where == "csref" else "HOSP-H"
        lines = [("CONS-SPEC", 1, 1), (act, 1, 1), (hosp, days, days), ("NFS", 1, 1),
                 ("CEFTR", 5, 5), ("SERUM", 3, 4), ("PARA-INJ", 3, 4)]
        return self._sheet(cov, b, day, self._provider(cov, where), diag, lines,
                           discharge=min(self.today, day + timedelta(days=days)))

    def _catastrophic(self) -> dict[str, Any] | None:
        """A peritonitis operated at the regional hospital, about 900,000 F claimed, for a
        beneficiary of the rural mutual with the most beneficiaries, approved inside the last
        quarter ended, so that quarter's statement recovers it through the excess of loss."""
        q_end = _last_quarter_end(self.real_today)
        care = q_end - timedelta(days=50)
        rural = [i for i, m in enumerate(self.mutuals) if not m.urban]
        if not rural or care < self.start:
            return None
        size = defaultdict(int)
        for c in self.plans:
            size[c.mutual] += len(c.bens)
        mutual = max(rural, key=lambda i: (size[i], -i))
        candidates = [(c, b) for c in self.plans if c.mutual == mutual for b in c.bens
                      if b.relation in ("head", "spouse") and b.since <= care
                      and (b.until is None or b.until >= care + timedelta(days=20))
                      and c.covered_from <= care and not any(
                          s <= care + timedelta(days=20) and (e is None or care <= e)
                          for s, e, _r in c.suspensions)]
        if not candidates:
            return None
        cov, b = candidates[self.rng.randrange(len(candidates))]
        hospital = self._provider(cov, "hospital")
        tariff = self.tariff[self.convention_for(hospital.pk, cov.mutual, care)]
        wanted = [("CONS-SPEC", 2), ("CHIR-MAJ", 1), ("REA", 6), ("HOSP-H", 14), ("TRANSF", 2),
                  ("KIT-OP", 1), ("CEFTR", 20), ("SERUM", 16), ("PARA-INJ", 12),
                  ("BIOCHIM", 1), ("NFS", 2), ("RADIO", 2), ("EVAC-H", 1)]
        discharge = care + timedelta(days=20)
        self.catastrophe = {"mutual": mutual, "approve_on": discharge + timedelta(days=6)}
        return {"cov": cov, "ben": b, "provider": hospital, "care_date": care,
                "discharge": discharge, "diagnosis": "K65.0",
                "lines": [(code, q, tariff[code][2]) for code, q in wanted],
                "entered": discharge + timedelta(days=2),
                "conv": self.convention_for(hospital.pk, cov.mutual, care), "catastrophic": True}

    def write_claims(self, sheets: list[dict[str, Any]]) -> None:
        """The sheets as entered (claim_submit's rows: numbers per organisation and year of
        entry, the tariff item and group of each line), then checked and valued per mutual by
        the service, its history dated on the days it happened."""
        sheets = [s for s in sheets if s["lines"]]
        sheets.sort(key=lambda s: (s["entered"], s["care_date"], s["cov"].number,
                                   s["ben"].card))
        counters = Counters([f"health.claim:{self.utm.pk}"])
        clinic_provider = self.provider_list[self.facility[(0, "cscom0")]].pk \
            if self.mutuals else None
        rows = []
        for s in sheets:
            cov, b, provider = s["cov"], s["ben"], s["provider"]
            by_clinic = self.clinic is not None and provider.pk == clinic_provider
            s["entered_by"] = self.clinic.pk if by_clinic else self.officer.pk
            s["number"] = (f"FS{s['entered'].year}-"
                           f"{counters.take(f'health.claim:{self.utm.pk}', s['entered'].year):06d}")
            rows.append((self.utm.pk, self.mutuals[cov.mutual].pk, b.pk, provider.pk,
                         s["number"], s["care_date"], s["discharge"], s["diagnosis"],
                         ENTERED, sum(q * p for _c, q, p in s["lines"]),
                         at(s["entered"], 8 + len(rows) % 9, len(rows) % 60), s["entered_by"]))
        ids = bulk_insert(Claim, ["organisation_id", "mutual_id", "beneficiary_id",
                                  "provider_id", "number", "care_date", "discharge_date",
                                  "diagnosis", "status", "claimed", "entered_at",
                                  "entered_by_id"], rows)
        counters.save()
        line_rows = []
        for s, pk in zip(sheets, ids, strict=True):
            s["pk"] = pk
            tariff = self.tariff[s["conv"]]
            for no, (code, q, p) in enumerate(s["lines"], start=1):
                item = tariff.get(code)
                line_rows.append((pk, no, code, item[0] if item else None,
                                  item[1] if item else "", q, p, q * p))
        bulk_insert(ClaimLine, ["claim_id", "line_no", "item_code", "tariff_item_id", "group",
                                "quantity", "unit_price", "claimed"], line_rows)
        bulk_insert(ClaimEvent, ["claim_id", "at", "by_id", "from_status", "to_status"],
                    ((s["pk"], at(s["entered"], 8), s["entered_by"], "", ENTERED)
                     for s in sheets))
        for m in self.mutuals:
            claims_adjudicate(acting_user=self.officer, mutual=m)
        # The checks ran on the day each sheet was entered, at noon.
        by_pk = {s["pk"]: s for s in sheets}
        # (The demo's claims are the only ones: filtered by organisation, not by a list of ids
        # longer than SQLite takes as parameters.)
        events = list(ClaimEvent.objects.filter(claim__organisation=self.utm,
                                                from_status=ENTERED)
                      .values_list("pk", "claim_id"))
        bulk_set(ClaimEvent, ["at"], [(pk, at(by_pk[c]["entered"], 12)) for pk, c in events])
        statuses = dict(Claim.objects.filter(organisation=self.utm).values_list("pk", "status"))
        bulk_set(Claim, ["decided_at"], [(pk, at(by_pk[pk]["entered"], 12))
                                         for pk, st in statuses.items() if st == REJECTED])
        self.sheets = sheets
        self.statuses = statuses
        self.counts.update(claims=len(sheets), claim_lines=len(line_rows))

    def review_and_approve(self) -> None:
        """Flagged claims older than three weeks reviewed (claim_review); valued claims approved
        a few days later by the mutual's manager (M01) or the union administrator: status,
        decision date and history as claims_approve writes them."""
        rng = self.rng
        by_pk = {s["pk"]: s for s in self.sheets}
        ready: dict[int, date] = {}
        for pk, st in sorted(self.statuses.items()):
            s = by_pk[pk]
            if st == VALUED:
                ready[pk] = s["entered"]
            elif st == REVIEW and s["entered"] <= self.today - timedelta(
                    days=REVIEW_AGE_DAYS):
                claim = Claim.objects.select_related("mutual").get(pk=pk)
                flagged = list(claim.lines.filter(status="flagged").values_list("line_no",
                                                                                flat=True))
                accept = rng.random() < 0.65
                decisions = [LineDecision(no, "accept") if accept else
                             LineDecision(no, "reject", "PRICE_NOT_JUSTIFIED")
                             for no in flagged]
                done = claim_review(acting_user=self.officer, claim=claim, decisions=decisions,
                                    note="Facture comparée au tarif de la convention")
                day = s["entered"] + timedelta(days=rng.randrange(3, 15))
                ClaimEvent.objects.filter(claim_id=pk, from_status=REVIEW).update(
                    at=at(day, 15))
                if done.status == VALUED:
                    ready[pk] = day
                else:
                    Claim.objects.filter(pk=pk).update(decided_at=at(day, 15))
                self.counts["reviewed"] = self.counts.get("reviewed", 0) + 1
        approvals = []
        for pk, day in ready.items():
            s = by_pk[pk]
            approve_on = s.get("catastrophic") and self.catastrophe["approve_on"] or \
                day + timedelta(days=rng.randrange(1, 7))
            if approve_on <= self.today:
                approver = self.manager if s["cov"].mutual == 0 else self.union_admin
                s["approved"] = approve_on
                approvals.append((pk, approver.pk, at(approve_on, 16)))
        bulk_set(Claim, ["status", "decided_at", "decided_by_id"],
                 [(pk, APPROVED, at, by) for pk, by, at in approvals])
        bulk_insert(ClaimEvent, ["claim_id", "at", "by_id", "from_status", "to_status"],
                    ((pk, at, by, VALUED, APPROVED) for pk, by, at in approvals))
        self.approved = [pk for pk, _b, _a in approvals]

    def pay_batches(self) -> None:
        """Approved claims of a month paid per provider in the next month: the batch prepared
        on the 3rd, approved on the 5th (601 / 401), paid on the 10th from the bank (401 / 52)."""
        by_pk = {s["pk"]: s for s in self.sheets}
        shares = dict(Claim.objects.filter(organisation=self.utm, status=APPROVED)
                      .values_list("pk", "mutual_share"))
        groups: dict[tuple[int, int, date], list[int]] = defaultdict(list)
        for pk in self.approved:
            s = by_pk[pk]
            groups[(s["cov"].mutual, s["provider"].pk, s["approved"].replace(day=1))].append(pk)
        providers = {p.pk: p for p in self.provider_list}
        batches = []
        for (i, provider_pk, month), pks in sorted(groups.items(), key=lambda kv: (
                kv[0][0], kv[0][2], providers[kv[0][1]].code)):
            nxt = _month_add(month, 1)
            prepared, approved, paid = (nxt + timedelta(days=2), nxt + timedelta(days=4),
                                        nxt + timedelta(days=9))
            total = sum(shares[pk] for pk in pks)
            if prepared > self.today or total <= 0:
                continue
            batches.append([i, providers[provider_pk], month, pks, total, prepared,
                            approved if approved <= self.today else None,
                            paid if paid <= self.today else None])
        counters = Counters([f"health.batch:{m.pk}" for m in self.mutuals])
        for b in batches:
            i, provider, _month, _pks, total, prepared, approved, paid = b
            m = self.mutuals[i]
            number = f"LP{prepared.year}-{counters.take(f'health.batch:{m.pk}', prepared.year):04d}"
            b.append(number)
            book = self.books[m.pk]
            if approved:
                self.ledger.add(("approve", number, m.pk), book, approved,
                                f"Prestations {provider.name} lot {number}", "health.batch",
                                number, [LineSpec("601", "D", total, provider.code),
                                         LineSpec("401", "C", total, provider.code)])
            if paid:
                self.ledger.add(("pay", number, m.pk), book, paid,
                                f"Paiement {provider.name} lot {number}", "health.batch",
                                number, [LineSpec("401", "D", total, provider.code),
                                         LineSpec("52", "C", total, provider.code)])
                self.bank_flows[i].append((paid, -total))
        self._opening_balances()
        entries = self.ledger.flush()
        counters.save()
        batch_ids = bulk_insert(PaymentBatch, [
            "mutual_id", "provider_id", "number", "period_end", "total", "status",
            "approval_entry_id", "payment_entry_id", "paid_on", "paid_from", "created_at",
            "created_by_id", "approved_at", "approved_by_id", "paid_by_id"], (
            (self.mutuals[i].pk, provider.pk, number, _month_add(month, 1) - timedelta(days=1),
             total, "paid" if paid else "approved" if approved else "open",
             entries.get(("approve", number, self.mutuals[i].pk)),
             entries.get(("pay", number, self.mutuals[i].pk)), paid, "52" if paid else "",
             at(prepared, 9), self.officer.pk,
             at(approved, 11) if approved else None,
             self._approver(i).pk if approved else None,
             self._approver(i).pk if paid else None)
            for i, provider, month, _p, total, prepared, approved, paid, number in batches))
        claim_rows, events = [], []
        for bid, (i, _prov, _m, pks, _t, _pr, _ap, paid, number) in zip(batch_ids, batches,
                                                                       strict=True):
            for pk in pks:
                claim_rows.append((pk, bid, PAID if paid else APPROVED))
                if paid:
                    events.append((pk, at(paid, 14), self._approver(i).pk, APPROVED, PAID,
                                   number))
        bulk_set(Claim, ["batch_id", "status"], claim_rows)
        bulk_insert(ClaimEvent, ["claim_id", "at", "by_id", "from_status", "to_status", "note"],
                    events)
        self.counts.update(batches=len(batches),
                           paid_to_providers=sum(b[4] for b in batches if b[7]))

    def _approver(self, i: int):
        return self.manager if i == 0 else self.union_admin

    def _opening_balances(self) -> None:
        """Each mutual opens the history with its funds in the bank: enough that no batch is
        paid from an empty account, plus a reserve."""
        for i, m in enumerate(self.mutuals):
            running, worst = 0, 0
            for _day, amount in sorted(self.bank_flows.get(i, []), key=lambda f: (f[0], -f[1])):
                running += amount
                worst = min(worst, running)
            opening = (-worst + 250_000 + 99_999) // 100_000 * 100_000
            self.ledger.add(("opening", m.pk), self.books[m.pk], self.start,
                            "Reprise des soldes d'ouverture : fonds de la mutuelle",
                            "health.opening", m.code,
                            [LineSpec("52", "D", opening), LineSpec("101", "C", opening)])

    def current_batch(self) -> None:
        """M01's first CSCom: this month's approved claims gathered in a batch by the service,
        waiting for the manager's approval on the screens."""
        if not self.mutuals or self.real_today < self.today:
            return
        cscom = self.provider_list[self.facility[(0, "cscom0")]]
        try:
            batch_prepare(acting_user=self.officer, mutual=self.mutuals[0], provider=cscom)
            self.counts["batches"] = self.counts.get("batches", 0) + 1
        except ApplicationError:
            pass  # nothing approved this month yet

    # --- reinsurance, prevention, profiles -------------------------------------------------------

    def reinsurance(self) -> None:
        valid_from, valid_until = date(self.start.year, 1, 1), date(self.today.year, 12, 31)
        statements = 0
        self.recovery = 0
        for m in self.mutuals:
            treaty = treaty_create(acting_user=self.union_admin, mutual=m,
                                   reference=f"RE-{m.code}-{valid_from.year}",
                                   valid_from=valid_from, valid_until=valid_until,
                                   terms=dict(TREATY_TERMS))
            for year in range(self.start.year, self.real_today.year + 1):
                for quarter in (1, 2, 3, 4, 0):
                    end = date(year, 12, 31) if quarter in (0, 4) else \
                        _month_add(date(year, 3 * quarter, 1), 1) - timedelta(days=1)
                    if end < self.start or end >= self.real_today:
                        continue
                    st = statement_settle(acting_user=self.union_admin, treaty=treaty,
                                          year=year, quarter=quarter)
                    statements += 1
                    if quarter:
                        self.recovery += sum(r["recovery"]
                                             for r in st.figures.get("recovered_claims", []))
        self.counts.update(treaties=len(self.mutuals), statements=statements,
                           reinsurance_recoveries=self.recovery)

    def prevention(self) -> None:
        rng = self.rng
        sessions, attendance = [], []
        by_mutual: dict[int, list[int]] = defaultdict(list)
        for c in self.plans:
            by_mutual[c.mutual].extend(b.person for b in c.bens if b.until is None)
        month = self.start
        while month <= _month_add(self.today.replace(day=1), 1):
            for i, m in enumerate(self.mutuals):
                day = month + timedelta(days=rng.randrange(5, 26))
                cscom = self.provider_list[self.facility[(i, "cscom0")]].name
                csref = self.provider_list[self.facility[(i, "csref")]].name
                village = self.provider_rows[self.facility[(i, "cscom1")]]["village"]
                place = rng.choice([f"Siège de la mutuelle, {m.commune}", cscom,
                                    f"Place publique de {village}"])
                sessions.append((m.pk, rng.choice(TOPICS), place, day,
                                 rng.choice(FACILITATORS).format(cscom=cscom, csref=csref),
                                 self.manager.pk if i == 0 else None))
                people = by_mutual.get(i, [])
                if day <= self.today and people:
                    n = min(len(people), rng.randint(8, 35))
                    attendance.append((len(sessions) - 1, sorted(rng.sample(people, n))))
            month = _month_add(month, 1)
        ids = bulk_insert(PreventionSession, ["unit_id", "topic", "place", "held_on",
                                              "facilitator", "created_by_id"], sessions)
        through = PreventionSession.attendees.through
        bulk_insert(through, ["preventionsession_id", "person_id"],
                    ((ids[k], pk) for k, persons in attendance for pk in persons))
        self.counts.update(prevention_sessions=len(ids),
                           attendances=sum(len(p) for _k, p in attendance))

    def profiles(self) -> None:
        rng = self.rng
        members: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for c in self.plans:
            members[c.mutual].append((c.enrolled_on, c.member))
        rows = []
        for i, m in enumerate(self.mutuals):
            joined = sorted(members.get(i, []))
            founded = date(1999 + (i if m.urban else i + 2), 1 + rng.randrange(12), 1)
            if joined and joined[0][0] < founded:
                founded = joined[0][0].replace(day=1)
            board = [{"person_id": pk, "office": office,
                      "since": max(since, self.today - timedelta(days=3 * 365)).isoformat()}
                     for (since, pk), office in zip(joined[:len(BOARD_OFFICES)],
                                                    BOARD_OFFICES, strict=False)]
            population = AREA_POPULATION.get(m.cercle, 200_000)
            area = (f"Bamako, {m.cercle}" if m.urban else f"Cercle de {m.cercle} ({m.region})")
            # A mutual aims at the informal workers' families of its area, about a twentieth of
            # the population, scaled to the demo's size.
            target = population * max(self.ctx.members, 1) // 75_000 // 20 // 100 * 100
            rows.append(MutualProfile(
                unit=m, area_kind=AreaKind.URBAN if m.urban else AreaKind.RURAL, area=area,
                target_population=max(100, target),
                founded_on=founded, approval_ref=f"Arrêté n° {founded.year}-{400 + i * 37:04d}"
                                                 f"/MDSSPA-SG",
                last_general_assembly=date(self.today.year - (1 if self.today.month < 4
                                                              else 0), 3, 10 + i),
                board=board))
        for profile in MutualProfile.objects.bulk_create(rows):
            audit_log(actor=self.union_admin, event_type="health.mutual_profile_saved",
                      subject=profile, after={"area_kind": profile.area_kind,
                                              "area": profile.area,
                                              "target_population": profile.target_population,
                                              "board": len(profile.board)},
                      unit=profile.unit)

    def finish(self) -> None:
        self.counters.save()
        audit_log(actor=None, event_type="health.demo_loaded", subject=self.utm,
                  after={"seed": self.ctx.seed, **{k: v for k, v in self.counts.items()
                                                   if isinstance(v, int)}},
                  organisation=self.utm)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: small means only (a few contacts a year)."""
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _last_quarter_end(today: date) -> date:
    """The last day of the last calendar quarter ended before `today`."""
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return start - timedelta(days=1)


def _persons_birth(ids: set[int]) -> list[tuple[int, date | None, int | None]]:
    from jigi.people.models import Person

    return list(Person.objects.filter(pk__in=ids).values_list("pk", "birth_date", "birth_year"))


def health_demo_build(ctx: DemoContext) -> dict[str, Any]:
    """Build the UTM health demo inside the demo's transaction; returns its counts."""
    demo = HealthDemo(ctx)
    demo.users()
    demo.setup()
    demo.providers()
    demo.plan_coverages()
    demo.simulate_contributions()
    demo.write_coverages()
    demo.write_contributions()
    demo.write_claims(demo.plan_claims())
    demo.review_and_approve()
    demo.pay_batches()
    demo.current_batch()
    demo.reinsurance()
    demo.prevention()
    demo.profiles()
    demo.finish()
    return demo.counts


def step_health(ctx: DemoContext) -> None:
    """UTM: profiles, packages, families covered, a year of contributions and claims, providers
    and conventions, payment batches, reinsurance treaties and statements, prevention."""
    counts = health_demo_build(ctx)
    ctx.counts["health"] = counts
    ctx.log("health: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
