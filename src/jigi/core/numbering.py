from __future__ import annotations

from django.db import IntegrityError, transaction

from jigi.core.models import Counter


def next_number(scope: str, year: int) -> int:
    """The next number of a gapless per-year sequence. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside a transaction")
    row = Counter.objects.select_for_update().filter(scope=scope, year=year).first()
    if row is None:
        try:
            with transaction.atomic():
                row = Counter.objects.create(scope=scope, year=year, value=0)
        except IntegrityError:
            row = Counter.objects.select_for_update().get(scope=scope, year=year)
        row = Counter.objects.select_for_update().get(pk=row.pk)
    row.value += 1
    Counter.objects.filter(pk=row.pk).update(value=row.value)
    return row.value
