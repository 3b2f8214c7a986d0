"""Claim adjudication and valuation (pure): one example per reason code, then invariants
(hypothesis) over random packages, tariffs, coverages and batches."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jigi.health.valuation import (
    FLAG_REASONS,
    REASON_LABELS,
    REDUCE_REASONS,
    Claim,
    ClaimLine,
    ClaimOutcome,
    Coverage,
    EventUse,
    LineStatus,
    Package,
    Period,
    Reason,
    ServiceGroup,
    Tariff,
    TariffItem,
    ValuationError,
    adjudicate,
    reason_label,
)

TODAY = date(2026, 6, 30)
CARE = date(2026, 6, 10)

# A rural package in the spirit of DOMAIN.md §3: 60 % ambulatory, 75 % complicated delivery.
PACKAGE = Package(
    "AMV",
    (
        ServiceGroup("CONS", 6_000),
        ServiceGroup("DRUG", 6_000),
        ServiceGroup("LAB", 6_000),
        ServiceGroup("CPN", 6_000, min_age=12, max_age=55),
        ServiceGroup("DELIV", 6_000, waiting_days=270),
        ServiceGroup("DELIV_C", 7_500, ceiling_per_event=100_000, waiting_days=270,
                     requires_diagnosis=True),
        ServiceGroup("HOSP", 7_500, max_quantity_per_event=10, ceiling_per_year=150_000),
        ServiceGroup("SURG", 7_500, ceiling_per_event=300_000, ceiling_per_year=500_000,
                     requires_diagnosis=True),
        ServiceGroup("TRANS", 5_000, ceiling_per_event=15_000),
    ),
    waiting_days=90,
    waiting_days_after_lapse=30,
    excluded_items=frozenset({"LUNETTES"}),
    excluded_diagnoses=("Z41",),
)
TARIFF = Tariff(
    (
        TariffItem("C1", "CONS", 1_500),
        TariffItem("PARA", "DRUG", 25, max_quantity=30),
        TariffItem("GE", "LAB", 1_000),
        TariffItem("CPN1", "CPN", 1_000),
        TariffItem("ACC", "DELIV", 7_500),
        TariffItem("CES", "DELIV_C", 150_000),
        TariffItem("HJ", "HOSP", 5_000),
        TariffItem("APP", "SURG", 200_000),
        TariffItem("AMB", "TRANS", 25_000),
        TariffItem("LUNETTES", "CONS", 10_000),
        TariffItem("DENT", "DENTAL", 5_000),
    ),
    far_above_bp=5_000,
)
PROVIDER = 7
AMINATA = Coverage(1, (Period(date(2025, 1, 1)),), enrolled_on=date(2025, 1, 1),
                   birth_date=date(1990, 5, 1))


def run(claims, *, coverages=None, tariffs=None, paid_keys=frozenset(), package=PACKAGE):
    return adjudicate(claims, package=package,
                      tariffs={PROVIDER: TARIFF} if tariffs is None else tariffs,
                      coverages={1: AMINATA} if coverages is None else coverages,
                      today=TODAY, paid_keys=paid_keys)


def claim(*lines, claim_id=1, ben=1, on=CARE, diagnosis=None, provider=PROVIDER):
    return Claim(claim_id, ben, provider, on, tuple(ClaimLine(*x) for x in lines), diagnosis)


def only_line(result):
    (c,) = result.claims
    (line,) = c.lines
    return line


# --- valuation and rounding -----------------------------------------------------------------


def test_consultation_at_tariff_mutual_pays_60_percent():
    line = only_line(run([claim(("C1", 1, 1_500))]))
    assert line.status == LineStatus.ACCEPTED
    assert line.reasons == ()
    assert (line.claimed, line.allowed, line.mutual_share, line.copay) == (1_500, 1_500, 900, 600)


def test_share_rounds_down_and_member_takes_the_fraction():
    # below tariff: the claimed price is allowed; 60 % of 1,001 = 600.6 -> 600, copay 401
    line = only_line(run([claim(("C1", 1, 1_001))]))
    assert (line.allowed, line.mutual_share, line.copay) == (1_001, 600, 401)
    assert line.status == LineStatus.ACCEPTED


def test_complicated_delivery_75_percent_with_diagnosis():
    line = only_line(run([claim(("CES", 1, 120_000), diagnosis="O82.0")]))
    # 75 % of 120,000 = 90,000, under the 100,000 event ceiling
    assert (line.status, line.mutual_share, line.copay) == (LineStatus.ACCEPTED, 90_000, 30_000)


def test_claim_totals_and_status():
    result = run([claim(("C1", 1, 1_500), ("PARA", 10, 25), ("GE", 1, 1_200))])
    (c,) = result.claims
    assert c.status == ClaimOutcome.REDUCED  # the lab price was cut to the tariff
    assert c.claimed == 1_500 + 250 + 1_200
    assert c.allowed == 1_500 + 250 + 1_000
    assert c.mutual_share == 900 + 150 + 600
    assert c.copay == c.allowed - c.mutual_share
    assert c.reasons == (Reason.PRICE_ABOVE_TARIFF,)
    assert result.consumption == {(1, "CONS", 2026): 900, (1, "DRUG", 2026): 150,
                                  (1, "LAB", 2026): 600}
    assert result.care_keys == {(1, PROVIDER, CARE, "C1"), (1, PROVIDER, CARE, "PARA"),
                                (1, PROVIDER, CARE, "GE")}


# --- one example per reason code ------------------------------------------------------------


def test_future_date_rejects_every_line():
    result = run([claim(("C1", 1, 1_500), ("GE", 1, 1_000), on=TODAY + timedelta(days=1))])
    (c,) = result.claims
    assert c.status == ClaimOutcome.REJECTED
    assert all(line.reasons == (Reason.FUTURE_DATE,) for line in c.lines)
    assert (c.allowed, c.mutual_share, c.copay) == (0, 0, 0)
    assert result.consumption == {}
    assert result.care_keys == frozenset()


def test_today_is_not_the_future():
    assert only_line(run([claim(("C1", 1, 1_500), on=TODAY)])).status == LineStatus.ACCEPTED


def test_unknown_beneficiary():
    line = only_line(run([claim(("C1", 1, 1_500), ben=99)]))
    assert (line.status, line.reasons) == (LineStatus.REJECTED, (Reason.NOT_A_BENEFICIARY,))
    assert line.claimed == 1_500


def test_not_covered_on_date():
    lapsed = Coverage(1, (Period(date(2025, 1, 1), date(2025, 12, 31)),))
    line = only_line(run([claim(("C1", 1, 1_500))], coverages={1: lapsed}))
    assert line.reasons == (Reason.NOT_COVERED_ON_DATE,)


def test_suspended_for_arrears():
    suspended = Coverage(1, (Period(date(2025, 1, 1)),),
                         suspensions=(Period(date(2026, 6, 1), date(2026, 6, 30)),))
    line = only_line(run([claim(("C1", 1, 1_500))], coverages={1: suspended}))
    assert (line.status, line.reasons) == (LineStatus.REJECTED, (Reason.SUSPENDED_ARREARS,))
    # the day after the suspension ends, care is covered again
    ok = only_line(run([claim(("C1", 1, 1_500), on=date(2026, 5, 31))],
                       coverages={1: suspended}))
    assert ok.status == LineStatus.ACCEPTED


def test_no_convention_with_the_provider_or_out_of_its_dates():
    line = only_line(run([claim(("C1", 1, 1_500), provider=8)]))
    assert line.reasons == (Reason.NO_CONVENTION,)
    old = Tariff(TARIFF.items, valid_to=date(2026, 5, 31))
    line = only_line(run([claim(("C1", 1, 1_500))], tariffs={PROVIDER: old}))
    assert line.reasons == (Reason.NO_CONVENTION,)


def test_empty_claim():
    (c,) = run([claim()]).claims
    assert (c.status, c.reasons, c.lines) == (ClaimOutcome.REJECTED, (Reason.EMPTY_CLAIM,),
                                              ())


@pytest.mark.parametrize("quantity", [0, -2, 1.5, True, 100_001])
def test_bad_quantity(quantity):
    line = only_line(run([claim(("C1", quantity, 1_500))]))
    assert line.status == LineStatus.REJECTED
    assert line.reasons == (Reason.BAD_QUANTITY,)
    assert (line.claimed, line.allowed) == (0, 0)


@pytest.mark.parametrize("price", [0, -1_500, 1_500.0, "1500", 10**16])
def test_bad_price(price):
    line = only_line(run([claim(("C1", 1, price))]))
    assert (line.status, line.reasons) == (LineStatus.REJECTED, (Reason.BAD_PRICE,))


def test_unknown_item():
    line = only_line(run([claim(("SCANNER", 1, 50_000))]))
    assert (line.status, line.reasons, line.group) == (LineStatus.REJECTED,
                                                       (Reason.UNKNOWN_ITEM,), None)


def test_not_in_package():
    line = only_line(run([claim(("DENT", 1, 5_000))]))
    assert (line.reasons, line.group) == ((Reason.NOT_IN_PACKAGE,), "DENTAL")


def test_excluded_item_and_excluded_diagnosis():
    assert only_line(run([claim(("LUNETTES", 1, 10_000))])).reasons == (Reason.EXCLUDED,)
    line = only_line(run([claim(("APP", 1, 200_000), diagnosis="Z41.1")]))
    assert (line.status, line.reasons) == (LineStatus.REJECTED, (Reason.EXCLUDED,))


def test_waiting_period_after_enrolment_and_per_group():
    new = Coverage(1, (Period(date(2026, 5, 1)),))  # enrolled 1 May, 90 days of stage
    line = only_line(run([claim(("C1", 1, 1_500))], coverages={1: new}))
    assert (line.status, line.reasons) == (LineStatus.REJECTED, (Reason.WAITING_PERIOD,))
    # day 90 after enrolment (30 July) is the first covered day
    for on, status in ((date(2026, 7, 29), ClaimOutcome.REJECTED),
                       (date(2026, 7, 30), ClaimOutcome.ACCEPTED)):
        later = adjudicate([claim(("C1", 1, 1_500), on=on)], package=PACKAGE,
                           tariffs={PROVIDER: TARIFF}, coverages={1: new},
                           today=date(2026, 8, 1))
        assert later.claims[0].status == status
    older = Coverage(1, (Period(date(2026, 3, 1)),))
    assert only_line(run([claim(("C1", 1, 1_500), on=date(2026, 5, 30))],
                         coverages={1: older})).status == LineStatus.ACCEPTED
    assert only_line(run([claim(("C1", 1, 1_500), on=date(2026, 5, 29))],
                         coverages={1: older})).reasons == (Reason.WAITING_PERIOD,)
    # deliveries wait 270 days, whatever the package's general stage
    line = only_line(run([claim(("ACC", 1, 7_500))], coverages={1: older}))
    assert line.reasons == (Reason.WAITING_PERIOD,)


def test_waiting_period_after_a_lapse():
    back = Coverage(1, (Period(date(2024, 1, 1), date(2025, 12, 31)), Period(date(2026, 6, 1))),
                    enrolled_on=date(2024, 1, 1), resumed_on=(date(2026, 6, 1),))
    line = only_line(run([claim(("C1", 1, 1_500))], coverages={1: back}))
    assert line.reasons == (Reason.WAITING_PERIOD,)
    assert only_line(run([claim(("C1", 1, 1_500), on=date(2026, 7, 1))],
                         coverages={1: back})).reasons == (Reason.FUTURE_DATE,)
    later = adjudicate([claim(("C1", 1, 1_500), on=date(2026, 7, 1))], package=PACKAGE,
                       tariffs={PROVIDER: TARIFF}, coverages={1: back}, today=date(2026, 7, 1))
    assert later.claims[0].status == ClaimOutcome.ACCEPTED


def test_waiting_end_decided_elsewhere():
    moved = Coverage(1, (Period(date(2025, 1, 1)),), waiting_ends_on=date(2026, 6, 15))
    assert only_line(run([claim(("C1", 1, 1_500))], coverages={1: moved})).reasons == (
        Reason.WAITING_PERIOD,)


def test_age_limit_and_unknown_age():
    child = Coverage(1, (Period(date(2020, 1, 1)),), birth_date=date(2016, 1, 1))
    line = only_line(run([claim(("CPN1", 1, 1_000))], coverages={1: child}))
    assert (line.status, line.reasons) == (LineStatus.REJECTED, (Reason.AGE_LIMIT,))
    unknown = Coverage(1, (Period(date(2020, 1, 1)),))
    line = only_line(run([claim(("CPN1", 1, 1_000))], coverages={1: unknown}))
    assert (line.status, line.reasons) == (LineStatus.FLAGGED, (Reason.AGE_UNKNOWN,))
    assert line.mutual_share == 600  # provisional valuation shown to the reviewer
    assert only_line(run([claim(("CPN1", 1, 1_000))])).status == LineStatus.ACCEPTED


def test_age_is_counted_in_whole_years_on_the_care_date():
    turns_12 = Coverage(1, (Period(date(2020, 1, 1)),), birth_date=date(2014, 6, 10))
    assert only_line(run([claim(("CPN1", 1, 1_000))], coverages={1: turns_12})
                     ).status == LineStatus.ACCEPTED
    not_yet = Coverage(1, (Period(date(2020, 1, 1)),), birth_date=date(2014, 6, 11))
    assert only_line(run([claim(("CPN1", 1, 1_000))], coverages={1: not_yet})
                     ).reasons == (Reason.AGE_LIMIT,)


def test_duplicate_of_history():
    key = (1, PROVIDER, CARE, "C1")
    line = only_line(run([claim(("C1", 1, 1_500))], paid_keys={key}))
    assert (line.status, line.reasons) == (LineStatus.REJECTED, (Reason.DUPLICATE,))


def test_duplicate_within_the_batch_keeps_the_first_claim():
    result = run([claim(("C1", 1, 1_500), claim_id=20), claim(("C1", 1, 1_500), claim_id=10)])
    by_id = result.by_id()
    assert by_id[10].status == ClaimOutcome.ACCEPTED
    assert by_id[20].lines[0].reasons == (Reason.DUPLICATE,)
    assert [c.claim_id for c in result.claims] == [10, 20]


def test_same_item_twice_in_one_claim_is_not_a_duplicate():
    (c,) = run([claim(("PARA", 10, 25), ("PARA", 10, 25))]).claims
    assert [line.status for line in c.lines] == [LineStatus.ACCEPTED, LineStatus.ACCEPTED]


def test_price_above_tariff_is_reduced():
    line = only_line(run([claim(("C1", 2, 2_000))]))
    assert (line.status, line.reasons) == (LineStatus.REDUCED, (Reason.PRICE_ABOVE_TARIFF,))
    assert (line.claimed, line.allowed_unit_price, line.allowed) == (4_000, 1_500, 3_000)
    assert (line.mutual_share, line.copay) == (1_800, 1_200)


def test_price_far_above_tariff_goes_to_review():
    # exactly +50 % is still a reduction; above it a person looks
    assert only_line(run([claim(("C1", 1, 2_250))])).reasons == (Reason.PRICE_ABOVE_TARIFF,)
    result = run([claim(("C1", 1, 2_251), ("GE", 1, 1_000))])
    (c,) = result.claims
    assert c.status == ClaimOutcome.REVIEW
    assert c.lines[0].status == LineStatus.FLAGGED
    assert c.lines[0].reasons == (Reason.PRICE_FAR_ABOVE_TARIFF,)
    assert c.lines[0].allowed == 1_500  # valued at the tariff meanwhile
    assert c.lines[1].status == LineStatus.ACCEPTED


def test_quantity_limit_per_item_and_per_group():
    (c,) = run([claim(("PARA", 20, 25), ("PARA", 20, 25), ("PARA", 5, 25))]).claims
    assert [(x.status, x.allowed_quantity) for x in c.lines] == [
        (LineStatus.ACCEPTED, 20), (LineStatus.REDUCED, 10), (LineStatus.REJECTED, 0)]
    assert c.lines[2].reasons == (Reason.QUANTITY_LIMIT,)
    line = only_line(run([claim(("HJ", 12, 5_000))]))
    assert (line.allowed_quantity, line.allowed, line.reasons) == (
        10, 50_000, (Reason.QUANTITY_LIMIT,))


def test_ceiling_per_event_reduces_the_share_not_the_allowed_amount():
    # transport: 50 % of 25,000 = 12,500, under 15,000; two runs in one event hit it
    (c,) = run([claim(("AMB", 1, 25_000), ("AMB", 1, 25_000))]).claims
    first, second = c.lines
    assert (first.mutual_share, first.status) == (12_500, LineStatus.ACCEPTED)
    assert (second.mutual_share, second.copay, second.reasons) == (
        2_500, 22_500, (Reason.CEILING_EVENT,))
    assert second.status == LineStatus.REDUCED
    assert c.mutual_share == 15_000


def test_ceiling_per_event_exhausted_rejects():
    (c,) = run([claim(("AMB", 2, 25_000), ("AMB", 1, 25_000))]).claims
    assert c.lines[0].mutual_share == 15_000
    assert (c.lines[1].status, c.lines[1].reasons, c.lines[1].allowed) == (
        LineStatus.REJECTED, (Reason.CEILING_EVENT,), 0)


def test_event_limits_hold_across_claims_of_the_same_visit():
    # 10 hospital days per event: a stay split over two care sheets (two room items) cannot
    # claim 12
    two_items = Tariff((*TARIFF.items, TariffItem("HJ2", "HOSP", 5_000)))
    result = run([claim(("HJ", 6, 5_000), claim_id=1), claim(("HJ2", 6, 5_000), claim_id=2)],
                 tariffs={PROVIDER: two_items})
    assert [c.lines[0].allowed_quantity for c in result.claims] == [6, 4]
    assert result.claims[1].lines[0].reasons == (Reason.QUANTITY_LIMIT,)
    assert result.events == {(1, PROVIDER, CARE): EventUse({"HJ": 6, "HJ2": 4}, {"HOSP": 10},
                                                           {"HOSP": 37_500})}


def test_event_use_of_earlier_batches_is_taken_into_account():
    prior = {(1, PROVIDER, CARE): EventUse({}, {"TRANS": 1}, {"TRANS": 12_500})}
    line = only_line(adjudicate([claim(("AMB", 1, 25_000))], package=PACKAGE,
                                tariffs={PROVIDER: TARIFF}, coverages={1: AMINATA},
                                today=TODAY, prior_events=prior))
    assert (line.mutual_share, line.reasons) == (2_500, (Reason.CEILING_EVENT,))
    # another day is another event
    line = only_line(adjudicate([claim(("AMB", 1, 25_000), on=CARE - timedelta(days=1))],
                                package=PACKAGE, tariffs={PROVIDER: TARIFF},
                                coverages={1: AMINATA}, today=TODAY, prior_events=prior))
    assert line.mutual_share == 12_500


def test_ceiling_per_year_uses_what_was_consumed_and_reports_the_new_total():
    cov = Coverage(1, (Period(date(2025, 1, 1)),), consumed={("HOSP", 2026): 140_000})
    result = run([claim(("HJ", 4, 5_000), claim_id=1),
                  claim(("HJ", 1, 5_000), claim_id=2, on=CARE + timedelta(days=1))],
                 coverages={1: cov})
    first, second = result.claims
    # 75 % of 20,000 = 15,000 but only 10,000 left this year
    assert (first.lines[0].mutual_share, first.lines[0].reasons) == (
        10_000, (Reason.CEILING_YEAR,))
    assert first.copay == 10_000
    assert (second.status, second.lines[0].reasons) == (ClaimOutcome.REJECTED,
                                                        (Reason.CEILING_YEAR,))
    assert result.consumption == {(1, "HOSP", 2026): 150_000}
    # a new calendar year starts again from what was consumed in it
    next_year = adjudicate([claim(("HJ", 4, 5_000), on=date(2027, 1, 5))], package=PACKAGE,
                           tariffs={PROVIDER: TARIFF}, coverages={1: cov},
                           today=date(2027, 1, 31))
    assert next_year.claims[0].mutual_share == 15_000
    assert next_year.consumption == {(1, "HOSP", 2027): 15_000}


def test_diagnosis_missing_or_invalid_goes_to_review():
    line = only_line(run([claim(("APP", 1, 200_000))]))
    assert (line.status, line.reasons) == (LineStatus.FLAGGED, (Reason.DIAGNOSIS_MISSING,))
    line = only_line(run([claim(("C1", 1, 1_500), diagnosis="paludisme")]))
    assert (line.status, line.reasons) == (LineStatus.FLAGGED, (Reason.DIAGNOSIS_INVALID,))
    assert only_line(run([claim(("APP", 1, 200_000), diagnosis="k35.8")])
                     ).status == LineStatus.ACCEPTED


def test_several_reasons_are_all_reported():
    line = only_line(run([claim(("DENT", -1, 5_000), ben=99, on=TODAY + timedelta(days=3))]))
    assert line.reasons == (Reason.FUTURE_DATE, Reason.NOT_A_BENEFICIARY, Reason.BAD_QUANTITY,
                            Reason.NOT_IN_PACKAGE)


def test_every_reason_has_a_label_and_a_stable_code():
    assert set(REASON_LABELS) == set(Reason)
    assert all(code.value == code.name for code in Reason)
    assert reason_label("DUPLICATE").startswith("Same care")
    assert FLAG_REASONS.isdisjoint(REDUCE_REASONS)
    # the stored statuses (health.models.ClaimLine.status, Claim.status) are these strings
    assert [s.value for s in LineStatus] == ["accepted", "reduced", "rejected", "flagged"]
    assert [s.value for s in ClaimOutcome] == ["accepted", "reduced", "rejected", "review"]


@pytest.mark.parametrize(("make", "field"), [
    (lambda: ServiceGroup("X", 10_001), "share_bp"),
    (lambda: ServiceGroup("X", 5_000, ceiling_per_event=-1), "ceiling_per_event"),
    (lambda: ServiceGroup("X", 5_000.0), "share_bp"),
    (lambda: ServiceGroup("X", 5_000, min_age=18, max_age=5), "max_age"),
    (lambda: ServiceGroup("", 5_000), "code"),
    (lambda: Package("P", (ServiceGroup("X", 1), ServiceGroup("X", 2))), "groups"),
    (lambda: TariffItem("C", "X", -5), "C.price"),
    (lambda: Tariff((TariffItem("C", "X", 5), TariffItem("C", "X", 6))), "items"),
    (lambda: Tariff((), valid_from=date(2026, 2, 1), valid_to=date(2026, 1, 1)), "valid_to"),
    (lambda: Period(date(2026, 2, 1), date(2026, 1, 1)), "end"),
])
def test_bad_set_up_is_refused(make, field):
    with pytest.raises(ValuationError) as err:
        make()
    assert err.value.field == field


def test_a_claim_id_twice_in_a_batch_is_refused():
    with pytest.raises(ValuationError):
        run([claim(("C1", 1, 1_500)), claim(("GE", 1, 1_000))])


# --- properties -----------------------------------------------------------------------------

GROUP_CODES = ("A", "B", "C")
BP_MAX = 10_000
ITEMS = ("I0", "I1", "I2", "I3", "I4", "I5")
START = date(2025, 11, 1)
H_TODAY = date(2026, 3, 1)


@st.composite
def worlds(draw):
    groups = tuple(
        ServiceGroup(
            code,
            draw(st.integers(0, BP_MAX)),
            ceiling_per_event=draw(st.none() | st.integers(0, 50_000)),
            ceiling_per_year=draw(st.none() | st.integers(0, 80_000)),
            max_quantity_per_event=draw(st.none() | st.integers(1, 6)),
            min_age=draw(st.none() | st.integers(0, 20)),
            max_age=draw(st.none() | st.integers(20, 90)),
            waiting_days=draw(st.none() | st.integers(0, 120)),
        )
        for code in GROUP_CODES
    )
    package = Package("P", groups, waiting_days=draw(st.integers(0, 60)),
                      waiting_days_after_lapse=draw(st.integers(0, 30)),
                      excluded_items=frozenset(draw(st.sets(st.sampled_from(ITEMS), max_size=1))))
    tariff = Tariff(
        tuple(TariffItem(code, draw(st.sampled_from((*GROUP_CODES, "Z"))),
                         draw(st.integers(0, 20_000)),
                         draw(st.none() | st.integers(1, 5)))
              for code in ITEMS[:-1]),  # the last item is unknown to the tariff
        far_above_bp=draw(st.integers(0, 10_000)),
    )
    coverages = {}
    for ben in (1, 2, 3):
        start = START - timedelta(days=draw(st.integers(0, 400)))
        end = draw(st.none() | st.dates(START, H_TODAY))
        suspensions = tuple(
            Period(s, s + timedelta(days=draw(st.integers(0, 40))))
            for s in draw(st.lists(st.dates(START, H_TODAY), max_size=1)))
        consumed = {(g, y): draw(st.integers(0, 30_000))
                    for g in GROUP_CODES for y in (2025, 2026) if draw(st.booleans())}
        coverages[ben] = Coverage(
            ben, (Period(start, end),), suspensions=suspensions,
            resumed_on=tuple(draw(st.lists(st.dates(START, H_TODAY), max_size=1))),
            birth_date=draw(st.none() | st.dates(date(1940, 1, 1), date(2025, 1, 1))),
            consumed=consumed)
    line = st.tuples(st.sampled_from(ITEMS), st.integers(-1, 6), st.integers(0, 40_000))
    claims = [
        Claim(i, draw(st.integers(1, 4)), draw(st.sampled_from((1, 2))),
              START + timedelta(days=draw(st.integers(0, 150))),
              tuple(ClaimLine(*x) for x in draw(st.lists(line, max_size=4))),
              draw(st.sampled_from((None, "A09", "Z41.0", "bad"))))
        for i in draw(st.lists(st.integers(1, 500), min_size=1, max_size=12, unique=True))
    ]
    history = frozenset(draw(st.lists(
        st.tuples(st.integers(1, 3), st.just(1),
                  st.sampled_from([c.care_date for c in claims]), st.sampled_from(ITEMS)),
        max_size=3)))
    return package, {1: tariff}, coverages, claims, history


PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def adjudicate_world(world, claims=None, history=None, coverages=None, prior_events=None):
    package, tariffs, world_coverages, batch, paid = world
    return adjudicate(batch if claims is None else claims, package=package, tariffs=tariffs,
                      coverages=world_coverages if coverages is None else coverages,
                      today=H_TODAY, paid_keys=paid if history is None else history,
                      prior_events=prior_events)


def persisted(coverages, result):
    """The coverages as the service reloads them after saving a batch's consumption."""
    out = {}
    for ben, cov in coverages.items():
        consumed = dict(cov.consumed)
        for (b, group_code, year), total in result.consumption.items():
            if b == ben:
                consumed[(group_code, year)] = total
        out[ben] = replace(cov, consumed=consumed)
    return out


