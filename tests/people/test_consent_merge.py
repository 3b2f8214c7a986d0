"""Consents (cross-organisation visibility), households, duplicate decisions and merges."""

from __future__ import annotations

import pytest

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.models import AuditEvent
from jigi.people.models import (
    Consent,
    DuplicateCandidate,
    Household,
    HouseholdMember,
    Membership,
    Person,
)
from jigi.people.selectors import (
    consents_visible,
    duplicates_open_for_user,
    get_person_for_user,
    memberships_visible,
    person_duplicates_for_user,
    person_identity_ids,
    person_search_for_user,
    person_visible_sections,
)
from jigi.people.services import (
    consent_grant,
    consent_withdraw,
    duplicate_dismiss,
    duplicate_flag,
    household_create,
    household_member_add,
    membership_add,
    person_merge,
)
from tests.people.factories import register


def _grant(world, person, org, scope, user="teller_a"):
    return consent_grant(acting_user=world.users[user], person=person, granted_to=org,
                         scope=scope, purpose="Adhésion à la mutuelle")


def test_utm_sees_a_kondo_member_only_with_identity_consent(world):
    p = register(world, first_name="Rokia", last_name="Doumbia")
    utm = world.users["mutual_manager"]
    with pytest.raises(NotFound):
        get_person_for_user(utm, p.pk)
    assert person_search_for_user(utm, "rokia") == []
    c = _grant(world, p, world.orgs.utm, "identity")
    assert get_person_for_user(utm, p.pk) == p
    assert person_search_for_user(utm, "rokia") == [p]
    # Identity only: Kondo's membership stays hidden from UTM.
    assert person_visible_sections(utm, p) == {"identity"}
    assert memberships_visible(utm, p) == []
    # Withdrawn: access stops at once.
    consent_withdraw(acting_user=world.users["teller_a"], consent=c)
    with pytest.raises(NotFound):
        get_person_for_user(utm, p.pk)
    assert person_search_for_user(utm, "rokia") == []
    ev = AuditEvent.objects.get(event_type="consent.withdrawn")
    assert ev.before == {"withdrawn_at": None}
    assert ev.after["withdrawn_at"]


def test_savings_consent_shows_kondo_membership_to_utm(world):
    p = register(world)
    _grant(world, p, world.orgs.utm, "identity")
    savings = _grant(world, p, world.orgs.utm, "savings")
    utm = world.users["mutual_manager"]
    assert person_visible_sections(utm, p) == {"identity", "savings"}
    assert [m.organisation.code for m in memberships_visible(utm, p)] == ["KONDO"]
    consent_withdraw(acting_user=world.users["teller_a"], consent=savings)
    assert person_visible_sections(utm, p) == {"identity"}
    assert memberships_visible(utm, p) == []


def test_own_sections_follow_the_organisation_and_health_the_role(world):
    p = register(world)
    assert person_visible_sections(world.users["teller_a"], p) == {
        "identity", "savings", "credit"}
    assert person_visible_sections(world.users["auditor"], p) == {
        "identity", "savings", "credit"}
    membership_add(acting_user=world.users["admin"], person=p, unit=world.mutual_1)
    # UTM's own health data: for its health roles.
    assert person_visible_sections(world.users["clinic"], p) == {"identity", "health"}
    assert person_visible_sections(world.users["mutual_manager"], p) == {"identity", "health"}
    # Kondo sees no health data without the person's consent, and sees it with it.
    assert "health" not in person_visible_sections(world.users["teller_a"], p)
    _grant(world, p, world.orgs.kondo, "health")
    assert "health" in person_visible_sections(world.users["teller_a"], p)
    assert person_visible_sections(world.users["admin"], p) == {
        "identity", "savings", "credit", "health", "movement"}


def test_consent_needs_purpose_and_known_scope(world):
    p = register(world)
    with pytest.raises(ApplicationError) as exc:
        consent_grant(acting_user=world.users["teller_a"], person=p, granted_to=world.orgs.utm,
                      scope="everything", purpose=" ")
    assert set(exc.value.fields) == {"scope", "purpose"}
    assert exc.value.status_code == 422
    _grant(world, p, world.orgs.utm, "identity")
    with pytest.raises(ApplicationError) as exc:
        _grant(world, p, world.orgs.utm, "identity")
    assert exc.value.code == "already_given"
    assert Consent.objects.count() == 1


