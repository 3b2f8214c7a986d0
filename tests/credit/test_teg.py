"""TEG: DOMAIN.md §1 worked examples, the usury check, and the method's invariants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jigi.credit.schedule import (
    Fee,
    FeeType,
    InterestMethod,
    LoanTerms,
    RatePer,
    RepaymentUnit,
    ScheduleError,
    generate_schedule,
)
from jigi.credit.teg import (
    TegBase,
    periods_since,
    teg_from_cash_flows,
    teg_of_schedule,
    usury_cap_on,
    usury_check,
)

D = Decimal
SFD_CAP = D(24)
FEE_3 = Fee("frais de dossier", FeeType.UPFRONT_PERCENT, D(3))


def test_domain_example_declining_balance_with_a_3_percent_fee():
    # 100,000 F, 12 x 9,168 monthly, 3,000 withheld: 97,000 = sum 9168 / (1+i)^k (last 9,166)
    # -> i = 1.9921 % a month, TEG = 12 x i = 23.9 % (DOMAIN.md: "about 23.9 %"), under 24 %.
    schedule = generate_schedule(
        LoanTerms(
            principal=D(100000),
            interest_rate=D(18),
            repayments=12,
            disbursed_on=date(2025, 1, 15),
            fees=(FEE_3,),
        )
    )
    teg = teg_of_schedule(schedule)
    assert (teg.period_rate_percent, teg.annual_rate_percent) == (D("1.9921"), D("23.9056"))
    assert teg.base is TegBase.MONTH
    assert not usury_check(teg.annual_rate_percent, SFD_CAP).usurious


def test_domain_example_flat_rate_is_usurious():
    # Flat 1.5 %/month: 100,000 F repaid 11 x 9,833 + 9,837: i = 2.6430 %, TEG 31.7 % > 24 %.
    schedule = generate_schedule(
        LoanTerms(
            principal=D(100000),
            interest_rate=D("1.5"),
            interest_rate_per=RatePer.MONTH,
            interest_method=InterestMethod.FLAT,
            repayments=12,
            disbursed_on=date(2025, 1, 15),
        )
    )
    teg = teg_of_schedule(schedule)
    assert teg.annual_rate_percent == D("31.7155")
    check = usury_check(teg.annual_rate_percent, SFD_CAP)
    assert check.usurious
    assert check.headroom == D("-7.7155")


def test_domain_example_six_months_repaid_at_maturity_with_a_2_percent_fee():
    # 200,000 F, 1.5 %/month simple for 6 months: 218,000 at maturity; 4,000 withheld.
    # (218000 / 196000)^(1/6) - 1 = 1.7888 % a month -> TEG 21.47 % ("about 21.5 %").
    schedule = generate_schedule(
        LoanTerms(
            principal=D(200000),
            interest_rate=D("1.5"),
            interest_rate_per=RatePer.MONTH,
            interest_method=InterestMethod.FLAT,
            repayments=1,
            repayment_every=6,
            disbursed_on=date(2025, 1, 15),
            fees=(Fee("frais", FeeType.UPFRONT_PERCENT, D(2)),),
        )
    )
    assert [i.total for i in schedule.installments] == [D(218000)]
    assert schedule.net_disbursed == D(196000)
    teg = teg_of_schedule(schedule)
    assert (teg.period_rate_percent, teg.annual_rate_percent) == (D("1.7888"), D("21.4658"))


def test_compulsory_savings_count_only_when_the_product_says_so():
    # 10 % blocked (10,000 F) at disbursement, released as the principal is repaid (10 % of
    # each instalment's principal: 767, 778, ...): the borrower has 87,000 F in hand.
    terms = {
        "principal": D(100000),
        "interest_rate": D(18),
        "repayments": 12,
        "disbursed_on": date(2025, 1, 15),
        "fees": (FEE_3,),
        "compulsory_savings_percent": D(10),
    }
    schedule = generate_schedule(LoanTerms(**terms))
    assert schedule.compulsory_savings == D(10000)
    without = teg_of_schedule(schedule)
    with_savings = teg_of_schedule(schedule, include_compulsory_savings=True)
    assert without.annual_rate_percent == D("23.9056")  # default: off
    assert with_savings.annual_rate_percent == D("26.6286")
    on = generate_schedule(LoanTerms(**terms, teg_includes_compulsory_savings=True))
    assert teg_of_schedule(on) == with_savings


def test_simple_cash_flows():
    # 100 lent, 110 back a month later: 10 % a month, 120 % a year (proportional).
    teg = teg_from_cash_flows(
        disbursed_on=date(2025, 1, 31),
        net_disbursed=D(100),
        payments=[(date(2025, 2, 28), D(110))],
        base=TegBase.MONTH,
    )
    assert (teg.period_rate_percent, teg.annual_rate_percent) == (D("10.0000"), D("120.0000"))


def test_weekly_schedules_use_a_weekly_base():
    schedule = generate_schedule(
        LoanTerms(
            principal=D(50000),
            interest_rate=D(26),
            repayments=16,
            repayment_unit=RepaymentUnit.WEEKS,
            disbursed_on=date(2025, 3, 3),
        )
    )
    teg = teg_of_schedule(schedule)
    assert teg.base is TegBase.WEEK
    # Without fees the TEG is the nominal 26 %, up to the rounding of the instalments.
    assert abs(teg.annual_rate_percent - D(26)) < D("0.05")


def test_time_in_months_counts_whole_months_and_the_fraction_of_the_next():
    assert periods_since(date(2025, 5, 20), date(2025, 12, 20), TegBase.MONTH) == 7
    # End of month to end of month is one month; 15 January -> 1 February is 17/31.
    assert periods_since(date(2025, 1, 31), date(2025, 2, 28), TegBase.MONTH) == 1
    assert periods_since(date(2025, 1, 15), date(2025, 2, 1), TegBase.MONTH) == 17 / 31
    assert periods_since(date(2025, 1, 1), date(2025, 1, 15), TegBase.WEEK) == 2
    assert periods_since(date(2025, 1, 1), date(2025, 1, 15), TegBase.DAY) == 14


@pytest.mark.parametrize(
    ("net", "payments", "field"),
    [
        (D(0), [(date(2025, 2, 1), D(100))], "fees"),
        (D(100), [(date(2025, 1, 1), D(110))], "installments"),
        (D(100), [(date(2025, 2, 1), D(0))], "installments"),
        (D(100), [(date(2025, 2, 1), D(-5))], "installments"),
    ],
)
def test_impossible_cash_flows_are_refused(net, payments, field):
    with pytest.raises(ScheduleError) as exc:
        teg_from_cash_flows(
            disbursed_on=date(2025, 1, 1), net_disbursed=net, payments=payments, base=TegBase.MONTH
        )
    assert exc.value.field == field


def test_usury_cap_is_a_maximum():
    assert not usury_check(D("24.0000"), SFD_CAP).usurious
    assert usury_check(D("24.0001"), SFD_CAP).usurious
    with pytest.raises(ScheduleError):
        usury_check(D(20), D(0))


def test_usury_caps_in_force_by_date():
    assert usury_cap_on(date(2025, 12, 31)) == D(24)
    assert usury_cap_on(date(2026, 5, 31), "bank") == D(15)
    assert usury_cap_on(date(2026, 6, 1), "bank") == D(14)
    with pytest.raises(ScheduleError):
        usury_cap_on(date(2013, 12, 31))


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(50_000, 5_000_000),
    repayments=st.integers(2, 36),
    rate=st.integers(100, 3600),
    fee=st.integers(1, 10),
)
def test_teg_is_the_nominal_rate_without_fees_and_rises_with_them(principal, repayments, rate, fee):
    base = {
        "principal": D(principal),
        "interest_rate": D(rate) / 100,
        "repayments": repayments,
        "disbursed_on": date(2025, 2, 10),
    }
    plain = teg_of_schedule(generate_schedule(LoanTerms(**base)))
    # Monthly declining balance at r/12 a month: the IRR is r, but for the franc rounding.
    assert abs(plain.annual_rate_percent - D(rate) / 100) < D("0.1")
    charged = teg_of_schedule(
        generate_schedule(LoanTerms(**base, fees=(Fee("frais", FeeType.UPFRONT_PERCENT, D(fee)),)))
    )
    assert charged.annual_rate > plain.annual_rate


def test_schedules_in_days_use_a_daily_base_and_absurd_rates_are_refused():
    schedule = generate_schedule(
        LoanTerms(
            principal=D(30000),
            interest_rate=D(24),
            repayments=6,
            repayment_every=14,
            repayment_unit=RepaymentUnit.DAYS,
            disbursed_on=date(2025, 3, 3),
        )
    )
    teg = teg_of_schedule(schedule)
    assert teg.base is TegBase.DAY
    # 14-day periods at 24 x 14 / 365 = 0.92055 %; on a daily base that is
    # (1.0092055)^(1/14) - 1 = 0.065474 % a day, x 365 = 23.898 % (up to the franc rounding).
    assert teg.annual_rate_percent == D("23.8980")
    # 100 F lent for 10 days against 1,000,000 F back: no sensible rate.
    with pytest.raises(ScheduleError) as exc:
        teg_from_cash_flows(
            disbursed_on=date(2025, 1, 1),
            net_disbursed=D(100),
            payments=[(date(2025, 1, 2), D(10) ** 9)],
            base=TegBase.DAY,
        )
    assert exc.value.field == "interest_rate"


def test_a_very_high_rate_is_still_found():
    # 100 F, 1,000 F back a month later: 900 % a month (the bracket grows past 100 %).
    teg = teg_from_cash_flows(
        disbursed_on=date(2025, 1, 1),
        net_disbursed=D(100),
        payments=[(date(2025, 2, 1), D(1000))],
        base=TegBase.MONTH,
    )
    assert teg.period_rate_percent == D("900.0000")
