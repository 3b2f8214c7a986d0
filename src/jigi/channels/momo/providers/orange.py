"""Orange Money Web Payment (plain Python, urllib): an OAuth2 client-credentials token, then
`POST /orange-money-webpay/{country}/v1/webpayment` with merchant_key, currency, order_id,
amount, return_url, cancel_url, notif_url, lang, reference; the answer carries pay_token,
payment_url and notif_token. The final status is pushed to notif_url as
{"status", "notif_token", "txnid"} and can be asked with `POST .../transactionstatus`
{order_id, amount, pay_token}. Tested against the local simulator, which serves the same paths.

Orange offers no statement or refund call in this API: the statement is exported from the
merchant portal and imported as a file; a refund is made from the portal (status "requested"
until staff confirm it).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from jigi.channels.momo.providers.base import (
    ProviderError,
    StatementRow,
    TxStatus,
    WebPayment,
    http_call,
)


class OrangeProvider:
    sends_callbacks = True

    def __init__(self, *, name: str = "orange", base_url: str, client_id: str,
                 client_secret: str, merchant_key: str, currency: str = "XOF",
                 country: str = "dev", timeout: float = 10) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.merchant_key = merchant_key
        self.currency = currency
        self.api = f"{self.base_url}/orange-money-webpay/{country}/v1"
        self.timeout = timeout
        self._token: tuple[str, float] | None = None

    # --- HTTP ---------------------------------------------------------------------------------

    def _call(self, method: str, url: str, *, body: bytes | None = None,
              headers: dict[str, str]) -> Any:
        raw = http_call(method, url, body=body, headers=headers, timeout=self.timeout)
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _access_token(self) -> str:
        if self._token and self._token[1] > time.monotonic():
            return self._token[0]
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        answer = self._call("POST", f"{self.base_url}/oauth/v3/token",
                            body=b"grant_type=client_credentials",
                            headers={"Authorization": f"Basic {basic}",
                                     "Content-Type": "application/x-www-form-urlencoded",
                                     "Accept": "application/json"})
        if not isinstance(answer, dict) or "access_token" not in answer:
            raise ProviderError("no access token")
        # Renew a minute before it expires.
        self._token = (answer["access_token"],
                       time.monotonic() + max(int(answer.get("expires_in", 3600)) - 60, 1))
        return answer["access_token"]

    def _json(self, path: str, data: dict[str, Any]) -> Any:
        return self._call("POST", f"{self.api}/{path}", body=json.dumps(data).encode(),
                          headers={"Authorization": f"Bearer {self._access_token()}",
                                   "Content-Type": "application/json",
                                   "Accept": "application/json"})

    # --- the interface ------------------------------------------------------------------------

    def request_payment(self, *, order_id: str, amount: int, reference: str, lang: str,
                        notif_url: str, return_url: str, cancel_url: str,
                        phone: str = "") -> WebPayment:
        # The member types her number on Orange's page: `phone` is not sent.
        answer = self._json("webpayment", {
            "merchant_key": self.merchant_key, "currency": self.currency, "order_id": order_id,
            "amount": amount, "return_url": return_url, "cancel_url": cancel_url,
            "notif_url": notif_url, "lang": lang, "reference": reference})
        try:
            return WebPayment(pay_token=str(answer["pay_token"]),
                              payment_url=str(answer["payment_url"]),
                              notif_token=str(answer["notif_token"]))
        except (KeyError, TypeError) as exc:
            raise ProviderError(f"unexpected webpayment answer {answer!r:.200}") from exc

    def status(self, *, order_id: str, amount: int, pay_token: str) -> TxStatus:
        answer = self._json("transactionstatus",
                            {"order_id": order_id, "amount": amount, "pay_token": pay_token})
        if not isinstance(answer, dict) or "status" not in answer:
            raise ProviderError(f"unexpected status answer {answer!r:.200}")
        return _status_of(answer)

    def parse_callback(self, payload: dict[str, Any]) -> TxStatus:
        return _status_of(payload)

    def statement(self, *, day: str) -> list[StatementRow]:
        raise ProviderError("Orange statements are exported from the merchant portal: "
                            "import the file")

    def refund(self, *, reference: str, phone: str, amount: int) -> str:
        return "requested"


def _status_of(data: dict[str, Any]) -> TxStatus:
    amount = data.get("amount")
    return TxStatus(status=str(data.get("status", "")).upper(),
                    txn_id=str(data.get("txnid") or ""),
                    amount=amount if isinstance(amount, int) and not isinstance(amount, bool)
                    else None)


def parse_statement(text: str) -> list[StatementRow]:
    """A statement file: the simulator's JSON list, or CSV with the header
    date,txnid,order_id,msisdn,amount,status (the portal export's columns, renamed)."""
    import csv
    import io

    text = text.strip()
    if text.startswith("["):
        rows: list[dict[str, Any]] = json.loads(text)
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    out = []
    for r in rows:
        amount = r["amount"]
        if isinstance(amount, float) or not str(amount).lstrip("-").isdigit():
            raise ValueError(f"amount {amount!r} is not whole francs")
        out.append(StatementRow(day=str(r["date"]), txn_id=str(r["txnid"]),
                                order_id=str(r.get("order_id") or ""),
                                phone=str(r.get("msisdn") or ""), amount=int(amount),
                                status=str(r["status"]).upper()))
    return out


__all__ = ["OrangeProvider", "parse_statement"]
