"""The close-of-business page: who sees it, who starts a run, refusals shown inline."""

from __future__ import annotations

from datetime import date

from jigi.cob.models import CobRun, RunStatus
from jigi.orgs.models import Role
from jigi.orgs.services import role_grant


def network_admin(world):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("netadmin", password="pass-1234")
    role_grant(user=user, organisation=world.orgs.kondo, role=Role.NETWORK_ADMIN)
    return user


def test_page_for_network_roles_only(world, client_for):
    assert client_for("teller_a").get("/cob/").status_code == 404
    assert client_for("manager_a").get("/cob/").status_code == 404
    page = client_for("auditor").get("/cob/")
    assert page.status_code == 200
    assert b"cob-start" not in page.content  # watches, cannot start
    assert client_for("auditor").post("/cob/start/", {"through": "2026-06-01"}).status_code \
        == 404


def test_start_runs_and_lists_the_run(world, portfolio, client_for, time_machine):
    time_machine.move_to("2026-06-02 20:00:00+00:00", tick=False)
    network_admin(world)
    c = client_for("netadmin")
    page = c.get("/cob/")
    assert b"cob-start" in page.content
    answer = c.post("/cob/start/", {"through": "2026-06-01"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    run = CobRun.objects.get()
    assert (run.status, run.partitions_done, run.through) == (RunStatus.DONE, 2,
                                                              date(2026, 6, 1))
    assert b"01/06/2026" in answer.content
    assert b"cob-error" not in answer.content
    # Refusal shown inline, nothing started.
    answer = c.post("/cob/start/", {"through": "2026-07-01"}, HTTP_HX_REQUEST="true")
    assert b"cob-error" in answer.content
    assert CobRun.objects.count() == 1
    assert b"cob-error" in c.post("/cob/start/", {"through": "x"}, HTTP_HX_REQUEST="true").content
