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

from django.db import IntegrityError, transaction
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
from jigi.movement.services._common import ORGANISER_ROLES
from jigi.orgs.models import Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.people.models import MembershipStatus

MAX_TEXT = 300  # two SMS parts in GSM-7 with the organisation's name in front


def _text(value: Any) -> str:
    """The message, its line breaks kept (the form is a textarea: Enter posts CRLF, counted as
    one character by the browser and sent as one line feed); other control characters are
    refused."""
    if value is None:
        value = ""
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    clean_text(value.replace("\n", " ") if isinstance(value, str) else value, "text",
               max_len=MAX_TEXT)
    text = value.strip()
    if not text:
        raise invalid({"text": _("Write the message.")})
    return text


def sections_for_sender(user, organisation_id: int):
    """The sections whose members `user` may text: every section of the movement for its
    administrator and its organisers of the whole movement, her own sections (and those below
    them) for an organiser limited to a unit."""
    return (Unit.objects.filter(organisation_id=organisation_id, kind=UnitKind.SECTION)
            .filter(user_scope(user).unit_q(write=True, roles=ORGANISER_ROLES))
            .order_by("name"))


def _movement_wide(user, organisation_id: int) -> bool:
    scope = user_scope(user)
    return scope.is_superuser or organisation_id in scope.org_wide_ids(
        write=True, roles=ORGANISER_ROLES)


def _sending_of(key: str) -> CampaignMessage | None:
    return CampaignMessage.objects.select_for_update().filter(key=key).first()


def _same_sending(first: CampaignMessage, campaign: Campaign, text: str,
                  section: Unit | None) -> CampaignMessage:
    if (first.campaign_id, first.text, first.section_id) != (
            campaign.pk, text, section.pk if section else None):
        raise conflict("key_reused", _("This form was already sent with another message."))
    return first


def campaign_audience(campaign: Campaign, section: Unit | None = None):
    """The members a campaign message goes to: the movement's members with a live membership,
    in the campaign's groups (all groups when it names none), in `section` when given."""
    qs = (MemberProfile.objects.filter(membership__organisation_id=campaign.organisation_id)
          .exclude(membership__status=MembershipStatus.ENDED)
          .select_related("person", "person__sms_preference").order_by("pk"))
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
    # An organiser limited to her section texts its members only (orgs.scoping, as every
    # other movement write): another section is not one of hers to choose, and "all
    # sections" means all of hers.
    allowed = sections_for_sender(acting_user, campaign.organisation_id)
    section, among = None, None
    if section_id not in (None, ""):
        section = allowed.filter(pk=id_or_none(section_id)).first()
        if section is None:
            raise invalid({"section_id": _("Choose a section from the list.")})
    elif not _movement_wide(acting_user, campaign.organisation_id):
        among = list(allowed)
        if len(among) == 1:
            section, among = among[0], None
    with transaction.atomic():
        first = _sending_of(key)
        if first is not None:
            return _same_sending(first, campaign, text, section)
        try:
            with transaction.atomic():
                message = CampaignMessage.objects.create(
                    campaign=campaign, text=text, section=section, key=key,
                    sent_by=acting_user)
        except IntegrityError:
            # The same form's other click committed meanwhile: its sending is the answer.
            first = _sending_of(key)
            if first is None:
                raise
            return _same_sending(first, campaign, text, section)
        queued = skipped = 0
        audience = campaign_audience(campaign, section)
        if among is not None:
            audience = audience.filter(section__in=among)
        for profile in audience.iterator(chunk_size=500):
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


def case_message_send(*, acting_user, case: Case, text: Any,
                      version: int | None = None) -> CaseAction:
    """An SMS from the case's worker to its member, recorded on the timeline in the same
    transaction. Refused (409, nothing written) when she has no phone or has not agreed to
    SMS, or when the case is closed. `version`: the case's version the form was drawn with;
    the sending bumps it, so a second click of the same form is a 409 and sends nothing."""
    sel_cases.require_handler(acting_user, case)
    text = _text(text)
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related(
            "person", "organisation").filter(pk=case.pk).first()
        if locked is None:
            raise NotFound("case_not_found", _("Case not found."))
        if version is not None and version != locked.version:
            raise conflict("case_changed",
                           _("Someone changed this case meanwhile: open it again."), "version")
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
        locked.version += 1
        locked.save(update_fields=["version"])
        audit_log(actor=acting_user, event_type="movement.case_message", subject=action,
                  organisation=locked.organisation, after={"case": locked.number})
    return action
