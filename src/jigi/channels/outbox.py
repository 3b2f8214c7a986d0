"""Queue a message to a member's phone inside the caller's transaction (see models)."""

from __future__ import annotations

import logging

from jigi.channels.models import OutboundMessage
from jigi.channels.sms_length import sms_length

log = logging.getLogger(__name__)


def message_queue(*, organisation, phone: str, text: str, purpose: str, ref: str = "",
                  person=None, language: str = "fr",
                  unit_id: int | None = None) -> OutboundMessage:
    """`phone` must already be a clean E.164 number (people.phones); nothing is sent here.
    `unit_id`: the unit of `organisation` the message belongs to (the loan's caisse, the
    coverage's mutual, the member's section): its staff read it in the outbox; None for an
    organisation-level message, read by organisation-wide roles only.
    The encoding and parts are worked out now (a text of several parts costs as many SMS:
    logged, so long texts show up)."""
    length = sms_length(text)
    if length.parts > 1:
        log.info("SMS %s takes %d %s parts (%d units)", purpose, length.parts, length.encoding,
                 length.units)
    return OutboundMessage.objects.create(
        organisation=organisation, phone=phone, text=text, purpose=purpose, ref=ref,
        person=person, language=language, encoding=length.encoding, parts=length.parts,
        unit_id=unit_id)
