"""The dashboard's PAR trend: every month end in one statement, equal to the PAR of each date
alone, and month ends kept in the cache only while no later operation is dated on or before
them (a backdated repayment or a reversal recomputes the points it moves)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from jigi.credit import services
from jigi.credit.models import LoanTransaction
from jigi.reports import portfolio as pf
from jigi.reports import rules, selectors
from jigi.savings.services import drawer_open
from tests.reports.conftest import D

DATES = [date(2025, 12, 31), date(2026, 1, 5), date(2026, 2, 4), date(2026, 2, 5),
         date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 31), date(2026, 4, 30), D]


def one_by_one(points) -> dict:
    ids = selectors.network_perimeter().caisse_ids
    return {on: selectors._total(pf.portfolio(ids, on, "none", limits).values(), len(limits))
            for on, limits in points}


def points_for(dates, days=rules.PAR_DAYS):
    return [(on, [rules.day_limit(on, n) for n in days]) for on in dates]


def fresh_trend() -> list:
    """par_trend as computed point by point (the definition)."""
    points = points_for(rules.month_ends(D, 12), (30, 90))
    totals = one_by_one(points)
    return [{"on": on, "outstanding": totals[on].outstanding,
             "par30": rules.ratio_pct(totals[on].over[0].outstanding, totals[on].outstanding),
             "par90": rules.ratio_pct(totals[on].over[1].outstanding, totals[on].outstanding)}
            for on, _l in points]


@pytest.fixture
def computed(monkeypatch):
    """The dates portfolio_series is asked to compute, call after call."""
    calls: list[list[date]] = []
    real = pf.portfolio_series

    def spy(caisse_ids, points):
        calls.append([on for on, _l in points])
        return real(caisse_ids, points)

    monkeypatch.setattr(pf, "portfolio_series", spy)
    return calls


def test_series_equals_each_date_alone(book):
    points = points_for(DATES)
    ids = selectors.network_perimeter().caisse_ids
    series = pf.portfolio_series(ids, points)
    assert series == one_by_one(points)
    assert series[D].outstanding == 369_228
    assert series[date(2025, 12, 31)].loans == 0
    assert pf.portfolio_series(ids, []) == {}


def test_trend_cached_until_history_moves(book, computed, world, time_machine):
    perimeter = selectors.network_perimeter()
    trend = selectors.par_trend(perimeter, D)
    assert trend == fresh_trend()
    assert len(computed[-1]) == 12
    # Nothing new: nothing recomputed.
    assert selectors.par_trend(perimeter, D) == trend
    assert computed[-1] == []
    # A repayment dated today moves only today's point.
    book.l2.refresh_from_db()
    services.loan_repay(acting_user=world.users["teller_a"], loan=book.l2, amount=10_000, on=D)
    assert selectors.par_trend(perimeter, D) == fresh_trend()
    assert computed[-1] == [D]
    # A repayment recorded today but dated 15 April moves the April month end and today.
    april = trend[-2]
    book.l1.refresh_from_db()
    services.loan_repay(acting_user=world.users["teller_a"], loan=book.l1, amount=40_000,
                        on=date(2026, 4, 15))
    trend = selectors.par_trend(perimeter, D)
    assert computed[-1] == [date(2026, 4, 30), D]
    assert trend == fresh_trend()
    assert trend[-2]["on"] == april["on"]
    assert trend[-2]["outstanding"] < april["outstanding"]


def test_trend_recomputed_after_a_reversal(book, computed, world):
    """Reversing L3's repayment of 1 May (no later operation on it) changes every point from
    1 May on, although the reversal itself is dated today."""
    perimeter = selectors.network_perimeter()
    selectors.par_trend(perimeter, D)
    drawer_open(acting_user=world.users["manager_a"], caisse=world.caisse_a, amount=500_000,
                on=D)
    tx = LoanTransaction.objects.filter(loan=book.l3, kind="repayment").latest("pk")
    assert tx.value_date == date(2026, 5, 1)
    services.loan_transaction_reverse(acting_user=world.users["manager_a"], tx=tx,
                                      reason="Erreur de saisie")
    trend = selectors.par_trend(perimeter, D)
    assert computed[-1] == [D]  # the only month end on or after 1 May
    assert trend == fresh_trend()


def test_a_different_history_is_not_taken_from_the_cache(book, computed):
    """The cache survives the database (a test rolled back, a backup restored): points of a
    mark whose newest transaction is gone are recomputed."""
    perimeter = selectors.network_perimeter()
    selectors.par_trend(perimeter, D)
    LoanTransaction.objects.filter(pk=LoanTransaction.objects.latest("pk").pk).update(
        created_at=datetime(2020, 1, 1, tzinfo=UTC))
    selectors.par_trend(perimeter, D)
    assert len(computed[-1]) == 12
