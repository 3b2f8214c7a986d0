"""`jigi learning report`: the CSV on standard output, per user's scope."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def _run(*args: str) -> str:
    out = StringIO()
    call_command("learning", "report", *args, stdout=out)
    return out.getvalue()


def test_report_csv_for_everything_and_per_user(learning):
    text = _run("--from", "2026-01-01", "--to", "2026-12-31")
    lines = text.splitlines()
    assert lines[0].startswith("organisation,programme")
    assert lines[1].startswith("KONDO,ALPHA,literacy,2026-01-01,2026-12-31,all,1,3,0,0")
    assert _run("--from", "2026-01-01", "--to", "2026-12-31", "--user", "mutual_manager"
                ).splitlines()[1:] == []
    assert "KONDO,ALPHA" in _run("--from", "2026-01-01", "--to", "2026-12-31",
                                 "--programme", "alpha")


def test_a_programme_code_used_by_two_organisations_must_name_its_organisation(learning):
    from jigi.learning import services

    services.programme_create(acting_user=learning.world.users["mutual_manager"],
                              organisation=learning.world.orgs.utm, code="ALPHA",
                              name="Alphabétisation santé", kind="literacy")
    with pytest.raises(CommandError, match="several organisations"):
        _run("--from", "2026-01-01", "--to", "2026-12-31", "--programme", "alpha")
    text = _run("--from", "2026-01-01", "--to", "2026-12-31", "--programme", "kondo/alpha")
    assert "KONDO,ALPHA" in text
    assert "UTM," not in text


@pytest.mark.parametrize("args", [
    ("--from", "2026-13-01", "--to", "2026-12-31"),
    ("--from", "2026-12-31", "--to", "2026-01-01"),
    ("--from", "2026-01-01", "--to", "2026-12-31", "--user", "nobody"),
    ("--from", "2026-01-01", "--to", "2026-12-31", "--programme", "NONE"),
])
def test_bad_input_is_refused(learning, args):
    with pytest.raises(CommandError):
        _run(*args)
