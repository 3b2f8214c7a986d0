"""Loan operations beyond the happy path: savings channel, prepayment, rescheduling,
write-off and recovery, guarantee cover, reversal, eligibility, guarantors, groups."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jigi.core.errors import ApplicationError
from jigi.credit import services
from jigi.credit.models import (
    CollectionSheet,
    Installment,
    LoanStatus,
    LoanTransaction,
    Rescheduling,
)
from jigi.ledger.models import Book
from jigi.ledger.selectors import ledger_verify
from jigi.people.models import Membership
from jigi.savings.models import Hold, SavingsAccount
from tests.credit.conftest import COTTON_INCOME, HOUSEHOLD, TODAY, balances, make_borrower

TRADE = [120_000] * 12


def commerce_loan(world, credit, person=None, principal=200_000, repayments=6, group=None,
                  product="COM", **extra):
    loan = services.loan_apply(
        acting_user=world.users["loan_officer_a"], caisse=world.caisse_a,
        person=person or credit.person, product=credit.products[product], principal=principal,
        repayments=repayments, purpose="Boutique", activity="trade", group=group, **extra)
    services.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                           incomes=[{"activity": "commerce", "months": TRADE}],
                           household_expenses=HOUSEHOLD)
    return services.loan_approve(acting_user=world.users["manager_a"], loan=loan)


def active(world, credit, **kw):
    loan = commerce_loan(world, credit, **kw)
    return services.loan_disburse(acting_user=world.users["teller_a"], loan=loan).loan


def rows(loan):
    return list(Installment.objects.filter(loan=loan, version=loan.schedule_version)
                .order_by("number"))


def verify(world):
    assert ledger_verify(book=Book.objects.get(unit=world.caisse_a)) == []


def test_disbursement_to_savings_and_repayment_from_savings(world, credit):
    loan = commerce_loan(world, credit)
    services.loan_disburse(acting_user=world.users["loan_officer_a"], loan=loan,
                           channel="savings")
    credit.account.refresh_from_db()
    net = 200_000 - 3_000 - 20_000
    assert credit.account.balance == 100_000 + net
    first = rows(loan)[0]
    services.loan_repay(acting_user=world.users["loan_officer_a"], loan=loan,
                        amount=first.total, channel="savings", on=first.due_on)
    credit.account.refresh_from_db()
    assert credit.account.balance == 100_000 + net - first.total
    verify(world)


def test_repayment_from_savings_cannot_overdraw(world, credit):
    loan = active(world, credit)
    with pytest.raises(ApplicationError) as exc:
        services.loan_repay(acting_user=world.users["teller_a"], loan=loan, amount=150_000,
                            channel="savings")
    assert exc.value.code == "insufficient_balance"
    assert LoanTransaction.objects.filter(loan=loan).count() == 1


def test_excess_goes_to_savings_when_the_product_says_so(world, credit):
    loan = active(world, credit)  # COM: overpayment to savings
    owed = sum(i.outstanding for i in rows(loan))
    op = services.loan_repay(acting_user=world.users["teller_a"], loan=loan,
                             amount=owed + 5_000)
    assert op.transaction.excess_to_savings == 5_000
    assert op.loan.status == LoanStatus.CLOSED
    credit.account.refresh_from_db()
    # Savings: 100,000 + the excess + the released guarantee (10 % of 200,000).
    assert credit.account.balance == 100_000 + 5_000 + 20_000
    verify(world)


def test_prepayment_shortens_the_loan_and_waives_later_interest(world, credit):
    loan = active(world, credit)
    before = rows(loan)
    first = before[0]
    op = services.loan_repay(acting_user=world.users["teller_a"], loan=loan,
                             amount=first.total + 60_000, on=first.due_on, mode="prepay")
    after = rows(loan)
    assert op.transaction.kind == "prepayment"
    assert sum(i.principal - i.principal_paid for i in after) == \
        200_000 - first.principal - 60_000
    assert after[-1].outstanding == 0  # the last instalment went first
    assert sum(i.interest_waived for i in after) > 0
    assert op.loan.principal_outstanding == 200_000 - first.principal - 60_000
    verify(world)


def test_penalty_charged_once_after_grace(world, credit):
    loan = active(world, credit)
    first = rows(loan)[0]
    late = first.due_on + timedelta(days=10)
    quote = services.payoff_quote(loan, late)
    assert quote["penalties"] == (first.principal + first.interest) * 2 // 100
    services.loan_repay(acting_user=world.users["teller_a"], loan=loan, amount=500, on=late)
    services.loan_repay(acting_user=world.users["teller_a"], loan=loan, amount=500, on=late)
    first.refresh_from_db()
    assert first.penalties == (first.principal + first.interest) * 2 // 100
    assert first.penalties_paid == min(1_000, first.penalties)


def test_reschedule_after_late_cotton_payment(world, credit):
    loan = active(world, credit)
    first = rows(loan)[0]
    on = first.due_on + timedelta(days=40)
    record = services.loan_reschedule(
        acting_user=world.users["manager_a"], loan=loan, reason="late_cotton_payment",
        note="CMDT a payé en avril", repayments=4, on=on)
    loan.refresh_from_db()
    assert isinstance(record, Rescheduling)
    assert loan.schedule_version == 2
    assert loan.restructured
    assert loan.gl_account == "291"
    new = rows(loan)
    assert len(new) == 4
    assert sum(i.principal for i in new) == 200_000
    # What was due and unpaid (interest, penalties) is carried into the first new instalment.
    assert new[0].interest >= record.carried_interest > 0
    assert balances(world).get("291") == 200_000
    assert "202" not in balances(world)
    services.loan_repay(acting_user=world.users["teller_a"], loan=loan, amount=new[0].total,
                        on=new[0].due_on)
    assert balances(world)["291"] == 200_000 - new[0].principal
    verify(world)


def test_reschedule_needs_a_known_reason_and_a_manager(world, credit):
    loan = active(world, credit)
    with pytest.raises(ApplicationError) as exc:
        services.loan_reschedule(acting_user=world.users["manager_a"], loan=loan,
                                 reason="tired")
    assert exc.value.status_code == 422
    with pytest.raises(ApplicationError) as exc:
        services.loan_reschedule(acting_user=world.users["teller_a"], loan=loan,
                                 reason="flood")
    assert exc.value.status_code == 403


def test_write_off_then_recovery(world, credit):
    loan = active(world, credit)
    services.loan_write_off(acting_user=world.users["manager_a"], loan=loan,
                            reason="Décès, pas de garant")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.WRITTEN_OFF
    b = balances(world)
    assert b["669"] == 200_000
    assert "202" not in b
    services.loan_recover(acting_user=world.users["teller_a"], loan=loan, amount=50_000)
    assert balances(world)["7025"] == 50_000
    with pytest.raises(ApplicationError):
        services.loan_recover(acting_user=world.users["teller_a"], loan=loan, amount=200_000)
    verify(world)


def test_guarantee_savings_cover_arrears_by_an_explicit_action(world, credit):
    loan = active(world, credit)
    first = rows(loan)[0]
    late = first.due_on + timedelta(days=3)
    with pytest.raises(ApplicationError):  # only a manager
        services.loan_cover_from_guarantee(acting_user=world.users["teller_a"], loan=loan,
                                           amount=5_000, reason="arriérés", on=late)
    op = services.loan_cover_from_guarantee(acting_user=world.users["manager_a"], loan=loan,
                                            amount=5_000, reason="arriérés avril", on=late)
    assert op.transaction.kind == "guarantee"
    guarantee = SavingsAccount.objects.get(pk=loan.guarantee_account_id)
    assert guarantee.balance == 15_000
    with pytest.raises(ApplicationError):  # never more than the guarantee holds
        services.loan_cover_from_guarantee(acting_user=world.users["manager_a"], loan=loan,
                                           amount=15_001, reason="tout", on=late)
    with pytest.raises(ApplicationError) as exc:  # never before anything is due
        services.loan_cover_from_guarantee(acting_user=world.users["manager_a"], loan=loan,
                                           amount=1_000, reason="avance", on=TODAY)
    assert exc.value.code == "above_arrears"
    verify(world)


def test_reversal_restores_the_instalments(world, credit):
    loan = active(world, credit)
    first = rows(loan)[0]
    op = services.loan_repay(acting_user=world.users["teller_a"], loan=loan,
                             amount=first.total, on=first.due_on)
    with pytest.raises(ApplicationError):  # never the maker... and a teller is no supervisor
        services.loan_transaction_reverse(acting_user=world.users["teller_a"],
                                          tx=op.transaction, reason="erreur")
    from jigi.savings.services import drawer_open

    drawer_open(acting_user=world.users["manager_a"], caisse=world.caisse_a, amount=100_000,
                on=TODAY)
    services.loan_transaction_reverse(acting_user=world.users["manager_a"], tx=op.transaction,
                                      reason="Mauvais prêt")
    first.refresh_from_db()
    loan.refresh_from_db()
    assert first.outstanding == first.total
    assert first.paid_on is None
    assert loan.principal_outstanding == 200_000
    assert balances(world)["202"] == 200_000
    verify(world)


def test_eligibility_refusals_name_the_condition(world, credit):
    newcomer, _acc = make_borrower(world, credit.savings_products, saved=1_000,
                                   first_name="Kadia", last_name="Traoré")
    Membership.objects.filter(person=newcomer).update(start_date=TODAY - timedelta(days=20))
    with pytest.raises(ApplicationError) as exc:
        services.loan_apply(acting_user=world.users["loan_officer_a"], caisse=world.caisse_a,
                            person=newcomer, product=credit.products["COM"], principal=200_000,
                            repayments=6)
    assert exc.value.code == "not_eligible"
    assert {"person", "savings"} <= set(exc.value.fields)


def test_borrower_cycle_caps_a_first_loan(world, credit):
    with pytest.raises(ApplicationError) as exc:
        commerce_loan(world, credit, principal=400_000)  # cycle 1 of COM: at most 250,000
    assert "principal" in exc.value.fields


def test_guarantor_hold_from_disbursement_to_closure(world, credit):
    guarantor, g_account = make_borrower(world, credit.savings_products, saved=80_000,
                                         first_name="Oumou", last_name="Koné")
    loan = commerce_loan(world, credit, guarantors=[(guarantor, g_account, 50_000)])
    services.loan_disburse(acting_user=world.users["teller_a"], loan=loan)
    hold = Hold.objects.get(account=g_account)
    assert hold.amount == 50_000
    assert hold.released_at is None
    quote = services.payoff_quote(loan)
    services.loan_repay(acting_user=world.users["teller_a"], loan=loan, amount=quote["total"],
                        mode="payoff")
    hold.refresh_from_db()
    assert hold.released_at is not None


def test_group_loans_disbursed_together_and_a_collection_sheet(world, credit):
    members = [credit.person] + [
        make_borrower(world, credit.savings_products, first_name=n, last_name="Dembélé")[0]
        for n in ("Aminata", "Bintou", "Djeneba")]
    group = services.group_create(acting_user=world.users["loan_officer_a"],
                                  caisse=world.caisse_a, name="Benkadi de Niono",
                                  members=members, leader=members[1], meeting_every_days=14,
                                  first_meeting_on=TODAY)
    loans = [services.loan_approve(acting_user=world.users["manager_a"], loan=services.
                                   loan_appraise(acting_user=world.users["loan_officer_a"],
                                                 loan=services.loan_apply(
                                                     acting_user=world.users["loan_officer_a"],
                                                     caisse=world.caisse_a, person=m,
                                                     product=credit.products["GRF"],
                                                     principal=50_000, repayments=10,
                                                     group=group),
                                                 incomes=[{"activity": "karité",
                                                           "months": TRADE}],
                                                 household_expenses=HOUSEHOLD).loan)
             for m in members[:3]]
    ops = services.group_disburse(acting_user=world.users["teller_a"], group=group)
    assert len(ops) == 3
    assert all(op.loan.status == LoanStatus.ACTIVE for op in ops)
    meeting = rows(loans[0])[0].due_on
    sheet = services.collection_sheet(group, meeting)
    assert len(sheet) == 4
    due = {line["person_id"]: line["due"] for line in sheet}
    assert due[members[3].pk] == 0
    assert due[members[0].pk] > 0
    lines = [{"person_id": m.pk, "repayment": due[m.pk] or None, "savings": 1_000}
             for m in members]
    lines.append({"person_id": members[3].pk, "repayment": 5_000})  # no loan: refused line
    result = services.collection_sheet_submit(
        acting_user=world.users["teller_a"], group=group, meeting_on=meeting, lines=lines,
        idempotency_key="sheet-1")
    oks = [r["ok"] for r in result.lines]
    assert oks == [True, True, True, True, False]
    assert result.total_repaid == sum(due.values())
    again = services.collection_sheet_submit(
        acting_user=world.users["teller_a"], group=group, meeting_on=meeting, lines=lines,
        idempotency_key="sheet-1")
    assert again.pk == result.pk
    assert CollectionSheet.objects.count() == 1
    assert LoanTransaction.objects.filter(kind="repayment").count() == 3
    verify(world)


def test_an_interrupted_collection_sheet_posts_only_what_is_missing(world, credit):
    members = [credit.person, make_borrower(world, credit.savings_products,
                                            first_name="Sali", last_name="Diallo")[0]]
    group = services.group_create(acting_user=world.users["loan_officer_a"],
                                  caisse=world.caisse_a, name="Jigiya", members=members)
    lines = [{"person_id": m.pk, "savings": 2_000} for m in members]
    services.collection_sheet_submit(acting_user=world.users["teller_a"], group=group,
                                     meeting_on=date(2026, 5, 12), lines=lines,
                                     idempotency_key="k-2")
    CollectionSheet.objects.all().delete()  # as if the last step never committed
    services.collection_sheet_submit(acting_user=world.users["teller_a"], group=group,
                                     meeting_on=date(2026, 5, 12), lines=lines,
                                     idempotency_key="k-2")
    credit.account.refresh_from_db()
    assert credit.account.balance == 100_000 + 2_000  # deposited once


def test_seeded_products_respect_the_cap(world, credit):
    for product in credit.products.values():
        services.check_usury(product)


def test_product_settings_are_checked(world, credit):
    with pytest.raises(ApplicationError) as exc:
        services.product_save(acting_user=world.users["admin"], organisation=world.orgs.kondo,
                              product=credit.products["COM"],
                              values={"max_amount": 1, "allocation_order": "principal"})
    assert {"max_amount", "allocation_order"} <= set(exc.value.fields)
    with pytest.raises(ApplicationError) as exc:
        services.product_save(acting_user=world.users["manager_a"],
                              organisation=world.orgs.kondo, product=credit.products["COM"],
                              values={"interest_rate": "10"})
    assert exc.value.status_code == 403


def test_interest_ratio_over_the_limit_needs_an_override(world, credit):
    loan = services.loan_apply(acting_user=world.users["loan_officer_a"], caisse=world.caisse_a,
                               person=credit.person, product=credit.products["COM"],
                               principal=200_000, repayments=6)
    services.loan_appraise(acting_user=world.users["loan_officer_a"], loan=loan,
                           incomes=[{"activity": "commerce", "months": [40_000] * 12}],
                           household_expenses=HOUSEHOLD)
    with pytest.raises(ApplicationError) as exc:
        services.loan_approve(acting_user=world.users["manager_a"], loan=loan)
    assert exc.value.code == "over_limit"
    appraisal = services.loan_appraise(
        acting_user=world.users["loan_officer_a"], loan=loan,
        incomes=[{"activity": "commerce", "months": [40_000] * 12}],
        household_expenses=HOUSEHOLD, override_reason="Le mari rembourse aussi (tailleur)")
    assert not appraisal.within_limit
    assert appraisal.override_reason
    assert services.loan_approve(acting_user=world.users["manager_a"], loan=loan).status == \
        LoanStatus.APPROVED


def test_cotton_income_makes_a_cotton_schedule_fit(world, credit):
    found = services.propose_schedules(
        credit.products["AGR"], principal=200_000, repayments=3, disbursed_on=TODAY,
        incomes=[{"activity": "coton", "months": COTTON_INCOME}],
        household_expenses=HOUSEHOLD, crop={"crop": "cotton", "region": "Sikasso"})
    assert found[0]["within_limit"]


def test_a_cotton_loan_rescheduled_after_harvest_to_the_late_cmdt_payment(world, credit):
    from tests.credit.test_lifecycle import approved

    loan = approved(world, credit)
    loan = services.loan_disburse(acting_user=world.users["teller_a"], loan=loan).loan
    on = date(2026, 11, 20)  # after harvest, the CMDT has not paid
    services.loan_reschedule(
        acting_user=world.users["manager_a"], loan=loan, reason="late_cotton_payment",
        repayments=2, on=on, seasonal={"pattern": "crop", "crop": "cotton",
                                        "region": "Sikasso",
                                        "cash_months": ["2027-04", "2027-05"]})
    loan.refresh_from_db()
    new = rows(loan)
    assert [i.due_on.month for i in new if i.principal] == [4, 5]
    assert sum(i.principal for i in new) == loan.principal_outstanding
