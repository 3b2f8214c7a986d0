"""The CLI's JSON reading: every malformed field is refused with its name (pure, no Django)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jigi.credit.schedule import DaysInYear, ScheduleError
from jigi.credit.schedule_json import parse_json, schedule_json, terms_from_json
from jigi.credit.seasonal import CropPattern, IncomePattern

MINIMAL = {"principal": "100000", "interest_rate": "18", "repayments": 12,
           "disbursed_on": "2025-01-15"}  # fmt: skip


def refusal(data):
    with pytest.raises(ScheduleError) as exc:
        terms_from_json(data)
    return exc.value


def test_minimal_input_takes_the_defaults():
    terms = terms_from_json(MINIMAL)
    assert terms.principal == Decimal(100000)
    assert terms.disbursed_on == date(2025, 1, 15)
    assert terms.fees == ()
    assert terms.seasonal is None


def test_whole_json_numbers_and_digit_strings_are_accepted():
    terms = terms_from_json(
        {**MINIMAL, "principal": 100000, "repayments": "12", "days_in_year": 360}
    )
    assert (terms.principal, terms.repayments, terms.days_in_year) == (
        Decimal(100000), 12, DaysInYear.D360,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"principal": True}, "principal"),
        ({"principal": [1]}, "principal"),
        ({"principal": "1e5"}, "principal"),
        ({"repayments": False}, "repayments"),
        ({"repayments": 1.0}, "repayments"),
        ({"allow_partial_period_interest": "yes"}, "allow_partial_period_interest"),
        ({"disbursed_on": "2025-02-30"}, "disbursed_on"),
        ({"disbursed_on": 20250115}, "disbursed_on"),
        ({"repayment_unit": None, "interest_method": 3}, "interest_method"),
        ({"fees": {"name": "x"}}, "fees"),
        ({"fees": ["x"]}, "fees[0]"),
        ({"fees": [{"name": "x", "type": "upfront_flat"}]}, "fees[0].amount"),
        ({"fees": [{"name": 5, "type": "upfront_flat", "amount": "1"}]}, "fees[0].name"),
        ({"fees": [{"name": "x", "type": "upfront_flat", "amount": "1", "rate": "2"}]},
         "fees[0].rate"),
        ({"seasonal": "crop"}, "seasonal"),
        ({"seasonal": {"pattern": "crop", "region": "Sikasso"}}, "seasonal.crop"),
        ({"seasonal": {"pattern": "crop", "crop": "cotton", "region": "Sikasso", "zone": 1}},
         "seasonal.zone"),
        ({"seasonal": {"pattern": "crop", "crop": "cotton", "region": "Sikasso",
                       "cash_months": ["2026-13"]}}, "seasonal.cash_months[0]"),
        ({"seasonal": {"pattern": "crop", "crop": "cotton", "region": "Sikasso",
                       "cash_months": []}}, "seasonal.cash_months"),
        ({"seasonal": {"pattern": "crop", "crop": "cotton", "region": "Sikasso",
                       "limits": {"max_installments": 0}}}, "seasonal.limits.max_installments"),
        ({"seasonal": {"pattern": "crop", "crop": "cotton", "region": "Sikasso",
                       "limits": {"max_years": 2}}}, "seasonal.limits.max_years"),
        ({"seasonal": {"pattern": "income"}}, "seasonal.monthly_income"),
        ({"seasonal": {"pattern": "income", "monthly_income": ["1"] * 11}},
         "seasonal.monthly_income"),
        ({"seasonal": {"pattern": "income", "monthly_income": "1"}}, "seasonal.monthly_income"),
        ({"seasonal": {"pattern": "custom", "installments": [{"due_on": "2025-03-01"}]}},
         "seasonal.installments[0].principal"),
    ],
)  # fmt: skip
def test_malformed_fields_are_named(change, field):
    assert refusal({**MINIMAL, **change}).field == field


def test_seasonal_patterns_are_read():
    crop = terms_from_json(
        {**MINIMAL, "seasonal": {"pattern": "crop", "crop": "cotton", "region": "Sikasso",
                                 "cash_months": ["2026-04"], "zone": "CMDT zone",
                                 "limits": {"max_term_days": 400}}}
    ).seasonal  # fmt: skip
    assert isinstance(crop, CropPattern)
    assert (crop.cash_months, crop.zone, crop.limits.max_term_days) == (
        ((2026, 4),), "CMDT zone", 400,
    )  # fmt: skip
    income = terms_from_json(
        {**MINIMAL, "seasonal": {"pattern": "income", "monthly_income": ["1"] * 12,
                                 "monthly_expenses": ["0"] * 12}}
    ).seasonal  # fmt: skip
    assert isinstance(income, IncomePattern)
    assert income.monthly_expenses == tuple(Decimal(0) for _ in range(12))


def test_parse_json_refuses_garbage():
    with pytest.raises(ScheduleError) as exc:
        parse_json("{oops")
    assert exc.value.field == "json"


def test_two_digit_amounts_are_printed_with_their_digits():
    output = schedule_json(
        '{"principal": "1000", "interest_rate": "0", "repayments": 3, '
        '"disbursed_on": "2025-01-15", "currency_digits": 2}'
    )
    # 1000 / 3 = 333.33 (x2), the last 333.34; no interest: TEG 0.
    assert [r["principal"] for r in output["installments"]] == ["333.33", "333.33", "333.34"]
    assert output["installments"][0]["interest"] == "0.00"
    assert output["totals"]["fees"] == "0.00"
    assert output["teg"] == {"period_rate": "0.0000", "annual_rate": "0.0000"}


def test_a_choice_must_be_text():
    assert refusal({**MINIMAL, "interest_method": ["flat"]}).field == "interest_method"


def test_booleans_are_read():
    terms = terms_from_json({**MINIMAL, "teg_includes_compulsory_savings": True})
    assert terms.teg_includes_compulsory_savings is True
