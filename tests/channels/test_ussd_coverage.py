"""The USSD "mutual" screen reads the caller's own coverage status through the health module's
eligibility rules: covered, waiting, none; never another beneficiary's."""

from __future__ import annotations

import pytest

from jigi.channels.models import SmsPreference, UssdPin
from jigi.channels.ussd import data, menu, pins
from jigi.health.setup import health_setup
from jigi.people.models import Person
from tests.health.conftest import TODAY, make_coverage, make_family, month_end

URL = "/channels/ussd/gateway/"
PHONE = "+22366112233"


@pytest.fixture
def amv(world, time_machine):
    time_machine.move_to("2026-11-20 09:00:00+00:00", tick=False)
    from django.contrib.auth import get_user_model

    from jigi.orgs.models import Role
    from jigi.orgs.services import role_grant

    admin = get_user_model().objects.create_user(username="union_admin", password="x")
    role_grant(user=admin, organisation=world.orgs.utm, role=Role.UNION_ADMIN, unit=None)
    return health_setup(organisation=world.orgs.utm, acting_user=admin)["AMV"]


def _phone(*persons: Person) -> None:
    Person.objects.filter(pk__in=[p.pk for p in persons]).update(phone=PHONE)


def test_the_head_of_a_paid_up_family_is_covered(world, amv):
    family = make_family(world, spouses=1, children=1)
    make_coverage(world, family, package=amv, paid_through=month_end(TODAY))
    _phone(family.head)
    persons = data.persons_by_phone(PHONE)
    cover = data.DbProvider(PHONE, persons).cover(family.head.pk)
    assert cover == menu.Cover("covered")


def test_a_new_family_waits(world, amv):
    family = make_family(world, spouses=0, children=0)
    enrolment = make_coverage(world, family, package=amv, enrolled_on=TODAY,
                              paid_through=month_end(TODAY))
    _phone(family.head)
    cover = data.DbProvider(PHONE, data.persons_by_phone(PHONE)).cover(family.head.pk)
    assert cover.status == "waiting"
    assert cover.until == enrolment.beneficiaries[0].since + (
        enrolment.coverage.covered_from - enrolment.coverage.enrolled_on)


def test_a_person_on_the_family_phone_sees_only_her_own_status(world, amv):
    family = make_family(world, spouses=1, children=1)
    make_coverage(world, family, package=amv, paid_through=month_end(TODAY))
    outsider = Person.objects.create(first_name="Rokia", last_name="Diarra", sex="F")
    _phone(family.head, outsider)
    provider = data.DbProvider(PHONE, data.persons_by_phone(PHONE))
    # The family's coverage is reached by the phone, but Rokia is not on it.
    assert provider.cover(outsider.pk) == menu.Cover("none")
    assert provider.cover(family.head.pk) == menu.Cover("covered")


def test_the_mutual_screen_through_the_gateway(world, amv, client):
    family = make_family(world, spouses=0, children=0)
    make_coverage(world, family, package=amv, paid_through=month_end(TODAY))
    _phone(family.head)
    UssdPin.objects.create(person=family.head, pin_hash=pins.pin_hash(family.head.pk, "4826"))
    SmsPreference.objects.create(person=family.head, language="bm")
    base = {"sessionId": "cov1", "serviceCode": "*144#", "phoneNumber": PHONE}
    for text in ("", "4826"):
        assert client.post(URL, {**base, "text": text}).content.decode().startswith("CON ")
    reply = client.post(URL, {**base, "text": "4826*3"}).content.decode()
    assert reply.startswith("CON ")
    assert menu.septets(reply) <= 182
    assert reply.count("\n") == 1  # her status and "0 back": no card, no claim, no diagnosis


def test_her_contributions_are_among_her_last_receipts(world, amv):
    family = make_family(world, spouses=1, children=0)
    enrolment = make_coverage(world, family, package=amv, paid_through=month_end(TODAY))
    _phone(family.head, *family.spouses)
    provider = data.DbProvider(PHONE, data.persons_by_phone(PHONE))
    paid = enrolment.coverage.payments.get()
    assert provider.receipts(family.head.pk) == [
        menu.ReceiptLine(paid.paid_on, "health", paid.amount)]
    # His wife shares the phone and the coverage, but the payments are the member's.
    assert provider.receipts(family.spouses[0].pk) == []
