"""What outsiders send us (a gateway's delivery report, a provider's callback) made storable
as it is received: PostgreSQL refuses NUL in text and JSON, and a lone surrogate cannot be
encoded. Plain Python."""

from __future__ import annotations

import math
from typing import Any


def storable_text(value: str) -> str:
    """The text without NUL, lone surrogates replaced by "?"."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def storable(value: Any) -> Any:
    """A JSON value (dict, list, str, number...) with every text, keys included, storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no Infinity nor NaN (PostgreSQL's jsonb refuses them)
    return value


def printable(value: str) -> bool:
    """An identifier we may look up or store: no control character, no lone surrogate."""
    return value.isprintable() and storable_text(value) == value
