"""The review queue (flagged lines decided by a person), rejection, and maker-checker approval;
every status change leaves a ClaimEvent with who, from, to and why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.health.models import BenefitUsage, ClaimStatus
from jigi.health.selectors_claims import review_queue
from jigi.health.services.claims import (
    LineDecision,
    LineIn,
    claim_approve,
    claim_reject,
    claim_review,
    claim_submit,
    claims_approve,
    reduced_share,
)


def submit(health, *lines, ben=None, user="clinic", days_ago=3):
    return claim_submit(acting_user=health.users[user],
                        card_number=(ben or health.head).card_number,
                        provider_id=health.provider.pk,
                        care_date=health.today - timedelta(days=days_ago),
                        lines=list(lines))


@pytest.fixture
def flagged(health):
    """Consultation at tariff, and a blood count claimed at 6,000 F for a 2,500 F tariff
    (flagged: far above the tariff)."""
    return submit(health, LineIn("CONS", 1, 1_500), LineIn("NFS", 1, 6_000))


def lab_used(health):
    row = BenefitUsage.objects.filter(beneficiary=health.head, group="lab").first()
    return row.amount if row else 0


def history(claim):
    return list(claim.events.order_by("pk").values_list("from_status", "to_status", "by__username"))


def test_flagged_claims_wait_in_the_review_queue_with_their_reasons(health, flagged):
    queue = list(review_queue(health.users["claims_officer"], mutual=health.world.mutual_1))

    assert [c.pk for c in queue] == [flagged.pk]
    lines = list(queue[0].lines.all())
    assert [(x.status, x.reasons) for x in lines] == [
        ("accepted", []), ("flagged", ["PRICE_FAR_ABOVE_TARIFF"])]
    # Provisionally at the tariff: 2,500 F, 60 % = 1,500 F counted against the lab ceiling.
    assert (lines[1].allowed, lines[1].mutual_share) == (2_500, 1_500)
    assert lab_used(health) == 1_500


def test_accept_at_tariff_makes_the_claim_valued(health, flagged):
    claim = claim_review(acting_user=health.users["claims_officer"], claim=flagged,
                         decisions=[LineDecision(2, "accept")])

    assert claim.status == ClaimStatus.VALUED
    assert (claim.allowed, claim.mutual_share, claim.copay) == (4_000, 2_400, 1_600)
    assert claim.lines.get(line_no=2).status == "reduced"  # paid at the tariff, not as claimed
    assert history(claim)[-1] == ("review", "valued", "claims_officer")


def test_reduce_gives_back_the_ceiling_it_no_longer_uses(health, flagged):
    claim = claim_review(
        acting_user=health.users["claims_officer"], claim=flagged,
        decisions=[{"line_no": 2, "action": "reduce", "reason": "PRICE_NOT_JUSTIFIED",
                    "unit_price": 2_000}])

    line = claim.lines.get(line_no=2)
    assert (line.status, line.allowed_unit_price, line.allowed, line.mutual_share,
            line.copay) == ("reduced", 2_000, 2_000, 1_200, 800)
    assert line.reasons == ["PRICE_FAR_ABOVE_TARIFF", "PRICE_NOT_JUSTIFIED"]
    assert lab_used(health) == 1_200
    assert claim.mutual_share == 900 + 1_200


def test_reject_every_line_rejects_the_claim(health):
    claim = submit(health, LineIn("NFS", 1, 9_000))
    done = claim_review(acting_user=health.users["mutual_manager"], claim=claim,
                        decisions=[LineDecision(1, "reject", "SUSPECTED_FRAUD")])

    assert done.status == ClaimStatus.REJECTED
    assert (done.allowed, done.mutual_share) == (0, 0)
    assert done.decided_by == health.users["mutual_manager"]
    assert lab_used(health) == 0
    assert "1:reject:SUSPECTED_FRAUD" in done.events.order_by("pk").last().note


@pytest.mark.parametrize(("decisions", "field"), [
    ([], "decisions"),
    ([LineDecision(1, "accept")], "decisions.0.line_no"),  # line 1 is not flagged
    ([LineDecision(2, "approve")], "decisions.0.action"),
    ([LineDecision(2, "reject")], "decisions.0.reason"),
    ([LineDecision(2, "reject", "BECAUSE")], "decisions.0.reason"),
    ([LineDecision(2, "reduce", "QUANTITY_NOT_JUSTIFIED", quantity=3)], "decisions.0.quantity"),
    ([LineDecision(2, "reduce", "QUANTITY_NOT_JUSTIFIED", quantity=1)], "decisions.0.quantity"),
    ([LineDecision(2, "reduce", "PRICE_NOT_JUSTIFIED", unit_price=4_000)],
     "decisions.0.unit_price"),
    ([LineDecision(2, "reduce", "OTHER", unit_price=2_000)], "note"),
    ([LineDecision(2, "accept"), LineDecision(2, "reject", "OTHER")], "decisions.1.line_no"),
])
def test_bad_decisions_are_refused_and_change_nothing(health, flagged, decisions, field):
    with pytest.raises(ApplicationError) as exc:
        claim_review(acting_user=health.users["claims_officer"], claim=flagged,
                     decisions=decisions)

    assert exc.value.status_code == 422
    assert field in exc.value.fields
    flagged.refresh_from_db()
    assert flagged.status == ClaimStatus.REVIEW
    assert lab_used(health) == 1_500


def test_clinic_staff_never_review_nor_approve(health, flagged):
    with pytest.raises(Forbidden):
        claim_review(acting_user=health.users["clinic"], claim=flagged,
                     decisions=[LineDecision(2, "accept")])
    valued = submit(health, LineIn("CONS", 1, 1_500), ben=health.spouses[0],
                    user="claims_officer")
    with pytest.raises(Forbidden):
        claim_approve(acting_user=health.users["clinic"], claim=valued)


def test_another_mutual_manager_does_not_find_the_claim(health, flagged):
    with pytest.raises(NotFound):
        claim_review(acting_user=health.users["manager_2"], claim=flagged,
                     decisions=[LineDecision(2, "accept")])
    with pytest.raises(NotFound):
        claim_reject(acting_user=health.users["teller_a"], claim=flagged, reason="OTHER",
                     note="x")


def test_approval_by_someone_else_than_the_maker(health):
    claim = submit(health, LineIn("CONS", 1, 1_500), user="claims_officer")

    with pytest.raises(Forbidden) as exc:
        claim_approve(acting_user=health.users["claims_officer"], claim=claim)
    assert exc.value.code == "maker_checker"

    approved = claim_approve(acting_user=health.users["mutual_manager"], claim=claim)
    assert approved.status == ClaimStatus.APPROVED
    assert approved.decided_by == health.users["mutual_manager"]
    assert history(approved) == [("", "entered", "claims_officer"),
                                 ("entered", "valued", "claims_officer"),
                                 ("valued", "approved", "mutual_manager")]


def test_only_valued_claims_are_approved(health, flagged):
    with pytest.raises(Conflict):
        claim_approve(acting_user=health.users["mutual_manager"], claim=flagged)

    flagged.refresh_from_db()
    assert flagged.status == ClaimStatus.REVIEW


def test_approve_several_at_once_is_all_or_nothing(health, flagged):
    ok = submit(health, LineIn("CONS", 1, 1_500), ben=health.spouses[0])

    with pytest.raises(Conflict):
        claims_approve(acting_user=health.users["mutual_manager"],
                       mutual=health.world.mutual_1, claim_ids=[ok.pk, flagged.pk])
    ok.refresh_from_db()
    assert ok.status == ClaimStatus.VALUED

    done = claims_approve(acting_user=health.users["mutual_manager"],
                          mutual=health.world.mutual_1, claim_ids=[ok.pk])
    assert [c.status for c in done] == [ClaimStatus.APPROVED]


def test_reject_a_valued_claim_releases_its_ceiling(health):
    claim = submit(health, LineIn("GE", 1, 1_000))
    assert lab_used(health) == 600

    done = claim_reject(acting_user=health.users["mutual_manager"], claim=claim,
                        reason="DOCUMENTS_MISSING", note="pas d'ordonnance")

    assert done.status == ClaimStatus.REJECTED
    assert lab_used(health) == 0
    assert done.lines.get().reasons == ["DOCUMENTS_MISSING"]
    assert history(done)[-1] == ("valued", "rejected", "mutual_manager")
    with pytest.raises(Conflict):
        claim_approve(acting_user=health.users["union_admin"], claim=done)


def test_a_rejected_claims_care_can_be_claimed_again(health):
    first = submit(health, LineIn("GE", 1, 1_000))
    claim_reject(acting_user=health.users["mutual_manager"], claim=first,
                 reason="DOCUMENTS_MISSING")

    again = submit(health, LineIn("GE", 1, 1_000))

    assert again.status == ClaimStatus.VALUED
    assert again.lines.get().reasons == []


@given(allowed=st.integers(1, 10**9), share_pct=st.integers(0, 100),
       cut=st.integers(0, 10**9), ceiling=st.integers(0, 10**9))
def test_a_reduction_never_raises_the_share_nor_passes_the_new_amount(allowed, share_pct, cut,
                                                                      ceiling):
    share = min(allowed * share_pct // 100, ceiling)  # as valued, ceilings applied
    after = allowed - cut % allowed

    new = reduced_share(share=share, allowed_before=allowed, allowed_after=after)

    assert 0 <= new <= share
    assert new <= after
    assert reduced_share(share=share, allowed_before=allowed, allowed_after=allowed) == share
