"""A mutual contribution paid by mobile money: posted once by the health service, in the
mutual's book (53 mobile money)."""

from __future__ import annotations

import pytest

from jigi.channels.models import MobileMoneyPayment, PaymentStatus
from jigi.channels.momo import services
from jigi.core.errors import ApplicationError
from jigi.health.models import Contribution
from jigi.ledger.models import Book
from jigi.ledger.selectors import unbalanced_entries
from tests.channels.momo_helpers import sim, split_notif_url  # noqa: F401
from tests.health.conftest import balances, health, today  # noqa: F401


def test_contribution_by_mobile_money_posted_once(world, health, sim):  # noqa: F811
    before = balances(world.mutual_1)
    p = services.payment_request(acting_user=world.users["mutual_manager"],
                                 purpose="health_contribution", target_id=health.coverage.pk,
                                 amount=3_000, order_id="CT-1", phone="76 12 34 56")
    assert p.unit_id == world.mutual_1.pk
    sim.server.settle("CT-1", callbacks=2)
    outcomes = []
    for url, payload in sim.callbacks_for("CT-1"):
        _path, oid, sig = split_notif_url(url)
        outcomes.append(services.callback_receive(provider="simulator", order_id=oid,
                                                  payload=payload, signature=sig).outcome)
    assert outcomes == ["applied", "duplicate"]
    contribution = Contribution.objects.get(coverage=health.coverage, external_ref="CT-1")
    assert contribution.channel == "mobile_money"
    assert contribution.amount == 3_000
    p.refresh_from_db()
    assert p.status == PaymentStatus.SUCCEEDED
    assert p.posting_ref == f"health.contribution:{contribution.pk}"
    assert balances(world.mutual_1)["53"] - before.get("53", 0) == 3_000
    assert unbalanced_entries(Book.objects.get(unit=world.mutual_1)) == []


def test_another_mutual_may_not_ask_for_this_coverage(world, health, sim):  # noqa: F811
    with pytest.raises(ApplicationError) as err:
        services.payment_request(acting_user=world.users["manager_2"],
                                 purpose="health_contribution", target_id=health.coverage.pk,
                                 amount=3_000, order_id="CT-2", phone="76 12 34 56")
    assert err.value.status_code == 404
    assert not MobileMoneyPayment.objects.exists()
