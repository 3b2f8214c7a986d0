"""MTC campaigns with partners, and petitions signed by phone.

Campaigns (CiviCampaign's shape): a code, a goal, the member groups concerned, partners (UTM,
unions, NGOs), dates, a status that moves planned -> active -> won or ended, milestones reached
on a date, and actions (meetings, advocacy, media, marches, trainings) with the women and men
who took part. Organisers and movement administrators write; every MTC staff member reads
(selectors_campaigns); anyone else gets a 404.

Petitions (CiviCRM petitions, with the e-mail confirmation replaced by an SMS code): a person
signs with her name, phone, sex and place; a six-digit code is queued by SMS in the same
transaction (channels.outbox) and only its HMAC is stored (petition_codes). One signature per
phone per petition; only confirmed signatures count. Signing again with the same phone while
pending sends a new code (the details typed last win: only the phone's holder can confirm);
once confirmed, the organiser's screen answers 409. The public page answers a confirmed phone
exactly as a fresh one (and the phone's holder gets an SMS saying she already signed), so
nobody can probe it for who signed.
"""

from __future__ import annotations

import csv
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.channels import templates as sms_templates
from jigi.channels.models import OutboundMessage
from jigi.channels.outbox import message_queue
from jigi.channels.services import sender_label
from jigi.core.audit import audit_log
from jigi.core.cleaning import (
    clean_int,
    clean_text,
    conflict,
    invalid,
    service_transaction,
    today,
)
from jigi.core.errors import ApplicationError, Conflict, NotFound
from jigi.core.lookup import id_or_none
from jigi.movement import petition_codes
from jigi.movement.models import (
    Campaign,
    CampaignAction,
    CampaignActionKind,
    CampaignStatus,
    MemberProfile,
    Milestone,
    Partner,
    PartnerKind,
    Petition,
    Signature,
    SignatureStatus,
)
from jigi.movement.selectors_campaigns import (
    petition_is_open,
    require_writer,
)
from jigi.movement.services._common import movement_organisation
from jigi.orgs.models import MemberGroup, Organisation
from jigi.people.phones import PhoneError, normalize_mali_phone
from jigi.people.selectors import persons_visible_to

# Campaigns are planned a few years ahead and recorded from paper a few years back.
DATE_SPAN = timedelta(days=5 * 366)
SMS_LANGUAGES = ("fr", "bm")
# Codes the public page sends per client address and hour, whatever the phones: against SMS
# pumping (a script typing many numbers to run up the movement's SMS bill). Counted in the
# configured cache: per process with the default local-memory cache, shared with Redis.
PUBLIC_CODES_PER_ADDRESS_HOUR = 30
CODE_PURPOSE = "petition_code"

# planned -> active -> won | ended; a planned campaign may also be dropped (ended).
TRANSITIONS: dict[str, set[str]] = {
    CampaignStatus.PLANNED: {CampaignStatus.ACTIVE, CampaignStatus.ENDED},
    CampaignStatus.ACTIVE: {CampaignStatus.WON, CampaignStatus.ENDED},
    CampaignStatus.WON: set(),
    CampaignStatus.ENDED: set(),
}

# The regions of the 2023 reform (19 and the District of Bamako) beside those of the places
# file (the 8 older regions and Bamako): a signer may name either.
REGIONS_2023 = ("Taoudénit", "Ménaka", "Nioro", "Kita", "Dioïla", "Nara", "Bougouni",
                "Koutiala", "San", "Douentza", "Bandiagara")


# --- cleaning ---------------------------------------------------------------------------------


