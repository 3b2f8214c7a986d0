"""`jigi health setup`: the union's default packages (AMV, rural), idempotently.
`jigi health day --on YYYY-MM-DD [--mutual CODE]`: the steps close of business runs for a
mutual (`jigi cob --network UTM`), for one day, outside the business-date bookkeeping: standing orders due, arrears (suspensions and reinstatements), advances recognised.
Prints a JSON summary."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jigi.health.services import arrears_run, standing_orders_run
from jigi.health.setup import health_setup
from jigi.orgs.models import Organisation, OrgKind, Unit, UnitKind

INVALID_INPUT = 2


class Command(BaseCommand):
    help = "UTM coverage: `setup` seeds the default packages; `day --on DATE` runs a day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["setup", "day"])
        parser.add_argument("--on", help="business date (YYYY-MM-DD) for `day`")
        parser.add_argument("--mutual", help="mutual code (default: every mutual)")

    def handle(self, *args: Any, action: str, on: str | None, mutual: str | None,
               **options: Any) -> None:
        if action == "setup":
            out = {}
            for org in Organisation.objects.filter(kind=OrgKind.MUTUAL_UNION):
                out[org.code] = sorted(health_setup(organisation=org))
            self.stdout.write(json.dumps(out))
            return
        try:
            day = date.fromisoformat(on or "")
        except ValueError:
            raise CommandError("give the business date: --on YYYY-MM-DD",
                               returncode=INVALID_INPUT) from None
        mutuals = Unit.objects.filter(kind=UnitKind.MUTUAL).order_by("code")
        if mutual:
            mutuals = mutuals.filter(code=mutual)
            if not mutuals.exists():
                raise CommandError(f"unknown mutual {mutual}", returncode=INVALID_INPUT)
        out = []
        for unit in mutuals:
            orders = standing_orders_run(on=day, mutual=unit)
            run = arrears_run(mutual=unit, on=day)
            out.append({"mutual": unit.code, "standing_orders": {
                "paid": sum(o.ok for o in orders), "failed": sum(not o.ok for o in orders)},
                "checked": run.checked, "suspended": run.suspended,
                "reinstated": run.reinstated, "recognised": run.recognised})
        self.stdout.write(json.dumps(out, ensure_ascii=False))
