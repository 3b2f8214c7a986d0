"""Seasonal repayment patterns: when principal falls due, for farmers and irregular incomes.

Pure: imports nothing from Django. A pattern only *plans* the due dates and how the principal is
spread over them (weights, or exact amounts); `schedule.generate_schedule` then computes the
interest on the actual days of each period and applies the product's rounding rules.

Three patterns:

- `CropPattern`: from the crop calendar (`jigi/demo/data/crop_calendar.csv`) and the borrower's
  region. The loan is disbursed at sowing (the sowing months, or up to two months before them to
  buy inputs); during growth the borrower pays interest only (monthly) or nothing at all; the
  principal falls due in the crop's cash months, in order (cotton: December to March, after the
  CMDT pays). When the cash comes late (CMDT payments slipping to April-June), the officer gives
  the cash months explicitly (`cash_months`, year and month).
- `IncomePattern`: monthly instalments whose principal is proportional to the member's monthly
  surplus (income minus expenses, never below zero) in the month each instalment falls due; a
  month without surplus pays interest only.
- `CustomPattern`: due dates and principal amounts given one by one, checked against limits.

Every pattern is checked against `ScheduleLimits` (term, number of instalments, longest gap).
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path

from jigi.credit.calendar_math import add_months, adjust_to_seed, month_length
from jigi.credit.schedule_errors import ScheduleError
from jigi.credit.schedule_errors import gettext_noop as _

CROP_CALENDAR = Path(__file__).resolve().parent.parent / "demo" / "data" / "crop_calendar.csv"

# Inputs (seed, fertiliser) are bought before sowing: a crop loan may be disbursed up to this
# many months before the first sowing month and still count as "at sowing".
MONTHS_BEFORE_SOWING = 2


class InterestDuringGrowth(StrEnum):
    INTEREST_ONLY = "interest_only"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ScheduleLimits:
    """Product limits a seasonal schedule must respect (defaults are generous ceilings)."""

    max_term_days: int = 731
    max_installments: int = 60
    max_days_between_installments: int = 366


@dataclass(frozen=True, slots=True)
class CropPattern:
    crop: str
    region: str
    interest_during_growth: InterestDuringGrowth = InterestDuringGrowth.INTEREST_ONLY
    # Needed only where a crop has several calendars in one region (rice in Ségou).
    zone: str | None = None
    # Explicit (year, month) of each principal instalment, e.g. a late CMDT payment.
    cash_months: tuple[tuple[int, int], ...] | None = None
    limits: ScheduleLimits = field(default_factory=ScheduleLimits)
    # A rescheduled loan restarts on the rescheduling date, whenever it falls: only a new
    # loan must be disbursed at sowing.
    rescheduled: bool = False


@dataclass(frozen=True, slots=True)
class IncomePattern:
    monthly_income: tuple[Decimal, ...]  # January .. December
    monthly_expenses: tuple[Decimal, ...] | None = None
    limits: ScheduleLimits = field(default_factory=ScheduleLimits)


@dataclass(frozen=True, slots=True)
class CustomInstallment:
    due_on: date
    principal: Decimal


@dataclass(frozen=True, slots=True)
class CustomPattern:
    installments: tuple[CustomInstallment, ...]
    limits: ScheduleLimits = field(default_factory=ScheduleLimits)


SeasonalPattern = CropPattern | IncomePattern | CustomPattern


@dataclass(frozen=True, slots=True)
class PlannedDate:
    """One due date; `weight` is its share of the principal (0 = interest only)."""

    due_on: date
    weight: Decimal


@dataclass(frozen=True, slots=True)
class SeasonalPlan:
    dates: tuple[PlannedDate, ...]
    # Exact principal per date (custom pattern); None when the principal follows the weights.
    fixed_principal: tuple[Decimal, ...] | None = None


@dataclass(frozen=True, slots=True)
class CropCalendarRow:
    crop: str
    zone: str
    regions: tuple[str, ...]
    sowing_months: tuple[int, ...]
    harvest_months: tuple[int, ...]
    cash_months: tuple[int, ...]
    note: str


def month_range(spec: str) -> tuple[int, ...]:
    """'5-6' -> (5, 6); '12-3' -> (12, 1, 2, 3) (wraps the year); '6' -> (6,); '' -> ()."""
    spec = spec.strip()
    if not spec:
        return ()
    first, _, last = spec.partition("-")
    start = int(first)
    end = int(last) if last else start
    if not (1 <= start <= 12 and 1 <= end <= 12):
        raise ValueError(f"bad month range {spec!r}")
    months = [start]
    while months[-1] != end:
        months.append(months[-1] % 12 + 1)
    return tuple(months)


def _fold(text: str) -> str:
    """Case- and accent-insensitive key: 'Ségou' and 'segou' match."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def crop_calendar() -> tuple[CropCalendarRow, ...]:
    with CROP_CALENDAR.open(encoding="utf-8", newline="") as handle:
        return tuple(
            CropCalendarRow(
                crop=row["crop"],
                zone=row["zone"],
                regions=tuple(r.strip() for r in row["regions"].split(";") if r.strip()),
                sowing_months=month_range(row["sowing_months"]),
                harvest_months=month_range(row["harvest_months"]),
                cash_months=month_range(row["cash_months"]),
                note=row["note"],
            )
            for row in csv.DictReader(handle)
        )


