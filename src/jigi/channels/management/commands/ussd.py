"""`jigi ussd --phone +223XXXXXXXX`: the members' USSD menu in the terminal, as a basic phone
would show it. Type a choice and Enter; an empty line or Ctrl-D hangs up.

- `--send 1,4321,2`: type these inputs one by one, print every screen, and stop (scripts, tests).
- `--url http://127.0.0.1:8000/channels/ussd/gateway/`: go through a running server's gateway
  endpoint (as the real gateway does) instead of calling the menu in this process.
- `--code *144#`: the service code (default *144#).
Exits 2 on a phone number that is not a Mali number.
"""

from __future__ import annotations

import sys
import urllib.parse
import urllib.request
import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jigi.channels.ussd.services import GatewayRequest, ussd_answer
from jigi.people.phones import PhoneError, normalize_mali_phone


class Command(BaseCommand):
    help = "Try the members' USSD menu in the terminal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", required=True)
        parser.add_argument("--code", default="*144#")
        parser.add_argument("--send", default=None,
                            help="comma-separated inputs to type, then stop")
        parser.add_argument("--url", default="", help="a running server's gateway URL")

    def handle(self, *args, **opts) -> None:
        try:
            phone = normalize_mali_phone(opts["phone"])
        except PhoneError:
            raise CommandError("Enter a Mali number: +223 and 8 digits.", returncode=2) from None
        session_id = f"cli-{uuid.uuid4().hex}"
        scripted = opts["send"].split(",") if opts["send"] is not None else None
        inputs: list[str] = []
        while True:
            text = "*".join(inputs)
            reply = self._ask(opts["url"], session_id, opts["code"], phone, text)
            self.stdout.write(f"--- {text or '(dial)'}")
            self.stdout.write(reply)
            if not reply.startswith("CON "):
                return
            if scripted is not None:
                if not scripted:
                    return
                typed = scripted.pop(0)
            else:
                self.stdout.write("> ", ending="")
                self.stdout.flush()
                line = sys.stdin.readline()
                if not line or not line.strip():
                    self.stdout.write("(hung up)")
                    return
                typed = line.strip()
            inputs.append(typed)

    def _ask(self, url: str, session_id: str, code: str, phone: str, text: str) -> str:
        if not url:
            return ussd_answer(GatewayRequest(session_id=session_id, phone=phone,
                                              service_code=code, text=text))
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must be an http(s) address.", returncode=2)
        body = urllib.parse.urlencode({"sessionId": session_id, "serviceCode": code,
                                       "phoneNumber": phone, "text": text,
                                       "networkCode": "61002"}).encode()
        with urllib.request.urlopen(url, data=body, timeout=15) as response:  # noqa: S310
            return response.read().decode()
