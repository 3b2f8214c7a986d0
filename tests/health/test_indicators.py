"""Indicators per mutual and for the union, and the RAMU report: each figure from real
records (enrolment, contributions, claims and their history, batches, statements,
prevention), exact values, and who may read them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jigi.core.errors import NotFound
from jigi.health.indicators import Period, as_csv, indicators
from jigi.health.selectors_claims import mutual_indicators, ramu_report, union_indicators
from jigi.health.services.batches import batch_approve, batch_pay, batch_prepare
from jigi.health.services.claims import LineIn, claim_approve, claim_submit
from jigi.health.services.prevention import (
    prevention_attendance_record,
    prevention_session_create,
)

YEAR = Period.year(2026)


@pytest.fixture
def activity(health, time_machine):
    """Two claims entered on 10 November, approved two days later and paid five days after
    entry; a third one rejected; a prevention session with the family."""
    time_machine.move_to("2026-11-10 08:00:00+00:00", tick=False)
    clinic = health.users["clinic"]

    def enter(ben, *lines):
        return claim_submit(acting_user=clinic, card_number=ben.card_number,
                            provider_id=health.provider.pk, care_date=date(2026, 11, 9),
                            lines=list(lines))

    a = enter(health.head, LineIn("CONS", 1, 1_500), LineIn("PARA", 10, 25))  # 1,050 F
    b = enter(health.spouses[0], LineIn("CPN", 1, 1_000), LineIn("GE", 1, 1_000))  # 1,200 F
    enter(health.children[0], LineIn("CONS", 1, 0))  # rejected: BAD_PRICE
    time_machine.move_to("2026-11-12 08:00:00+00:00", tick=False)
    manager = health.users["mutual_manager"]
    for claim in (a, b):
        claim_approve(acting_user=manager, claim=claim)
    time_machine.move_to("2026-11-15 08:00:00+00:00", tick=False)
    batch = batch_prepare(acting_user=manager, mutual=health.world.mutual_1,
                          provider=health.provider)
    batch_pay(acting_user=manager, batch=batch_approve(acting_user=manager, batch=batch))
    session = prevention_session_create(
        acting_user=manager, unit=health.world.mutual_1, topic="Vaccination des enfants",
        place="Hamdallaye", held_on=date(2026, 11, 14), facilitator="Dr Keïta")
    prevention_attendance_record(acting_user=manager, session=session,
                                 person_ids=[b.person_id for b in health.beneficiaries[:3]])
    time_machine.move_to("2026-11-20 09:00:00+00:00", tick=False)
    return a, b


def test_a_mutual_s_year(health, activity):
    ind = mutual_indicators(health.users["mutual_manager"], health.world.mutual_1, YEAR)
    women = sum(1 for b in health.beneficiaries if b.person.sex == "F")

    assert (ind.members, ind.beneficiaries, ind.women) == (1, 6, women)
    assert (ind.target_population, ind.coverage_rate) == (12_000, Decimal("0.1"))
    # Six beneficiaries at 550 F, May to November, all paid on enrolment.
    assert (ind.contributions_due, ind.contributions_paid, ind.collection_rate) == (
        23_100, 23_100, Decimal("100.0"))
    assert ind.contributions_received == 23_100
    assert (ind.claims_entered, ind.claims_rejected) == (3, 1)
    assert (ind.claims_approved_amount, ind.claims_paid_amount) == (2_250, 2_250)
    assert ind.claims_ratio == Decimal("9.7")  # 2,250 / 23,100
    assert ind.cost_per_beneficiary == 375
    assert ind.use_rate["consultation"] == Decimal("166.7")  # 1 claim per 6 beneficiaries
    assert ind.use_rate["lab"] == Decimal("166.7")
    assert ind.use_rate["surgery"] == Decimal("0.0")
    assert (ind.days_to_decision, ind.days_to_payment) == (Decimal("1.3"), Decimal("5.0"))
    assert (ind.prevention_sessions, ind.prevention_attendance) == (1, 3)
    assert ind.renewal_rate is None  # enrolled in May: first renewal in 2027


def test_processing_time_counts_rejections_as_decisions(health, activity):
    ind = indicators([health.world.mutual_1], YEAR)[0]

    # Two approvals after 2 days, one automatic rejection at entry: (2 + 2 + 0) / 3.
    assert ind.decisions == 3
    assert ind.payments == 2


def test_renewal_rate(health, world, time_machine):
    from tests.health.conftest import make_coverage, make_family

    old = make_coverage(world, make_family(world, spouses=0, children=0),
                        package=health.package, enrolled_on=date(2025, 3, 1))
    make_coverage(world, make_family(world, spouses=0, children=0), package=health.package,
                  enrolled_on=date(2025, 4, 1))
    old.coverage.renewal_due = date(2027, 3, 1)  # renewed in February
    old.coverage.save()

    ind = indicators([health.world.mutual_1], YEAR)[0]

    assert (ind.renewals_due, ind.renewed, ind.renewal_rate) == (2, 1, Decimal("50.0"))


def test_the_union_sees_every_mutual_and_the_total(health, activity):
    rows, total = union_indicators(health.users["union_admin"], YEAR)

    assert [r.code for r in rows] == ["M01", "M02"]
    assert (total.members, total.beneficiaries) == (2, 6 + rows[1].beneficiaries)
    assert total.contributions_received == 23_100 + rows[1].contributions_received
    assert total.claims_paid_amount == 2_250
    own, own_total = union_indicators(health.users["mutual_manager"], YEAR)
    assert [r.code for r in own] == ["M01"]
    assert own_total.members == 1


def test_ramu_report_in_few_statements_and_as_csv(health, activity):
    with CaptureQueriesContext(connection) as q:
        rows, total = ramu_report(health.users["union_admin"], 2026)

    assert len(q.captured_queries) <= 20
    assert [r.code for r in rows] == ["M01", "M02"]
    text = as_csv([*rows, total])
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Mutuelle;") or lines[0].startswith("Mutual;")
    assert len(lines) == 4
    m01 = lines[1].split(";")
    assert m01[0] == "M01"
    assert "9,7" in m01  # the claims ratio with a decimal comma


@pytest.mark.parametrize("user", ["teller_a", "organiser", "clinic", "mutual_manager"])
def test_ramu_report_is_the_union_admin_s(health, user):
    with pytest.raises(NotFound):
        ramu_report(health.users[user], 2026)


@pytest.mark.parametrize("user", ["teller_a", "organiser", "manager_2"])
def test_another_mutual_s_indicators_are_not_found(health, user):
    with pytest.raises(NotFound):
        mutual_indicators(health.users[user], health.world.mutual_1, YEAR)


def test_an_empty_period(health):
    ind = indicators([health.world.mutual_1], Period(date(2024, 1, 1),
                                                      date(2024, 12, 31)))[0]

    assert (ind.members, ind.beneficiaries, ind.claims_paid_amount) == (0, 0, 0)
    assert ind.claims_ratio is None
    assert ind.cost_per_beneficiary is None
    assert ind.days_to_decision is None
    assert health.today - timedelta(days=1) > date(2024, 12, 31)
