"""What an SMS gateway adapter does; the sender and the delivery-report endpoint only talk to
this interface, so a future Orange SMS (or any other) backend is one more module. Adapters are
plain Python: no ORM, no transaction (the sender calls them outside any transaction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingSms:
    message_id: int
    phone: str  # E.164
    text: str
    parts: int


@dataclass(frozen=True)
class SendResult:
    message_id: int
    accepted: bool  # the gateway took it (status "sent"); False: refused for good ("failed")
    gateway_id: str = ""
    cost: int = 0  # whole francs, as the gateway reports (rounded up)
    error: str = ""
    # Not accepted but not refused for good either (the gateway's balance, a passing error):
    # the message stays queued for the next run.
    retry: bool = False


@dataclass(frozen=True)
class DeliveryUpdate:
    gateway_id: str
    raw_status: str  # the gateway's word ("Success", "Buffered"...)
    status: str  # ours: "sent", "delivered" or "failed"
    reason: str = ""


class SmsBackendError(Exception):
    """The gateway could not be reached or refused the whole request (credentials, 5xx):
    nothing was sent, the messages stay queued for the next run."""


class SmsBackend(Protocol):
    name: str

    def send(self, messages: Sequence[OutgoingSms]) -> list[SendResult]:
        """One result per message, in any order; raises SmsBackendError when nothing went."""
        ...

    def parse_report(self, data: Mapping[str, Any]) -> DeliveryUpdate:
        """A delivery report as the gateway POSTs it; ValueError when it is not one."""
        ...
