"""Contributions: cash payments and receipts, advances and their recognition, reversals and the
schedule settled again, arrears suspending and reinstating coverage, payments from Kondo savings
(both books in one transaction, with consent), standing orders, the API's Idempotency-Key, and
the pure schedule (health.dues) under hypothesis."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.core.errors import ApplicationError
from jigi.health import dues as sch
from jigi.health.models import Contribution, ContributionDue, Coverage, SuspensionPeriod
from jigi.health.selectors import contribution_quote, dues_of, eligibility_check
from jigi.health.services import (
    arrears_run,
    contribution_pay,
    contribution_reverse,
    coverage_end,
    standing_order_create,
    standing_order_stop,
    standing_orders_run,
)
from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify
from jigi.people.services import consent_grant, consent_withdraw, membership_add
from jigi.savings.models import SavingsAccount, SavingsTransaction
from jigi.savings.services import drawer_open, savings_account_open, savings_deposit, share_purchase
from jigi.savings.setup import kondo_products_seed
from tests.health.conftest import TODAY, balances, counts, make_coverage, make_family

FIXTURE_BOOK = {"57": 25_600, "701": 23_100, "702": 2_500}


def _pay(health, amount, on=TODAY, user="mutual_manager", coverage=None, **kw):
    return contribution_pay(acting_user=health.users[user], coverage=coverage or health.coverage,
                            amount=amount, on=on, **kw)


# --- cash at the mutual -----------------------------------------------------------------------


def test_fixture_payment_is_in_the_mutuals_book_with_a_receipt(health):
    assert balances(health.world.mutual_1) == FIXTURE_BOOK
    first = Contribution.objects.get(coverage=health.coverage)
    assert first.receipt_number == "M01-2026-000001"
    assert (first.amount, first.card_fee, first.channel) == (25_600, 2_500, "cash")
    other = Contribution.objects.get(coverage=health.other_coverage)
    assert other.receipt_number == "M02-2026-000001"  # numbered per mutual
    assert ledger_verify(Book.objects.get(unit=health.world.mutual_1)) == []


def test_payment_ahead_goes_to_advances_until_close_of_business(health):
    p = _pay(health, 3_300)
    assert p.contribution.receipt_number == "M01-2026-000002"
    assert p.coverage.paid_through == date(2026, 12, 31)
    assert balances(health.world.mutual_1) == FIXTURE_BOOK | {"57": 28_900, "412": 3_300}
    # December has not begun: nothing moves on 30 November.
    assert arrears_run(mutual=health.world.mutual_1, on=date(2026, 11, 30)).recognised == 0
    run = arrears_run(mutual=health.world.mutual_1, on=date(2026, 12, 1))
    assert run.recognised == 3_300
    assert balances(health.world.mutual_1) == FIXTURE_BOOK | {"57": 28_900, "701": 26_400}
    again = arrears_run(mutual=health.world.mutual_1, on=date(2026, 12, 1))
    assert again.recognised == 0
    assert again.suspended == []


def test_partial_payment_leaves_paid_through_where_it_was(health):
    p = _pay(health, 1_000)
    december = ContributionDue.objects.get(coverage=health.coverage,
                                           period_start=date(2026, 12, 1))
    assert (december.amount, december.paid) == (3_300, 1_000)
    assert p.coverage.paid_through == date(2026, 11, 30)


def test_quote_says_what_brings_the_family_up_to_date(health):
    q = contribution_quote(health.coverage, through=date(2027, 2, 1))
    assert (q.card_fee, q.dues, q.total) == (0, 3 * 3_300, 9_900)


@pytest.mark.parametrize("amount", [0, -550, "12.5", 12.5, "abc", True, 10**12])
def test_bad_amounts_are_refused_with_nothing_written(health, amount):
    before, book = counts(), balances(health.world.mutual_1)
    with pytest.raises(ApplicationError) as exc:
        _pay(health, amount)
    assert exc.value.status_code == 422
    assert "amount" in exc.value.fields
    assert counts() == before
    assert balances(health.world.mutual_1) == book


def test_more_than_two_years_ahead_is_refused(health):
    before = counts()
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 3_300 * 26)
    assert exc.value.code == "invalid"
    assert counts() == before
    assert _pay(health, 3_300 * 24).coverage.paid_through == date(2028, 11, 30)


def test_card_fee_is_paid_first(world, health):
    family = make_family(world, children=0)
    cov = make_coverage(world, family, package=health.package, enrolled_on=TODAY).coverage
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 2_000, coverage=cov)
    assert "amount" in exc.value.fields
    p = _pay(health, 2_500 + 1_100, coverage=cov)
    assert p.contribution.card_fee == 2_500
    assert p.coverage.card_fee_paid
    assert p.coverage.paid_through == date(2026, 11, 30)


def test_contribution_to_an_ended_coverage_is_refused(health):
    coverage_end(acting_user=health.users["mutual_manager"], coverage=health.coverage,
                 reason="Départ", on=TODAY)
    before, book = counts(), balances(health.world.mutual_1)
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 3_300)
    assert exc.value.code == "coverage_ended"
    assert exc.value.status_code == 409
    assert counts() == before
    assert balances(health.world.mutual_1) == book


def test_dates_before_enrolment_or_in_the_future_are_refused(health):
    for on in (date(2026, 5, 3), TODAY + timedelta(days=1)):
        with pytest.raises(ApplicationError) as exc:
            _pay(health, 3_300, on=on)
        assert "paid_on" in exc.value.fields


def test_channel_needs_its_reference(health):
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 3_300, channel="mobile_money")
    assert "reference" in exc.value.fields
    p = _pay(health, 3_300, channel="mobile_money", reference="OM-MP261120.1542.A12345")
    assert p.contribution.external_ref == "OM-MP261120.1542.A12345"
    assert balances(health.world.mutual_1)["53"] == 3_300


def test_receipts_stay_gapless_after_a_refusal(health):
    with pytest.raises(ApplicationError):
        _pay(health, 3_300 * 30)
    assert _pay(health, 3_300).contribution.receipt_number == "M01-2026-000002"
    assert _pay(health, 550).contribution.receipt_number == "M01-2026-000003"


def test_other_mutuals_manager_cannot_collect(health):
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 3_300, user="manager_2")
    assert exc.value.status_code == 404
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 3_300, user="claims_officer")
    assert exc.value.status_code == 403


# --- reversals --------------------------------------------------------------------------------


def test_reversal_settles_the_schedule_again_and_reverses_the_entry(health):
    later = _pay(health, 3_300).contribution  # December, in advance
    first = Contribution.objects.get(receipt_number="M01-2026-000001")
    r = contribution_reverse(acting_user=health.users["mutual_manager"], contribution=first,
                             reason="Billet faux", on=TODAY)
    assert r.contribution.receipt_number == "M01-2026-000003"
    first.refresh_from_db()
    assert first.reversed_by_id == r.contribution.pk
    # The December payment now pays May (oldest first): income, no advance left.
    dues = {d.period_start: d.paid for d in dues_of(health.coverage)}
    assert dues[date(2026, 5, 1)] == 3_300
    assert dues[date(2026, 6, 1)] == 0
    assert date(2026, 12, 1) not in dues
    assert balances(health.world.mutual_1) == {"57": 3_300, "701": 3_300}
    cov = Coverage.objects.get(pk=health.coverage.pk)
    assert not cov.card_fee_paid
    assert cov.paid_through == date(2026, 5, 31)
    # June unpaid for more than the 60 days of grace: suspended at once.
    assert r.status_change == "suspended"
    assert cov.status == "suspended"
    assert later.reversed_by_id is None
    assert ledger_verify(Book.objects.get(unit=health.world.mutual_1)) == []


def test_a_payment_is_reversed_once_and_a_reversal_never(health):
    p = _pay(health, 3_300).contribution
    r = contribution_reverse(acting_user=health.users["mutual_manager"], contribution=p,
                             reason="Erreur de montant")
    with pytest.raises(ApplicationError) as exc:
        contribution_reverse(acting_user=health.users["mutual_manager"], contribution=p,
                             reason="Encore")
    assert exc.value.code == "already_reversed"
    with pytest.raises(ApplicationError) as exc:
        contribution_reverse(acting_user=health.users["mutual_manager"],
                             contribution=r.contribution, reason="Encore")
    assert exc.value.code == "is_reversal"
    assert balances(health.world.mutual_1) == FIXTURE_BOOK


def test_reversal_needs_a_manager_and_a_reason(health):
    p = _pay(health, 3_300).contribution
    with pytest.raises(ApplicationError) as exc:
        contribution_reverse(acting_user=health.users["claims_officer"], contribution=p,
                             reason="Erreur")
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        contribution_reverse(acting_user=health.users["mutual_manager"], contribution=p,
                             reason="  ")
    assert "reason" in exc.value.fields


# --- arrears ----------------------------------------------------------------------------------


def _late_family(world, health):
    """Enrolled 100 days ago (12 August), card and August paid, nothing since."""
    family = make_family(world, spouses=1, children=1)
    return make_coverage(world, family, package=health.package,
                         enrolled_on=TODAY - timedelta(days=100),
                         paid_through=date(2026, 8, 31)).coverage


def test_arrears_beyond_grace_suspend_then_payment_reinstates_after_lapse_wait(world, health):
    cov = _late_family(world, health)
    run = arrears_run(mutual=world.mutual_1, on=date(2026, 11, 15))
    assert run.suspended == [cov.number]
    assert health.coverage.number not in run.suspended
    cov.refresh_from_db()
    assert (cov.status, cov.suspended_on) == ("suspended", date(2026, 11, 15))
    card = cov.beneficiaries.first().card_number
    answer = eligibility_check(health.users["clinic"], card=card, on=TODAY)
    assert [r.code for r in answer.matches[0].decision.reasons] == ["SUSPENDED_ARREARS"]
    assert answer.matches[0].decision.reasons[0].amount == 3 * 3 * 550  # Sep, Oct, Nov
    # Paying September brings the oldest unpaid month (October) within the grace.
    p = _pay(health, 3 * 550, coverage=cov)
    assert p.status_change == "reinstated"
    cov.refresh_from_db()
    assert cov.status == "active"
    periods = list(SuspensionPeriod.objects.filter(coverage=cov).order_by("start").values_list(
        "start", "end", "reason"))
    assert periods == [(date(2026, 11, 15), date(2026, 11, 19), "arrears"),
                       (TODAY, TODAY + timedelta(days=29), "waiting")]
    later = eligibility_check(health.users["clinic"], card=card, on=TODAY)
    assert [(r.code, r.until) for r in later.matches[0].decision.reasons] == [
        ("WAITING_PERIOD", TODAY + timedelta(days=30))]
    assert eligibility_check(health.users["clinic"], card=card,
                             on=TODAY + timedelta(days=30)).covered


def test_arrears_within_grace_do_not_suspend(world, health):
    cov = _late_family(world, health)
    assert arrears_run(mutual=world.mutual_1, on=date(2026, 10, 31)).suspended == []
    cov.refresh_from_db()
    assert cov.status == "active"


# --- payments from Kondo savings --------------------------------------------------------------


@pytest.fixture
def kondo(world, health):
    """The family's head is also a Kondo member at caisse A with 20,000 F of savings (the
    mutual recorded his consent that Kondo sees his identity; the caisse opened his account)."""
    head = health.family.head
    _share, products = kondo_products_seed(organisation=world.orgs.kondo)
    consent_grant(acting_user=world.users["mutual_manager"], person=head,
                  granted_to=world.orgs.kondo, scope="identity", purpose="Compte à la caisse")
    teller = world.users["teller_a"]
    membership_add(acting_user=teller, person=head, unit=world.caisse_a, start_date=TODAY)
    drawer_open(acting_user=teller, caisse=world.caisse_a, amount=100_000, on=TODAY)
    share_purchase(acting_user=teller, person=head, caisse=world.caisse_a, shares=2, on=TODAY)
    account = savings_account_open(acting_user=teller, product=products["EPV"],
                                   caisse=world.caisse_a, person=head, on=TODAY)
    savings_deposit(acting_user=teller, account=account, amount=20_000, on=TODAY)
    account.refresh_from_db()
    return account


def _savings_consent(world, health):
    return consent_grant(acting_user=world.users["teller_a"], person=health.family.head,
                         granted_to=world.orgs.utm, scope="savings",
                         purpose="Cotisations de la mutuelle prélevées sur l'épargne")


def test_savings_transfer_posts_both_books_in_one_operation(world, health, kondo):
    _savings_consent(world, health)
    caisse_before = balances(world.caisse_a)
    p = _pay(health, 3_300, channel="savings", savings_account=kondo)
    kondo.refresh_from_db()
    assert kondo.balance == 20_000 - 3_300
    tx = SavingsTransaction.objects.get(pk=p.contribution.savings_transaction_id)
    assert (tx.direction, tx.amount, tx.kind) == ("D", 3_300, "transfer")
    caisse = balances(world.caisse_a)
    assert caisse["251"] == caisse_before["251"] - 3_300
    assert caisse["373"] == 3_300
    assert balances(world.mutual_1) == FIXTURE_BOOK | {"52": 3_300, "412": 3_300}
    assert ledger_verify(Book.objects.get(unit=world.caisse_a)) == []


def test_savings_transfer_without_consent_is_refused_and_nothing_moves(world, health, kondo):
    before, caisse, mutual = counts(), balances(world.caisse_a), balances(world.mutual_1)
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 3_300, channel="savings", savings_account=kondo)
    assert exc.value.code == "consent_missing"
    assert exc.value.status_code == 403
    assert counts() == before
    assert balances(world.caisse_a) == caisse
    assert balances(world.mutual_1) == mutual
    kondo.refresh_from_db()
    assert kondo.balance == 20_000


def test_insufficient_savings_leave_both_books_and_the_receipts_unchanged(world, health, kondo):
    _savings_consent(world, health)
    before, caisse, mutual = counts(), balances(world.caisse_a), balances(world.mutual_1)
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 19_800, channel="savings", savings_account=kondo)  # minimum 1,000 stays
    assert exc.value.code == "insufficient_balance"
    assert counts() == before
    assert balances(world.caisse_a) == caisse
    assert balances(world.mutual_1) == mutual
    assert _pay(health, 550).contribution.receipt_number == "M01-2026-000002"


def test_account_of_someone_outside_the_family_is_not_found(world, health, kondo):
    other = SavingsAccount.objects.exclude(pk=kondo.pk).first()
    assert other is None or other.person_id != health.family.head.pk
    _savings_consent(world, health)
    SavingsAccount.objects.filter(pk=kondo.pk).update(person=health.refused_child)
    kondo.refresh_from_db()
    with pytest.raises(ApplicationError) as exc:
        _pay(health, 3_300, channel="savings", savings_account=kondo)
    assert exc.value.code == "account_not_found"


def test_reversing_a_savings_payment_gives_the_money_back(world, health, kondo):
    _savings_consent(world, health)
    caisse_before = balances(world.caisse_a)
    p = _pay(health, 3_300, channel="savings", savings_account=kondo)
    contribution_reverse(acting_user=health.users["mutual_manager"],
                         contribution=p.contribution, reason="Prélèvement non autorisé")
    kondo.refresh_from_db()
    assert kondo.balance == 20_000
    assert balances(world.caisse_a) == caisse_before
    assert balances(world.mutual_1) == FIXTURE_BOOK
    tx = SavingsTransaction.objects.get(pk=p.contribution.savings_transaction_id)
    assert tx.status == "reversed"


# --- standing orders --------------------------------------------------------------------------


def test_standing_order_needs_consent(world, health, kondo):
    with pytest.raises(ApplicationError) as exc:
        standing_order_create(acting_user=health.users["mutual_manager"],
                              coverage=health.coverage, account=kondo)
    assert exc.value.code == "consent_missing"


def test_standing_orders_run_once_a_month_and_record_failures(world, health, kondo):
    _savings_consent(world, health)
    order = standing_order_create(acting_user=health.users["mutual_manager"],
                                  coverage=health.coverage, account=kondo, day_of_month=20)
    assert order.amount == 3_300  # six beneficiaries x 550 F
    other = make_coverage(world, make_family(world, children=0), package=health.package,
                          enrolled_on=TODAY, paid_through=date(2026, 11, 30)).coverage
    assert standing_orders_run(on=date(2026, 11, 19)) == []  # not its day yet
    results = standing_orders_run(on=TODAY)
    assert [(r.order_id, r.ok) for r in results] == [(order.pk, True)]
    kondo.refresh_from_db()
    assert kondo.balance == 16_700
    assert standing_orders_run(on=TODAY) == []  # paid this month already
    # Next month the account holds too little: recorded, the order stays for next time.
    SavingsAccount.objects.filter(pk=kondo.pk).update(balance=2_000)
    results = standing_orders_run(on=date(2026, 12, 20))
    assert [(r.ok, r.code) for r in results] == [(False, "insufficient_balance")]
    order.refresh_from_db()
    assert order.active
    assert order.last_result.startswith("insufficient_balance")
    assert Coverage.objects.get(pk=other.pk).status == "active"


def test_withdrawn_consent_stops_the_order(world, health, kondo):
    consent = _savings_consent(world, health)
    order = standing_order_create(acting_user=health.users["mutual_manager"],
                                  coverage=health.coverage, account=kondo, day_of_month=1)
    consent_withdraw(acting_user=world.users["teller_a"], consent=consent)
    before = counts()
    results = standing_orders_run(on=TODAY)
    assert [(r.ok, r.code) for r in results] == [(False, "consent_withdrawn")]
    order.refresh_from_db()
    assert not order.active
    after = counts()
    assert after["contribution"] == before["contribution"]
    assert after["savings_tx"] == before["savings_tx"]


def test_stopped_order_does_not_run(world, health, kondo):
    _savings_consent(world, health)
    order = standing_order_create(acting_user=health.users["mutual_manager"],
                                  coverage=health.coverage, account=kondo, day_of_month=1)
    standing_order_stop(acting_user=health.users["mutual_manager"], order=order,
                        reason="Paiera en espèces")
    assert standing_orders_run(on=TODAY) == []


# --- API and idempotency ----------------------------------------------------------------------


def test_api_payment_is_idempotent(health, client_for):
    c = client_for("mutual_manager")
    url = f"/api/v1/health/coverages/{health.coverage.pk}/contributions"
    body = {"amount": "3 300", "paid_on": TODAY.isoformat()}
    r1 = c.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="pay-1")
    r2 = c.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json()
    assert r1.json()["contribution"]["receipt"] == "M01-2026-000002"
    assert Contribution.objects.filter(coverage=health.coverage).count() == 2
    r3 = c.post(url, {"amount": 550}, content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="pay-1")
    assert r3.status_code == 409
    r4 = c.post(url, body, content_type="application/json")
    assert r4.status_code == 400
    assert r4.json()["code"] == "idempotency_key_required"


def test_api_refuses_bad_amounts_and_closed_coverage(health, client_for):
    c = client_for("mutual_manager")
    url = f"/api/v1/health/coverages/{health.coverage.pk}/contributions"
    for i, amount in enumerate([0, -5, 1.5, "dix"]):
        r = c.post(url, {"amount": amount}, content_type="application/json",
                   HTTP_IDEMPOTENCY_KEY=f"bad-{i}")
        assert r.status_code == 422, r.content
    coverage_end(acting_user=health.users["mutual_manager"], coverage=health.coverage,
                 reason="Départ")
    r = c.post(url, {"amount": 550}, content_type="application/json",
               HTTP_IDEMPOTENCY_KEY="closed")
    assert r.status_code == 409
    assert r.json()["code"] == "coverage_ended"
    assert Contribution.objects.filter(coverage=health.coverage).count() == 1


def test_api_reversal_and_dues(health, client_for):
    c = client_for("mutual_manager")
    p = _pay(health, 3_300).contribution
    r = c.post(f"/api/v1/health/contributions/{p.pk}/reverse", {"reason": "Erreur"},
               content_type="application/json", HTTP_IDEMPOTENCY_KEY="rev-1")
    assert r.status_code == 201
    assert r.json()["contribution"]["receipt"] == "M01-2026-000003"
    r = c.get(f"/api/v1/health/coverages/{health.coverage.pk}/dues?through=2026-12-31")
    assert r.json()["quote"] == {"through": "2026-12-31", "card_fee": 0, "dues": 3_300,
                                 "total": 3_300}
    r = c.get(f"/api/v1/health/coverages/{health.coverage.pk}/contributions")
    assert [x["receipt"] for x in r.json()] == ["M01-2026-000003", "M01-2026-000002",
                                                "M01-2026-000001"]


# --- the pure schedule ------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
frequencies = st.sampled_from(["monthly", "yearly", "seasonal"])
seasons = st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True)


@given(freq=frequencies, months=seasons, anchor=days, span=st.integers(0, 800))
def test_periods_are_contiguous_and_cover_every_day(freq, months, anchor, span):
    through = anchor + timedelta(days=span)
    ps = sch.periods(freq, months, anchor, through)
    assert ps[0].start <= anchor <= ps[0].end
    assert ps[-1].start <= through <= ps[-1].end
    for a, b in zip(ps, ps[1:], strict=False):
        assert b.start == a.end + timedelta(days=1)
        assert a.start <= a.end


@given(amounts=st.lists(st.integers(0, 10_000), max_size=30), total=st.integers(0, 400_000))
def test_allocation_conserves_money_and_pays_oldest_first(amounts, total):
    paid, left = sch.allocate(amounts, total)
    assert sum(paid) + left == total
    assert all(0 <= p <= a for p, a in zip(paid, amounts, strict=True))
    # Nothing reaches a later period while an earlier one is short.
    for i, (p, a) in enumerate(zip(paid, amounts, strict=True)):
        if p < a:
            assert all(x == 0 for x in paid[i + 1:])
            assert left == 0


@given(amounts=st.lists(st.integers(1, 5_000), min_size=1, max_size=12),
       total=st.integers(0, 70_000), grace=st.integers(0, 120))
def test_paid_through_and_arrears_agree(amounts, total, grace):
    ps = sch.periods("monthly", [], date(2026, 1, 15), date(2026, 12, 31))[:len(amounts)]
    paid, _left = sch.allocate(amounts[:len(ps)], total)
    dues = [sch.Due(p.start, p.end, a, x) for p, a, x in zip(ps, amounts, paid, strict=False)]
    through = sch.paid_through(dues)
    on = date(2027, 6, 1)
    if through is not None:
        assert all(d.paid == d.amount for d in dues if d.end <= through)
    oldest = sch.oldest_unpaid(dues, on)
    assert (oldest is None) == all(d.paid == d.amount for d in dues)
    assert sch.in_arrears(dues, on, grace) == (oldest is not None
                                              and (on - oldest.start).days > grace)
    assert sch.amount_due(dues, on) == sum(amounts[:len(dues)]) - sum(paid[:len(dues)])


def test_period_amounts_and_counting_rules():
    enrolled = date(2026, 5, 20)
    may = sch.Period(date(2026, 5, 1), date(2026, 5, 31))
    june = sch.Period(date(2026, 6, 1), date(2026, 6, 30))
    spans = [sch.Span(enrolled), sch.Span(enrolled), sch.Span(date(2026, 6, 10)),
             sch.Span(enrolled, until=date(2026, 5, 31))]
    assert sch.persons_counted(may, enrolled, spans) == 3  # enrolled with the family
    assert sch.persons_counted(june, enrolled, spans) == 2  # the newcomer pays from July
    assert sch.period_amount("per_person", 550, 3) == 1_650
    assert sch.period_amount("per_family", 550, 3) == 550
    with pytest.raises(sch.ScheduleError):
        sch.period_amount("per_person", 550.0, 3)
    with pytest.raises(sch.ScheduleError):
        sch.period_containing("seasonal", [], enrolled, enrolled)
    season = sch.period_containing("seasonal", [11, 12], date(2026, 3, 1), date(2026, 3, 1))
    assert season == sch.Period(date(2025, 12, 1), date(2026, 10, 31))
    year = sch.period_containing("yearly", [], date(2024, 2, 29), date(2026, 3, 1))
    assert year == sch.Period(date(2026, 2, 28), date(2027, 2, 27))


def test_recognition_rule():
    due = sch.Due(date(2026, 12, 1), date(2026, 12, 31), 3_300, 3_300, 0)
    assert sch.recognised_after(due, 3_300, date(2026, 11, 20)) == 0
    assert sch.recognised_after(due, 3_300, date(2026, 12, 1)) == 3_300
    started = sch.Due(date(2026, 12, 1), date(2026, 12, 31), 3_300, 3_300, 3_300)
    assert sch.recognised_after(started, 1_000, date(2026, 11, 20)) == 1_000


def test_back_dated_payment_keeps_the_periods_begun_by_today(world, health):
    cov = _late_family(world, health)
    arrears_run(mutual=world.mutual_1, on=TODAY)  # schedules September to November
    _pay(health, 3 * 550, coverage=cov, on=date(2026, 8, 20))  # a paper receipt of August
    starts = [d.period_start for d in dues_of(cov)]
    assert starts == [date(2026, m, 1) for m in (8, 9, 10, 11)]
    assert [d.paid for d in dues_of(cov)] == [3 * 550, 3 * 550, 0, 0]
    cov.refresh_from_db()
    assert cov.status == "active"  # October began 50 days ago: within the grace
    assert list(SuspensionPeriod.objects.filter(coverage=cov).values_list(
        "start", "end", "reason")) == [(TODAY, TODAY + timedelta(days=29), "waiting")]
