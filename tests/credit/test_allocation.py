"""The pure allocation rules: hand-checked cases and hypothesis properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.credit.allocation import (
    AllocationError,
    Due,
    accrued_interest,
    allocate,
    arrears,
    check_order,
    payoff,
    payoff_allocation,
    penalties_to_charge,
    prepay,
    provision_rate,
)

START = date(2026, 1, 1)


def schedule(n=4, principal=25_000, interest=1_000):
    return [Due(number=i + 1, due_on=START + timedelta(days=30 * (i + 1)), principal=principal,
                interest=interest) for i in range(n)]


def test_default_order_pays_penalties_fees_interest_then_principal():
    dues = [Due(1, START, principal=10_000, interest=1_000, fees=200, penalties=300)]
    a = allocate(dues, 1_400)
    p = a.portions[0]
    assert (p.penalties, p.fees, p.interest, p.principal) == (300, 200, 900, 0)
    assert a.excess == 0


def test_oldest_instalment_first_and_advance_payment():
    dues = schedule()
    a = allocate(dues, 30_000)
    assert [(p.number, p.interest, p.principal) for p in a.portions] == [
        (1, 1_000, 25_000), (2, 1_000, 3_000)]


def test_custom_order_principal_first():
    dues = [Due(1, START, principal=10_000, interest=1_000)]
    a = allocate(dues, 10_000, ("principal", "interest", "fees", "penalties"))
    assert a.portions[0].principal == 10_000
    assert a.portions[0].interest == 0


def test_excess_is_reported():
    a = allocate(schedule(1), 30_000)
    assert a.excess == 4_000
    assert a.total == 26_000


@pytest.mark.parametrize("order", [("principal",), ("interest", "interest", "fees", "x"), ()])
def test_bad_orders_are_refused(order):
    with pytest.raises(AllocationError):
        check_order(order)


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_bad_amounts_are_refused(amount):
    with pytest.raises(AllocationError):
        allocate(schedule(), amount)


def test_accrued_interest_is_linear_and_rounded_down():
    assert accrued_interest(3_000, START, START + timedelta(days=30), START + timedelta(days=10)
                            ) == 1_000
    assert accrued_interest(1_000, START, START + timedelta(days=30), START + timedelta(days=1)
                            ) == 33
    assert accrued_interest(1_000, START, START + timedelta(days=30), START) == 0


def test_payoff_waives_interest_of_periods_not_begun():
    dues = schedule()
    on = START + timedelta(days=45)  # half-way through the second period
    q = payoff(dues, on, START, {1: START, 2: dues[0].due_on, 3: dues[1].due_on,
                                 4: dues[2].due_on})
    assert q.principal == 100_000
    assert q.interest == 1_000 + 500
    assert q.interest_waived == 2_500
    flat = payoff(dues, on, START, recalculate=False)
    assert flat.interest == 4_000
    assert flat.interest_waived == 0


def test_prepayment_shortens_the_term_and_recalculates_interest():
    dues = schedule()
    result = prepay(dues, 26_000 + 25_000, dues[0].due_on)
    # Instalment 1 paid; 25,000 of principal cut from the LAST instalment.
    assert result.new_dues[-1].principal == 0
    assert result.new_dues[-1].interest == 0
    # Later interest shrinks with the balance: 3 periods ran on 75,000, 50,000, 25,000 before;
    # now on 50,000, 25,000, 0.
    assert [d.interest for d in result.new_dues[1:]] == [666, 500, 0]


def test_prepayment_above_the_principal_is_refused():
    with pytest.raises(AllocationError):
        prepay(schedule(), 500_000, START)


def test_arrears_and_tolerance():
    dues = schedule()
    on = dues[1].due_on + timedelta(days=10)
    late = arrears(dues, on)
    assert late.overdue == 52_000
    assert late.days == 40
    assert late.oldest_due_on == dues[0].due_on
    small = [Due(1, START, principal=50, interest=0)]
    assert arrears(small, START + timedelta(days=3), tolerance=100).overdue == 0


def test_penalties_once_after_grace():
    dues = schedule()
    on = dues[0].due_on + timedelta(days=8)
    assert penalties_to_charge(dues, on, percent_x100=200, grace_days=7, already=set()) == {
        1: 520}
    assert penalties_to_charge(dues, on, percent_x100=200, grace_days=7, already={1}) == {}
    assert penalties_to_charge(dues, on, percent_x100=200, grace_days=10, already=set()) == {}


@pytest.mark.parametrize(("days", "expected"), [
    (0, ("sain", 0)), (30, ("0-3", 0)), (120, ("3-6", 40)), (200, ("6-12", 80)),
    (400, ("12-24", 100)), (800, ("24+", 100))])
def test_provisioning_classes_follow_the_rcsfd(days, expected):
    assert provision_rate(days) == expected


# --- properties ---------------------------------------------------------------------------

dues_strategy = st.lists(
    st.tuples(st.integers(0, 200_000), st.integers(0, 20_000), st.integers(0, 2_000),
              st.integers(0, 5_000)), min_size=1, max_size=12).map(
    lambda rows: [Due(i + 1, START + timedelta(days=30 * (i + 1)), *r)
                  for i, r in enumerate(rows)])
orders = st.permutations(["penalties", "fees", "interest", "principal"])


@given(dues_strategy, st.integers(1, 3_000_000), orders)
def test_allocation_never_pays_more_than_owed_and_loses_nothing(dues, amount, order):
    a = allocate(dues, amount, order)
    assert a.total + a.excess == amount
    owed = {d.number: d for d in dues}
    for p in a.portions:
        d = owed[p.number]
        assert 0 <= p.principal <= d.principal
        assert 0 <= p.interest <= d.interest
        assert 0 <= p.fees <= d.fees
        assert 0 <= p.penalties <= d.penalties
    assert a.excess == max(0, amount - sum(d.total for d in dues))


@given(dues_strategy, st.integers(1, 3_000_000))
def test_an_earlier_instalment_is_settled_before_a_later_one_is_touched(dues, amount):
    a = allocate(dues, amount)
    paid = {p.number: p.total for p in a.portions}
    touched = sorted(paid)
    for number in touched[:-1]:
        assert paid[number] == next(d.total for d in dues if d.number == number)


@given(dues_strategy, st.integers(0, 400))
def test_payoff_never_exceeds_the_contract_and_keeps_all_principal(dues, days):
    on = START + timedelta(days=days)
    q = payoff(dues, on, START)
    assert q.principal == sum(d.principal for d in dues)
    assert 0 <= q.interest <= sum(d.interest for d in dues)
    assert q.interest + q.interest_waived == sum(d.interest for d in dues)
    alloc = payoff_allocation(dues, on, START)
    assert alloc.total == q.total


@given(dues_strategy, st.integers(1, 400_000), st.integers(0, 400))
def test_prepayment_keeps_principal_balanced(dues, amount, days):
    on = START + timedelta(days=days)
    due_now = sum(d.total for d in dues if d.due_on <= on)
    later_principal = sum(d.principal for d in dues if d.due_on > on)
    if amount > due_now + later_principal:
        with pytest.raises(AllocationError):
            prepay(dues, amount, on)
        return
    result = prepay(dues, amount, on)
    paid_principal = sum(p.principal for p in result.allocation.portions)
    assert sum(d.principal for d in result.new_dues) == sum(d.principal for d in dues) - \
        paid_principal
    assert all(d.interest >= 0 and d.principal >= 0 for d in result.new_dues)
    assert sum(d.interest for d in result.new_dues) <= sum(d.interest for d in dues)
