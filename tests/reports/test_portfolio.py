"""PAR, ageing and provisions hand-checked on the small portfolio of conftest.py, today and
as of past dates (figures from the loans, never from close of business)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from jigi.reports import selectors
from jigi.reports.registry import build_report
from jigi.reports.selectors import Params
from tests.reports.conftest import D

L1_OUT = 200_000 - 32_172  # instalment 1's principal paid on 2026-02-05
L3_OUT = 150_000 - 24_129 - 24_471
GROSS = L1_OUT + 100_000 + L3_OUT  # 369,228


def run(name, on, by="caisse", date_from=None, unit=None):
    perimeter = selectors.network_perimeter(unit)
    return build_report(name, perimeter, Params(on, by, date_from))


def test_par_by_caisse_today(book):
    rep = run("par", D)
    table = rep.table("par")
    assert [r["label"] for r in table.rows] == ["C001 Caisse de Niono"]
    row = table.rows[0]
    assert row["loans"] == 3
    assert row["outstanding"] == GROSS == 369_228
    # L1: oldest unpaid due 2026-03-05, 68 days; L2: due 2026-05-01, 11 days; L3 on time.
    assert row["at_risk1"] == L1_OUT + 100_000
    assert row["par1"] == Decimal("72.54")
    assert row["at_risk30"] == row["at_risk60"] == L1_OUT
    assert row["par30"] == row["par60"] == Decimal("45.45")
    assert row["at_risk90"] == 0
    assert row["par90"] == Decimal("0.00")
    assert table.total["outstanding"] == GROSS


def test_par_by_sex_and_product(book):
    rows = {r["label"]: r for r in run("par", D, by="sex").table("par").rows}
    assert rows["Femme"]["outstanding"] == L1_OUT + L3_OUT
    assert rows["Femme"]["at_risk30"] == L1_OUT
    assert rows["Homme"]["outstanding"] == 100_000
    assert rows["Homme"]["par1"] == Decimal("100.00")
    assert rows["Homme"]["par30"] == Decimal("0.00")
    (product,) = run("par", D, by="product").table("par").rows
    assert product["label"].startswith("COM")
    assert product["outstanding"] == GROSS
    (officer,) = run("par", D, by="officer").table("par").rows
    assert officer["outstanding"] == GROSS
    (activity,) = run("par", D, by="activity").table("par").rows
    assert activity["label"] == "trade"
    (crop,) = run("par", D, by="crop").table("par").rows
    assert crop["outstanding"] == GROSS  # COM loans carry no crop: one "not a crop loan" row


def test_par_as_of_past_dates(book):
    # 31 March: L2 not yet disbursed; L1's 5 March instalment 26 days late; L3 nothing due.
    row = run("par", date(2026, 3, 31)).table("par").rows[0]
    assert row["loans"] == 2
    assert row["outstanding"] == L1_OUT + 150_000
    assert row["at_risk1"] == L1_OUT
    assert row["par1"] == Decimal("52.80")
    assert row["at_risk30"] == 0
    # The eve of L1's first due date: nothing repaid, nothing late.
    row = run("par", date(2026, 2, 4)).table("par").rows[0]
    assert (row["loans"], row["outstanding"], row["at_risk1"]) == (1, 200_000, 0)
    # On the due date the instalment is paid: not late (due before D only).
    row = run("par", date(2026, 2, 5)).table("par").rows[0]
    assert (row["outstanding"], row["at_risk1"]) == (L1_OUT, 0)
    # Before any disbursement: an empty report, not an error.
    assert run("par", date(2025, 12, 31)).table("par").rows == []


def test_ageing_table(book):
    rows = run("ageing", D).table("ageing").rows
    amounts = [r["outstanding"] for r in rows]
    # not overdue, 1-30, 31-60, 61-90, 91-180, 181-365, 366-730, > 730
    assert amounts == [L3_OUT, 100_000, 0, L1_OUT, 0, 0, 0, 0]
    assert [r["loans"] for r in rows] == [1, 1, 0, 1, 0, 0, 0, 0]
    assert sum(amounts) == GROSS
    total = run("ageing", D).table("ageing").total
    assert total["outstanding"] == GROSS
    assert total["share"] == Decimal("100.00")


def test_provisions_bceao_schedule(book, time_machine):
    time_machine.move_to("2026-07-15 09:00:00+00:00", tick=False)
    on = date(2026, 7, 15)
    rep = run("provisions", on)
    rows = rep.table("provisions").rows
    # L1: oldest unpaid 2026-03-05, more than 3 months (before 2026-04-15), not 6: 40 % of
    # (outstanding - 20,000 compulsory savings still blocked).
    band = rows[2]  # not overdue, up to 3 months, more than 3 to 6 months, ...
    assert band["loans"] == 1
    assert band["outstanding"] == L1_OUT
    assert band["guarantees"] == 20_000
    assert band["base"] == L1_OUT - 20_000
    assert band["provision"] == 59_131  # 40 % of 147,828 = 59,131.2
    # L2 (oldest 2026-05-01) and L3 (2026-06-01): up to 3 months, no provision.
    assert rows[1]["loans"] == 2
    assert rows[1]["provision"] == 0
    assert rows[0]["loans"] == 0
    assert rep.table("provisions").total["provision"] == 59_131
    assert rep.table("provisions_by").total["provision"] == 59_131
    # The same question as of 12 May: L1 is 68 days late, nothing to provision.
    assert run("provisions", D).table("provisions").total["provision"] == 0


def test_flows_yield_writeoffs(book):
    flows = run("flows", D, date_from=date(2026, 1, 1)).table("flows").total
    assert flows["disbursed_n"] == 3
    assert flows["disbursed"] == 450_000
    inst = {loan: book.rows(loan) for loan in (book.l1, book.l2, book.l3)}
    paid = inst[book.l1][0].total + inst[book.l3][0].total + inst[book.l3][1].total
    assert flows["collected"] == paid
    due = sum(i.principal + i.interest + i.fees for rows in inst.values() for i in rows
              if date(2026, 1, 1) <= i.due_on <= D)
    assert flows["demand"] == due
    assert flows["rate"] is not None
    assert flows["rate"] < 100
    yld = run("yield", D).table("yield").total
    interest = inst[book.l1][0].interest + inst[book.l3][0].interest + inst[book.l3][1].interest
    assert yld["interest"] == interest
    assert yld["fees"] == book.l1.upfront_fees + book.l2.upfront_fees + book.l3.upfront_fees
    assert yld["average"] > 0
    assert yld["annual"] > 0
    assert run("writeoffs", D).table("writeoffs").total["amount"] == 0


def test_statements_balance_and_prudential(book):
    bs = run("balance_sheet", D)
    assert bs.table("assets").total["amount"] == bs.table("liabilities").total["amount"]
    codes = [r["code"] for r in bs.table("assets").rows]
    assert "202" in codes
    assert "1" in codes
    tb = run("trial_balance", D).table("trial_balance").total
    assert tb["debit"] == tb["credit"]
    inc = run("income_statement", D)
    assert inc.table("result").total["amount"] == (
        inc.table("income").total["amount"] - inc.table("expense").total["amount"])
    assert inc.table("income").total["amount"] > 0  # interest and fees received
    pru = {r["label"]: r for r in run("prudential", D).table("prudential").rows}
    par90 = next(r for label, r in pru.items() if "PAR90" in label)
    assert par90["value"] == Decimal("0.00")
    assert par90["status"] == "green"
    assert any(r["status"] == "na" for r in pru.values())  # insiders: not in the data


def test_social_performance(book):
    from jigi.reports.models import GniPerCapita

    # The migration seeds this dated setting; a transactional test run earlier in the session
    # empties every table, so the test states what it relies on.
    GniPerCapita.objects.get_or_create(since=date(2024, 7, 1), defaults={
        "francs": 510_000, "source": "Banque mondiale, Mali 2023"})
    rep = run("social", D)
    sex = {r["label"]: r for r in rep.table("sex").rows}
    assert sex["Femme"]["borrowers"] == 2
    assert sex["Homme"]["borrowers"] == 1
    assert rep.table("sex").total["borrowers"] == 3
    assert rep.table("urban").total["members"] >= 3
    ind = {str(r["label"]): r for r in rep.table("indicators").rows}
    avg = next(r for k, r in ind.items() if "/" in k)
    assert avg["value"] is not None  # a GNI figure is in force (seeded by the migration)


def test_social_report_leaves_out_training_participants(book, world):
    from jigi.people.services import person_register

    before = run("social", D).table("urban").total["members"]
    person_register(acting_user=world.users["manager_a"], unit=world.caisse_a,
                    first_name="Kadia", last_name="Samaké", sex="F", birth_year=1985,
                    phone="+22376554433", start_date=date(2026, 1, 5),
                    membership_status="pending")
    assert run("social", D).table("urban").total["members"] == before
