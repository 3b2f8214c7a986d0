"""SMS receipts queued by the money services themselves: a loan repayment (credit) and a mutual
contribution (health), in the payment's own transaction, for opted-in members only, in their
language; reversals queue nothing; a rolled-back payment leaves no message."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from unittest import mock

import pytest

from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.channels.receipts import payment_receipt_queue
from jigi.credit import services as credit_services
from jigi.credit.models import LoanTransaction
from jigi.credit.setup import kondo_loan_products_seed
from jigi.health.models import Contribution
from jigi.health.selectors import contribution_quote
from jigi.health.services import contribution_pay, contribution_reverse
from jigi.orgs.models import Role
from jigi.people.models import Person
from jigi.savings.services import drawer_open
from jigi.savings.setup import kondo_products_seed
from tests.credit.conftest import HOUSEHOLD, make_borrower
from tests.health.conftest import _persona, make_coverage, make_family

CREDIT_DAY = date(2026, 5, 12)
HEALTH_DAY = date(2026, 11, 20)
TRADE = [120_000] * 12


def _opt(person: Person, opt_in: bool | None, language: str = "fr",
         phone: str = "+22376543210") -> Person:
    Person.objects.filter(pk=person.pk).update(phone=phone)
    if opt_in is not None:
        SmsPreference.objects.update_or_create(person=person, defaults={
            "opt_in": opt_in, "language": language})
    return person


def receipts(purpose: str):
    return list(OutboundMessage.objects.filter(purpose=purpose).order_by("pk"))


# --- loans ------------------------------------------------------------------------------------


@pytest.fixture
def loan(world, time_machine):
    """An active 200,000 F commerce loan of caisse A (teller_a's drawer open)."""
    time_machine.move_to("2026-05-12 09:00:00+00:00", tick=False)
    _share, savings_products = kondo_products_seed(organisation=world.orgs.kondo)
    products = kondo_loan_products_seed(organisation=world.orgs.kondo)
    drawer_open(acting_user=world.users["teller_a"], caisse=world.caisse_a, amount=2_000_000,
                on=CREDIT_DAY)
    person, _account = make_borrower(world, savings_products, first_name="Fatoumata",
                                     last_name="Sanogo")
    officer = world.users["loan_officer_a"]
    loan = credit_services.loan_apply(
        acting_user=officer, caisse=world.caisse_a, person=person, product=products["COM"],
        principal=200_000, repayments=6, purpose="Boutique", activity="trade")
    credit_services.loan_appraise(acting_user=officer, loan=loan,
                                  incomes=[{"activity": "commerce", "months": TRADE}],
                                  household_expenses=HOUSEHOLD)
    loan = credit_services.loan_approve(acting_user=world.users["manager_a"], loan=loan)
    return credit_services.loan_disburse(acting_user=world.users["teller_a"], loan=loan).loan


def _repay(world, loan, amount=10_000, **kw):
    return credit_services.loan_repay(acting_user=world.users["teller_a"], loan=loan,
                                      amount=amount, **kw)


def test_an_opted_in_borrower_gets_one_receipt_per_repayment_in_her_language(world, loan):
    _opt(loan.person, True, "bm")
    first = _repay(world, loan, 10_000)
    second = _repay(world, loan, 5_000)
    msgs = receipts("repayment_receipt")
    assert len(msgs) == 2
    assert [m.ref for m in msgs] == [f"credit.loantransaction:{first.transaction.pk}",
                                     f"credit.loantransaction:{second.transaction.pk}"]
    m = msgs[0]
    assert (m.person_id, m.phone, m.language) == (loan.person_id, "+22376543210", "bm")
    assert m.organisation_id == world.orgs.kondo.pk
    assert m.status == "queued"
    assert m.parts == 1
    assert " 10 000 F " in m.text
    assert str(first.receipt) in m.text
    assert m.text.startswith("Kondo Jigima: i ye juru 10 000 F sara 12/05/2026.")


def test_the_receipt_says_what_is_left_to_pay_in_french(world, loan):
    _opt(loan.person, True, "fr")
    op = _repay(world, loan, 10_000)
    owed = sum(i.outstanding for i in loan.installments.filter(version=loan.schedule_version))
    text = receipts("repayment_receipt")[0].text
    assert f"crédit {loan.number}" in text
    assert f"Reste à payer: {owed:,} F".replace(",", " ") in text
    assert f"Ref {op.receipt}" in text


@pytest.mark.parametrize("choice", [False, None])
def test_an_opted_out_borrower_or_one_who_never_chose_gets_none(world, loan, choice):
    _opt(loan.person, choice)
    _repay(world, loan)
    assert LoanTransaction.objects.filter(loan=loan, kind="repayment").count() == 1
    assert receipts("repayment_receipt") == []


def test_a_borrower_without_a_phone_gets_none(world, loan):
    _opt(loan.person, True, phone="")
    _repay(world, loan)
    assert receipts("repayment_receipt") == []


def test_a_rolled_back_repayment_leaves_no_message(world, loan):
    _opt(loan.person, True)
    with mock.patch("jigi.credit.services.operations.audit_posted",
                    side_effect=RuntimeError("boom")), pytest.raises(RuntimeError):
        _repay(world, loan)
    assert LoanTransaction.objects.filter(loan=loan, kind="repayment").count() == 0
    assert OutboundMessage.objects.count() == 0


def test_a_reversed_repayment_sends_nothing_more(world, loan):
    _opt(loan.person, True)
    op = _repay(world, loan, channel="savings")  # the reversal puts it back in her savings
    credit_services.loan_transaction_reverse(acting_user=world.users["manager_a"],
                                             tx=op.transaction, reason="Erreur de saisie")
    assert LoanTransaction.objects.filter(loan=loan, kind="reversal").exists()
    assert len(receipts("repayment_receipt")) == 1
    assert OutboundMessage.objects.count() == 1


# --- mutual contributions ---------------------------------------------------------------------


@pytest.fixture
def coverage(world, time_machine):
    """An AMV coverage of mutual 1 enrolled 200 days ago, nothing paid yet."""
    from jigi.health.setup import health_setup

    time_machine.move_to("2026-11-20 09:00:00+00:00", tick=False)
    admin = _persona(world, "union_admin", Role.UNION_ADMIN, None)
    packages = health_setup(organisation=world.orgs.utm, acting_user=admin)
    family = make_family(world, last_name="Traoré", spouses=1, children=1)
    return make_coverage(world, family, package=packages["AMV"]).coverage


def _contribute(world, coverage, through=date(2026, 11, 30)):
    amount = contribution_quote(coverage, through=through).total
    return contribution_pay(acting_user=world.users["mutual_manager"], coverage=coverage,
                            amount=amount, on=HEALTH_DAY)


def test_an_opted_in_member_gets_one_contribution_receipt_per_payment(world, coverage):
    _opt(coverage.member, True, "fr")
    first = _contribute(world, coverage)
    second = _contribute(world, coverage, through=date(2026, 12, 31))
    msgs = receipts("contribution_receipt")
    assert [m.ref for m in msgs] == [f"health.contribution:{first.contribution.pk}",
                                     f"health.contribution:{second.contribution.pk}"]
    m = msgs[0]
    assert (m.person_id, m.language, m.organisation_id) == (
        coverage.member_id, "fr", world.orgs.utm.pk)
    amount = f"{first.contribution.amount:,}".replace(",", " ")
    assert m.text == (f"UTM: cotisation de {amount} F enregistrée le 20/11/2026. "
                      f"Couvert jusqu'au 30/11/2026. Ref {first.contribution.receipt_number}")
    until = second.coverage.paid_through.strftime("%d/%m/%Y")
    assert until != "30/11/2026"
    assert f"Couvert jusqu'au {until}." in msgs[1].text


def test_the_contribution_receipt_is_in_english_for_an_english_choice(world, coverage):
    _opt(coverage.member, True, "en")
    _contribute(world, coverage)
    m = receipts("contribution_receipt")[0]
    assert m.language == "en"
    assert "Covered until 30/11/2026" in m.text


@pytest.mark.parametrize("choice", [False, None])
def test_an_opted_out_member_gets_no_contribution_receipt(world, coverage, choice):
    _opt(coverage.member, choice)
    _contribute(world, coverage)
    assert Contribution.objects.filter(coverage=coverage).count() == 1
    assert OutboundMessage.objects.count() == 0


def test_a_rolled_back_contribution_leaves_no_message(world, coverage):
    _opt(coverage.member, True)
    with mock.patch("jigi.health.services.contributions.audit_log",
                    side_effect=RuntimeError("boom")), pytest.raises(RuntimeError):
        _contribute(world, coverage)
    assert Contribution.objects.count() == 0
    assert OutboundMessage.objects.count() == 0


def test_a_reversed_contribution_sends_nothing_more(world, coverage):
    _opt(coverage.member, True)
    paid = _contribute(world, coverage)
    contribution_reverse(acting_user=world.users["mutual_manager"],
                         contribution=paid.contribution, reason="Erreur de saisie")
    assert Contribution.objects.filter(coverage=coverage).count() == 2
    assert OutboundMessage.objects.count() == 1


# --- cost ---------------------------------------------------------------------------------------


@contextmanager
def _prepared_statements(monkeypatch):
    """The statements run on core.prepared's cursor (the hook's hot path bypasses the ORM)."""
    from jigi.core import prepared

    seen: list[str] = []
    real = prepared._Cursor.execute

    def execute(self, sql, params=()):
        seen.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(prepared._Cursor, "execute", execute)
    yield seen
    monkeypatch.setattr(prepared._Cursor, "execute", real)


def test_the_hook_costs_one_statement_when_she_said_no(world, django_assert_num_queries,
                                                       monkeypatch):
    person = _opt(Person.objects.create(first_name="Awa", last_name="Diarra", sex="F"), False)
    nobody = Person.objects.create(first_name="Oumou", last_name="Diarra", sex="F")
    for who in (person, nobody):
        with django_assert_num_queries(0), _prepared_statements(monkeypatch) as seen:
            assert payment_receipt_queue(
                kind="repayment_receipt", organisation_id=world.orgs.kondo.pk,
                person_id=who.pk, amount=5_000, on=CREDIT_DAY, receipt="R-1", ref="x:1",
                loan="C001", balance=0) is None
        assert len(seen) == 1


def test_the_hook_costs_one_read_and_the_insert_when_she_said_yes(
        world, django_assert_num_queries, monkeypatch):
    person = _opt(Person.objects.create(first_name="Awa", last_name="Diarra", sex="F"), True)
    with django_assert_num_queries(0), _prepared_statements(monkeypatch) as seen:
        m = payment_receipt_queue(kind="repayment_receipt", organisation_id=world.orgs.kondo.pk,
                                  person_id=person.pk, amount=5_000, on=CREDIT_DAY,
                                  receipt="R-1", ref="x:1", loan="C001", balance=0)
    assert [sql.split()[0] for sql in seen] == ["SELECT", "INSERT"]
    m.refresh_from_db()
    assert m.organisation_id == world.orgs.kondo.pk
    assert m.text.startswith("Kondo Jigima: remboursement de 5 000 F")
