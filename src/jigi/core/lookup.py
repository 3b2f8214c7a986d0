"""One object by the id a request gave, within what the user may see: the common end of every
`get_<thing>_for_user` (style rule 9).

A missing, malformed or out-of-range id and an object outside the user's scope give the same
`NotFound`, so a 404 tells nothing about what exists.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from jigi.core.errors import NotFound

M = TypeVar("M", bound=Model)

# The largest id a database row can have (64-bit signed): larger ones cannot exist.
MAX_ID = 2**63 - 1


def is_id(value: Any) -> bool:
    """Whether `value` is an int (not a bool) that a database row's id can be."""
    return type(value) is int and 0 < value <= MAX_ID


def id_or_none(value: Any) -> int | None:
    """A positive database id from what the request gave ("12", 12), else None."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    # Ids beyond 64 bits cannot exist (and overflow SQLite's integers).
    return pk if 0 < pk <= MAX_ID else None


def one_in(visible: QuerySet[M], pk: Any, *, code: str, message: Any) -> M:
    """The row `pk` of `visible` (the user's scoped queryset), or NotFound(code, message)."""
    pk = id_or_none(pk)
    row = visible.filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound(code, message)
    return row
