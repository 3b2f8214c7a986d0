"""The pure decent-work calculation: each indicator's definition on hand-made rows, ages and
bands, and (hypothesis) shares within 0..100 and breakdowns that add up to their totals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from jigi.movement.decent_work import (
    AGE_BANDS,
    DIMENSIONS,
    INDICATOR_KEYS,
    DecentWork,
    LegalFigures,
    WorkRow,
    age_band,
    age_on,
    decent_work,
    last_months,
    month_end,
    share,
)

LAW = LegalFigures()


def domestic(**kw) -> WorkRow:
    base = {"section_id": 1, "group": "domestic", "sex": "F", "age": 14, "pay": 15_000,
            "contract": False, "daily_hours": 12, "rest_half_days": 0, "declared": False}
    return WorkRow(**{**base, **kw})


def teacher(**kw) -> WorkRow:
    base = {"section_id": 2, "group": "teachers", "sex": "M", "age": 40, "pay": 25_000,
            "contract": False, "pay_arrears": 75_000}
    return WorkRow(**{**base, **kw})


def test_ages_from_a_birth_date_or_a_year():
    assert age_on(date(2026, 11, 20), date(2012, 11, 21), None) == 13
    assert age_on(date(2026, 11, 20), date(2012, 11, 20), None) == 14
    assert age_on(date(2026, 11, 20), None, 2011) == 15
    assert age_on(date(2026, 11, 20), None, None) is None
    assert [age_band(a) for a in (None, 0, 14, 15, 17, 18, 24, 25, 34, 35, 49, 50, 90)] == [
        "unknown", "under_15", "under_15", "15_17", "15_17", "18_24", "18_24", "25_34",
        "25_34", "35_49", "35_49", "50_plus", "50_plus"]


def test_each_indicator_on_known_rows():
    rows = [
        domestic(),  # 14, no contract, 12 h, no rest, not declared, 15,000 F
        domestic(age=30, contract=True, pay=40_000, daily_hours=9, rest_half_days=2,
                 declared=True, sex="M", area="rural"),
        domestic(age=None, daily_hours=0),  # age and hours not recorded
        teacher(),  # community teacher at the 25,000 F subsidy, 75,000 F owed
        teacher(contract=True, pay=60_000, pay_arrears=10_000, sex="F"),
        WorkRow(section_id=3, group="artisans", sex="M", age=50, pay=45_000),
        WorkRow(section_id=4, group="youth", sex="F", age=19, computer_access="none"),
        WorkRow(section_id=4, group="youth", sex="M", age=20, computer_access="shared"),
        WorkRow(section_id=4, group="youth", sex="M", age=20, has_record=False),
    ]
    result = decent_work(rows, LAW)
    f = {k: result.figures[k].total for k in INDICATOR_KEYS}
    assert result.members == 9
    assert (f["contract"].numerator, f["contract"].denominator) == (2, 5)
    assert (f["smig"].numerator, f["smig"].denominator) == (3, 6)
    assert (f["hours"].numerator, f["hours"].denominator) == (1, 2)
    assert (f["rest"].numerator, f["rest"].denominator) == (1, 3)
    assert (f["declared"].numerator, f["declared"].denominator) == (1, 3)
    assert (f["minors"].numerator, f["minors"].denominator) == (1, 2)
    below = f["teachers_below_smig"]
    assert (below.numerator, below.denominator, below.amount) == (1, 2, 75_000)
    assert (f["youth_no_computer"].numerator, f["youth_no_computer"].denominator) == (1, 2)
    assert f["contract"].share == Decimal("40.0")
    assert f["smig"].share == Decimal("50.0")
    # Breakdowns: by sex, by area, by age band, by section.
    contract = result.figures["contract"].by
    assert {k: v.as_list() for k, v in contract["sex"].items()} == {
        "F": [1, 3, 0], "M": [1, 2, 0]}
    assert contract["area"]["rural"].as_list() == [1, 1, 0]
    assert result.figures["minors"].by["age_band"]["under_15"].as_list() == [1, 1, 0]
    assert result.figures["smig"].by["section"]["3"].as_list() == [1, 1, 0]


def test_no_member_concerned_gives_no_share():
    result = decent_work([WorkRow(section_id=1, group="artisans", sex="F", age=30, pay=1)], LAW)
    assert result.figures["hours"].total.denominator == 0
    assert result.figures["hours"].total.share is None
    assert share(0, 0) is None
    assert share(1, 3) == Decimal("33.3")
    assert share(2, 3) == Decimal("66.7")


def test_the_smig_in_force_decides():
    rows = [teacher(pay=45_000)]
    assert decent_work(rows, LegalFigures(smig=40_000)).figures["smig"].total.numerator == 1
    assert decent_work(rows, LegalFigures(smig=50_000)).figures["smig"].total.numerator == 0


def test_months():
    assert last_months(date(2026, 2, 1), 3) == [date(2025, 12, 1), date(2026, 1, 1),
                                               date(2026, 2, 1)]
    assert len(last_months(date(2026, 11, 1))) == 12
    assert month_end(date(2026, 2, 1)) == date(2026, 2, 28)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)


rows_strategy = st.lists(st.builds(
    WorkRow,
    section_id=st.integers(1, 4),
    group=st.sampled_from(["teachers", "domestic", "artisans", "youth"]),
    sex=st.sampled_from(["F", "M"]),
    age=st.none() | st.integers(5, 90),
    area=st.sampled_from(["urban", "rural"]),
    rural_origin=st.booleans(),
    pay=st.none() | st.integers(0, 200_000),
    contract=st.none() | st.booleans(),
    daily_hours=st.none() | st.integers(0, 18),
    rest_half_days=st.none() | st.integers(0, 14),
    declared=st.none() | st.booleans(),
    pay_arrears=st.integers(0, 1_000_000),
    computer_access=st.none() | st.sampled_from(["none", "shared", "own"]),
    has_record=st.booleans(),
), max_size=60)


@given(rows=rows_strategy, smig=st.integers(1, 100_000))
def test_shares_and_breakdowns_add_up(rows, smig):
    result = decent_work(rows, LegalFigures(smig=smig))
    assert result.members == len(rows)
    for key in INDICATOR_KEYS:
        b = result.figures[key]
        assert 0 <= b.total.numerator <= b.total.denominator <= len(rows)
        s = b.total.share
        assert s is None if b.total.denominator == 0 else Decimal(0) <= s <= Decimal(100)
        for d in DIMENSIONS:
            parts = b.by[d].values()
            assert sum(p.numerator for p in parts) == b.total.numerator
            assert sum(p.denominator for p in parts) == b.total.denominator
            assert sum(p.amount for p in parts) == b.total.amount
            for p in parts:
                assert p.denominator > 0
                assert Decimal(0) <= p.share <= Decimal(100)
        assert set(b.by["age_band"]) <= set(AGE_BANDS)
    # A snapshot's JSON gives back the same figures.
    again = DecentWork.from_data(result.as_data())
    assert again.as_data() == result.as_data()
