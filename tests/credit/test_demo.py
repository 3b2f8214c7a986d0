"""The demo loan portfolio (jigi.credit.demo, a step of `jigi demo`): about 60 % of Kondo
members repaying a loan, a balanced ledger whose loan subledgers are the outstanding principal,
instalments and running totals that agree with the transactions, late loans and women's
groups, the same portfolio for the same seed, and services that carry on after it."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum

from jigi.credit import services
from jigi.credit.demo import PAID, Builder
from jigi.credit.models import (
    GroupMember,
    Installment,
    Loan,
    LoanStatus,
    LoanTransaction,
    Rescheduling,
    SolidarityGroup,
)
from jigi.ledger.models import Book, JournalLine
from jigi.ledger.selectors import ledger_verify, unbalanced_entries
from jigi.people.models import Membership
from jigi.savings.models import Receipt, SavingsAccount, SavingsTransaction
from jigi.savings.services import drawer_open

TODAY = date(2026, 11, 26)
MEMBERS = 800
SEED = 4


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One demo for the module (it takes a few seconds); removed at the end."""
    with django_db_blocker.unblock():
        call_command("demo", members=MEMBERS, seed=SEED, today=TODAY, reset=True,
                     stdout=io.StringIO())
        yield
        call_command("flush", interactive=False, verbosity=0)


pytestmark = pytest.mark.django_db


def _kondo_members() -> int:
    return Membership.objects.filter(organisation__code="KONDO").count()


def test_about_sixty_percent_of_members_repay_a_loan(demo):
    active = Loan.objects.filter(status=LoanStatus.ACTIVE)
    share = active.values("person").distinct().count() / _kondo_members()
    assert 0.55 <= share <= 0.66
    # Activities of town and village, crops by region.
    activities = Counter(Loan.objects.values_list("activity", flat=True))
    assert {"small_trade", "crafts", "womens_group"} <= set(activities)
    assert {"cotton", "millet"} & set(activities)
    cotton_regions = set(Loan.objects.filter(activity="cotton").values_list(
        "caisse__region", flat=True))
    assert cotton_regions <= {"Sikasso"}
    rice_regions = set(Loan.objects.filter(activity="rice").values_list("caisse__region",
                                                                         flat=True))
    assert rice_regions <= {"Ségou", "Mopti", "Tombouctou", "Gao"}
    # Earlier loans were repaid: borrower cycles, 12+ months of history.
    assert Loan.objects.filter(status=LoanStatus.CLOSED).count() > 0.15 * active.count()
    assert Loan.objects.filter(cycle=2, status=LoanStatus.ACTIVE).exists()
    first = Loan.objects.order_by("disbursed_on").first().disbursed_on
    assert (TODAY - first).days > 365
    # Every loan's TEG is stored and under the cap.
    assert not Loan.objects.filter(teg_annual__isnull=True).exists()
    assert all(teg <= cap for teg, cap in Loan.objects.values_list("teg_annual", "usury_cap"))


def test_ledger_balances_and_loan_subledgers_are_the_outstanding_principal(demo):
    for book in Book.objects.all():
        assert ledger_verify(book) == []
        assert unbalanced_entries(book) == []
    sub = defaultdict(int)
    for number, code, side, amount in JournalLine.objects.filter(
            account__code__in=["202", "291"]).values_list("subledger", "account__code", "side",
                                                           "amount"):
        sub[(number, code)] += amount if side == "D" else -amount
    for loan in Loan.objects.all():
        assert sub[(loan.number, loan.gl_account)] == loan.principal_outstanding
    # 2545 holds exactly the guarantee savings; 251 the voluntary savings (releases included).
    kondo = Book.objects.filter(organisation__code="KONDO", unit__isnull=False)
    lines = JournalLine.objects.filter(book__in=kondo)

    def balance(code):
        d = lines.filter(account__code=code, side="D").aggregate(s=Sum("amount"))["s"] or 0
        c = lines.filter(account__code=code, side="C").aggregate(s=Sum("amount"))["s"] or 0
        return c - d

    accounts = SavingsAccount.objects.filter(caisse__organisation__code="KONDO")
    assert balance("2545") == accounts.filter(product__code="NAN").aggregate(
        s=Sum("balance"))["s"]
    assert balance("251") == accounts.filter(product__code="EPV").aggregate(
        s=Sum("balance"))["s"]
    assert balance("102") == 0  # every drawer handed in: no drawer is open in the history


