"""`jigi demo --members N --seed S`: deterministic Mali-scale demo data."""

from __future__ import annotations

import time
from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from jigi.people.models import Person


class Command(BaseCommand):
    help = "Build a deterministic, Mali-realistic network (~100 caisses) with N persons."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--today", type=date.fromisoformat, default=None,
                            help="business date the history ends on (YYYY-MM-DD)")
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when the registry already holds persons")
        parser.add_argument("--reset", action="store_true",
                            help="erase the whole database first (flush)")

    def handle(self, *args, members: int, seed: int, today, if_empty: bool, reset: bool,
               **options):
        from jigi.demo.builder import DEMO_PASSWORD, build_demo

        if members < 1 or members > 2_000_000:
            raise CommandError("--members must be between 1 and 2,000,000")
        if reset:
            call_command("flush", interactive=False, verbosity=0)
        if Person.objects.exists():
            if if_empty:
                self.stdout.write("demo: data already present, nothing to do")
                return
            raise CommandError("the database already holds persons: use --reset or --if-empty")
        started = time.perf_counter()
        ctx = build_demo(members=members, seed=seed, today=today,
                         log=lambda msg: self.stdout.write(f"demo: {msg}"))
        self.stdout.write(f"demo: done in {time.perf_counter() - started:.1f} s")
        if ctx.logins:
            self.stdout.write(f"\nDemo logins (password: {DEMO_PASSWORD})")
            for username, role, where in ctx.logins:
                self.stdout.write(f"  {username:<20} {role:<24} {where}")
