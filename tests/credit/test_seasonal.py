"""Seasonal schedules: crop calendar, income profile, custom dates; and their refusals.

Interest on planned dates is per actual day: balance x 18 % / 365 x days (half-even).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jigi.credit.schedule import (
    DaysInMonth,
    InterestMethod,
    LoanTerms,
    RepaymentUnit,
    ScheduleError,
    generate_schedule,
)
from jigi.credit.seasonal import (
    CropPattern,
    CustomInstallment,
    CustomPattern,
    IncomePattern,
    InterestDuringGrowth,
    ScheduleLimits,
    crop_calendar_row,
    month_range,
)

D = Decimal
COTTON_LOAN = {
    "principal": D(150000),
    "interest_rate": D(18),
    "repayments": 4,
    "disbursed_on": date(2025, 5, 20),
}
# Sikasso's income: harvest cash from September, nothing in the lean season (April-August).
INCOME = tuple(D(x) for x in [20000, 15000, 5000, 0, 0, 0, 0, 0, 10000, 40000, 60000, 30000])


def rows(schedule):
    return [
        (i.due_on, int(i.principal), int(i.interest), int(i.total), int(i.balance))
        for i in schedule.installments
    ]


def test_month_ranges_wrap_the_year():
    assert month_range("12-3") == (12, 1, 2, 3)
    assert month_range("5-6") == (5, 6)
    assert month_range("6") == (6,)
    assert month_range("") == ()


def test_crop_calendar_is_read_from_the_data_file():
    cotton = crop_calendar_row("cotton", "Sikasso")
    assert (cotton.sowing_months, cotton.cash_months) == ((5, 6), (12, 1, 2, 3))
    # Case and accents do not matter: "segou" finds Ségou.
    assert crop_calendar_row("Millet", "segou").cash_months == (10, 11, 12)


def test_cotton_interest_only_during_growth_principal_after_cmdt_payment():
    # Disbursed at sowing (20 May); interest only each month while the cotton grows:
    #   20 May -> 20 Jun: 150000 x 0.18 / 365 x 31 = 2293.15 -> 2293
    #   20 Jun -> 20 Jul: 30 days -> 2219.18 -> 2219
    # Principal in the four cash months December-March, 37,500 each:
    #   20 Dec -> 20 Jan: 112500 x 0.18 / 365 x 31 = 1719.86 -> 1720
    schedule = generate_schedule(
        LoanTerms(**COTTON_LOAN, seasonal=CropPattern("cotton", "Sikasso"))
    )
    assert rows(schedule) == [
        (date(2025, 6, 20), 0, 2293, 2293, 150000),
        (date(2025, 7, 20), 0, 2219, 2219, 150000),
        (date(2025, 8, 20), 0, 2293, 2293, 150000),
        (date(2025, 9, 20), 0, 2293, 2293, 150000),
        (date(2025, 10, 20), 0, 2219, 2219, 150000),
        (date(2025, 11, 20), 0, 2293, 2293, 150000),
        (date(2025, 12, 20), 37500, 2219, 39719, 112500),
        (date(2026, 1, 20), 37500, 1720, 39220, 75000),
        (date(2026, 2, 20), 37500, 1147, 38647, 37500),
        (date(2026, 3, 20), 37500, 518, 38018, 0),
    ]


def test_cotton_with_nothing_to_pay_during_growth():
    # No payment before the cash: 214 days of interest at the first cash date.
    # 150000 x 0.18 / 365 x 214 = 15830.14 -> 15830; two principal instalments of 75,000.
    terms = LoanTerms(
        **{**COTTON_LOAN, "repayments": 2},
        seasonal=CropPattern("cotton", "Sikasso", InterestDuringGrowth.NONE),
    )
    assert rows(generate_schedule(terms)) == [
        (date(2025, 12, 20), 75000, 15830, 90830, 75000),
        (date(2026, 1, 20), 75000, 1147, 76147, 0),
    ]


def test_cotton_when_the_cmdt_pays_late_the_officer_gives_the_cash_months():
    terms = LoanTerms(
        **{**COTTON_LOAN, "repayments": 2},
        seasonal=CropPattern(
            "cotton", "Sikasso", InterestDuringGrowth.NONE, cash_months=((2026, 4), (2026, 5))
        ),
    )
    schedule = generate_schedule(terms)
    # 20 May 2025 -> 20 April 2026 = 335 days: 150000 x 0.18 / 365 x 335 = 24780.82 -> 24781.
    assert rows(schedule) == [
        (date(2026, 4, 20), 75000, 24781, 99781, 75000),
        (date(2026, 5, 20), 75000, 1110, 76110, 0),
    ]


def test_a_cash_month_before_the_disbursement_is_refused():
    terms = {
        **COTTON_LOAN,
        "repayments": 1,
        "seasonal": CropPattern("cotton", "Sikasso", cash_months=((2025, 3),)),
    }
    with pytest.raises(ScheduleError) as exc:
        generate_schedule(LoanTerms(**terms))
    assert exc.value.field == "seasonal.cash_months"
    assert "2025-03" in exc.value.message


@pytest.mark.parametrize(
    ("pattern", "changes", "field"),
    [
        (CropPattern("cotton", "Sikasso"), {"disbursed_on": date(2025, 10, 1)}, "disbursed_on"),
        (CropPattern("cotton", "Sikasso"), {"repayments": 5}, "repayments"),
        (CropPattern("cacao", "Sikasso"), {}, "seasonal.crop"),
        (CropPattern("cotton", "Kayes"), {}, "seasonal.region"),
        (CropPattern("rice", "Ségou"), {}, "seasonal.zone"),
        (CropPattern("cotton", "Sikasso"), {"first_repayment_on": date(2025, 7, 1)},
         "first_repayment_on"),
        (CropPattern("cotton", "Sikasso"), {"grace_on_principal": 1}, "grace_on_principal"),
        (CropPattern("cotton", "Sikasso", limits=ScheduleLimits(max_installments=6)), {},
         "seasonal"),
        (CropPattern("cotton", "Sikasso", limits=ScheduleLimits(max_term_days=200)), {},
         "seasonal"),
    ],
)  # fmt: skip
def test_impossible_crop_settings_are_refused(pattern, changes, field):
    with pytest.raises(ScheduleError) as exc:
        generate_schedule(LoanTerms(**{**COTTON_LOAN, **changes, "seasonal": pattern}))
    assert exc.value.field == field


def test_rice_in_segou_needs_its_zone():
    terms = LoanTerms(
        principal=D(100000),
        interest_rate=D(18),
        repayments=2,
        disbursed_on=date(2025, 7, 1),
        seasonal=CropPattern(
            "rice", "Segou", InterestDuringGrowth.NONE, zone="Office du Niger irrigated"
        ),
    )
    # Irrigated rice sown June-August, cash November-January: principal in November, December.
    assert [i.due_on for i in generate_schedule(terms).installments] == [
        date(2025, 11, 1),
        date(2025, 12, 1),
    ]


def test_principal_follows_the_monthly_surplus():
    # Surplus by month of the due dates (Jul..Feb): 0, 0, 10k, 40k, 60k, 30k, 20k, 15k = 175k.
    # Cumulative targets round 120,000 x share: Sep 6857.14 -> 6857; Sep+Oct 34285.71 ->
    # 34286 (so Oct 27429); +Nov 75428.57 -> 75429 (41143); +Dec 96000 (20571); +Jan
    # 109714.29 -> 109714 (13714); Feb takes the rest, 10286. July and August: interest only.
    terms = LoanTerms(
        principal=D(120000),
        interest_rate=D(18),
        repayments=8,
        disbursed_on=date(2025, 6, 10),
        seasonal=IncomePattern(INCOME),
    )
    schedule = generate_schedule(terms)
    assert [int(i.principal) for i in schedule.installments] == [
        0, 0, 6857, 27429, 41143, 20571, 13714, 10286,
    ]  # fmt: skip
    # 10 Jun -> 10 Jul: 120000 x 0.18 / 365 x 30 = 1775.34 -> 1775
    assert int(schedule.installments[0].interest) == 1775
    assert schedule.total_principal == D(120000)


def test_expenses_reduce_the_surplus_and_a_deficit_counts_as_zero():
    expenses = tuple(D(x) for x in [0] * 9 + [50000, 0, 0])  # October in deficit
    terms = LoanTerms(
        principal=D(120000),
        interest_rate=D(18),
        repayments=8,
        disbursed_on=date(2025, 6, 10),
        seasonal=IncomePattern(INCOME, expenses),
    )
    principals = [int(i.principal) for i in generate_schedule(terms).installments]
    assert principals[3] == 0  # October repays nothing
    assert sum(principals) == 120000


@pytest.mark.parametrize(
    ("pattern", "changes", "field"),
    [
        (IncomePattern(tuple(D(0) for _ in range(12))), {}, "seasonal.monthly_income"),
        # Due February to May: the last one falls in May, without surplus.
        (IncomePattern(INCOME), {"repayments": 4, "disbursed_on": date(2025, 1, 10)}, "repayments"),
        (IncomePattern(INCOME[:11]), {}, "seasonal.monthly_income"),
        (IncomePattern((D(-1),) + INCOME[1:]), {}, "seasonal.monthly_income"),
        (IncomePattern(INCOME), {"repayment_unit": RepaymentUnit.WEEKS}, "repayment_unit"),
    ],
)
def test_impossible_income_settings_are_refused(pattern, changes, field):
    base = {"principal": D(120000), "interest_rate": D(18), "repayments": 8,
            "disbursed_on": date(2025, 6, 10)}  # fmt: skip
    with pytest.raises(ScheduleError) as exc:
        generate_schedule(LoanTerms(**{**base, **changes, "seasonal": pattern}))
    assert exc.value.field == field


CUSTOM = CustomPattern(
    (
        CustomInstallment(date(2025, 9, 10), D(20000)),
        CustomInstallment(date(2025, 11, 10), D(50000)),
        CustomInstallment(date(2026, 1, 10), D(30000)),
    )
)


def test_custom_dates_and_amounts():
    # 10 Jun -> 10 Sep: 92 days, 100000 x 0.18 / 365 x 92 = 4536.99 -> 4537
    # 10 Sep -> 10 Nov: 61 days, 80000 x ... = 2406.58 -> 2407; then 30000 x 61 days = 902.47
    terms = LoanTerms(
        principal=D(100000),
        interest_rate=D(18),
        repayments=3,
        disbursed_on=date(2025, 6, 10),
        seasonal=CUSTOM,
    )
    assert rows(generate_schedule(terms)) == [
        (date(2025, 9, 10), 20000, 4537, 24537, 80000),
        (date(2025, 11, 10), 50000, 2407, 52407, 30000),
        (date(2026, 1, 10), 30000, 902, 30902, 0),
    ]


def test_custom_flat_interest_counts_on_the_original_principal():
    terms = LoanTerms(
        principal=D(100000),
        interest_rate=D(18),
        interest_method=InterestMethod.FLAT,
        repayments=3,
        disbursed_on=date(2025, 6, 10),
        seasonal=CUSTOM,
    )
    # 61 days on 100,000: 3008.22 -> 3008 for both later periods.
    assert [int(i.interest) for i in generate_schedule(terms).installments] == [4537, 3008, 3008]


@pytest.mark.parametrize(
    ("installments", "repayments", "limits", "field"),
    [
        ([(date(2025, 6, 1), 100000)], 1, ScheduleLimits(), "seasonal.installments"),
        ([(date(2025, 9, 1), 60000), (date(2025, 8, 1), 40000)], 2, ScheduleLimits(),
         "seasonal.installments"),
        ([(date(2025, 9, 1), 60000)], 1, ScheduleLimits(), "seasonal.installments"),
        ([(date(2025, 9, 1), 60000), (date(2025, 10, 1), 40000)], 3, ScheduleLimits(),
         "repayments"),
        ([(date(2025, 9, 1), 100000), (date(2025, 10, 1), 0)], 2, ScheduleLimits(),
         "seasonal.installments"),
        ([(date(2027, 9, 1), 100000)], 1, ScheduleLimits(), "seasonal"),
        ([(date(2025, 12, 1), 100000)], 1, ScheduleLimits(max_days_between_installments=90),
         "seasonal"),
        ([(date(2025, 9, 1), D("99999.5")), (date(2025, 10, 1), D("0.5"))], 2, ScheduleLimits(),
         "seasonal.installments"),
    ],
)  # fmt: skip
def test_custom_instalments_are_validated_against_the_limits(
    installments, repayments, limits, field
):
    pattern = CustomPattern(
        tuple(CustomInstallment(d, D(a)) for d, a in installments), limits=limits
    )
    terms = LoanTerms(
        principal=D(100000),
        interest_rate=D(18),
        repayments=repayments,
        disbursed_on=date(2025, 6, 10),
        seasonal=pattern,
    )
    with pytest.raises(ScheduleError) as exc:
        generate_schedule(terms)
    assert exc.value.field == field


def test_instalment_multiple_rounds_principal_bearing_instalments():
    terms = LoanTerms(
        **COTTON_LOAN,
        installment_multiples_of=500,
        seasonal=CropPattern("cotton", "Sikasso", InterestDuringGrowth.NONE),
    )
    schedule = generate_schedule(terms)
    totals = [int(i.principal + i.interest) for i in schedule.installments]
    assert all(t % 500 == 0 for t in totals[:-1])
    assert schedule.total_principal == D(150000)
    assert schedule.installments[-1].balance == 0


def test_a_bad_month_range_in_the_calendar_is_an_error():
    with pytest.raises(ValueError, match="bad month range"):
        month_range("13-2")


def test_crop_without_sowing_months_accepts_any_disbursement_month():
    # Shea is gathered wild (no sowing months); cash 6-9: disbursed in November, principal
    # from the next June.
    terms = LoanTerms(
        principal=D(60000),
        interest_rate=D(18),
        repayments=2,
        disbursed_on=date(2025, 11, 5),
        seasonal=CropPattern("shea", "Sikasso", InterestDuringGrowth.NONE),
    )
    assert [i.due_on for i in generate_schedule(terms).installments] == [
        date(2026, 6, 5),
        date(2026, 7, 5),
    ]


@pytest.mark.parametrize(
    ("pattern", "repayments", "field"),
    [
        (CropPattern("rice", "Ségou", zone="dry season"), 1, "seasonal.zone"),
        (CropPattern("cotton", "Sikasso", cash_months=((2026, 1),)), 2, "repayments"),
        (CropPattern("cotton", "Sikasso", cash_months=((2026, 2), (2026, 1))), 2,
         "seasonal.cash_months"),
        (IncomePattern(INCOME, (D(0),) * 11), 8, "seasonal.monthly_expenses"),
        (CustomPattern(()), 8, "seasonal.installments"),
        (CustomPattern((CustomInstallment(date(2025, 9, 1), D(-1)),
                        CustomInstallment(date(2025, 10, 1), D(150001)))), 2,
         "seasonal.installments"),
    ],
)  # fmt: skip
def test_more_impossible_seasonal_settings(pattern, repayments, field):
    terms = LoanTerms(**{**COTTON_LOAN, "repayments": repayments}, seasonal=pattern)
    with pytest.raises(ScheduleError) as exc:
        generate_schedule(terms)
    assert exc.value.field == field


def test_thirty_day_months_count_days_360():
    # Days in month 30: 20 May -> 20 December counts 7 x 30 = 210 days, not 214:
    # 150000 x 0.18 / 365 x 210 = 15534.25 -> 15534.
    terms = LoanTerms(
        **{**COTTON_LOAN, "repayments": 1},
        days_in_month=DaysInMonth.D30,
        seasonal=CropPattern("cotton", "Sikasso", InterestDuringGrowth.NONE),
    )
    assert int(generate_schedule(terms).installments[0].interest) == 15534


def test_instalment_multiple_is_not_forced_when_it_would_leave_no_principal():
    # October has a tiny surplus (1 against 1,000 in February): its principal share is
    # 100000 x 1/1001 = 99.9 -> 100 F. With 30 days of interest (1,479 F) that is 1,579 F, which
    # rounds to 0 as a multiple of 5,000 F: the principal would become negative, so October
    # keeps its 100 F unrounded; February takes the rest.
    income = (D(0), D(1000)) + (D(0),) * 7 + (D(1), D(0), D(0))
    terms = LoanTerms(
        principal=D(100000),
        interest_rate=D(18),
        repayments=5,
        disbursed_on=date(2025, 9, 10),
        installment_multiples_of=5000,
        seasonal=IncomePattern(income),
    )
    assert rows(generate_schedule(terms)) == [
        (date(2025, 10, 10), 100, 1479, 1579, 99900),
        (date(2025, 11, 10), 0, 1527, 1527, 99900),
        (date(2025, 12, 10), 0, 1478, 1478, 99900),
        (date(2026, 1, 10), 0, 1527, 1527, 99900),
        (date(2026, 2, 10), 99900, 1527, 101427, 0),
    ]


def test_seasonal_pattern_refuses_a_fixed_principal_percent():
    with pytest.raises(ScheduleError) as exc:
        LoanTerms(
            **COTTON_LOAN,
            fixed_principal_percent=D(10),
            interest_method=InterestMethod.FLAT,
            seasonal=CropPattern("cotton", "Sikasso"),
        )
    assert exc.value.field == "fixed_principal_percent"
