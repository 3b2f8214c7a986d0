"""The loan states of close of business, read through the schedule index and rewritten in
place, equal a computation from scratch and the pure rules, day after day and across every
ageing band boundary; caisses closed together in one transaction commit or vanish together."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction

from jigi.cob import rules, sql
from jigi.cob.models import LoanRisk, PartitionDay, Reminder
from jigi.cob.services import partition_context, partitions_close
from jigi.credit.models import Installment
from jigi.ledger.models import Book
from tests.cob.conftest import ledger_snapshot, pay_due
from tests.cob.test_cob import check_accounting, check_against_pure_rules, installments

# Days past due of the loan never repaid on the days closed: each side of every band boundary
# of rules.BANDS (0 | 1-90 | 91-180 | 181-365 | 366-730 | 731+), the penalty's grace days,
# and ordinary days in between.
BOUNDARIES = (0, 1, 2, 7, 8, 30, 31, 89, 90, 91, 92, 180, 181, 365, 366, 729, 730, 731, 732)


def risk_rows() -> list[dict]:
    return list(LoanRisk.objects.order_by("loan_id").values())


def rebuilt_rows(world, on: date) -> list[dict]:
    """The loan states of `on` computed from an empty LoanRisk table (every row inserted, none
    updated), then rolled back."""
    with transaction.atomic():
        LoanRisk.objects.all().delete()
        for caisse in (world.caisse_a, world.caisse_b):
            sql.risk_refresh(caisse.pk, on)
        rows = risk_rows()
        transaction.set_rollback(True)
    return rows


def check_states(world, on: date) -> None:
    """LoanRisk on `on`: as the pure rules give it loan by loan, band included, and as a
    computation from scratch gives it."""
    check_against_pure_rules(on)
    for risk in LoanRisk.objects.select_related("loan"):
        band = rules.band(risk.days_past_due)
        assert (risk.risk_class, risk.provision_rate) == (band.risk_class, band.percent)
        assert risk.write_off_proposed == (risk.days_past_due > rules.WRITE_OFF_AFTER_DAYS)
        assert risk.as_of == on
        late = [i for i in installments(risk.loan) if i.due_on < on and i.outstanding > 0]
        expected = sum(i.principal - i.principal_paid for i in late) if risk.days_past_due else 0
        assert risk.overdue_principal == expected
    assert risk_rows() == rebuilt_rows(world, on)


def test_states_across_every_band_boundary(world, portfolio, time_machine):
    """Close business dates where the late loan crosses each band boundary, one after the
    other (the rows of the day before are rewritten in place each time)."""
    late, good = portfolio["late"], portfolio["good"]
    first_due = installments(late)[0].due_on
    pay_due(world, good, first_due)
    time_machine.move_to("2029-01-01 09:00:00+00:00", tick=False)
    ctx = partition_context(world.orgs.kondo)
    caisses = [world.caisse_a, world.caisse_b]
    seen = set()
    for days in BOUNDARIES:
        on = first_due + timedelta(days=days)
        assert partitions_close(caisses=caisses, on=on, ctx=ctx) == 2
        risk = LoanRisk.objects.get(loan=late)
        assert risk.days_past_due == days
        seen.add(risk.risk_class)
        check_states(world, on)
        check_accounting(world)
    assert seen == {name for _upper, name, _p, _a in rules.BANDS}


def test_states_day_after_day_with_payments_and_a_penalty(world, portfolio, time_machine):
    """Consecutive days around the first due date: the good loan paid on the day, the late one
    penalised after its grace days, then paid; each day equals a computation from scratch."""
    late, good = portfolio["late"], portfolio["good"]
    first_due = installments(late)[0].due_on
    time_machine.move_to("2027-01-01 09:00:00+00:00", tick=False)
    ctx = partition_context(world.orgs.kondo)
    caisses = [world.caisse_a, world.caisse_b]
    start = first_due - timedelta(days=4)
    for k in range(18):
        on = start + timedelta(days=k)
        if on == first_due:
            pay_due(world, good, on)
        if on == first_due + timedelta(days=12):
            late.refresh_from_db()
            pay_due(world, late, on)
        partitions_close(caisses=caisses, on=on, ctx=ctx)
        check_states(world, on)
        check_accounting(world)
    first = Installment.objects.get(loan=late, version=1, number=1)
    assert first.penalised
    assert first.paid_on == first_due + timedelta(days=12)
    assert LoanRisk.objects.get(loan=late).days_past_due == 0


def test_loans_leaving_the_portfolio_lose_their_row(world, portfolio, time_machine):
    """A loan closed since the last day loses its LoanRisk row; one not yet disbursed on the
    date closed has none (the rows are rewritten, not replaced)."""
    late, good = portfolio["late"], portfolio["good"]
    time_machine.move_to("2027-01-01 09:00:00+00:00", tick=False)
    ctx = partition_context(world.orgs.kondo)
    partitions_close(caisses=[world.caisse_a], on=date(2026, 6, 1), ctx=ctx)
    assert set(LoanRisk.objects.values_list("loan_id", flat=True)) == {late.pk, good.pk}
    good.refresh_from_db()
    good.status = "closed"
    good.save(update_fields=["status"])
    partitions_close(caisses=[world.caisse_a], on=date(2026, 6, 2), ctx=ctx)
    assert set(LoanRisk.objects.values_list("loan_id", flat=True)) == {late.pk}
    # Before the disbursement (12/05/2026) nothing is in the portfolio.
    partitions_close(caisses=[world.caisse_a], on=date(2026, 5, 11), ctx=ctx)
    assert not LoanRisk.objects.exists()


def test_a_group_commits_or_vanishes_whole(world, portfolio, time_machine, monkeypatch):
    """Caisses closed in one transaction: a failure in the second rolls back the first; the
    next attempt closes both, and a caisse already closed is skipped inside the group."""
    time_machine.move_to("2027-01-01 09:00:00+00:00", tick=False)
    ctx = partition_context(world.orgs.kondo)
    on = date(2026, 7, 1)
    book = Book.objects.get(unit=world.caisse_a)
    before = (ledger_snapshot(book), risk_rows(), Reminder.objects.count())
    real = sql.reminders_queue

    def failing(caisse_id, day, days):
        if caisse_id == world.caisse_b.pk:
            raise RuntimeError("disk full")
        return real(caisse_id, day, days)

    monkeypatch.setattr(sql, "reminders_queue", failing)
    with pytest.raises(RuntimeError):
        partitions_close(caisses=[world.caisse_a, world.caisse_b], on=on, ctx=ctx)
    assert not PartitionDay.objects.exists()
    assert (ledger_snapshot(book), risk_rows(), Reminder.objects.count()) == before
    monkeypatch.setattr(sql, "reminders_queue", real)
    assert partitions_close(caisses=[world.caisse_a], on=on, ctx=ctx) == 1
    assert partitions_close(caisses=[world.caisse_a, world.caisse_b], on=on, ctx=ctx) == 1
    assert partitions_close(caisses=[world.caisse_a, world.caisse_b], on=on, ctx=ctx) == 0
    assert PartitionDay.objects.filter(business_date=on).count() == 2
    check_states(world, on)
    check_accounting(world)
