"""Side effects after commit: SMS, webhooks and task enqueueing never run inside a transaction."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction


def after_commit(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    transaction.on_commit(partial(func, *args, **kwargs))