class _Errors:
    """Collects every field's message before raising one 422."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}

    def text(self, value: Any, field: str, *, max_len: int, required: bool = False) -> str:
        try:
            return clean_text(value, field, max_len=max_len, required=required)
        except ApplicationError as exc:
            self.fields.update(exc.fields)
            return ""

    def date(self, value: Any, field: str, *, required: bool = True) -> date | None:
        if value is None:
            if required:
                self.fields[field] = _("This field is required.")
            return None
        if not isinstance(value, date) or (hasattr(value, "hour")):
            self.fields[field] = _("Enter a valid date (YYYY-MM-DD).")
            return None
        if abs(value - today()) > DATE_SPAN:
            self.fields[field] = _("This date is too far from today.")
            return None
        return value

    def count(self, value: Any, field: str, *, high: int = 1_000_000) -> int:
        if value is None or value == "":
            return 0
        try:
            return clean_int(value, field, low=0, high=high)  # type: ignore[return-value]
        except ApplicationError as exc:
            self.fields.update(exc.fields)
            return 0

    def choice(self, value: Any, field: str, choices: Any) -> str:
        if value not in choices.values:
            self.fields[field] = _("Choose one of the allowed values.")
            return ""
        return value

    def raise_if_any(self) -> None:
        if self.fields:
            raise invalid(self.fields)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold())
                   if not unicodedata.combining(c)).replace("-", " ").strip()


@cache
def known_regions() -> dict[str, str]:
    """Folded name -> the region's name as written, from the places file and the 2023 list."""
    text = resources.files("jigi.demo").joinpath("data", "mali_places.csv").read_text(
        encoding="utf-8")
    names = [row["region"] for row in csv.DictReader(text.splitlines())]
    return {_fold(n): n for n in [*names, *REGIONS_2023]}


def clean_region(value: Any, errors: _Errors, field: str = "region") -> str:
    text = errors.text(value, field, max_len=64)
    if not text:
        return ""
    name = known_regions().get(_fold(text))
    if name is None:
        errors.fields[field] = _("Choose a region of Mali.")
        return ""
    return name


def clean_phone(value: Any, errors: _Errors, field: str = "phone") -> str:
    try:
        return normalize_mali_phone(value if isinstance(value, str) else "")
    except PhoneError:
        errors.fields[field] = _("Enter a Mali phone number: 8 digits, like 76 12 34 56.")
        return ""


# --- partners ---------------------------------------------------------------------------------


def partner_create(*, acting_user, name: Any, kind: Any, contact: Any = "",
                   jigi_organisation_id: Any = None,
                   organisation: Organisation | None = None) -> Partner:
    """A partner of the movement's campaigns; `jigi_organisation_id` when it is itself on Jigi
    (UTM)."""
    organisation = organisation or movement_organisation()
    require_writer(acting_user, organisation.pk)
    e = _Errors()
    name = e.text(name, "name", max_len=200, required=True)
    kind = e.choice(kind, "kind", PartnerKind)
    contact = e.text(contact, "contact", max_len=200)
    jigi_org = None
    if jigi_organisation_id not in (None, ""):
        jigi_org = Organisation.objects.filter(pk=id_or_none(jigi_organisation_id)).first()
        if jigi_org is None or jigi_org.pk == organisation.pk:
            e.fields["jigi_organisation_id"] = _("Choose another organisation on Jigi.")
    e.raise_if_any()
    with service_transaction():
        if Partner.objects.filter(organisation=organisation, name__iexact=name).exists():
            raise conflict("partner_exists", _("A partner with this name exists."), "name")
        partner = Partner.objects.create(organisation=organisation, name=name, kind=kind,
                                         contact=contact, jigi_organisation=jigi_org)
        audit_log(actor=acting_user, event_type="movement.partner_created", subject=partner,
                  organisation=organisation, after={"name": name, "kind": kind})
    return partner


# --- campaigns --------------------------------------------------------------------------------


def _groups(value: Any, e: _Errors) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple) or any(g not in MemberGroup.values for g in value):
        e.fields["groups"] = _("Choose among the member groups.")
        return []
    return sorted(set(value))


def _partners(value: Any, organisation: Organisation, e: _Errors) -> list[Partner]:
    if value in (None, ""):
        return []
    ids = [id_or_none(v) for v in value] if isinstance(value, list | tuple) else [None]
    if None in ids or len(ids) > 100:
        e.fields["partner_ids"] = _("Choose partners from the list.")
        return []
    found = list(Partner.objects.filter(organisation=organisation, pk__in=ids))
    if len(found) != len(set(ids)):
        e.fields["partner_ids"] = _("Choose partners from the list.")
    return found


