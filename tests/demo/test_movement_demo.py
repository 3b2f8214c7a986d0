"""The MTC part of `jigi demo` (jigi.movement.demo, docs/demo.md): members and their records
with minor domestic workers, dues posted to the movement's book, cases, the campaign."""

from __future__ import annotations

import io
import re
from collections import Counter as Tally
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q, Sum

from jigi.core.models import Counter
from jigi.demo import builder
from jigi.ledger.models import Book, JournalEntry, JournalLine
from jigi.ledger.selectors import ledger_verify, trial_balance
from jigi.movement import standing as rules
from jigi.movement.demo import step_movement
from jigi.movement.models import (
    Campaign,
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
    Partner,
    Signature,
)
from jigi.movement.services.cases import cases_check_overdue
from jigi.movement.services.dues import dues_accrue
from jigi.orgs.models import Organisation
from jigi.people.models import Membership, Person
from jigi.people.selectors import age_on

TODAY = date(2026, 11, 26)
URGENT_FOR_MINORS = {"violence", "child_labour", "sexual_harassment"}


@pytest.fixture
def movement_only(monkeypatch):
    """Only the steps the movement's data stands on: the savings, credit and health steps
    write nothing of MTC's and take most of the time."""
    monkeypatch.setattr(builder, "STEPS", [
        builder.step_organisations, builder.step_staff, builder.step_persons,
        builder.step_memberships, builder.step_consents, step_movement])


def _demo(members: int = 300, seed: int = 1, **options) -> str:
    out = io.StringIO()
    call_command("demo", members=members, seed=seed, today=TODAY, stdout=out, **options)
    return out.getvalue()


def _age(p: Person) -> int:
    return age_on(p, TODAY)


@pytest.mark.django_db
def test_every_mtc_member_has_a_profile_and_the_record_of_her_group(movement_only):
    _demo(members=900, seed=2)
    mtc = Organisation.objects.get(code="MTC")
    memberships = Membership.objects.filter(organisation=mtc)
    profiles = MemberProfile.objects.select_related("membership", "section")
    assert profiles.count() == memberships.count() > 70
    for p in profiles:
        assert p.membership.organisation_id == mtc.pk
        assert p.section_id == p.membership.unit_id
        assert p.group == p.section.member_group
        assert p.person_id == p.membership.person_id
        record = {"domestic": "domestic", "teachers": "teacher", "artisans": "artisan",
                  "youth": "youth"}[p.group]
        assert getattr(p, record).profile_id == p.pk
    # Domestic workers: mostly women from the countryside, 5,000-20,000 F a month for most,
    # long days, most without a rest day or a contract, few declared.
    domestic = list(DomesticWorkerRecord.objects.select_related("profile__person"))
    n = len(domestic)
    assert n > 40
    assert sum(d.profile.person.sex == "F" for d in domestic) / n > 0.85
    assert sum(d.profile.rural_origin for d in domestic) / n > 0.7
    assert sum(5_000 <= d.monthly_pay <= 20_000 for d in domestic) / n > 0.75
    assert all(d.monthly_pay < 40_000 + 1 for d in domestic)
    assert sum(d.daily_hours > 10 for d in domestic) / n > 0.6
    assert all(8 <= d.daily_hours <= 16 for d in domestic)
    assert 0.6 < sum(d.weekly_rest_half_days == 0 for d in domestic) / n < 0.95
    assert sum(d.written_contract for d in domestic) / n < 0.2
    assert sum(d.declared for d in domestic) <= sum(d.written_contract for d in domestic)
    # Teachers mostly in community schools on the 25,000 F subsidy; artisans with apprentices;
    # young people mostly without a computer.
    teachers = Tally(MemberProfile.objects.filter(group="teachers").values_list(
        "teacher__status", flat=True))
    assert teachers["community"] > teachers["state_contract"]
    assert MemberProfile.objects.filter(group="teachers", teacher__monthly_pay=25_000).exists()
    assert MemberProfile.objects.filter(group="artisans", artisan__apprentices__gt=0).exists()
    access = Tally(MemberProfile.objects.filter(group="youth").values_list(
        "youth__computer_access", flat=True))
    assert access["none"] == max(access.values())


