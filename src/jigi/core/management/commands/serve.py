"""`jigi serve [--port N] [--workers N]`: serve the staff web app and API.

One process (the default): waitress, pure Python, threaded. Several (`--workers N`, N > 1):
gunicorn with N worker processes of `--threads` threads each behind one port. A Django request
is mostly Python work, and one process runs Python on one core at a time (the GIL): with eight
tellers posting at once, one process was the bottleneck, not the database (docs/PERFORMANCE.md,
"Savings").
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Jigi on http://HOST:PORT (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8, help="threads per process")
        parser.add_argument("--workers", type=int, default=1,
                            help="server processes (more than 1: gunicorn; about 2 per core)")
        parser.add_argument("--no-migrate", action="store_true", help="skip `migrate` at start")

    def handle(self, *args, host: str, port: int, threads: int, workers: int, no_migrate: bool,
               **options):
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        if not no_migrate:
            call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write(f"Jigi: http://{host}:{port}/  (Ctrl+C to stop)")
        if workers == 1:
            from waitress import serve

            from jigi.wsgi import application

            serve(application, host=host, port=port, threads=threads, ident="jigi")
            return
        _gunicorn(host=host, port=port, workers=workers, threads=threads)


def _gunicorn(*, host: str, port: int, workers: int, threads: int) -> None:
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    # The workers are forked from this process: none may inherit its connection (`migrate`).
    connections.close_all()

    class Jigi(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads,
                "worker_class": "gthread", "proc_name": "jigi",
                # Not preloaded: each worker imports the app and opens its own database
                # connections after the fork (a connection must never be shared by processes).
                "preload_app": False,
                "accesslog": None, "errorlog": "-", "loglevel": "warning",
                # A deposit may wait behind a drawer's row lock; a slow caisse link is normal.
                "timeout": 60, "keepalive": 5,
            }.items():
                self.cfg.set(key, value)

        def load(self):
            from jigi.wsgi import application

            return application

    Jigi().run()
