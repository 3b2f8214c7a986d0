"""`jigi learning report --from YYYY-MM-DD --to YYYY-MM-DD [--user NAME] [--programme [ORG/]CODE]`:
the trainings report as CSV on standard output (one line per programme and group: all, each
sex, each age band), as seen by that user (default: everything, for the system
administrator's exports)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jigi.learning.selectors import learning_report, learning_report_csv, programmes_for_user

INVALID_INPUT = 2


class _Everything:
    """The report of every organisation (an administrator's export from the command line)."""

    pk = None
    is_authenticated = True
    is_superuser = True


class Command(BaseCommand):
    help = "Trainings: `report --from DATE --to DATE` prints the report as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["report"])
        parser.add_argument("--from", dest="date_from", required=True)
        parser.add_argument("--to", dest="date_to", required=True)
        parser.add_argument("--user", help="report as this user sees it")
        parser.add_argument("--programme", help="programme code, or ORGANISATION/CODE")

    def handle(self, *args: Any, action: str, date_from: str, date_to: str,
               user: str | None, programme: str | None, **options: Any) -> None:
        try:
            start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
        except ValueError:
            raise CommandError("dates are YYYY-MM-DD", returncode=INVALID_INPUT) from None
        if start > end:
            raise CommandError("--from is after --to", returncode=INVALID_INPUT)
        viewer: Any = _Everything()
        if user:
            viewer = get_user_model().objects.filter(username=user, is_active=True).first()
            if viewer is None:
                raise CommandError(f"unknown user {user}", returncode=INVALID_INPUT)
        chosen = None
        if programme:
            # A code is unique within its organisation only: "MTC/DROITS" names one of two.
            org, _sep, code = programme.upper().rpartition("/")
            found = programmes_for_user(viewer).filter(code=code)
            if org:
                found = found.filter(organisation__code=org)
            matches = list(found[:2])
            if not matches:
                raise CommandError(f"unknown programme {programme}", returncode=INVALID_INPUT)
            if len(matches) > 1:
                raise CommandError(f"programme {programme} exists in several organisations: "
                                   "give ORGANISATION/CODE", returncode=INVALID_INPUT)
            chosen = matches[0]
        reports = learning_report(viewer, start=start, end=end, programme=chosen)
        self.stdout.write(learning_report_csv(reports, start=start, end=end), ending="")
