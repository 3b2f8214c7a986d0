"""Mobile-money providers behind one interface (base.Provider). Configured by the optional
setting JIGI_MOMO = {"provider": ..., "base_url": ..., "client_id": ..., "client_secret": ...,
"merchant_key": ..., "public_url": ..., "moov_provider": ..., "moov_base_url": ...,
"moov_username": ..., "moov_password": ..., "moov_partner_id": ...}; without it, the local
simulator on http://127.0.0.1:8765, which answers like Orange Money Web Payment and, under
/moov/v1, like Moov Money.

Which provider takes a payment follows the member's number: a Moov number (6x, 89, 95-99)
pays from Moov Money (`moov_provider`: "moov", or "simulator-moov"; empty: Moov numbers go
to `provider` too), any other from Orange Money (`provider`: "orange" or "simulator")."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from jigi.channels.momo.providers.base import Provider, ProviderError
from jigi.people.phones import mali_operator

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
    "moov_provider": "simulator-moov",
    # Empty: the simulator's Moov paths, under base_url.
    "moov_base_url": "",
    "moov_username": "jigi",
    "moov_password": "simulator-secret",
    "moov_partner_id": "jigi",
}

_override: Provider | None = None


def config() -> dict[str, Any]:
    return {**DEFAULTS, **getattr(settings, "JIGI_MOMO", {})}


def configured() -> tuple[str, ...]:
    """The providers this installation uses: the Orange side's and, if set, the Moov side's.
    Payments are asked and statements imported under these names only (a statement imported
    under another name of the same wallet would park its unmatched money twice)."""
    conf = config()
    return tuple(name for name in (conf["provider"], conf["moov_provider"]) if name)


def is_moov(name: str) -> bool:
    """Whether the provider `name` pushes the payment to a Moov Money number."""
    return name in ("moov", "simulator-moov")


def wallet_label(name: str) -> str:
    """The wallet a provider's payments come from, as staff know it."""
    return "Moov Money" if is_moov(name) else "Orange Money"


def provider_for_phone(phone: str) -> str:
    """The provider's name for a payment from this (clean E.164) number."""
    conf = config()
    if conf["moov_provider"] and mali_operator(phone) == "moov":
        return conf["moov_provider"]
    return conf["provider"]


def get_provider(name: str | None = None) -> Provider:
    """The provider called `name` (default: the Orange side's), as configured; tests may set
    one for every name with `use_provider`."""
    if _override is not None:
        return _override
    conf = config()
    name = name or conf["provider"]
    if name in ("orange", "simulator"):
        from jigi.channels.momo.providers.orange import OrangeProvider
        from jigi.channels.momo.providers.simulator import SimulatorProvider

        cls = SimulatorProvider if name == "simulator" else OrangeProvider
        return cls(name=name, base_url=conf["base_url"], client_id=conf["client_id"],
                   client_secret=conf["client_secret"], merchant_key=conf["merchant_key"],
                   currency=conf["currency"], timeout=conf["timeout"])
    if is_moov(name):
        from jigi.channels.momo.providers.moov import MoovProvider
        from jigi.channels.momo.providers.simulator import MoovSimulatorProvider

        base_url = conf["moov_base_url"]
        if name == "simulator-moov":
            base_url = base_url or f"{conf['base_url'].rstrip('/')}/moov/v1"
        elif not base_url:
            raise ProviderError("JIGI_MOMO_MOOV_BASE_URL is not set")
        mcls = MoovSimulatorProvider if name == "simulator-moov" else MoovProvider
        return mcls(name=name, base_url=base_url, username=conf["moov_username"],
                    password=conf["moov_password"], partner_id=conf["moov_partner_id"],
                    currency=conf["currency"], timeout=conf["timeout"])
    raise ProviderError(f"unknown mobile-money provider {name!r}")


def use_provider(provider: Provider | None) -> None:
    global _override
    _override = provider


__all__ = ["Provider", "ProviderError", "config", "configured", "get_provider",
           "is_moov", "provider_for_phone", "use_provider", "wallet_label"]
