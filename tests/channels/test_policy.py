"""The opt-in rule and the forward-only status, as properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jigi.channels import policy

STATUSES = ["queued", "sent", "delivered", "failed", "cancelled"]
REPORTED = ["sent", "delivered", "failed"]


@given(st.sampled_from(STATUSES), st.lists(st.sampled_from(REPORTED), max_size=8))
def test_a_status_never_moves_back_and_a_final_one_never_changes(start, reports):
    status = start
    for r in reports:
        new = policy.next_status(status, r)
        assert policy.RANK[new] >= policy.RANK[status]
        if status in policy.FINAL:
            assert new == status
        status = new


@given(st.lists(st.sampled_from(["sent", "sent", "delivered"]), min_size=1, max_size=8),
       st.randoms())
def test_order_and_duplicates_do_not_matter_without_conflicting_finals(reports, rnd):
    def fold(seq):
        status = "sent"
        for r in seq:
            status = policy.next_status(status, r)
        return status

    shuffled = list(reports)
    rnd.shuffle(shuffled)
    assert fold(reports) == fold(shuffled) == fold(reports + reports)


def test_opt_in_rule():
    assert policy.needs_opt_in("instalment_reminder")
    assert policy.needs_opt_in("deposit_receipt")
    assert not policy.needs_opt_in("petition_code")
    assert not policy.needs_opt_in("case_alert")
    assert not policy.needs_opt_in("movement_case_urgent")
    assert not policy.needs_opt_in("staff_cash_alert")
    assert not policy.needs_opt_in("campaign_message", has_person=False)
    assert policy.may_send("deposit_receipt", has_person=True, opted_in=True)
    assert not policy.may_send("deposit_receipt", has_person=True, opted_in=None)
    assert not policy.may_send("deposit_receipt", has_person=True, opted_in=False)
