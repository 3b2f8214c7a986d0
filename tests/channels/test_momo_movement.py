"""MTC dues paid by mobile money: posted once by the movement's dues service (53 in the
movement's one book), allocated like any payment."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.channels.models import MobileMoneyPayment, PaymentStatus
from jigi.channels.momo import services
from jigi.core.errors import ApplicationError
from jigi.ledger.models import AccountBalance
from jigi.ledger.selectors import ledger_verify
from jigi.movement.models import DuesPayment
from jigi.movement.services import dues as dues_services
from jigi.movement.services._common import book_of
from tests.channels.momo_helpers import sim, split_notif_url  # noqa: F401
from tests.movement.conftest import make_member, mtc  # noqa: F401


def balance(org, code: str) -> int:
    row = AccountBalance.objects.filter(book=book_of(org), account__code=code).first()
    return 0 if row is None else row.debit - row.credit


def test_dues_by_mobile_money_posted_once(world, mtc, sim):  # noqa: F811
    profile = make_member(mtc, joined=date(2026, 9, 1))
    dues_services.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    p = services.payment_request(acting_user=world.users["organiser"], purpose="movement_dues",
                                 target_id=profile.pk, amount=500, order_id="DU-1")
    assert p.unit_id == world.section_domestic.pk
    sim.server.settle("DU-1", callbacks=2)
    outcomes = []
    for url, payload in sim.callbacks_for("DU-1"):
        _path, oid, sig = split_notif_url(url)
        outcomes.append(services.callback_receive(provider="simulator", order_id=oid,
                                                  payload=payload, signature=sig).outcome)
    assert outcomes == ["applied", "duplicate"]
    paid = DuesPayment.objects.get(profile=profile)
    assert (paid.channel, paid.amount, paid.external_ref) == ("mobile_money", 500, "DU-1")
    p.refresh_from_db()
    assert p.status == PaymentStatus.SUCCEEDED
    assert p.posting_ref == f"movement.duespayment:{paid.pk}"
    assert balance(mtc.org, "53") == 500
    assert ledger_verify(book_of(mtc.org)) == []


def test_only_the_section_may_ask(world, mtc, sim):  # noqa: F811
    profile = make_member(mtc)
    with pytest.raises(ApplicationError) as err:
        services.payment_request(acting_user=world.users["teller_a"], purpose="movement_dues",
                                 target_id=profile.pk, amount=500, order_id="DU-2")
    assert err.value.status_code == 404
    with pytest.raises(ApplicationError) as err:
        services.payment_request(acting_user=world.users["organiser_art"],
                                 purpose="movement_dues", target_id=profile.pk, amount=500,
                                 order_id="DU-3")
    assert err.value.status_code in (403, 404)
    assert not MobileMoneyPayment.objects.exists()