@pytest.mark.django_db
def test_minor_domestic_workers_are_added_with_numbers_after_the_others(movement_only):
    out = _demo(members=900, seed=2)
    mtc = Organisation.objects.get(code="MTC")
    domestic = list(MemberProfile.objects.filter(group="domestic").select_related(
        "person", "membership"))
    minors = [p for p in domestic if _age(p.person) < 18]
    under_15 = [p for p in minors if _age(p.person) < 15]
    # ~40 % minors, ~30 % under 15 (DOMAIN.md §4), all 12-17, none with a Kondo membership.
    assert 0.3 < len(minors) / len(domestic) < 0.5
    assert 0.2 < len(under_15) / len(domestic) < 0.4
    assert {_age(p.person) for p in minors} <= set(range(12, 18))
    assert not Membership.objects.filter(person__in=[p.person_id for p in minors]).exclude(
        organisation=mtc).exists()
    for p in minors:
        assert p.section.code == "S-DOM"
        assert rules.is_minor(birth_date=p.person.birth_date, birth_year=p.person.birth_year,
                              on=TODAY, adult_age=18)
        assert p.membership.start_date <= TODAY
    # Member numbers stay gapless: the minors continue the movement's counter.
    numbers = sorted(int(n[-6:]) for n in Membership.objects.filter(
        organisation=mtc).values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert Counter.objects.get(scope=f"member:{mtc.pk}", year=0).value == len(numbers)
    assert f"minors {len(minors)}" in out


@pytest.mark.django_db
def test_dues_balance_in_the_movement_book_and_match_the_members_standing(movement_only):
    _demo(members=600, seed=4)
    mtc = Organisation.objects.get(code="MTC")
    book = Book.objects.get(organisation=mtc)
    assert ledger_verify(book) == []
    tb = trial_balance(book)
    assert tb.balanced
    totals = {r.code: r for r in tb.rows}
    charges = DuesCharge.objects.aggregate(a=Sum("amount"), p=Sum("paid"), w=Sum("waived"))
    assert charges["a"] > 0
    assert charges["p"] > 0
    assert charges["w"] > 0
    open_total = charges["a"] - charges["p"] - charges["w"]
    # 411 holds exactly the open charges; 756 what was charged; 658 what was waived.
    assert totals["411"].debit - totals["411"].credit == open_total
    assert totals["756"].credit == charges["a"]
    assert totals["658"].debit == DuesWaiver.objects.filter(status="approved").aggregate(
        s=Sum("amount"))["s"] == charges["w"]
    paid = DuesPayment.objects.aggregate(s=Sum("amount"))["s"]
    assert paid == charges["p"] == DuesAllocation.objects.aggregate(s=Sum("amount"))["s"]
    assert totals["57"].debit + totals["53"].debit == paid
    assert not DuesCharge.objects.filter(amount__lt=F("paid") + F("waived")).exists()
    # A payment never precedes the period it pays nor the posting of its charge.
    assert not DuesAllocation.objects.filter(
        Q(payment__paid_on__lt=F("charge__period_start"))
        | Q(payment__paid_on__lt=F("charge__journal_entry__value_date"))).exists()
    # One accrual entry per section and month, each charge of the section's rate.
    accruals = JournalEntry.objects.filter(book=book, source_type="movement.accrual")
    per_month = Tally((e.source_id.split(":")[0], e.value_date.strftime("%Y-%m"))
                      for e in accruals)
    assert set(per_month.values()) == {1}
    rates = dict(DuesRate.objects.values_list("group", "amount"))
    for group, amount in DuesCharge.objects.values_list("profile__group", "amount").distinct():
        assert amount == rates[group]
    assert DuesCharge.objects.values("profile").annotate(n=Count("pk")).order_by(
        "-n")[0]["n"] <= 24
    # Receipts gapless per year, the counter continues after them; each with its entry.
    by_year: dict[int, list[int]] = {}
    for receipt, day, entry in DuesPayment.objects.values_list("receipt_number", "paid_on",
                                                               "journal_entry__source_id"):
        assert re.fullmatch(rf"MTC-{day.year}-\d{{6}}", receipt)
        assert entry == receipt
        by_year.setdefault(day.year, []).append(int(receipt[-6:]))
    for year, numbers in by_year.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
        assert Counter.objects.get(scope=f"movement-receipt:{mtc.pk}", year=year).value == len(
            numbers)
    # Each profile's arrears, owing_since and standing are what its charges say.
    standings = Tally()
    for p in MemberProfile.objects.prefetch_related("charges"):
        result = rules.standing_of(
            [rules.Charge(c.period_start, c.period_end, c.open_amount) for c in p.charges.all()],
            as_of=TODAY, grace_months=3)
        assert (p.standing, p.arrears, p.owing_since) == (
            result.standing, result.arrears, result.owing_since)
        standings[p.standing] += 1
    assert standings["current"]
    assert standings["grace"]
    assert standings["arrears"]
    # The services agree: today's accrual run finds nothing to charge and changes no standing.
    run = dues_accrue(organisation=mtc, as_of=TODAY)
    assert (run.charges, run.entries, run.members) == (0, 0, 0)


@pytest.mark.django_db
def test_cases_are_numbered_urgent_for_minors_assigned_and_alerted(movement_only):
    _demo(members=1500, seed=3)
    mtc = Organisation.objects.get(code="MTC")
    cases = list(Case.objects.select_related("person"))
    members = MemberProfile.objects.count()
    assert members / 40 < len(cases) < members / 15
    categories = Tally(c.category for c in cases)
    assert len(categories) >= 3
    assert categories["unpaid_wages"] + categories["dismissal"] + categories["no_rest_day"] \
        + categories["child_labour"] > len(cases) / 2
    deadlines = {d.category: d for d in CaseDeadline.objects.filter(organisation=mtc)}
    by_year: dict[int, list[int]] = {}
    minors_urgent = 0
    for c in cases:
        assert re.fullmatch(rf"MTC-{c.opened_on.year}-\d{{6}}", c.number)
        by_year.setdefault(c.opened_on.year, []).append(int(c.number[-6:]))
        d = deadlines[c.category]
        assert (c.first_action_due - c.opened_on).days == d.first_action_days
        assert (c.resolution_due - c.opened_on).days == d.resolution_days
        minor = _age(c.person) < 18
        if minor and c.category in URGENT_FOR_MINORS:
            assert c.urgency == "urgent"
            assert c.urgent_reason == "minor"
            assert c.confidential
            assert CaseAlert.objects.filter(case=c, kind="urgent").exists()
            minors_urgent += 1
        if c.urgency == "normal":
            assert not CaseAlert.objects.filter(case=c, kind="urgent").exists()
        kinds = list(CaseAction.objects.filter(case=c).values_list("kind", flat=True))
        assert kinds[0] == "intake"
        if c.status == "closed":
            assert c.outcome
            assert c.closed_on
            assert kinds[-1] == "closure"
            assert c.first_action_on is not None
        else:
            assert not c.outcome
            assert c.closed_on is None
        mediated = CaseAction.objects.filter(case=c).aggregate(s=Sum("amount_recovered"))["s"]
        assert c.wages_recovered == (mediated or 0)
        if c.outcome == "wages_recovered":
            assert c.wages_recovered > 0
    assert minors_urgent > 0
    for year, numbers in by_year.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
        assert Counter.objects.get(scope=f"movement.case.{mtc.pk}", year=year).value == len(
            numbers)
    outcomes = Tally(c.outcome for c in cases if c.status == "closed")
    assert outcomes["wages_recovered"]
    assert len(outcomes) >= 2
    assert any(c.status != "closed" and c.resolution_due < TODAY for c in cases)
    # Assigned to the movement's case workers; the overdue check finds every alert raised.
    workers = set(CaseAssignment.objects.values_list("user__username", flat=True))
    assert workers <= {"travailleur_social", "travailleur_social2"}
    assert "travailleur_social" in workers
    assert CaseAlert.objects.filter(kind="resolution_overdue").exists()
    assert cases_check_overdue(organisation=mtc, today=TODAY) == {
        "first_action_overdue": 0, "resolution_overdue": 0}


@pytest.mark.django_db
def test_half_day_rest_campaign_with_partners_and_a_petition(movement_only):
    _demo(members=300, seed=1)
    mtc = Organisation.objects.get(code="MTC")
    campaign = Campaign.objects.get(organisation=mtc)
    assert campaign.title == "Une demi-journée de repos pour les aides ménagères"
    assert campaign.status == "active"
    assert campaign.groups == ["domestic"]
    partners = Partner.objects.filter(organisation=mtc)
    assert set(partners.values_list("kind", flat=True)) >= {"mutual_union", "union",
                                                            "association"}
    assert partners.get(kind="mutual_union").jigi_organisation.code == "UTM"
    assert set(campaign.partners.all()) == set(partners)
    assert campaign.milestones.filter(reached_on__isnull=False).exists()
    assert campaign.milestones.filter(reached_on__isnull=True).exists()
    actions = campaign.actions.all()
    assert actions.count() >= 10
    assert all(a.women + a.men > 0 and a.held_on <= TODAY for a in actions)
    petition = campaign.petitions.get()
    signatures = Signature.objects.filter(petition=petition)
    assert 200 <= signatures.filter(status="confirmed").count() < 1000
    phones = list(signatures.values_list("phone", flat=True))
    assert len(phones) == len(set(phones))
    assert all(re.fullmatch(r"\+223\d{8}", p) for p in phones)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in signatures.values_list(
        "code_hash", flat=True))
    regions = Tally(signatures.values_list("region", flat=True))
    assert regions["Bamako"] > sum(regions.values()) / 2
    assert len(regions) > 3
    communes = set(signatures.filter(region="Bamako").values_list("commune", flat=True))
    assert communes == {f"Commune {n}" for n in ("I", "II", "III", "IV", "V", "VI")}
    sexes = Tally(signatures.values_list("sex", flat=True))
    assert sexes["F"] > sexes["M"]
    assert signatures.filter(person__isnull=False).exists()
    assert not signatures.filter(Q(confirmed_at__isnull=True) | Q(
        confirmed_at__lt=F("code_sent_at"))).exists()
    # Last month's and this month's decent-work indicators are kept.
    snapshots = IndicatorSnapshot.objects.filter(organisation=mtc).order_by("month")
    assert [s.month for s in snapshots] == [date(2026, 10, 1), date(2026, 11, 1)]
    assert {s.smig for s in snapshots} == {40_000}
    assert all(s.data for s in snapshots)


@pytest.mark.django_db
def test_a_second_demo_if_empty_adds_no_movement_data():
    _demo(members=120, seed=1)
    counts = (MemberProfile.objects.count(), DuesCharge.objects.count(), Case.objects.count(),
              Signature.objects.count(), JournalLine.objects.count(), Person.objects.count())
    assert "nothing to do" in _demo(members=120, seed=1, if_empty=True)
    assert (MemberProfile.objects.count(), DuesCharge.objects.count(), Case.objects.count(),
            Signature.objects.count(), JournalLine.objects.count(),
            Person.objects.count()) == counts
