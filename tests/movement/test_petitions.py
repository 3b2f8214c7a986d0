"""Petitions signed by phone: the code by SMS, its HMAC, tries, expiry, rate limit, counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from jigi.channels.models import OutboundMessage
from jigi.core.cleaning import today
from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.movement import petition_codes as pc
from jigi.movement import selectors_campaigns as sel
from jigi.movement.models import Signature
from jigi.movement.services import campaigns as svc
from tests.movement.conftest import make_member

PHONE = "+22376123456"


class Codes:
    """A predictable random source: 111111, 222222, ..."""

    def __init__(self):
        self.n = 0

    def __call__(self, limit):
        self.n += 1
        return (self.n % 9 or 9) * 111111


@pytest.fixture
def petition(mtc):
    c = svc.campaign_create(acting_user=mtc.users["organiser"], code="REPOS",
                            title="Repos hebdomadaire", goal="Deux demi-journées de repos.",
                            starts_on=today())
    return svc.petition_create(acting_user=mtc.users["organiser"], campaign=c,
                               title="Pour le repos des aides ménagères",
                               text="Nous demandons l'application du décret 96-178.\n\nMerci.",
                               target=4, opens_on=today())


def _collect(mtc, petition, phone="76 12 34 56", codes=None, **kw):
    args = {"name": "Awa Diarra", "sex": "F", "region": "bamako", "commune": "Commune IV"} | kw
    return svc.signature_collect(acting_user=mtc.users["organiser"], petition=petition,
                                 phone=phone, randbelow=codes or Codes(), **args)


def test_collect_queues_a_code_and_stores_only_its_hmac(mtc, petition):
    outcome = _collect(mtc, petition)
    sig = outcome.signature
    assert outcome.code_sent
    assert sig.status == "pending"
    assert sig.phone == PHONE
    assert sig.region == "Bamako"
    assert sig.collected_by == mtc.users["organiser"]
    msg = OutboundMessage.objects.get(purpose="petition_code", phone=PHONE)
    assert "111111" in msg.text
    assert msg.ref == f"movement.signature:{sig.pk}"
    assert (msg.encoding, msg.parts) == ("gsm7", 1)
    assert "111111" not in sig.code_hash
    assert sig.code_hash == pc.code_hash(settings.SECRET_KEY, petition_id=petition.pk,
                                         phone=PHONE, code="111111")
    assert petition.text.startswith("Nous demandons")
    assert "\n\nMerci." in petition.text


def test_code_in_bambara_when_asked(mtc, petition):
    _collect(mtc, petition, language="bm")
    assert OutboundMessage.objects.get(phone=PHONE).language == "bm"


def test_invalid_fields_are_422_and_write_nothing(mtc, petition):
    with pytest.raises(ApplicationError) as exc:
        _collect(mtc, petition, phone="12 34", sex="X", region="Paris", name="",
                 commune="x" * 101, language="de")
    assert exc.value.status_code == 422
    assert set(exc.value.fields) == {"phone", "sex", "region", "name", "commune", "language"}
    assert not Signature.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_new_regions_of_2023_are_known(mtc, petition):
    sig = _collect(mtc, petition, region="dioila").signature
    assert sig.region == "Dioïla"


def test_confirm_then_a_second_sign_is_409(mtc, petition):
    _collect(mtc, petition)
    sig = svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                                phone=PHONE, code="111 111")
    assert sig.status == "confirmed"
    assert sig.confirmed_at is not None
    # Confirming again with the right code is harmless.
    assert svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                                 phone=PHONE, code="111111").pk == sig.pk
    with pytest.raises(Conflict) as exc:
        _collect(mtc, petition)
    assert exc.value.code == "already_signed"
    assert OutboundMessage.objects.count() == 1


def test_sign_again_while_pending_sends_a_new_code(mtc, petition):
    codes = Codes()
    _collect(mtc, petition, codes=codes)
    sig = _collect(mtc, petition, codes=codes, name="Awa Diarra Traoré").signature
    assert Signature.objects.count() == 1
    assert sig.name == "Awa Diarra Traoré"
    assert OutboundMessage.objects.filter(phone=PHONE).count() == 2
    with pytest.raises(ApplicationError):  # the first code no longer works
        svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                              phone=PHONE, code="111111")
    assert svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                                 phone=PHONE, code="222222").status == "confirmed"


def test_five_wrong_tries_lock_the_code_until_a_new_one(mtc, petition):
    codes = Codes()
    _collect(mtc, petition, codes=codes)
    for left in (4, 3, 2, 1):
        with pytest.raises(ApplicationError) as exc:
            svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                                  phone=PHONE, code="999999")
        assert exc.value.status_code == 422
        assert Signature.objects.get().attempts == 5 - left
    with pytest.raises(Conflict) as exc:
        svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                              phone=PHONE, code="999999")
    assert exc.value.code == "code_locked"
    with pytest.raises(Conflict) as exc:  # the right code is refused too once locked
        svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                              phone=PHONE, code="111111")
    assert exc.value.code == "code_locked"
    assert Signature.objects.get().status == "pending"
    _collect(mtc, petition, codes=codes)  # a new code resets the tries
    assert svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                                 phone=PHONE, code="222222").status == "confirmed"


def test_code_expires_after_24_hours(mtc, petition):
    _collect(mtc, petition)
    Signature.objects.update(code_sent_at=timezone.now() - timedelta(hours=24, minutes=1))
    with pytest.raises(Conflict) as exc:
        svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition,
                              phone=PHONE, code="111111")
    assert exc.value.code == "code_expired"


def test_at_most_three_codes_a_day_per_phone(mtc, petition):
    codes = Codes()
    for _ in range(3):
        _collect(mtc, petition, codes=codes)
    with pytest.raises(ApplicationError) as exc:
        _collect(mtc, petition, codes=codes)
    assert exc.value.status_code == 429
    assert OutboundMessage.objects.count() == 3
    with pytest.raises(ApplicationError):  # refused: the details typed are not kept either
        _collect(mtc, petition, codes=codes, name="Quelqu'un d'autre")
    assert Signature.objects.get().name == "Awa Diarra"
    # Yesterday's codes no longer count.
    OutboundMessage.objects.update(created_at=timezone.now() - timedelta(hours=25))
    _collect(mtc, petition, codes=codes)
    assert OutboundMessage.objects.count() == 4


def test_public_sign_answers_the_same_for_a_phone_that_signed(mtc, petition):
    _collect(mtc, petition)
    svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition, phone=PHONE,
                          code="111111")
    outcome = svc.signature_sign_public(petition=petition, name="Quelqu'un", phone=PHONE,
                                        sex="M", randbelow=Codes())
    assert not outcome.code_sent
    sig = Signature.objects.get()
    assert (sig.name, sig.sex, sig.status) == ("Awa Diarra", "F", "confirmed")
    last = OutboundMessage.objects.order_by("-pk").first()
    assert "111111" not in last.text
    assert last.phone == PHONE


def test_public_confirm_gives_one_message_for_every_failure(mtc, petition):
    svc.signature_sign_public(petition=petition, name="Fanta", phone="66 00 00 01", sex="F",
                              randbelow=Codes())
    errors = []
    for phone, code in [("66000001", "999999"), ("66000002", "111111")]:
        with pytest.raises(ApplicationError) as exc:
            svc.signature_confirm(petition=petition, phone=phone, code=code, public=True)
        errors.append((exc.value.status_code, exc.value.code, str(exc.value.fields["code"])))
    assert errors[0] == errors[1]
    sig = svc.signature_confirm(petition=petition, phone="66000001", code="111111", public=True)
    assert sig.status == "confirmed"
    assert sig.collected_by is None


def test_closed_or_not_yet_open_petition_refuses_signatures(mtc, petition):
    petition.closes_on = today() - timedelta(days=1)
    petition.opens_on = today() - timedelta(days=10)
    petition.save()
    with pytest.raises(Conflict) as exc:
        _collect(mtc, petition)
    assert exc.value.code == "petition_closed"
    petition.opens_on, petition.closes_on = today() + timedelta(days=1), None
    petition.save()
    with pytest.raises(NotFound):
        sel.get_public_petition(petition.pk)


def test_registry_person_must_be_visible(mtc, petition):
    member = make_member(mtc)
    sig = _collect(mtc, petition, person_id=member.person.pk).signature
    assert sig.person == member.person
    with pytest.raises(ApplicationError) as exc:
        svc.signature_collect(acting_user=mtc.users["organiser_art"], petition=petition,
                              name="X", phone="70000000", sex="F", person_id=member.person.pk,
                              randbelow=Codes())
    assert "person_id" in exc.value.fields


def test_case_worker_may_not_collect_and_outsider_gets_404(mtc, petition):
    with pytest.raises(Forbidden):
        svc.signature_collect(acting_user=mtc.users["case_worker_1"], petition=petition,
                              name="X", phone="70000000", sex="F")
    with pytest.raises(NotFound):
        sel.get_petition_for_user(mtc.users["teller_a"], petition.pk)
    with pytest.raises(NotFound):
        svc.signature_collect(acting_user=mtc.users["mutual_manager"], petition=petition,
                              name="X", phone="70000000", sex="F")
    assert not Signature.objects.exists()


def _sign_and_confirm(mtc, petition, phone, name, sex, region, commune):
    codes = Codes()
    _collect(mtc, petition, phone=phone, codes=codes, name=name, sex=sex, region=region,
             commune=commune)
    svc.signature_confirm(acting_user=mtc.users["organiser"], petition=petition, phone=phone,
                          code="111111")


def test_counts_by_place_sex_and_day_count_only_confirmed(mtc, petition):
    _sign_and_confirm(mtc, petition, "76000001", "Awa", "F", "Bamako", "Commune IV")
    _sign_and_confirm(mtc, petition, "76000002", "Kadia", "F", "Bamako", "Commune IV")
    _sign_and_confirm(mtc, petition, "76000003", "=cmd|' /C calc'!A0", "M", "Ségou", "Niono")
    _collect(mtc, petition, phone="76000004")  # pending: not counted
    counts = sel.petition_counts(petition)
    assert (counts.confirmed, counts.pending, counts.target) == (3, 1, 4)
    assert counts.progress_pct == 75
    assert (counts.women, counts.men) == (2, 1)
    assert counts.by_region == [("Bamako", 2), ("Ségou", 1)]
    assert counts.by_commune == [("Bamako", "Commune IV", 2), ("Ségou", "Niono", 1)]
    assert counts.by_day == [(timezone.localdate(), 3)]
    rows = list(csv.reader(io.StringIO(sel.petition_csv(petition))))
    assert rows[0] == ["name", "sex", "region", "commune", "confirmed_on"]
    assert len(rows) == 4
    assert rows[3][0].startswith("'=")  # not run as a formula by a spreadsheet
    text = sel.petition_csv(petition)
    assert "7600000" not in text
    assert "+223" not in text


def test_no_petition_on_a_finished_campaign_and_no_signing_once_ended(mtc, petition):
    user = mtc.users["organiser"]
    campaign = svc.campaign_status_set(acting_user=user, campaign=petition.campaign,
                                       status="active")
    campaign = svc.campaign_status_set(acting_user=user, campaign=campaign, status="ended")
    petition.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        _collect(mtc, petition)
    assert exc.value.code == "petition_closed"
    with pytest.raises(Conflict) as exc:
        svc.petition_create(acting_user=user, campaign=campaign, title="Encore", text="Texte",
                            opens_on=today())
    assert exc.value.code == "campaign_over"