def _check_dates(e: _Errors, starts_on: date | None, ends_on: date | None,
                 end_field: str = "ends_on") -> None:
    if starts_on and ends_on and ends_on < starts_on:
        e.fields[end_field] = _("The end comes after the start.")


def campaign_create(*, acting_user, code: Any, title: Any, goal: Any, starts_on: Any,
                    ends_on: Any = None, groups: Any = None, partner_ids: Any = None,
                    organisation: Organisation | None = None) -> Campaign:
    """A planned campaign of the movement."""
    organisation = organisation or movement_organisation()
    require_writer(acting_user, organisation.pk)
    e = _Errors()
    code = e.text(code, "code", max_len=24, required=True).upper().replace(" ", "-")
    if code and not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        e.fields["code"] = _("Letters, digits and dashes only.")
    title = e.text(title, "title", max_len=200, required=True)
    goal = e.text(goal, "goal", max_len=4000, required=True)
    starts_on = e.date(starts_on, "starts_on")
    ends_on = e.date(ends_on, "ends_on", required=False)
    _check_dates(e, starts_on, ends_on)
    groups = _groups(groups, e)
    partners = _partners(partner_ids, organisation, e)
    e.raise_if_any()
    with service_transaction():
        if Campaign.objects.filter(organisation=organisation, code=code).exists():
            raise conflict("code_taken", _("Another campaign has this code."), "code")
        campaign = Campaign.objects.create(
            organisation=organisation, code=code, title=title, goal=goal, groups=groups,
            starts_on=starts_on, ends_on=ends_on, created_by=acting_user)
        campaign.partners.set(partners)
        audit_log(actor=acting_user, event_type="movement.campaign_created", subject=campaign,
                  organisation=organisation,
                  after={"code": code, "title": title, "partners": [p.pk for p in partners]})
    return campaign


def campaign_update(*, acting_user, campaign: Campaign, title: Any = None, goal: Any = None,
                    starts_on: Any = None, ends_on: Any = None, groups: Any = None,
                    partner_ids: Any = None) -> Campaign:
    """Change what is given (None: unchanged); the status changes through campaign_status_set."""
    require_writer(acting_user, campaign.organisation_id)
    e = _Errors()
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = e.text(title, "title", max_len=200, required=True)
    if goal is not None:
        changes["goal"] = e.text(goal, "goal", max_len=4000, required=True)
    if starts_on is not None:
        changes["starts_on"] = e.date(starts_on, "starts_on")
    if ends_on is not None:
        changes["ends_on"] = e.date(ends_on, "ends_on")
    if groups is not None:
        changes["groups"] = _groups(groups, e)
    partners = (_partners(partner_ids, campaign.organisation, e)
                if partner_ids is not None else None)
    _check_dates(e, changes.get("starts_on", campaign.starts_on),
                 changes.get("ends_on", campaign.ends_on))
    e.raise_if_any()
    with service_transaction():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        before = {k: str(getattr(locked, k)) for k in changes}
        for k, v in changes.items():
            setattr(locked, k, v)
        if changes:
            locked.save(update_fields=list(changes))
        if partners is not None:
            locked.partners.set(partners)
            changes["partners"] = [p.pk for p in partners]
        audit_log(actor=acting_user, event_type="movement.campaign_updated", subject=locked,
                  organisation=campaign.organisation, before=before,
                  after={k: str(v) for k, v in changes.items()})
    return locked


