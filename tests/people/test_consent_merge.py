from __future__ import annotations

import pytest

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.models import AuditEvent
from jigi.people.models import DuplicateCandidate, Household, HouseholdMember, Membership, Person
from jigi.people.selectors import (
    get_person_for_user,
    memberships_visible,
    person_search_for_user,
    person_visible_sections,
)
from jigi.people.services import (
    consent_grant,
    consent_withdraw,
    household_create,
    household_member_add,
    membership_add,
    person_merge,
)
from tests.people.factories import register


def test_utm_sees_a_kondo_member_only_with_identity_consent(world):
    p = register(world, first_name="Rokia", last_name="Doumbia")
    utm = world.users["mutual_manager"]
    with pytest.raises(NotFound):
        get_person_for_user(utm, p.pk)
    c = consent_grant(acting_user=world.users["teller_a"], person=p, granted_to=world.orgs.utm,
                      scope="identity", purpose="Adhésion à la mutuelle")
    assert get_person_for_user(utm, p.pk) == p
    assert person_search_for_user(utm, "rokia") == [p]
    # Identity only: Kondo's membership stays hidden from UTM.
    assert person_visible_sections(utm, p) == {"identity"}
    assert memberships_visible(utm, p) == []
    consent_withdraw(acting_user=world.users["teller_a"], consent=c)
    with pytest.raises(NotFound):
        get_person_for_user(utm, p.pk)


def test_savings_consent_shows_kondo_membership_to_utm(world):
    p = register(world)
    for scope in ("identity", "savings"):
        consent_grant(acting_user=world.users["teller_a"], person=p, granted_to=world.orgs.utm,
                      scope=scope, purpose="Cotisation par virement d'épargne")
    utm = world.users["mutual_manager"]
    assert person_visible_sections(utm, p) == {"identity", "savings"}
    assert [m.organisation.code for m in memberships_visible(utm, p)] == ["KONDO"]


def test_health_data_needs_a_health_role_even_with_consent(world):
    p = register(world)
    consent_grant(acting_user=world.users["teller_a"], person=p, granted_to=world.orgs.kondo,
                  scope="health", purpose="test")
    assert "health" not in person_visible_sections(world.users["teller_a"], p)


def test_consent_needs_purpose_and_known_scope(world):
    p = register(world)
    with pytest.raises(ApplicationError) as exc:
        consent_grant(acting_user=world.users["teller_a"], person=p, granted_to=world.orgs.utm,
                      scope="everything", purpose=" ")
    assert set(exc.value.fields) == {"scope", "purpose"}


def test_other_caisse_teller_cannot_record_consent(world):
    p = register(world)
    with pytest.raises(NotFound):
        consent_grant(acting_user=world.users["teller_b"], person=p, granted_to=world.orgs.utm,
                      scope="identity", purpose="x")


def test_polygamous_household(world):
    head = register(world, first_name="Bakary", last_name="Coulibaly", sex="M", birth_year=1960)
    w1 = register(world, first_name="Awa", last_name="Diallo", birth_year=1970)
    w2 = register(world, first_name="Hawa", last_name="Sow", birth_year=1980)
    hh = household_create(acting_user=world.users["teller_a"], head=head)
    household_member_add(acting_user=world.users["teller_a"], household=hh, person=w1,
                         relation="spouse")
    household_member_add(acting_user=world.users["teller_a"], household=hh, person=w2,
                         relation="spouse")
    assert HouseholdMember.objects.filter(household=hh, relation="spouse").count() == 2
    with pytest.raises(ApplicationError):
        household_member_add(acting_user=world.users["teller_a"], household=hh, person=w1,
                             relation="head")


def test_merge_keeps_history_and_moves_memberships(world):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988, phone="66 12 34 56",
                 confirm_not_duplicate=True)
    membership_add(acting_user=world.users["admin"], person=b, unit=world.mutual_1)
    hh = household_create(acting_user=world.users["teller_a"], head=b)
    kept = person_merge(acting_user=world.users["teller_a"], survivor=a, merged=b,
                        reason="Même personne, deux cartes")
    b.refresh_from_db()
    assert b.merged_into == kept == a
    assert Person.objects.filter(pk=b.pk).exists()  # never deleted
    assert set(Membership.objects.filter(person=a).values_list("unit__code", flat=True)) == {
        "C001", "M01"}
    assert HouseholdMember.objects.get(household=hh).person == a
    assert DuplicateCandidate.objects.get(person=b).status == "merged"
    assert AuditEvent.objects.filter(event_type="person.merged", subject_id=str(a.pk)).exists()
    # The merged record now leads to the survivor; it no longer shows in searches.
    assert get_person_for_user(world.users["teller_a"], b.pk) == a
    assert person_search_for_user(world.users["teller_a"], "sira") == [a]
    assert Household.objects.count() == 1


def test_merge_refused_across_caisses_for_a_teller(world):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988, cercle="Koutiala",
                 village="Molobala", unit=world.caisse_b, user="teller_b")
    with pytest.raises(NotFound):
        person_merge(acting_user=world.users["teller_a"], survivor=a, merged=b, reason="x")
    assert Person.objects.filter(merged_into__isnull=False).count() == 0
