"""Hand-checked schedules in francs CFA (currency_digits 0).

Every figure below was worked out by hand, spreadsheet-style, from the rules in
docs/credit-schedule.md (Fineract's cumulative generator): the comments show the arithmetic.
Rounding is half-even to the franc unless a multiple is set.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jigi.credit.schedule import (
    Amortization,
    DaysInYear,
    Fee,
    FeeBasis,
    FeeType,
    InterestMethod,
    InterestPeriod,
    LoanTerms,
    RatePer,
    RepaymentUnit,
    ScheduleError,
    generate_schedule,
)

D = Decimal


def rows(schedule):
    return [(int(i.principal), int(i.interest), int(i.total), int(i.balance)) for i in
            schedule.installments]  # fmt: skip


DOMAIN_LOAN = {
    "principal": D(100000),
    "interest_rate": D(18),
    "repayments": 12,
    "disbursed_on": date(2025, 1, 15),
}


def test_domain_example_declining_balance_equal_instalments():
    # DOMAIN.md §1: 100,000 F, 12 monthly, 18 %/yr declining balance.
    # r = 18 / 12 / 100 = 0.015 a month.
    # PMT = 100000 x 0.015 / (1 - 1.015^-12) = 1500 / 0.1636133 = 9167.9993 -> 9,168 F.
    # Each row: interest = balance x 0.015 (half-even), principal = 9168 - interest.
    #   1: 100000 x .015 = 1500       -> principal 7668, balance 92332
    #   2:  92332 x .015 = 1384.98    -> 1385, principal 7783, balance 84549
    #   3:  84549 x .015 = 1268.235   -> 1268 ...
    #  12: the last absorbs the residue: principal = balance 9031, 9031 x .015 = 135.465 -> 135.
    schedule = generate_schedule(LoanTerms(**DOMAIN_LOAN))
    assert rows(schedule) == [
        (7668, 1500, 9168, 92332),
        (7783, 1385, 9168, 84549),
        (7900, 1268, 9168, 76649),
        (8018, 1150, 9168, 68631),
        (8139, 1029, 9168, 60492),
        (8261, 907, 9168, 52231),
        (8385, 783, 9168, 43846),
        (8510, 658, 9168, 35336),
        (8638, 530, 9168, 26698),
        (8768, 400, 9168, 17930),
        (8899, 269, 9168, 9031),
        (9031, 135, 9166, 0),
    ]
    assert [i.due_on for i in schedule.installments][:3] == [
        date(2025, 2, 15), date(2025, 3, 15), date(2025, 4, 15),
    ]  # fmt: skip
    assert (schedule.total_principal, schedule.total_interest, schedule.total) == (
        D(100000), D(10014), D(110014),
    )  # fmt: skip


def test_domain_example_flat_one_and_a_half_percent_a_month():
    # Flat 1.5 %/month = 18 %/yr: interest = 100000 x 18/12/100 x 12 = 18,000, 1,500 a month.
    # Principal 100000 / 12 = 8333.33 -> 8,333; instalment 8333 + 1500 = 9,833 F.
    # The last takes the residue: 100000 - 11 x 8333 = 8,337 (instalment 9,837).
    terms = LoanTerms(
        **{**DOMAIN_LOAN, "interest_rate": D("1.5")},
        interest_rate_per=RatePer.MONTH,
        interest_method=InterestMethod.FLAT,
    )
    schedule = generate_schedule(terms)
    expected = [(8333, 1500, 9833, 100000 - 8333 * k) for k in range(1, 12)]
    assert rows(schedule) == [*expected, (8337, 1500, 9837, 0)]
    assert schedule.total_interest == D(18000)


def test_instalment_rounded_to_a_multiple_of_100():
    # PMT 9167.9993 / 100 = 91.68 -> 92 -> 9,200 F per instalment.
    #   2: 92300 x .015 = 1384.5 -> 1384 (half-even: to the even franc), principal 7816.
    #  12: what remains, 8651, plus 8651 x .015 = 129.765 -> 130: 8,781.
    schedule = generate_schedule(LoanTerms(**DOMAIN_LOAN, installment_multiples_of=100))
    assert rows(schedule)[:2] == [(7700, 1500, 9200, 92300), (7816, 1384, 9200, 84484)]
    assert rows(schedule)[-1] == (8651, 130, 8781, 0)
    assert all(i.total == 9200 for i in schedule.installments[:-1])


def test_currency_in_multiples_of_5_rounds_every_amount():
    # XOF coins: every amount is a multiple of 5, the nearer one, halfway up.
    #   EMI 9168 -> 9170 (9170 is 2 away, 9165 is 3 away).
    #   2: 92330 x .015 = 1384.95 -> 1385 (already a multiple of 5).
    #   3: 84545 x .015 = 1268.175 -> 1268 -> 1270.
    schedule = generate_schedule(LoanTerms(**DOMAIN_LOAN, currency_multiples_of=5))
    assert rows(schedule)[:3] == [
        (7670, 1500, 9170, 92330),
        (7785, 1385, 9170, 84545),
        (7900, 1270, 9170, 76645),
    ]
    assert rows(schedule)[-1] == (9015, 135, 9150, 0)
    assert all(part % 5 == 0 for i in schedule.installments for part in (i.principal, i.interest))


def test_flat_instalment_rounded_to_a_multiple_of_25():
    # Flat principal 8333 -> 8325 (333.32 multiples of 25 -> 333); interest 1500 is a multiple
    # already, so the instalment is 8325 + 1500 = 9,825; the last takes 100000 - 11 x 8325.
    terms = LoanTerms(
        **{**DOMAIN_LOAN, "interest_rate": D("1.5")},
        interest_rate_per=RatePer.MONTH,
        interest_method=InterestMethod.FLAT,
        installment_multiples_of=25,
    )
    schedule = generate_schedule(terms)
    assert rows(schedule)[0] == (8325, 1500, 9825, 91675)
    assert rows(schedule)[-1] == (8425, 1500, 9925, 0)


def test_weekly_repayments():
    # 50,000 F over 16 weeks at 26 %/yr: weekly rate 26 / 52 / 100 = 0.005.
    # PMT = 50000 x 0.005 / (1 - 1.005^-16) = 3259.47 -> 3,259; first interest 250.
    terms = LoanTerms(
        principal=D(50000),
        interest_rate=D(26),
        repayments=16,
        repayment_unit=RepaymentUnit.WEEKS,
        disbursed_on=date(2025, 3, 3),
    )
    schedule = generate_schedule(terms)
    assert rows(schedule)[:2] == [(3009, 250, 3259, 46991), (3024, 235, 3259, 43967)]
    assert rows(schedule)[-1] == (3250, 16, 3266, 0)
    assert schedule.installments[1].due_on == date(2025, 3, 17)


def test_every_14_days_on_a_360_day_year():
    # Days in year 360 with repayments in days: period rate 24 / 360 / 100 x 14 = 0.0093333.
    # PMT = 30000 x 0.0093333 / (1 - 1.0093333^-6) = 5164.60 -> 5,165; interest 30000 x r = 280.
    terms = LoanTerms(
        principal=D(30000),
        interest_rate=D(24),
        repayments=6,
        repayment_every=14,
        repayment_unit=RepaymentUnit.DAYS,
        days_in_year=DaysInYear.D360,
        disbursed_on=date(2025, 3, 3),
    )
    schedule = generate_schedule(terms)
    assert rows(schedule) == [
        (4885, 280, 5165, 25115),
        (4931, 234, 5165, 20184),
        (4977, 188, 5165, 15207),
        (5023, 142, 5165, 10184),
        (5070, 95, 5165, 5114),
        (5114, 48, 5162, 0),
    ]


def test_fixed_principal_percent_leaves_a_balloon():
    # 10 % of 100,000 = 10,000 of principal a month, the remaining 50,000 in the last.
    # Interest 1 % a month of the balance: 1000, 900, ..., 500.
    terms = LoanTerms(
        principal=D(100000),
        interest_rate=D(12),
        repayments=6,
        amortization=Amortization.EQUAL_PRINCIPAL,
        fixed_principal_percent=D(10),
        disbursed_on=date(2025, 3, 3),
    )
    assert rows(generate_schedule(terms)) == [
        (10000, 1000, 11000, 90000),
        (10000, 900, 10900, 80000),
        (10000, 800, 10800, 70000),
        (10000, 700, 10700, 60000),
        (10000, 600, 10600, 50000),
        (50000, 500, 50500, 0),
    ]


def test_fees_upfront_and_per_instalment():
    # Equal principal 10,000; interest 2 % a month of the balance (1200, 1000, ...).
    # Per instalment: 100 F flat + 10 % of that instalment's interest (120, 100, ...).
    # Upfront, withheld: 2 % of 60,000 = 1,200 + 500 insurance = 1,700; 58,300 disbursed.
    terms = LoanTerms(
        principal=D(60000),
        interest_rate=D(24),
        repayments=6,
        amortization=Amortization.EQUAL_PRINCIPAL,
        disbursed_on=date(2025, 3, 3),
        fees=(
            Fee("dossier", FeeType.UPFRONT_PERCENT, D(2)),
            Fee("assurance", FeeType.UPFRONT_FLAT, D(500)),
            Fee("carnet", FeeType.PER_INSTALLMENT_FLAT, D(100)),
            Fee("commission", FeeType.PER_INSTALLMENT_PERCENT, D(10), FeeBasis.INTEREST),
        ),
    )
    schedule = generate_schedule(terms)
    assert [(int(i.interest), int(i.fees), int(i.total)) for i in schedule.installments] == [
        (1200, 220, 11420),
        (1000, 200, 11200),
        (800, 180, 10980),
        (600, 160, 10760),
        (400, 140, 10540),
        (200, 120, 10320),
    ]
    assert (schedule.upfront_fees, schedule.net_disbursed) == (D(1700), D(58300))
    assert schedule.total_fees == D(1020)


def test_interest_free_periods_keep_the_instalment():
    # 2 interest-free months: the EMI is still PMT(1.5 %, 6) = 17552.52 -> 17,553, so the
    # first two instalments are all principal. Disbursed on 31 January: due dates keep the
    # 31st when the month has one (28 Feb, 31 Mar, 30 Apr, 31 May).
    terms = LoanTerms(
        principal=D(100000),
        interest_rate=D(18),
        repayments=6,
        grace_on_interest_charged=2,
        disbursed_on=date(2025, 1, 31),
    )
    schedule = generate_schedule(terms)
    assert rows(schedule) == [
        (17553, 0, 17553, 82447),
        (17553, 0, 17553, 64894),
        (16580, 973, 17553, 48314),  # 64894 x .015 = 973.41
        (16828, 725, 17553, 31486),
        (17081, 472, 17553, 14405),
        (14405, 216, 14621, 0),
    ]
    assert [i.due_on for i in schedule.installments][:4] == [
        date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31),
    ]  # fmt: skip


def test_daily_interest_with_a_later_first_repayment_follows_fineract():
    # Fineract computes the first period's interest from the "ideal disbursement date" (first
    # repayment minus one period: 25 January), not from the disbursement (10 January): 31 days.
    # 100000 x 18/365/100 x 31 = 1528.77 -> 1,529. The EMI uses 30-day months:
    # r = 18/365/100 x 30 = 0.0147945, PMT(r, 3) = 34324.46 -> 34,324.
    terms = LoanTerms(
        principal=D(100000),
        interest_rate=D(18),
        repayments=3,
        interest_period=InterestPeriod.DAILY,
        disbursed_on=date(2025, 1, 10),
        first_repayment_on=date(2025, 2, 25),
    )
    schedule = generate_schedule(terms)
    assert rows(schedule) == [
        (32795, 1529, 34324, 67205),
        (33396, 928, 34324, 33809),  # 67205 x 18/365/100 x 28 = 927.97
        (33809, 517, 34326, 0),  # 33809 x 18/365/100 x 31 = 516.86
    ]


def test_flat_grace_on_principal_and_interest_payment_equal_instalments():
    # 120,000 flat at 2 %/month for 8 months: 19,200 of interest. Two months of grace on both:
    # nothing due; the interest is spread over the 6 paying months (3,200), the principal too.
    terms = LoanTerms(
        principal=D(120000),
        interest_rate=D(2),
        interest_rate_per=RatePer.MONTH,
        interest_method=InterestMethod.FLAT,
        repayments=8,
        grace_on_principal=2,
        grace_on_interest_payment=2,
        disbursed_on=date(2025, 1, 31),
    )
    schedule = generate_schedule(terms)
    assert rows(schedule)[:3] == [
        (0, 0, 0, 120000),
        (0, 0, 0, 120000),
        (20000, 3200, 23200, 100000),
    ]
    assert schedule.total_interest == D(19200)


def test_flat_grace_on_interest_payment_equal_principal_collects_the_deferred_interest():
    # Equal principal: the 2,400 of each grace month is deferred and collected at once in
    # month 3 (2400 x 2 + 2400 = 7,200).
    terms = LoanTerms(
        principal=D(120000),
        interest_rate=D(2),
        interest_rate_per=RatePer.MONTH,
        interest_method=InterestMethod.FLAT,
        amortization=Amortization.EQUAL_PRINCIPAL,
        repayments=8,
        grace_on_principal=2,
        grace_on_interest_payment=2,
        disbursed_on=date(2025, 1, 31),
    )
    schedule = generate_schedule(terms)
    assert [int(i.interest) for i in schedule.installments] == [0, 0, 7200] + [2400] * 5


def test_two_digit_currency_works():
    # The same DOMAIN loan in a 2-digit currency: PMT 9167.9993 -> 9168.00; the last row
    # absorbs 1 cent of rounding.
    schedule = generate_schedule(LoanTerms(**DOMAIN_LOAN, currency_digits=2))
    first, last = schedule.installments[0], schedule.installments[-1]
    assert (first.principal, first.interest, first.total) == (D("7668.00"), D("1500.00"), D("9168"))
    assert schedule.installments[1].interest == D("1384.98")
    assert last.balance == 0
    assert schedule.total_principal == D(100000)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"principal": D(-5)}, "principal"),
        ({"principal": D("100.5")}, "principal"),
        ({"repayments": 0}, "repayments"),
        ({"interest_rate": D(-1)}, "interest_rate"),
        ({"first_repayment_on": date(2025, 1, 15)}, "first_repayment_on"),
        ({"grace_on_principal": 12}, "grace_on_principal"),
        ({"fixed_principal_percent": D(10)}, "fixed_principal_percent"),
        ({"currency_multiples_of": 25, "principal": D(100010)}, "principal"),
        ({"fees": (Fee("x", FeeType.UPFRONT_PERCENT, D(101)),)}, "fees"),
    ],
)
def test_impossible_terms_are_refused_with_the_field(changes, field):
    with pytest.raises(ScheduleError) as exc:
        LoanTerms(**{**DOMAIN_LOAN, **changes})
    assert exc.value.field == field


def test_upfront_fees_cannot_take_the_whole_principal():
    terms = LoanTerms(**DOMAIN_LOAN, fees=(Fee("frais", FeeType.UPFRONT_FLAT, D(100000)),))
    with pytest.raises(ScheduleError) as exc:
        generate_schedule(terms)
    assert exc.value.field == "fees"


def test_partial_period_interest_counts_the_broken_first_month_of_a_flat_loan():
    # First repayment 45 days after disbursement: the loan runs from 1 January 2025 to 15
    # January 2026, 12 months and 14/31 of a month (calculatePeriodsBetweenDates), so the flat
    # interest is 100000 x 1.5 % x 12.4516129 = 18677.42 -> 18,677 instead of 18,000;
    # 18677 / 12 = 1556.42 -> 1,556 a month, the last 18677 - 11 x 1556 = 1,561.
    terms = {
        "principal": D(100000),
        "interest_rate": D(18),
        "interest_method": InterestMethod.FLAT,
        "repayments": 12,
        "disbursed_on": date(2025, 1, 1),
        "first_repayment_on": date(2025, 2, 15),
    }
    assert generate_schedule(LoanTerms(**terms)).total_interest == D(18000)
    partial = generate_schedule(LoanTerms(**terms, allow_partial_period_interest=True))
    assert partial.total_interest == D(18677)
    assert [int(i.interest) for i in partial.installments] == [1556] * 11 + [1561]


def test_errors_carry_a_translatable_template():
    with pytest.raises(ScheduleError) as exc:
        LoanTerms(**{**DOMAIN_LOAN, "principal": D("100.5")})
    error = exc.value
    assert error.template == "must have at most %(digits)s digits after the point"
    assert error.message == "must have at most 0 digits after the point"
    french = {"must have at most %(digits)s digits after the point": "%(digits)s décimales au plus"}
    assert error.translated(lambda text: french.get(text, text)) == "0 décimales au plus"


def test_instalment_below_the_interest_gives_interest_only_and_a_balloon_as_fineract():
    # 2,990 F over 34 months at 40 %/yr, instalment rounded to 100 F: the monthly interest,
    # 2990 x 40/12/100 = 99.67 -> 100, eats the whole instalment, so no principal is repaid
    # until the last instalment, which (adjustPrincipalIfLastRepaymentPeriod) takes it all.
    terms = LoanTerms(
        principal=D(2990),
        interest_rate=D(40),
        repayments=34,
        disbursed_on=date(2025, 5, 20),
        installment_multiples_of=100,
    )
    schedule = generate_schedule(terms)
    assert rows(schedule)[:33] == [(0, 100, 100, 2990)] * 33
    assert rows(schedule)[33] == (2990, 100, 3090, 0)


def test_instalment_rounded_to_nothing_is_refused():
    # PMT(1.5 %, 12) on 400 F = 36.67: to a multiple of 100 that is 0 F per instalment.
    terms = LoanTerms(**{**DOMAIN_LOAN, "principal": D(400)}, installment_multiples_of=100)
    with pytest.raises(ScheduleError) as exc:
        generate_schedule(terms)
    assert exc.value.field == "installment_multiples_of"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency_digits": 7}, "currency_digits"),
        ({"currency_multiples_of": -5}, "currency_multiples_of"),
        ({"installment_multiples_of": -1}, "installment_multiples_of"),
        ({"principal": D(10) ** 13}, "principal"),
        ({"interest_rate": D(90), "interest_rate_per": RatePer.MONTH}, "interest_rate"),
        ({"repayment_every": 0}, "repayment_every"),
        ({"grace_on_interest_charged": -1}, "grace_on_interest_charged"),
        ({"interest_method": InterestMethod.FLAT, "grace_on_interest_payment": 6,
          "grace_on_interest_charged": 6}, "grace_on_interest_payment"),
        ({"amortization": Amortization.EQUAL_PRINCIPAL, "fixed_principal_percent": D(0)},
         "fixed_principal_percent"),
        ({"fees": (Fee(" ", FeeType.UPFRONT_FLAT, D(1)),)}, "fees"),
        ({"fees": (Fee("x", FeeType.PER_INSTALLMENT_FLAT, D(-1)),)}, "fees"),
        ({"fees": (Fee("x", FeeType.PER_INSTALLMENT_FLAT, D("0.5")),)}, "fees"),
        ({"compulsory_savings_percent": D(101)}, "compulsory_savings_percent"),
    ],
)  # fmt: skip
def test_more_impossible_terms_are_refused(changes, field):
    with pytest.raises(ScheduleError) as exc:
        LoanTerms(**{**DOMAIN_LOAN, **changes})
    assert exc.value.field == field
