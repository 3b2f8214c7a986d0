"""The JSON shape of `jigi loan schedule`: settings in, schedule out (docs/credit-schedule.md).

Pure: imports nothing from Django. Amounts and rates are decimal strings (whole JSON integers
are accepted too; JSON fractions are refused because they would be read as binary floats),
dates are ISO `YYYY-MM-DD`. Every problem raises `ScheduleError` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from jigi.credit.schedule import (
    Amortization,
    DaysInMonth,
    DaysInYear,
    Fee,
    FeeBasis,
    FeeType,
    InterestMethod,
    InterestPeriod,
    LoanTerms,
    RatePer,
    RepaymentUnit,
    Schedule,
    generate_schedule,
)
from jigi.credit.schedule_errors import ScheduleError
from jigi.credit.schedule_errors import gettext_noop as _
from jigi.credit.seasonal import (
    CropPattern,
    CustomInstallment,
    CustomPattern,
    IncomePattern,
    InterestDuringGrowth,
    ScheduleLimits,
    SeasonalPattern,
)
from jigi.credit.teg import Teg, teg_of_schedule

DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YEAR_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")

REQUIRED = ("principal", "interest_rate", "repayments", "disbursed_on")
OPTIONAL = (
    "interest_rate_per",
    "interest_method",
    "amortization",
    "fixed_principal_percent",
    "interest_period",
    "days_in_year",
    "days_in_month",
    "repayment_every",
    "repayment_unit",
    "first_repayment_on",
    "grace_on_principal",
    "grace_on_interest_payment",
    "grace_on_interest_charged",
    "currency_digits",
    "currency_multiples_of",
    "installment_multiples_of",
    "fees",
    "seasonal",
    "allow_partial_period_interest",
    "compulsory_savings_percent",
    "teg_includes_compulsory_savings",
)

E = TypeVar("E", bound=StrEnum)


class _FractionInJson(Exception):
    """A JSON number with a fraction: refused, it would become a binary float."""


def _refuse_float(text: str) -> Decimal:
    raise _FractionInJson(text)


def parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_float=_refuse_float)
    except _FractionInJson as exc:
        raise ScheduleError(
            "json",
            _('write decimal numbers as strings, e.g. "%(number)s" in quotes'),
            number=str(exc),
        ) from None
    except json.JSONDecodeError as exc:
        raise ScheduleError("json", _("invalid JSON: %(error)s"), error=str(exc)) from None


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool):
        raise ScheduleError(name, _("must be a decimal number written as a string"))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str) and DECIMAL_RE.match(value.strip()):
        return Decimal(value.strip())
    raise ScheduleError(name, _("must be a decimal number written as a string"))


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ScheduleError(name, _("must be a whole number"))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ScheduleError(name, _("must be a whole number"))


def _boolean(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ScheduleError(name, _("must be true or false"))
    return value


def _date(value: object, name: str) -> date:
    if isinstance(value, str) and DATE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ScheduleError(name, _("must be a date written YYYY-MM-DD"))


def _choice(value: object, name: str, kind: type[E]) -> E:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(repr(member.value) for member in kind)
    raise ScheduleError(name, _("must be one of %(allowed)s"), allowed=allowed)


def _object(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ScheduleError(name, _("must be a JSON object"))
    return value


def _list(value: object, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScheduleError(name, _("must be a JSON list"))
    return value


def _only(data: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        prefix = f"{name}." if name else ""
        raise ScheduleError(
            f"{prefix}{unknown[0]}", _("unknown field (known: %(known)s)"), known=", ".join(allowed)
        )


def _fees(value: object) -> tuple[Fee, ...]:
    fees = []
    for index, item in enumerate(_list(value, "fees")):
        name = f"fees[{index}]"
        data = _object(item, name)
        _only(data, name, ("name", "type", "amount", "basis"))
        for key in ("name", "type", "amount"):
            if key not in data:
                raise ScheduleError(f"{name}.{key}", _("is required"))
        if not isinstance(data["name"], str):
            raise ScheduleError(f"{name}.name", _("must be a text"))
        fees.append(
            Fee(
                name=data["name"],
                type=_choice(data["type"], f"{name}.type", FeeType),
                amount=_decimal(data["amount"], f"{name}.amount"),
                basis=_choice(data.get("basis", "principal"), f"{name}.basis", FeeBasis),
            )
        )
    return tuple(fees)


def _limits(value: object) -> ScheduleLimits:
    data = _object(value, "seasonal.limits")
    keys = ("max_term_days", "max_installments", "max_days_between_installments")
    _only(data, "seasonal.limits", keys)
    values = {k: _integer(data[k], f"seasonal.limits.{k}") for k in keys if k in data}
    for key, number in values.items():
        if number < 1:
            raise ScheduleError(f"seasonal.limits.{key}", _("must be at least 1"))
    return ScheduleLimits(**values)


def _twelve(value: object, name: str) -> tuple[Decimal, ...]:
    items = _list(value, name)
    if len(items) != 12:
        raise ScheduleError(name, _("give 12 monthly amounts (January first)"))
    return tuple(_decimal(v, f"{name}[{i}]") for i, v in enumerate(items))


def _seasonal(value: object) -> SeasonalPattern:
    data = _object(value, "seasonal")
    pattern = data.get("pattern")
    limits = _limits(data["limits"]) if "limits" in data else ScheduleLimits()
    if pattern == "crop":
        _only(
            data,
            "seasonal",
            (
                "pattern",
                "crop",
                "region",
                "zone",
                "interest_during_growth",
                "cash_months",
                "limits",
                "rescheduled",
            ),
        )
        for key in ("crop", "region"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise ScheduleError(f"seasonal.{key}", _("is required"))
        zone = data.get("zone")
        if zone is not None and not isinstance(zone, str):
            raise ScheduleError("seasonal.zone", _("must be a text"))
        cash_months = None
        if data.get("cash_months") is not None:
            months = []
            for index, item in enumerate(_list(data["cash_months"], "seasonal.cash_months")):
                match = YEAR_MONTH_RE.match(item) if isinstance(item, str) else None
                if not match or not 1 <= int(match.group(2)) <= 12:
                    raise ScheduleError(
                        f"seasonal.cash_months[{index}]", _("must be a month written YYYY-MM")
                    )
                months.append((int(match.group(1)), int(match.group(2))))
            if not months:
                raise ScheduleError("seasonal.cash_months", _("give at least one month"))
            cash_months = tuple(months)
        return CropPattern(
            crop=data["crop"],
            region=data["region"],
            zone=zone,
            interest_during_growth=_choice(
                data.get("interest_during_growth", "interest_only"),
                "seasonal.interest_during_growth",
                InterestDuringGrowth,
            ),
            cash_months=cash_months,
            limits=limits,
            rescheduled=_boolean(data.get("rescheduled", False), "seasonal.rescheduled"),
        )
    if pattern == "income":
        _only(data, "seasonal", ("pattern", "monthly_income", "monthly_expenses", "limits"))
        if "monthly_income" not in data:
            raise ScheduleError("seasonal.monthly_income", _("is required"))
        expenses = data.get("monthly_expenses")
        return IncomePattern(
            monthly_income=_twelve(data["monthly_income"], "seasonal.monthly_income"),
            monthly_expenses=(
                None if expenses is None else _twelve(expenses, "seasonal.monthly_expenses")
            ),
            limits=limits,
        )
    if pattern == "custom":
        _only(data, "seasonal", ("pattern", "installments", "limits"))
        rows = []
        for index, item in enumerate(_list(data.get("installments"), "seasonal.installments")):
            name = f"seasonal.installments[{index}]"
            row = _object(item, name)
            _only(row, name, ("due_on", "principal"))
            rows.append(
                CustomInstallment(
                    due_on=_date(row.get("due_on"), f"{name}.due_on"),
                    principal=_decimal(row.get("principal"), f"{name}.principal"),
                )
            )
        return CustomPattern(installments=tuple(rows), limits=limits)
    raise ScheduleError("seasonal.pattern", _("must be one of 'crop', 'income', 'custom'"))


def terms_from_json(data: object) -> LoanTerms:
    """LoanTerms from the CLI's JSON object; raises ScheduleError naming the bad field."""
    obj = _object(data, "json")
    _only(obj, "", REQUIRED + OPTIONAL)
    for key in REQUIRED:
        if obj.get(key) is None:
            raise ScheduleError(key, _("is required"))

    def opt(key: str, parse: Callable[[object, str], Any], default: Any) -> Any:
        value = obj.get(key)
        return default if value is None else parse(value, key)

    def choice(kind: type[E]) -> Callable[[object, str], E]:
        return lambda value, name: _choice(value, name, kind)

    seasonal = obj.get("seasonal")
    return LoanTerms(
        principal=_decimal(obj["principal"], "principal"),
        interest_rate=_decimal(obj["interest_rate"], "interest_rate"),
        repayments=_integer(obj["repayments"], "repayments"),
        disbursed_on=_date(obj["disbursed_on"], "disbursed_on"),
        interest_rate_per=opt("interest_rate_per", choice(RatePer), RatePer.YEAR),
        interest_method=opt(
            "interest_method", choice(InterestMethod), InterestMethod.DECLINING_BALANCE
        ),
        amortization=opt("amortization", choice(Amortization), Amortization.EQUAL_INSTALLMENTS),
        fixed_principal_percent=opt("fixed_principal_percent", _decimal, None),
        interest_period=opt(
            "interest_period", choice(InterestPeriod), InterestPeriod.SAME_AS_REPAYMENT
        ),
        days_in_year=opt("days_in_year", choice(DaysInYear), DaysInYear.ACTUAL),
        days_in_month=opt("days_in_month", choice(DaysInMonth), DaysInMonth.ACTUAL),
        repayment_every=opt("repayment_every", _integer, 1),
        repayment_unit=opt("repayment_unit", choice(RepaymentUnit), RepaymentUnit.MONTHS),
        first_repayment_on=opt("first_repayment_on", _date, None),
        grace_on_principal=opt("grace_on_principal", _integer, 0),
        grace_on_interest_payment=opt("grace_on_interest_payment", _integer, 0),
        grace_on_interest_charged=opt("grace_on_interest_charged", _integer, 0),
        currency_digits=opt("currency_digits", _integer, 0),
        currency_multiples_of=opt("currency_multiples_of", _integer, 0),
        installment_multiples_of=opt("installment_multiples_of", _integer, 0),
        fees=_fees(obj["fees"]) if obj.get("fees") is not None else (),
        seasonal=None if seasonal is None else _seasonal(seasonal),
        allow_partial_period_interest=opt("allow_partial_period_interest", _boolean, False),
        compulsory_savings_percent=opt("compulsory_savings_percent", _decimal, Decimal(0)),
        teg_includes_compulsory_savings=opt("teg_includes_compulsory_savings", _boolean, False),
    )


