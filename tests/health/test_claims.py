"""Claim entry: who may enter what, field-level refusals with nothing written, numbering,
idempotency, and the valuation of a clean claim on submission."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jigi.core.errors import ApplicationError, Conflict, Forbidden
from jigi.core.models import AuditEvent
from jigi.health.models import BenefitUsage, Claim, ClaimEvent, ClaimLine, ClaimStatus
from jigi.health.services.claims import LineIn, claim_submit


def submit(health, user="clinic", *, card=None, lines=None, days_ago=3, **extra):
    h = health
    return claim_submit(
        acting_user=h.users[user], card_number=card or h.head.card_number,
        provider_id=h.provider.pk, care_date=h.today - timedelta(days=days_ago),
        lines=lines if lines is not None else [LineIn("CONS", 1, 1_500), LineIn("PARA", 10, 25)],
        **extra)


def nothing_written():
    return (Claim.objects.count(), ClaimLine.objects.count(), ClaimEvent.objects.count(),
            AuditEvent.objects.filter(event_type__startswith="health.claim").count()) == (
        0, 0, 0, 0)


def test_clinic_staff_enter_a_claim_valued_at_once(health):
    claim = submit(health, diagnosis="b54")

    assert claim.status == ClaimStatus.VALUED
    assert claim.number == "FS2026-000001"
    assert claim.diagnosis == "B54"
    assert (claim.claimed, claim.allowed, claim.mutual_share, claim.copay) == (
        1_750, 1_750, 1_050, 700)
    cons, para = claim.lines.order_by("line_no")
    assert (cons.status, cons.group, cons.tariff_item_id) == (
        "accepted", "consultation", health.tariff["CONS"].pk)
    assert (para.allowed_quantity, para.allowed_unit_price, para.mutual_share, para.copay) == (
        10, 25, 150, 100)
    events = list(claim.events.order_by("pk").values_list("from_status", "to_status"))
    assert events == [("", "entered"), ("entered", "valued")]
    assert BenefitUsage.objects.get(beneficiary=health.head, group="drugs").amount == 150


def test_numbers_follow_each_other_per_organisation(health):
    first = submit(health)
    second = submit(health, card=health.other_beneficiary.card_number, user="union_admin")

    assert (first.number, second.number) == ("FS2026-000001", "FS2026-000002")
    assert first.mutual_id != second.mutual_id


def test_mutual_staff_enter_claims_for_any_provider(health):
    claim = submit(health, user="claims_officer")

    assert claim.entered_by == health.users["claims_officer"]
    assert claim.status == ClaimStatus.VALUED


@pytest.mark.parametrize(("change", "field"), [
    ({"card": "M01-999999-9"}, "card_number"),
    ({"days_ago": -1}, "care_date"),
    ({"lines": [LineIn("CONS", -1, 1_500)]}, "lines.0.quantity"),
    ({"lines": [LineIn("CONS", 0, 1_500)]}, "lines.0.quantity"),
    ({"lines": [LineIn("CONS", 1, 1_500.0)]}, "lines.0.unit_price"),
    ({"lines": [LineIn("CONS", 1, -5)]}, "lines.0.unit_price"),
    ({"lines": [LineIn("", 1, 1_500)]}, "lines.0.item_code"),
    ({"lines": []}, "lines"),
    ({"diagnosis": "paludisme"}, "diagnosis"),
    ({"days_ago": 250}, "care_date"),  # before the family's enrolment
])
def test_bad_input_is_refused_field_by_field_with_nothing_written(health, change, field):
    lines = change.pop("lines", None)
    with pytest.raises(ApplicationError) as exc:
        submit(health, lines=lines, **change)

    assert exc.value.status_code == 422
    assert field in exc.value.fields
    assert nothing_written()


def test_a_card_of_a_mutual_the_officer_does_not_serve_is_unknown(health):
    with pytest.raises(ApplicationError) as exc:
        submit(health, user="claims_officer", card=health.other_beneficiary.card_number)

    assert "card_number" in exc.value.fields
    assert nothing_written()


def test_clinic_staff_of_another_provider_cannot_enter_for_this_one(health):
    with pytest.raises(Forbidden) as exc:
        submit(health, user="clinic_2")

    assert exc.value.code == "not_provider_staff"
    assert nothing_written()


@pytest.mark.parametrize("user", ["teller_a", "organiser"])
def test_kondo_and_mtc_staff_cannot_enter_claims(health, user):
    with pytest.raises(Forbidden):
        submit(health, user=user)

    assert nothing_written()


def test_same_key_same_claim_returns_the_first_claim(health):
    first = submit(health, idempotency_key="sheet-1")
    again = submit(health, idempotency_key="sheet-1")

    assert again.pk == first.pk
    assert Claim.objects.count() == 1
    assert BenefitUsage.objects.get(beneficiary=health.head, group="drugs").amount == 150


def test_same_key_for_another_claim_is_a_conflict(health):
    submit(health, idempotency_key="sheet-1")

    with pytest.raises(Conflict):
        submit(health, idempotency_key="sheet-1", lines=[LineIn("CONS", 1, 1_000)])

    assert Claim.objects.count() == 1


def test_entered_without_adjudication_waits_for_the_batch(health):
    claim = submit(health, adjudicate=False)

    assert claim.status == ClaimStatus.ENTERED
    assert (claim.claimed, claim.mutual_share) == (1_750, 0)
    assert not BenefitUsage.objects.exists()
