"""Queue a message to a member's phone inside the caller's transaction (see models)."""

from __future__ import annotations

import logging

from jigi.channels.models import OutboundMessage
from jigi.channels.sms_length import sms_length
from jigi.core import prepared

log = logging.getLogger(__name__)


def message_queue(*, organisation=None, phone: str, text: str, purpose: str, ref: str = "",
                  person=None, language: str = "fr", unit_id: int | None = None,
                  organisation_id: int | None = None, person_id: int | None = None,
                  encoding: str = "", parts: int = 0) -> OutboundMessage:
    """`phone` must already be a clean E.164 number (people.phones); nothing is sent here.
    `unit_id`: the unit of `organisation` the message belongs to (the loan's caisse, the
    coverage's mutual, the member's section): its staff read it in the outbox; None for an
    organisation-level message, read by organisation-wide roles only.
    The organisation and the person may be given as objects or ids.
    The encoding and parts are worked out now, unless the caller has them from
    templates.render (a text of several parts costs as many SMS: logged, so long texts show
    up). One prepared INSERT: receipts are queued inside the money services' transactions."""
    if not encoding or not parts:
        length = sms_length(text)
        encoding, parts = length.encoding, length.parts
    if parts > 1:
        log.info("SMS %s takes %d %s parts", purpose, parts, encoding)
    message = prepared.new(
        OutboundMessage, phone=phone, text=text, purpose=purpose, ref=ref, language=language,
        encoding=encoding, parts=parts, unit_id=unit_id,
        organisation_id=organisation.pk if organisation is not None else organisation_id,
        person_id=person.pk if person is not None else person_id)
    if organisation is not None:
        message._state.fields_cache["organisation"] = organisation
    if person is not None:
        message._state.fields_cache["person"] = person
    return prepared.fast_insert(message)
