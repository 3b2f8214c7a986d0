"""jigi.core.idempotency.run_idempotent, directly (the API tests drive it through HTTP)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection

from jigi.core.errors import ApplicationError
from jigi.core.idempotency import request_digest, run_idempotent
from jigi.core.models import IdempotencyRecord


def _request(user, key):
    return SimpleNamespace(user=user, headers={"Idempotency-Key": key})


def test_runs_once_and_replays(world):
    calls = []

    def action():
        calls.append(1)
        return 201, {"n": len(calls)}

    req = _request(world.users["manager_a"], "abc")
    assert run_idempotent(req, endpoint="e", body={"a": 1}, action=action) == (201, {"n": 1})
    assert run_idempotent(req, endpoint="e", body={"a": 1}, action=action) == (201, {"n": 1})
    assert len(calls) == 1
    with pytest.raises(ApplicationError) as exc:
        run_idempotent(req, endpoint="other", body={"a": 1}, action=action)
    assert (exc.value.code, exc.value.status_code) == ("idempotency_key_reused", 409)


def test_digest_ignores_key_order_and_separates_endpoints():
    assert request_digest("e", {"a": 1, "b": 2}) == request_digest("e", {"b": 2, "a": 1})
    assert request_digest("e", {"a": 1}) != request_digest("f", {"a": 1})


def test_a_failed_action_stores_nothing_and_the_key_stays_usable(world):
    req = _request(world.users["manager_a"], "k")

    def refused():
        raise ApplicationError("nope", "refused")

    with pytest.raises(ApplicationError):
        run_idempotent(req, endpoint="e", body={}, action=refused)
    assert not IdempotencyRecord.objects.exists()
    assert run_idempotent(req, endpoint="e", body={}, action=lambda: (200, {})) == (200, {})


def test_an_integrity_error_of_the_action_itself_is_not_swallowed(world):
    req = _request(world.users["manager_a"], "k")

    def broken():
        raise IntegrityError("some other constraint")

    with pytest.raises(IntegrityError):
        run_idempotent(req, endpoint="e", body={}, action=broken)
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_calls_with_one_key_run_the_action_once(world):
    """Both calls pass the first lookup; the unique (user, key) makes the second one roll back
    its work and replay the first answer."""
    user = world.users["manager_a"]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def action():
        from jigi.core.models import Counter

        Counter.objects.create(scope=f"probe:{threading.get_ident()}", year=2026)
        barrier.wait(timeout=30)  # both actions have run before either records the key
        return 201, {"by": threading.get_ident()}

    def run(i):
        try:
            results[i] = run_idempotent(_request(user, "same"), endpoint="e", body={},
                                        action=action)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    from jigi.core.models import Counter

    assert results[0] == results[1]
    assert IdempotencyRecord.objects.filter(key="same").count() == 1
    assert Counter.objects.filter(scope__startswith="probe:").count() == 1
