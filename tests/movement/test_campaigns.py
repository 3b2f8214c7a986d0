"""Campaigns, partners, milestones and actions: who writes, who reads, the status rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jigi.core.cleaning import today
from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.core.models import AuditEvent
from jigi.movement import selectors_campaigns as sel
from jigi.movement.models import Campaign, CampaignAction, Milestone, Partner
from jigi.movement.services import campaigns as svc


def _campaign(mtc, user="organiser", **kw):
    args = {"code": "repos-2027", "title": "Une demi-journée de repos par semaine",
            "goal": "Faire respecter le décret 96-178 : deux demi-journées de repos.",
            "starts_on": today(), "groups": ["domestic"]} | kw
    return svc.campaign_create(acting_user=mtc.users[user], **args)


def test_organiser_creates_a_campaign_with_partners(mtc):
    utm = svc.partner_create(acting_user=mtc.users["organiser"], name="UTM",
                             kind="mutual_union", jigi_organisation_id=mtc.world.orgs.utm.pk)
    union = svc.partner_create(acting_user=mtc.users["movement_admin"], name="UNTM",
                               kind="union", contact="Bourse du travail")
    c = _campaign(mtc, partner_ids=[utm.pk, union.pk])
    assert c.code == "REPOS-2027"
    assert c.status == "planned"
    assert c.organisation == mtc.org
    assert set(c.partners.values_list("name", flat=True)) == {"UTM", "UNTM"}
    assert utm.jigi_organisation == mtc.world.orgs.utm
    assert AuditEvent.objects.filter(event_type="movement.campaign_created",
                                     subject_id=str(c.pk)).count() == 1


def test_campaign_fields_are_checked_together(mtc):
    with pytest.raises(ApplicationError) as exc:
        svc.campaign_create(acting_user=mtc.users["organiser"], code="a b!", title="",
                            goal="x", starts_on=today(), ends_on=today() - timedelta(days=1),
                            groups=["plumbers"], partner_ids=[999999])
    assert exc.value.status_code == 422
    assert set(exc.value.fields) == {"code", "title", "ends_on", "groups", "partner_ids"}
    assert Campaign.objects.count() == 0


def test_duplicate_code_and_partner_are_409(mtc):
    _campaign(mtc)
    with pytest.raises(Conflict) as exc:
        _campaign(mtc, code="REPOS-2027")
    assert exc.value.code == "code_taken"
    svc.partner_create(acting_user=mtc.users["organiser"], name="UTM", kind="mutual_union")
    with pytest.raises(Conflict):
        svc.partner_create(acting_user=mtc.users["organiser"], name="utm", kind="union")
    assert Partner.objects.count() == 1


def test_case_worker_reads_but_may_not_write(mtc):
    c = _campaign(mtc)
    cw = mtc.users["case_worker_1"]
    assert sel.get_campaign_for_user(cw, c.pk) == c
    with pytest.raises(Forbidden):
        svc.campaign_create(acting_user=cw, code="X", title="X", goal="X", starts_on=today())
    with pytest.raises(Forbidden):
        svc.milestone_add(acting_user=cw, campaign=c, title="Rencontre", due_on=today())
    assert Milestone.objects.count() == 0


@pytest.mark.parametrize("outsider", ["teller_a", "mutual_manager"])
def test_outsiders_get_404(mtc, outsider):
    c = _campaign(mtc)
    user = mtc.users[outsider]
    with pytest.raises(NotFound):
        sel.get_campaign_for_user(user, c.pk)
    assert not sel.campaigns_for_user(user).exists()
    with pytest.raises(NotFound):
        svc.campaign_status_set(acting_user=user, campaign=c, status="active")
    with pytest.raises(NotFound):
        svc.partner_create(acting_user=user, name="X", kind="union")
    c.refresh_from_db()
    assert c.status == "planned"


def test_status_transitions(mtc):
    c = _campaign(mtc)
    user = mtc.users["organiser"]
    with pytest.raises(Conflict):
        svc.campaign_status_set(acting_user=user, campaign=c, status="won")
    c = svc.campaign_status_set(acting_user=user, campaign=c, status="active")
    assert c.status == "active"
    c = svc.campaign_status_set(acting_user=user, campaign=c, status="won")
    assert c.status == "won"
    assert c.ends_on == today()
    with pytest.raises(Conflict) as exc:
        svc.campaign_status_set(acting_user=user, campaign=c, status="active")
    assert exc.value.code == "bad_transition"
    with pytest.raises(ApplicationError) as exc:
        svc.campaign_status_set(acting_user=user, campaign=c, status="paused")
    assert exc.value.status_code == 422


def test_update_changes_only_what_is_given(mtc):
    c = _campaign(mtc)
    p = svc.partner_create(acting_user=mtc.users["organiser"], name="ONG Mali", kind="association")
    c2 = svc.campaign_update(acting_user=mtc.users["organiser"], campaign=c,
                             title="Repos hebdomadaire", partner_ids=[p.pk])
    assert c2.title == "Repos hebdomadaire"
    assert c2.goal == c.goal
    assert list(c2.partners.all()) == [p]
    with pytest.raises(ApplicationError):
        svc.campaign_update(acting_user=mtc.users["organiser"], campaign=c,
                            ends_on=c.starts_on - timedelta(days=3))


def test_milestones_are_reached_once_and_not_in_the_future(mtc):
    c = _campaign(mtc)
    user = mtc.users["organiser_art"]  # another section's organiser: campaigns are movement-wide
    m = svc.milestone_add(acting_user=user, campaign=c, title="Audience au ministère",
                          due_on=today() + timedelta(days=30))
    with pytest.raises(ApplicationError) as exc:
        svc.milestone_reach(acting_user=user, milestone=m, reached_on=today() + timedelta(days=1))
    assert exc.value.status_code == 422
    m = svc.milestone_reach(acting_user=user, milestone=m, reached_on=today())
    assert m.reached_on == today()
    with pytest.raises(Conflict):
        svc.milestone_reach(acting_user=user, milestone=m)


def test_actions_count_women_and_men(mtc):
    c = _campaign(mtc)
    p = svc.partner_create(acting_user=mtc.users["organiser"], name="UNTM", kind="union")
    svc.action_record(acting_user=mtc.users["organiser"], campaign=c, kind="meeting",
                      held_on=today(), place="Lafiabougou", partner_id=p.pk, women=34, men=6)
    svc.action_record(acting_user=mtc.users["organiser"], campaign=c, kind="media",
                      held_on=today(), place="Radio Kledu", women=2, men=1)
    detail = sel.campaign_detail(c)
    assert (detail["women"], detail["men"]) == (36, 7)
    assert detail["actions"][0].partner == p
    with pytest.raises(ApplicationError) as exc:
        svc.action_record(acting_user=mtc.users["organiser"], campaign=c, kind="party",
                          held_on=today(), women=-1, men=True)
    assert set(exc.value.fields) == {"kind", "women", "men"}
    assert CampaignAction.objects.count() == 2


@pytest.mark.parametrize(("typed", "region"), [
    ("Bamako", "Bamako"), ("SEGOU", "Ségou"), ("tombouctou", "Tombouctou"),
    ("taoudenit", "Taoudénit"), ("Menaka", "Ménaka"), ("  kita ", "Kita"),
])
def test_regions_match_without_accents_or_case(typed, region):
    e = svc._Errors()
    assert svc.clean_region(typed, e) == region
    assert not e.fields


def test_nineteen_regions_and_bamako_are_known():
    assert len(set(svc.known_regions().values())) == 20
