"""The same partitions on Celery (a real worker subprocess, Redis, PostgreSQL) give the ledger
of the in-process run on the same data."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection

from jigi.cob.models import LoanRisk, PartitionDay, RunStatus
from jigi.cob.services import cob_execute, cob_start
from jigi.cob.tasks import app, cob_execute_celery
from jigi.credit.setup import kondo_loan_products_seed
from jigi.ledger.models import JournalLine
from jigi.savings.services import drawer_open
from jigi.savings.setup import kondo_products_seed
from tests.cob.conftest import loan_for, pay_due
from tests.conftest import build_world
from tests.credit.conftest import Credit, make_borrower

BROKER = os.environ.get("JIGI_TEST_CELERY_BROKER", "redis://127.0.0.1:6379/7")
pytestmark = pytest.mark.postgres


def build():
    """Two caisses' worth of loans: late and on-time borrowers in caisse A."""
    world = build_world()
    _share, savings_products = kondo_products_seed(organisation=world.orgs.kondo)
    products = kondo_loan_products_seed(organisation=world.orgs.kondo)
    drawer = drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                         amount=5_000_000, on=date(2026, 5, 12))
    loans = []
    for k, name in enumerate(("Fatoumata", "Awa", "Kadiatou", "Mariam", "Oumou")):
        person, account = make_borrower(world, savings_products, first_name=name,
                                        last_name="Diarra")
        credit = Credit(products, savings_products, person, account, drawer)
        loans.append(loan_for(world, credit, person, principal=100_000 + 20_000 * k))
    for loan in loans[1::2]:
        pay_due(world, loan, date(2026, 6, 12))
    return world


def snapshot():
    lines = list(JournalLine.objects.filter(entry__source_type="cob").order_by(
        "book__code", "entry__number", "pk").values_list(
        "book__code", "entry__number", "entry__value_date", "entry__description",
        "account__code", "side", "amount", "subledger"))
    risks = list(LoanRisk.objects.order_by("loan__number").values_list(
        "loan__number", "as_of", "ledger_account", "days_past_due", "overdue_amount",
        "provision", "accrued_interest"))
    return lines, risks


def close(world, execute):
    run = cob_start(organisation=world.orgs.kondo, first=date(2026, 6, 8),
                    through=date(2026, 6, 22))
    run = execute(run=run)
    assert run.status == RunStatus.DONE
    return snapshot()


def test_celery_workers_give_the_in_process_ledger(transactional_db, time_machine):
    time_machine.move_to("2026-05-12 09:00:00+00:00", tick=False)
    world = build()
    time_machine.move_to("2026-07-01 09:00:00+00:00", tick=False)
    in_process = close(world, cob_execute)
    assert in_process[0]
    assert any(r[2] == "292" for r in in_process[1])

    call_command("flush", interactive=False, verbosity=0)
    time_machine.move_to("2026-05-12 09:00:00+00:00", tick=False)
    world = build()
    time_machine.move_to("2026-07-01 09:00:00+00:00", tick=False)
    queue = f"cob-test-{os.getpid()}"
    env = {**os.environ, "JIGI_BROKER_URL": BROKER, "JIGI_CELERY_QUEUE": queue,
           "JIGI_DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
               **connection.settings_dict)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jigi.cob.tasks", "worker", "--concurrency",
         "2", "--loglevel", "WARNING", "-Q", queue], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    saved = dict(app.conf)
    app.conf.update(broker_url=BROKER, task_always_eager=False, task_default_queue=queue)
    try:
        on_celery = close(world, cob_execute_celery)
    finally:
        app.conf.update(broker_url=saved["broker_url"],
                        task_always_eager=saved["task_always_eager"],
                        task_default_queue=saved["task_default_queue"])
        worker.terminate()
        worker.wait(timeout=30)
    assert on_celery == in_process
    workers = set(PartitionDay.objects.values_list("worker", flat=True))
    assert workers
    assert not any(w.endswith(f":{os.getpid()}") for w in workers)  # done by the worker
