"""The pure gender and inclusion tables: known rows, the rural women panel, and (hypothesis)
every table's lines adding up to its total."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jigi.movement.gender import (
    CASE_KEYS,
    GENDER_DIMENSIONS,
    TRAINING_KEYS,
    CaseRow,
    TrainingRow,
    Who,
    inclusion,
)

WOMAN_RURAL = Who(sex="F", age=14, area="urban", group="domestic", rural_origin=True)
WOMAN_TOWN = Who(sex="F", age=30, area="urban", group="teachers")
MAN = Who(sex="M", age=40, area="rural", group="artisans")


def test_known_rows():
    result = inclusion(
        members=[WOMAN_RURAL, WOMAN_TOWN, MAN],
        cases=[CaseRow(WOMAN_RURAL, "child_labour", True, False, "", 0),
               CaseRow(WOMAN_RURAL, "unpaid_wages", False, True, "wages_recovered", 30_000),
               CaseRow(MAN, "unpaid_wages", False, True, "no_result", 0)],
        trainings=[TrainingRow(WOMAN_RURAL, True, True, 0, 2),
                   TrainingRow(MAN, False, False, 1, 1),
                   TrainingRow(Who(sex="F", age=None, area="rural"), True, False, None, None)],
        orders={"sex": ["F", "M"]})
    by_sex = result.members["sex"]
    assert by_sex.lines == [("F", {"members": 2}), ("M", {"members": 1})]
    cases = dict(result.cases["sex"].lines)
    assert cases["F"] == {"cases": 2, "urgent": 1, "closed": 1, "resolved": 1,
                          "wages_recovered": 30_000}
    assert dict(result.cases["age_band"].lines)["under_15"]["cases"] == 2
    trainings = result.trainings["sex"].total
    assert trainings == {"enrolled": 3, "completed": 2, "certificates": 1,
                         "literacy_assessed": 2, "literacy_gained": 1, "levels_gained": 2}
    assert result.categories["unpaid_wages"] == {"F": 1, "M": 1, "total": 2}
    assert result.outcomes == {"no_result": {"F": 0, "M": 1, "total": 1},
                               "wages_recovered": {"F": 1, "M": 0, "total": 1}}
    panel = result.rural_women
    assert (panel["members"], panel["women_members"]) == (1, 2)
    assert (panel["cases"], panel["urgent"], panel["wages_recovered"]) == (2, 1, 30_000)
    # Trained: the rural member, and the woman trained in a rural session.
    assert (panel["enrolled"], panel["completed"], panel["certificates"]) == (2, 2, 1)
    assert result.rural_women_by_group == {"domestic": 1}


who = st.builds(Who, sex=st.sampled_from(["F", "M", ""]), age=st.none() | st.integers(5, 90),
                area=st.sampled_from(["urban", "rural", ""]),
                group=st.sampled_from(["teachers", "domestic", "artisans", "youth", ""]),
                rural_origin=st.booleans())
levels = st.none() | st.integers(0, 4)


@given(members=st.lists(who, max_size=30),
       cases=st.lists(st.builds(CaseRow, who=who, category=st.sampled_from(["a", "b"]),
                                urgent=st.booleans(), closed=st.booleans(),
                                outcome=st.sampled_from(["", "resolved", "no_result"]),
                                wages_recovered=st.integers(0, 500_000)), max_size=30),
       trainings=st.lists(st.builds(TrainingRow, who=who, completed=st.booleans(),
                                    certificate=st.booleans(), literacy_before=levels,
                                    literacy_after=levels), max_size=30))
def test_every_table_adds_up(members, cases, trainings):
    result = inclusion(members=members, cases=cases, trainings=trainings)
    for d in GENDER_DIMENSIONS:
        for table, n, keys in [(result.members[d], len(members), ("members",)),
                               (result.cases[d], len(cases), CASE_KEYS),
                               (result.trainings[d], len(trainings), TRAINING_KEYS)]:
            for k in keys:
                assert sum(line[k] for _v, line in table.lines) == table.total[k]
            assert table.total[keys[0]] == n
    assert sum(v["total"] for v in result.categories.values()) == len(cases)
    assert result.rural_women["members"] <= result.rural_women["women_members"]
    assert sum(result.rural_women_by_group.values()) == result.rural_women["members"]
