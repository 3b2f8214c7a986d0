"""Two case workers on one case at the same moment (PostgreSQL, real connections): the row lock
keeps every action and every version bump; of two closings exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from jigi.core.errors import Conflict
from jigi.movement import selectors_cases as sel
from jigi.movement.models import Case, CaseAction
from jigi.movement.services import cases as svc
from tests.movement.conftest import make_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _case(mtc):
    profile = make_member(mtc)
    case = svc.case_intake(acting_user=mtc.users["organiser"], person=profile.person,
                           category="unpaid_wages", intake_channel="phone", summary="x")
    svc.case_assign(acting_user=mtc.users["movement_admin"], case=case,
                    lead=mtc.users["case_worker_1"], support=[mtc.users["case_worker_2"]])
    return Case.objects.get(pk=case.pk)


def _both(mtc, case, work):
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(username):
        try:
            user = mtc.users[username]
            mine = sel.get_case_for_user(user, case.pk)
            barrier.wait()
            results[username] = work(user, mine)
        except Conflict as exc:
            results[username] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in ["case_worker_1",
                                                                  "case_worker_2"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_actions_all_kept(mtc):
    case = _case(mtc)
    start = case.version

    def work(user, mine):
        for _ in range(10):
            svc.case_action_record(acting_user=user, case=mine, kind="call")
        return "ok"

    assert _both(mtc, case, work) == {"case_worker_1": "ok", "case_worker_2": "ok"}
    case.refresh_from_db()
    assert CaseAction.objects.filter(case=case, kind="call").count() == 20
    assert case.version == start + 20


def test_concurrent_closings_one_wins(mtc):
    case = _case(mtc)

    def work(user, mine):
        return svc.case_close(acting_user=user, case=mine, outcome="resolved").status

    results = _both(mtc, case, work)
    assert sorted(type(r).__name__ for r in results.values()) == ["Conflict", "str"]
    assert CaseAction.objects.filter(case=case, kind="closure").count() == 1
