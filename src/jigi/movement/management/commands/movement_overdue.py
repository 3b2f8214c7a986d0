"""`jigi movement_overdue [--on YYYY-MM-DD]`: raise the overdue alerts of the movement's cases
(no first action by its deadline, not resolved by its deadline), once per case and kind, as
close of business does every day. Prints a JSON summary per movement."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jigi.core.cleaning import today
from jigi.movement.services.cases import cases_check_overdue
from jigi.orgs.models import Organisation, OrgKind

INVALID_INPUT = 2


class Command(BaseCommand):
    help = "MTC cases: raise the overdue alerts (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--on", help="the day to check (YYYY-MM-DD, default today)")

    def handle(self, *args: Any, on: str | None, **options: Any) -> None:
        try:
            day = date.fromisoformat(on) if on else today()
        except ValueError:
            raise CommandError("give the day as --on YYYY-MM-DD",
                               returncode=INVALID_INPUT) from None
        out = {org.code: cases_check_overdue(organisation=org, today=day)
               for org in Organisation.objects.filter(kind=OrgKind.MOVEMENT).order_by("code")}
        self.stdout.write(json.dumps({"on": day.isoformat(), "raised": out}))
