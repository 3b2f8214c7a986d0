"""Payment batches to providers: gathering approved claims, approval (601/401), payment
(401/57 or 52), cancellation by reversal; balanced books, refusals, other mutuals' claims."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.health.models import Claim, ClaimStatus, PaymentBatch
from jigi.health.services.batches import (
    batch_approve,
    batch_cancel,
    batch_pay,
    batch_prepare,
)
from jigi.health.services.claims import LineIn, claim_approve, claim_submit
from jigi.ledger.models import Book, JournalEntry
from jigi.ledger.selectors import ledger_verify, trial_balance, unbalanced_entries


def approved(health, *lines, ben=None, user="mutual_manager", days_ago=3):
    claim = claim_submit(acting_user=health.users["clinic"],
                         card_number=(ben or health.head).card_number,
                         provider_id=health.provider.pk,
                         care_date=health.today - timedelta(days=days_ago),
                         lines=list(lines) or [LineIn("CONS", 1, 1_500)])
    return claim_approve(acting_user=health.users[user], claim=claim)


def book(mutual):
    return Book.objects.get(unit=mutual)


def balances(mutual) -> dict[str, int]:
    return {r.code: r.balance for r in trial_balance(book(mutual)).rows}


def moved(mutual, before: dict[str, int]) -> dict[str, int]:
    """What the batch operations changed (the family's contributions are in the book too)."""
    after = balances(mutual)
    return {code: after.get(code, 0) - before.get(code, 0) for code in set(after) | set(before)
            if after.get(code, 0) != before.get(code, 0)}


def assert_books_sound(mutual):
    b = book(mutual)
    assert ledger_verify(b) == []
    assert unbalanced_entries(b) == []
    tb = trial_balance(b)
    assert tb.total_debit == tb.total_credit


@pytest.fixture
def two_claims(health):
    a = approved(health, LineIn("CONS", 1, 1_500), LineIn("PARA", 10, 25))  # 1,050 F
    b = approved(health, LineIn("HOSP", 3, 2_500), ben=health.spouses[0])  # 5,625 F
    return a, b


def test_prepare_approve_pay_posts_the_care_paid_and_settles_the_provider(health, two_claims):
    manager = health.users["mutual_manager"]
    start = balances(health.world.mutual_1)
    batch = batch_prepare(acting_user=health.users["claims_officer"],
                          mutual=health.world.mutual_1, provider=health.provider)

    assert (batch.status, batch.total, batch.number) == ("open", 6_675, "LP2026-0001")
    assert set(Claim.objects.filter(batch=batch).values_list("pk", flat=True)) == {
        c.pk for c in two_claims}
    assert moved(health.world.mutual_1, start) == {}  # preparing posts nothing

    batch = batch_approve(acting_user=manager, batch=batch)
    assert batch.status == "approved"
    assert moved(health.world.mutual_1, start) == {"401": 6_675, "601": 6_675}
    lines = set(batch.approval_entry.lines.values_list("account__code", "side", "amount",
                                                       "subledger"))
    assert lines == {("601", "D", 6_675, "CSCOM-HAM"), ("401", "C", 6_675, "CSCOM-HAM")}

    batch = batch_pay(acting_user=manager, batch=batch, paid_from="52")
    assert (batch.status, batch.paid_on, batch.paid_from) == ("paid", health.today, "52")
    assert moved(health.world.mutual_1, start) == {"601": 6_675, "52": -6_675}
    for claim in two_claims:
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PAID
        assert claim.events.order_by("pk").last().to_status == "paid"
    assert_books_sound(health.world.mutual_1)


def test_only_claims_approved_up_to_the_date_and_of_that_provider(health, time_machine,
                                                                  two_claims):
    time_machine.move_to("2026-11-25 09:00:00+00:00", tick=False)
    later = approved(health, LineIn("GE", 1, 1_000), ben=health.children[0], days_ago=1)

    early = batch_prepare(acting_user=health.users["mutual_manager"],
                          mutual=health.world.mutual_1, provider=health.provider,
                          through=health.today)

    assert early.total == 6_675
    later.refresh_from_db()
    assert later.batch is None


def test_nothing_to_pay(health):
    with pytest.raises(Conflict) as exc:
        batch_prepare(acting_user=health.users["mutual_manager"], mutual=health.world.mutual_1,
                      provider=health.provider)

    assert exc.value.code == "nothing_to_pay"
    assert not PaymentBatch.objects.exists()


def test_a_claim_is_in_one_batch_only(health, two_claims):
    batch_prepare(acting_user=health.users["mutual_manager"], mutual=health.world.mutual_1,
                  provider=health.provider)

    with pytest.raises(Conflict):
        batch_prepare(acting_user=health.users["mutual_manager"],
                      mutual=health.world.mutual_1, provider=health.provider)


def test_another_mutuals_claim_cannot_be_put_in_a_batch(health, two_claims):
    theirs = claim_submit(acting_user=health.users["clinic"],
                          card_number=health.other_beneficiary.card_number,
                          provider_id=health.provider.pk,
                          care_date=health.today - timedelta(days=2),
                          lines=[LineIn("CONS", 1, 1_500)])
    theirs = claim_approve(acting_user=health.users["manager_2"], claim=theirs)

    with pytest.raises(NotFound):
        batch_prepare(acting_user=health.users["mutual_manager"],
                      mutual=health.world.mutual_1, provider=health.provider,
                      claim_ids=[two_claims[0].pk, theirs.pk])
    with pytest.raises(NotFound):
        batch_prepare(acting_user=health.users["mutual_manager"],
                      mutual=health.world.mutual_2, provider=health.provider)

    assert not PaymentBatch.objects.exists()
    theirs.refresh_from_db()
    assert theirs.batch is None


def test_chosen_claims_only(health, two_claims):
    batch = batch_prepare(acting_user=health.users["mutual_manager"],
                          mutual=health.world.mutual_1, provider=health.provider,
                          claim_ids=[two_claims[1].pk])

    assert batch.total == 5_625


def test_who_may_do_what(health, two_claims):
    entries = JournalEntry.objects.filter(book=book(health.world.mutual_1)).count()
    with pytest.raises(Forbidden):
        batch_prepare(acting_user=health.users["clinic"], mutual=health.world.mutual_1,
                      provider=health.provider)
    with pytest.raises(NotFound):
        batch_prepare(acting_user=health.users["teller_a"], mutual=health.world.mutual_1,
                      provider=health.provider)
    batch = batch_prepare(acting_user=health.users["claims_officer"],
                          mutual=health.world.mutual_1, provider=health.provider)
    # Money leaves the mutual on a manager's decision, not a claims officer's.
    with pytest.raises(Forbidden):
        batch_approve(acting_user=health.users["claims_officer"], batch=batch)
    with pytest.raises(NotFound):
        batch_approve(acting_user=health.users["manager_2"], batch=batch)

    assert JournalEntry.objects.filter(book=book(health.world.mutual_1)).count() == entries


def test_paying_twice_or_before_approval_is_refused(health, two_claims):
    manager = health.users["mutual_manager"]
    start = balances(health.world.mutual_1)
    batch = batch_prepare(acting_user=manager, mutual=health.world.mutual_1,
                          provider=health.provider)
    with pytest.raises(Conflict):
        batch_pay(acting_user=manager, batch=batch)
    batch = batch_pay(acting_user=manager, batch=batch_approve(acting_user=manager,
                                                               batch=batch))
    with pytest.raises(Conflict):
        batch_pay(acting_user=manager, batch=batch)

    assert moved(health.world.mutual_1, start) == {"601": 6_675, "57": -6_675}


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"paid_from": "101"}, "paid_from"),
    ({"on": "2026-11-20"}, "value_date"),
])
def test_bad_payment_input(health, two_claims, kwargs, field):
    manager = health.users["mutual_manager"]
    batch = batch_approve(acting_user=manager, batch=batch_prepare(
        acting_user=manager, mutual=health.world.mutual_1, provider=health.provider))

    with pytest.raises(ApplicationError) as exc:
        batch_pay(acting_user=manager, batch=batch, **kwargs)

    assert field in exc.value.fields
    batch.refresh_from_db()
    assert batch.status == "approved"


