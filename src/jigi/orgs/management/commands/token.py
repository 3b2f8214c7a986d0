"""`jigi token create --user NAME [--name LABEL]`: print a new API bearer token for a user."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from jigi.orgs.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token (shown once) for a staff user."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", default="cli")

    def handle(self, *args, action: str, user: str, name: str, **options):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"no such user: {user}")
        _, raw = api_token_create(user=account, name=name)
        self.stdout.write(raw)
