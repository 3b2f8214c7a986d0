"""Gender and inclusion figures (pure: no Django): members, cases and trainings counted by sex,
age band, urban/rural and group, and the "rural women" panel.

The selectors hand in plain rows; nothing here sees a name or a case's details: a case is
its category, urgency, whether it is closed, its outcome and the wages recovered. Each table
partitions its rows by one dimension (a missing value falls under "unknown"), so its lines
add up to its total.

- members: MTC members whose membership ran at some time in the period;
- cases: cases opened in the period; closed, resolved (outcome "resolved" or "wages
  recovered"), wages recovered (francs);
- trainings: enrolments in sessions starting in the period; completed, certificates issued,
  literacy assessed (levels before and after known), literacy gained (after above before) and
  the levels gained in all;
- rural women: women members living in a rural area or who came from one; for trainings,
  women trained in a rural session or who are such members.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from jigi.movement.decent_work import UNKNOWN, age_band

GENDER_DIMENSIONS = ("sex", "age_band", "area", "group")
MEMBER_KEYS = ("members",)
CASE_KEYS = ("cases", "urgent", "closed", "resolved", "wages_recovered")
TRAINING_KEYS = ("enrolled", "completed", "certificates", "literacy_assessed",
                 "literacy_gained", "levels_gained")
RESOLVED = frozenset({"resolved", "wages_recovered"})
SEXES = ("F", "M")


@dataclass(frozen=True)
class Who:
    sex: str
    age: int | None
    area: str = ""  # urban / rural ("" unknown)
    group: str = ""  # the member's MTC group ("" when not an MTC member, or not shown)
    rural_origin: bool = False

    def key(self, dimension: str) -> str:
        if dimension == "age_band":
            return age_band(self.age)
        return str(getattr(self, dimension) or UNKNOWN)

    @property
    def rural_woman(self) -> bool:
        return self.sex == "F" and (self.area == "rural" or self.rural_origin)


@dataclass(frozen=True)
class CaseRow:
    who: Who
    category: str
    urgent: bool
    closed: bool
    outcome: str
    wages_recovered: int


@dataclass(frozen=True)
class TrainingRow:
    who: Who
    completed: bool
    certificate: bool
    literacy_before: int | None
    literacy_after: int | None


def member_measures(_who: Who) -> dict[str, int]:
    return {"members": 1}


def case_measures(row: CaseRow) -> dict[str, int]:
    return {"cases": 1, "urgent": int(row.urgent), "closed": int(row.closed),
            "resolved": int(row.closed and row.outcome in RESOLVED),
            "wages_recovered": row.wages_recovered}


def training_measures(row: TrainingRow) -> dict[str, int]:
    assessed = row.literacy_before is not None and row.literacy_after is not None
    gain = (row.literacy_after or 0) - (row.literacy_before or 0) if assessed else 0
    return {"enrolled": 1, "completed": int(row.completed), "certificates": int(row.certificate),
            "literacy_assessed": int(assessed), "literacy_gained": int(gain > 0),
            "levels_gained": max(gain, 0)}


@dataclass
class Crosstab:
    """Lines (value, {measure: n}) of one dimension, in a stable order, and their total."""

    dimension: str
    keys: tuple[str, ...]
    lines: list[tuple[str, dict[str, int]]]
    total: dict[str, int]


def crosstabs(items: Iterable[object], keys: tuple[str, ...], who: Callable[[object], Who],
              measures: Callable[[object], dict[str, int]],
              orders: dict[str, list[str]] | None = None) -> dict[str, Crosstab]:
    """One Crosstab per dimension of GENDER_DIMENSIONS. Items are first summed per
    combination of their dimension values (few cells for thousands of rows), then the cells
    are spread over the dimensions."""
    orders = orders or {}
    cells: dict[tuple[str, ...], list[int]] = {}
    for item in items:
        w = who(item)
        dims = tuple(w.key(d) for d in GENDER_DIMENSIONS)
        values = measures(item)
        cell = cells.get(dims)
        if cell is None:
            cells[dims] = [values[k] for k in keys]
        else:
            for i, k in enumerate(keys):
                cell[i] += values[k]
    out = {}
    for position, dimension in enumerate(GENDER_DIMENSIONS):
        sums: dict[str, dict[str, int]] = {}
        total = dict.fromkeys(keys, 0)
        for dims, cell in cells.items():
            line = sums.setdefault(dims[position], dict.fromkeys(keys, 0))
            for k, n in zip(keys, cell, strict=True):
                line[k] += n
                total[k] += n
        ranked = orders.get(dimension, [])
        lines = sorted(sums.items(), key=lambda kv, r=ranked: (
            r.index(kv[0]) if kv[0] in r else len(r), kv[0]))
        out[dimension] = Crosstab(dimension=dimension, keys=keys, lines=lines, total=total)
    return out


@dataclass
class Inclusion:
    members: dict[str, Crosstab] = field(default_factory=dict)
    cases: dict[str, Crosstab] = field(default_factory=dict)
    trainings: dict[str, Crosstab] = field(default_factory=dict)
    # category -> {"F": n, "M": n, "total": n}; outcome likewise (closed cases).
    categories: dict[str, dict[str, int]] = field(default_factory=dict)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    rural_women: dict[str, int] = field(default_factory=dict)
    rural_women_by_group: dict[str, int] = field(default_factory=dict)


def _by_sex(values: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for value, sex in values:
        line = out.setdefault(value, {"F": 0, "M": 0, "total": 0})
        if sex in SEXES:
            line[sex] += 1
        line["total"] += 1
    return dict(sorted(out.items()))


def inclusion(*, members: list[Who], cases: list[CaseRow], trainings: list[TrainingRow],
              orders: dict[str, list[str]] | None = None) -> Inclusion:
    """Every table of the dashboard from the rows the user may see (an outsider of MTC passes
    empty member and case lists: her organisation's trainings only)."""
    result = Inclusion()
    result.members = crosstabs(members, MEMBER_KEYS, lambda w: w, member_measures, orders)
    result.cases = crosstabs(cases, CASE_KEYS, lambda c: c.who, case_measures, orders)
    result.trainings = crosstabs(trainings, TRAINING_KEYS, lambda t: t.who, training_measures,
                                 orders)
    result.categories = _by_sex((c.category, c.who.sex) for c in cases)
    result.outcomes = _by_sex((c.outcome or UNKNOWN, c.who.sex) for c in cases if c.closed)
    rural_members = [w for w in members if w.rural_woman]
    rural_cases = [c for c in cases if c.who.rural_woman]
    rural_trainings = [t for t in trainings if t.who.rural_woman]
    panel = {"members": len(rural_members), "women_members": sum(w.sex == "F" for w in members)}
    for k in CASE_KEYS:
        panel[k] = sum(case_measures(c)[k] for c in rural_cases)
    for k in TRAINING_KEYS:
        panel[k] = sum(training_measures(t)[k] for t in rural_trainings)
    result.rural_women = panel
    by_group: dict[str, int] = {}
    for w in rural_members:
        by_group[w.key("group")] = by_group.get(w.key("group"), 0) + 1
    result.rural_women_by_group = dict(sorted(by_group.items()))
    return result