def test_only_staff_serving_the_person_record_consents(world):
    p = register(world)
    with pytest.raises(NotFound):
        _grant(world, p, world.orgs.utm, "identity", user="teller_b")
    with pytest.raises(ApplicationError) as exc:
        _grant(world, p, world.orgs.utm, "identity", user="auditor")
    assert exc.value.status_code == 403
    c = _grant(world, p, world.orgs.utm, "identity")
    # UTM sees the person now, but cannot give itself more.
    with pytest.raises(ApplicationError) as exc:
        _grant(world, p, world.orgs.utm, "savings", user="mutual_manager")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError):
        consent_withdraw(acting_user=world.users["auditor"], consent=c)
    with pytest.raises(NotFound):
        consent_withdraw(acting_user=world.users["teller_b"], consent=c)
    c.refresh_from_db()
    assert c.withdrawn_at is None
    assert Consent.objects.count() == 1


def test_other_organisations_consents_are_not_shown(world):
    p = register(world)
    _grant(world, p, world.orgs.utm, "identity")
    _grant(world, p, world.orgs.mtc, "identity")
    assert {c.granted_to.code for c in consents_visible(world.users["teller_a"], p)} == {
        "UTM", "MTC"}
    assert [c.granted_to.code for c in consents_visible(world.users["mutual_manager"], p)] == [
        "UTM"]


def test_polygamous_household(world):
    head = register(world, first_name="Bakary", last_name="Coulibaly", sex="M", birth_year=1960)
    w1 = register(world, first_name="Awa", last_name="Diallo", birth_year=1970)
    teller = world.users["teller_a"]
    hh = household_create(acting_user=teller, head=head)
    assert hh.name == "Famille Coulibaly"
    household_member_add(acting_user=teller, household=hh, person=w1, relation="spouse")
    # The second wife registers straight into the household.
    w2 = register(world, first_name="Hawa", last_name="Sow", birth_year=1980, household=hh,
                  relation="spouse")
    assert HouseholdMember.objects.filter(household=hh, relation="spouse").count() == 2
    assert HouseholdMember.objects.get(household=hh, person=w2).relation == "spouse"
    with pytest.raises(ApplicationError) as exc:
        household_member_add(acting_user=teller, household=hh, person=w1, relation="head")
    assert exc.value.code == "household_has_head"
    with pytest.raises(ApplicationError) as exc:
        household_member_add(acting_user=teller, household=hh, person=w1, relation="spouse")
    assert exc.value.code == "already_in_household"


def test_household_of_another_caisse_is_not_reachable(world):
    head = register(world, first_name="Bakary", last_name="Coulibaly", sex="M", birth_year=1960)
    hh = household_create(acting_user=world.users["teller_a"], head=head)
    other = register(world, first_name="Sali", last_name="Koné", cercle="Koutiala",
                     unit=world.caisse_b, user="teller_b")
    with pytest.raises(NotFound):
        household_member_add(acting_user=world.users["teller_b"], household=hh, person=other,
                             relation="spouse")
    with pytest.raises(NotFound):
        register(world, first_name="Nana", cercle="Koutiala", unit=world.caisse_b,
                 user="teller_b", household=hh, relation="child")
    with pytest.raises(NotFound):
        household_create(acting_user=world.users["teller_b"], head=head)
    assert HouseholdMember.objects.count() == 1
    assert Household.objects.count() == 1


def _pair(world):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988, nina="ML777",
                 phone="")
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988, phone="66 12 34 56",
                 confirm_not_duplicate=True)
    return a, b


def test_merge_keeps_history_and_moves_memberships(world):
    a, b = _pair(world)
    m_utm = membership_add(acting_user=world.users["admin"], person=b, unit=world.mutual_1)
    hh = household_create(acting_user=world.users["teller_a"], head=b)
    consent = _grant(world, b, world.orgs.utm, "identity")
    b_kondo = b.memberships.get(organisation=world.orgs.kondo)
    kept = person_merge(acting_user=world.users["manager_a"], survivor=a, merged=b,
                        reason="Même personne, deux cartes")
    b.refresh_from_db()
    assert b.merged_into == kept == a
    assert Person.objects.filter(pk=b.pk).exists()  # never deleted
    memberships = {m.number: m.status for m in Membership.objects.filter(person=a)}
    # One person, one Kondo membership: the second card is ended, never deleted.
    assert memberships == {"C001-000001": "active", b_kondo.number: "ended",
                           m_utm.number: "active"}
    assert HouseholdMember.objects.get(household=hh).person == a
    consent.refresh_from_db()
    assert consent.person == a
    a.refresh_from_db()
    assert (a.phone, a.nina) == ("+22366123456", "ML777")  # phone taken from b
    assert DuplicateCandidate.objects.get(person=b).status == "merged"
    ev = AuditEvent.objects.get(event_type="person.merged", subject_id=str(a.pk))
    assert (ev.before["phone"], ev.after["phone"]) == ("", "+22366123456")
    assert (ev.after["merged"], ev.after["reason"]) == (b.pk, "Même personne, deux cartes")
    assert AuditEvent.objects.filter(event_type="person.merged_away",
                                     subject_id=str(b.pk)).exists()
    # The merged record now leads to the survivor; it no longer shows in searches.
    assert get_person_for_user(world.users["teller_a"], b.pk) == a
    assert person_search_for_user(world.users["teller_a"], "sira") == [a]
    assert person_identity_ids(a) == [a.pk, b.pk]
    assert list(duplicates_open_for_user(world.users["manager_a"])) == []
    with pytest.raises(ApplicationError) as exc:
        person_merge(acting_user=world.users["manager_a"], survivor=a, merged=b, reason="x")
    assert exc.value.code == "invalid"  # b leads to a: the same record twice