def campaign_status_set(*, acting_user, campaign: Campaign, status: Any) -> Campaign:
    """planned -> active -> won | ended (planned -> ended drops it); won and ended are final."""
    require_writer(acting_user, campaign.organisation_id)
    if status not in CampaignStatus.values:
        raise invalid({"status": _("Choose one of the allowed values.")})
    with service_transaction():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if status not in TRANSITIONS[locked.status]:
            raise Conflict("bad_transition",
                           _("A campaign cannot go from “%(old)s” to “%(new)s”.") % {
                               "old": locked.get_status_display(),
                               "new": CampaignStatus(status).label})
        old = locked.status
        locked.status = status
        fields = ["status"]
        if status in (CampaignStatus.WON, CampaignStatus.ENDED) and locked.ends_on is None:
            locked.ends_on = max(today(), locked.starts_on)
            fields.append("ends_on")
        locked.save(update_fields=fields)
        audit_log(actor=acting_user, event_type="movement.campaign_status", subject=locked,
                  organisation=campaign.organisation, before={"status": old},
                  after={"status": status})
    return locked


def milestone_add(*, acting_user, campaign: Campaign, title: Any, due_on: Any) -> Milestone:
    require_writer(acting_user, campaign.organisation_id)
    e = _Errors()
    title = e.text(title, "title", max_len=200, required=True)
    due_on = e.date(due_on, "due_on")
    e.raise_if_any()
    with service_transaction():
        milestone = Milestone.objects.create(campaign=campaign, title=title, due_on=due_on)
        audit_log(actor=acting_user, event_type="movement.milestone_added", subject=milestone,
                  organisation=campaign.organisation,
                  after={"campaign": campaign.pk, "title": title, "due_on": str(due_on)})
    return milestone


def milestone_reach(*, acting_user, milestone: Milestone, reached_on: Any = None) -> Milestone:
    """Mark a milestone reached on a day (today by default; never in the future)."""
    campaign = milestone.campaign
    require_writer(acting_user, campaign.organisation_id)
    e = _Errors()
    reached_on = e.date(reached_on if reached_on is not None else today(), "reached_on")
    if reached_on and reached_on > today():
        e.fields["reached_on"] = _("This date is in the future.")
    e.raise_if_any()
    with service_transaction():
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if locked.reached_on is not None:
            raise conflict("already_reached", _("This milestone is already reached."))
        locked.reached_on = reached_on
        locked.save(update_fields=["reached_on"])
        audit_log(actor=acting_user, event_type="movement.milestone_reached", subject=locked,
                  organisation=campaign.organisation, after={"reached_on": str(reached_on)})
    return locked


def action_record(*, acting_user, campaign: Campaign, kind: Any, held_on: Any, place: Any = "",
                  note: Any = "", partner_id: Any = None, women: Any = 0,
                  men: Any = 0) -> CampaignAction:
    """A meeting, advocacy visit, radio programme, march or training of the campaign, with the
    partner who led it and the women and men who took part."""
    require_writer(acting_user, campaign.organisation_id)
    e = _Errors()
    kind = e.choice(kind, "kind", CampaignActionKind)
    held_on = e.date(held_on, "held_on")
    place = e.text(place, "place", max_len=200)
    note = e.text(note, "note", max_len=2000)
    women = e.count(women, "women")
    men = e.count(men, "men")
    partner = None
    if partner_id not in (None, ""):
        partner = Partner.objects.filter(organisation_id=campaign.organisation_id,
                                         pk=id_or_none(partner_id)).first()
        if partner is None:
            e.fields["partner_id"] = _("Choose partners from the list.")
    e.raise_if_any()
    with service_transaction():
        action = CampaignAction.objects.create(
            campaign=campaign, kind=kind, held_on=held_on, place=place, note=note,
            partner=partner, women=women, men=men, created_by=acting_user)
        audit_log(actor=acting_user, event_type="movement.campaign_action", subject=action,
                  organisation=campaign.organisation,
                  after={"campaign": campaign.pk, "kind": kind, "women": women, "men": men})
    return action


# --- petitions --------------------------------------------------------------------------------