def crop_calendar_row(crop: str, region: str, zone: str | None = None) -> CropCalendarRow:
    """The calendar of `crop` in `region` (and `zone` when the crop has several there)."""
    rows = [r for r in crop_calendar() if _fold(r.crop) == _fold(crop)]
    if not rows:
        known = ", ".join(sorted({r.crop for r in crop_calendar()}))
        raise ScheduleError(
            "seasonal.crop", _("unknown crop “%(crop)s” (known: %(known)s)"), crop=crop, known=known
        )
    in_region = [r for r in rows if _fold(region) in {_fold(x) for x in r.regions}]
    if not in_region:
        regions = ", ".join(sorted({x for r in rows for x in r.regions}))
        raise ScheduleError(
            "seasonal.region",
            _("%(crop)s has no calendar in %(region)s (regions: %(regions)s)"),
            crop=crop,
            region=region,
            regions=regions,
        )
    if zone is not None:
        in_region = [r for r in in_region if _fold(r.zone) == _fold(zone)]
        if not in_region:
            raise ScheduleError(
                "seasonal.zone",
                _("%(crop)s has no zone “%(zone)s” in %(region)s"),
                crop=crop,
                zone=zone,
                region=region,
            )
    if len(in_region) > 1:
        zones = "; ".join(r.zone for r in in_region)
        raise ScheduleError(
            "seasonal.zone",
            _("%(crop)s has several calendars in %(region)s: give the zone (%(zones)s)"),
            crop=crop,
            region=region,
            zones=zones,
        )
    return in_region[0]


def _months_text(months: tuple[int, ...]) -> str:
    return f"{months[0]}-{months[-1]}" if len(months) > 1 else str(months[0])


def _on_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, month_length(year, month)))


