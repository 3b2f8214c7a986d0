"""A fake mobile-money provider on localhost that answers like Orange Money Web Payment
(plain Python, no Django): the OAuth token, webpayment (the payment starts pending), the
transaction status, callbacks to notif_url; and, under /moov/v1, like Moov Money (Basic auth,
`POST transfer` with type cashin or cashout, `GET transfer/{transactionId}`, no callbacks);
plus what the real API lacks and tests need: a
statement export (JSON or CSV), refunds, and controls (/sim/...) to settle a payment now,
make it fail, pay another amount, send its callback twice, late, or never, and inject money
that matches no request.

Started by tests (`SimulatorServer(auto_delay=None)`: nothing settles by itself) and by
`jigi momo simulator` (auto_delay seconds: each payment succeeds, or fails when the amount ends
in 13, after that delay, and its callback is sent).
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jigi.channels.momo.providers.base import StatementRow, http_call
from jigi.channels.momo.providers.moov import MoovProvider
from jigi.channels.momo.providers.orange import OrangeProvider


@dataclass
class SimTx:
    order_id: str
    amount: int
    notif_url: str
    pay_token: str
    notif_token: str
    reference: str
    status: str = "PENDING"
    txnid: str = ""
    paid_amount: int = 0
    phone: str = ""
    day: str = ""
    callbacks_sent: int = 0
    kind: str = "orange"  # or "moov": no callbacks, the status is only asked


def _post_json(url: str, payload: dict[str, Any]) -> None:
    if not url.startswith(("http://", "https://")):
        return
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5):  # noqa: S310
            pass
    except OSError:
        pass  # a callback lost on the way: exactly what polling is for


@dataclass
class SimState:
    txs: dict[str, SimTx] = field(default_factory=dict)  # by order_id
    extra: list[SimTx] = field(default_factory=list)  # money received matching no request
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refunds_down: bool = False  # answer refunds 503, as a provider that cannot refund now
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0

    def next_txnid(self) -> str:
        self.counter += 1
        return f"MP{datetime.now(UTC):%y%m%d}.{self.counter:04d}.S{secrets.randbelow(10**5):05d}"


class SimulatorServer:
    """The simulator in a background thread: `with SimulatorServer() as sim: sim.url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 auto_delay: float | None = None,
                 deliver: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.state = SimState()
        self.auto_delay = auto_delay
        # How callbacks go out: an HTTP POST to notif_url; tests may collect them instead.
        self.deliver = deliver or _post_json
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimulatorServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what happens to a payment --------------------------------------------------------

    def settle(self, order_id: str, *, outcome: str = "SUCCESS", paid_amount: int | None = None,
               phone: str = "", callbacks: int = 1) -> SimTx:
        """Finish a payment now (SUCCESS or FAILED) and send its callback `callbacks` times
        (0: lost)."""
        with self.state.lock:
            tx = self.state.txs[order_id]
            if tx.status == "PENDING":
                tx.status = outcome
                # Moov names the transfer when it is asked for; Orange when it is paid.
                tx.txnid = tx.pay_token if tx.kind == "moov" else self.state.next_txnid()
                tx.paid_amount = tx.amount if paid_amount is None else paid_amount
                tx.phone = phone or tx.phone
                tx.day = datetime.now(UTC).date().isoformat()
        if tx.kind == "moov":
            return tx  # Moov pushes nothing
        for _ in range(callbacks):
            self.send_callback(order_id)
        return tx

    def send_callback(self, order_id: str) -> None:
        tx = self.state.txs[order_id]
        tx.callbacks_sent += 1
        self.deliver(tx.notif_url, self.callback_payload(order_id))

    def callback_payload(self, order_id: str) -> dict[str, Any]:
        tx = self.state.txs[order_id]
        return {"status": tx.status, "notif_token": tx.notif_token, "txnid": tx.txnid}

    def expire(self, order_id: str) -> None:
        with self.state.lock:
            tx = self.state.txs[order_id]
            if tx.status == "PENDING":
                tx.status = "EXPIRED"

    def inject(self, *, phone: str, amount: int, order_id: str = "", kind: str = "orange"
               ) -> SimTx:
        """Money received that no request asked for (a member paid the merchant number)."""
        with self.state.lock:
            tx = SimTx(order_id=order_id, amount=amount, notif_url="", pay_token="",
                       notif_token="", reference="", status="SUCCESS",
                       txnid=self.state.next_txnid(), paid_amount=amount, phone=phone,
                       day=datetime.now(UTC).date().isoformat(), kind=kind)
            self.state.extra.append(tx)
        return tx

    def statement(self, day: str, kind: str = "orange") -> list[StatementRow]:
        rows = [t for t in [*self.state.txs.values(), *self.state.extra]
                if t.status == "SUCCESS" and t.day == day and t.kind == kind]
        return [StatementRow(day=t.day, txn_id=t.txnid, order_id=t.order_id, phone=t.phone,
                             amount=t.paid_amount, status=t.status) for t in rows]

    def _auto(self, order_id: str) -> None:
        if self.auto_delay is None:
            return

        def later() -> None:
            time.sleep(self.auto_delay or 0)
            tx = self.state.txs[order_id]
            self.settle(order_id, outcome="FAILED" if tx.amount % 100 == 13 else "SUCCESS")

        threading.Thread(target=later, daemon=True).start()


MOOV = "/moov/v1"


def statement_csv(rows: list[StatementRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "txnid", "order_id", "msisdn", "amount", "status"])
    for r in rows:
        writer.writerow([r.day, r.txn_id, r.order_id, r.phone, r.amount, r.status])
    return out.getvalue()


def _handler(sim: SimulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _send(self, status: int, data: Any, content_type: str = "application/json"
                  ) -> None:
            body = data.encode() if isinstance(data, str) else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> Any:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(raw or b"{}")
            return dict(urllib.parse.parse_qsl(raw.decode()))

        def _basic_ok(self) -> bool:
            return self.headers.get("Authorization", "").startswith("Basic ")

        def _bearer_ok(self) -> bool:
            return self.headers.get("Authorization", "").startswith("Bearer sim-")

        def do_GET(self) -> None:  # noqa: N802
            parsed = urllib.parse.urlparse(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            if parsed.path == "/sim/statement":
                rows = sim.statement(query.get("date", datetime.now(UTC).date().isoformat()),
                                     query.get("provider", "orange"))
                if query.get("format") == "csv":
                    self._send(200, statement_csv(rows), "text/csv")
                else:
                    self._send(200, [{"date": r.day, "txnid": r.txn_id, "order_id": r.order_id,
                                      "msisdn": r.phone, "amount": r.amount,
                                      "status": r.status} for r in rows])
                return
            if parsed.path == "/sim/payments":
                self._send(200, [asdict(t) for t in sim.state.txs.values()])
                return
            if parsed.path.startswith(f"{MOOV}/transfer/"):
                if not self._basic_ok():
                    self._send(401, {"message": "Unauthorized"})
                    return
                txn = parsed.path.rsplit("/", 1)[1]
                tx = next((t for t in sim.state.txs.values()
                           if t.kind == "moov" and t.pay_token == txn), None)
                if tx is None:
                    self._send(404, {"message": "transaction not found"})
                    return
                self._send(200, {"transactionId": tx.pay_token, "status": tx.status,
                                 "amount": tx.paid_amount or tx.amount,
                                 "reference": tx.order_id, "msisdn": tx.phone.lstrip("+")})
                return
            self._send(404, {"message": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            path = urllib.parse.urlparse(self.path).path
            data = self._body()
            if path == f"{MOOV}/transfer":
                if not self._basic_ok():
                    self._send(401, {"message": "Unauthorized"})
                    return
                self._moov_transfer(data)
                return
            if path == "/oauth/v3/token":
                if not self.headers.get("Authorization", "").startswith("Basic "):
                    self._send(401, {"error": "invalid_client"})
                    return
                self._send(200, {"token_type": "Bearer", "expires_in": 3600,
                                 "access_token": f"sim-{secrets.token_hex(8)}"})
                return
            if path.endswith("/webpayment") or path.endswith("/transactionstatus"):
                if not self._bearer_ok():
                    self._send(401, {"code": 42, "message": "Expired credentials"})
                    return
                if path.endswith("/webpayment"):
                    self._webpayment(data)
                else:
                    self._status(data)
                return
            if path == "/sim/settle":
                try:
                    tx = sim.settle(str(data["order_id"]), outcome=data.get("outcome", "SUCCESS"),
                                    paid_amount=data.get("paid_amount"),
                                    phone=data.get("phone", ""),
                                    callbacks=int(data.get("callbacks", 1)))
                except KeyError:
                    self._send(404, {"message": "unknown order_id"})
                    return
                self._send(200, asdict(tx))
                return
            if path == "/sim/inject":
                tx = sim.inject(phone=data.get("phone", ""), amount=int(data["amount"]))
                self._send(201, asdict(tx))
                return
            if path == "/sim/refund":
                if sim.state.refunds_down:
                    self._send(503, {"message": "refunds unavailable"})
                    return
                with sim.state.lock:
                    sim.state.refunds.append(data)
                self._send(201, {"status": "done", "reference": data.get("reference", "")})
                return
            self._send(404, {"message": "not found"})

        def _webpayment(self, data: dict[str, Any]) -> None:
            order_id = str(data.get("order_id", ""))
            amount = data.get("amount")
            if not order_id or not isinstance(amount, int) or amount <= 0:
                self._send(400, {"code": 1, "message": "order_id and a whole amount required"})
                return
            with sim.state.lock:
                known = sim.state.txs.get(order_id)
                if known is not None:
                    # The caller's reference is the idempotency key: a reuse is refused.
                    self._send(409, {"code": 2, "message": "order_id already used"})
                    return
                tx = SimTx(order_id=order_id, amount=amount,
                           notif_url=str(data.get("notif_url", "")),
                           pay_token=f"v1{secrets.token_hex(12)}",
                           notif_token=secrets.token_hex(16),
                           reference=str(data.get("reference", "")))
                sim.state.txs[order_id] = tx
            self._send(201, {"status": 201, "message": "OK", "pay_token": tx.pay_token,
                             "payment_url": f"{sim.url}/pay/{tx.pay_token}",
                             "notif_token": tx.notif_token})
            sim._auto(order_id)

        def _moov_transfer(self, data: dict[str, Any]) -> None:
            reference = str(data.get("reference", ""))
            amount = data.get("amount")
            number = str(data.get("msisdn", ""))
            if (not reference or not isinstance(amount, int) or amount <= 0
                    or not number.isdigit() or data.get("type") not in ("cashin", "cashout")):
                self._send(400, {"message": "type, msisdn (digits), reference and a whole "
                                            "amount required"})
                return
            txn = f"MV{secrets.token_hex(8).upper()}"
            if data["type"] == "cashout":
                with sim.state.lock:
                    sim.state.refunds.append({"reference": reference, "msisdn": number,
                                              "amount": amount, "provider": "moov"})
                self._send(200, {"transactionId": txn, "status": "SUCCESS",
                                 "reference": reference})
                return
            with sim.state.lock:
                if reference in sim.state.txs:
                    self._send(409, {"message": "reference already used"})
                    return
                tx = SimTx(order_id=reference, amount=amount, notif_url="", pay_token=txn,
                           notif_token="", reference=str(data.get("description", "")),
                           phone=f"+{number}", kind="moov")
                sim.state.txs[reference] = tx
            self._send(200, {"transactionId": txn, "status": "PENDING",
                             "reference": reference})
            sim._auto(reference)

        def _status(self, data: dict[str, Any]) -> None:
            tx = sim.state.txs.get(str(data.get("order_id", "")))
            if tx is None or tx.pay_token != data.get("pay_token"):
                self._send(404, {"code": 3, "message": "transaction not found"})
                return
            self._send(201, {"status": tx.status, "order_id": tx.order_id, "txnid": tx.txnid,
                             "amount": tx.paid_amount or tx.amount})

    return Handler


class SimulatorProvider(OrangeProvider):
    """The Orange adapter pointed at the simulator, with its statement and refund calls."""

    def statement(self, *, day: str) -> list[StatementRow]:
        from jigi.channels.momo.providers.orange import parse_statement

        raw = self._call("GET", f"{self.base_url}/sim/statement?date={day}&format=csv"
                         "&provider=orange", headers={})
        return parse_statement(raw if isinstance(raw, str) else json.dumps(raw))

    def refund(self, *, reference: str, phone: str, amount: int) -> str:
        answer = self._call("POST", f"{self.base_url}/sim/refund",
                            body=json.dumps({"reference": reference, "msisdn": phone,
                                             "amount": amount}).encode(),
                            headers={"Content-Type": "application/json"})
        return "done" if isinstance(answer, dict) and answer.get("status") == "done" \
            else "requested"


class MoovSimulatorProvider(MoovProvider):
    """The Moov adapter pointed at the simulator's /moov/v1, with the simulator's statement
    (the real one is a portal export, imported as a file)."""

    def statement(self, *, day: str) -> list[StatementRow]:
        from jigi.channels.momo.providers.orange import parse_statement

        root = self.base_url.removesuffix(MOOV)
        raw = http_call("GET", f"{root}/sim/statement?date={day}&format=csv&provider=moov",
                        body=None, headers={}, timeout=self.timeout)
        return parse_statement(raw.decode())
