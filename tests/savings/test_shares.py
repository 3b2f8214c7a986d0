"""Member shares: the minimum makes a member, the entry fee is paid once, capital is 57."""

from __future__ import annotations

import pytest

from jigi.core.errors import ApplicationError
from jigi.savings.models import ShareAccount, ShareProduct
from jigi.savings.selectors import open_drawer_of
from jigi.savings.services import (
    drawer_close,
    drawer_open,
    is_kondo_member,
    share_purchase,
    share_redeem,
)
from tests.people.factories import register
from tests.savings.conftest import TODAY, balances


def test_first_purchase_must_reach_the_minimum_and_pays_the_fee_once(world, counter):
    teller = world.users["teller_a"]
    person = register(world, first_name="Aminata", last_name="Diallo")
    with pytest.raises(ApplicationError) as exc:
        share_purchase(acting_user=teller, person=person, caisse=world.caisse_a, shares=1,
                       on=TODAY)
    assert exc.value.code == "too_few_shares"
    assert not is_kondo_member(person, counter.share)
    op = share_purchase(acting_user=teller, person=person, caisse=world.caisse_a, shares=2,
                        on=TODAY)
    assert op.receipt.amount == 11_000  # 2 x 5,000 + 1,000 entry fee
    assert (op.transaction.amount, op.transaction.entry_fee) == (10_000, 1_000)
    assert is_kondo_member(person, counter.share)
    assert balances(world)["57"] == 20_000  # with the fixture's member
    assert balances(world)["7029"] == 2_000
    share_purchase(acting_user=teller, person=person, caisse=world.caisse_a, shares=1,
                   on=TODAY)
    assert balances(world)["7029"] == 2_000  # the fee is paid once
    assert ShareAccount.objects.get(person=person).shares == 3


def test_maximum_per_member_and_bad_numbers(world, counter):
    teller = world.users["teller_a"]
    with pytest.raises(ApplicationError) as exc:
        share_purchase(acting_user=teller, person=counter.person, caisse=world.caisse_a,
                       shares=199, on=TODAY)
    assert exc.value.code == "too_many_shares"
    for bad in (0, -1, "deux", 1.5, True, None, 10**6):
        with pytest.raises(ApplicationError) as exc:
            share_purchase(acting_user=teller, person=counter.person, caisse=world.caisse_a,
                           shares=bad, on=TODAY)
        assert "shares" in exc.value.fields
    assert ShareAccount.objects.get(person=counter.person).shares == 2


def test_a_person_registered_elsewhere_or_nowhere_cannot_buy(world, counter):
    from jigi.people.models import Membership

    person = register(world, first_name="Issa", last_name="Coulibaly", birth_year=1950)
    Membership.objects.filter(person=person).update(status="ended")
    with pytest.raises(ApplicationError) as exc:
        share_purchase(acting_user=world.users["teller_a"], person=person,
                       caisse=world.caisse_a, shares=2, on=TODAY)
    assert "person_id" in exc.value.fields


def test_redemption_only_on_exit_unless_the_assembly_allowed_it(world, counter):
    teller, manager = world.users["teller_a"], world.users["manager_a"]
    acc = ShareAccount.objects.get(person=counter.person)
    share_purchase(acting_user=teller, person=counter.person, caisse=world.caisse_a, shares=2,
                   on=TODAY)
    drawer_open(acting_user=manager, caisse=world.caisse_a, amount=50_000, on=TODAY)
    with pytest.raises(ApplicationError) as exc:
        share_redeem(acting_user=manager, account=acc, shares=1, member_exit=False)
    assert exc.value.code == "redemption_not_allowed"
    with pytest.raises(ApplicationError) as exc:
        share_redeem(acting_user=teller, account=acc, shares=1, member_exit=True)
    assert exc.value.status_code == 403
    ShareProduct.objects.filter(pk=counter.share.pk).update(redemption_allowed=True)
    with pytest.raises(ApplicationError) as exc:
        share_redeem(acting_user=manager, account=acc, shares=3, member_exit=False)
    assert "shares" in exc.value.fields  # would leave fewer than the minimum
    share_redeem(acting_user=manager, account=acc, shares=2, member_exit=False, on=TODAY)
    op = share_redeem(acting_user=manager, account=acc, shares=2, member_exit=True,
                      reason="Départ du village", on=TODAY)
    assert op.account.shares == 0
    assert op.receipt.amount == 10_000
    assert not is_kondo_member(counter.person, counter.share)
    assert "57" not in balances(world)
    # The manager's drawer paid out 20,000 F of its 50,000 F.
    mine = open_drawer_of(manager)
    assert mine.expected == 30_000
    assert drawer_close(acting_user=manager, drawer=mine, count={"10000": 3}).difference == 0


def test_a_training_participant_becomes_a_member_by_her_shares(world, counter):
    """Someone registered at a literacy session holds a pending membership: buying the
    minimum of shares makes her a member (active at this caisse, same number); a purchase
    refused for too few shares leaves her pending."""
    from jigi.core.models import AuditEvent
    from jigi.people.models import Membership, MembershipStatus

    teller = world.users["teller_a"]
    person = register(world, first_name="Kadiatou", last_name="Traoré",
                      membership_status=MembershipStatus.PENDING)
    pending = Membership.objects.get(person=person)
    assert pending.status == MembershipStatus.PENDING
    with pytest.raises(ApplicationError):
        share_purchase(acting_user=teller, person=person, caisse=world.caisse_a, shares=1,
                       on=TODAY)
    assert Membership.objects.get(pk=pending.pk).status == MembershipStatus.PENDING
    share_purchase(acting_user=teller, person=person, caisse=world.caisse_a, shares=2, on=TODAY)
    member = Membership.objects.get(person=person)
    assert (member.pk, member.number, member.status, member.unit_id, member.start_date) == (
        pending.pk, pending.number, MembershipStatus.ACTIVE, world.caisse_a.pk, TODAY)
    assert AuditEvent.objects.filter(event_type="membership.status",
                                     subject_id=str(pending.pk)).exists()
    assert is_kondo_member(person, counter.share)
