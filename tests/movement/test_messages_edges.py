"""SMS to members, edges: a section's organiser texts her section only,
a double click on the case's SMS form sends one SMS, line breaks are text, a concurrent second
click of the campaign form is no 500, and the screens' refusals (outsiders, unassigned
workers) write nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.core.errors import ApplicationError
from jigi.movement.models import Campaign, CampaignMessage, CaseAction
from jigi.movement.services import campaigns as campaigns_svc
from jigi.movement.services import cases as case_svc
from jigi.movement.services import messages as svc
from jigi.orgs.models import MemberGroup
from tests.movement.conftest import make_member
from tests.movement.test_cases import _open, _worker_case

_n = iter(range(5000, 9999))


def _agreed(profile, language="fr"):
    profile.person.phone = f"+2237613{next(_n):04d}"
    profile.person.save(update_fields=["phone"])
    SmsPreference.objects.create(person=profile.person, opt_in=True, language=language)
    return profile


@pytest.fixture
def campaign(mtc) -> Campaign:
    """A campaign of every group (no group named)."""
    return campaigns_svc.campaign_create(
        acting_user=mtc.users["movement_admin"], code="TOUS", title="Journée des membres",
        goal="Réunir les membres", starts_on=date(2026, 3, 8), groups=[])


# --- a section's organiser ----------------------------------------------------------------------


def test_a_sections_organiser_texts_her_sections_members_only(mtc, campaign):
    dom = _agreed(make_member(mtc, MemberGroup.DOMESTIC))
    _agreed(make_member(mtc, MemberGroup.ARTISANS))
    sent = svc.campaign_message_send(acting_user=mtc.users["organiser"], campaign=campaign,
                                     text="Réunion samedi.", key="org-1")
    assert (sent.queued, sent.skipped) == (1, 0)
    assert list(OutboundMessage.objects.values_list("person_id", flat=True)) == [dom.person_id]
    assert sent.section == mtc.sections["domestic"]
    # Another section chosen by hand: not one she may choose, nothing written.
    with pytest.raises(ApplicationError) as err:
        svc.campaign_message_send(acting_user=mtc.users["organiser"], campaign=campaign,
                                  text="Réunion samedi.", key="org-2",
                                  section_id=mtc.sections["artisans"].pk)
    assert "section_id" in err.value.fields
    assert CampaignMessage.objects.count() == 1
    assert OutboundMessage.objects.count() == 1
    # The movement's administrator still reaches every section.
    every = svc.campaign_message_send(acting_user=mtc.users["movement_admin"],
                                      campaign=campaign, text="Réunion samedi.", key="adm-1")
    assert (every.queued, every.section) == (2, None)


def test_the_campaign_page_offers_her_own_sections(mtc, campaign, client_for):
    page = client_for("organiser").get(f"/movement/campaigns/{campaign.pk}/").content.decode()
    assert mtc.sections["domestic"].name in page
    assert mtc.sections["artisans"].name not in page
    admin = client_for("movement_admin").get(
        f"/movement/campaigns/{campaign.pk}/").content.decode()
    assert mtc.sections["artisans"].name in admin


# --- line breaks and the text's length ---------------------------------------------------------


def test_a_line_break_in_the_message_is_text_not_a_control_character(mtc, campaign,
                                                                     client_for):
    """The form is a textarea: Enter gives CRLF, which the browser counts as one character
    against maxlength=300; it is sent as one line break."""
    _agreed(make_member(mtc))
    text = "Réunion samedi\r\nà 9 h" + "." * (300 - 20)  # 300 characters in the browser
    r = client_for("movement_admin").post(
        f"/movement/campaigns/{campaign.pk}/message/", {"text": text, "key": "nl-1"})
    assert r.status_code == 302, r.content.decode()[:3000]
    sms = OutboundMessage.objects.get()
    assert sms.text.startswith("MTC: Réunion samedi\nà 9 h")
    assert "\r" not in sms.text
    assert CampaignMessage.objects.get().text.startswith("Réunion samedi\nà 9 h")


def test_a_case_message_keeps_its_line_breaks(mtc):
    case, worker = _worker_case(mtc)
    _agreed(case.profile)
    action = svc.case_message_send(acting_user=worker, case=case,
                                   text="Rendez-vous lundi\r\n10 h")
    assert action.note == "Rendez-vous lundi\n10 h"
    # Other control characters are still refused.
    with pytest.raises(ApplicationError) as err:
        svc.case_message_send(acting_user=worker, case=case, text="Bonjour\x07")
    assert "text" in err.value.fields


# --- double sends --------------------------------------------------------------------------------


def test_a_double_click_on_the_case_sms_form_sends_one_sms(mtc, client_for):
    case, _worker = _worker_case(mtc)
    _agreed(case.profile)
    case.refresh_from_db()
    c = client_for("case_worker_1")
    url = reverse("web:movement_case_sms", args=[case.pk])
    form = {"text": "Rendez-vous lundi 10 h.", "version": str(case.version)}
    assert c.post(url, form, HTTP_HX_REQUEST="true").status_code == 200
    again = c.post(url, form, HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    assert OutboundMessage.objects.filter(purpose="case_message").count() == 1
    assert CaseAction.objects.filter(kind="sms").count() == 1
    # The page drawn after the first send carries the new version: a second message goes.
    case.refresh_from_db()
    assert c.post(url, {"text": "Et mardi.", "version": str(case.version)},
                  HTTP_HX_REQUEST="true").status_code == 200
    assert OutboundMessage.objects.filter(purpose="case_message").count() == 2


def test_the_case_page_form_carries_the_cases_version(mtc, client_for):
    case, _worker = _worker_case(mtc)
    case.refresh_from_db()
    page = client_for("case_worker_1").get(reverse("web:movement_case", args=[case.pk]))
    html = page.content.decode()
    form = html[html.index('id="sms-form"'):]
    form = form[:form.index("</form>")]
    assert f'name="version" value="{case.version}"' in form


def test_a_concurrent_second_click_of_the_campaign_form_is_the_first_sending(
        mtc, campaign, monkeypatch):
    """Two requests with the same key at once: both find no sending, the second's INSERT hits
    the unique key. It answers the first sending (no IntegrityError, no 500, no SMS twice)."""
    _agreed(make_member(mtc))
    admin = mtc.users["movement_admin"]
    first = svc.campaign_message_send(acting_user=admin, campaign=campaign,
                                      text="Réunion samedi.", key="race-1")
    real = svc._sending_of
    calls = []

    def not_yet_committed(key):  # the other request's row is not visible at the first look
        calls.append(key)
        return None if len(calls) == 1 else real(key)

    monkeypatch.setattr(svc, "_sending_of", not_yet_committed)
    again = svc.campaign_message_send(acting_user=admin, campaign=campaign,
                                      text="Réunion samedi.", key="race-1")
    assert again.pk == first.pk
    assert OutboundMessage.objects.count() == 1
    calls.clear()
    with pytest.raises(ApplicationError) as err:
        svc.campaign_message_send(acting_user=admin, campaign=campaign, text="Autre.",
                                  key="race-1")
    assert err.value.status_code == 409


# --- refusals through the screens ----------------------------------------------------------------


@pytest.mark.parametrize(("user", "status"), [("teller_a", 404), ("mutual_manager", 404),
                                              ("case_worker_1", 403)])
def test_the_campaign_message_form_refuses_outsiders_and_case_workers(mtc, campaign,
                                                                      client_for, user,
                                                                      status):
    _agreed(make_member(mtc))
    r = client_for(user).post(f"/movement/campaigns/{campaign.pk}/message/",
                              {"text": "Bonjour", "key": "x-1"})
    assert r.status_code == status
    assert not CampaignMessage.objects.exists()
    assert not OutboundMessage.objects.exists()


@pytest.mark.parametrize(("user", "status"), [("teller_a", 404), ("mutual_manager", 404),
                                              ("case_worker_2", 403), ("organiser", 403)])
def test_the_case_sms_form_refuses_all_but_the_assigned_workers(mtc, client_for, user,
                                                                status):
    case, _worker = _worker_case(mtc)
    _agreed(case.profile)
    r = client_for(user).post(reverse("web:movement_case_sms", args=[case.pk]),
                              {"text": "Bonjour"})
    assert r.status_code == status
    assert b"Bonjour" not in r.content
    assert not CaseAction.objects.filter(kind="sms").exists()
    assert not OutboundMessage.objects.filter(purpose="case_message").exists()


def test_an_unassigned_case_is_refused_to_the_worker(mtc, client_for):
    case = _open(mtc)
    r = client_for("case_worker_1").post(reverse("web:movement_case_sms", args=[case.pk]),
                                         {"text": "Bonjour"})
    assert r.status_code == 403
    assert not OutboundMessage.objects.filter(purpose="case_message").exists()


def test_a_closed_case_or_a_bad_version_sends_nothing(mtc, client_for):
    case, worker = _worker_case(mtc)
    _agreed(case.profile)
    url = reverse("web:movement_case_sms", args=[case.pk])
    bad = client_for("case_worker_1").post(url, {"text": "Bonjour", "version": "abc"},
                                           HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    case_svc.case_close(acting_user=worker, case=case, outcome="no_result")
    case.refresh_from_db()
    closed = client_for("case_worker_1").post(url, {"text": "Bonjour",
                                                    "version": str(case.version)},
                                              HTTP_HX_REQUEST="true")
    assert closed.status_code == 409
    assert not OutboundMessage.objects.filter(purpose="case_message").exists()
    assert not CaseAction.objects.filter(kind="sms").exists()
