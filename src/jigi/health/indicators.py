"""Indicators of the mutuals and the union, and the RAMU report for the authorities.

Each figure is read for all the mutuals asked at once, with one grouped statement per figure
(a dozen statements whether one mutual or a hundred), for a period (a calendar year by
default). Definitions, stated once:

- members: coverages (families) in force on the last day; beneficiaries: persons covered on
  that day (women among them); coverage rate: beneficiaries / the mutual's target population;
- renewal rate: of the coverages with an enrolment anniversary inside the period, those renewed
  past the period's end and not ended;
- collection rate: paid / due, over the contributions falling due in the period (up to today);
- contributions received: payments received in the period, net of card fees, reversed
  payments left out;
- claims paid: the mutual's share of the claims of payment batches paid in the period; claims
  approved: the mutual's share of claims approved in the period (paid yet or not);
- claims ratio: claims paid / contributions received; cost per beneficiary: claims paid /
  beneficiaries;
- use rate: claims of the period (care date, not rejected) with a payable line in a service
  group, per 1,000 beneficiaries;
- processing time: average days from entry to the decision (approval or rejection) for claims
  decided in the period, and from entry to payment for claims paid in it (from ClaimEvent);
- reinsurance: premiums ceded, recoveries and balance of the statements of the period's year
  (the annual statement when drawn up, else the quarters');
- prevention: sessions held in the period and their attendance.

Rates are percentages with one decimal (half up); None when the denominator is zero.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.health.models import (
    Beneficiary,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    Contribution,
    ContributionDue,
    Coverage,
    MutualProfile,
    PaymentBatch,
    PreventionSession,
    ReinsuranceStatement,
    ServiceGroup,
)
from jigi.orgs.models import Unit

PAYABLE = ("accepted", "reduced", "flagged")
LIVE = (ClaimStatus.REVIEW, ClaimStatus.VALUED, ClaimStatus.APPROVED, ClaimStatus.PAID)


def rate(numerator: int, denominator: int, per: int = 100) -> Decimal | None:
    """numerator / denominator x per, one decimal, half up (None without a denominator)."""
    if not denominator:
        return None
    return (Decimal(numerator) * per / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


def _days(total_seconds: float, n: int) -> Decimal | None:
    if not n:
        return None
    return (Decimal(str(total_seconds)) / n / 86_400).quantize(Decimal("0.1"),
                                                               rounding=ROUND_HALF_UP)


@dataclass
class Indicators:
    """One mutual's figures (or the union's total, mutual_id None)."""

    mutual_id: int | None
    code: str
    name: str
    region: str = ""
    cercle: str = ""
    area_kind: str = ""
    target_population: int = 0
    members: int = 0
    beneficiaries: int = 0
    women: int = 0
    renewals_due: int = 0
    renewed: int = 0
    contributions_due: int = 0
    contributions_paid: int = 0
    contributions_received: int = 0
    claims_entered: int = 0
    claims_rejected: int = 0
    claims_approved_amount: int = 0
    claims_paid_amount: int = 0
    claims_by_group: dict[str, int] = field(default_factory=dict)
    decision_seconds: float = 0.0
    decisions: int = 0
    payment_seconds: float = 0.0
    payments: int = 0
    reinsurance_premiums: int = 0
    reinsurance_recoveries: int = 0
    prevention_sessions: int = 0
    prevention_attendance: int = 0

    @property
    def coverage_rate(self) -> Decimal | None:
        return rate(self.beneficiaries, self.target_population)

    @property
    def renewal_rate(self) -> Decimal | None:
        return rate(self.renewed, self.renewals_due)

    @property
    def collection_rate(self) -> Decimal | None:
        return rate(self.contributions_paid, self.contributions_due)

    @property
    def claims_ratio(self) -> Decimal | None:
        return rate(self.claims_paid_amount, self.contributions_received)

    @property
    def cost_per_beneficiary(self) -> int | None:
        return self.claims_paid_amount // self.beneficiaries if self.beneficiaries else None

    @property
    def use_rate(self) -> dict[str, Decimal | None]:
        return {g: rate(self.claims_by_group.get(g, 0), self.beneficiaries, per=1_000)
                for g in ServiceGroup.values}

    @property
    def days_to_decision(self) -> Decimal | None:
        return _days(self.decision_seconds, self.decisions)

    @property
    def days_to_payment(self) -> Decimal | None:
        return _days(self.payment_seconds, self.payments)

    @property
    def reinsurance_balance(self) -> int:
        """Premiums - recoveries: > 0 the mutual paid the pool more than it got back."""
        return self.reinsurance_premiums - self.reinsurance_recoveries

    def add(self, other: Indicators) -> None:
        for f in fields(self):
            value = getattr(other, f.name)
            if f.name == "claims_by_group":
                for g, n in value.items():
                    self.claims_by_group[g] = self.claims_by_group.get(g, 0) + n
            elif isinstance(value, int | float) and not isinstance(value, bool) and \
                    f.name != "mutual_id":
                setattr(self, f.name, getattr(self, f.name) + value)


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def moments(self) -> tuple[datetime, datetime]:
        return (timezone.make_aware(datetime.combine(self.start, time.min)),
                timezone.make_aware(datetime.combine(self.end, time.max)))


def _anniversary_in(enrolled: date, period: Period) -> bool:
    for year in range(max(enrolled.year + 1, period.start.year), period.end.year + 1):
        try:
            day = enrolled.replace(year=year)
        except ValueError:  # 29 February
            day = date(year, 3, 1)
        if period.start <= day <= period.end:
            return True
    return False


def indicators(mutuals: list[Unit], period: Period) -> list[Indicators]:
    """The figures of each mutual for the period (see the module's definitions)."""
    ids = [m.pk for m in mutuals]
    out = {m.pk: Indicators(m.pk, m.code, m.name, m.region, m.cercle) for m in mutuals}
    if not ids:
        return []
    end, start = period.end, period.start
    t0, t1 = period.moments()
    for unit_id, target, area in MutualProfile.objects.filter(unit_id__in=ids).values_list(
            "unit_id", "target_population", "area_kind"):
        out[unit_id].target_population, out[unit_id].area_kind = target, area
    in_force = Q(enrolled_on__lte=end) & (Q(ended_on__isnull=True) | Q(ended_on__gte=end))
    for row in Coverage.objects.filter(in_force, mutual_id__in=ids).values(
            "mutual_id").annotate(n=Count("pk")):
        out[row["mutual_id"]].members = row["n"]
    covered = (Q(since__lte=end) & (Q(until__isnull=True) | Q(until__gte=end))
               & Q(coverage__enrolled_on__lte=end)
               & (Q(coverage__ended_on__isnull=True) | Q(coverage__ended_on__gte=end)))
    for row in Beneficiary.objects.filter(covered, coverage__mutual_id__in=ids).values(
            "coverage__mutual_id").annotate(n=Count("pk"),
                                            w=Count("pk", filter=Q(person__sex="F"))):
        ind = out[row["coverage__mutual_id"]]
        ind.beneficiaries, ind.women = row["n"], row["w"]
    for mutual_id, enrolled, renewal_due, ended in Coverage.objects.filter(
            mutual_id__in=ids, enrolled_on__lt=end).values_list(
            "mutual_id", "enrolled_on", "renewal_due", "ended_on"):
        if _anniversary_in(enrolled, period):
            out[mutual_id].renewals_due += 1
            if renewal_due is not None and renewal_due > end and (ended is None or ended > end):
                out[mutual_id].renewed += 1
    due_to = min(end, timezone.localdate())
    for row in ContributionDue.objects.filter(
            coverage__mutual_id__in=ids, period_start__gte=start,
            period_start__lte=due_to).values("coverage__mutual_id").annotate(
            a=Sum("amount"), p=Sum("paid")):
        ind = out[row["coverage__mutual_id"]]
        ind.contributions_due, ind.contributions_paid = row["a"] or 0, row["p"] or 0
    for row in Contribution.objects.filter(
            mutual_id__in=ids, paid_on__range=(start, end), reversed_by__isnull=True,
            reverses__isnull=True).values("mutual_id").annotate(
            net=Sum(F("amount") - F("card_fee"))):
        out[row["mutual_id"]].contributions_received = row["net"] or 0
    for row in Claim.objects.filter(mutual_id__in=ids, care_date__range=(start, end)).values(
            "mutual_id").annotate(n=Count("pk"),
                                  r=Count("pk", filter=Q(status=ClaimStatus.REJECTED))):
        out[row["mutual_id"]].claims_entered = row["n"]
        out[row["mutual_id"]].claims_rejected = row["r"]
    for row in Claim.objects.filter(
            mutual_id__in=ids, status__in=(ClaimStatus.APPROVED, ClaimStatus.PAID),
            decided_at__range=(t0, t1)).values("mutual_id").annotate(s=Sum("mutual_share")):
        out[row["mutual_id"]].claims_approved_amount = row["s"] or 0
    for row in PaymentBatch.objects.filter(mutual_id__in=ids, status="paid",
                                           paid_on__range=(start, end)).values(
            "mutual_id").annotate(s=Sum("total")):
        out[row["mutual_id"]].claims_paid_amount = row["s"] or 0
    for row in ClaimLine.objects.filter(
            claim__mutual_id__in=ids, claim__care_date__range=(start, end),
            claim__status__in=LIVE, status__in=PAYABLE).values(
            "claim__mutual_id", "group").annotate(n=Count("claim_id", distinct=True)):
        out[row["claim__mutual_id"]].claims_by_group[row["group"]] = row["n"]
    _processing(out, ids, t0, t1)
    _reinsurance(out, ids, period)
    for row in PreventionSession.objects.filter(unit_id__in=ids, held_on__range=(
            start, end)).values("unit_id").annotate(n=Count("pk", distinct=True),
                                                    a=Count("attendees")):
        out[row["unit_id"]].prevention_sessions = row["n"]
        out[row["unit_id"]].prevention_attendance = row["a"]
    return [out[pk] for pk in ids]


def _processing(out: dict[int, Indicators], ids: list[int], t0: datetime, t1: datetime) -> None:
    decided = (ClaimStatus.APPROVED, ClaimStatus.REJECTED)
    first: dict[tuple[int, str], tuple[int, datetime, datetime]] = {}
    for claim_id, mutual_id, entered, at, to in ClaimEvent.objects.filter(
            claim__mutual_id__in=ids, to_status__in=(*decided, ClaimStatus.PAID),
            at__range=(t0, t1)).values_list("claim_id", "claim__mutual_id", "claim__entered_at",
                                            "at", "to_status").order_by("at", "pk"):
        kind = "paid" if to == ClaimStatus.PAID else "decided"
        first.setdefault((claim_id, kind), (mutual_id, entered, at))
    for (_claim, kind), (mutual_id, entered, at) in first.items():
        seconds = max(0.0, (at - entered).total_seconds())
        ind = out[mutual_id]
        if kind == "paid":
            ind.payment_seconds += seconds
            ind.payments += 1
        else:
            ind.decision_seconds += seconds
            ind.decisions += 1


def _reinsurance(out: dict[int, Indicators], ids: list[int], period: Period) -> None:
    years = range(period.start.year, period.end.year + 1)
    by_key: dict[tuple[int, int], list[ReinsuranceStatement]] = defaultdict(list)
    for st in ReinsuranceStatement.objects.filter(treaty__mutual_id__in=ids,
                                                  year__in=years).select_related("treaty"):
        by_key[(st.treaty.mutual_id, st.year)].append(st)
    for (mutual_id, _year), statements in by_key.items():
        annual = [s for s in statements if s.quarter == 0]
        chosen = annual or statements
        ind = out[mutual_id]
        ind.reinsurance_premiums += sum(s.figures.get("premiums", 0) for s in chosen)
        ind.reinsurance_recoveries += sum(s.figures.get("recoveries", 0) for s in chosen)


def union_total(rows: list[Indicators], name: str) -> Indicators:
    total = Indicators(None, "UTM", name)
    for row in rows:
        total.add(row)
    return total


# --- export -----------------------------------------------------------------------------------


def columns() -> list[tuple[str, Any]]:
    """(key, translated header) of every exported column, in order."""
    cols: list[tuple[str, Any]] = [
        ("code", _("Mutual")), ("name", _("Name")), ("region", _("Region")),
        ("cercle", _("Cercle")), ("area_kind", _("Area")),
        ("target_population", _("Target population")), ("members", _("Members (families)")),
        ("beneficiaries", _("Beneficiaries")), ("women", _("Women beneficiaries")),
        ("coverage_rate", _("Coverage of the target population, %")),
        ("renewal_rate", _("Renewal rate, %")),
        ("contributions_due", _("Contributions due")),
        ("contributions_paid", _("Contributions paid")),
        ("collection_rate", _("Collection rate, %")),
        ("contributions_received", _("Contributions received")),
        ("claims_entered", _("Claims entered")), ("claims_rejected", _("Claims rejected")),
        ("claims_approved_amount", _("Claims approved (mutual's share)")),
        ("claims_paid_amount", _("Claims paid")),
        ("claims_ratio", _("Claims ratio, %")),
        ("cost_per_beneficiary", _("Cost per beneficiary")),
    ]
    cols += [(f"use_rate.{g}", _("Claims per 1,000 beneficiaries: %(group)s") % {
        "group": label}) for g, label in ServiceGroup.choices]
    cols += [
        ("days_to_decision", _("Days from entry to decision")),
        ("days_to_payment", _("Days from entry to payment")),
        ("reinsurance_premiums", _("Reinsurance premiums ceded")),
        ("reinsurance_recoveries", _("Reinsurance recoveries")),
        ("reinsurance_balance", _("Reinsurance balance (premiums - recoveries)")),
        ("prevention_sessions", _("Prevention sessions")),
        ("prevention_attendance", _("Prevention attendance")),
    ]
    return cols


def as_row(ind: Indicators) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, _label in columns():
        if key.startswith("use_rate."):
            row[key] = ind.use_rate[key.split(".", 1)[1]]
        else:
            row[key] = getattr(ind, key)
    return row


def as_csv(rows: list[Indicators]) -> str:
    """Semicolon-separated with a BOM (French spreadsheets open it with the accents), decimal
    commas as a French reader expects."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, delimiter=";")
    cols = columns()
    w.writerow([str(label) for _k, label in cols])
    for ind in rows:
        row = as_row(ind)
        w.writerow(["" if row[k] is None else str(row[k]).replace(".", ",")
                    if isinstance(row[k], Decimal) else row[k] for k, _label in cols])
    return buf.getvalue()