@PROPS
@given(worlds())
def test_amounts_add_up_and_stay_within_claim_and_tariff(world):
    package, tariffs, _coverages, claims, _ = world
    result = adjudicate_world(world)
    by_id = {c.claim_id: c for c in claims}
    for c in result.claims:
        tariff = tariffs.get(by_id[c.claim_id].provider_id)
        for line in c.lines:
            assert line.mutual_share + line.copay == line.allowed
            assert 0 <= line.mutual_share <= line.allowed <= line.claimed
            assert line.copay >= 0
            src = by_id[c.claim_id].lines[line.index]
            if line.status == LineStatus.REJECTED:
                assert (line.allowed, line.mutual_share, line.copay) == (0, 0, 0)
                assert line.reasons
            else:
                item = tariff.item(src.item_code)
                assert line.allowed <= item.price * src.quantity
                assert line.allowed_quantity <= src.quantity
                group = package.group(item.group)
                assert line.mutual_share <= line.allowed * group.share_bp // BP_MAX
            if line.status == LineStatus.FLAGGED:
                assert FLAG_REASONS & set(line.reasons)
            if line.status == LineStatus.ACCEPTED:
                assert line.reasons == ()
                assert line.allowed == line.claimed
        assert c.claimed == sum(x.claimed for x in c.lines)
        assert c.mutual_share + c.copay == c.allowed
        if any(x.status == LineStatus.FLAGGED for x in c.lines):
            assert c.status == ClaimOutcome.REVIEW


