"""Mobile-money providers behind one interface (base.Provider). Configured by the optional
setting JIGI_MOMO = {"provider": "simulator", "base_url": ..., "client_id": ...,
"client_secret": ..., "merchant_key": ..., "public_url": ...}; without it, the local simulator
(which answers like Orange Money Web Payment) on http://127.0.0.1:8765."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from jigi.channels.momo.providers.base import Provider, ProviderError

DEFAULTS: dict[str, Any] = {
    "provider": "simulator",
    "base_url": "http://127.0.0.1:8765",
    "client_id": "jigi",
    "client_secret": "simulator-secret",
    "merchant_key": "simulator-merchant",
    "currency": "XOF",
    # Where the provider reaches us (callbacks) and sends the member back.
    "public_url": "http://127.0.0.1:8000",
    "timeout": 10,
}

_override: Provider | None = None


def config() -> dict[str, Any]:
    return {**DEFAULTS, **getattr(settings, "JIGI_MOMO", {})}


def get_provider(name: str | None = None) -> Provider:
    """The configured provider (tests may set one with `use_provider`)."""
    if _override is not None:
        return _override
    conf = config()
    name = name or conf["provider"]
    if name in ("orange", "simulator"):
        from jigi.channels.momo.providers.orange import OrangeProvider
        from jigi.channels.momo.providers.simulator import SimulatorProvider

        cls = SimulatorProvider if name == "simulator" else OrangeProvider
        return cls(name=name, base_url=conf["base_url"], client_id=conf["client_id"],
                              client_secret=conf["client_secret"],
                              merchant_key=conf["merchant_key"], currency=conf["currency"],
                              timeout=conf["timeout"])
    raise ProviderError(f"unknown mobile-money provider {name!r}")


def use_provider(provider: Provider | None) -> None:
    global _override
    _override = provider


__all__ = ["Provider", "ProviderError", "config", "get_provider", "use_provider"]
