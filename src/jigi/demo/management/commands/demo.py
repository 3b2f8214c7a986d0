"""`jigi demo --members N --seed S`: deterministic Mali-scale demo data (docs/demo.md)."""

from __future__ import annotations

import time
from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jigi.orgs.models import Unit
from jigi.people.models import Person

MAX_MEMBERS = 2_000_000


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--today: {text!r} is not a date YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Build a deterministic, Mali-realistic network (~100 caisses) with N persons."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=300,
                            help="number of persons (default 300; 75000 for full scale)")
        parser.add_argument("--seed", type=int, default=1,
                            help="random seed: the same seed gives the same data")
        parser.add_argument("--today", type=_iso_date, default=None,
                            help="business date the histories end on, YYYY-MM-DD "
                                 "(default: today's local date)")
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when the registry already holds persons")
        parser.add_argument("--reset", action="store_true",
                            help="ERASE THE WHOLE DATABASE first (flush), then build")

    def handle(self, *args, members: int, seed: int, today: date | None, if_empty: bool,
               reset: bool, **options) -> None:
        from jigi.demo.builder import DEMO_PASSWORD, build_demo

        if not 1 <= members <= MAX_MEMBERS:
            raise CommandError(f"--members must be between 1 and {MAX_MEMBERS:,}")
        if reset and if_empty:
            raise CommandError("--reset and --if-empty contradict each other: choose one")
        if reset:
            call_command("flush", interactive=False, verbosity=0)
        # Persons, or units below the three roots (bootstrap alone leaves only the roots).
        if Person.objects.exists() or Unit.objects.filter(parent__isnull=False).exists():
            if if_empty:
                self.stdout.write("demo: data already present, nothing to do")
                return
            raise CommandError("the database already holds persons or units: "
                               "use --reset or --if-empty")
        started = time.perf_counter()
        ctx = build_demo(members=members, seed=seed, today=today,
                         log=lambda msg: self.stdout.write(f"demo: {msg}"))
        seconds = ctx.counts.get("seconds", {})
        self.stdout.write("demo: steps " + ", ".join(f"{k} {v} s" for k, v in seconds.items()))
        self.stdout.write(f"demo: done in {time.perf_counter() - started:.1f} s "
                          f"(seed {seed}, {members} members, today {ctx.today.isoformat()})")
        if ctx.logins:
            self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
            rows = [("login", "role", "where"), *ctx.logins]
            widths = [max(len(r[i]) for r in rows) for i in range(3)]
            line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
            self.stdout.write(line)
            for n, row in enumerate(rows):
                self.stdout.write("| " + " | ".join(v.ljust(w) for v, w in
                                                    zip(row, widths, strict=True)) + " |")
                if n == 0:
                    self.stdout.write(line)
            self.stdout.write(line)
