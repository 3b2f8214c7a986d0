"""SMS from the movement to its members: a campaign's message to the members it concerns, and
a case worker's message to the member whose case she handles.

Both go through the channels outbox (`member_sms_queue`), in the member's language and only to
members who agreed to SMS (channels.policy: campaign and case messages need the opt-in; a
domestic worker's phone may be read by her employer, so nothing is sent without her yes).
A case message is also a step of the case's timeline, and the outbox hides its text from
everyone but the superuser (channels.selectors.outbox_q): only the case's workers read it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jigi.channels.services import member_sms_queue
from jigi.core.audit import audit_log
from jigi.core.cleaning import clean_text, conflict, invalid
from jigi.core.cleaning import today as _today
from jigi.core.errors import NotFound
from jigi.core.lookup import id_or_none
from jigi.movement import selectors_cases as sel_cases
from jigi.movement.models import (
    ActionKind,
    Campaign,
    CampaignMessage,
    Case,
    CaseAction,
    CaseStatus,
    MemberProfile,
)
from jigi.movement.selectors_campaigns import require_writer
from jigi.orgs.models import Unit, UnitKind
from jigi.people.models import MembershipStatus

MAX_TEXT = 300  # two SMS parts in GSM-7 with the organisation's name in front


def _text(value: Any) -> str:
    text = clean_text(value, "text", max_len=MAX_TEXT)
    if not text:
        raise invalid({"text": _("Write the message.")})
    return text


def campaign_audience(campaign: Campaign, section: Unit | None = None):
    """The members a campaign message goes to: the movement's members with a live membership,
    in the campaign's groups (all groups when it names none), in `section` when given."""
    qs = (MemberProfile.objects.filter(membership__organisation_id=campaign.organisation_id)
          .exclude(membership__status=MembershipStatus.ENDED)
          .select_related("person").order_by("pk"))
    if campaign.groups:
        qs = qs.filter(group__in=campaign.groups)
    if section is not None:
        qs = qs.filter(section=section)
    return qs


def campaign_message_send(*, acting_user, campaign: Campaign, text: Any, key: Any,
                          section_id: Any = None) -> CampaignMessage:
    """Queue `text` to the campaign's members who agreed to SMS, in one transaction with the
    CampaignMessage that counts them. The same key again returns the first sending (a double
    click sends nothing twice); the same key with another text or section is a 409."""
    require_writer(acting_user, campaign.organisation_id)
    key = clean_text(key, "key", max_len=64)
    if not key:
        raise invalid({"key": _("This field is required.")})
    text = _text(text)
    section = None
    if section_id not in (None, ""):
        section = Unit.objects.filter(pk=id_or_none(section_id), kind=UnitKind.SECTION,
                                      organisation_id=campaign.organisation_id).first()
        if section is None:
            raise invalid({"section_id": _("Choose a section from the list.")})
    with transaction.atomic():
        first = CampaignMessage.objects.select_for_update().filter(key=key).first()
        if first is not None:
            if (first.campaign_id, first.text, first.section_id) != (
                    campaign.pk, text, section.pk if section else None):
                raise conflict("key_reused",
                               _("This form was already sent with another message."))
            return first
        message = CampaignMessage.objects.create(campaign=campaign, text=text, section=section,
                                                 key=key, sent_by=acting_user)
        queued = skipped = 0
        for profile in campaign_audience(campaign, section).iterator(chunk_size=500):
            sms = member_sms_queue(kind="campaign_message", organisation=campaign.organisation,
                                   person=profile.person, unit_id=profile.section_id,
                                   ref=f"campaign:{campaign.pk}:{message.pk}", text=text)
            if sms is None:
                skipped += 1
            else:
                queued += 1
        message.queued, message.skipped = queued, skipped
        message.save(update_fields=["queued", "skipped"])
        audit_log(actor=acting_user, event_type="movement.campaign_message", subject=message,
                  organisation=campaign.organisation,
                  after={"campaign": campaign.pk, "queued": queued, "skipped": skipped,
                         "section": section.pk if section else None})
    return message


def case_message_send(*, acting_user, case: Case, text: Any) -> CaseAction:
    """An SMS from the case's worker to its member, recorded on the timeline in the same
    transaction. Refused (409, nothing written) when she has no phone or has not agreed to
    SMS, or when the case is closed."""
    sel_cases.require_handler(acting_user, case)
    text = _text(text)
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related(
            "person", "organisation").filter(pk=case.pk).first()
        if locked is None:
            raise NotFound("case_not_found", _("Case not found."))
        if locked.status == CaseStatus.CLOSED:
            raise conflict("case_closed", _("This case is closed: reopen it first."))
        action = CaseAction.objects.create(case=locked, kind=ActionKind.SMS,
                                           happened_on=_today(), note=text,
                                           created_by=acting_user)
        sms = member_sms_queue(kind="case_message", organisation=locked.organisation,
                               person=locked.person, ref=f"case:{locked.pk}:{action.pk}",
                               unit_id=locked.section_id, case=locked.number, text=text)
        if sms is None:
            # Raising rolls the timeline step back with it: nothing half-written.
            raise conflict("sms_not_allowed",
                           _("No SMS can be sent: the member has no phone or has not agreed "
                             "to receive SMS."))
        audit_log(actor=acting_user, event_type="movement.case_message", subject=action,
                  organisation=locked.organisation, after={"case": locked.number})
    return action
