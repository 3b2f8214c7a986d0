"""The pure arithmetic of close of business (jigi.cob.rules), table-driven and with hypothesis."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.cob import rules
from jigi.credit.allocation import Due, arrears, provision_rate


@pytest.mark.parametrize(("days", "cls", "percent", "account"), [
    (0, "sain", 0, "202"), (1, "0-3", 0, "292"), (90, "0-3", 0, "292"),
    (91, "3-6", 40, "292"), (180, "3-6", 40, "292"), (181, "6-12", 80, "293"),
    (365, "6-12", 80, "293"), (366, "12-24", 100, "294"), (730, "12-24", 100, "294"),
    (731, "24+", 100, "294"),
])
def test_bands_follow_the_bceao_schedule(days, cls, percent, account):
    band = rules.band(days)
    assert (band.risk_class, band.percent) == (cls, percent)
    assert rules.ledger_account("202", days, restructured=False) == account
    assert (band.risk_class, band.percent) == provision_rate(days)  # credit's own table


def test_restructured_loans_stay_in_291():
    assert rules.ledger_account("202", 400, restructured=True) == "291"
    assert rules.ledger_account("291", 0, restructured=False) == "291"


def test_provision_base_is_outstanding_minus_guarantee_rounded_up():
    assert rules.provision(100_000, 20_000, 100) == 32_000  # 40 % of 80,000
    assert rules.provision(100_001, 0, 100) == 40_001  # 40,000.4 -> up
    assert rules.provision(100_000, 150_000, 400) == 0  # fully covered
    assert rules.provision(100_000, 0, 30) == 0  # 0-3 months: 0 %
    assert rules.provision(100_000, 0, 800) == 100_000


def test_accrual_is_linear_and_never_above_what_is_earned():
    start, end = date(2026, 4, 1), date(2026, 5, 1)
    kw = {"interest": 3_000, "waived": 0, "paid": 0, "period_start": start, "period_end": end}
    assert rules.accrued_unpaid(on=start, **kw) == 0
    assert rules.accrued_unpaid(on=date(2026, 4, 11), **kw) == 1_000
    assert rules.accrued_unpaid(on=date(2026, 4, 11), **{**kw, "paid": 400}) == 600
    assert rules.accrued_unpaid(on=date(2026, 4, 11), **{**kw, "paid": 5_000}) == 0
    assert rules.accrued_unpaid(on=date(2026, 4, 16), **{**kw, "waived": 1_000}) == 1_000


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 50_000)), max_size=8),
       st.integers(0, 500), st.integers(0, 200))
def test_days_past_due_matches_credit_arrears(items, on_offset, tolerance):
    base = date(2026, 1, 1)
    dues = [(base + timedelta(days=d), amount) for d, amount in items]
    on = base + timedelta(days=on_offset)
    credit = arrears([Due(k, d, amount, 0) for k, (d, amount) in enumerate(dues)], on, tolerance)
    assert rules.days_past_due(dues, on, tolerance) == (credit.days, credit.overdue)


@given(st.integers(-10**9, 10**9), st.integers(-10**9, 10**9))
def test_adjustments_balance_and_reach_the_target(target, current):
    for lines in (rules.accrual_lines(target, current), rules.provision_lines(target, current)):
        debit = sum(x.amount for x in lines if x.side == "D")
        assert debit == sum(x.amount for x in lines if x.side == "C")
        assert all(x.amount > 0 for x in lines)
    moved = sum(x.amount if x.side == "D" else -x.amount
                for x in rules.accrual_lines(target, current) if x.account == "27")
    assert current + moved == target
    held = sum(-x.amount if x.side == "D" else x.amount
               for x in rules.provision_lines(target, current) if x.account == "299")
    assert current + held == target


def test_classification_moves_each_pair_to_its_target():
    lines = rules.classification_lines({("202", "292"): 500, ("203", "293"): 100},
                                       {("202", "292"): 800, ("202", "294"): 50})
    assert [(x.account, x.side, x.amount, x.subledger) for x in lines] == [
        ("202", "D", 300, "202>292"), ("292", "C", 300, "202>292"),
        ("202", "D", 50, "202>294"), ("294", "C", 50, "202>294"),
        ("293", "D", 100, "203>293"), ("203", "C", 100, "203>293"),
    ]