def _plan_crop(
    pattern: CropPattern, *, disbursed_on: date, first_repayment_on: date | None, repayments: int
) -> SeasonalPlan:
    if first_repayment_on is not None:
        raise ScheduleError(
            "first_repayment_on", _("the crop pattern sets the due dates; leave it empty")
        )
    row = crop_calendar_row(pattern.crop, pattern.region, pattern.zone)
    if row.sowing_months and not pattern.rescheduled:
        before = tuple(
            (row.sowing_months[0] - k - 1) % 12 + 1 for k in range(MONTHS_BEFORE_SOWING, 0, -1)
        )
        allowed = before + row.sowing_months
        if disbursed_on.month not in allowed:
            raise ScheduleError(
                "disbursed_on",
                _(
                    "%(crop)s is sown in months %(sowing)s in %(region)s: disburse at sowing "
                    "(months %(allowed)s)"
                ),
                crop=row.crop,
                sowing=_months_text(row.sowing_months),
                region=pattern.region,
                allowed=_months_text(allowed),
            )
    day = disbursed_on.day
    if pattern.cash_months is not None:
        if len(pattern.cash_months) != repayments:
            raise ScheduleError(
                "repayments",
                _("%(count)s cash months are given: repayments must be %(count)s"),
                count=len(pattern.cash_months),
            )
        cash_dates: list[date] = []
        for year, month in pattern.cash_months:
            due = _on_day(year, month, day)
            if due <= disbursed_on:
                raise ScheduleError(
                    "seasonal.cash_months",
                    _("cash month %(month)s is not after the disbursement (%(disbursed_on)s)"),
                    month=f"{year}-{month:02d}",
                    disbursed_on=disbursed_on.isoformat(),
                )
            if cash_dates and due <= cash_dates[-1]:
                raise ScheduleError(
                    "seasonal.cash_months", _("cash months must be in increasing order")
                )
            cash_dates.append(due)
    else:
        if not 1 <= repayments <= len(row.cash_months):
            raise ScheduleError(
                "repayments",
                _(
                    "%(crop)s has %(count)s cash months (%(months)s): choose 1 to %(count)s "
                    "principal instalments"
                ),
                crop=row.crop,
                count=len(row.cash_months),
                months=_months_text(row.cash_months),
            )
        # The first cash month strictly after the month of disbursement (at most 12 steps);
        # `index` counts months from January of year 0.
        index = disbursed_on.year * 12 + disbursed_on.month - 1 + 1
        while index % 12 + 1 != row.cash_months[0]:
            index += 1
        cash_dates = []
        for k in range(repayments):
            year, month0 = divmod(index + k, 12)
            cash_dates.append(_on_day(year, month0 + 1, day))
    planned: list[PlannedDate] = []
    if pattern.interest_during_growth is InterestDuringGrowth.INTEREST_ONLY:
        k = 1
        while (due := add_months(disbursed_on, k)) < cash_dates[0]:
            planned.append(PlannedDate(due, Decimal(0)))
            k += 1
    planned.extend(PlannedDate(due, Decimal(1)) for due in cash_dates)
    return SeasonalPlan(tuple(planned))


def _plan_income(
    pattern: IncomePattern,
    *,
    disbursed_on: date,
    first_repayment_on: date | None,
    repayments: int,
    repayment_every: int,
    repayment_unit: str,
) -> SeasonalPlan:
    if repayment_unit != "months":
        raise ScheduleError("repayment_unit", _("the income pattern needs monthly repayments"))
    if len(pattern.monthly_income) != 12:
        raise ScheduleError("seasonal.monthly_income", _("give 12 monthly amounts (January first)"))
    expenses = pattern.monthly_expenses or tuple(Decimal(0) for _month in range(12))
    if len(expenses) != 12:
        raise ScheduleError(
            "seasonal.monthly_expenses", _("give 12 monthly amounts (January first)")
        )
    for name, values in (
        ("monthly_income", pattern.monthly_income),
        ("monthly_expenses", expenses),
    ):
        if any(v < 0 for v in values):
            raise ScheduleError(f"seasonal.{name}", _("amounts must be zero or positive"))
    # A month with a deficit repays no principal: its surplus counts as zero, never negative.
    surplus = [
        max(Decimal(0), i - e) for i, e in zip(pattern.monthly_income, expenses, strict=True)
    ]
    seed = first_repayment_on or disbursed_on
    due = first_repayment_on or add_months(disbursed_on, repayment_every)
    dates = [due]
    for _step in range(repayments - 1):
        due = adjust_to_seed(add_months(due, repayment_every), seed)
        dates.append(due)
    weights = [surplus[d.month - 1] for d in dates]
    if not any(weights):
        raise ScheduleError(
            "seasonal.monthly_income",
            _("the income profile has no surplus in any month an instalment falls due"),
        )
    if weights[-1] == 0:
        raise ScheduleError(
            "repayments",
            _(
                "the last instalment falls due in month %(month)s, which has no surplus: change "
                "the number of repayments or the first repayment date"
            ),
            month=dates[-1].month,
        )
    return SeasonalPlan(tuple(PlannedDate(d, w) for d, w in zip(dates, weights, strict=True)))


