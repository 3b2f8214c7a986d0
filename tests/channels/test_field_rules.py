"""The pure rules of a field record: what is compared between sends, and the device-side
checks the server repeats (hypothesis and table)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jigi.channels.field import rules

TODAY = date(2026, 5, 12)

records = st.fixed_dictionaries({
    "uuid": st.uuids().map(str),
    "kind": st.sampled_from(rules.KINDS),
    "person_id": st.integers(min_value=1, max_value=2**62),
    "amount": st.integers(min_value=1, max_value=rules.MAX_FIELD_AMOUNT),
    "collected_on": st.integers(min_value=0, max_value=rules.MAX_AGE_DAYS).map(
        lambda d: (TODAY - timedelta(days=d)).isoformat()),
})


@settings(deadline=None)
@given(records, st.dictionaries(st.sampled_from(["name", "note", "device"]), st.text()))
def test_a_valid_record_parses_and_extra_fields_do_not_change_its_hash(raw, extra):
    rec, errors = rules.parse_record(raw, TODAY)
    assert errors == {}
    assert rec is not None
    assert rec.amount == raw["amount"]
    again, _ = rules.parse_record({**raw, **extra}, TODAY)
    assert again is not None
    assert rules.payload_hash(again.payload()) == rules.payload_hash(rec.payload())


@settings(deadline=None)
@given(records, st.integers(min_value=1, max_value=1000))
def test_another_amount_is_another_hash(raw, delta):
    rec, _ = rules.parse_record(raw, TODAY)
    other, _ = rules.parse_record({**raw, "amount": raw["amount"] + delta}, TODAY)
    assert rec is not None
    if other is not None:
        assert rules.payload_hash(other.payload()) != rules.payload_hash(rec.payload())


@settings(deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_amount_is_never_money(value):
    rec, errors = rules.parse_record({"uuid": str(uuid.uuid4()), "kind": "deposit",
                                      "person_id": 1, "amount": value,
                                      "collected_on": TODAY.isoformat()}, TODAY)
    assert rec is None
    assert "amount" in errors


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"uuid": "12"}, "uuid", "not_a_uuid"),
    ({"kind": "withdrawal"}, "kind", "unknown_kind"),
    ({"person_id": True}, "person_id", "required"),
    ({"person_id": -3}, "person_id", "required"),
    ({"amount": "1 500,5"}, "amount", "not_a_number"),
    ({"amount": 0}, "amount", "zero"),
    ({"amount": rules.MAX_FIELD_AMOUNT + 1}, "amount", "too_large"),
    ({"collected_on": "12/05/2026"}, "collected_on", "not_a_date"),
    ({"collected_on": "2026-05-13"}, "collected_on", "future"),
    ({"collected_on": "2026-04-10"}, "collected_on", "too_old"),
])
def test_each_wrong_field_is_named(changes, field, code):
    raw = {"uuid": str(uuid.uuid4()), "kind": "repayment", "person_id": "7",
           "amount": "1 500", "collected_on": "2026-05-12"}
    rec, errors = rules.parse_record({**raw, **changes}, TODAY)
    assert rec is None
    assert errors == {field: code}


def test_uuid_spellings_are_one_record():
    u = uuid.uuid4()
    assert rules.clean_uuid(str(u).upper()) == rules.clean_uuid(str(u)) == str(u)
    assert rules.clean_uuid(None) is None
