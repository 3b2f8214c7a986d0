"""Instalment reminders (set-based, idempotent, opted-in borrowers only) and the receipt
helpers the savings, credit, health and movement services call in their transactions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction

from jigi.channels.models import OutboundMessage
from jigi.channels.services import receipt_queue, reminders_queue, sms_preference_set
from jigi.channels.sms_length import sms_length
from jigi.core.audit import AuditEvent
from jigi.credit.models import Installment, LoanStatus
from tests.channels.conftest import AS_OF

DUE = AS_OF + timedelta(days=3)


def test_one_reminder_per_instalment_falling_due_in_three_days(world, member,
                                                                loan_with_instalments):
    fr, bm = member(language="fr"), member(language="bm")
    loan_fr = loan_with_instalments(fr, [DUE, DUE + timedelta(days=30)])
    loan_bm = loan_with_instalments(bm, [AS_OF - timedelta(days=27), DUE])
    assert reminders_queue(as_of=AS_OF) == 2
    msgs = {m.person_id: m for m in OutboundMessage.objects.filter(purpose="instalment_reminder")}
    assert set(msgs) == {fr.pk, bm.pk}
    m_fr, m_bm = msgs[fr.pk], msgs[bm.pk]
    inst = Installment.objects.get(loan=loan_fr, due_on=DUE)
    assert m_fr.ref == f"credit.installment:{inst.pk}"
    assert m_fr.organisation_id == world.orgs.kondo.pk
    assert m_fr.phone == fr.phone
    assert m_fr.text == (f"Kondo Jigima: votre échéance de 27 500 F (crédit {loan_fr.number}) "
                         "est due le 12/03/2026. Merci de payer à temps.")
    assert (m_fr.language, m_fr.encoding, m_fr.parts) == ("fr", "gsm7", 1)
    assert m_bm.language == "bm"
    assert m_bm.text.startswith(f"Kondo Jigima: i ka juru 27 500 F ({loan_bm.number})")
    assert sms_length(m_bm.text).parts == m_bm.parts == 1


def test_running_twice_the_same_day_queues_nothing_more(world, member, loan_with_instalments):
    loan_with_instalments(member(), [DUE])
    assert reminders_queue(as_of=AS_OF) == 1
    assert reminders_queue(as_of=AS_OF) == 0
    assert OutboundMessage.objects.count() == 1


def test_who_gets_no_reminder(world, member, loan_with_instalments):
    loan_with_instalments(member(opt_in=False), [DUE])
    loan_with_instalments(member(opt_in=None), [DUE])
    no_phone = member()
    no_phone.phone = ""
    no_phone.save()
    loan_with_instalments(no_phone, [DUE])
    loan_with_instalments(member(), [DUE], status=LoanStatus.CLOSED)
    paid = loan_with_instalments(member(), [DUE])
    Installment.objects.filter(loan=paid).update(paid_on=AS_OF)
    rescheduled = loan_with_instalments(member(), [DUE])
    rescheduled.schedule_version = 2
    rescheduled.save()  # the due date belongs to the old schedule
    fully_paid = loan_with_instalments(member(), [DUE])
    Installment.objects.filter(loan=fully_paid).update(principal_paid=25_000,
                                                       interest_paid=2_500)
    loan_with_instalments(member(), [DUE + timedelta(days=1)])
    assert reminders_queue(as_of=AS_OF) == 0


def test_the_amount_is_what_is_left_to_pay_and_days_before_is_a_parameter(
        world, member, loan_with_instalments):
    loan = loan_with_instalments(member(), [AS_OF + timedelta(days=7)])
    Installment.objects.filter(loan=loan).update(principal_paid=10_000, interest_waived=500)
    assert reminders_queue(as_of=AS_OF) == 0
    assert reminders_queue(as_of=AS_OF, days_before=7) == 1
    assert " 17 000 F " in OutboundMessage.objects.get().text


def test_reminders_are_set_based(world, member, loan_with_instalments,
                                 django_assert_max_num_queries):
    for _ in range(40):
        loan_with_instalments(member(), [DUE])
    # The instalments (reminded ones excluded in the same query), the organisations' names,
    # one insert per 500 rows, and the transaction: whatever the number of loans.
    with django_assert_max_num_queries(6):
        assert reminders_queue(as_of=AS_OF) == 40


def test_receipt_in_the_members_language_inside_the_callers_transaction(world, member):
    person = member(language="bm")
    with transaction.atomic():
        m = receipt_queue(kind="deposit_receipt", organisation=world.orgs.kondo, person=person,
                          amount=15_000, on=date(2026, 3, 9), receipt="C001-2026-000042",
                          balance=115_000, ref="savings.transaction:42")
    assert m.text == ("Kondo Jigima: i ye 15 000 F bila 09/03/2026. I ka wari: 115 000 F. "
                      "Ref C001-2026-000042")
    assert (m.language, m.purpose, m.person_id, m.ref) == (
        "bm", "deposit_receipt", person.pk, "savings.transaction:42")
    # The caller's transaction rolled back: no receipt, no message.
    def failing_payment():
        with transaction.atomic():
            receipt_queue(kind="contribution_receipt", organisation=world.orgs.utm,
                          person=person, amount=3_300, on=date(2026, 3, 9), receipt="R-1",
                          until=date(2026, 4, 8))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_payment()
    assert OutboundMessage.objects.count() == 1


def test_receipt_uses_the_organisations_code_when_its_name_is_long(world, member):
    m = receipt_queue(kind="contribution_receipt", organisation=world.orgs.utm,
                      person=member(language="fr"), amount=3_300, on=date(2026, 3, 9),
                      receipt="M01-2026-7", until=date(2026, 4, 8))
    assert m.text.startswith("UTM: cotisation de 3 300 F")


def test_no_receipt_without_opt_in_or_phone(world, member):
    for person in (member(opt_in=False), member(opt_in=None)):
        assert receipt_queue(kind="dues_receipt", organisation=world.orgs.mtc, person=person,
                             amount=500, on=AS_OF, receipt="D-1", period="03/2026") is None
    assert OutboundMessage.objects.count() == 0
    with pytest.raises(ValueError, match="not a receipt"):
        receipt_queue(kind="campaign_message", organisation=world.orgs.mtc, person=member(),
                      amount=1, on=AS_OF)


def test_preference_falls_back_to_the_persons_language_and_is_audited(world, member):
    person = member(opt_in=None, person_language="en")
    pref = sms_preference_set(person=person, opt_in=True, language="en",
                              acting_user=world.users["teller_a"])
    assert (pref.opt_in, pref.language) == (True, "en")
    assert AuditEvent.objects.filter(event_type="channels.sms_preference",
                                     subject_id=str(pref.pk)).count() == 1
    m = receipt_queue(kind="repayment_receipt", organisation=world.orgs.kondo, person=person,
                      amount=27_500, on=AS_OF, receipt="R-9", balance=55_000, loan="C001-1")
    assert m.text.startswith("Kondo Jigima: repayment of 27 500 F")


def _cob_reminder(loan, amount=27_500, queued_for=AS_OF):
    from jigi.cob.models import Reminder

    inst = Installment.objects.get(loan=loan, due_on=DUE)
    return Reminder.objects.create(installment=inst, loan=loan, caisse=loan.caisse, due_on=DUE,
                                   amount=amount, queued_for=queued_for)


def test_reminders_close_of_business_queued_become_sms(world, member, loan_with_instalments):
    from jigi.channels.services import reminders_from_cob
    from jigi.cob.models import Reminder

    yes = loan_with_instalments(member(language="bm"), [DUE])
    no = loan_with_instalments(member(opt_in=False), [DUE])
    r_yes, r_no = _cob_reminder(yes, amount=12_345), _cob_reminder(no)
    assert reminders_from_cob(queued_for=AS_OF) == {"queued": 1, "handed_over": 1,
                                                    "cancelled": 1}
    m = OutboundMessage.objects.get()
    assert m.text == (f"Kondo Jigima: i ka juru 12 345 F ({yes.number}) ka kan ka sara "
                      "12/03/2026. I ni ce!")
    assert m.ref == f"credit.installment:{r_yes.installment_id}"
    assert Reminder.objects.get(pk=r_yes.pk).status == "sent"
    assert Reminder.objects.get(pk=r_no.pk).status == "cancelled"
    # Nothing left to hand over; and the direct way does not remind the same instalment.
    assert reminders_from_cob() == {"queued": 0, "handed_over": 0, "cancelled": 0}
    assert reminders_queue(as_of=AS_OF) == 0
    assert OutboundMessage.objects.count() == 1


def test_cob_reminder_of_an_instalment_already_reminded_is_handed_over_without_a_second_sms(
        world, member, loan_with_instalments):
    from jigi.channels.services import reminders_from_cob
    from jigi.cob.models import Reminder

    loan = loan_with_instalments(member(), [DUE])
    assert reminders_queue(as_of=AS_OF) == 1
    r = _cob_reminder(loan)
    assert reminders_from_cob(queued_for=AS_OF) == {"queued": 0, "handed_over": 1,
                                                    "cancelled": 0}
    assert Reminder.objects.get(pk=r.pk).status == "sent"
    assert OutboundMessage.objects.count() == 1
