"""Idempotency-Key handling for the savings API, recorded INSIDE the service's transaction.

Why not `jigi.core.idempotency.run_idempotent`: it opens the outer durable transaction itself,
so the services it calls must not be durable. Savings services are durable
(`transaction.atomic(durable=True)`: a deposit is committed when the service returns, never
swallowed by a caller's transaction), so the claim travels into the service instead: the service
inserts the IdempotencyRecord first thing in its own transaction (a concurrent call with the same
key waits on the unique index, then fails and replays the first answer) and fills in the answer
last. Same table, same 409 semantics and message as the core helper.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core import prepared
from jigi.core.errors import ApplicationError, Conflict
from jigi.core.idempotency import HEADER, request_digest
from jigi.core.models import IdempotencyRecord


def _canonical(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True))


class KeyReplay(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by `IdempotencyClaim.begin` when the key is already recorded: the service's
    transaction rolls back and `keyed_call` answers from the record."""

    def __init__(self, recorded: tuple[str, int, Any]) -> None:
        super().__init__("idempotency key already recorded")
        self.recorded = recorded


@dataclass
class IdempotencyClaim:
    """One API call's claim on its key. `render` turns the service's result into the JSON
    answer that a replay returns."""

    user: Any
    key: str
    endpoint: str
    digest: str
    render: Callable[[Any], Any]
    status_code: int = 201
    response: Any = None
    _record_pk: int | None = field(default=None, repr=False)

    def begin(self) -> None:
        """Claim the key, first thing in the service's transaction. The key already recorded
        (by an earlier call, or a concurrent one that has just committed: the insert waits for
        it on the unique index) inserts nothing; its answer is read and `KeyReplay` ends the
        transaction, which `keyed_call` turns into the replay or the 409."""
        ops = connection.ops
        with prepared.cursor() as cursor:
            row = cursor.execute(prepared.statement("idem.claim", _claim_sql), [
                self.user.pk, self.key, self.endpoint[:200], self.digest, self.status_code,
                ops.adapt_json_value({}, None), ops.adapt_datetimefield_value(timezone.now()),
            ]).fetchone()
        if row is None:
            recorded = _recorded(self.user, self.key)
            if recorded is None:  # pragma: no cover - a unique index without a row
                raise IntegrityError("idempotency key claimed but not found")
            raise KeyReplay(recorded)
        self._record_pk = row[0]

    def finish(self, result: Any, before: Sequence[tuple[str, Sequence[Any]]] = ()) -> Any:
        """Record the answer; `before`: the service's last statements (its audit row), sent
        with it in one round trip where the driver allows it."""
        self.response = _canonical(self.render(result))
        with prepared.cursor() as cursor:
            cursor.execute_all([*before, (prepared.statement("idem.answer", _answer_sql),
                                          [connection.ops.adapt_json_value(self.response, None),
                                           self._record_pk])])
        return result


# Every money call claims its key, records its answer and, before that, looks the key up:
# statements written once per process (jigi.core.prepared), not compiled by the ORM per call.
_COLUMNS = ("user_id", "key", "endpoint", "request_hash", "status_code", "response", "created_at")


def _table() -> str:
    return connection.ops.quote_name(IdempotencyRecord._meta.db_table)


def _claim_sql() -> str:
    # ON CONFLICT DO NOTHING: a key already recorded gives no row (the look-up and the claim in
    # one statement on a new key, the common case). SQLite >= 3.35 and PostgreSQL.
    q = connection.ops.quote_name
    return (f"INSERT INTO {_table()} ({', '.join(q(c) for c in _COLUMNS)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(_COLUMNS))}) ON CONFLICT DO NOTHING "
            f"RETURNING {q('id')}")


def _answer_sql() -> str:
    q = connection.ops.quote_name
    return f"UPDATE {_table()} SET {q('response')} = %s WHERE {q('id')} = %s"  # noqa: S608


def _lookup_sql() -> str:
    q = connection.ops.quote_name
    return (f"SELECT {q('request_hash')}, {q('status_code')}, {q('response')} "  # noqa: S608
            f"FROM {_table()} WHERE {q('user_id')} = %s AND {q('key')} = %s")


def _recorded(user, key: str) -> tuple[str, int, Any] | None:
    with prepared.cursor() as cursor:
        row = cursor.execute(prepared.statement("idem.lookup", _lookup_sql),
                             [user.pk, key]).fetchone()
    if row is None:
        return None
    digest, status, response = row
    # SQLite (and psycopg, as Django configures it) hand JSON back as text.
    return digest, status, json.loads(response) if isinstance(response, str) else response


def _key_of(request) -> str:
    key = (request.headers.get(HEADER) or "").strip()
    if not key or len(key) > 128 or not key.isprintable():
        raise ApplicationError(
            "idempotency_key_required",
            _("Send an Idempotency-Key header (1 to 128 characters) with every money operation."),
            {HEADER: _("Required, 1 to 128 printable characters.")},
            status_code=400,
        )
    return key


def _replay(record: tuple[str, int, Any], digest: str) -> tuple[int, Any]:
    request_hash, status_code, response = record
    if request_hash != digest:
        raise Conflict(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request."),
            {HEADER: _("Use a new key for a new operation.")},
        )
    return status_code, response


def idempotent_call(request, *, endpoint: str, body: Any, render: Callable[[Any], Any],
                    run: Callable[[IdempotencyClaim], Any], status_code: int = 201,
                    lookup_first: bool = True) -> tuple[int, Any]:
    """Run `run(claim)` (a savings service given `idempotency=claim`) once per key.

    The key is checked before anything else (a missing key is a 400 even when the body is bad);
    a known key replays or conflicts without running the service; an error answer is not
    recorded, so the caller may fix the request and retry with the same key.
    """
    return keyed_call(request.user, _key_of(request), endpoint=endpoint, body=body,
                      render=render, run=run, status_code=status_code,
                      lookup_first=lookup_first)


def keyed_call(user, key: str, *, endpoint: str, body: Any, render: Callable[[Any], Any],
               run: Callable[[IdempotencyClaim], Any], status_code: int = 201,
               lookup_first: bool = True) -> tuple[int, Any]:
    """`idempotent_call` for a key that does not come from a request header (one line of a
    group's collection sheet, keyed from the sheet's own key).

    `lookup_first=False` skips the look-up before the service: the claim's insert finds a known
    key itself (one statement less per call). Only for services whose checks before their
    transaction look at the request alone (amount, the caller's roles), never at the state the
    first call changed: a replay must not be refused because the first call succeeded (the
    counter's deposit and withdrawal; not a repayment that may have closed its loan).
    """
    digest = request_digest(endpoint, body)
    if lookup_first:
        existing = _recorded(user, key)
        if existing is not None:
            return _replay(existing, digest)
    claim = IdempotencyClaim(user=user, key=key, endpoint=endpoint, digest=digest,
                             render=render, status_code=status_code)
    try:
        run(claim)
    except KeyReplay as known:
        return _replay(known.recorded, digest)
    except IntegrityError:
        # Lost the race for this key: the other call committed first; answer as it did.
        existing = _recorded(user, key)
        if existing is None:
            raise
        return _replay(existing, digest)
    return status_code, claim.response


def require_key(request) -> str:
    """Refuse a money call without a key before validating anything else."""
    return _key_of(request)
