"""SMS from the movement to its members: a campaign's message to the members of its groups who
agreed to SMS (once per form key), and a case worker's message to her case's member, recorded
on the timeline and hidden from the outbox."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.channels import selectors as outbox
from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.core.errors import ApplicationError
from jigi.core.models import AuditEvent
from jigi.movement.models import CampaignMessage, CaseAction
from jigi.movement.services import campaigns as campaigns_svc
from jigi.movement.services import messages as svc
from jigi.orgs.models import MemberGroup
from jigi.people.models import Membership
from tests.movement.conftest import make_member
from tests.movement.test_cases import _as, _open, _worker_case


def _phone(profile, n, *, opt_in=True, language="bm"):
    profile.person.phone = f"+2237612{n:04d}"
    profile.person.save(update_fields=["phone"])
    if opt_in is not None:
        SmsPreference.objects.create(person=profile.person, opt_in=opt_in, language=language)
    return profile


@pytest.fixture
def campaign(mtc):
    return campaigns_svc.campaign_create(
        acting_user=mtc.users["movement_admin"], code="DEMI-JOURNEE",
        title="Une demi-journée de repos", goal="Repos hebdomadaire pour les aides ménagères",
        starts_on=date(2026, 3, 8), groups=[MemberGroup.DOMESTIC])


def _refused(call, **kw) -> ApplicationError:
    with pytest.raises(ApplicationError) as err:
        call(**kw)
    return err.value


def test_a_campaign_message_reaches_its_groups_members_who_agreed(mtc, campaign):
    yes = [_phone(make_member(mtc), k) for k in range(3)]
    _phone(make_member(mtc), 10, opt_in=False)
    make_member(mtc)  # no phone
    _phone(make_member(mtc, MemberGroup.ARTISANS), 20)  # not a group of the campaign
    left = _phone(make_member(mtc), 30)
    Membership.objects.filter(pk=left.membership_id).update(status="ended")

    sent = svc.campaign_message_send(acting_user=mtc.users["movement_admin"], campaign=campaign,
                                     text="Marche samedi 9 h, Bourse du travail.", key="k-1")
    assert (sent.queued, sent.skipped) == (3, 2)
    rows = OutboundMessage.objects.filter(purpose="campaign_message")
    assert sorted(rows.values_list("person_id", flat=True)) == sorted(p.person_id for p in yes)
    assert {m.text for m in rows} == {"MTC: Marche samedi 9 h, Bourse du travail."}
    assert set(rows.values_list("unit_id", flat=True)) == {mtc.sections["domestic"].pk}
    assert AuditEvent.objects.filter(event_type="movement.campaign_message").count() == 1

    # A second click of the same form sends nothing more; the key with another text is a 409.
    again = svc.campaign_message_send(acting_user=mtc.users["movement_admin"],
                                      campaign=campaign, key="k-1",
                                      text="Marche samedi 9 h, Bourse du travail.")
    assert again.pk == sent.pk
    assert rows.count() == 3
    assert _refused(svc.campaign_message_send, acting_user=mtc.users["movement_admin"],
                    campaign=campaign, key="k-1", text="Autre").status_code == 409
    # One section only.
    _phone(make_member(mtc, MemberGroup.ARTISANS), 21)
    campaign.groups = []
    campaign.save(update_fields=["groups"])
    art = svc.campaign_message_send(acting_user=mtc.users["movement_admin"], campaign=campaign,
                                    text="Atelier lundi.", key="k-2",
                                    section_id=mtc.sections["artisans"].pk)
    assert (art.queued, art.skipped) == (2, 0)


def test_campaign_message_refusals_write_nothing(mtc, campaign, world):
    _phone(make_member(mtc), 1)
    send = svc.campaign_message_send
    admin = mtc.users["movement_admin"]
    assert _refused(send, acting_user=admin, campaign=campaign, text=" ", key="a").fields == {
        "text": "Écrivez le message."}
    assert "text" in _refused(send, acting_user=admin, campaign=campaign, text="x" * 301,
                              key="a").fields
    assert "key" in _refused(send, acting_user=admin, campaign=campaign, text="Bonjour",
                             key="").fields
    assert "section_id" in _refused(send, acting_user=admin, campaign=campaign, text="Bonjour",
                                    key="a", section_id=world.caisse_a.pk).fields
    assert "section_id" in _refused(send, acting_user=admin, campaign=campaign, text="Bonjour",
                                    key="a", section_id="x").fields
    assert _refused(send, acting_user=mtc.users["case_worker_1"], campaign=campaign,
                    text="Bonjour", key="a").status_code == 403
    for outsider in ("teller_a", "mutual_manager"):
        assert _refused(send, acting_user=mtc.users[outsider], campaign=campaign,
                        text="Bonjour", key="a").status_code == 404
    assert not CampaignMessage.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_a_case_worker_texts_her_cases_member_on_the_timeline(mtc):
    case, worker = _worker_case(mtc)
    _phone(case.profile, 5, language="fr")
    action = svc.case_message_send(acting_user=worker, case=case,
                                   text="Rendez-vous lundi 10 h à l'inspection du travail.")
    assert (action.kind, action.created_by) == ("sms", worker)
    sms = OutboundMessage.objects.get(purpose="case_message")
    assert sms.text == (f"MTC: dossier {case.number}: Rendez-vous lundi 10 h à l'inspection "
                        "du travail.")
    assert sms.ref == f"case:{case.pk}:{action.pk}"
    # Not in anyone's outbox but the superuser's: the case's workers read it on the timeline.
    for username in ("movement_admin", "organiser", "case_worker_1"):
        assert not outbox.outbox_for_user(mtc.users[username]).filter(pk=sms.pk).exists()
    assert outbox.outbox_for_user(mtc.users["admin"]).filter(pk=sms.pk).exists()


def test_case_message_refusals_write_nothing(mtc):
    case, worker = _worker_case(mtc)
    send = svc.case_message_send
    # She has not agreed to SMS (and then no phone at all): 409, no step on the timeline.
    _phone(case.profile, 6, opt_in=False)
    assert _refused(send, acting_user=worker, case=case, text="Bonjour").code == \
        "sms_not_allowed"
    assert "text" in _refused(send, acting_user=worker, case=case, text="").fields
    other = _open(mtc)
    assert _refused(send, acting_user=worker, case=other, text="Bonjour").status_code == 403
    assert _refused(send, acting_user=mtc.users["movement_admin"],
                    case=_as(mtc, "movement_admin", case),
                    text="Bonjour").status_code == 403  # not assigned
    assert not CaseAction.objects.filter(kind="sms").exists()
    assert not OutboundMessage.objects.filter(purpose="case_message").exists()


def test_a_campaign_message_reads_each_members_choice_with_her(mtc, campaign,
                                                             django_assert_max_num_queries):
    """The audience's SMS choices come with the members (one query for all), not one query
    a member: 20 members, half opted in. Measured: 9 statements on SQLite, where the outbox's
    prepared insert is not counted; at most 10 more where it is; 29 with a query a member."""
    for k in range(20):
        _phone(make_member(mtc), 100 + k, opt_in=k % 2 == 0)
    with django_assert_max_num_queries(20):
        sent = svc.campaign_message_send(acting_user=mtc.users["movement_admin"],
                                         campaign=campaign, text="Réunion samedi.", key="q-1")
    assert (sent.queued, sent.skipped) == (10, 10)
