"""`jigi loan schedule < terms.json`: print a loan's repayment schedule and TEG as JSON.

The input is one JSON object of loan settings, the output the schedule (docs/credit-schedule.md
describes both). Invalid input prints a message naming the field on stderr and exits with 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations
from django.utils.translation import gettext as _

from jigi.credit.schedule_errors import ScheduleError
from jigi.credit.schedule_json import schedule_json

INVALID_INPUT = 2


class Command(BaseCommand):
    help = "Loan calculations. `jigi loan schedule < terms.json` prints the schedule as JSON."
    # A pure calculation: no database, so no system checks to wait for.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["schedule"])
        parser.add_argument(
            "--input",
            default="-",
            help="file with the JSON loan settings (default: standard input)",
        )

    # English output whatever the default language: the pure layer's messages are English and
    # scripts may parse stderr; the translated texts are for the screens and the API.
    @no_translations
    def handle(self, *args: Any, action: str, input: str, **options: Any) -> None:
        try:
            text = sys.stdin.read() if input == "-" else Path(input).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(
                _("cannot read the input: %(error)s") % {"error": exc}, returncode=INVALID_INPUT
            ) from exc
        try:
            result = schedule_json(text)
        except ScheduleError as exc:
            raise CommandError(
                _("invalid loan settings: %(error)s") % {"error": exc}, returncode=INVALID_INPUT
            ) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
