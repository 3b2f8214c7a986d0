"""What every mobile-money provider offers Jigi. Plain Python (no Django)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class ProviderError(Exception):
    """The provider could not be reached or refused the call (network, 4xx/5xx)."""


# Final and intermediate statuses, as Orange names them; other providers map to these.
SUCCESS = "SUCCESS"
FAILED = "FAILED"
PENDING = "PENDING"
INITIATED = "INITIATED"
EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class WebPayment:
    pay_token: str
    payment_url: str
    notif_token: str


@dataclass(frozen=True)
class TxStatus:
    status: str  # SUCCESS, FAILED, PENDING, INITIATED, EXPIRED
    txn_id: str = ""
    amount: int | None = None


@dataclass(frozen=True)
class StatementRow:
    day: str  # YYYY-MM-DD
    txn_id: str
    order_id: str
    phone: str
    amount: int
    status: str


class Provider(Protocol):
    name: str
    # Whether the provider pushes the final status to notif_url (Orange) or only answers the
    # status call (Moov): a callback for a payment of the latter is never genuine.
    sends_callbacks: bool

    def request_payment(self, *, order_id: str, amount: int, reference: str, lang: str,
                        notif_url: str, return_url: str, cancel_url: str,
                        phone: str = "") -> WebPayment: ...

    def status(self, *, order_id: str, amount: int, pay_token: str) -> TxStatus: ...

    def statement(self, *, day: str) -> list[StatementRow]: ...

    def refund(self, *, reference: str, phone: str, amount: int) -> str: ...

    def parse_callback(self, payload: dict[str, Any]) -> TxStatus: ...
