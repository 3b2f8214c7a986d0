"""The USSD gateway endpoint end to end on the database: a member's whole session (language,
PIN, balances, instalment, coverage, receipts, call back, language), privacy between persons
sharing a phone, the timeout, the lockout, bad requests, who may call, and the number of
queries a reply takes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from jigi.channels.models import CallbackRequest, SmsPreference, UssdPin, UssdSession
from jigi.channels.ussd import menu, pins
from jigi.credit.models import LoanTransaction, LoanTxKind
from jigi.people.models import Membership, Person
from jigi.savings.models import SavingsAccount, SavingsProduct, SavingsTransaction

URL = "/channels/ussd/gateway/"
PHONE = "+22376123456"
PIN = "2580"
NOW = "2026-03-09 10:00:00+00:00"


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def awa(world, now):
    """Awa, member of caisse A, with a PIN, a savings account (12 500 F) and a receipt."""
    person = Person.objects.create(first_name="Awa", last_name="Traoré", sex="F", phone=PHONE)
    Membership.objects.create(person=person, organisation=world.orgs.kondo, unit=world.caisse_a,
                              number="C001-000777", start_date=date(2025, 1, 2))
    UssdPin.objects.create(person=person, pin_hash=pins.pin_hash(person.pk, PIN))
    product = SavingsProduct.objects.create(organisation=world.orgs.kondo, code="EPV",
                                            name="Épargne à vue", kind="demand",
                                            interest_rate=Decimal("0"))
    account = SavingsAccount.objects.create(number="C001-EPV-000001", product=product,
                                            caisse=world.caisse_a, person=person,
                                            balance=12_500, opened_on=date(2025, 1, 2))
    SavingsTransaction.objects.create(account=account, kind="deposit", direction="C",
                                      amount=5_000, value_date=date(2026, 3, 5),
                                      receipt_year=2026, receipt_number=41)
    return person


class Gateway:
    def __init__(self, client, phone: str = PHONE, session: str = "ATUid_1"):
        self.client, self.phone, self.session = client, phone, session

    def post(self, text: str, **extra) -> str:
        data = {"sessionId": self.session, "serviceCode": "*144#", "phoneNumber": self.phone,
                "text": text, "networkCode": "61002", **extra}
        response = self.client.post(URL, data)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain")
        body = response.content.decode()
        assert body.startswith(("CON ", "END "))
        assert menu.septets(body) <= 182
        return body

    def open(self) -> str:
        """Dial and type the PIN (a member whose language is known)."""
        self.post("")
        return self.post(PIN)


@pytest.fixture
def gw(client):
    return Gateway(client)


def test_unknown_phone_is_sent_to_the_caisse(db, gw):
    gw.phone = "+22376999999"
    reply = gw.post("")
    assert reply.startswith("END ")
    assert "caisse" in reply
    assert not UssdSession.objects.get().authenticated


def test_a_member_without_language_chooses_it_then_pin_then_her_balance(awa, gw):
    assert gw.post("") == "CON 1 Francais\n2 Bamanankan"
    assert gw.post("1").startswith("CON ")  # PIN?
    reply = gw.post(f"1*{PIN}")
    assert reply.startswith("CON ")
    assert SmsPreference.objects.get(person=awa).language == "fr"
    reply = gw.post(f"1*{PIN}*1")
    assert "12 500 F" in reply
    session = UssdSession.objects.get(session_id="ATUid_1")
    assert session.authenticated
    assert session.person_id == awa.pk
    assert session.steps == 4
    assert session.last_text == f"1*{PIN}*1"
    # The next session skips the language.
    gw.session = "ATUid_2"
    assert gw.post("") != "CON 1 Francais\n2 Bamanankan"


def test_next_instalment_and_amount_due(awa, gw, loan_with_instalments):
    SmsPreference.objects.create(person=awa, language="fr")
    loan_with_instalments(awa, [date(2026, 3, 2), date(2026, 3, 16), date(2026, 3, 30)])
    gw.open()
    reply = gw.post(f"{PIN}*2")
    lines = reply[4:].split("\n")
    assert "C001-2026-00001" in lines[0]
    # The next instalment (16/03, 27 500 F), then what the one of 02/03 still owes.
    assert "27 500 F" in lines[1]
    assert "16/03/2026" in lines[1]
    assert "27 500 F" in lines[2]
    assert "30/03" not in reply


def test_last_receipts_across_savings_and_loans(awa, gw, loan_with_instalments):
    SmsPreference.objects.create(person=awa, language="fr")
    loan = loan_with_instalments(awa, [date(2026, 3, 16)])
    LoanTransaction.objects.create(loan=loan, kind=LoanTxKind.REPAYMENT, amount=27_500,
                                   value_date=date(2026, 3, 6))
    LoanTransaction.objects.create(loan=loan, kind=LoanTxKind.REPAYMENT, amount=9_999,
                                   value_date=date(2026, 3, 7), reversed=True)
    gw.open()
    reply = gw.post(f"{PIN}*4")
    lines = reply[4:].split("\n")
    assert lines[0].startswith("06/03")
    assert lines[0].endswith("27 500 F")
    assert lines[1].startswith("05/03")
    assert lines[1].endswith("5 000 F")
    assert "9 999" not in reply


def test_call_me_back_once_a_day(awa, gw, world, now):
    SmsPreference.objects.create(person=awa, language="fr")
    gw.open()
    gw.post(f"{PIN}*5")
    gw.post(f"{PIN}*5*0*5")
    gw.session = "ATUid_2"
    gw.post("")
    gw.post(f"{PIN}")
    gw.post(f"{PIN}*5")
    request = CallbackRequest.objects.get()
    assert request.unit == world.caisse_a
    assert request.phone == PHONE
    assert request.person == awa
    now.move_to("2026-03-10 10:00:00+00:00", tick=False)
    gw.session = "ATUid_3"
    gw.post("")
    gw.post(PIN)
    gw.post(f"{PIN}*5")
    assert CallbackRequest.objects.count() == 2


def test_language_menu_saves_her_choice(awa, gw):
    SmsPreference.objects.create(person=awa, language="fr", opt_in=True)
    gw.open()
    gw.post(f"{PIN}*6*2")
    pref = SmsPreference.objects.get(person=awa)
    assert pref.language == "bm"
    assert pref.opt_in  # her SMS consent untouched


def test_persons_sharing_a_phone_see_nothing_of_each_other_before_the_pin(awa, gw, world):
    bintou = Person.objects.create(first_name="Bintou", last_name="Koné", sex="F", phone=PHONE)
    UssdPin.objects.create(person=bintou, pin_hash=pins.pin_hash(bintou.pk, "3691"))
    for p in (awa, bintou):
        SmsPreference.objects.create(person=p, language="fr")
    first = gw.post("")
    assert "Awa" not in first
    assert "Bintou" not in first
    wrong = gw.post("Mariam")
    assert "Awa" not in wrong
    assert "Bintou" not in wrong
    # Awa's PIN does not open Bintou's menu.
    assert gw.post(f"bintou*{PIN}").startswith("END ")
    gw.session = "ATUid_2"
    gw.post("")
    gw.post("bintou")
    gw.post("bintou*3691")
    reply = gw.post("bintou*3691*1")
    assert "12 500" not in reply  # Awa's account is not shown to Bintou
    assert UssdSession.objects.get(session_id="ATUid_2").person_id == bintou.pk


def test_a_ussd_session_that_times_out(awa, gw, now):
    SmsPreference.objects.create(person=awa, language="fr")
    gw.post("")
    gw.post(PIN)
    now.move_to("2026-03-09 10:02:59+00:00", tick=False)
    assert gw.post(f"{PIN}*1").startswith("CON ")  # 2:59 after the last reply: still on
    now.move_to("2026-03-09 10:06:00+00:00", tick=False)
    assert gw.post(f"{PIN}*1*0").startswith("END ")
    assert UssdSession.objects.get(session_id="ATUid_1").ended
    assert gw.post(f"{PIN}*1*0*1").startswith("END ")  # ended stays ended
    gw.session = "ATUid_2"  # dialling again starts over
    assert gw.post("").startswith("CON ")


def test_an_unknown_session_continuing_is_ended(awa, gw):
    assert gw.post(f"{PIN}*1").startswith("END ")
    assert not UssdSession.objects.exists()


def test_three_wrong_pins_lock_for_15_minutes(awa, gw, now):
    SmsPreference.objects.create(person=awa, language="fr")
    for n in range(3):
        gw.session = f"S{n}"
        gw.post("")
        assert gw.post("1111").startswith("END ")
    pin = UssdPin.objects.get(person=awa)
    assert pin.failed_attempts == 3
    assert pin.locked_until == timezone.now() + timedelta(minutes=15)
    gw.session = "S3"
    assert gw.post("").startswith("END ")  # locked: not even asked
    gw.session = "S4"
    now.move_to("2026-03-09 10:14:00+00:00", tick=False)
    assert gw.post("").startswith("END ")
    now.move_to("2026-03-09 10:15:01+00:00", tick=False)
    gw.session = "S5"
    assert gw.post("").startswith("CON ")
    assert gw.post(PIN).startswith("CON ")
    pin.refresh_from_db()
    assert pin.failed_attempts == 0
    assert pin.locked_until is None


def test_a_right_pin_resets_the_count(awa, gw):
    SmsPreference.objects.create(person=awa, language="fr")
    gw.post("")
    gw.post("1111")
    gw.session = "S2"
    gw.post("")
    gw.post(PIN)
    assert UssdPin.objects.get(person=awa).failed_attempts == 0


def test_no_pin_yet(awa, gw):
    UssdPin.objects.all().delete()
    SmsPreference.objects.create(person=awa, language="fr")
    assert gw.post("").startswith("END ")


@pytest.mark.parametrize("missing", ["sessionId", "phoneNumber", "text", "serviceCode"])
def test_missing_fields_are_a_bad_request(client, db, missing):
    data = {"sessionId": "x", "serviceCode": "*144#", "phoneNumber": PHONE, "text": ""}
    del data[missing]
    response = client.post(URL, data)
    assert response.status_code == 400
    assert response.content.decode().startswith("END ")


def test_get_is_refused(client, db):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize("text", ["1" * 161, "1*" * 90, "1\x00", "\u202e1"])
def test_garbage_text_ends(awa, gw, text):
    SmsPreference.objects.create(person=awa, language="fr")
    gw.post("")
    assert gw.post(text).startswith("END ")


@pytest.mark.parametrize("text", ["#", "abc", "1**", "*", "99999999", "ɛ"])
def test_odd_choices_are_wrong_choices_not_errors(awa, gw, text):
    SmsPreference.objects.create(person=awa, language="fr")
    gw.open()
    assert gw.post(f"{PIN}*{text}").startswith("CON ")


def test_a_bad_phone_number_ends(db, gw):
    gw.phone = "12345"
    assert gw.post("").startswith("END ")
    assert not UssdSession.objects.exists()


def test_a_session_id_reused_from_another_phone_ends(awa, gw):
    SmsPreference.objects.create(person=awa, language="fr")
    gw.post("")
    gw.phone = "+22376000000"
    assert gw.post(PIN).startswith("END ")


def test_only_this_machine_without_settings(client, db):
    data = {"sessionId": "x", "serviceCode": "*144#", "phoneNumber": PHONE, "text": ""}
    assert client.post(URL, data, REMOTE_ADDR="41.73.1.1").status_code == 403


@override_settings(JIGI_USSD_KEY="s3cret")
def test_shared_secret(client, db):
    data = {"sessionId": "x", "serviceCode": "*144#", "phoneNumber": PHONE, "text": ""}
    assert client.post(URL, data).status_code == 403
    assert client.post(URL + "?key=wrong", data).status_code == 403
    assert client.post(URL + "?key=s3cret", data, REMOTE_ADDR="41.73.1.1").status_code == 200
    assert client.post(URL, data, HTTP_X_USSD_KEY="s3cret").status_code == 200


@override_settings(JIGI_USSD_ALLOWED_IPS=["196.200.1.2"])
def test_ip_allow_list(client, db):
    data = {"sessionId": "x", "serviceCode": "*144#", "phoneNumber": PHONE, "text": ""}
    assert client.post(URL, data).status_code == 403
    assert client.post(URL, data, REMOTE_ADDR="196.200.1.2").status_code == 200


def test_a_handful_of_queries_per_reply(awa, gw, django_assert_max_num_queries,
                                        loan_with_instalments):
    SmsPreference.objects.create(person=awa, language="fr")
    loan_with_instalments(awa, [date(2026, 3, 16)])
    gw.post("")
    gw.post(PIN)
    for choice in ("1", "2", "4"):
        with django_assert_max_num_queries(6):
            gw.post(f"{PIN}*{choice}")


def test_replies_in_bambara_fit(awa, gw, loan_with_instalments):
    SmsPreference.objects.create(person=awa, language="bm")
    loan_with_instalments(awa, [date(2026, 3, 16)])
    for text in ("", PIN, f"{PIN}*1", f"{PIN}*1*0*2", f"{PIN}*1*0*2*0*3",
                 f"{PIN}*1*0*2*0*3*0*4", f"{PIN}*1*0*2*0*3*0*4*0*6"):
        gw.post(text)  # Gateway.post checks CON/END and 182 septets
