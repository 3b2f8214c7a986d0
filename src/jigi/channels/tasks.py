"""Celery wrappers (optional: `jigi sms send` and the functions work without a worker).
Registered on the project's Celery app (jigi.cob.tasks)."""

from __future__ import annotations

from jigi.cob.tasks import app


@app.task(name="jigi.channels.sms_send")
def sms_send_task(limit: int = 1000) -> dict:
    from jigi.channels.sender import sms_send_queued

    return sms_send_queued(limit=limit).as_dict()


@app.task(name="jigi.channels.sms_reminders")
def sms_reminders_task(as_of: str, days_before: int = 3) -> int:
    from datetime import date

    from jigi.channels.services import reminders_queue

    return reminders_queue(as_of=date.fromisoformat(as_of), days_before=days_before)
