"""The pure petition-code rules: generation, HMAC binding, constant-time check, limits."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.movement import petition_codes as pc

SECRET = "server-secret"
SENT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=10**6 - 1))
def test_code_is_six_digits_with_leading_zeros(value):
    code = pc.code_new(lambda n: value)
    assert len(code) == 6
    assert code.isdigit()
    assert int(code) == value


def test_code_from_a_seeded_source_is_reproducible():
    a = pc.code_new(random.Random(7).randrange)
    b = pc.code_new(random.Random(7).randrange)
    assert a == b


def test_random_source_out_of_range_is_refused():
    with pytest.raises(ValueError, match="out of range"):
        pc.code_new(lambda n: n)


@given(st.integers(min_value=0, max_value=10**6 - 1), st.integers(min_value=1, max_value=10**9))
def test_hash_is_hex_64_and_bound_to_petition_phone_and_secret(value, petition_id):
    code = f"{value:06d}"
    h = pc.code_hash(SECRET, petition_id=petition_id, phone="+22376123456", code=code)
    assert len(h) == 64
    assert int(h, 16) >= 0
    assert h != pc.code_hash(SECRET, petition_id=petition_id + 1, phone="+22376123456",
                             code=code)
    assert h != pc.code_hash(SECRET, petition_id=petition_id, phone="+22376123457", code=code)
    assert h != pc.code_hash("other", petition_id=petition_id, phone="+22376123456", code=code)


@given(st.integers(min_value=0, max_value=10**6 - 1), st.integers(min_value=0, max_value=10**6 - 1))
def test_only_the_right_code_matches(right, typed):
    stored = pc.code_hash(SECRET, petition_id=1, phone="+22376123456", code=f"{right:06d}")
    assert pc.code_matches(SECRET, petition_id=1, phone="+22376123456", typed=f"{typed:06d}",
                           stored_hash=stored) is (right == typed)


@pytest.mark.parametrize(("typed", "clean"), [
    ("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"),
    ("12345", None), ("1234567", None), ("12345a", None), ("١٢٣٤٥٦", None), (123456, None),
    (None, None), ("1" * 100, None),
])
def test_typed_code_cleaning(typed, clean):
    assert pc.clean_typed_code(typed) == clean


def _check(typed="123456", attempts=0, now=SENT + timedelta(minutes=5)):
    stored = pc.code_hash(SECRET, petition_id=3, phone="+22366000000", code="123456")
    return pc.code_check(SECRET, petition_id=3, phone="+22366000000", typed=typed,
                         stored_hash=stored, attempts=attempts, sent_at=SENT, now=now)


def test_check_verdicts():
    assert _check() is pc.Verdict.OK
    assert _check("654321") is pc.Verdict.WRONG
    assert _check(attempts=4) is pc.Verdict.OK
    # Locked or expired: even the right code is refused.
    assert _check(attempts=5) is pc.Verdict.LOCKED
    assert _check(now=SENT + timedelta(hours=24)) is pc.Verdict.OK
    assert _check(now=SENT + timedelta(hours=24, seconds=1)) is pc.Verdict.EXPIRED


@given(st.integers(min_value=0, max_value=50))
def test_attempts_left_never_negative(attempts):
    left = pc.attempts_left(attempts)
    assert 0 <= left <= pc.MAX_ATTEMPTS
    assert (left == 0) is (attempts >= pc.MAX_ATTEMPTS)


def test_at_most_three_codes_a_day():
    assert [pc.may_send_code(n) for n in range(5)] == [True, True, True, False, False]
