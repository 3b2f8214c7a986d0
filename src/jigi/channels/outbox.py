"""Queue a message to a member's phone inside the caller's transaction (see models)."""

from __future__ import annotations

from jigi.channels.models import OutboundMessage
from jigi.channels.sms_length import sms_length


def message_queue(*, organisation, phone: str, text: str, purpose: str, ref: str = "",
                  person=None, language: str = "fr") -> OutboundMessage:
    """`phone` must already be a clean E.164 number (people.phones); nothing is sent here."""
    length = sms_length(text)
    return OutboundMessage.objects.create(
        organisation=organisation, phone=phone, text=text, purpose=purpose, ref=ref,
        person=person, language=language, encoding=length.encoding, parts=length.parts)
