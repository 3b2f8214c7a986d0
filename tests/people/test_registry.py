from __future__ import annotations

import pytest
from django.utils import translation

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.models import AuditEvent
from jigi.people.models import DuplicateCandidate, Membership, Person
from jigi.people.phones import PhoneError, normalize_mali_phone
from jigi.people.selectors import get_person_for_user, person_search_for_user
from jigi.people.services import PossibleDuplicates, person_register
from tests.people.factories import register


@pytest.mark.parametrize("raw", ["76 12 34 56", "+223 76 12 34 56", "0022376123456", "76123456"])
def test_mali_phone_formats_normalise_to_e164(raw):
    assert normalize_mali_phone(raw) == "+22376123456"


@pytest.mark.parametrize("raw", ["", "1234", "12345678", "+33612345678", "7612345", "abc"])
def test_non_mali_or_invalid_phones_are_refused(raw):
    with pytest.raises(PhoneError):
        normalize_mali_phone(raw)


def test_register_creates_person_membership_and_audit(world):
    p = register(world, first_name="Fatoumata", last_name="Traoré", phone="76 00 00 01")
    assert p.phone == "+22376000001"
    assert p.search_name == "fatoumata traore"
    m = Membership.objects.get(person=p)
    assert m.unit == world.caisse_a
    assert m.number == "C001-000001"
    ev = AuditEvent.objects.get(event_type="person.registered", subject_id=str(p.pk))
    assert ev.actor == world.users["teller_a"]
    assert ev.after["membership"] == "C001-000001"


def test_member_numbers_are_gapless_per_organisation(world):
    a = register(world, first_name="Awa", last_name="Coulibaly", birth_year=1980)
    b = register(world, first_name="Moussa", last_name="Sangaré", sex="M", birth_year=1975,
                 unit=world.caisse_b, user="teller_b")
    assert a.memberships.get().number == "C001-000001"
    assert b.memberships.get().number == "C002-000002"


def test_invalid_fields_are_all_reported_and_nothing_written(world):
    before = (Person.objects.count(), Membership.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ApplicationError) as exc:
        register(world, first_name="", sex="X", phone="12", birth_year=None)
    assert set(exc.value.fields) == {"first_name", "sex", "phone", "birth_year"}
    assert exc.value.status_code == 422
    assert (Person.objects.count(), Membership.objects.count(), AuditEvent.objects.count()) == before


def test_same_phone_is_a_duplicate_candidate(world):
    first = register(world, first_name="Mariam", last_name="Keïta", phone="76 11 11 11")
    with pytest.raises(PossibleDuplicates) as exc:
        register(world, first_name="Aminata", last_name="Sissoko", phone="+22376111111",
                 birth_year=2001)
    assert [m.person.pk for m in exc.value.matches] == [first.pk]
    assert exc.value.matches[0].reasons == ("phone",)
    assert Person.objects.count() == 1


def test_near_same_name_birth_year_and_place_is_a_candidate(world):
    first = register(world, first_name="Fatoumata", last_name="Traoré", birth_year=1985)
    with pytest.raises(PossibleDuplicates) as exc:
        register(world, first_name="Fatoumata", last_name="Traore", birth_year=1986)
    assert exc.value.matches[0].person == first
    assert "name_birth_place" in exc.value.matches[0].reasons


def test_other_person_with_close_name_elsewhere_is_not_a_candidate(world):
    register(world, first_name="Fatoumata", last_name="Traoré", birth_year=1985)
    # Same name, but born twenty years later and in another cercle: a different woman.
    p = register(world, first_name="Fatoumata", last_name="Traoré", birth_year=2005,
                 cercle="Koutiala", village="Molobala", unit=world.caisse_b, user="teller_b")
    assert not DuplicateCandidate.objects.filter(person=p).exists()
    # A different first name in the same family and village is not a duplicate either.
    q = register(world, first_name="Bakary", last_name="Traoré", sex="M", birth_year=1985)
    assert not DuplicateCandidate.objects.filter(person=q).exists()


def test_same_nina_cannot_be_confirmed_away(world):
    register(world, nina="1234567890ABC")
    with pytest.raises(PossibleDuplicates):
        register(world, first_name="Kadiatou", last_name="Dembélé", nina="1234567890abc",
                 confirm_not_duplicate=True)
    assert Person.objects.count() == 1


def test_confirmed_registration_records_the_candidates(world):
    first = register(world, first_name="Oumou", last_name="Sidibé", birth_year=1990)
    second = register(world, first_name="Oumou", last_name="Sidibe", birth_year=1991,
                      confirm_not_duplicate=True)
    cand = DuplicateCandidate.objects.get(person=second)
    assert cand.other == first
    assert cand.status == "open"


def test_teller_cannot_register_in_another_caisse(world):
    with pytest.raises(ApplicationError) as exc:
        register(world, unit=world.caisse_b, user="teller_a")
    assert exc.value.status_code == 404
    assert Person.objects.count() == 0


def test_auditor_cannot_register(world):
    with pytest.raises(ApplicationError):
        register(world, user="auditor")
    assert Person.objects.count() == 0


def test_search_is_scoped_and_accent_insensitive(world):
    a = register(world, first_name="Aïssata", last_name="Keïta")
    register(world, first_name="Aissata", last_name="Kone", unit=world.caisse_b, user="teller_b",
             cercle="Koutiala")
    assert person_search_for_user(world.users["teller_a"], "aissata") == [a]
    assert person_search_for_user(world.users["teller_a"], "KEITA") == [a]
    assert person_search_for_user(world.users["teller_a"], a.phone) == [a]
    assert len(person_search_for_user(world.users["auditor"], "aissata")) == 2
    assert person_search_for_user(world.users["mutual_manager"], "aissata") == []


def test_get_person_of_another_caisse_is_not_found(world):
    p = register(world)
    with pytest.raises(NotFound):
        get_person_for_user(world.users["teller_b"], p.pk)
    with pytest.raises(NotFound):
        get_person_for_user(world.users["organiser"], p.pk)
    assert get_person_for_user(world.users["auditor"], p.pk) == p


def test_error_messages_follow_the_language(world):
    with pytest.raises(ApplicationError) as exc:
        person_register(acting_user=world.users["teller_a"], unit=world.caisse_a,
                        first_name="A", last_name="B", sex="F", birth_year=1990, phone="12")
    # Messages are lazy: each reader gets them in the language active when rendering.
    with translation.override("en"):
        assert str(exc.value.fields["phone"]) == "Enter a Mali number: +223 and 8 digits."
    with translation.override("fr"):
        assert str(exc.value.fields["phone"]) == "Saisissez un numéro malien : +223 et 8 chiffres."
