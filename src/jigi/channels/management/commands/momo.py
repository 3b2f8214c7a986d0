"""`jigi momo ...`: mobile money without a web page or a worker.

- `jigi momo poll [--older-than SECONDS] [--limit N]`: ask the provider for the status of
  payments still pending (run every minute by cron); prints the count per outcome.
- `jigi momo reconcile --unit CODE [--date YYYY-MM-DD] [--file PATH] [--user NAME]`: import the
  day's statement (from the file, CSV or JSON, or from the simulator) and reconcile it.
- `jigi momo simulator [--port 8765] [--delay 5]`: run the fake provider in the foreground;
  each payment succeeds after the delay (fails when the amount ends in 13) and calls back.
Prints JSON, exits 2 on bad input.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jigi.channels.momo import providers, services
from jigi.channels.momo.providers.base import ProviderError
from jigi.channels.momo.providers.orange import parse_statement
from jigi.core.errors import ApplicationError
from jigi.orgs.models import Unit


class Command(BaseCommand):
    help = "Mobile money: poll, reconcile, simulator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["poll", "reconcile", "simulator"])
        parser.add_argument("--older-than", dest="older_than", type=int, default=60)
        parser.add_argument("--limit", type=int, default=500)
        parser.add_argument("--unit", default="")
        parser.add_argument("--date", default="")
        parser.add_argument("--file", default="")
        parser.add_argument("--user", default="admin")
        parser.add_argument("--provider", default="")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--delay", type=float, default=5.0)

    def handle(self, *args, **opts) -> None:
        action = opts["action"]
        if action == "poll":
            if opts["older_than"] < 0:
                raise CommandError("--older-than must be 0 or more", returncode=2)
            result = services.payments_poll(older_than=timedelta(seconds=opts["older_than"]),
                                            limit=opts["limit"])
            self.stdout.write(json.dumps(result, sort_keys=True))
        elif action == "reconcile":
            self.stdout.write(json.dumps(self._reconcile(opts), sort_keys=True))
        else:
            self._simulator(opts)

    def _reconcile(self, opts) -> dict:
        unit = Unit.objects.filter(code=opts["unit"]).first()
        if unit is None:
            raise CommandError("--unit: no unit with this code", returncode=2)
        user = get_user_model().objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError("--user: no such user", returncode=2)
        try:
            day = date.fromisoformat(opts["date"]) if opts["date"] else timezone.localdate()
        except ValueError:
            raise CommandError("--date: YYYY-MM-DD", returncode=2) from None
        name = opts["provider"] or providers.config()["provider"]
        try:
            if opts["file"]:
                rows = parse_statement(Path(opts["file"]).read_text(encoding="utf-8"))
            else:
                rows = providers.get_provider(name).statement(day=day.isoformat())
        except (OSError, ValueError, KeyError, ProviderError) as exc:
            raise CommandError(f"statement: {exc}", returncode=2) from exc
        try:
            return services.statement_import(acting_user=user, provider=name, unit=unit,
                                             rows=rows)
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}", returncode=2) from exc

    def _simulator(self, opts) -> None:
        from jigi.channels.momo.providers.simulator import SimulatorServer

        server = SimulatorServer(port=opts["port"], auto_delay=opts["delay"]).start()
        self.stdout.write(f"Mobile-money simulator on {server.url}: Orange Money Web "
                          f"Payment, and Moov Money under /moov/v1 (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.stop()
