"""`jigi movement setup`: the movement's settings (dues rates, case deadlines, legal figures,
its chart of accounts), idempotently.
`jigi movement accrue [--date YYYY-MM-DD]`: the members' missing dues charges up to the date
(today by default), what close of business does every day (`jigi cob --network MTC`).
Prints a JSON summary."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jigi.core.cleaning import today
from jigi.movement.services.dues import dues_accrue
from jigi.movement.setup import movement_setup
from jigi.orgs.models import Organisation, OrgKind

INVALID_INPUT = 2


class Command(BaseCommand):
    help = "MTC: `setup` seeds the movement's settings; `accrue --date DATE` makes dues charges."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["setup", "accrue"])
        parser.add_argument("--date", help="accrue dues up to this date (YYYY-MM-DD)")
        parser.add_argument("--movement", help="organisation code (default: every movement)")

    def handle(self, *args: Any, action: str, date: str | None, movement: str | None,
               **options: Any) -> None:
        orgs = Organisation.objects.filter(kind=OrgKind.MOVEMENT).order_by("code")
        if movement:
            orgs = orgs.filter(code=movement)
            if not orgs.exists():
                raise CommandError(f"unknown movement {movement}", returncode=INVALID_INPUT)
        if action == "setup":
            for org in orgs:
                movement_setup(org)
            self.stdout.write(json.dumps({"setup": [o.code for o in orgs]}))
            return
        as_of = _parse(date) if date else today()
        out = []
        for org in orgs:
            run = dues_accrue(organisation=org, as_of=as_of)
            out.append({"movement": org.code, "as_of": as_of.isoformat(), "charges": run.charges,
                        "amount": run.amount, "advance_used": run.advance_used,
                        "entries": run.entries, "members_changed": run.members})
        self.stdout.write(json.dumps(out, ensure_ascii=False))


def _parse(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError("give the date as YYYY-MM-DD", returncode=INVALID_INPUT) from None
    if day > today():
        raise CommandError("the date is in the future", returncode=INVALID_INPUT)
    return day