def _plan_custom(
    pattern: CustomPattern, *, disbursed_on: date, repayments: int, principal: Decimal
) -> SeasonalPlan:
    rows = pattern.installments
    if not rows:
        raise ScheduleError("seasonal.installments", _("give at least one instalment"))
    if len(rows) != repayments:
        raise ScheduleError(
            "repayments",
            _("%(count)s instalments are given: repayments must be %(count)s"),
            count=len(rows),
        )
    previous = disbursed_on
    for index, row in enumerate(rows, start=1):
        if row.due_on <= previous:
            template = (
                _(
                    "instalment %(number)s is due on %(due_on)s, not after the disbursement "
                    "(%(previous)s)"
                )
                if index == 1
                else _(
                    "instalment %(number)s is due on %(due_on)s, not after the previous "
                    "instalment (%(previous)s)"
                )
            )
            raise ScheduleError(
                "seasonal.installments",
                template,
                number=index,
                due_on=row.due_on.isoformat(),
                previous=previous.isoformat(),
            )
        if row.principal < 0:
            raise ScheduleError(
                "seasonal.installments",
                _("instalment %(number)s has a negative principal"),
                number=index,
            )
        previous = row.due_on
    total = sum((r.principal for r in rows), Decimal(0))
    if total != principal:
        raise ScheduleError(
            "seasonal.installments",
            _("the principal parts sum to %(total)s, not to the principal %(principal)s"),
            total=str(total),
            principal=str(principal),
        )
    if rows[-1].principal == 0:
        raise ScheduleError("seasonal.installments", _("the last instalment must repay principal"))
    return SeasonalPlan(
        tuple(PlannedDate(r.due_on, r.principal) for r in rows),
        fixed_principal=tuple(r.principal for r in rows),
    )


def _check_limits(plan: SeasonalPlan, limits: ScheduleLimits, disbursed_on: date) -> None:
    dates = [p.due_on for p in plan.dates]
    if len(dates) > limits.max_installments:
        raise ScheduleError(
            "seasonal",
            _("%(count)s instalments exceed the limit of %(limit)s"),
            count=len(dates),
            limit=limits.max_installments,
        )
    term = (dates[-1] - disbursed_on).days
    if term > limits.max_term_days:
        raise ScheduleError(
            "seasonal",
            _("a term of %(days)s days exceeds the limit of %(limit)s days"),
            days=term,
            limit=limits.max_term_days,
        )
    previous = disbursed_on
    for due in dates:
        gap = (due - previous).days
        if gap > limits.max_days_between_installments:
            raise ScheduleError(
                "seasonal",
                _(
                    "%(days)s days between payments (up to %(due_on)s) exceed the limit of "
                    "%(limit)s days"
                ),
                days=gap,
                due_on=due.isoformat(),
                limit=limits.max_days_between_installments,
            )
        previous = due


def plan_seasonal(
    pattern: SeasonalPattern,
    *,
    disbursed_on: date,
    first_repayment_on: date | None,
    repayments: int,
    repayment_every: int,
    repayment_unit: str,
    principal: Decimal,
) -> SeasonalPlan:
    """Due dates and principal shares of a seasonal pattern, checked against its limits."""
    if isinstance(pattern, CropPattern):
        plan = _plan_crop(
            pattern,
            disbursed_on=disbursed_on,
            first_repayment_on=first_repayment_on,
            repayments=repayments,
        )
    elif isinstance(pattern, IncomePattern):
        plan = _plan_income(
            pattern,
            disbursed_on=disbursed_on,
            first_repayment_on=first_repayment_on,
            repayments=repayments,
            repayment_every=repayment_every,
            repayment_unit=repayment_unit,
        )
    else:
        plan = _plan_custom(
            pattern, disbursed_on=disbursed_on, repayments=repayments, principal=principal
        )
    _check_limits(plan, pattern.limits, disbursed_on)
    return plan
