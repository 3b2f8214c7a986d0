"""`jigi ussd --phone ...`: the terminal simulator, scripted with --send and typed on stdin."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from jigi.channels.models import SmsPreference, UssdPin, UssdSession
from jigi.channels.ussd import pins
from jigi.people.models import Person


@pytest.fixture
def awa(db):
    person = Person.objects.create(first_name="Awa", last_name="Traoré", sex="F",
                                   phone="+22376123456")
    UssdPin.objects.create(person=person, pin_hash=pins.pin_hash(person.pk, "2580"))
    return person


def test_scripted_session(awa):
    out = io.StringIO()
    call_command("ussd", phone="76 12 34 56", send="1,2580,6,2,0", stdout=out)
    screens = out.getvalue().split("--- ")[1:]
    assert screens[0].startswith("(dial)\nCON 1 Francais\n2 Bamanankan")
    assert screens[2].startswith("1*2580\nCON ")
    assert screens[-1].startswith("1*2580*6*2*0\nEND ")
    assert SmsPreference.objects.get(person=awa).language == "bm"
    assert UssdSession.objects.get().ended


def test_typed_on_stdin_and_hang_up(awa, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("2\n2580\n\n"))
    out = io.StringIO()
    call_command("ussd", phone="+22376123456", stdout=out)
    assert "(hung up)" in out.getvalue()
    assert UssdSession.objects.get().authenticated


def test_unknown_number_ends(db):
    out = io.StringIO()
    call_command("ussd", phone="+22376000000", stdout=out)
    assert "END " in out.getvalue()


def test_not_a_mali_number(db):
    with pytest.raises(CommandError) as exc:
        call_command("ussd", phone="12")
    assert exc.value.returncode == 2