def test_instalments_and_running_totals_agree_with_the_transactions(demo):
    principal = dict(Loan.objects.values_list("pk", "principal"))
    for row in Installment.objects.filter(version=1).values("loan").annotate(
            s=Sum("principal")):
        assert row["s"] == principal[row["loan"]]
    paid = {r["loan"]: r for r in LoanTransaction.objects.filter(kind="repayment").values(
        "loan").annotate(p=Sum("principal"), i=Sum("interest"), pen=Sum("penalties"),
                         amount=Sum("amount"))}
    on_installments = {r["loan"]: r for r in Installment.objects.values("loan").annotate(
        p=Sum("principal_paid"), i=Sum("interest_paid"), pen=Sum("penalties_paid"))}
    for loan in Loan.objects.all():
        tx = paid.get(loan.pk, {"p": 0, "i": 0, "pen": 0, "amount": 0})
        inst = on_installments[loan.pk]
        assert (loan.principal_paid, loan.interest_paid, loan.penalties_paid) == \
            (tx["p"], tx["i"], tx["pen"]) == (inst["p"], inst["i"], inst["pen"])
        assert tx["amount"] == tx["p"] + tx["i"] + tx["pen"] + loan.fees_paid
        if loan.status == LoanStatus.WRITTEN_OFF:
            assert loan.principal_outstanding == 0
            assert loan.written_off_amount == loan.principal - loan.principal_paid
        else:
            assert loan.principal_outstanding == loan.principal - loan.principal_paid
        if loan.status == LoanStatus.CLOSED:
            assert loan.principal_outstanding == 0
            assert not Installment.objects.filter(loan=loan, version=loan.schedule_version,
                                                  paid_on__isnull=True).exists()
    # Savings books replay to their balances, releases of guarantee savings included.
    moved = defaultdict(int)
    for account, direction, amount in SavingsTransaction.objects.values_list(
            "account_id", "direction", "amount"):
        moved[account] += amount if direction == "C" else -amount
    for pk, balance in SavingsAccount.objects.values_list("pk", "balance"):
        assert moved[pk] == balance
    # Receipts stay gapless per caisse and year (the history adds none: paper receipts).
    numbers = defaultdict(list)
    for caisse, year, n in Receipt.objects.values_list("caisse_id", "year", "number"):
        numbers[(caisse, year)].append(n)
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in numbers.values())


def test_late_loans_reschedulings_write_offs_and_groups_exist(demo):
    active = list(Loan.objects.filter(status=LoanStatus.ACTIVE))
    late = {i.loan_id for i in Installment.objects.filter(
        loan__status=LoanStatus.ACTIVE, paid_on__isnull=True, due_on__lt=date(2026, 10, 27))
        if i.version == next(x.schedule_version for x in active if x.pk == i.loan_id)}
    at_risk = sum(x.principal_outstanding for x in active if x.pk in late)
    par30 = at_risk / sum(x.principal_outstanding for x in active)
    assert 0.03 <= par30 <= 0.11
    assert Installment.objects.filter(penalised=True, penalties_paid__gt=0).exists()
    assert Rescheduling.objects.filter(reason="late_cotton_payment").exists()
    assert Loan.objects.filter(restructured=True, gl_account="291").exists()
    assert Loan.objects.filter(status=LoanStatus.WRITTEN_OFF).exists()
    groups = list(SolidarityGroup.objects.all())
    assert groups
    for group in groups:
        size = GroupMember.objects.filter(group=group).count()
        assert 5 <= size <= 25
        assert group.loans.exists()
        assert set(group.loans.values_list("product__code", flat=True)) == {"GRF"}


def test_same_seed_same_portfolio(demo):
    def plan():
        b = Builder(seed=SEED, today=TODAY)
        b.load()
        b.plan()
        return [(s.person, s.product, s.principal, s.disbursed_on, s.status,
                 [(r[2], r[3], r[PAID]) for r in s.installments]) for s in b.loans]

    first = plan()
    assert plan() == first
    stored = sorted((p, code, amount, on, status) for p, code, amount, on, status in
                    Loan.objects.values_list("person_id", "product__code", "principal",
                                             "disbursed_on", "status"))
    assert stored == sorted(x[:5] for x in first)


def test_services_carry_on_after_the_demo(demo, time_machine):
    """A teller takes a real repayment of a demo loan: next receipt number, balanced books."""
    time_machine.move_to("2026-11-26 10:00:00+00:00", tick=False)
    teller = get_user_model().objects.get(username="guichet1")
    loan = Loan.objects.filter(status=LoanStatus.ACTIVE, caisse__code="C001").order_by(
        "pk").first()
    drawer_open(acting_user=teller, caisse=loan.caisse, amount=0, on=TODAY)
    last = Receipt.objects.filter(caisse=loan.caisse, year=2026).count()
    op = services.loan_repay(acting_user=teller, loan=loan, amount=5_000, on=TODAY)
    assert op.receipt.number == last + 1
    assert ledger_verify(Book.objects.get(unit=loan.caisse)) == []
