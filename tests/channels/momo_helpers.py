"""Mobile-money test helpers: the simulator started on a free port with callbacks collected
(not sent), Jigi configured to use it, and the callback's path and signature from its URL."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import pytest

from jigi.channels.momo.providers.simulator import SimulatorServer


@dataclass
class Sim:
    server: SimulatorServer
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def callbacks_for(self, order_id: str) -> list[tuple[str, dict[str, Any]]]:
        return [(u, p) for u, p in self.sent if f"/callback/{order_id}?" in u]


def split_notif_url(url: str) -> tuple[str, str, str]:
    """(path with query, order_id, sig)."""
    parsed = urllib.parse.urlparse(url)
    order_id = parsed.path.rstrip("/").rsplit("/", 1)[1]
    sig = urllib.parse.parse_qs(parsed.query).get("sig", [""])[0]
    return f"{parsed.path}?{parsed.query}", order_id, sig


@pytest.fixture
def sim(settings):
    holder = Sim(server=None)  # type: ignore[arg-type]
    server = SimulatorServer(auto_delay=None,
                             deliver=lambda url, payload: holder.sent.append((url, payload)))
    holder.server = server
    with server:
        settings.JIGI_MOMO = {"provider": "simulator", "base_url": server.url,
                              "public_url": "http://testserver"}
        yield holder
