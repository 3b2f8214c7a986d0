"""Close of business on Celery: the same partitions as tasks, on any number of workers.

    JIGI_BROKER_URL=redis://127.0.0.1:6379/0 (or JIGI_CELERY_BROKER, or amqp://...)
    celery -A jigi.cob.tasks worker --concurrency 2
    jigi cob --through 2026-04-30 --mode celery

The coordinator (`jigi cob`, or the web button through `cob_run_task`) sends, day after day,
one `cob_partition` task per caisse not yet closed, and waits for their `PartitionDay` rows:
no result backend is needed, the database is the source of truth. A task closed twice (a
redelivery) does nothing the second time (the partition's row is checked and written in its
transaction, under a unique constraint).
"""

from __future__ import annotations

import os
import time
from datetime import date

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jigi.settings")

import django  # noqa: E402

django.setup()

from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402


def broker_url() -> str:
    return settings.CELERY_BROKER_URL or os.environ.get("JIGI_CELERY_BROKER", "")


app = Celery("jigi")
app.conf.update(
    broker_url=broker_url() or "memory://",
    task_always_eager=not broker_url(),
    task_acks_late=True,  # a worker killed mid-task: the task is delivered again
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    task_default_queue=os.environ.get("JIGI_CELERY_QUEUE", "jigi-cob"),
)


_contexts: dict[int, object] = {}


@app.task(name="jigi.cob.partition")
def cob_partition(run_id: int, caisse_id: int, day: str) -> bool:
    from jigi.cob.models import CobRun
    from jigi.cob.services import partition_close, partition_context
    from jigi.orgs.models import Unit

    caisse = Unit.objects.select_related("organisation").get(pk=caisse_id)
    ctx = _contexts.get(run_id)
    if ctx is None:  # once per run and worker process
        _contexts.clear()
        ctx = _contexts[run_id] = partition_context(caisse.organisation)
    try:
        return partition_close(caisse=caisse, on=date.fromisoformat(day), run_id=run_id,
                               ctx=ctx)
    except Exception as exc:
        # Tell the coordinator (it polls the run) before the worker logs the failure.
        CobRun.objects.filter(pk=run_id, error="").update(
            error=f"{caisse.code} {day}: {type(exc).__name__}: {exc}"[:4000])
        raise


@app.task(name="jigi.cob.run")
def cob_run_task(run_id: int) -> None:
    """The coordinator itself as a task (the web button with a broker configured)."""
    from jigi.cob.models import CobRun

    cob_execute_celery(run=CobRun.objects.get(pk=run_id))


# A day whose partitions stop finishing this long is failed (and can be resumed), rather than
# waited on for ever: the workers are down, or listen on another queue or broker.
STALL_DEFAULT = 900.0


def stall_seconds_setting() -> float:
    """JIGI_COB_STALL_SECONDS, read when a run starts: a positive number of seconds; anything
    else ("15m", "", "-1") falls back to the default instead of stopping the workers."""
    raw = os.environ.get("JIGI_COB_STALL_SECONDS", "")
    try:
        value = float(raw)
    except ValueError:
        return STALL_DEFAULT
    return value if value > 0 and value != float("inf") else STALL_DEFAULT


def cob_execute_celery(*, run, progress=None, poll: float = 0.05,
                       stall_seconds: float | None = None):
    """Like services.cob_execute, each day's partitions sent to the workers."""
    from jigi.cob import services
    from jigi.cob.models import CobRun, PartitionDay, RunStatus

    progress = progress or (lambda *a, **k: None)
    stall_seconds = stall_seconds_setting() if stall_seconds is None else stall_seconds
    caisses = services.caisses_of(run.organisation)
    services.system_user(run.organisation)
    try:
        for day in services._days(run.first_date, run.through):
            done = set(PartitionDay.objects.filter(caisse__in=caisses, business_date=day)
                       .values_list("caisse_id", flat=True))
            progress("day", day=day, total=len(caisses), done=len(done))
            services._beat(run, current_date=day, partitions_done=services.run_progress(run))
            # A connection of its own to the broker configured now: the app's pool may have
            # been made for another broker earlier in this process.
            with app.connection_for_write() as conn:
                for caisse in caisses:
                    if caisse.pk not in done:
                        cob_partition.apply_async((run.pk, caisse.pk, day.isoformat()),
                                                  connection=conn)
            last, moved_at = len(done), time.monotonic()
            while True:
                n = PartitionDay.objects.filter(caisse__in=caisses, business_date=day).count()
                progress("partitions", day=day, done=n)
                if n >= len(caisses):
                    break
                error = CobRun.objects.filter(pk=run.pk).values_list("error", flat=True)[0]
                if error:
                    raise RuntimeError(error)
                if n > last:
                    last, moved_at = n, time.monotonic()
                elif time.monotonic() - moved_at > stall_seconds:
                    raise RuntimeError(
                        f"{day}: no partition finished in {stall_seconds:g} s "
                        f"({n}/{len(caisses)} done); are Celery workers consuming queue "
                        f"{app.conf.task_default_queue!r} on the configured broker?")
                services._beat(run, partitions_done=services.run_progress(run))
                time.sleep(poll)
            services.business_date_advance(run.organisation)
    except BaseException as exc:
        services._finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    return services._finish(run, RunStatus.DONE)
