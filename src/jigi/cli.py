"""The `jigi` command: Django's manage.py plus Jigi's own commands (demo, serve, ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jigi", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
