"""Each automatic check end to end: a claim entered (or bulk-inserted, for what entry refuses)
is adjudicated and its lines carry the coded reason, the claim the right status, and the
ceilings used (BenefitUsage) only what may be paid."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jigi.core.errors import Forbidden, NotFound
from jigi.health.models import (
    BenefitRule,
    BenefitUsage,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    Provider,
    SuspensionPeriod,
)
from jigi.health.services.claims import LineIn, claim_submit, claims_adjudicate
from jigi.people.models import Person
from tests.health.conftest import make_coverage, make_family


def submit(health, *lines, ben=None, days_ago=3, user="clinic", provider=None, **extra):
    return claim_submit(
        acting_user=health.users[user], card_number=(ben or health.head).card_number,
        provider_id=(provider or health.provider).pk,
        care_date=health.today - timedelta(days=days_ago),
        lines=list(lines) or [LineIn("CONS", 1, 1_500)], **extra)


def reasons(claim):
    return [line.reasons for line in claim.lines.order_by("line_no")]


def usage(ben, group):
    row = BenefitUsage.objects.filter(beneficiary=ben, group=group).first()
    return row.amount if row else 0


def test_waiting_period_not_over(health, world):
    family = make_family(world, spouses=0, children=0)
    recent = make_coverage(world, family, package=health.package,
                           enrolled_on=health.today - timedelta(days=30),
                           paid_through=health.today)
    claim = submit(health, ben=recent.beneficiaries[0])

    assert claim.status == ClaimStatus.REJECTED
    assert reasons(claim) == [["WAITING_PERIOD"]]
    assert (claim.mutual_share, claim.copay) == (0, 0)
    assert claim.decided_at is not None


def test_suspended_for_arrears(health):
    SuspensionPeriod.objects.create(coverage=health.coverage,
                                    start=health.today - timedelta(days=20))
    claim = submit(health)

    assert claim.status == ClaimStatus.REJECTED
    assert reasons(claim) == [["SUSPENDED_ARREARS"]]


def test_care_after_a_lapse_waits_the_lapse_period(health):
    # Suspended for arrears 60 to 20 days ago, reinstated 19 days ago with the package's 30
    # days of waiting after a lapse (the rows the contributions service writes).
    resumed = health.today - timedelta(days=19)
    SuspensionPeriod.objects.create(coverage=health.coverage,
                                    start=health.today - timedelta(days=60),
                                    end=resumed - timedelta(days=1), reason="arrears")
    SuspensionPeriod.objects.create(coverage=health.coverage, start=resumed,
                                    end=resumed + timedelta(days=29), reason="waiting")
    during_stage = submit(health, days_ago=5)
    during_arrears = submit(health, LineIn("GE", 1, 1_000), days_ago=30, ben=health.spouses[0])
    before = submit(health, days_ago=70)

    assert reasons(during_stage) == [["WAITING_PERIOD"]]
    assert reasons(during_arrears) == [["SUSPENDED_ARREARS"]]
    assert before.status == ClaimStatus.VALUED


def test_a_wife_added_later_waits_from_the_day_she_was_added(health, world):
    from jigi.health.services import beneficiary_add
    from tests.people.factories import register

    wife = register(world, unit=world.mutual_1, user="mutual_manager", first_name="Rokia",
                    last_name="Sidibé", sex="F", birth_year=1996)
    added = beneficiary_add(acting_user=health.users["mutual_manager"],
                            coverage=health.coverage, person=wife, relation="spouse",
                            on=health.today - timedelta(days=30))
    baby = register(world, unit=world.mutual_1, user="mutual_manager", first_name="Awa",
                    last_name="Traoré", sex="F", birth_year=health.today.year,
                    birth_date=health.today - timedelta(days=40))
    newborn = beneficiary_add(acting_user=health.users["mutual_manager"],
                              coverage=health.coverage, person=baby, relation="child",
                              on=health.today - timedelta(days=30))

    waiting = submit(health, LineIn("CPN", 1, 1_000), ben=added, days_ago=2)
    covered = submit(health, LineIn("CONS", 1, 1_500), ben=newborn, days_ago=2)

    assert reasons(waiting) == [["WAITING_PERIOD"]]
    assert covered.status == ClaimStatus.VALUED


def test_a_child_past_the_age_limit_is_no_longer_covered(health):
    child = health.children[0]
    Person.objects.filter(pk=child.person_id).update(birth_year=health.today.year - 19,
                                                     birth_date=None)
    claim = submit(health, ben=child)

    assert reasons(claim) == [["NOT_COVERED_ON_DATE"]]


def test_not_covered_after_the_coverage_ended(health):
    health.coverage.ended_on = health.today - timedelta(days=10)
    health.coverage.status = "ended"
    health.coverage.save()
    claim = submit(health, days_ago=5)

    assert reasons(claim) == [["NOT_COVERED_ON_DATE"]]


def test_provider_without_convention(health):
    other = Provider.objects.create(organisation=health.world.orgs.utm, code="CSREF-4",
                                    name="CSRef Commune IV", kind="csref")
    other.staff.add(health.users["clinic"])
    claim = submit(health, provider=other)

    assert claim.status == ClaimStatus.REJECTED
    assert reasons(claim) == [["NO_CONVENTION"]]
    assert claim.lines.get().tariff_item is None


def test_item_not_in_the_tariff(health):
    claim = submit(health, LineIn("CONS", 1, 1_500), LineIn("IRM", 1, 90_000))

    assert claim.status == ClaimStatus.VALUED
    assert reasons(claim) == [[], ["UNKNOWN_ITEM"]]
    assert claim.mutual_share == 900


def test_service_not_in_the_package(health):
    BenefitRule.objects.filter(package=health.package, group="surgery").delete()
    claim = submit(health, LineIn("HERN", 1, 50_000))

    assert reasons(claim) == [["NOT_IN_PACKAGE"]]
    assert claim.status == ClaimStatus.REJECTED


def test_excluded_item(health):
    health.package.exclusions = ["AMOX"]
    health.package.save()
    claim = submit(health, LineIn("AMOX", 10, 50), LineIn("PARA", 10, 25))

    assert reasons(claim) == [["EXCLUDED"], []]
    assert claim.mutual_share == 150


def test_age_limit_and_unknown_age(health):
    BenefitRule.objects.filter(package=health.package, group="antenatal").update(min_age=15)
    child = health.children[-1]  # about 6 years old
    too_young = submit(health, LineIn("CPN", 1, 1_000), ben=child)
    Person.objects.filter(pk=health.spouses[0].person_id).update(birth_year=None,
                                                                 birth_date=None)
    unknown = submit(health, LineIn("CPN", 1, 1_000), ben=health.spouses[0])

    assert reasons(too_young) == [["AGE_LIMIT"]]
    assert unknown.status == ClaimStatus.REVIEW
    assert reasons(unknown) == [["AGE_UNKNOWN"]]


def test_duplicate_of_an_earlier_claim_and_within_a_batch(health):
    first = submit(health)
    again = submit(health)
    # Two sheets for the same care entered before the batch runs: the later one is refused.
    spouse = health.spouses[0]
    a = submit(health, LineIn("GE", 1, 1_000), ben=spouse, adjudicate=False)
    b = submit(health, LineIn("GE", 1, 1_000), ben=spouse, adjudicate=False)
    run = claims_adjudicate(acting_user=health.users["claims_officer"],
                            mutual=health.world.mutual_1)
    a.refresh_from_db()
    b.refresh_from_db()

    assert first.status == ClaimStatus.VALUED
    assert reasons(again) == [["DUPLICATE"]]
    assert (a.status, b.status) == (ClaimStatus.VALUED, ClaimStatus.REJECTED)
    assert reasons(b) == [["DUPLICATE"]]
    assert run.claims == 2
    assert run.by_status == {"valued": 1, "rejected": 1}


def test_price_above_the_tariff_is_reduced_and_far_above_is_flagged(health):
    above = submit(health, LineIn("CONS", 1, 1_800))
    far = submit(health, LineIn("GE", 1, 3_000), ben=health.spouses[0])

    assert above.status == ClaimStatus.VALUED
    assert reasons(above) == [["PRICE_ABOVE_TARIFF"]]
    assert (above.claimed, above.allowed, above.mutual_share, above.copay) == (
        1_800, 1_500, 900, 600)
    line = far.lines.get()
    assert far.status == ClaimStatus.REVIEW
    assert (line.status, line.reasons) == ("flagged", ["PRICE_FAR_ABOVE_TARIFF"])
    # Provisionally valued at the tariff, and counted against the yearly ceiling meanwhile.
    assert (line.allowed, line.mutual_share) == (1_000, 600)
    assert usage(health.spouses[0], "lab") == 600


def test_quantity_limit(health):
    claim = submit(health, LineIn("PARA", 40, 25))

    line = claim.lines.get()
    assert line.reasons == ["QUANTITY_LIMIT"]
    assert (line.allowed_quantity, line.allowed, line.mutual_share) == (30, 750, 450)


def test_ceiling_per_event(health):
    BenefitRule.objects.filter(package=health.package, group="consultation").update(
        ceiling_per_event=500)
    claim = submit(health)

    line = claim.lines.get()
    assert line.reasons == ["CEILING_EVENT"]
    assert (line.allowed, line.mutual_share, line.copay) == (1_500, 500, 1_000)


def test_ceiling_per_year_then_refused_when_used_up(health):
    BenefitRule.objects.filter(package=health.package, group="lab").update(
        ceiling_per_year=1_000)
    first = submit(health, LineIn("NFS", 1, 2_500), days_ago=10)
    second = submit(health, LineIn("GE", 1, 1_000), days_ago=2)

    assert reasons(first) == [["CEILING_YEAR"]]
    assert first.mutual_share == 1_000
    assert second.status == ClaimStatus.REJECTED
    assert reasons(second) == [["CEILING_YEAR"]]
    assert usage(health.head, "lab") == 1_000


def test_zero_price_is_a_bad_price(health):
    claim = submit(health, LineIn("CONS", 1, 0))

    assert reasons(claim) == [["BAD_PRICE"]]


def _bulk_claim(health, *, ben, care_date, lines, mutual=None, diagnosis="", number="X1"):
    claim = Claim.objects.create(
        organisation=health.world.orgs.utm, mutual=mutual or health.world.mutual_1,
        beneficiary=ben, provider=health.provider, number=number, care_date=care_date,
        diagnosis=diagnosis)
    ClaimLine.objects.bulk_create([
        ClaimLine(claim=claim, line_no=i, item_code=c, quantity=q, unit_price=p, claimed=q * p)
        for i, (c, q, p) in enumerate(lines, start=1)])
    return claim


def test_what_entry_refuses_is_still_checked_in_the_batch(health):
    """Claims loaded in bulk (an import from a provider's software) skip the entry checks:
    the batch rejects or flags them with their codes."""
    future = _bulk_claim(health, ben=health.head, care_date=health.today + timedelta(days=2),
                         lines=[("CONS", 1, 1_500)], number="X1")
    other_mutual = _bulk_claim(health, ben=health.other_beneficiary,
                               care_date=health.today - timedelta(days=1),
                               lines=[("CONS", 1, 1_500)], number="X2")
    empty = _bulk_claim(health, ben=health.spouses[1], care_date=health.today, lines=[],
                        number="X3")
    negative = _bulk_claim(health, ben=health.children[0], care_date=health.today,
                           lines=[("PARA", -3, 25)], number="X4")
    bad_icd = _bulk_claim(health, ben=health.children[1], care_date=health.today,
                          lines=[("CONS", 1, 1_500)], diagnosis="12345", number="X5")

    run = claims_adjudicate(acting_user=health.users["mutual_manager"],
                            mutual=health.world.mutual_1)

    found = {c.number: c for c in Claim.objects.all()}
    assert reasons(found["X1"]) == [["FUTURE_DATE"]]
    assert reasons(found["X2"]) == [["NOT_A_BENEFICIARY"]]
    assert found["X3"].status == ClaimStatus.REJECTED
    assert ClaimEvent.objects.get(claim=empty, to_status="rejected").note == "EMPTY_CLAIM"
    assert reasons(found["X4"]) == [["BAD_QUANTITY"]]
    assert found["X5"].status == ClaimStatus.REVIEW
    assert reasons(found["X5"]) == [["DIAGNOSIS_INVALID"]]
    assert run.claims == 5
    assert {future.pk, other_mutual.pk, negative.pk, bad_icd.pk} <= set(found[n].pk for n in found)


def test_batch_adjudication_needs_mutual_staff(health):
    with pytest.raises(Forbidden):
        claims_adjudicate(acting_user=health.users["clinic"], mutual=health.world.mutual_1)
    with pytest.raises(NotFound):
        claims_adjudicate(acting_user=health.users["teller_a"], mutual=health.world.mutual_1)
    with pytest.raises(NotFound):
        claims_adjudicate(acting_user=health.users["claims_officer"],
                          mutual=health.world.mutual_2)


def test_batch_values_only_care_up_to_the_date_given(health):
    old = submit(health, days_ago=20, adjudicate=False)
    recent = submit(health, LineIn("GE", 1, 1_000), days_ago=1, adjudicate=False)

    run = claims_adjudicate(acting_user=health.users["claims_officer"],
                            mutual=health.world.mutual_1,
                            through=health.today - timedelta(days=10))
    old.refresh_from_db()
    recent.refresh_from_db()

    assert run.claims == 1
    assert (old.status, recent.status) == (ClaimStatus.VALUED, ClaimStatus.ENTERED)


def test_the_mutual_s_own_convention_replaces_the_union_tariff(health):
    from jigi.health.models import Convention, TariffItem

    own = Convention.objects.create(provider=health.provider, mutual=health.world.mutual_1,
                                    reference="M01-2026", valid_from=date(2026, 1, 1))
    TariffItem.objects.create(convention=own, code="CONS", label="Consultation (M01)",
                              group="consultation", price=2_000, max_quantity=1)
    claim = submit(health, LineIn("CONS", 1, 2_000), LineIn("PARA", 10, 25))

    cons, para = claim.lines.order_by("line_no")
    assert cons.tariff_item.convention == own
    assert (cons.allowed, cons.reasons) == (2_000, [])
    # As the clinic's eligibility check and selectors.tariff_for read it: the mutual's own
    # convention is the whole tariff while in force.
    assert para.reasons == ["UNKNOWN_ITEM"]
