"""Movement API: members (filled in by its module owner)."""

from ninja import Router

router = Router(tags=["movement-members"])
