"""Cash control: drawers opened from the vault, counted by denomination at closing, differences
to suspense and flagged; the caisse day does not close while a drawer is open."""

from __future__ import annotations

import pytest

from jigi.core.errors import ApplicationError
from jigi.savings.models import CaisseDay, DrawerSession
from jigi.savings.services import (
    caisse_day_close,
    caisse_day_open,
    clean_count,
    drawer_close,
    drawer_difference_acknowledge,
    drawer_open,
    savings_deposit,
    savings_withdraw,
)
from tests.savings.conftest import TODAY, balances


def test_opening_takes_cash_from_the_vault_and_opens_the_day(world, counter):
    day = CaisseDay.objects.get(caisse=world.caisse_a, business_date=TODAY)
    assert (day.opened_by, day.is_closed) == (world.users["teller_a"], False)
    assert counter.drawer.opening_amount == 500_000
    assert balances(world)["101"] == -500_000
    with pytest.raises(ApplicationError) as exc:
        drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a, amount=1,
                    on=TODAY)
    assert exc.value.code == "drawer_open"
    with pytest.raises(ApplicationError) as exc:
        drawer_open(acting_user=world.users["teller_b"], caisse=world.caisse_a, amount=1,
                    on=TODAY)
    assert exc.value.status_code == 404
    with pytest.raises(ApplicationError) as exc:
        drawer_open(acting_user=world.users["manager_a"], caisse=world.caisse_a, amount="-5",
                    on=TODAY)
    assert "amount" in exc.value.fields


def test_close_with_a_shortage_goes_to_suspense_and_is_flagged(world, counter):
    teller = world.users["teller_a"]
    savings_deposit(acting_user=teller, account=counter.account, amount=15_000, on=TODAY)
    savings_withdraw(acting_user=teller, account=counter.account, amount=2_500, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        caisse_day_close(acting_user=world.users["manager_a"], caisse=world.caisse_a, on=TODAY)
    assert exc.value.code == "drawers_open"
    assert "teller_a" in str(exc.value.message)
    # Expected 511,000 + 15,000 - 2,500 = 523,500; counted 523,000: 500 short.
    d = drawer_close(acting_user=teller, drawer=counter.drawer,
                     count={"10000": 52, "2000": 1, "1000": 1, "500": "0"})
    assert (d.expected, d.counted_amount, d.difference, d.flagged) == (523_500, 523_000, -500,
                                                                       True)
    assert d.count_detail == {"10000": 52, "2000": 1, "1000": 1}
    bal = balances(world)
    assert bal["371"] == 500  # suspense: the shortage waits for the manager's decision
    assert "102" not in bal  # the drawer is empty in the books
    assert bal["101"] == -500_000 + 523_000
    day = caisse_day_close(acting_user=world.users["manager_a"], caisse=world.caisse_a, on=TODAY)
    assert day.is_closed
    with pytest.raises(ApplicationError) as exc:
        drawer_open(acting_user=teller, caisse=world.caisse_a, amount=1_000, on=TODAY)
    assert exc.value.code == "day_closed"
    with pytest.raises(ApplicationError) as exc:
        caisse_day_close(acting_user=world.users["manager_a"], caisse=world.caisse_a, on=TODAY)
    assert exc.value.code == "day_closed"


def test_close_with_a_surplus_and_the_managers_acknowledgement(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    d = drawer_close(acting_user=teller, drawer=counter.drawer,
                     count={"10000": 51, "1000": 1, "25": 4})  # 511,100: 100 over
    assert d.difference == 100
    assert balances(world)["371"] == -100
    with pytest.raises(ApplicationError) as exc:
        drawer_difference_acknowledge(acting_user=teller, drawer=d, note="vu")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        drawer_difference_acknowledge(acting_user=manager, drawer=d, note=" ")
    assert "note" in exc.value.fields
    done = drawer_difference_acknowledge(acting_user=manager, drawer=d,
                                         note="Monnaie rendue en trop par un membre")
    assert done.acknowledged_by == manager
    with pytest.raises(ApplicationError) as exc:
        drawer_difference_acknowledge(acting_user=manager, drawer=d, note="encore")
    assert exc.value.code == "not_flagged"


def test_exact_count_is_not_flagged(world, counter):
    d = drawer_close(acting_user=world.users["teller_a"], drawer=counter.drawer,
                     count={"10000": 51, "1000": 1})
    assert (d.difference, d.flagged) == (0, False)
    assert "371" not in balances(world)


def test_a_drawer_with_pending_operations_cannot_close(world, counter):
    op = savings_deposit(acting_user=world.users["teller_a"], account=counter.account,
                         amount=800_000, on=TODAY)
    assert op.pending
    with pytest.raises(ApplicationError) as exc:
        drawer_close(acting_user=world.users["teller_a"], drawer=counter.drawer,
                     count={"10000": 51, "1000": 1})
    assert exc.value.code == "pending_operations"
    assert DrawerSession.objects.get(pk=counter.drawer.pk).status == "open"


def test_only_the_teller_or_a_manager_closes_a_drawer(world, counter):
    with pytest.raises(ApplicationError) as exc:
        drawer_close(acting_user=world.users["teller_b"], drawer=counter.drawer, count={})
    assert exc.value.status_code == 404
    with pytest.raises(ApplicationError) as exc:
        drawer_close(acting_user=world.users["loan_officer_a"], drawer=counter.drawer,
                     count={})
    assert exc.value.status_code == 403
    d = drawer_close(acting_user=world.users["manager_a"], drawer=counter.drawer,
                     count={"10000": 51, "1000": 1})
    assert d.closed_by == world.users["manager_a"]
    with pytest.raises(ApplicationError) as exc:
        drawer_close(acting_user=world.users["manager_a"], drawer=counter.drawer, count={})
    assert exc.value.code == "drawer_closed"


@pytest.mark.parametrize(("count", "bad"), [
    ({"3000": 1}, "3000"), ({"1000": -1}, "1000"), ({"1000": 1.5}, "1000"),
    ({"1000": "deux"}, "1000"), ({"billet": 1}, "billet"), ({"1000": True}, "1000"),
    ({"1000": 10**8}, "1000"),
])
def test_count_refuses_unknown_denominations_and_bad_numbers(count, bad):
    with pytest.raises(ApplicationError) as exc:
        clean_count(count)
    assert list(exc.value.fields) == [bad]


def test_count_knows_every_xof_note_and_coin():
    notes_and_coins = {"10000": 1, "5000": 1, "2000": 1, "1000": 1, "500": 2, "250": 1,
                       "200": 1, "100": 1, "50": 1, "25": 1, "10": 1, "5": 1}
    total, detail = clean_count(notes_and_coins)
    assert total == 10000 + 5000 + 2000 + 1000 + 1000 + 250 + 200 + 100 + 50 + 25 + 10 + 5
    assert clean_count({"10000": "3", "5": ""}) == (30_000, {"10000": 3})
    assert detail["500"] == 2


def test_day_open_by_a_manager_and_not_by_a_teller(world, counter):
    with pytest.raises(ApplicationError) as exc:
        caisse_day_open(acting_user=world.users["teller_b"], caisse=world.caisse_b)
    assert exc.value.status_code == 403
    from datetime import date

    day = caisse_day_open(acting_user=world.users["manager_a"], caisse=world.caisse_a,
                          on=date(2026, 11, 21))
    assert day.opened_by == world.users["manager_a"]
