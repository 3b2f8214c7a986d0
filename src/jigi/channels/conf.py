"""The channels' settings, read in one place (none is required: the defaults run everything
locally with the simulator). Add them to jigi/settings.py (or the environment) to change them.

- JIGI_SMS_BACKEND: "simulator" (default) or "africastalking".
- JIGI_SMS_RATES: messages a second per backend, e.g. {"africastalking": 10}; 0 = no limit.
- JIGI_SMS_PART_PRICE: francs a part, used to hold messages against the monthly budget before
  the gateway reports the real cost (default 25).
- JIGI_SMS_CLAIM_TIMEOUT: seconds after which a message claimed by a sender that died is
  offered again (default 900).
- JIGI_SMS_SIMULATOR_SEED: the simulator's seed (default 8).
- JIGI_SMS_CALLBACK_KEY: the secret the gateway appends to the delivery-report URL (?key=...);
  empty = the endpoint refuses every report.
- JIGI_AT_USERNAME, JIGI_AT_API_KEY, JIGI_AT_SENDER (sender id or short code, optional),
  JIGI_AT_URL (default the live endpoint), JIGI_AT_TIMEOUT (seconds, default 20).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULT_RATES = {"simulator": 0, "africastalking": 10}
AT_LIVE_URL = "https://api.africastalking.com/version1/messaging"
AT_SANDBOX_URL = "https://api.sandbox.africastalking.com/version1/messaging"


def _get(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def sms_backend_name() -> str:
    return str(_get("JIGI_SMS_BACKEND", "simulator"))


def sms_rate(backend: str) -> float:
    rates = {**DEFAULT_RATES, **(_get("JIGI_SMS_RATES", {}) or {})}
    return float(rates.get(backend, 0) or 0)


def sms_part_price() -> int:
    return int(_get("JIGI_SMS_PART_PRICE", 25))


def sms_claim_timeout() -> int:
    return int(_get("JIGI_SMS_CLAIM_TIMEOUT", 900))


def sms_simulator_seed() -> int:
    return int(_get("JIGI_SMS_SIMULATOR_SEED", 8))


def sms_callback_key() -> str:
    return str(_get("JIGI_SMS_CALLBACK_KEY", "") or "")


def africastalking() -> dict[str, Any]:
    return {
        "username": str(_get("JIGI_AT_USERNAME", "sandbox")),
        "api_key": str(_get("JIGI_AT_API_KEY", "")),
        "sender": str(_get("JIGI_AT_SENDER", "") or ""),
        "url": str(_get("JIGI_AT_URL", AT_LIVE_URL)),
        "timeout": float(_get("JIGI_AT_TIMEOUT", 20)),
    }
