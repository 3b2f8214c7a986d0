"""Movement API: cases (filled in by its module owner)."""

from ninja import Router

router = Router(tags=["movement-cases"])
