"""`jigi report NAME --on DATE [--by DIM] [--unit CODE] [--from DATE] --format json|csv`

Prints one report of the savings and credit network (or of one region or caisse with
--unit) to stdout. Bad input: the message on stderr, exit status 2, nothing printed on stdout.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from jigi.core.errors import ApplicationError
from jigi.reports import selectors, tables
from jigi.reports.registry import build_report


class Command(BaseCommand):
    help = "Print a report (PAR, ageing, provisions, ...) as of a date, as JSON or CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help=", ".join(selectors.REPORTS))
        parser.add_argument("--on", default=None, help="as of this date, YYYY-MM-DD "
                                                       "(default: today)")
        parser.add_argument("--by", default=None, help="|".join(selectors.DIMENSIONS))
        parser.add_argument("--unit", default=None, help="a region or caisse code "
                                                         "(default: the whole network)")
        parser.add_argument("--from", dest="date_from", default=None,
                            help="start of the period (flows, yield, write-offs)")
        parser.add_argument("--format", default="json", choices=["json", "csv"])
        parser.add_argument("--language", default="fr", choices=["fr", "bm", "en"])

    def handle(self, *args, name: str, on, by, unit, date_from, format: str, language: str,
               **options):
        with translation.override(language):
            try:
                params = selectors.clean_params(name, on=on, by=by, date_from=date_from)
                perimeter = selectors.network_perimeter(unit)
                report = build_report(name, perimeter, params)
            except ApplicationError as exc:
                detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.as_dict()["fields"]
                                   .items())
                sys.stderr.write(f"{exc.message}{' ' + detail if detail else ''}\n")
                sys.exit(2)
            if format == "csv":
                self.stdout.write(tables.to_csv(report), ending="")
            else:
                self.stdout.write(json.dumps(tables.to_json(report), ensure_ascii=False,
                                             indent=1))
