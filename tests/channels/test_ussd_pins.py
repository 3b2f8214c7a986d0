"""USSD PINs: the rules of a PIN, the hash (Django's format, peppered), the lockout, and the
counter screen where staff of her caisse or mutual set it with her language (refusals: 404 for
a person the user may not see, 403 for one she sees but may not set a PIN for)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from jigi.channels.models import SmsPreference, UssdPin
from jigi.channels.ussd import menu, pins
from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.people.models import Membership, Person


@pytest.fixture
def awa(world):
    person = Person.objects.create(first_name="Awa", last_name="Traoré", sex="F",
                                   phone="+22376123456")
    Membership.objects.create(person=person, organisation=world.orgs.kondo, unit=world.caisse_a,
                              number="C001-000777", start_date=date(2025, 1, 2))
    return person


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "١٢٣٤", "", "1111", "1234", "9876",
                                 "000000"])
def test_weak_or_malformed_pins_are_refused(pin):
    with pytest.raises(ApplicationError) as exc:
        pins.clean_pin(pin)
    assert exc.value.status_code == 422
    assert "pin" in exc.value.fields


@pytest.mark.parametrize("pin", ["2580", "13579", "240613"])
def test_good_pins(pin):
    assert pins.clean_pin(pin) == pin


def test_the_hash_is_django_pbkdf2_peppered_and_never_the_pin(awa, world):
    row = pins.pin_set(person=awa, pin="2580", acting_user=world.users["teller_a"])
    algorithm, iterations, _salt, _hash = row.pin_hash.split("$")
    assert algorithm == "pbkdf2_sha256"  # Django's own format
    assert int(iterations) == 20_000
    assert "2580" not in row.pin_hash
    assert pins.pin_matches(awa.pk, "2580", row.pin_hash)
    assert not pins.pin_matches(awa.pk, "2581", row.pin_hash)
    # The same PIN of another person does not match this hash (the person's id is peppered).
    assert not pins.pin_matches(awa.pk + 1, "2580", row.pin_hash)
    assert not pins.pin_matches(awa.pk, "2580", "pbkdf2_sha256$broken")
    assert AuditEvent.objects.filter(event_type="ussd.pin_set").count() == 1


def test_lockout_and_its_end(awa, world, time_machine):
    time_machine.move_to("2026-03-09 10:00:00+00:00", tick=False)
    pins.pin_set(person=awa, pin="2580", acting_user=world.users["teller_a"])
    assert pins.pin_verify(person_id=awa.pk, pin="1111") == menu.PinCheck(menu.PIN_WRONG, 2)
    assert pins.pin_verify(person_id=awa.pk, pin="1112") == menu.PinCheck(menu.PIN_WRONG, 1)
    assert pins.pin_verify(person_id=awa.pk, pin="1113") == menu.PinCheck(menu.PIN_LOCKED)
    # Locked: even the right PIN is refused, and no try is counted.
    assert pins.pin_verify(person_id=awa.pk, pin="2580") == menu.PinCheck(menu.PIN_LOCKED)
    row = UssdPin.objects.get(person=awa)
    assert row.failed_attempts == 3
    assert AuditEvent.objects.filter(event_type="ussd.pin_locked").count() == 1
    time_machine.move_to(timezone.now() + timedelta(minutes=15, seconds=1), tick=False)
    # After the lock, a wrong PIN starts a new count of three.
    assert pins.pin_verify(person_id=awa.pk, pin="1111") == menu.PinCheck(menu.PIN_WRONG, 2)
    assert pins.pin_verify(person_id=awa.pk, pin="2580") == menu.PinCheck(menu.PIN_OK)
    row.refresh_from_db()
    assert (row.failed_attempts, row.locked_until) == (0, None)


def test_a_new_pin_at_the_counter_lifts_the_lock(awa, world):
    pins.pin_set(person=awa, pin="2580", acting_user=world.users["teller_a"])
    for _ in range(3):
        pins.pin_verify(person_id=awa.pk, pin="0000")
    pins.pin_set(person=awa, pin="3691", acting_user=world.users["teller_a"])
    assert pins.pin_verify(person_id=awa.pk, pin="3691") == menu.PinCheck(menu.PIN_OK)
    assert AuditEvent.objects.filter(event_type="ussd.pin_reset").count() == 1


def test_no_pin(awa):
    assert pins.pin_verify(person_id=awa.pk, pin="2580") == menu.PinCheck(menu.PIN_NONE)


def test_a_very_long_pin_is_just_wrong(awa, world):
    pins.pin_set(person=awa, pin="2580", acting_user=world.users["teller_a"])
    assert pins.pin_verify(person_id=awa.pk, pin="9" * 150).result == menu.PIN_WRONG


# --- the counter screen ---------------------------------------------------------------------

def _url(person) -> str:
    return f"/channels/ussd/pin/{person.pk}/"


def test_a_teller_of_her_caisse_sets_pin_and_language(awa, client_for):
    c = client_for("teller_a")
    page = c.get(_url(awa))
    assert page.status_code == 200
    assert b'id="pin-form"' in page.content
    response = c.post(_url(awa), {"pin": "2580", "pin_again": "2580", "language": "bm"})
    assert response.status_code == 200
    assert b'id="pin-saved"' in response.content
    assert b"2580" not in response.content
    assert pins.pin_matches(awa.pk, "2580", UssdPin.objects.get(person=awa).pin_hash)
    pref = SmsPreference.objects.get(person=awa)
    assert pref.language == "bm"
    assert not pref.opt_in
    assert pref.recorded_by.username == "teller_a"


def test_language_alone_keeps_the_pin(awa, world, client_for):
    pins.pin_set(person=awa, pin="2580", acting_user=world.users["teller_a"])
    before = UssdPin.objects.get(person=awa).pin_hash
    response = client_for("manager_a").post(_url(awa), {"pin": "", "pin_again": "",
                                                        "language": "fr"},
                                            HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content  # the htmx fragment
    assert UssdPin.objects.get(person=awa).pin_hash == before
    assert SmsPreference.objects.get(person=awa).language == "fr"


@pytest.mark.parametrize(("form", "field"), [
    ({"pin": "2580", "pin_again": "2581", "language": "fr"}, "pin_again"),
    ({"pin": "1234", "pin_again": "1234", "language": "fr"}, "pin"),
    ({"pin": "25", "pin_again": "25", "language": "fr"}, "pin"),
    ({"pin": "2580", "pin_again": "2580", "language": "en"}, "language"),
    ({"pin": "2580", "pin_again": "2580"}, "language"),
])
def test_bad_forms_change_nothing(awa, client_for, form, field):
    response = client_for("teller_a").post(_url(awa), form)
    assert response.status_code == 422
    assert f'id="err-{field}"'.encode() in response.content
    assert not UssdPin.objects.exists()
    assert not SmsPreference.objects.exists()


def test_staff_of_another_caisse_get_404(awa, client_for):
    c = client_for("teller_b")
    assert c.get(_url(awa)).status_code == 404
    assert c.post(_url(awa), {"pin": "2580", "pin_again": "2580",
                              "language": "fr"}).status_code == 404
    assert not UssdPin.objects.exists()


def test_an_auditor_sees_her_but_may_not_set_a_pin(awa, client_for):
    c = client_for("auditor")
    assert c.get(_url(awa)).status_code == 403
    assert c.post(_url(awa), {"pin": "2580", "pin_again": "2580",
                              "language": "fr"}).status_code == 403
    assert not UssdPin.objects.exists()


def test_a_mutual_manager_sets_the_pin_of_a_mutual_member(world, client_for):
    person = Person.objects.create(first_name="Oumou", last_name="Sidibé", sex="F")
    Membership.objects.create(person=person, organisation=world.orgs.utm, unit=world.mutual_1,
                              number="M01-000001", start_date=date(2025, 1, 2))
    response = client_for("mutual_manager").post(_url(person), {
        "pin": "4826", "pin_again": "4826", "language": "bm"})
    assert response.status_code == 200
    assert UssdPin.objects.filter(person=person).exists()


def test_unknown_person_and_login_required(awa, client, client_for):
    assert client.get(_url(awa)).status_code == 302
    assert client_for("teller_a").get("/channels/ussd/pin/999999/").status_code == 404
