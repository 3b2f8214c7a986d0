"""Errors of the person registry that carry more than a message."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jigi.core.errors import Conflict


class PossibleDuplicates(Conflict):
    """Registration stopped because the registry may already hold this person (HTTP 409).

    `matches` are the raw DuplicateMatch rows (for the service and tests); `candidates` is
    what the user may be shown: full details of persons the user can see, and for the others
    only that a record elsewhere matches and why (a duplicate in another caisse or
    organisation must not leak that person's identity).
    `hard` is set for an identical NINA: two persons cannot share a national ID, so ticking
    "different person" does not help.
    """

    def __init__(self, matches: list[Any], candidates: list[dict[str, Any]], *,
                 hard: bool = False) -> None:
        if hard:
            message = _("A person with this NINA is already registered.")
            fields = {"nina": _("A person with this NINA is already registered.")}
        else:
            message = _("This person may already be registered. Check the candidates, "
                        "then confirm.")
            fields = {"confirm_not_duplicate": _("Tick this box if it is a different person.")}
        super().__init__("possible_duplicates", message, fields)
        self.matches = matches
        self.candidates = candidates
        self.hard = hard

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["candidates"] = self.candidates
        data["confirmable"] = not self.hard
        return data