def test_cancel_an_approved_batch_reverses_its_entry_and_frees_the_claims(health, two_claims):
    manager = health.users["mutual_manager"]
    start = balances(health.world.mutual_1)
    batch = batch_approve(acting_user=manager, batch=batch_prepare(
        acting_user=manager, mutual=health.world.mutual_1, provider=health.provider))

    with pytest.raises(ApplicationError):
        batch_cancel(acting_user=manager, batch=batch, reason="  ")
    batch = batch_cancel(acting_user=manager, batch=batch, reason="Montant contesté")

    assert batch.status == "cancelled"
    assert moved(health.world.mutual_1, start) == {}
    reversal = JournalEntry.objects.get(reversal_of=batch.approval_entry)
    assert reversal.book == book(health.world.mutual_1)
    for claim in two_claims:
        claim.refresh_from_db()
        assert (claim.status, claim.batch) == (ClaimStatus.APPROVED, None)
    again = batch_prepare(acting_user=manager, mutual=health.world.mutual_1,
                          provider=health.provider)
    assert (again.total, again.number) == (6_675, "LP2026-0002")
    assert_books_sound(health.world.mutual_1)


def test_a_paid_batch_cannot_be_cancelled(health, two_claims):
    manager = health.users["mutual_manager"]
    start = balances(health.world.mutual_1)
    batch = batch_pay(acting_user=manager, batch=batch_approve(
        acting_user=manager, batch=batch_prepare(acting_user=manager,
                                                 mutual=health.world.mutual_1,
                                                 provider=health.provider)))

    with pytest.raises(Conflict):
        batch_cancel(acting_user=manager, batch=batch, reason="erreur")

    assert moved(health.world.mutual_1, start)["601"] == 6_675
