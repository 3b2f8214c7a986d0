"""A Celery close whose partitions never finish (no worker on the queue) fails with a clear
reason after the stall delay, instead of waiting for ever; the run can be taken up again."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.cob.models import CobRun, PartitionDay, RunStatus
from jigi.cob.services import cob_execute, cob_start
from jigi.cob.tasks import app, cob_execute_celery


@pytest.fixture
def celery_without_worker():
    """The in-memory broker, not eager: tasks are sent and nobody takes them."""
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url="memory://", task_always_eager=False)
    yield
    app.conf.update(saved)


def test_no_worker_fails_the_run_with_its_reason(world, portfolio, time_machine,
                                                 celery_without_worker):
    time_machine.move_to("2026-06-20 09:00:00+00:00", tick=False)
    run = cob_start(organisation=world.orgs.kondo, through=date(2026, 6, 3))
    assert run.partitions_total > 0
    with pytest.raises(RuntimeError, match="no partition finished in 0.2 s"):
        cob_execute_celery(run=run, poll=0.01, stall_seconds=0.2)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Celery workers" in run.error
    assert not PartitionDay.objects.exists()

    # Taken up again in process: the failed run is no obstacle and every partition closes.
    again = cob_start(organisation=world.orgs.kondo, through=date(2026, 6, 3))
    assert cob_execute(run=again).status == RunStatus.DONE
    assert PartitionDay.objects.count() == again.partitions_total
    assert CobRun.objects.filter(status=RunStatus.FAILED).count() == 1


@pytest.mark.parametrize(("raw", "expected"), [("", 900.0), ("15m", 900.0), ("-1", 900.0),
                                               ("0", 900.0), ("inf", 900.0), ("nan", 900.0),
                                               ("120", 120.0), ("2.5", 2.5)])
def test_the_stall_setting_never_stops_the_workers(monkeypatch, raw, expected):
    from jigi.cob.tasks import stall_seconds_setting

    monkeypatch.setenv("JIGI_COB_STALL_SECONDS", raw)
    assert stall_seconds_setting() == expected
