"""USSD writes: the gateway's request answered (its session found or started, timed out after
3 minutes untouched, logged), a member's call-back request (once a day) and her language.

The menu itself is pure (`menu.respond`); this module gives it the session's facts and the
database provider, then records what the reply changed, in short transactions (the replies'
reads run outside any transaction so that sessions never queue behind each other on SQLite).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import CallbackRequest, SmsPreference, UssdSession
from jigi.channels.ussd import menu
from jigi.core import prepared
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


def end_reply(msgid: str) -> str:
    """An END reply for a session that cannot go on."""
    # Before the member is known, replies are in French (the product's first language).
    from django.utils import translation

    with translation.override("fr"):
        return menu.fit(menu.END, [gettext(msgid)])


@dataclass(frozen=True)
class _Session:
    pk: int
    phone: str
    language: str
    authenticated: bool
    person_id: int | None
    steps: int
    last_at: datetime
    ended: bool


_S = ["id", "phone", "language", "authenticated", "person", "steps", "last_at", "ended"]


def _col(name: str) -> str:
    return connection.ops.quote_name(UssdSession._meta.get_field(name).column)


def _session_sql() -> str:
    table = connection.ops.quote_name(UssdSession._meta.db_table)
    return (f"SELECT {', '.join(_col(n) for n in _S)} FROM {table} "  # noqa: S608
            f"WHERE {_col('session_id')} = %s")


def _update_sql() -> str:
    table = connection.ops.quote_name(UssdSession._meta.db_table)
    sets = ", ".join(f"{_col(n)} = %s" for n in ("last_text", "steps", "last_at", "ended",
                                                 "authenticated", "person"))
    return f"UPDATE {table} SET {sets} WHERE {_col('id')} = %s"  # noqa: S608


def _session(session_id: str) -> _Session | None:
    with prepared.cursor() as cursor:
        row = cursor.execute(prepared.statement("ussd.session", _session_sql),
                             [session_id]).fetchone()
    if row is None:
        return None
    pk, phone, language, authenticated, person_id, steps, last_at, ended = row
    if not isinstance(last_at, datetime):  # SQLite without its converter: text in UTC
        last_at = datetime.fromisoformat(last_at)
    if last_at.tzinfo is None:  # SQLite keeps UTC without a zone
        last_at = last_at.replace(tzinfo=UTC)
    return _Session(pk, phone, language, bool(authenticated), person_id, steps, last_at,
                    bool(ended))


def ussd_answer(request: GatewayRequest, *, now: datetime | None = None) -> str:
    """The reply text ("CON ..."/"END ...") to one gateway request. Every reply runs three
    statements prepared once per process (the session, the phone's persons, the session's
    update) and the screen's own reads."""
    from jigi.channels.ussd import data

    now = now or timezone.now()
    session = _session(request.session_id)
    persons = None
    if session is None:
        if request.text:
            # The gateway continues a session we never started (or forgot): start over.
            return end_reply(gettext_noop("Session ended. Dial again."))
        persons = data.persons_by_phone(request.phone, now)
        try:
            with transaction.atomic():
                UssdSession.objects.create(
                    session_id=request.session_id, phone=request.phone,
                    service_code=request.service_code,
                    language=data.start_language(persons))
        except IntegrityError:  # the same first request twice at once
            pass
        session = _session(request.session_id)
        if session is None:
            return end_reply(gettext_noop("Session ended. Dial again."))
    if session.phone != request.phone or session.ended:
        return end_reply(gettext_noop("Session ended. Dial again."))
    if now - session.last_at > SESSION_TIMEOUT:
        UssdSession.objects.filter(pk=session.pk).update(ended=True)
        return end_reply(gettext_noop("Time is up. Dial again."))
    if persons is None:
        persons = data.persons_by_phone(request.phone, now)
    state = menu.Session(
        persons=tuple(menu.Person(p.id, p.first_name) for p in persons),
        start_language=session.language, authenticated=session.authenticated,
        person_id=session.person_id)
    reply = menu.respond(request.text, state, data.DbProvider(request.phone, persons))
    with prepared.cursor() as cursor:
        cursor.execute(prepared.statement("ussd.session_update", _update_sql), [
            request.text[:200], session.steps + 1,
            connection.ops.adapt_datetimefield_value(now), reply.ended, reply.authenticated,
            reply.person_id if reply.authenticated else session.person_id, session.pk])
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