def test_merge_needs_a_flagged_pair_and_a_manager(world):
    a, b = _pair(world)
    c = register(world, first_name="Nafi", last_name="Sylla", birth_year=1970)
    before = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as exc:
        person_merge(acting_user=world.users["teller_a"], survivor=a, merged=b, reason="x")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        person_merge(acting_user=world.users["manager_a"], survivor=a, merged=c, reason="x")
    assert exc.value.code == "not_a_duplicate_pair"
    with pytest.raises(ApplicationError) as exc:
        person_merge(acting_user=world.users["manager_a"], survivor=a, merged=b, reason=" ")
    assert list(exc.value.fields) == ["reason"]
    assert Person.objects.filter(merged_into__isnull=False).count() == 0
    assert AuditEvent.objects.count() == before
    # A manager who finds a pair later flags it, then merges.
    flagged = duplicate_flag(acting_user=world.users["manager_a"], person=c, other=a,
                             reason="Même NINA sur la carte papier")
    assert flagged.status == "confirmed"
    person_merge(acting_user=world.users["manager_a"], survivor=a, merged=c, reason="Vu la carte")
    c.refresh_from_db()
    assert c.merged_into == a
    # b's pair with a is still open and now involves the survivor.
    assert [d.other for d in person_duplicates_for_user(world.users["manager_a"], a).pairs] == [a]


def test_open_pairs_of_the_merged_record_move_to_the_survivor(world):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988,
                 confirm_not_duplicate=True)  # pair (b, a)
    c = register(world, first_name="Sira", last_name="Konatè", birth_year=1989,
                 confirm_not_duplicate=True)  # pairs (c, a) and (c, b)
    person_merge(acting_user=world.users["manager_a"], survivor=a, merged=b, reason="Même carte")
    pairs = {(d.person_id, d.other_id, d.status) for d in DuplicateCandidate.objects.all()}
    # (c, b) could not move onto (c, a), which exists already: it stays with the old record.
    assert pairs == {(b.pk, a.pk, "merged"), (c.pk, a.pk, "open"), (c.pk, b.pk, "open")}
    person_merge(acting_user=world.users["manager_a"], survivor=a, merged=c, reason="Même carte")
    assert person_identity_ids(a) == [a.pk, b.pk, c.pk]


def test_merge_refused_across_caisses_for_a_teller(world):
    a = register(world, first_name="Sira", last_name="Konaté", birth_year=1988)
    b = register(world, first_name="Sira", last_name="Konate", birth_year=1988, cercle="Koutiala",
                 village="Molobala", unit=world.caisse_b, user="teller_b")
    with pytest.raises(NotFound):
        person_merge(acting_user=world.users["teller_a"], survivor=a, merged=b, reason="x")
    with pytest.raises(NotFound):
        person_merge(acting_user=world.users["manager_a"], survivor=a, merged=b, reason="x")
    # The auditor sees both but changes nothing.
    with pytest.raises(ApplicationError) as exc:
        duplicate_flag(acting_user=world.users["auditor"], person=a, other=b, reason="x")
    assert exc.value.status_code == 403
    assert Person.objects.filter(merged_into__isnull=False).count() == 0
    assert DuplicateCandidate.objects.count() == 0


def test_manager_dismisses_a_pair(world):
    a, b = _pair(world)
    pair = DuplicateCandidate.objects.get()
    with pytest.raises(ApplicationError) as exc:
        duplicate_dismiss(acting_user=world.users["teller_a"], candidate=pair)
    assert exc.value.status_code == 403
    done = duplicate_dismiss(acting_user=world.users["manager_a"], candidate=pair)
    assert (done.status, done.decided_by) == ("dismissed", world.users["manager_a"])
    with pytest.raises(ApplicationError) as exc:
        duplicate_dismiss(acting_user=world.users["manager_a"], candidate=pair)
    assert exc.value.code == "already_decided"
    with pytest.raises(ApplicationError) as exc:
        person_merge(acting_user=world.users["manager_a"], survivor=a, merged=b, reason="x")
    assert exc.value.code == "not_a_duplicate_pair"
    assert AuditEvent.objects.filter(event_type="duplicate.dismissed").count() == 1
