"""The mobile-money refund confirmation: the report page's title, a
refund whose reference holds a slash, and what the confirmation refuses without a 500."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone

from jigi.channels.models import Refund, StatementLine
from jigi.channels.momo import services
from jigi.channels.momo.providers.base import StatementRow
from tests.channels.momo_helpers import sim  # noqa: F401
from tests.credit.conftest import credit, today  # noqa: F401

API = "/api/v1/channels/momo"


def _unmatched_refund(world, txn_id: str) -> Refund:
    day = timezone.localdate().isoformat()
    services.statement_import(acting_user=world.users["manager_a"], provider="simulator",
                              unit=world.caisse_a,
                              rows=[StatementRow(day=day, txn_id=txn_id, order_id="",
                                                 phone="+22376999999", amount=2_500,
                                                 status="SUCCESS")])
    return services.refund_create(acting_user=world.users["manager_a"],
                                  line=StatementLine.objects.get(provider_txn_id=txn_id))


def test_the_report_page_title_is_only_its_title(world, credit, sim, client_for):  # noqa: F811
    """The refund tables were pasted into the <title> block: the browser's tab showed raw HTML
    with the members' phone numbers."""
    _unmatched_refund(world, "TXN-TITLE-1")
    page = client_for("manager_a").get("/channels/momo/report/")
    assert page.status_code == 200
    title = re.search(rb"<title>(.*?)</title>", page.content, re.S).group(1)
    assert b"<" not in title
    assert b"+22376999999" not in title
    assert page.content.count(b'id="refunds-waiting"') == 1


def test_a_reference_with_a_slash_does_not_break_the_report(world, credit, sim,  # noqa: F811
                                                            client_for):
    """A statement's transaction id may hold a '/': its refund's reference then cannot be put
    in the confirm URL. The report page (which lists every waiting refund, whatever its day)
    must still open, and the refund be confirmed through the API."""
    refund = _unmatched_refund(world, "MP2611/27.A1")
    assert "/" in refund.reference
    manager = client_for("manager_a")
    page = manager.get("/channels/momo/report/")
    assert page.status_code == 200
    assert refund.reference.encode() in page.content
    done = manager.post(f"{API}/refunds/{refund.reference}/confirm",
                        json.dumps({"provider_ref": "OM-9"}), content_type="application/json")
    assert done.status_code == 200
    assert done.json()["status"] == "done"


@pytest.mark.parametrize("provider_ref", ["OM-\ud800", "OM-\x00"])
def test_confirm_refuses_unstorable_references_with_a_422(world, credit, sim,  # noqa: F811
                                                          client_for, provider_ref):
    """A lone surrogate cannot be stored (nor looked up) by the database: 422, not 500."""
    refund = _unmatched_refund(world, "TXN-SURR-1")
    answer = client_for("manager_a").post(
        f"{API}/refunds/{refund.reference}/confirm",
        json.dumps({"provider_ref": provider_ref}), content_type="application/json")
    assert answer.status_code == 422
    assert "provider_ref" in answer.json()["fields"]
    refund.refresh_from_db()
    assert (refund.status, refund.provider_ref) == ("requested", "")


def test_an_unknown_or_overlong_reference_is_not_found(world, credit, sim,  # noqa: F811
                                                       client_for):
    """docs/channels.md: an unknown reference is a 404 (a reference has 64 characters at
    most: a longer one is simply unknown)."""
    manager = client_for("manager_a")
    for reference in ("RF-NOPE", "RF-" + "X" * 80):
        answer = manager.post(f"{API}/refunds/{reference}/confirm",
                              json.dumps({"provider_ref": "OM-1"}),
                              content_type="application/json")
        assert answer.status_code == 404, reference


def test_the_status_filter_refusal_is_translated(world, credit, sim, client_for):  # noqa: F811
    answer = client_for("manager_a").get(f"{API}/refunds", {"status": "lost"},
                                         HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 422
    assert answer.json()["fields"]["status"] != "requested, done or failed."
