"""Petition signature codes: a six-digit code sent by SMS proves the signer holds the phone.

Pure (no Django): the caller passes the random source, the server secret and the clock.

- Only an HMAC-SHA256 of the code is stored, keyed by the server secret and bound to the
  petition and the phone, so a leaked table gives neither the codes nor a hash reusable for
  another petition or phone (a million codes are trivially brute-forced from a plain hash).
- A code is checked in constant time (hmac.compare_digest), at most MAX_ATTEMPTS times, and for
  CODE_TTL after it was sent; after that only a new code helps.
- At most MAX_CODES_PER_DAY codes go to one phone in any 24 hours, whatever the petition: the
  public page must not become a free SMS cannon against someone's phone.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta

CODE_DIGITS = 6
MAX_ATTEMPTS = 5
CODE_TTL = timedelta(hours=24)
MAX_CODES_PER_DAY = 3
CODES_WINDOW = timedelta(hours=24)


class Verdict(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # counts as an attempt
    EXPIRED = "expired"  # older than CODE_TTL: ask for a new code
    LOCKED = "locked"  # MAX_ATTEMPTS used: ask for a new code


def code_new(randbelow: Callable[[int], int]) -> str:
    """A code of CODE_DIGITS digits (leading zeros kept) from `randbelow(n)` -> 0..n-1
    (`secrets.randbelow` in production; a seeded source in tests)."""
    limit = 10**CODE_DIGITS
    value = randbelow(limit)
    if not 0 <= value < limit:
        raise ValueError("random source out of range")
    return f"{value:0{CODE_DIGITS}d}"


def clean_typed_code(typed: object) -> str | None:
    """What a person typed ("123 456", "123-456") as six digits, or None when it cannot be a
    code (then it is not compared at all)."""
    if not isinstance(typed, str) or len(typed) > 40:
        return None
    digits = "".join(c for c in typed if c not in " -.\u00a0\u202f")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def code_hash(secret: str | bytes, *, petition_id: int, phone: str, code: str) -> str:
    """HMAC-SHA256 (hex, 64 characters) of the code bound to its petition and phone."""
    key = secret.encode() if isinstance(secret, str) else secret
    message = f"petition:{petition_id}|phone:{phone}|code:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_matches(secret: str | bytes, *, petition_id: int, phone: str, typed: object,
                 stored_hash: str) -> bool:
    """Constant-time comparison of the typed code's hash with the stored one."""
    code = clean_typed_code(typed)
    if code is None:
        return False
    candidate = code_hash(secret, petition_id=petition_id, phone=phone, code=code)
    return hmac.compare_digest(candidate, stored_hash)


def code_check(secret: str | bytes, *, petition_id: int, phone: str, typed: object,
               stored_hash: str, attempts: int, sent_at: datetime, now: datetime) -> Verdict:
    """The verdict on a typed code. Lock and expiry come first: once either holds, even the
    right code is refused (and not compared), so guessing after the limit learns nothing."""
    if attempts >= MAX_ATTEMPTS:
        return Verdict.LOCKED
    if now - sent_at > CODE_TTL:
        return Verdict.EXPIRED
    if code_matches(secret, petition_id=petition_id, phone=phone, typed=typed,
                    stored_hash=stored_hash):
        return Verdict.OK
    return Verdict.WRONG


def attempts_left(attempts: int) -> int:
    return max(0, MAX_ATTEMPTS - attempts)


def may_send_code(sent_in_window: int) -> bool:
    """Whether one more code may go to a phone that got `sent_in_window` codes in the last
    CODES_WINDOW."""
    return sent_in_window < MAX_CODES_PER_DAY
