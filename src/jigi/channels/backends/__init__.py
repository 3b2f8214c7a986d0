"""SMS backends by setting (JIGI_SMS_BACKEND): the local simulator (default) and Africa's
Talking. `get_backend()` builds the configured one."""

from __future__ import annotations

from jigi.channels.backends.base import (
    DeliveryUpdate,
    OutgoingSms,
    SendResult,
    SmsBackend,
    SmsBackendError,
)


def get_backend(name: str | None = None) -> SmsBackend:
    from jigi.channels import conf

    name = name or conf.sms_backend_name()
    if name == "simulator":
        from jigi.channels.backends.simulator import SimulatorBackend

        return SimulatorBackend(seed=conf.sms_simulator_seed(), part_price=conf.sms_part_price())
    if name == "africastalking":
        from jigi.channels.backends.africastalking import AfricasTalkingBackend

        return AfricasTalkingBackend(**conf.africastalking())
    raise ValueError(f"unknown SMS backend {name!r}")


__all__ = ["DeliveryUpdate", "OutgoingSms", "SendResult", "SmsBackend", "SmsBackendError",
           "get_backend"]
