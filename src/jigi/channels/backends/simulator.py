"""The local SMS gateway: "sends" by answering like a gateway (a message id, a cost per part)
and later produces delivery reports shaped like Africa's Talking's, with what real gateways do:
most delivered, a few failed or rejected, some left without a final report, some reports sent
twice, and everything out of order. Deterministic for a seed. Plain Python."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jigi.channels.backends.africastalking import parse_at_report
from jigi.channels.backends.base import DeliveryUpdate, OutgoingSms, SendResult

# Outcome shares of the final report (the rest: no final report, only "Buffered").
DELIVERED, FAILED, REJECTED = 0.90, 0.05, 0.02
INTERMEDIATE = 0.30  # a "Sent"/"Buffered" report before (or, out of order, after) the final
DUPLICATED = 0.10
FAILURE_REASONS = ("AbsentSubscriber", "DeliveryFailure", "UserInBlackList")


def network_code(phone: str) -> str:
    """Mali's MCC 610: Moov (Malitel) 01 for 6x numbers, Orange 02 for the others."""
    return "61001" if phone.startswith("+2236") else "61002"


class SimulatorBackend:
    name = "simulator"

    def __init__(self, *, seed: int = 8, part_price: int = 25) -> None:
        self.seed = seed
        self.part_price = part_price

    def send(self, messages: Sequence[OutgoingSms]) -> list[SendResult]:
        out = []
        for m in messages:
            if not (m.phone.startswith("+223") and len(m.phone) == 12 and m.phone[1:].isdigit()):
                out.append(SendResult(m.message_id, False, error="InvalidPhoneNumber"))
                continue
            out.append(SendResult(m.message_id, True, gateway_id=f"SIM-{self.seed}-{m.message_id}",
                                  cost=m.parts * self.part_price))
        return out

    def parse_report(self, data: Mapping[str, Any]) -> DeliveryUpdate:
        return parse_at_report(data)

    def reports_for(self, sent: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
        """The delivery reports for (gateway id, phone) pairs, shuffled, with duplicates."""
        reports: list[dict[str, str]] = []
        for gateway_id, phone in sent:
            rng = random.Random(f"{self.seed}:{gateway_id}")
            roll = rng.random()
            base = {"id": gateway_id, "phoneNumber": phone, "networkCode": network_code(phone),
                    "retryCount": "0"}
            if rng.random() < INTERMEDIATE:
                reports.append({**base, "status": rng.choice(("Sent", "Buffered"))})
            if roll < DELIVERED:
                final = {**base, "status": "Success"}
            elif roll < DELIVERED + FAILED:
                final = {**base, "status": "Failed",
                         "failureReason": rng.choice(FAILURE_REASONS)}
            elif roll < DELIVERED + FAILED + REJECTED:
                final = {**base, "status": "Rejected", "failureReason": "UserInBlackList"}
            else:
                final = {**base, "status": "Buffered"}
            reports.append(final)
            if rng.random() < DUPLICATED:
                reports.append(dict(final))
        random.Random(self.seed).shuffle(reports)
        return reports
