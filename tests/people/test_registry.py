"""Registration, duplicate detection, identity updates, memberships and search."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from jigi.core.errors import ApplicationError, NotFound
from jigi.core.models import AuditEvent, Counter
from jigi.people.errors import PossibleDuplicates
from jigi.people.models import DuplicateCandidate, Membership, Person
from jigi.people.names import name_key, search_name
from jigi.people.selectors import (
    duplicates_open_for_user,
    get_person_for_user,
    person_find_duplicates,
    person_search_for_user,
)
from jigi.people.services import (
    consent_grant,
    membership_add,
    membership_end,
    membership_set_status,
    person_register,
    person_update,
)
from tests.people.factories import register


def _written():
    return (Person.objects.count(), Membership.objects.count(), AuditEvent.objects.count(),
            DuplicateCandidate.objects.count(), list(Counter.objects.values_list("value")))


def test_register_creates_person_membership_and_audit(world):
    p = register(world, first_name="Fatoumata", last_name="Traoré", phone="76 00 00 01")
    assert p.phone == "+22376000001"
    assert p.search_name == "fatoumata traore"
    m = Membership.objects.get(person=p)
    assert (m.unit, m.organisation, m.status) == (world.caisse_a, world.orgs.kondo, "active")
    assert m.number == "C001-000001"
    ev = AuditEvent.objects.get(event_type="person.registered", subject_id=str(p.pk))
    assert ev.actor == world.users["teller_a"]
    assert ev.after["membership"] == "C001-000001"
    assert ev.after["phone"] == "+22376000001"


def test_member_numbers_are_gapless_per_organisation(world):
    a = register(world, first_name="Awa", last_name="Coulibaly", birth_year=1980)
    b = register(world, first_name="Moussa", last_name="Sangaré", sex="M", birth_year=1975,
                 unit=world.caisse_b, user="teller_b")
    # A refused registration does not consume a number.
    with pytest.raises(ApplicationError):
        register(world, first_name="", birth_year=1975)
    c = register(world, first_name="Hawa", last_name="Sylla", birth_year=1999)
    u = register(world, first_name="Hawa", last_name="Sylla", birth_year=1999,
                 unit=world.mutual_1, user="mutual_manager", cercle="Commune IV",
                 village="Bagadadji", phone="66 00 00 09")
    assert [x.memberships.get().number for x in (a, b, c)] == [
        "C001-000001", "C002-000002", "C001-000003"]
    assert u.memberships.get().number == "M01-000001"  # UTM counts on its own


def test_birth_date_gives_the_year_and_one_of_them_is_required(world):
    p = register(world, birth_year=None, birth_date=date(1991, 3, 8))
    assert (p.birth_date, p.birth_year) == (date(1991, 3, 8), 1991)
    with pytest.raises(ApplicationError) as exc:
        register(world, first_name="Bintou", birth_year=None)
    assert set(exc.value.fields) == {"birth_year"}


def test_invalid_fields_are_all_reported_and_nothing_written(world):
    before = _written()
    with pytest.raises(ApplicationError) as exc:
        register(world, first_name="", sex="X", phone="12", birth_year=None)
    assert set(exc.value.fields) == {"first_name", "sex", "phone", "birth_year"}
    assert exc.value.status_code == 422
    assert _written() == before


@pytest.mark.parametrize(("field", "value"), [
    ("birth_date", date(2999, 1, 1)),
    ("birth_date", date(1, 1, 1)),
    ("birth_year", 1800),
    ("birth_year", 3000),
    ("birth_year", "1990"),
    ("first_name", "A" * 101),
    ("first_name", "Awa\x00"),
    ("last_name", 12),
    ("nina", "ÉÉÉ123"),
    ("nina", "1" * 21),
    ("literacy", "phd"),
    ("language", "de"),
])
def test_absurd_values_are_refused_per_field(world, field, value):
    before = _written()
    with pytest.raises(ApplicationError) as exc:
        register(world, **{field: value})
    assert exc.value.status_code == 422
    assert list(exc.value.fields) == [field]
    assert _written() == before


def test_same_phone_is_a_duplicate_candidate(world):
    first = register(world, first_name="Mariam", last_name="Keïta", phone="76 11 11 11")
    with pytest.raises(PossibleDuplicates) as exc:
        register(world, first_name="Aminata", last_name="Sissoko", phone="+22376111111",
                 birth_year=2001)
    assert [m.person.pk for m in exc.value.matches] == [first.pk]
    assert exc.value.matches[0].reasons == ("phone",)
    assert exc.value.status_code == 409
    body = exc.value.as_dict()
    assert body["code"] == "possible_duplicates"
    assert body["candidates"][0]["id"] == first.pk
    assert body["candidates"][0]["member_numbers"] == ["KONDO C001-000001"]
    assert Person.objects.count() == 1


@pytest.mark.parametrize(("first", "last", "year"), [
    ("Fatoumata", "Traore", 1986),   # accent dropped
    ("Fatoumata", "TRAORÉ", 1983),   # capitals, two years apart
    ("Fatimata", "Traoré", 1985),    # first-name spelling variant
])
def test_near_same_name_birth_year_and_place_is_a_candidate(world, first, last, year):
    known = register(world, first_name="Fatoumata", last_name="Traoré", birth_year=1985)
    with pytest.raises(PossibleDuplicates) as exc:
        register(world, first_name=first, last_name=last, birth_year=year)
    assert [m.person for m in exc.value.matches] == [known]
    assert exc.value.matches[0].reasons == ("name_birth_place",)


def test_same_village_is_enough_when_the_cercle_is_written_differently(world):
    known = register(world, first_name="Mariam", last_name="Keïta", birth_year=1970,
                     cercle="Niono", village="Siribala")
    with pytest.raises(PossibleDuplicates) as exc:
        register(world, first_name="Mariam", last_name="Keita", birth_year=1971,
                 cercle="", village="SIRIBALA")
    assert [m.person for m in exc.value.matches] == [known]


def test_other_person_with_close_name_elsewhere_is_not_a_candidate(world):
    register(world, first_name="Fatoumata", last_name="Traoré", birth_year=1985)
    # Same name, but born twenty years later and in another cercle: a different woman.
    p = register(world, first_name="Fatoumata", last_name="Traoré", birth_year=2005,
                 cercle="Koutiala", village="Molobala", unit=world.caisse_b, user="teller_b")
    assert not DuplicateCandidate.objects.filter(person=p).exists()
    # Same name and year, other cercle and village: not flagged either.
    q = register(world, first_name="Fatoumata", last_name="Traoré", birth_year=1985,
                 cercle="Kayes", village="Khasso")
    assert not DuplicateCandidate.objects.filter(person=q).exists()
    # A different first name in the same family and village is not a duplicate.
    r = register(world, first_name="Bakary", last_name="Traoré", sex="M", birth_year=1985)
    assert not DuplicateCandidate.objects.filter(person=r).exists()
    # Three years apart is beyond the tolerance.
    s = register(world, first_name="Fatoumata", last_name="Traore", birth_year=1989)
    assert not DuplicateCandidate.objects.filter(person=s).exists()


def test_same_nina_cannot_be_confirmed_away(world):
    first = register(world, nina="1234567890ABC")
    before = _written()
    with pytest.raises(PossibleDuplicates) as exc:
        register(world, first_name="Kadiatou", last_name="Dembélé", nina="1234 567890abc",
                 confirm_not_duplicate=True)
    assert exc.value.hard
    assert [c["id"] for c in exc.value.candidates] == [first.pk]
    assert set(exc.value.fields) == {"nina"}
    assert exc.value.as_dict()["confirmable"] is False
    assert _written() == before


def test_confirmed_registration_records_the_candidates(world):
    first = register(world, first_name="Oumou", last_name="Sidibé", birth_year=1990)
    second = register(world, first_name="Oumou", last_name="Sidibe", birth_year=1991,
                      confirm_not_duplicate=True)
    cand = DuplicateCandidate.objects.get(person=second)
    assert (cand.other, cand.status, cand.reasons) == (first, "open", ["name_birth_place"])
    ev = AuditEvent.objects.get(event_type="person.registered", subject_id=str(second.pk))
    assert ev.after["duplicate_candidates"] == [first.pk]
    assert list(duplicates_open_for_user(world.users["manager_a"])) == [cand]


def test_candidate_in_another_caisse_is_shown_without_identity(world):
    hidden = register(world, first_name="Salimata", last_name="Diallo", phone="76 22 22 22")
    with pytest.raises(PossibleDuplicates) as exc:
        register(world, first_name="Nana", last_name="Touré", phone="76222222", cercle="Koutiala",
                 unit=world.caisse_b, user="teller_b")
    assert exc.value.candidates == [{"id": None, "visible": False, "reasons": ["phone"],
                                     "score": 80}]
    assert "Salimata" not in str(exc.value.as_dict())
    p = register(world, first_name="Nana", last_name="Touré", phone="76222222", cercle="Koutiala",
                 unit=world.caisse_b, user="teller_b", confirm_not_duplicate=True)
    pair = DuplicateCandidate.objects.get(person=p)
    assert pair.other == hidden
    # Only someone who sees both records gets the pair to decide.
    assert list(duplicates_open_for_user(world.users["teller_b"])) == []
    assert list(duplicates_open_for_user(world.users["manager_a"])) == []
    assert list(duplicates_open_for_user(world.users["auditor"])) == [pair]


def test_teller_cannot_register_in_another_caisse(world):
    before = _written()
    with pytest.raises(NotFound):
        register(world, unit=world.caisse_b, user="teller_a")
    assert _written() == before


def test_auditor_cannot_register(world):
    before = _written()
    with pytest.raises(NotFound):
        register(world, user="auditor")
    assert _written() == before


def test_update_is_audited_with_before_and_after(world):
    p = register(world, first_name="Awa", last_name="Diarra", birth_date=date(1990, 5, 1),
                 birth_year=None)
    person_update(acting_user=world.users["teller_a"], person=p, last_name="Dembélé",
                  phone="+223 66 12 34 00", birth_year=1989)
    p.refresh_from_db()
    assert (p.last_name, p.search_name, p.name_key) == (
        "Dembélé", search_name("Awa", "Dembélé"), name_key("Awa", "Dembélé"))
    assert (p.phone, p.birth_year, p.birth_date) == ("+22366123400", 1989, None)
    ev = AuditEvent.objects.get(event_type="person.updated")
    assert (ev.before["last_name"], ev.after["last_name"]) == ("Diarra", "Dembélé")
    assert (ev.before["birth_date"], ev.after["birth_date"]) == ("1990-05-01", None)


def test_update_refusals_write_nothing(world):
    p = register(world)
    before = _written()
    with pytest.raises(NotFound):
        person_update(acting_user=world.users["teller_b"], person=p, first_name="X")
    with pytest.raises(ApplicationError) as exc:
        person_update(acting_user=world.users["auditor"], person=p, first_name="X")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        person_update(acting_user=world.users["teller_a"], person=p, first_name="",
                      phone="999")
    assert set(exc.value.fields) == {"first_name", "phone"}
    other = register(world, first_name="Nafi", nina="ML123")
    with pytest.raises(ApplicationError) as exc:
        person_update(acting_user=world.users["teller_a"], person=p, nina="ml123")
    assert exc.value.code == "nina_taken"
    p.refresh_from_db()
    assert (p.first_name, p.nina) == ("Awa", None)
    assert _written()[0] == before[0] + 1 == Person.objects.filter(pk__in=[p.pk, other.pk]).count()


def test_membership_statuses_and_another_organisation(world):
    p = register(world)
    utm = world.users["mutual_manager"]
    # UTM staff cannot enrol a person they may not see...
    with pytest.raises(NotFound):
        membership_add(acting_user=utm, person=p, unit=world.mutual_1)
    consent_grant(acting_user=world.users["teller_a"], person=p, granted_to=world.orgs.utm,
                  scope="identity", purpose="Adhésion à la mutuelle")
    # ...until the person allowed UTM to see their identity.
    m = membership_add(acting_user=utm, person=p, unit=world.mutual_1, start_date=date(2024, 1, 1))
    assert (m.number, m.status, m.organisation) == ("M01-000001", "active", world.orgs.utm)
    with pytest.raises(ApplicationError) as exc:
        membership_add(acting_user=utm, person=p, unit=world.mutual_1)
    assert exc.value.code == "already_member"
    membership_set_status(acting_user=utm, membership=m, status="suspended")
    ended = membership_end(acting_user=utm, membership=m, on=date(2025, 6, 30))
    assert (ended.status, ended.end_date) == ("ended", date(2025, 6, 30))
    with pytest.raises(ApplicationError) as exc:
        membership_set_status(acting_user=utm, membership=m, status="active")
    assert exc.value.code == "bad_transition"
    # Ended: the person may join again, with a new number.
    again = membership_add(acting_user=utm, person=p, unit=world.mutual_1)
    assert again.number == "M01-000002"
    assert AuditEvent.objects.filter(event_type="membership.status").count() == 2


def test_membership_refusals(world):
    p = register(world)
    m = p.memberships.get()
    with pytest.raises(NotFound):
        membership_end(acting_user=world.users["teller_b"], membership=m)
    with pytest.raises(NotFound):
        membership_end(acting_user=world.users["auditor"], membership=m)
    with pytest.raises(ApplicationError) as exc:
        membership_add(acting_user=world.users["admin"], person=p, unit=world.mutual_1,
                       start_date=date(1, 1, 1))
    assert list(exc.value.fields) == ["start_date"]
    m.refresh_from_db()
    assert m.status == "active"
    assert p.memberships.count() == 1


def test_search_is_scoped_and_accent_insensitive(world):
    a = register(world, first_name="Aïssata", last_name="Keïta")
    register(world, first_name="Aissata", last_name="Kone", unit=world.caisse_b, user="teller_b",
             cercle="Koutiala")
    teller = world.users["teller_a"]
    assert person_search_for_user(teller, "aissata") == [a]
    assert person_search_for_user(teller, "AÏSSATA K") == [a]
    assert person_search_for_user(teller, "KEITA") == [a]
    assert person_search_for_user(teller, "keita aissata") == [a]  # family name first
    assert person_search_for_user(world.users["teller_b"], "keita") == []
    assert len(person_search_for_user(world.users["auditor"], "aissata")) == 2
    assert person_search_for_user(world.users["mutual_manager"], "aissata") == []
    assert person_search_for_user(teller, "") == []
    assert person_search_for_user(teller, "\x00 ") == []


def test_search_by_phone_nina_and_member_number(world):
    a = register(world, first_name="Kadidia", last_name="Sanogo", phone="+22377451290",
                 nina="ML12345")
    teller = world.users["teller_a"]
    for q in ["77 45 12 90", "+223 77 45 12 90", "0022377451290", "77451290"]:
        assert person_search_for_user(teller, q) == [a], q
    assert person_search_for_user(teller, "ml12345") == [a]
    assert person_search_for_user(teller, "c001-000001") == [a]
    assert person_search_for_user(world.users["teller_b"], "C001-000001") == []
    assert person_search_for_user(world.users["teller_b"], "77451290") == []


def test_search_stops_at_the_limit(world):
    for i in range(30):
        register(world, first_name=f"Awa{chr(97 + i % 26)}", last_name="Diarra",
                 birth_year=1950 + i, village=f"V{i}", cercle=f"C{i}")
    hits = person_search_for_user(world.users["teller_a"], "awa")
    assert len(hits) == 25
    assert hits == sorted(hits, key=lambda p: (p.search_name, p.pk))
    assert len(person_search_for_user(world.users["teller_a"], "diarra", limit=5)) == 5


def test_get_person_of_another_caisse_is_not_found(world):
    p = register(world)
    for user in ("teller_b", "organiser", "mutual_manager", "clinic"):
        with pytest.raises(NotFound):
            get_person_for_user(world.users[user], p.pk)
    for pk in (0, -1, 2**70, "abc", None):
        with pytest.raises(NotFound):
            get_person_for_user(world.users["admin"], pk)
    assert get_person_for_user(world.users["auditor"], p.pk) == p
    assert get_person_for_user(world.users["manager_a"], p.pk) == p


def test_duplicate_lookup_uses_a_fixed_number_of_queries(world):
    """Indexed lookups only (phone, NINA, name key + year): the number of queries does not grow
    with the registry, and no query reads the whole table."""
    Person.objects.bulk_create([
        Person(first_name=f"Awa{i}", last_name="Traoré", sex="F", birth_year=1960 + i % 40,
               phone=f"+2237600{i:04d}", cercle="Niono", village="Siribala",
               search_name=search_name(f"Awa{i}", "Traoré"), name_key=name_key("Awa", "Traoré"))
        for i in range(400)
    ])
    with CaptureQueriesContext(connection) as ctx:
        found = person_find_duplicates(first_name="Awa7", last_name="Traore", phone="+22376000007",
                                       nina="X1", birth_year=1967, cercle="Niono")
    assert len(ctx.captured_queries) == 3
    assert all("WHERE" in q["sql"] for q in ctx.captured_queries)
    assert found[0].person.first_name == "Awa7"
    assert found[0].reasons == ("name_birth_place", "phone")


def test_error_messages_follow_the_language(world):
    for lang, text in [("en", "Enter a Mali number: +223 and 8 digits.")]:
        with translation.override(lang), pytest.raises(ApplicationError) as exc:
            person_register(acting_user=world.users["teller_a"], unit=world.caisse_a,
                            first_name="A", last_name="B", sex="F", birth_year=1990, phone="12")
        with translation.override(lang):
            assert str(exc.value.fields["phone"]) == text
    with translation.override("fr"):
        french = translation.gettext("Enter a Mali number: +223 and 8 digits.")
        assert str(exc.value.fields["phone"]) == french != text