def petition_create(*, acting_user, campaign: Campaign, title: Any, text: Any, opens_on: Any,
                    target: Any = 0, closes_on: Any = None) -> Petition:
    require_writer(acting_user, campaign.organisation_id)
    e = _Errors()
    title = e.text(title, "title", max_len=200, required=True)
    # The petition's text keeps its paragraphs: clean_text refuses control characters, so
    # newlines are checked line by line.
    body = text if isinstance(text, str) else None
    if body is None or not body.strip():
        e.fields["text"] = _("This field is required.")
        body = ""
    elif len(body) > 10_000:
        e.fields["text"] = _("At most %(n)d characters.") % {"n": 10_000}
    else:
        body = "\n".join(e.text(line, "text", max_len=10_000)
                         for line in body.replace("\r\n", "\n").split("\n")).strip()
    target = e.count(target, "target", high=10_000_000)
    opens_on = e.date(opens_on, "opens_on")
    closes_on = e.date(closes_on, "closes_on", required=False)
    _check_dates(e, opens_on, closes_on, "closes_on")
    e.raise_if_any()
    with service_transaction():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status in (CampaignStatus.ENDED, CampaignStatus.WON):
            raise conflict("campaign_over", _("This campaign is over."))
        petition = Petition.objects.create(campaign=locked, title=title, text=body,
                                           target=target, opens_on=opens_on,
                                           closes_on=closes_on)
        audit_log(actor=acting_user, event_type="movement.petition_created", subject=petition,
                  organisation=campaign.organisation,
                  after={"campaign": campaign.pk, "title": title, "target": target})
    return petition


@dataclass(frozen=True)
class SignerDetails:
    name: str
    phone: str
    sex: str
    region: str
    commune: str
    language: str
    person: Any


def _signer(user, *, name: Any, phone: Any, sex: Any, region: Any, commune: Any,
            language: Any, person_id: Any) -> SignerDetails:
    e = _Errors()
    name = e.text(name, "name", max_len=200, required=True)
    phone = clean_phone(phone, e)
    if sex not in ("F", "M"):
        e.fields["sex"] = _("Choose woman or man.")
    region = clean_region(region, e)
    commune = e.text(commune, "commune", max_len=100)
    if language in (None, ""):
        language = "fr"
    if language not in SMS_LANGUAGES:
        e.fields["language"] = _("Choose one of the allowed values.")
    person = None
    if person_id not in (None, ""):
        # Only staff link a registry person, and only one they may see.
        visible = persons_visible_to(user) if user is not None else None
        pk = id_or_none(person_id)
        person = visible.filter(pk=pk).first() if visible is not None and pk else None
        if person is None:
            e.fields["person_id"] = _("Person not found.")
    e.raise_if_any()
    return SignerDetails(name, phone, sex, region, commune, language, person)


def _codes_sent_recently(organisation_id: int, phone: str) -> int:
    """Codes sent to the phone by the movement in the window (any petition). The organisation
    and time come first: the outbox's (organisation, created_at) index reads one day only."""
    since = timezone.now() - petition_codes.CODES_WINDOW
    return OutboundMessage.objects.filter(organisation_id=organisation_id, created_at__gte=since,
                                          purpose=CODE_PURPOSE, phone=phone).count()


def _sms(petition: Petition, signer: SignerDetails, signature: Signature, *,
         code: str | None) -> None:
    """Queue the code (or, when the phone has signed already, a thank-you) in the signer's
    language, inside the caller's transaction."""
    if not petition_codes.may_send_code(
            _codes_sent_recently(petition.campaign.organisation_id, signer.phone)):
        raise ApplicationError(
            "too_many_codes",
            _("Too many codes were sent to this phone today. Try again tomorrow."),
            {"phone": _("Too many codes were sent to this phone today. Try again tomorrow.")},
            status_code=429)
    organisation = petition.campaign.organisation
    label = sender_label(organisation)
    if code is None:
        # No catalogue text for this rare case: gettext in her language, GSM-7 wording.
        with translation.override(signer.language):
            text = gettext("%(org)s: you have already signed this petition. Thank you!") % {
                "org": label}
        language = signer.language
    else:
        # The channels' catalogue text (French, Bambara), one SMS part.
        sms = sms_templates.render("petition_code", signer.language, org=label, code=code)
        text, language = sms.text, sms.language
    message_queue(organisation=organisation, phone=signer.phone, text=text,
                  purpose=CODE_PURPOSE, ref=f"movement.signature:{signature.pk}",
                  person=signer.person, language=language,
                  unit_id=_signer_section_id(organisation, signer.person))


