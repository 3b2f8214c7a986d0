"""UTM's reinsurance between mutuals (pure): worked examples, then invariants (hypothesis)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jigi.health.reinsurance import (
    BP,
    ClaimCost,
    Contribution,
    Exposure,
    ReinsuranceError,
    Treaty,
    pool_result,
    settle,
    simulate,
    stop_loss,
    treaty_from_terms,
    treaty_terms,
    xol_due,
    xol_recoveries,
)

YEAR = 2026
Y_START, Y_END = date(YEAR, 1, 1), date(YEAR, 12, 31)
BENEFICIARIES = 2_000
AMV_MONTHLY = 550


def months():
    return [date(YEAR, m, 1) for m in range(1, 13)]


def rural_mutual():
    """A small rural mutual: 2,000 beneficiaries at the AMV 550 F a month (13.2 million F a
    year), 600 ordinary claims of 12,000 F spread over the year (7.2 million F), and one
    catastrophic surgery: 900,000 F paid by the mutual on 14 August."""
    contributions = [Contribution(m, BENEFICIARIES * AMV_MONTHLY) for m in months()]
    exposures = [Exposure(m, BENEFICIARIES) for m in months()]
    claims = [ClaimCost(i, Y_START + timedelta(days=(i * 61) % 365), 12_000)
              for i in range(1, 601)]
    claims.append(ClaimCost(9_001, date(YEAR, 8, 14), 900_000))
    return contributions, claims, exposures


TREATY = Treaty(Y_START, Y_END, cession_bp=400,  # 4 % of contributions
                xol_priority=250_000, xol_limit=1_000_000,
                stop_loss_attachment_bp=10_000, stop_loss_limit_bp=5_000)


def test_catastrophic_surgery_is_recovered_through_the_excess_of_loss():
    contributions, claims, exposures = rural_mutual()
    s = settle(TREATY, YEAR, contributions=contributions, claims=claims, exposures=exposures)
    year = s.annual
    assert year.contributions == 13_200_000
    assert year.claims_paid == 7_200_000 + 900_000
    assert year.premium_share == 528_000  # 4 % of 13.2 million
    assert year.xol_recoveries == 650_000  # 900,000 - 250,000 priority
    assert [(r.claim_id, r.recovery) for r in s.recoveries] == [(9_001, 650_000)]
    # claims ratio net of the recovery: 7,450,000 / 13,200,000 = 56.4 %, far below 100 %
    assert year.net_claims == 7_450_000
    assert year.claims_ratio_bp == 5_643
    assert (year.stop_loss_attachment, year.stop_loss_recovery) == (13_200_000, 0)
    assert year.balance == 528_000 - 650_000  # the pool owes the mutual 122,000 F
    q1, q2, q3, q4 = s.quarters
    assert [q.premium_share for q in s.quarters] == [132_000] * 4
    assert [q.xol_recoveries for q in s.quarters] == [0, 0, 650_000, 0]
    assert q3.balance == 132_000 - 650_000
    assert q1.stop_loss_recovery is None  # settled on the year only
    assert (q3.start, q3.end) == (date(YEAR, 7, 1), date(YEAR, 9, 30))


def test_simulation_with_and_without_the_treaty():
    contributions, claims, exposures = rural_mutual()
    sim = simulate(TREATY, YEAR, contributions=contributions, claims=claims,
                   exposures=exposures)
    year = sim.annual
    assert year.result_without == 13_200_000 - 8_100_000
    assert year.result_with == 13_200_000 - 8_100_000 - 528_000 + 650_000
    assert year.pool_result == -122_000
    q3 = sim.quarters[2]
    assert q3.result_with - q3.result_without == 650_000 - 132_000
    assert sum(q.result_with for q in sim.quarters) == year.result_with


def test_a_bad_year_triggers_the_stop_loss():
    contributions, claims, exposures = rural_mutual()
    # an epidemic: 900 more claims of 10,000 F in the rainy season
    claims += [ClaimCost(20_000 + i, date(YEAR, 8, 1) + timedelta(days=i % 60), 10_000)
               for i in range(900)]
    s = settle(TREATY, YEAR, contributions=contributions, claims=claims, exposures=exposures)
    year = s.annual
    assert year.net_claims == 7_200_000 + 9_000_000 + 250_000
    # above 100 % of contributions (13.2 million), within the 50 % limit (6.6 million)
    assert year.stop_loss_recovery == 16_450_000 - 13_200_000
    assert year.balance == 528_000 - 650_000 - 3_250_000
    assert sum(q.balance for q in s.quarters) - year.stop_loss_recovery == year.balance
    sim = simulate(TREATY, YEAR, contributions=contributions, claims=claims,
                   exposures=exposures)
    # without the treaty the mutual loses 3.9 million; with it, only the premium shows
    assert sim.annual.result_without == 13_200_000 - 17_100_000
    assert sim.annual.result_with == 13_200_000 - 13_200_000 - 528_000


def test_stop_loss_limits_in_percent_and_in_francs():
    t = Treaty(Y_START, Y_END, stop_loss_attachment_bp=8_000, stop_loss_limit_bp=2_000,
               stop_loss_limit=150_000)
    assert stop_loss(t, 1_000_000, 900_000) == (800_000, 100_000)
    assert stop_loss(t, 1_000_000, 1_500_000) == (800_000, 150_000)  # the francs cap
    t = Treaty(Y_START, Y_END, stop_loss_attachment_bp=8_000, stop_loss_limit_bp=2_000)
    assert stop_loss(t, 1_000_000, 1_500_000) == (800_000, 200_000)  # 20 % of contributions
    assert stop_loss(t, 0, 50_000) == (0, 0)  # no income: 20 % of nothing
    assert stop_loss(Treaty(Y_START, Y_END), 1_000_000, 5_000_000) is None


def test_stop_loss_attachment_rounds_up_and_caps_round_down():
    t = Treaty(Y_START, Y_END, stop_loss_attachment_bp=7_001, stop_loss_limit_bp=333)
    # 70.01 % of 1,001 = 700.8 -> 701; 3.33 % of 1,001 = 33.3 -> 33
    assert stop_loss(t, 1_001, 800) == (701, 33)


def test_fixed_premium_per_beneficiary_month_and_both_cessions_add():
    contributions, claims, exposures = rural_mutual()
    t = Treaty(Y_START, Y_END, cession_bp=200, premium_per_beneficiary_month=25)
    s = settle(t, YEAR, contributions=contributions, claims=claims, exposures=exposures)
    assert s.annual.beneficiary_months == 24_000
    assert s.annual.premium_fixed == 600_000
    assert s.annual.premium_share == 264_000
    assert s.annual.premiums == 864_000
    assert [q.premium_fixed for q in s.quarters] == [150_000] * 4
    assert s.annual.xol_recoveries == 0
    assert s.annual.stop_loss_recovery is None


def test_premium_share_rounds_down_on_running_totals():
    t = Treaty(Y_START, Y_END, cession_bp=333)  # 3.33 %
    contributions = [Contribution(date(YEAR, 3 * q - 2, 5), 1_001) for q in range(1, 5)]
    s = settle(t, YEAR, contributions=contributions, claims=[])
    # running totals 1,001 / 2,002 / 3,003 / 4,004 -> 33.33 / 66.67 / 99.999 / 133.33: the
    # franc the quarters' own roundings would lose is charged in the fourth
    assert [q.premium_share for q in s.quarters] == [33, 33, 33, 34]
    assert s.annual.premium_share == 133 == 4_004 * 333 // BP


def test_excess_of_loss_share_limit_and_events():
    t = Treaty(Y_START, Y_END, xol_priority=200_000, xol_limit=300_000, xol_share_bp=8_000)
    assert xol_due(t, 200_000) == 0
    assert xol_due(t, 450_000) == 200_000  # 80 % of 250,000
    assert xol_due(t, 2_000_000) == 300_000  # the limit
    per_event = Treaty(Y_START, Y_END, xol_priority=200_000, xol_per_event=True)
    stay = [ClaimCost(1, date(YEAR, 3, 30), 150_000, event_id=7),
            ClaimCost(2, date(YEAR, 4, 2), 150_000, event_id=7),
            ClaimCost(3, date(YEAR, 4, 3), 150_000)]
    recoveries = xol_recoveries(per_event, stay)
    # the stay's second claim crosses the priority: 100,000 due, in the second quarter
    assert [r.recovery for r in recoveries] == [0, 100_000, 0]
    per_claim = Treaty(Y_START, Y_END, xol_priority=200_000)
    assert [r.recovery for r in xol_recoveries(per_claim, stay)] == [0, 0, 0]
    s = settle(per_event, YEAR, contributions=[], claims=stay)
    assert [q.xol_recoveries for q in s.quarters] == [0, 100_000, 0, 0]


def test_only_what_falls_within_the_treaty_counts():
    t = Treaty(date(YEAR, 4, 1), date(YEAR, 9, 30), cession_bp=1_000, xol_priority=0,
               premium_per_beneficiary_month=10)
    contributions = [Contribution(m, 1_000) for m in months()]
    claims = [ClaimCost(m.month, m, 100) for m in months()]
    s = settle(t, YEAR, contributions=contributions, claims=claims,
               exposures=[Exposure(m, 5) for m in months()])
    assert [q.contributions for q in s.quarters] == [0, 3_000, 3_000, 0]
    assert [q.claims_paid for q in s.quarters] == [0, 300, 300, 0]
    assert s.annual.xol_recoveries == 600
    assert s.annual.premium_fixed == 6 * 5 * 10
    sim = simulate(t, YEAR, contributions=contributions, claims=claims)
    assert sim.annual.contributions == 12_000  # the mutual's own figures count everything


def test_no_treaty_means_no_transfers():
    contributions, claims, exposures = rural_mutual()
    sim = simulate(None, YEAR, contributions=contributions, claims=claims, exposures=exposures)
    assert sim.settlement is None
    assert sim.annual.result_with == sim.annual.result_without == 5_100_000
    assert sim.annual.pool_result == 0


def test_pool_result_over_several_mutuals():
    contributions, claims, exposures = rural_mutual()
    a = simulate(TREATY, YEAR, contributions=contributions, claims=claims, exposures=exposures)
    quiet = [c for c in claims if c.amount < 100_000]
    b = simulate(TREATY, YEAR, contributions=contributions, claims=quiet, exposures=exposures)
    quarters, annual = pool_result([a, b])
    assert annual == -122_000 + 528_000
    assert quarters == (264_000, 264_000, 264_000 - 650_000, 264_000)


def test_terms_round_trip_and_bad_terms():
    terms = treaty_terms(TREATY)
    assert terms["xol_priority"] == 250_000
    assert terms["xol_per_event"] is False
    assert treaty_from_terms(terms, valid_from=Y_START, valid_to=Y_END) == TREATY
    assert treaty_from_terms({"cession_bp": "500", "xol_priority": ""}, valid_from=Y_START,
                             valid_to=Y_END) == Treaty(Y_START, Y_END, cession_bp=500)
    # blank rates and premiums in a form mean none; a blank pool share means all of it
    blank = {"cession_bp": "", "premium_per_beneficiary_month": None, "xol_share_bp": "",
             "xol_priority": "100000"}
    assert treaty_from_terms(blank, valid_from=Y_START, valid_to=Y_END) == Treaty(
        Y_START, Y_END, xol_priority=100_000)
    for bad, field in [({"cession_bp": 1.5}, "cession_bp"), ({"xol_limit": "-3"}, "xol_limit"),
                       ({"bogus": 1}, "bogus"), ({"xol_per_event": "yes"}, "xol_per_event"),
                       ({"cession_bp": 10_001}, "cession_bp"),
                       ({"xol_limit": 5}, "xol_limit"),
                       ({"stop_loss_limit": 5}, "stop_loss_attachment_bp")]:
        with pytest.raises(ReinsuranceError) as err:
            treaty_from_terms(bad, valid_from=Y_START, valid_to=Y_END)
        assert err.value.field == field


@pytest.mark.parametrize(("make", "field"), [
    (lambda: Treaty(Y_END, Y_START), "valid_to"),
    (lambda: Treaty(Y_START, Y_END, xol_priority=-1), "xol_priority"),
    (lambda: Treaty(Y_START, Y_END, xol_share_bp=0), "xol_share_bp"),
    (lambda: Treaty(None, Y_END), "valid_from"),
    (lambda: Treaty(Y_START, Y_END, xol_per_event=1), "xol_per_event"),
    (lambda: Contribution(Y_START, -5), "amount"),
    (lambda: ClaimCost(1, Y_START, 10.0), "amount"),
    (lambda: Exposure(Y_START, -1), "beneficiaries"),
    (lambda: settle(TREATY, 20_026, contributions=[], claims=[]), "year"),
])
def test_bad_inputs_are_refused(make, field):
    with pytest.raises(ReinsuranceError) as err:
        make()
    assert err.value.field == field


def test_statement_figures_are_json_ready():
    contributions, claims, exposures = rural_mutual()
    f = settle(TREATY, YEAR, contributions=contributions, claims=claims,
               exposures=exposures).annual.figures()
    assert f["balance"] == -122_000
    assert f["start"] == "2026-01-01"
    assert f["premiums"] == 528_000
    assert f["stop_loss_recovery"] == 0


# --- properties -----------------------------------------------------------------------------

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = st.dates(date(YEAR - 1, 12, 1), date(YEAR + 1, 1, 31))


@st.composite
def treaties(draw):
    start = draw(st.dates(date(YEAR - 1, 6, 1), date(YEAR, 12, 31)))
    has_xol = draw(st.booleans())
    has_sl = draw(st.booleans())
    return Treaty(
        start, start + timedelta(days=draw(st.integers(0, 500))),
        cession_bp=draw(st.integers(0, BP)),
        premium_per_beneficiary_month=draw(st.integers(0, 200)),
        xol_priority=draw(st.integers(0, 500_000)) if has_xol else None,
        xol_limit=draw(st.none() | st.integers(1, 1_000_000)) if has_xol else None,
        xol_share_bp=draw(st.integers(1, BP)),
        xol_per_event=draw(st.booleans()),
        stop_loss_attachment_bp=draw(st.integers(0, 20_000)) if has_sl else None,
        stop_loss_limit_bp=draw(st.none() | st.integers(1, 20_000)) if has_sl else None,
        stop_loss_limit=draw(st.none() | st.integers(1, 5_000_000)) if has_sl else None,
    )


@st.composite
def years(draw):
    contributions = [Contribution(d, a) for d, a in draw(st.lists(
        st.tuples(DAYS, st.integers(0, 2_000_000)), max_size=20))]
    claims = [ClaimCost(i, d, a, draw(st.none() | st.integers(1, 4)))
              for i, (d, a) in enumerate(draw(st.lists(
                  st.tuples(DAYS, st.integers(0, 1_500_000)), max_size=25)))]
    exposures = [Exposure(date(YEAR, m, 1), draw(st.integers(0, 3_000)))
                 for m in draw(st.sets(st.integers(1, 12)))]
    return contributions, claims, exposures


def run_settle(treaty, data):
    contributions, claims, exposures = data
    return settle(treaty, YEAR, contributions=contributions, claims=claims, exposures=exposures)


@PROPS
@given(treaties(), years())
def test_recoveries_never_exceed_claims_nor_limits(treaty, data):
    s = run_settle(treaty, data)
    claims = data[1]
    by_id = {c.claim_id: c for c in claims}
    per_event: dict = {}
    for r in xol_recoveries(treaty, [c for c in claims if c.paid_on.year == YEAR]):
        assert 0 <= r.recovery <= by_id[r.claim_id].amount
        key = r.event_id if treaty.xol_per_event and r.event_id is not None else ("c", r.claim_id)
        per_event[key] = per_event.get(key, 0) + r.recovery
    for total in per_event.values():
        assert treaty.xol_limit is None or total <= treaty.xol_limit
    year = s.annual
    assert 0 <= year.xol_recoveries <= year.claims_paid
    if not treaty.has_xol:
        assert year.xol_recoveries == 0
    if treaty.has_stop_loss:
        sl = year.stop_loss_recovery
        assert 0 <= sl <= max(0, year.net_claims)
        if treaty.stop_loss_limit is not None:
            assert sl <= treaty.stop_loss_limit
        if treaty.stop_loss_limit_bp is not None:
            assert sl * BP <= year.contributions * treaty.stop_loss_limit_bp
        assert sl == 0 or year.net_claims - sl >= year.stop_loss_attachment
    else:
        assert year.stop_loss_recovery is None


@PROPS
@given(treaties(), years())
def test_quarters_add_up_to_the_year_except_the_stop_loss(treaty, data):
    s = run_settle(treaty, data)
    for name in ("contributions", "beneficiary_months", "claims_paid", "premium_share",
                 "premium_fixed", "premiums", "xol_recoveries", "net_claims"):
        assert sum(getattr(q, name) for q in s.quarters) == getattr(s.annual, name), name
    assert all(q.stop_loss_recovery is None for q in s.quarters)
    assert sum(q.balance for q in s.quarters) - (s.annual.stop_loss_recovery or 0) \
        == s.annual.balance
    for st_ in (*s.quarters, s.annual):
        assert st_.balance == st_.premiums - st_.recoveries
        assert st_.premium_share >= 0
    assert s.annual.premium_share == s.annual.contributions * treaty.cession_bp // BP


@PROPS
@given(treaties(), years())
def test_simulation_accounts_for_every_transfer(treaty, data):
    contributions, claims, exposures = data
    sim = simulate(treaty, YEAR, contributions=contributions, claims=claims,
                   exposures=exposures)
    bare = simulate(None, YEAR, contributions=contributions, claims=claims,
                    exposures=exposures)
    for with_, without in zip((*sim.quarters, sim.annual), (*bare.quarters, bare.annual),
                              strict=True):
        assert without.premiums == without.recoveries == without.pool_result == 0
        assert without.result_with == without.result_without == with_.result_without
        assert with_.result_with - with_.result_without == -with_.pool_result
    assert sum(q.result_with for q in sim.quarters) + sim.annual.stop_loss_recovery \
        == sim.annual.result_with
    assert sim.annual.premiums == sim.settlement.annual.premiums


@PROPS
@given(years(), st.integers(0, BP), st.integers(0, 200))
def test_a_treaty_without_cover_only_costs_its_premium(data, cession, fixed):
    t = Treaty(Y_START, Y_END, cession_bp=cession, premium_per_beneficiary_month=fixed)
    s = run_settle(t, data)
    assert s.annual.recoveries == 0
    assert s.recoveries == ()
    nothing = run_settle(Treaty(Y_START, Y_END), data)
    assert nothing.annual.premiums == nothing.annual.recoveries == nothing.annual.balance == 0
    outside = run_settle(Treaty(date(YEAR + 2, 1, 1), date(YEAR + 2, 12, 31), cession_bp=cession,
                                xol_priority=0, stop_loss_attachment_bp=0), data)
    assert outside.annual.balance == 0
    assert outside.annual.claims_paid == 0


@PROPS
@given(treaties(), years())
def test_worst_case_loss_with_the_treaty_is_bounded_by_its_terms(treaty, data):
    """What the mutual keeps of its claims after the stop-loss is at most the attachment, plus
    whatever exceeds the stop-loss limit; with an unlimited 100 % excess of loss each claim
    (event) keeps at most the priority."""
    s = run_settle(treaty, data)
    year = s.annual
    retained = year.claims_paid - year.recoveries
    if treaty.has_stop_loss:
        caps = [c for c in (treaty.stop_loss_limit,
                            None if treaty.stop_loss_limit_bp is None else
                            year.contributions * treaty.stop_loss_limit_bp // BP)
                if c is not None]
        beyond = max(0, year.net_claims - year.stop_loss_attachment - min(caps)) if caps else 0
        assert retained <= year.stop_loss_attachment + beyond
    if treaty.has_xol and treaty.xol_limit is None and treaty.xol_share_bp == BP:
        events: dict = {}
        for c in data[1]:
            if c.paid_on.year == YEAR and treaty.in_force(c.paid_on):
                key = c.event_id if treaty.xol_per_event and c.event_id is not None \
                    else ("c", c.claim_id)
                events[key] = events.get(key, 0) + c.amount
        kept = sum(min(total, treaty.xol_priority) for total in events.values())
        assert year.claims_paid - year.xol_recoveries == kept


def test_the_module_imports_nothing_from_django():
    code = ("import sys, jigi.health.reinsurance; "
            "sys.exit(any(m.startswith('django') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