@PROPS
@given(worlds())
def test_ceilings_are_never_exceeded(world):
    package, _tariffs, coverages, claims, _ = world
    result = adjudicate_world(world)
    by_id = {c.claim_id: c for c in claims}
    added: dict = {}
    per_event: dict = {}
    for c in result.claims:
        src = by_id[c.claim_id]
        for line in c.lines:
            if line.mutual_share:
                event = (src.beneficiary_id, src.provider_id, src.care_date, line.group)
                per_event[event] = per_event.get(event, 0) + line.mutual_share
                key = (src.beneficiary_id, line.group, src.care_date.year)
                added[key] = added.get(key, 0) + line.mutual_share
    for (*_, group_code), share in per_event.items():
        ceiling = package.group(group_code).ceiling_per_event
        assert ceiling is None or share <= ceiling
    assert set(result.consumption) == set(added)
    for (ben, group_code, year), extra in added.items():
        before = coverages[ben].consumed.get((group_code, year), 0)
        assert result.consumption[(ben, group_code, year)] == before + extra
        ceiling = package.group(group_code).ceiling_per_year
        assert ceiling is None or before + extra <= max(ceiling, before)
        if ceiling is not None and before >= ceiling:
            assert extra == 0


@PROPS
@given(worlds(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_the_order_claims_are_given_in(world, rnd):
    first = adjudicate_world(world)
    shuffled = list(world[3])
    rnd.shuffle(shuffled)
    second = adjudicate_world(world, claims=shuffled)
    assert second == first


@PROPS
@given(worlds())
def test_duplicate_detection_is_idempotent(world):
    """Adjudicating is deterministic, and a batch sent again after the first was saved (care
    keys, ceilings' consumption, events' use) pays nothing more: every line it paid is a
    DUPLICATE, every line it refused is still refused."""
    first = adjudicate_world(world)
    assert adjudicate_world(world) == first
    state = dict(history=world[4] | first.care_keys, coverages=persisted(world[2], first),
                 prior_events=first.events)
    again = adjudicate_world(world, **state)
    for before, after in zip(first.claims, again.claims, strict=True):
        for b, a in zip(before.lines, after.lines, strict=True):
            assert a.status == LineStatus.REJECTED
            if b.status != LineStatus.REJECTED:
                assert Reason.DUPLICATE in a.reasons
    assert again.care_keys == frozenset()
    assert again.consumption == {}
    assert again.events == {}
    assert adjudicate_world(world, **state) == again


@PROPS
@given(worlds())
def test_care_keys_are_those_of_the_lines_that_may_be_paid(world):
    result = adjudicate_world(world)
    by_id = {c.claim_id: c for c in world[3]}
    keys = set()
    for c in result.claims:
        src = by_id[c.claim_id]
        for line in c.lines:
            if line.status != LineStatus.REJECTED:
                keys.add((src.beneficiary_id, src.provider_id, src.care_date, line.item_code))
    assert result.care_keys == keys
    assert keys.isdisjoint(world[4])


def test_the_module_imports_nothing_from_django():
    code = ("import sys, jigi.health.valuation; "
            "sys.exit(any(m.startswith('django') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
