"""USSD writes: the gateway's request answered (its session found or started, timed out after
3 minutes untouched, logged), a member's call-back request (once a day) and her language.

The menu itself is pure (`menu.respond`); this module gives it the session's facts and the
database provider, then records what the reply changed, in short transactions (the replies'
reads run outside any transaction so that sessions never queue behind each other on SQLite).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import CallbackRequest, SmsPreference, UssdSession
from jigi.channels.ussd import menu
from jigi.core.audit import audit_log
from jigi.core.cleaning import invalid
from jigi.orgs.models import UnitKind
from jigi.people.models import Membership, MembershipStatus, Person

SESSION_TIMEOUT = timedelta(minutes=3)


@dataclass(frozen=True)
class GatewayRequest:
    session_id: str
    phone: str  # E.164, already checked
    service_code: str
    text: str


def _end(msgid: str) -> str:
    # Before the member is known, replies are in French (the product's first language).
    from django.utils import translation

    with translation.override("fr"):
        return menu.fit(menu.END, [gettext(msgid)])


def ussd_answer(request: GatewayRequest, *, now: datetime | None = None) -> str:
    """The reply text ("CON ..."/"END ...") to one gateway request."""
    from jigi.channels.ussd import data

    now = now or timezone.now()
    session = UssdSession.objects.filter(session_id=request.session_id).first()
    persons = None
    if session is None:
        if request.text:
            # The gateway continues a session we never started (or forgot): start over.
            return _end("Session ended. Dial again.")
        persons = data.persons_by_phone(request.phone)
        try:
            with transaction.atomic():
                session = UssdSession.objects.create(
                    session_id=request.session_id, phone=request.phone,
                    service_code=request.service_code,
                    language=data.start_language(persons))
        except IntegrityError:  # the same first request twice at once
            session = UssdSession.objects.filter(session_id=request.session_id).first()
            if session is None:
                return _end("Session ended. Dial again.")
    if session.phone != request.phone:
        return _end("Session ended. Dial again.")
    if session.ended:
        return _end("Session ended. Dial again.")
    if now - session.last_at > SESSION_TIMEOUT:
        UssdSession.objects.filter(pk=session.pk).update(ended=True)
        return _end("Time is up. Dial again.")
    if persons is None:
        persons = data.persons_by_phone(request.phone)
    state = menu.Session(
        persons=tuple(menu.Person(p.id, p.first_name) for p in persons),
        start_language=session.language, authenticated=session.authenticated,
        person_id=session.person_id)
    reply = menu.respond(request.text, state, data.DbProvider(request.phone, persons))
    UssdSession.objects.filter(pk=session.pk).update(
        last_text=request.text[:200], steps=session.steps + 1, last_at=now,
        ended=reply.ended, authenticated=reply.authenticated,
        person_id=reply.person_id if reply.authenticated else session.person_id)
    return reply.text


def _unit_of(person_id: int):
    """Her caisse, else her mutual: the newest active membership of either kind."""
    rows = (Membership.objects.filter(person_id=person_id, status=MembershipStatus.ACTIVE,
                                      unit__kind__in=[UnitKind.CAISSE, UnitKind.MUTUAL])
            .select_related("unit").order_by("-start_date", "-pk"))
    units = [m.unit for m in rows[:10]]
    caisses = [u for u in units if u.kind == UnitKind.CAISSE]
    return (caisses or units or [None])[0]


def ussd_callback_request(*, person_id: int, phone: str) -> str:
    """She asks her caisse (or mutual) to call her back: one request a day, whatever she
    presses. Answers "new", "already" or "no_unit"."""
    unit = _unit_of(person_id)
    if unit is None:
        return "no_unit"
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic(durable=True):
        # The person's row lock makes "once a day" hold with two requests at once.
        person = Person.objects.select_for_update().get(pk=person_id)
        if CallbackRequest.objects.filter(person=person, requested_at__gte=start).exists():
            return "already"
        request = CallbackRequest.objects.create(person=person, unit=unit, phone=phone,
                                                 topic="ussd")
        audit_log(actor=None, event_type="ussd.callback_requested", subject=request,
                  unit=unit, after={"person": person_id})
    return "new"


def ussd_language_set(*, person_id: int, language: str, acting_user=None) -> None:
    """Her language for USSD and SMS, chosen on the phone or at the counter (her SMS consent
    is left as it is; a new preference starts without consent)."""
    if language not in menu.LANGUAGES:
        return
    with transaction.atomic(durable=True):
        _language_store(person_id=person_id, language=language, acting_user=acting_user)


def _language_store(*, person_id: int, language: str, acting_user) -> None:
    pref = SmsPreference.objects.select_for_update().filter(person_id=person_id).first()
    if pref is not None and pref.language == language:
        return
    before = {"language": pref.language} if pref else None
    recorded_by = acting_user if getattr(acting_user, "pk", None) else None
    if pref is None:
        pref = SmsPreference.objects.create(person_id=person_id, language=language,
                                            recorded_by=recorded_by)
    else:
        SmsPreference.objects.filter(pk=pref.pk).update(
            language=language, updated_at=timezone.now(),
            recorded_by=recorded_by or pref.recorded_by)
    audit_log(actor=acting_user, event_type="ussd.language_set", subject=pref, before=before,
              after={"language": language})


def ussd_member_setup(*, person: Person, pin: str, language: str, acting_user) -> None:
    """At the counter: the member's PIN (when given) and her language, together or not at
    all. The PIN's hash is made before the transaction (it is the slow part)."""
    from jigi.channels.ussd import pins

    if language not in menu.LANGUAGES:
        raise invalid({"language": _("Choose French or Bambara.")})
    encoded = pins.pin_hash(person.pk, pins.clean_pin(pin)) if pin else ""
    with transaction.atomic(durable=True):
        if encoded:
            pins.pin_store(person=person, encoded=encoded, acting_user=acting_user)
        _language_store(person_id=person.pk, language=language, acting_user=acting_user)
