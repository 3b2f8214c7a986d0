"""Learning API."""

from ninja import Router

router = Router(tags=["learning"])