def _signer_section_id(organisation: Organisation, person) -> int | None:
    """The section of a registered member who signs (her newest profile in the movement): its
    organisers read her code in the outbox. None for the public: the movement's level."""
    if person is None:
        return None
    return (MemberProfile.objects
            .filter(person=person, membership__organisation=organisation)
            .order_by("-pk").values_list("section_id", flat=True).first())


@dataclass(frozen=True)
class SignOutcome:
    signature: Signature
    code_sent: bool  # False: the public page's already-signed case (a thank-you went instead)


def _sign(petition: Petition, signer: SignerDetails, *, acting_user, public: bool,
          randbelow=secrets.randbelow) -> SignOutcome:
    if not petition_is_open(petition):
        raise conflict("petition_closed", _("This petition is not open for signing."))
    now = timezone.now()
    code = petition_codes.code_new(randbelow)
    digest = petition_codes.code_hash(settings.SECRET_KEY, petition_id=petition.pk,
                                      phone=signer.phone, code=code)
    try:
        with service_transaction():
            sig = (Signature.objects.select_for_update()
                   .filter(petition=petition, phone=signer.phone).first())
            if sig is not None and sig.status == SignatureStatus.CONFIRMED:
                if not public:
                    raise conflict("already_signed", _("This phone has already signed."),
                                   "phone")
                _sms(petition, signer, sig, code=None)
                return SignOutcome(sig, code_sent=False)
            details = {"name": signer.name, "sex": signer.sex, "region": signer.region,
                       "commune": signer.commune, "code_hash": digest, "code_sent_at": now,
                       "attempts": 0}
            if signer.person is not None:
                details["person"] = signer.person
            if not public:
                details["collected_by"] = acting_user
            if sig is None:
                sig = Signature.objects.create(petition=petition, phone=signer.phone,
                                               status=SignatureStatus.PENDING, **details)
            else:
                for k, v in details.items():
                    setattr(sig, k, v)
                sig.save()
            _sms(petition, signer, sig, code=code)
            if not public:
                audit_log(actor=acting_user, event_type="movement.signature_collected",
                          subject=sig, organisation=petition.campaign.organisation,
                          after={"petition": petition.pk})
            return SignOutcome(sig, code_sent=True)
    except IntegrityError:
        # The same phone signing twice at the same instant: the other request holds it.
        raise conflict("try_again", _("This phone is being signed in: try again.")) from None


def signature_collect(*, acting_user, petition: Petition, name: Any, phone: Any, sex: Any,
                      region: Any = "", commune: Any = "", language: Any = "fr",
                      person_id: Any = None, randbelow=secrets.randbelow) -> SignOutcome:
    """An organiser takes a signature (at a meeting, logged in): the code goes to the signer's
    phone and she reads it out to confirm. A confirmed phone is a 409."""
    require_writer(acting_user, petition.campaign.organisation_id)
    signer = _signer(acting_user, name=name, phone=phone, sex=sex, region=region,
                     commune=commune, language=language, person_id=person_id)
    return _sign(petition, signer, acting_user=acting_user, public=False, randbelow=randbelow)


def _public_address_allow(address: str) -> None:
    if not address:
        return
    key = f"jigi:petition-sign:{address[:64]}:{int(time.time() // 3600)}"
    counter = caches["default"]
    counter.add(key, 0, timeout=3600)
    try:
        n = counter.incr(key)
    except ValueError:  # evicted between add and incr
        n = 1
    if n > PUBLIC_CODES_PER_ADDRESS_HOUR:
        raise ApplicationError("too_many_requests",
                               _("Too many signatures from this connection. Try again later."),
                               status_code=429)


