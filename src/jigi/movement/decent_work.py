"""Decent-work indicators from MTC's members' own records (pure: no Django).

The selectors hand in one plain `WorkRow` per member (her group, section, sex, age, area and
the figures of her group's record) and the legal figures in force (`LegalFigures`); this
module counts, for every indicator, who is concerned (the denominator) and who meets it (the
numerator), for the whole movement and broken down by group, section, sex, age band and area.
Every breakdown partitions the same rows (a member without a known age falls in the band
"unknown"), so the parts of a breakdown always add up to the total.

Definitions (DOMAIN.md §4; décret 96-178 for domestic workers):
- contract: domestic workers with a written contract, and teachers on a State or local
  authority contract (décrets 434/435 of 2005), of the domestic workers and teachers;
- smig: members paid at least the SMIG in force (teachers' and domestic workers' monthly pay,
  artisans' usual monthly income), of the teachers, domestic workers and artisans;
- hours: domestic workers working at most the legal day (10 h), of those whose hours are
  recorded (0 means "not recorded": nobody works no hours);
- rest: domestic workers with at least the legal weekly rest (two half-days), of all of them;
- declared: domestic workers declared to social security, of all of them;
- minors: domestic workers under the adult age (18), of those whose age is known;
- teachers_below_smig: teachers paid below the SMIG, of all teachers; `amount` is the pay
  owed to those teachers (their pay arrears, francs);
- youth_no_computer: young members with no computer access, of all young members.

A share is a percentage with one decimal (half up), None when nobody is concerned: a screen
shows "–", never a percentage of zero members.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TEACHERS = "teachers"
DOMESTIC = "domestic"
ARTISANS = "artisans"
YOUTH = "youth"
CONTRACT_STATUSES = frozenset({"state_contract", "local_contract"})
NO_COMPUTER = "none"

AGE_BANDS = ("under_15", "15_17", "18_24", "25_34", "35_49", "50_plus", "unknown")
DIMENSIONS = ("group", "section", "sex", "age_band", "area")
UNKNOWN = "unknown"


def age_on(on: date, birth_date: date | None, birth_year: int | None) -> int | None:
    """Age in whole years on `on`: exact from a birth date, else from the year alone (the age
    reached during `on`'s year, as the registry holds many estimated years); None if unknown."""
    if birth_date is not None:
        before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
        return on.year - birth_date.year - before_birthday
    if birth_year is not None:
        return on.year - birth_year
    return None


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return UNKNOWN
    if age < 15:
        return "under_15"
    if age < 18:
        return "15_17"
    if age < 25:
        return "18_24"
    if age < 35:
        return "25_34"
    if age < 50:
        return "35_49"
    return "50_plus"


def share(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator in %, one decimal, half up; None without a denominator."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LegalFigures:
    smig: int = 40_000  # francs a month
    max_daily_hours: int = 10
    weekly_rest_half_days: int = 2
    adult_age: int = 18


@dataclass(frozen=True)
class WorkRow:
    """One member as the indicators see her. The record fields are None when the member has
    no record of her group (or the field does not belong to her group)."""

    section_id: int
    group: str
    sex: str
    age: int | None
    area: str = "urban"  # urban / rural
    rural_origin: bool = False
    pay: int | None = None  # teachers' and domestic workers' pay, artisans' income
    contract: bool | None = None  # written (domestic) or State/local (teachers) contract
    daily_hours: int | None = None
    rest_half_days: int | None = None
    declared: bool | None = None
    pay_arrears: int = 0
    computer_access: str | None = None
    has_record: bool = True  # False: a member whose group record is missing (counted, no more)

    @property
    def age_band(self) -> str:
        return age_band(self.age)


@dataclass
class Figure:
    """Who is concerned, who meets the indicator, and an amount (francs) where one applies."""

    numerator: int = 0
    denominator: int = 0
    amount: int = 0

    @property
    def share(self) -> Decimal | None:
        return share(self.numerator, self.denominator)

    def add(self, numerator: bool, amount: int = 0) -> None:
        self.denominator += 1
        if numerator:
            self.numerator += 1
            self.amount += amount

    def as_list(self) -> list[int]:
        return [self.numerator, self.denominator, self.amount]

    @classmethod
    def from_list(cls, values: list[int]) -> Figure:
        return cls(*values)


@dataclass(frozen=True)
class Indicator:
    key: str
    groups: frozenset[str]
    # (row, legal figures) -> None when the row is not concerned, else whether it meets it.
    test: Callable[[WorkRow, LegalFigures], bool | None]
    amount: Callable[[WorkRow], int] = lambda _row: 0


def _contract(row: WorkRow, _law: LegalFigures) -> bool | None:
    return None if row.contract is None else row.contract


def _smig(row: WorkRow, law: LegalFigures) -> bool | None:
    return None if row.pay is None else row.pay >= law.smig


def _hours(row: WorkRow, law: LegalFigures) -> bool | None:
    if not row.daily_hours:
        return None
    return row.daily_hours <= law.max_daily_hours


def _rest(row: WorkRow, law: LegalFigures) -> bool | None:
    if row.rest_half_days is None:
        return None
    return row.rest_half_days >= law.weekly_rest_half_days


def _declared(row: WorkRow, _law: LegalFigures) -> bool | None:
    return row.declared


def _minor(row: WorkRow, law: LegalFigures) -> bool | None:
    if row.age is None:
        return None
    return row.age < law.adult_age


def _below_smig(row: WorkRow, law: LegalFigures) -> bool | None:
    return None if row.pay is None else row.pay < law.smig


def _no_computer(row: WorkRow, _law: LegalFigures) -> bool | None:
    return None if row.computer_access is None else row.computer_access == NO_COMPUTER


INDICATORS: tuple[Indicator, ...] = (
    Indicator("contract", frozenset({DOMESTIC, TEACHERS}), _contract),
    Indicator("smig", frozenset({TEACHERS, DOMESTIC, ARTISANS}), _smig),
    Indicator("hours", frozenset({DOMESTIC}), _hours),
    Indicator("rest", frozenset({DOMESTIC}), _rest),
    Indicator("declared", frozenset({DOMESTIC}), _declared),
    Indicator("minors", frozenset({DOMESTIC}), _minor),
    Indicator("teachers_below_smig", frozenset({TEACHERS}), _below_smig,
              amount=lambda row: row.pay_arrears),
    Indicator("youth_no_computer", frozenset({YOUTH}), _no_computer),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)


@dataclass
class Breakdown:
    """One indicator: the total and, per dimension, a Figure per value."""

    total: Figure = field(default_factory=Figure)
    by: dict[str, dict[str, Figure]] = field(
        default_factory=lambda: {d: {} for d in DIMENSIONS})


@dataclass
class DecentWork:
    """The result: one Breakdown per indicator (in INDICATORS' order) and the members counted."""

    members: int
    figures: dict[str, Breakdown]
    law: LegalFigures

    def as_data(self) -> dict[str, Any]:
        """Plain JSON (IndicatorSnapshot.data): figures as [numerator, denominator, amount]."""
        return {
            "members": self.members,
            "law": {"smig": self.law.smig, "max_daily_hours": self.law.max_daily_hours,
                    "weekly_rest_half_days": self.law.weekly_rest_half_days,
                    "adult_age": self.law.adult_age},
            "figures": {key: {"total": b.total.as_list(),
                              "by": {d: {v: f.as_list() for v, f in values.items()}
                                     for d, values in b.by.items()}}
                        for key, b in self.figures.items()},
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> DecentWork:
        figures = {}
        for key in INDICATOR_KEYS:
            raw = data.get("figures", {}).get(key)
            b = Breakdown()
            if raw:
                b.total = Figure.from_list(raw["total"])
                for d, values in raw.get("by", {}).items():
                    b.by[d] = {v: Figure.from_list(f) for v, f in values.items()}
            figures[key] = b
        return cls(members=int(data.get("members", 0)), figures=figures,
                   law=LegalFigures(**data.get("law", {})))


_BY_GROUP: dict[str, tuple[Indicator, ...]] = {}


def _indicators_of(group: str) -> tuple[Indicator, ...]:
    found = _BY_GROUP.get(group)
    if found is None:
        found = _BY_GROUP[group] = tuple(i for i in INDICATORS if group in i.groups)
    return found


def decent_work(rows: Iterable[WorkRow], law: LegalFigures) -> DecentWork:
    """Every indicator over `rows`, with its breakdowns (see the module's definitions).

    Rows are first counted per combination of their dimension values, indicator and result
    (a few hundred cells for thousands of members), and only the cells are spread over the
    breakdowns: the work grows with the members once, not once per breakdown."""
    cells: dict[tuple[tuple[str, ...], str, bool], list[int]] = {}
    members = 0
    for row in rows:
        members += 1
        if not row.has_record:
            continue
        dims = (row.group or UNKNOWN, str(row.section_id), row.sex or UNKNOWN,
                age_band(row.age), row.area or UNKNOWN)
        for ind in _indicators_of(row.group):
            met = ind.test(row, law)
            if met is None:
                continue
            amount = ind.amount(row) if met else 0
            cell = cells.get((dims, ind.key, met))
            if cell is None:
                cells[(dims, ind.key, met)] = [1, amount]
            else:
                cell[0] += 1
                cell[1] += amount
    figures = {i.key: Breakdown() for i in INDICATORS}
    for (dims, key, met), (count, amount) in cells.items():
        b = figures[key]
        for f in (b.total, *(b.by[d].setdefault(v, Figure())
                             for d, v in zip(DIMENSIONS, dims, strict=True))):
            f.denominator += count
            if met:
                f.numerator += count
                f.amount += amount
    return DecentWork(members=members, figures=figures, law=law)


def month_start(day: date) -> date:
    return day.replace(day=1)


def last_months(month: date, n: int = 12) -> list[date]:
    """The first days of the `n` months ending with `month`'s, oldest first."""
    y, m = month.year, month.month
    out = []
    for _k in range(n):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def month_end(month: date) -> date:
    y, m = (month.year, month.month + 1) if month.month < 12 else (month.year + 1, 1)
    return date.fromordinal(date(y, m, 1).toordinal() - 1)
