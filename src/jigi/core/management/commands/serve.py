"""`jigi serve [--port N]`: serve the staff web app and API with waitress (pure Python, threaded)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Jigi on http://HOST:PORT with waitress (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-migrate", action="store_true", help="skip `migrate` at start")

    def handle(self, *args, host: str, port: int, threads: int, no_migrate: bool, **options):
        from waitress import serve

        from jigi.wsgi import application

        if not no_migrate:
            call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write(f"Jigi: http://{host}:{port}/  (Ctrl+C to stop)")
        serve(application, host=host, port=port, threads=threads, ident="jigi")