def signature_sign_public(*, petition: Petition, name: Any, phone: Any, sex: Any,
                          region: Any = "", commune: Any = "", language: Any = "fr",
                          address: str = "", randbelow=secrets.randbelow) -> SignOutcome:
    """Anyone signs from the public page. The answer is the same whether or not the phone has
    signed before; at most petition_codes.MAX_CODES_PER_DAY codes a day go to one phone, and
    PUBLIC_CODES_PER_ADDRESS_HOUR requests an hour come from one client `address`."""
    _public_address_allow(address)
    signer = _signer(None, name=name, phone=phone, sex=sex, region=region, commune=commune,
                     language=language, person_id=None)
    return _sign(petition, signer, acting_user=None, public=True, randbelow=randbelow)


_WRONG_PUBLIC = _("This code is not right or no longer valid. Check the SMS, or ask for a "
                  "new code.")


def signature_confirm(*, petition: Petition, phone: Any, code: Any, acting_user=None,
                      public: bool = False) -> Signature:
    """Confirm a signature with the code sent to its phone: at most five tries per code and
    24 hours, then a new code must be requested (signing again). A wrong try is counted even
    though the call is refused. The public answer is one message for every failure (unknown
    phone, wrong, expired, locked), so it tells nothing about who signed."""
    if not public:
        require_writer(acting_user, petition.campaign.organisation_id)
    e = _Errors()
    phone = clean_phone(phone, e)
    if petition_codes.clean_typed_code(code) is None:
        e.fields["code"] = _("Type the six digits of the SMS.")
    e.raise_if_any()
    # Only a confirmed signature counts: once the petition closed (its last day passed, its
    # campaign ended) a code typed late must not add one to the count handed over.
    if not petition_is_open(petition):
        raise conflict("petition_closed", _("This petition is not open for signing."))
    verdict = None
    already = False
    left = 0
    with service_transaction():
        sig = (Signature.objects.select_for_update()
               .filter(petition=petition, phone=phone).first())
        if sig is not None and sig.status == SignatureStatus.CONFIRMED:
            # Confirming twice with the right code is harmless (a double click).
            if petition_codes.code_matches(settings.SECRET_KEY, petition_id=petition.pk,
                                           phone=phone, typed=code, stored_hash=sig.code_hash):
                return sig
            already = True
        elif sig is not None:
            verdict = petition_codes.code_check(
                settings.SECRET_KEY, petition_id=petition.pk, phone=phone, typed=code,
                stored_hash=sig.code_hash, attempts=sig.attempts, sent_at=sig.code_sent_at,
                now=timezone.now())
            if verdict is petition_codes.Verdict.OK:
                sig.status = SignatureStatus.CONFIRMED
                sig.confirmed_at = timezone.now()
                sig.save(update_fields=["status", "confirmed_at"])
                if not public:
                    audit_log(actor=acting_user, event_type="movement.signature_confirmed",
                              subject=sig, organisation=petition.campaign.organisation,
                              after={"petition": petition.pk})
                return sig
            if verdict is petition_codes.Verdict.WRONG:
                sig.attempts += 1
                sig.save(update_fields=["attempts"])
                left = petition_codes.attempts_left(sig.attempts)
    # Outside the transaction: the counted try stays recorded.
    if public:
        raise invalid({"code": _WRONG_PUBLIC})
    if already:
        raise conflict("already_signed", _("This phone has already signed."), "phone")
    if sig is None:
        raise NotFound("signature_not_found", _("No signature waits for a code on this phone."))
    if verdict is petition_codes.Verdict.EXPIRED:
        raise conflict("code_expired", _("This code has expired: send a new code."), "code")
    if verdict is petition_codes.Verdict.LOCKED or left == 0:
        raise conflict("code_locked", _("Too many wrong codes: send a new code."), "code")
    raise invalid({"code": _("Wrong code. %(n)d tries left.") % {"n": left}})
