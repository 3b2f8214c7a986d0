"""`jigi sms ...`: the SMS side without a web page or a worker.

- `jigi sms send [--limit N] [--reports]`: send queued messages through the configured
  backend (then, with the simulator and --reports, receive its delivery reports).
- `jigi sms outbox [--phone P] [--status S] [--limit N] [--user NAME]`: the newest messages
  (all of them, as the system's operator; with --user, those that user may read).
- `jigi sms report --month YYYY-MM [--org CODE] [--csv]`: the cost report.
- `jigi sms reminders [--as-of YYYY-MM-DD] [--days 3]`: queue instalment reminders;
  `--from-cob [--as-of D]`: hand over the reminders close of business queued (that day).
- `jigi sms reports`: the simulator's pending delivery reports.
- `jigi sms templates`: every template's encoding and parts with the longest values.
Prints JSON (or CSV), exits 2 on bad input.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jigi.channels import selectors, templates
from jigi.channels.models import OutboundMessage
from jigi.channels.sender import sms_send_queued
from jigi.channels.services import reminders_from_cob, reminders_queue, sms_simulate_reports
from jigi.core.errors import Forbidden
from jigi.orgs.models import Organisation

INVALID_INPUT = 2


class Command(BaseCommand):
    help = "SMS: send, outbox, report, reminders, reports, templates."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["send", "outbox", "report", "reminders",
                                               "reports", "templates"])
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--reports", action="store_true",
                            help="send: then receive the simulator's delivery reports")
        parser.add_argument("--phone", default="")
        parser.add_argument("--status", default="")
        parser.add_argument("--month", default="")
        parser.add_argument("--org", default="")
        parser.add_argument("--csv", action="store_true")
        parser.add_argument("--user", default="",
                            help="outbox: only the messages this user may read")
        parser.add_argument("--as-of", dest="as_of", default="")
        parser.add_argument("--days", type=int, default=3)
        parser.add_argument("--from-cob", dest="from_cob", action="store_true",
                            help="reminders: those close of business queued")

    def _out(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, default=str))

    def handle(self, *args: Any, action: str, **o: Any) -> None:
        if o.get("limit") is not None and o["limit"] < 1:
            raise CommandError("--limit must be 1 or more", returncode=2)
        getattr(self, f"do_{action}")(**o)

    def do_send(self, *, limit: int | None, reports: bool, **_: Any) -> None:
        report = sms_send_queued(limit=limit or 1000)
        out = report.as_dict()
        codes = dict(Organisation.objects.values_list("pk", "code"))
        out["held_by_organisation"] = {codes.get(k, str(k)): v
                                       for k, v in report.held_by_organisation.items()}
        if reports and report.backend == "simulator":
            out["reports_received"] = sms_simulate_reports()
        self._out(out)

    def do_outbox(self, *, phone: str, status: str, limit: int | None, user: str,
                  **_: Any) -> None:
        if user:
            staff = get_user_model().objects.filter(username=user).first()
            if staff is None:
                raise CommandError("--user: no such user", returncode=INVALID_INPUT)
            try:
                qs = selectors.outbox_for_user(staff, phone=phone, status=status)
            except Forbidden:
                raise CommandError("--user: no role to read the outbox",
                                   returncode=INVALID_INPUT) from None
        else:
            qs = (OutboundMessage.objects.select_related("organisation", "unit")
                  .filter(selectors.phone_filter(phone)).order_by("-created_at", "-pk"))
            if status:
                qs = qs.filter(status=status)
        self._out([{"id": m.pk, "org": m.organisation.code,
                    "unit": m.unit.code if m.unit_id else None, "phone": m.phone,
                    "status": m.status, "purpose": m.purpose, "parts": m.parts,
                    "cost": m.cost, "created_at": m.created_at.isoformat(timespec="seconds"),
                    "error": m.error, "text": m.text} for m in qs[:limit or 50]])

    def do_report(self, *, month: str, org: str, csv: bool, **_: Any) -> None:
        try:
            day = datetime.strptime(month, "%Y-%m").date()  # noqa: DTZ007 - a month
        except ValueError:
            raise CommandError("give the month: --month YYYY-MM",
                               returncode=INVALID_INPUT) from None
        orgs = None
        if org:
            found = Organisation.objects.filter(code=org).values_list("pk", flat=True)
            if not found:
                raise CommandError(f"unknown organisation {org}", returncode=INVALID_INPUT)
            orgs = set(found)
        report = selectors.cost_report(month=day, organisation_ids=orgs)
        if csv:
            self.stdout.write(selectors.cost_report_csv(report), ending="")
            return
        self._out({"month": month, "rows": [r.__dict__ for r in report.rows],
                   "budgets": report.budgets, "spent": report.spent, "queued": report.queued})

    def do_reminders(self, *, as_of: str, days: int, from_cob: bool, **_: Any) -> None:
        try:
            day = date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError:
            raise CommandError("--as-of YYYY-MM-DD", returncode=INVALID_INPUT) from None
        if from_cob:
            self._out(reminders_from_cob(queued_for=day if as_of else None))
            return
        if not 0 <= days <= 60:
            raise CommandError("--days from 0 to 60", returncode=INVALID_INPUT)
        self._out({"as_of": day.isoformat(), "days_before": days,
                   "queued": reminders_queue(as_of=day, days_before=days)})

    def do_reports(self, **_: Any) -> None:
        self._out({"reports_received": sms_simulate_reports()})

    def do_templates(self, **_: Any) -> None:
        self._out([{"kind": r.kind, "language": r.language, "encoding": r.encoding,
                    "parts": r.parts, "warnings": list(r.warnings), "text": r.text}
                   for r in templates.templates_check()])
