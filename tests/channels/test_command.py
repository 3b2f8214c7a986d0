"""`jigi sms ...` and the Celery wrapper (eager without a broker)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jigi.channels.models import OutboundMessage
from jigi.channels.outbox import message_queue
from tests.channels.conftest import AS_OF


def run(*args):
    out = StringIO()
    call_command("sms", *args, stdout=out)
    return out.getvalue()


def test_send_then_outbox_then_report(world):
    for i in range(3):
        message_queue(organisation=world.orgs.kondo, phone=f"+2237600000{i}", text=f"m{i}",
                      purpose="campaign_message")
    sent = json.loads(run("send", "--reports"))
    assert sent["sent"] == 3
    assert sent["reports_received"] >= 3
    rows = json.loads(run("outbox", "--phone", "76 00 00 01"))
    assert [r["text"] for r in rows] == ["m1"]
    assert rows[0]["status"] in ("delivered", "failed", "sent")
    month = timezone.localdate().strftime("%Y-%m")
    report = json.loads(run("report", "--month", month, "--org", "KONDO"))
    assert report["spent"] == {"KONDO": 75}
    csv_text = run("report", "--month", month, "--csv")
    assert csv_text.splitlines()[0].startswith("month,organisation,purpose")


def test_reminders_command_is_idempotent(world, member, loan_with_instalments):
    from datetime import timedelta

    loan_with_instalments(member(), [AS_OF + timedelta(days=3)])
    assert json.loads(run("reminders", "--as-of", AS_OF.isoformat()))["queued"] == 1
    assert json.loads(run("reminders", "--as-of", AS_OF.isoformat()))["queued"] == 0
    assert json.loads(run("reminders", "--from-cob")) == {"queued": 0, "handed_over": 0,
                                                          "cancelled": 0}


def test_templates_command_lists_encodings():
    rows = json.loads(run("templates"))
    assert {r["encoding"] for r in rows} == {"gsm7", "ucs2"}
    assert all(r["parts"] == 1 for r in rows)


@pytest.mark.parametrize("args", [("report", "--month", "March"), ("report", "--month",
                                                                    "2026-03", "--org", "X"),
                                  ("reminders", "--as-of", "yesterday"),
                                  ("reminders", "--days", "99"),
                                  ("reminders", "--days", "-1"),
                                  ("outbox", "--limit", "-5"), ("send", "--limit", "0")])
def test_bad_input_exits_2(world, args):
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert exc.value.returncode == 2


def test_celery_task_runs_eagerly_without_a_broker(world):
    from jigi.channels.tasks import sms_send_task

    message_queue(organisation=world.orgs.kondo, phone="+22376000001", text="x",
                  purpose="campaign_message")
    result = sms_send_task.delay(limit=10).get()
    assert result["sent"] == 1
    assert OutboundMessage.objects.get().status == "sent"
