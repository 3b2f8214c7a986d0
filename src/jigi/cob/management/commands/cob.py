"""`jigi cob --through YYYY-MM-DD`: close of business up to a business date (catch-up)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jigi.core.errors import ApplicationError


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("A date is written YYYY-MM-DD: %(value)s") % {"value": value}) \
            from None


class Command(BaseCommand):
    help = "Close of business: close every business date after the last closed one up to --through."

    def add_arguments(self, parser):
        parser.add_argument("--through", required=True, help="last business date to close")
        parser.add_argument("--first", help="first date, for a network never closed")
        parser.add_argument("--network", help="organisation code (default: the one with caisses)")
        parser.add_argument("--mode", choices=["auto", "inprocess", "celery"], default="auto",
                            help="celery: partitions as Celery tasks (needs a broker)")
        parser.add_argument("--quiet", action="store_true", help="no progress bars")

    def handle(self, *args, **opts):
        from jigi.cob import services
        from jigi.cob.tasks import broker_url, cob_execute_celery
        from jigi.orgs.models import Organisation

        through = _date(opts["through"])
        first = _date(opts["first"]) if opts["first"] else None
        try:
            org = (Organisation.objects.filter(code=opts["network"]).first()
                   if opts["network"] else services.default_network())
            if org is None:
                raise CommandError(_("Unknown network %(code)s.") % {"code": opts["network"]})
            mode = opts["mode"]
            if mode == "auto":
                mode = "celery" if broker_url() and services.connection_vendor() == \
                    "postgresql" else "inprocess"
            if mode == "celery" and not broker_url():
                raise CommandError(_("No broker configured (JIGI_BROKER_URL)."))
            run = services.cob_start(organisation=org, through=through, first=first, mode=mode)
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from None
        if run.partitions_total == 0:
            self.stdout.write(_("Nothing to close: %(date)s is already closed.")
                              % {"date": through.isoformat()})
            services._finish(run, "done")
            return
        execute = cob_execute_celery if mode == "celery" else services.cob_execute
        with _Bars(enabled=not opts["quiet"], stream=self.stderr) as bars:
            run = execute(run=run, progress=bars.update)
        self.stdout.write(_("Closed %(first)s to %(through)s: %(n)d partitions in %(s).2f s "
                            "(%(mode)s).") % {
            "first": run.first_date.isoformat(), "through": run.through.isoformat(),
            "n": run.partitions_done, "s": run.duration_seconds or 0, "mode": mode})


class _Bars:
    """rich progress: one bar for the days, one for the partitions (caisses) of the day."""

    def __init__(self, *, enabled: bool, stream) -> None:
        self.enabled = enabled
        self.progress = None
        self.days = self.parts = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn())
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def update(self, event: str, **kw) -> None:
        p = self.progress
        if p is None:
            return
        if event == "day":
            if self.days is None:
                self.days = p.add_task(_("business days"), total=None)
            if self.parts is not None:
                p.advance(self.days)
                p.remove_task(self.parts)
            self.parts = p.add_task(kw["day"].isoformat(), total=kw["total"],
                                    completed=kw["done"])
        elif event == "partition":
            p.update(self.parts, advance=1, description=f"{kw['day'].isoformat()} {kw['caisse']}")
        elif event == "partitions":  # Celery: the count of closed partitions of the day
            p.update(self.parts, completed=kw["done"])
