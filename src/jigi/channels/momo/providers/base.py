"""What every mobile-money provider offers Jigi. Plain Python (no Django)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol


class ProviderError(Exception):
    """The provider could not be reached or refused the call (network, 4xx/5xx)."""


def http_call(method: str, url: str, *, body: bytes | None, headers: dict[str, str],
              timeout: float) -> bytes:
    """One HTTP call to a provider: the answer's body, or ProviderError for a bad URL, an
    unreachable host or a 4xx/5xx answer (with the start of its body)."""
    if not url.startswith(("http://", "https://")):
        raise ProviderError(f"bad provider URL {url!r}")
    req = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise ProviderError(f"{exc.code} {exc.read()[:200]!r}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ProviderError(str(exc)) from exc


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
