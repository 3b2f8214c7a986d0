"""`jigi movement_snapshot [--month YYYY-MM]`: the month's decent-work indicators kept in
IndicatorSnapshot (default: the month before today, taken at the turn of the month).
Idempotent: a month already kept is left as it is. Prints a JSON summary."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jigi.core.cleaning import today
from jigi.core.errors import ApplicationError
from jigi.movement.services.indicators import indicator_snapshot_take
from jigi.orgs.models import Organisation, OrgKind

INVALID_INPUT = 2


def _month(text: str | None) -> date:
    if not text:
        return (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    try:
        return date.fromisoformat(f"{text}-01" if len(text) == 7 else text)
    except ValueError:
        raise CommandError("give the month: --month YYYY-MM", returncode=INVALID_INPUT) from None


class Command(BaseCommand):
    help = "Keep the decent-work indicators of a month (default: last month)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: the month before today)")

    def handle(self, *args: Any, month: str | None, **options: Any) -> None:
        when = _month(month)
        out = []
        for org in Organisation.objects.filter(kind=OrgKind.MOVEMENT).order_by("code"):
            try:
                snap, created = indicator_snapshot_take(organisation=org, month=when)
            except ApplicationError as exc:
                raise CommandError(f"{exc.fields or exc.message}",
                                   returncode=INVALID_INPUT) from None
            out.append({"organisation": org.code, "month": snap.month.isoformat()[:7],
                        "created": created, "members": snap.data.get("members", 0),
                        "smig": snap.smig})
        self.stdout.write(json.dumps(out))
