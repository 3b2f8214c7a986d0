"""Moov Money (Moov Africa Malitel) merchant collection (plain Python, urllib).

Moov's merchant API is handed to partners with their contract; no public reference exists.
The shapes here follow the one public description of Moov Africa's developer sandbox
(developer.moov-africa.com, as documented by the SandPay aggregator, docs.sandpay.dev
"operators/moov"): HTTP Basic authentication on every call (no OAuth), the operation in the
body (`"type": "cashin"` to collect from a member's wallet, `"cashout"` to pay her back),
the number as `msisdn` without the "+", the answer's `transactionId`, and **no webhooks**: the
final status is only known by asking. Where the contract's documents name a path or a field
otherwise, the constants below are the only place to change (`PATH_TRANSFER`, `_FIELDS`).

How a payment goes, then: the request pushes a USSD prompt to the member's phone, she types
her Moov Money PIN, and our poll (`jigi momo poll`, every minute, or "check now" on the
payment's card) reads the outcome. Unlike Orange, a Moov payment needs the member's number,
and refunds are a real call (a cash-out to her wallet).

Tested against the local simulator, which serves the same paths under /moov/v1.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from jigi.channels.momo.providers.base import (
    EXPIRED,
    FAILED,
    PENDING,
    SUCCESS,
    ProviderError,
    StatementRow,
    TxStatus,
    WebPayment,
    http_call,
)

PATH_TRANSFER = "transfer"

# Moov's words for a transfer's state, mapped to ours (base: Orange's names). Anything not
# listed is still pending: the poll asks again, and an hour later the payment expires.
_STATUS = {
    "SUCCESS": SUCCESS, "SUCCESSFUL": SUCCESS, "COMPLETED": SUCCESS, "OK": SUCCESS,
    "FAILED": FAILED, "FAILURE": FAILED, "REJECTED": FAILED, "CANCELLED": FAILED,
    "CANCELED": FAILED, "DECLINED": FAILED,
    "EXPIRED": EXPIRED, "TIMEOUT": EXPIRED,
}


def msisdn(phone: str) -> str:
    """'+22366000001' -> '22366000001' (Moov takes the number without the plus)."""
    return phone[1:] if phone.startswith("+") else phone


def status_of(data: dict[str, Any]) -> TxStatus:
    """A transfer as Moov describes it -> TxStatus; the amount only when it is whole francs."""
    amount = data.get("amount")
    if isinstance(amount, str) and amount.isdigit():
        amount = int(amount)
    raw = str(data.get("status", "")).strip().upper()
    return TxStatus(status=_STATUS.get(raw, PENDING),
                    txn_id=str(data.get("transactionId") or ""),
                    amount=amount if isinstance(amount, int) and not isinstance(amount, bool)
                    else None)


class MoovProvider:
    """Moov Money: push a payment prompt to a member's phone, then poll."""

    # Moov pushes nothing back: a "callback" for one of its payments is never genuine.
    sends_callbacks = False

    def __init__(self, *, name: str = "moov", base_url: str, username: str, password: str,
                 partner_id: str, currency: str = "XOF", timeout: float = 10) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.partner_id = partner_id
        self.currency = currency
        self.timeout = timeout
        self._basic = base64.b64encode(f"{username}:{password}".encode()).decode()

    def _call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/{path}"
        raw = http_call(method, url, body=json.dumps(data).encode() if data is not None else None,
                        headers={"Authorization": f"Basic {self._basic}",
                                 "Accept": "application/json",
                                 "Content-Type": "application/json"}, timeout=self.timeout)
        try:
            answer = json.loads(raw or b"null")
        except ValueError as exc:
            raise ProviderError(f"unreadable answer {raw[:200]!r}") from exc
        if not isinstance(answer, dict):
            raise ProviderError(f"unexpected answer {answer!r:.200}")
        return answer

    def _transfer(self, *, kind: str, phone: str, amount: int, reference: str,
                  description: str) -> dict[str, Any]:
        if not phone:
            raise ProviderError("Moov Money needs the member's number")
        return self._call("POST", PATH_TRANSFER, {
            "partner_id": self.partner_id, "type": kind, "msisdn": msisdn(phone),
            "amount": amount, "currency": self.currency, "reference": reference,
            "description": description})

    # --- the interface ------------------------------------------------------------------------

    def request_payment(self, *, order_id: str, amount: int, reference: str, lang: str,
                        notif_url: str, return_url: str, cancel_url: str,
                        phone: str = "") -> WebPayment:
        answer = self._transfer(kind="cashin", phone=phone, amount=amount, reference=order_id,
                                description=reference)
        txn = answer.get("transactionId")
        if not txn:
            raise ProviderError(f"no transactionId in {answer!r:.200}")
        # No page to send the member to and no callback token: she answers the prompt on her
        # phone, and the transaction id is what the status call takes.
        return WebPayment(pay_token=str(txn), payment_url="", notif_token="")

    def status(self, *, order_id: str, amount: int, pay_token: str) -> TxStatus:
        answer = self._call("GET", f"{PATH_TRANSFER}/{pay_token}")
        if "status" not in answer:
            raise ProviderError(f"unexpected status answer {answer!r:.200}")
        found = status_of(answer)
        return TxStatus(status=found.status, txn_id=found.txn_id or pay_token,
                        amount=found.amount)

    def parse_callback(self, payload: dict[str, Any]) -> TxStatus:
        raise ProviderError("Moov Money sends no callbacks")

    def statement(self, *, day: str) -> list[StatementRow]:
        raise ProviderError("Moov statements are exported from the merchant portal: "
                            "import the file")

    def refund(self, *, reference: str, phone: str, amount: int) -> str:
        answer = self._transfer(kind="cashout", phone=phone, amount=amount, reference=reference,
                                description=f"Refund {reference}")
        return "done" if status_of(answer).status == SUCCESS else "requested"


__all__ = ["MoovProvider", "msisdn", "status_of"]
