"""The reinsurance service: treaties signed by the union administrator, quarterly and annual
statements from the mutual's real contributions and approved claims, posted on the mutual's
book and the pool's (the union's head-office book); a catastrophic claim recovered through the
excess of loss; the simulation with and without the treaty."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.health.models import ReinsuranceStatement, ReinsuranceTreaty
from jigi.health.selectors_claims import reinsurance_inputs, reinsurance_simulation
from jigi.health.services.claims import LineIn, claim_approve, claim_submit
from jigi.health.services.reinsurance import statement_settle, treaty_create, treaty_end
from jigi.ledger.models import Book, JournalEntry
from jigi.ledger.selectors import ledger_verify, trial_balance, unbalanced_entries

TERMS = {"cession_bp": 500, "xol_priority": 50_000, "xol_limit": 1_000_000,
         "stop_loss_attachment_bp": 10_000, "stop_loss_limit_bp": 5_000}
# A caesarean with a hernia repair, ten days in hospital and the ambulance: the mutual's share
# is 56,250 + 37,500 + 18,750 + 11,250 = 123,750 F, 73,750 F above the 50,000 F priority.
CATASTROPHE = [LineIn("CES", 1, 75_000), LineIn("HERN", 1, 50_000), LineIn("HOSP", 10, 2_500),
               LineIn("EVAC", 1, 15_000)]


def balances(unit) -> dict[str, int]:
    return {r.code: r.balance for r in trial_balance(Book.objects.get(unit=unit)).rows}


def sound(unit):
    book = Book.objects.get(unit=unit)
    return ledger_verify(book) == [] and unbalanced_entries(book) == []


@pytest.fixture
def treaty(health):
    return treaty_create(acting_user=health.users["union_admin"], mutual=health.world.mutual_1,
                         reference="REA-M01-2026", valid_from=date(2026, 1, 1),
                         valid_until=date(2026, 12, 31), terms=dict(TERMS))


@pytest.fixture
def catastrophe(health, time_machine):
    """Care on 10 August, approved on 14 August (the third quarter), then back to today."""
    time_machine.move_to("2026-08-14 10:00:00+00:00", tick=False)
    claim = claim_submit(acting_user=health.users["clinic"],
                         card_number=health.spouses[0].card_number,
                         provider_id=health.provider.pk, care_date=date(2026, 8, 10),
                         lines=list(CATASTROPHE))
    claim = claim_approve(acting_user=health.users["mutual_manager"], claim=claim)
    time_machine.move_to("2026-11-20 09:00:00+00:00", tick=False)
    return claim


def test_the_family_s_contributions_and_claims_are_the_inputs(health, catastrophe):
    data = reinsurance_inputs(health.world.mutual_1, 2026)

    # Six beneficiaries, 550 F a month from May through November, paid on enrolment (card
    # fee excluded).
    assert [(c.on, c.amount) for c in data.contributions] == [(date(2026, 5, 4), 23_100)]
    assert [(c.claim_id, c.paid_on, c.amount) for c in data.claims] == [
        (catastrophe.pk, date(2026, 8, 14), 123_750)]
    assert catastrophe.mutual_share == 123_750
    assert {e.month.month: e.beneficiaries for e in data.exposures} == {
        m: 6 for m in range(5, 13)}


def test_catastrophic_claim_recovered_through_the_excess_of_loss(health, treaty, catastrophe):
    admin = health.users["union_admin"]
    q2 = statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=2)
    q3 = statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=3)

    assert (q2.figures["premiums"], q2.figures["recoveries"], q2.balance) == (1_155, 0, 1_155)
    assert (q3.figures["xol_recoveries"], q3.balance) == (73_750, -73_750)
    assert q3.figures["recovered_claims"] == [{
        "claim_id": catastrophe.pk, "event_id": catastrophe.pk, "approved_on": "2026-08-14",
        "amount": 123_750, "recovery": 73_750}]
    mutual = balances(health.world.mutual_1)
    assert {k: mutual.get(k) for k in ("602", "451", "452", "703")} == {
        "602": 1_155, "451": 1_155, "452": 73_750, "703": 73_750}
    pool = balances(health.world.orgs.union)
    assert pool == {"453": 1_155 - 73_750, "706": 1_155, "606": 73_750}
    assert q3.pool_entry.lines.filter(account__code="453").first().subledger == "M01"
    assert sound(health.world.mutual_1)
    assert sound(health.world.orgs.union)


def test_a_statement_is_drawn_up_once(health, treaty, catastrophe):
    admin = health.users["union_admin"]
    first = statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=3)
    entries = JournalEntry.objects.count()

    again = statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=3)

    assert again.pk == first.pk
    assert JournalEntry.objects.count() == entries
    assert ReinsuranceStatement.objects.count() == 1


def test_the_year_adds_the_stop_loss_and_posts_only_what_the_quarters_did_not(
        health, treaty, catastrophe, time_machine):
    admin = health.users["union_admin"]
    for quarter in (2, 3):
        statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=quarter)
    time_machine.move_to("2027-01-10 09:00:00+00:00", tick=False)

    year = statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=0)

    # Net claims 123,750 - 73,750 = 50,000 F against 23,100 F of contributions: above the
    # 100 % attachment by 26,900 F, capped at 50 % of the contributions, 11,550 F.
    assert (year.figures["stop_loss_attachment"], year.figures["stop_loss_recovery"]) == (
        23_100, 11_550)
    assert (year.figures["premiums"], year.figures["recoveries"]) == (1_155, 85_300)
    assert (year.figures["posted_premiums"], year.figures["posted_recoveries"]) == (0, 11_550)
    assert year.balance == 1_155 - 85_300
    mutual = balances(health.world.mutual_1)
    assert (mutual["602"], mutual["703"]) == (1_155, 85_300)
    assert balances(health.world.orgs.union)["453"] == 1_155 - 85_300
    with pytest.raises(Conflict) as exc:
        statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=4)
    assert exc.value.code == "year_settled"


def test_a_period_not_ended_or_outside_the_treaty_is_refused(health, treaty):
    admin = health.users["union_admin"]
    with pytest.raises(Conflict):
        statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=4)
    with pytest.raises(ApplicationError) as exc:
        statement_settle(acting_user=admin, treaty=treaty, year=2025, quarter=2)
    assert "year" in exc.value.fields
    with pytest.raises(ApplicationError) as exc:
        statement_settle(acting_user=admin, treaty=treaty, year=2026, quarter=5)
    assert "quarter" in exc.value.fields
    assert not ReinsuranceStatement.objects.exists()


def test_only_the_union_admin_signs_and_settles(health, treaty):
    with pytest.raises(Forbidden):
        treaty_create(acting_user=health.users["mutual_manager"], mutual=health.world.mutual_1,
                      reference="X", valid_from=date(2027, 1, 1),
                      valid_until=date(2027, 12, 31), terms={})
    with pytest.raises(NotFound):
        treaty_create(acting_user=health.users["teller_a"], mutual=health.world.mutual_1,
                      reference="X", valid_from=date(2027, 1, 1),
                      valid_until=date(2027, 12, 31), terms={})
    with pytest.raises(Forbidden):
        statement_settle(acting_user=health.users["mutual_manager"], treaty=treaty,
                         year=2026, quarter=2)
    assert ReinsuranceTreaty.objects.count() == 1


@pytest.mark.parametrize(("terms", "field"), [
    ({"xol_limit": 100_000}, "terms.xol_limit"),  # a limit without a priority
    ({"cession_bp": 2.5}, "terms.cession_bp"),
    ({"cession_bp": 20_000}, "terms.cession_bp"),
    ({"surprise": 1}, "terms.surprise"),
    ({"stop_loss_limit_bp": 5_000}, "terms.stop_loss_attachment_bp"),
])
def test_bad_terms_are_refused_by_field(health, terms, field):
    with pytest.raises(ApplicationError) as exc:
        treaty_create(acting_user=health.users["union_admin"], mutual=health.world.mutual_2,
                      reference="REA-M02", valid_from=date(2026, 1, 1),
                      valid_until=date(2026, 12, 31), terms=terms)

    assert exc.value.status_code == 422
    assert field in exc.value.fields
    assert not ReinsuranceTreaty.objects.exists()


def test_overlapping_treaties_are_refused_and_one_can_end_early(health, treaty):
    admin = health.users["union_admin"]
    with pytest.raises(Conflict):
        treaty_create(acting_user=admin, mutual=health.world.mutual_1, reference="REA-2",
                      valid_from=date(2026, 6, 1), valid_until=date(2027, 5, 31), terms={})

    treaty_end(acting_user=admin, treaty=treaty, on=date(2026, 5, 31))
    nxt = treaty_create(acting_user=admin, mutual=health.world.mutual_1, reference="REA-2",
                        valid_from=date(2026, 6, 1), valid_until=date(2027, 5, 31),
                        terms={"cession_bp": 300})
    assert nxt.terms["cession_bp"] == 300
    assert nxt.terms["xol_priority"] is None


def test_simulation_with_and_without_the_treaty(health, treaty, catastrophe):
    sim = reinsurance_simulation(health.world.mutual_1, 2026)

    assert sim.annual.contributions == 23_100
    assert sim.annual.claims == 123_750
    assert sim.annual.result_without == 23_100 - 123_750
    assert sim.annual.result_with == 23_100 - 123_750 - 1_155 + 73_750 + 11_550
    assert sim.quarters[2].xol_recoveries == 73_750
    bare = reinsurance_simulation(health.world.mutual_1, 2026, with_treaty=False)
    assert bare.settlement is None
    assert bare.annual.result_with == bare.annual.result_without


def test_statement_dates_follow_the_quarter(health, treaty):
    statement = statement_settle(acting_user=health.users["union_admin"], treaty=treaty,
                                 year=2026, quarter=1)

    assert (statement.figures["start"], statement.figures["end"]) == ("2026-01-01",
                                                                      "2026-03-31")
    assert statement.balance == 0
    assert statement.mutual_entry is None  # nothing to post
    assert health.today - timedelta(days=1) > date(2026, 3, 31)
