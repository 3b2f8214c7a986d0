"""Reconciliation of the provider's statement, refunds of unmatched money, the day's report,
and the `jigi momo` command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext

from jigi.channels.models import MobileMoneyPayment, PaymentStatus, Refund, StatementLine
from jigi.channels.momo import selectors, services
from jigi.channels.momo.providers.simulator import statement_csv
from jigi.core.errors import ApplicationError
from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify, unbalanced_entries
from tests.channels.momo_helpers import sim  # noqa: F401
from tests.credit.conftest import balances, credit, today  # noqa: F401


def ask(world, credit, order_id, amount=5_000):  # noqa: F811
    return services.payment_request(acting_user=world.users["teller_a"],
                                    purpose="savings_deposit", target_id=credit.account.pk,
                                    amount=amount, order_id=order_id)


def statement(sim, world):  # noqa: F811
    return sim.server.statement(timezone.now().date().isoformat())


def test_statement_fixes_missing_callbacks_and_parks_unmatched_money(world, credit, sim):  # noqa: F811
    before = balances(world)
    ask(world, credit, "ORD-A")
    ask(world, credit, "ORD-B", 7_000)
    sim.server.settle("ORD-A", callbacks=0, phone=credit.person.phone)  # callback lost
    sim.server.settle("ORD-B", callbacks=0)
    services.payment_poll(MobileMoneyPayment.objects.get(order_id="ORD-B"))  # B known
    sim.server.inject(phone="+22376999999", amount=2_500)  # matches nothing
    counts = services.statement_import(acting_user=world.users["manager_a"],
                                       provider="simulator", unit=world.caisse_a,
                                       rows=statement(sim, world))
    assert counts == {"fixed": 1, "matched": 1, "unmatched": 1}
    a = MobileMoneyPayment.objects.get(order_id="ORD-A")
    assert a.status == PaymentStatus.SUCCEEDED
    assert StatementLine.objects.get(order_id="ORD-A").resolution == "fixed"
    after = balances(world)
    assert after["12"] - before.get("12", 0) == 5_000 + 7_000 + 2_500
    assert after["372"] - before.get("372", 0) == 2_500
    # Importing the same statement again changes nothing.
    again = services.statement_import(acting_user=world.users["manager_a"],
                                      provider="simulator", unit=world.caisse_a,
                                      rows=statement(sim, world))
    assert again == {"known": 3}
    assert balances(world) == after


def test_refund_of_unmatched_money(world, credit, sim, django_capture_on_commit_callbacks):  # noqa: F811
    before = balances(world)
    sim.server.inject(phone="+22376999999", amount=2_500)
    services.statement_import(acting_user=world.users["manager_a"], provider="simulator",
                              unit=world.caisse_a, rows=statement(sim, world))
    line = StatementLine.objects.get()
    assert line.resolution == "unmatched"
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.refund_create(acting_user=world.users["manager_a"], line=line)
    refund.refresh_from_db()
    line.refresh_from_db()
    assert (refund.amount, refund.phone, refund.status) == (2_500, "+22376999999", "done")
    assert refund.statement_line_id == line.pk
    assert line.resolution == "refunded"
    assert balances(world) == before
    book = Book.objects.get(unit=world.caisse_a)
    assert unbalanced_entries(book) == []
    assert ledger_verify(book) == []
    with pytest.raises(ApplicationError) as err:
        services.refund_create(acting_user=world.users["manager_a"], line=line)
    assert err.value.status_code == 409
    assert Refund.objects.count() == 1


def test_import_and_refund_need_a_manager_of_the_unit(world, credit, sim):  # noqa: F811
    sim.server.inject(phone="+22376999999", amount=2_500)
    rows = statement(sim, world)
    with pytest.raises(ApplicationError) as err:
        services.statement_import(acting_user=world.users["teller_a"], provider="simulator",
                                  unit=world.caisse_a, rows=rows)
    assert err.value.status_code == 403
    with pytest.raises(ApplicationError) as err:
        services.statement_import(acting_user=world.users["mutual_manager"],
                                  provider="simulator", unit=world.caisse_a, rows=rows)
    assert err.value.status_code == 404
    assert not StatementLine.objects.exists()


def test_day_report(world, credit, sim):  # noqa: F811
    ask(world, credit, "ORD-A")
    ask(world, credit, "ORD-B", 7_000)
    sim.server.settle("ORD-A", callbacks=0)
    sim.server.inject(phone="+22376999999", amount=2_500)
    services.statement_import(acting_user=world.users["manager_a"], provider="simulator",
                              unit=world.caisse_a, rows=statement(sim, world))
    report = selectors.reconciliation_report(world.users["manager_a"], timezone.localdate())
    assert report.by_status == {"succeeded": (1, 5_000), "pending": (1, 7_000)}
    assert report.by_resolution == {"fixed": (1, 5_000), "unmatched": (1, 2_500)}
    assert [ln.amount for ln in report.unmatched] == [2_500]
    assert report.succeeded_not_on_statement == []
    other = selectors.reconciliation_report(world.users["teller_b"], timezone.localdate())
    assert other.by_status == {}


def test_command_poll_and_reconcile(world, credit, sim, tmp_path):  # noqa: F811
    ask(world, credit, "ORD-A")
    sim.server.settle("ORD-A", callbacks=0)
    out = StringIO()
    call_command("momo", "poll", "--older-than", "0", stdout=out)
    assert json.loads(out.getvalue()) == {"applied": 1}
    sim.server.inject(phone="+22376999999", amount=2_500)
    path = tmp_path / "statement.csv"
    path.write_text(statement_csv(statement(sim, world)), encoding="utf-8")
    out = StringIO()
    call_command("momo", "reconcile", "--unit", "C001", "--user", "manager_a", "--file",
                 str(path), stdout=out)
    assert json.loads(out.getvalue()) == {"matched": 1, "unmatched": 1}
    out = StringIO()
    call_command("momo", "reconcile", "--unit", "C001", "--user", "manager_a", stdout=out)
    assert json.loads(out.getvalue()) == {"known": 2}
    with pytest.raises(CommandError):
        call_command("momo", "reconcile", "--unit", "NOPE")
    with pytest.raises(CommandError):
        call_command("momo", "reconcile", "--unit", "C001", "--user", "teller_a")


def test_the_same_money_under_another_name_of_the_wallet_is_refused(world, credit, sim):  # noqa: F811
    # The installation uses the simulator: its statement imported as "orange" too (a name of
    # the same wallet) would park the unmatched money a second time (12 D / 372 C twice, and
    # only one refund possible). Refused, nothing posted.
    sim.server.inject(phone="+22376999999", amount=2_500)
    rows = statement(sim, world)
    assert services.statement_import(acting_user=world.users["manager_a"], provider="simulator",
                                     unit=world.caisse_a, rows=rows) == {"unmatched": 1}
    after = balances(world)
    for name in ("orange", "moov"):
        with pytest.raises(ApplicationError) as err:
            services.statement_import(acting_user=world.users["manager_a"], provider=name,
                                      unit=world.caisse_a, rows=rows)
        assert err.value.status_code == 422
        assert "provider" in err.value.fields
    assert StatementLine.objects.count() == 1
    assert balances(world) == after


@pytest.mark.parametrize(("txn", "amount"), [("T" * 101, 2_500), ("", 2_500), ("T1", 0),
                                             ("T2", -2_500)])
def test_a_line_without_a_usable_txn_id_or_amount_is_a_422(world, credit, sim, txn, amount):  # noqa: F811
    # A transaction id over the column's 100 characters was a database error (500) on
    # PostgreSQL; an empty one made every later empty one "known" (its money never seen).
    from jigi.channels.momo.providers.base import StatementRow

    good = StatementRow(day=timezone.now().date().isoformat(), txn_id="OK1", order_id="",
                        phone="+22376999999", amount=1_000, status="SUCCESS")
    bad = StatementRow(day=good.day, txn_id=txn, order_id="", phone="", amount=amount,
                       status="SUCCESS")
    before = balances(world)
    with pytest.raises(ApplicationError) as err:
        services.statement_import(acting_user=world.users["manager_a"], provider="simulator",
                                  unit=world.caisse_a, rows=[good, bad])
    assert err.value.status_code == 422
    assert "rows" in err.value.fields
    assert not StatementLine.objects.exists()  # checked before anything is imported
    assert balances(world) == before


def test_two_imports_of_the_same_statement_at_once_count_it_once(world, credit, sim,  # noqa: F811
                                                                 monkeypatch):
    # The other import (a second click) writes the line between this one's check and its
    # insert: the line is "known" here, not a 500, and the payment is posted once.
    ask(world, credit, "ORD-R")
    sim.server.settle("ORD-R", callbacks=0)
    rows = statement(sim, world)
    real = services._confirm

    def racing(payment_id, answer, *, source):
        outcome = real(payment_id, answer, source=source)
        StatementLine.objects.create(
            provider="simulator", statement_date=timezone.now().date(),
            provider_txn_id=answer.txn_id, order_id="ORD-R", amount=answer.amount,
            status="SUCCESS", payment_id=payment_id, resolution="fixed")
        return outcome

    monkeypatch.setattr(services, "_confirm", racing)
    counts = services.statement_import(acting_user=world.users["manager_a"],
                                       provider="simulator", unit=world.caisse_a, rows=rows)
    assert counts == {"known": 1}
    assert StatementLine.objects.count() == 1
    assert MobileMoneyPayment.objects.get(order_id="ORD-R").status == PaymentStatus.SUCCEEDED
    from jigi.savings.models import SavingsTransaction

    assert SavingsTransaction.objects.filter(description__contains="ORD-R").count() == 1
    book = Book.objects.get(unit=world.caisse_a)
    assert unbalanced_entries(book) == []


def test_a_refund_made_on_the_portal_is_confirmed_with_its_reference(world, credit, sim):  # noqa: F811
    """Orange has no refund call (and a Moov transfer may not answer): the refund stays
    `requested` until a manager of the unit confirms it with the portal's reference. No money
    moves then; every refusal leaves it as it was."""
    from jigi.core.models import AuditEvent

    sim.server.inject(phone="+22376999999", amount=2_500)
    services.statement_import(acting_user=world.users["manager_a"], provider="simulator",
                              unit=world.caisse_a, rows=statement(sim, world))
    # The provider is asked after commit, which this test's transaction never reaches.
    refund = services.refund_create(acting_user=world.users["manager_a"],
                                    line=StatementLine.objects.get())
    assert refund.status == "requested"
    waiting = selectors.reconciliation_report(world.users["manager_a"], timezone.localdate())
    assert [r.reference for r in waiting.refunds_waiting] == [refund.reference]
    before = balances(world)

    def refused(username, reference=refund.reference, provider_ref="OM-REF-1"):
        with pytest.raises(ApplicationError) as err:
            services.refund_confirm(acting_user=world.users[username], reference=reference,
                                    provider_ref=provider_ref)
        return err.value

    # In the caller's language (French by default), as every refusal.
    assert refused("manager_a", provider_ref="  ").fields == {
        "provider_ref": gettext("Give the provider's transaction reference.")}
    assert "provider_ref" in refused("manager_a", provider_ref="X" * 65).fields
    assert refused("teller_a").status_code == 403  # her caisse, not her role
    assert refused("teller_b").status_code == 404  # another caisse
    assert refused("mutual_manager").status_code == 404  # another organisation
    assert refused("manager_a", reference="RF-NOPE").status_code == 404
    assert Refund.objects.get().status == "requested"

    done = services.refund_confirm(acting_user=world.users["manager_a"],
                                   reference=refund.reference, provider_ref=" OM-REF-1 ")
    done.refresh_from_db()
    assert (done.status, done.provider_ref, done.settled_by) == (
        "done", "OM-REF-1", world.users["manager_a"])
    assert done.settled_at is not None
    assert balances(world) == before
    assert AuditEvent.objects.filter(event_type="channels.momo_refund_confirmed").count() == 1
    again = refused("manager_a")
    assert (again.status_code, again.code) == (409, "refund_settled")
    report = selectors.reconciliation_report(world.users["manager_a"], timezone.localdate())
    assert report.refunds_waiting == []
    assert [r.status for r in report.refunds] == ["done"]
    assert selectors.reconciliation_report(world.users["teller_b"],
                                           timezone.localdate()).refunds == []
