"""USSD PINs: set at the counter, checked once per USSD session, locked for 15 minutes after
3 wrong tries.

Only a Django password hash is kept (PBKDF2-SHA256, Django's own format, checkable by
`check_password`). A 4-digit PIN has 10 000 values, so no hash cost protects a stolen table by
itself; what does is (1) the lockout, against guessing by phone, and (2) a pepper: the hashed
secret is an HMAC of the PIN under SECRET_KEY and the person's id, so the table alone is not
enough to try the 10 000 PINs. That lets the hash be cheaper than a password's (settings
JIGI_USSD_PIN_ITERATIONS, default 20 000, about 11 ms here) so that the USSD reply stays within
its time budget with many sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import UssdPin
from jigi.channels.ussd.menu import PIN_LOCKED, PIN_NONE, PIN_OK, PIN_WRONG, PinCheck
from jigi.core.audit import audit_log
from jigi.core.cleaning import invalid
from jigi.people.models import Person

MAX_TRIES = 3
LOCK_MINUTES = 15
PIN_LENGTHS = (4, 5, 6)


class _PinHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2 with the USSD iteration count (the encoded hash carries its count, so
    changing the setting leaves existing PINs valid)."""

    @property
    def iterations(self) -> int:  # type: ignore[override]
        return int(getattr(settings, "JIGI_USSD_PIN_ITERATIONS", 20_000))


_hasher = _PinHasher()


def _secret(person_id: int, pin: str) -> str:
    key = hashlib.sha256(("jigi.ussd.pin:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{person_id}:{pin}".encode(), hashlib.sha256).hexdigest()


def pin_hash(person_id: int, pin: str) -> str:
    return _hasher.encode(_secret(person_id, pin), _hasher.salt())


def pin_matches(person_id: int, pin: str, encoded: str) -> bool:
    try:
        return _hasher.verify(_secret(person_id, pin), encoded)
    except (ValueError, TypeError):  # a damaged hash never matches
        return False


def _weak(pin: str) -> bool:
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in zip(digits, digits[1:], strict=False)}
    return len(set(pin)) == 1 or steps in ({1}, {-1})


def clean_pin(pin: object, field: str = "pin") -> str:
    """4 to 6 digits, not all the same and not a straight run (1234, 9876)."""
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit() or (
            len(pin) not in PIN_LENGTHS):
        raise invalid({field: _("The PIN is 4 to 6 digits.")})
    if _weak(pin):
        raise invalid({field: _("This PIN is too easy to guess: choose another.")})
    return pin


def pin_set(*, person: Person, pin: str, acting_user) -> UssdPin:
    """Set (or replace) the member's PIN at the counter; it also lifts a lockout."""
    encoded = pin_hash(person.pk, clean_pin(pin))  # the slow part, before the transaction
    with transaction.atomic(durable=True):
        return pin_store(person=person, encoded=encoded, acting_user=acting_user)


def pin_store(*, person: Person, encoded: str, acting_user) -> UssdPin:
    """Write a hashed PIN inside the caller's transaction (audited)."""
    row = UssdPin.objects.select_for_update().filter(person=person).first()
    created = row is None
    if created:
        row = UssdPin(person=person)
    row.pin_hash = encoded
    row.set_by = acting_user
    row.failed_attempts = 0
    row.locked_until = None
    row.save()
    audit_log(actor=acting_user, event_type="ussd.pin_set" if created else "ussd.pin_reset",
              subject=row, after={"person": person.pk})
    return row


def pin_state(row: UssdPin | None, now=None) -> str:
    if row is None or not row.pin_hash:
        return PIN_NONE
    now = now or timezone.now()
    if row.locked_until is not None and row.locked_until > now:
        return PIN_LOCKED
    return PIN_OK


def pin_verify(*, person_id: int, pin: str) -> PinCheck:
    """Check a PIN typed on the phone. The hash is checked outside the transaction (slow, no
    lock held); the counting is done under the row lock, so two tries at once both count."""
    row = UssdPin.objects.filter(person_id=person_id).only(
        "pin_hash", "locked_until", "failed_attempts").first()
    now = timezone.now()
    state = pin_state(row, now)
    if state != PIN_OK:
        return PinCheck(state)
    good = len(pin) <= 12 and pin_matches(person_id, pin, row.pin_hash)
    with transaction.atomic(durable=True):
        row = UssdPin.objects.select_for_update().get(pk=row.pk)
        if row.locked_until is not None and row.locked_until > now:
            return PinCheck(PIN_LOCKED)
        failed = 0 if row.locked_until is not None else row.failed_attempts  # lock over
        if good:
            if failed or row.locked_until is not None:
                UssdPin.objects.filter(pk=row.pk).update(failed_attempts=0, locked_until=None)
            return PinCheck(PIN_OK)
        failed += 1
        if failed >= MAX_TRIES:
            UssdPin.objects.filter(pk=row.pk).update(
                failed_attempts=failed, locked_until=now + timedelta(minutes=LOCK_MINUTES))
            audit_log(actor=None, event_type="ussd.pin_locked", subject=row,
                      after={"person": person_id, "minutes": LOCK_MINUTES})
            return PinCheck(PIN_LOCKED)
        UssdPin.objects.filter(pk=row.pk).update(failed_attempts=failed, locked_until=None)
        return PinCheck(PIN_WRONG, MAX_TRIES - failed)
