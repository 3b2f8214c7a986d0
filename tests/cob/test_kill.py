"""kill -9 in the middle of `jigi cob`, then run it again: the ledger is the one of a run
never interrupted (a real subprocess on a SQLite file built by `jigi demo`)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

JIGI = [sys.executable, "-m", "jigi"]
ARGS = ["cob", "--first", "2026-04-01", "--through", "2026-04-03", "--quiet"]

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="runs its own SQLite files; once is enough")


def jigi(db: Path, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "JIGI_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.Popen([*JIGI, *args], env=env, cwd=db.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def run_ok(db: Path, *args: str) -> str:
    proc = jigi(db, *args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return out


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("cob-kill") / "demo.sqlite3"
    run_ok(db, "migrate", "-v0")
    run_ok(db, "demo", "--members", "300", "--seed", "5", "--today", "2026-03-31")
    return db


def ledger(db: Path) -> list:
    with sqlite3.connect(db) as c:
        return c.execute(
            "SELECT e.book_id, e.year, e.number, e.value_date, e.description, e.source_type, "
            "e.source_id, l.account_id, l.side, l.amount, l.subledger "
            "FROM ledger_journalentry e JOIN ledger_journalline l ON l.entry_id = e.id "
            "ORDER BY e.book_id, e.year, e.number, l.id").fetchall()


def state(db: Path) -> tuple:
    with sqlite3.connect(db) as c:
        return (
            c.execute("SELECT * FROM cob_loanrisk ORDER BY loan_id").fetchall(),
            c.execute("SELECT id, penalties, penalised FROM credit_installment "
                      "ORDER BY id").fetchall(),
            c.execute("SELECT installment_id, due_on, queued_for FROM cob_reminder "
                      "ORDER BY installment_id").fetchall(),
            c.execute("SELECT caisse_id, business_date FROM cob_partitionday "
                      "ORDER BY 1, 2").fetchall(),
            c.execute("SELECT last_closed FROM cob_businessdate").fetchall(),
            c.execute("SELECT account_id, debit, credit FROM ledger_accountbalance "
                      "ORDER BY book_id, account_id").fetchall())


def partitions(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("SELECT COUNT(*) FROM cob_partitionday").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_kill_9_then_resume_equals_an_uninterrupted_run(demo_file, tmp_path):
    whole, killed = tmp_path / "whole.sqlite3", tmp_path / "killed.sqlite3"
    shutil.copy(demo_file, whole)
    shutil.copy(demo_file, killed)
    run_ok(whole, *ARGS)

    proc = jigi(killed, *ARGS)
    deadline = time.monotonic() + 300
    while partitions(killed) < 140 and time.monotonic() < deadline:  # in day 2 (100 a day)
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    done_at_kill = partitions(killed)
    assert 140 <= done_at_kill < 300, "killed too late to prove anything"
    with sqlite3.connect(killed) as c:
        assert c.execute("SELECT status FROM cob_cobrun").fetchall() == [("running",)]

    out = run_ok(killed, *ARGS)  # the dead run is taken over; resumes at its next partition
    assert "2026-04-02" in out
    assert ledger(killed) == ledger(whole)
    assert state(killed) == state(whole)
    with sqlite3.connect(killed) as c:
        assert sorted(c.execute("SELECT status FROM cob_cobrun").fetchall()) == [
            ("done",), ("interrupted",)]
        # The second run closed only what the first had not.
        assert c.execute("SELECT COUNT(*) FROM cob_partitionday WHERE run_id = "
                         "(SELECT MAX(id) FROM cob_cobrun)").fetchone()[0] == 300 - done_at_kill

    # And a third run changes nothing.
    before = ledger(killed)
    run_ok(killed, *ARGS)
    assert ledger(killed) == before