def _amount(value: Decimal, digits: int) -> str:
    if value == 0:
        value = abs(value)  # never print "-0"
    return format(value, f".{digits}f")


def schedule_to_json(schedule: Schedule, teg: Teg) -> dict[str, Any]:
    """The output object: instalments, totals and the TEG (percent strings, 4 decimals)."""
    digits = schedule.terms.currency_digits
    return {
        "installments": [
            {
                "number": i.number,
                "due_on": i.due_on.isoformat(),
                "principal": _amount(i.principal, digits),
                "interest": _amount(i.interest, digits),
                "fees": _amount(i.fees, digits),
                "total": _amount(i.total, digits),
                "balance": _amount(i.balance, digits),
            }
            for i in schedule.installments
        ],
        "totals": {
            "principal": _amount(schedule.total_principal, digits),
            "interest": _amount(schedule.total_interest, digits),
            "fees": _amount(schedule.total_fees, digits),
            "total": _amount(schedule.total, digits),
        },
        "teg": {
            "period_rate": str(teg.period_rate_percent),
            "annual_rate": str(teg.annual_rate_percent),
        },
    }


def schedule_json(text: str) -> dict[str, Any]:
    """The whole CLI computation: JSON text of settings -> output object."""
    terms = terms_from_json(parse_json(text))
    schedule = generate_schedule(terms)
    return schedule_to_json(schedule, teg_of_schedule(schedule))
