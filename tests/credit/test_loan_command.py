"""`jigi loan schedule`: JSON settings on stdin, the schedule as JSON on stdout, exit 2 on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

DOMAIN_INPUT = {
    "principal": "100000",
    "interest_rate": "18",
    "interest_rate_per": "year",
    "interest_method": "declining_balance",
    "amortization": "equal_installments",
    "fixed_principal_percent": None,
    "interest_period": "same_as_repayment",
    "days_in_year": "actual",
    "days_in_month": "actual",
    "repayments": 12,
    "repayment_every": 1,
    "repayment_unit": "months",
    "disbursed_on": "2025-01-15",
    "first_repayment_on": None,
    "grace_on_principal": 0,
    "grace_on_interest_payment": 0,
    "grace_on_interest_charged": 0,
    "currency_digits": 0,
    "currency_multiples_of": 0,
    "installment_multiples_of": 0,
    "fees": [{"name": "frais de dossier", "type": "upfront_percent", "amount": "3"}],
    "seasonal": None,
}


def run_cli(payload: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jigi", "loan", "schedule"],
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def schedule_via_call_command(tmp_path, data) -> dict:
    source = tmp_path / "terms.json"
    source.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    out = io.StringIO()
    call_command("loan", "schedule", "--input", str(source), stdout=out)
    return json.loads(out.getvalue())


def test_cli_reads_stdin_and_prints_the_schedule():
    result = run_cli(json.dumps(DOMAIN_INPUT))

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert set(output) == {"installments", "totals", "teg"}
    assert output["installments"][0] == {
        "number": 1,
        "due_on": "2025-02-15",
        "principal": "7668",
        "interest": "1500",
        "fees": "0",
        "total": "9168",
        "balance": "92332",
    }
    assert output["installments"][-1] == {
        "number": 12,
        "due_on": "2026-01-15",
        "principal": "9031",
        "interest": "135",
        "fees": "0",
        "total": "9166",
        "balance": "0",
    }
    assert output["totals"] == {
        "principal": "100000",
        "interest": "10014",
        "fees": "0",
        "total": "110014",
    }
    assert output["teg"] == {"period_rate": "1.9921", "annual_rate": "23.9056"}


def test_cli_refuses_bad_input_with_exit_code_2_and_a_message_on_stderr():
    result = run_cli(json.dumps({**DOMAIN_INPUT, "principal": "-5"}))

    assert result.returncode == 2
    assert result.stdout == ""
    assert "principal: must be a positive amount" in result.stderr


def test_cli_refuses_invalid_json():
    result = run_cli("{not json")

    assert result.returncode == 2
    assert "invalid JSON" in result.stderr


def test_two_digit_currency_and_minimal_input(tmp_path):
    output = schedule_via_call_command(
        tmp_path,
        {
            "principal": "5000",
            "interest_rate": "12",
            "repayments": 18,
            "disbursed_on": "2022-11-01",
            "currency_digits": 2,
            "installment_multiples_of": 1,
        },
    )
    # Fineract's RS02 reference schedule.
    assert output["installments"][1]["interest"] == "47.45"
    assert output["installments"][1]["balance"] == "4487.45"
    assert output["installments"][-1]["total"] == "303.22"
    assert output["totals"]["interest"] == "488.22"


def test_seasonal_crop_input(tmp_path):
    output = schedule_via_call_command(
        tmp_path,
        {
            "principal": "150000",
            "interest_rate": "18",
            "repayments": 4,
            "disbursed_on": "2025-05-20",
            "seasonal": {
                "pattern": "crop",
                "crop": "cotton",
                "region": "Sikasso",
                "interest_during_growth": "interest_only",
            },
        },
    )
    rows = output["installments"]
    assert [r["due_on"] for r in rows][5:7] == ["2025-11-20", "2025-12-20"]
    assert [r["principal"] for r in rows][6:] == ["37500"] * 4
    assert output["totals"]["interest"] == "19214"


def test_seasonal_income_and_custom_inputs(tmp_path):
    income = schedule_via_call_command(
        tmp_path,
        {
            "principal": "120000",
            "interest_rate": "18",
            "repayments": 8,
            "disbursed_on": "2025-06-10",
            "seasonal": {
                "pattern": "income",
                "monthly_income": [
                    "20000", "15000", "5000", "0", "0", "0", "0", "0", "10000", "40000", "60000",
                    "30000",
                ],
            },
        },
    )  # fmt: skip
    assert [r["principal"] for r in income["installments"]][:4] == ["0", "0", "6857", "27429"]
    custom = schedule_via_call_command(
        tmp_path,
        {
            "principal": "100000",
            "interest_rate": "18",
            "repayments": 2,
            "disbursed_on": "2025-06-10",
            "seasonal": {
                "pattern": "custom",
                "installments": [
                    {"due_on": "2025-09-10", "principal": "40000"},
                    {"due_on": "2025-12-10", "principal": "60000"},
                ],
                "limits": {"max_term_days": 365},
            },
        },
    )
    assert [r["principal"] for r in custom["installments"]] == ["40000", "60000"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"principal": None}, "principal: is required"),
        ({"principal": "-100000"}, "principal: must be a positive amount"),
        ({"principal": "abc"}, "principal: must be a decimal number written as a string"),
        ({"repayments": 0}, "repayments: must be between 1 and 600"),
        ({"repayments": "twelve"}, "repayments: must be a whole number"),
        ({"interest_method": "simple"}, "interest_method: must be one of"),
        ({"days_in_year": 366}, "days_in_year: must be one of"),
        ({"disbursed_on": "15/01/2025"}, "disbursed_on: must be a date written YYYY-MM-DD"),
        ({"first_repayment_on": "2025-01-01"}, "first_repayment_on: must be after"),
        ({"colour": "red"}, "colour: unknown field"),
        ({"fees": [{"name": "x", "type": "monthly", "amount": "1"}]}, "fees[0].type"),
        ({"seasonal": {"pattern": "moon"}}, "seasonal.pattern: must be one of"),
        (
            {"seasonal": {"pattern": "crop", "crop": "cotton", "region": "Sikasso",
                          "cash_months": ["2025-03"]}, "repayments": 1, "disbursed_on": "2025-05-20"},
            "seasonal.cash_months: cash month 2025-03 is not after the disbursement",
        ),
        (
            {"seasonal": {"pattern": "income", "monthly_income": ["0"] * 12}},
            "seasonal.monthly_income: the income profile has no surplus",
        ),
        (
            {"seasonal": {"pattern": "custom", "installments": [
                {"due_on": "2024-12-01", "principal": "100000"}]}, "repayments": 1},
            "seasonal.installments: instalment 1 is due on 2024-12-01, not after",
        ),
    ],
)  # fmt: skip
def test_invalid_settings_exit_2_naming_the_field(tmp_path, change, message):
    data = {**DOMAIN_INPUT, **change}
    with pytest.raises(CommandError) as exc:
        schedule_via_call_command(tmp_path, data)
    assert exc.value.returncode == 2
    assert message in str(exc.value)


def test_a_json_fraction_is_refused_because_it_would_be_a_float(tmp_path):
    with pytest.raises(CommandError) as exc:
        schedule_via_call_command(tmp_path, '{"principal": 100000.5}')
    assert exc.value.returncode == 2
    assert 'write decimal numbers as strings, e.g. "100000.5"' in str(exc.value)


def test_the_input_must_be_an_object(tmp_path):
    with pytest.raises(CommandError) as exc:
        schedule_via_call_command(tmp_path, "[1, 2]")
    assert "json: must be a JSON object" in str(exc.value)


def test_a_missing_input_file_exits_2(tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("loan", "schedule", "--input", str(tmp_path / "nope.json"))
    assert exc.value.returncode == 2
