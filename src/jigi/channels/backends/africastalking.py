"""Africa's Talking SMS, written against its documented shapes (no SDK).

Send: POST {url} (live https://api.africastalking.com/version1/messaging, sandbox
https://api.sandbox.africastalking.com/version1/messaging), form-encoded `username`, `to`
(comma-separated numbers, the same text for all), `message`, optional `from` (sender id or
short code) and `bulkSMSMode=1` (the sender pays); headers `apiKey`, `Accept:
application/json`. Answer (201): {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: ...",
"Recipients": [{"number", "status", "statusCode", "messageId", "cost": "XOF 25.0000"}]}}.
Status codes 100 (Processed), 101 (Sent), 102 (Queued) mean accepted; 405
(InsufficientBalance), 500 (InternalServerError) and 501 (GatewayError) are passing troubles
(the message stays queued); the others (401 RiskHold, 402 InvalidSenderId, 403
InvalidPhoneNumber, 404 UnsupportedNumberType, 406 UserInBlacklist, 407 CouldNotRoute,
409 DoNotDisturbRejection, 502 RejectedByGateway) refuse the message for good.

Delivery reports: the gateway POSTs form fields `id`, `status` (Sent, Submitted, Buffered,
Rejected, Success, Failed, Expired...), `phoneNumber`, `networkCode`, `failureReason`,
`retryCount` to our callback URL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from jigi.channels.backends.base import DeliveryUpdate, OutgoingSms, SendResult, SmsBackendError
from jigi.channels.storable import printable

ACCEPTED_CODES = frozenset({100, 101, 102})
RETRY_CODES = frozenset({405, 500, 501})
MAX_RECIPIENTS = 100  # numbers per request with the same text

REPORT_STATUS = {
    "Success": "delivered",
    "Failed": "failed", "Rejected": "failed", "Expired": "failed", "AbsentSubscriber": "failed",
    "Sent": "sent", "Submitted": "sent", "Buffered": "sent",
}


def parse_cost(value: Any) -> int:
    """"XOF 25.0000" -> 25 francs; a fraction of a franc counts as a whole one; "0", "None",
    garbage -> 0. (Another currency's figure is kept as it is: the account should be in XOF.)"""
    text = str(value or "").strip().split(" ")[-1]
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return 0
    if not amount.is_finite() or amount <= 0:
        return 0
    return int(math.ceil(amount))


def parse_at_report(data: Mapping[str, Any]) -> DeliveryUpdate:
    gateway_id = str(data.get("id") or "").strip()
    raw = str(data.get("status") or "").strip()
    if not gateway_id or not raw or len(gateway_id) > 100 or len(raw) > 32 or not (
            printable(gateway_id) and printable(raw)):  # a NUL: a 500 on PostgreSQL
        raise ValueError("not a delivery report")
    # An unknown word moves nothing past "sent": kept, never taken as delivered.
    return DeliveryUpdate(gateway_id, raw, REPORT_STATUS.get(raw, "sent"),
                          str(data.get("failureReason") or "")[:200])


class AfricasTalkingBackend:
    name = "africastalking"

    def __init__(self, *, username: str, api_key: str, url: str, sender: str = "",
                 timeout: float = 20, session: Any = None) -> None:
        self.username = username
        self.api_key = api_key
        self.url = url
        self.sender = sender
        self.timeout = timeout
        self.session = session or requests.Session()

    def _post(self, to: list[str], text: str) -> list[dict[str, Any]]:
        form = {"username": self.username, "to": ",".join(to), "message": text,
                "bulkSMSMode": "1"}
        if self.sender:
            form["from"] = self.sender
        headers = {"apiKey": self.api_key, "Accept": "application/json",
                   "Content-Type": "application/x-www-form-urlencoded"}
        try:
            response = self.session.post(self.url, data=form, headers=headers,
                                         timeout=self.timeout)
        except requests.RequestException as exc:
            raise SmsBackendError(f"africastalking unreachable: {type(exc).__name__}") from exc
        if response.status_code not in (200, 201):
            raise SmsBackendError(
                f"africastalking answered {response.status_code}: {response.text[:200]}")
        try:
            recipients = response.json()["SMSMessageData"]["Recipients"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsBackendError("africastalking: unexpected answer") from exc
        return recipients if isinstance(recipients, list) else []

    def send(self, messages: Sequence[OutgoingSms]) -> list[SendResult]:
        """One request per distinct text (up to 100 numbers each): a campaign goes in a few
        requests, receipts one by one. A number the answer does not list stays queued."""
        by_text: dict[str, list[OutgoingSms]] = {}
        for m in messages:
            by_text.setdefault(m.text, []).append(m)
        results: list[SendResult] = []
        for text, group in by_text.items():
            for i in range(0, len(group), MAX_RECIPIENTS):
                chunk = group[i:i + MAX_RECIPIENTS]
                recipients = self._post([m.phone for m in chunk], text)
                results.extend(self._match(chunk, recipients))
        return results

    @staticmethod
    def _match(chunk: list[OutgoingSms], recipients: list[dict[str, Any]]) -> list[SendResult]:
        waiting: dict[str, list[OutgoingSms]] = {}
        for m in chunk:
            waiting.setdefault(m.phone, []).append(m)
        out: list[SendResult] = []
        for r in recipients:
            if not isinstance(r, dict):
                continue
            pending = waiting.get(str(r.get("number", "")))
            if not pending:
                continue
            m = pending.pop(0)
            try:
                code = int(r.get("statusCode", 0))
            except (TypeError, ValueError):
                code = 0
            status = str(r.get("status", ""))[:100]
            if code in ACCEPTED_CODES:
                out.append(SendResult(m.message_id, True,
                                      gateway_id=str(r.get("messageId", ""))[:100],
                                      cost=parse_cost(r.get("cost"))))
            else:
                out.append(SendResult(m.message_id, False, error=f"{code} {status}".strip(),
                                      retry=code in RETRY_CODES))
        for left in waiting.values():
            out.extend(SendResult(m.message_id, False, error="not in the answer", retry=True)
                       for m in left)
        return out

    def parse_report(self, data: Mapping[str, Any]) -> DeliveryUpdate:
        return parse_at_report(data)
