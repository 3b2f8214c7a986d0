"""The credit API end to end, its idempotency, its refusals (bad input, other caisses)."""

from __future__ import annotations

import json

import pytest

from jigi.credit.models import Installment, Loan, LoanStatus, LoanTransaction
from jigi.ledger.models import JournalEntry
from tests.credit.conftest import COTTON_INCOME, HOUSEHOLD, balances

COTTON = {"pattern": "crop", "crop": "cotton", "region": "Sikasso"}


def post(client, url, body, key=None, **headers):
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def application(world, credit, **extra):
    body = {"product_code": "AGR", "caisse_id": world.caisse_a.pk,
            "person_id": credit.person.pk, "principal": 200_000, "repayments": 3,
            "seasonal": COTTON, "purpose": "Intrants coton", "activity": "cotton"}
    body.update(extra)
    return body


@pytest.fixture
def active_loan(world, credit, client_for):
    officer, manager, teller = (client_for(u) for u in ("loan_officer_a", "manager_a",
                                                         "teller_a"))
    r = post(officer, "/api/v1/credit/loans", application(world, credit))
    assert r.status_code == 201, r.content
    loan_id = r.json()["id"]
    r = post(officer, f"/api/v1/credit/loans/{loan_id}/appraisal",
             {"incomes": [{"activity": "coton", "months": COTTON_INCOME}],
              "household_expenses": HOUSEHOLD, "poverty_answers": {"1": 10, "2": 5}})
    assert r.status_code == 200, r.content
    assert r.json()["appraisal"]["within_limit"] is True
    r = post(manager, f"/api/v1/credit/loans/{loan_id}/approve", {"note": "ok"})
    assert r.status_code == 200, r.content
    r = post(teller, f"/api/v1/credit/loans/{loan_id}/disburse", {}, key="d-1")
    assert r.status_code == 201, r.content
    return Loan.objects.get(pk=loan_id)


def test_offer_shows_schedule_and_teg_without_writing(world, credit, client_for):
    r = post(client_for("loan_officer_a"), "/api/v1/credit/offers",
             {"product_code": "AGR", "caisse_id": world.caisse_a.pk, "principal": "200000",
              "repayments": 3, "seasonal": COTTON})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["totals"]["principal"] == 200_000
    assert float(body["teg"]["annual_rate"]) < 24
    assert body["usury_cap"] == "24.00"
    assert Loan.objects.count() == 0


def test_proposals_rank_schedules_by_fit_to_income(world, credit, client_for):
    r = post(client_for("loan_officer_a"), "/api/v1/credit/proposals",
             {"product_code": "AGR", "caisse_id": world.caisse_a.pk, "principal": 200_000,
              "repayments": 3, "incomes": [{"activity": "coton", "months": COTTON_INCOME}],
              "household_expenses": HOUSEHOLD, "crop": {"crop": "cotton", "region": "Sikasso"}})
    assert r.status_code == 200, r.content
    found = r.json()
    assert {p["pattern"] for p in found} == {"income", "crop"}
    ratios = [float(p["max_ratio"]) if p["max_ratio"] else 1e9 for p in found]
    assert ratios == sorted(ratios)
    assert all(float(p["offer"]["teg"]["annual_rate"]) <= 24 for p in found)


def test_a_regular_schedule_fits_a_seasonal_income_worst(world, credit, client_for):
    r = post(client_for("loan_officer_a"), "/api/v1/credit/proposals",
             {"product_code": "COM", "caisse_id": world.caisse_a.pk, "principal": 200_000,
              "repayments": 6, "incomes": [{"activity": "coton", "months": COTTON_INCOME}],
              "household_expenses": HOUSEHOLD, "disbursed_on": "2026-06-01"})
    assert r.status_code == 200, r.content
    found = r.json()
    assert [p["pattern"] for p in found][-1] == "regular"


def test_lifecycle_and_idempotent_repayment(world, credit, client_for, active_loan):
    teller = client_for("teller_a")
    first = Installment.objects.filter(loan=active_loan).order_by("number").first()
    url = f"/api/v1/credit/loans/{active_loan.pk}/repayments"
    body = {"amount": first.total}
    r1 = post(teller, url, body, key="r-1")
    r2 = post(teller, url, body, key="r-1")
    assert r1.status_code == 201
    assert r2.status_code == 201
    assert r1.json() == r2.json()
    assert LoanTransaction.objects.filter(loan=active_loan, kind="repayment").count() == 1
    r3 = post(teller, url, {"amount": first.total + 1}, key="r-1")
    assert r3.status_code == 409
    r4 = post(teller, url, body)
    assert r4.status_code == 400
    assert "Idempotency-Key" in r4.json()["fields"]
    detail = teller.get(f"/api/v1/credit/loans/{active_loan.pk}").json()
    assert detail["installments"][0]["outstanding"] == 0
    assert detail["payoff"]["total"] > 0


def test_payoff_by_api_closes_the_loan(world, credit, client_for, active_loan):
    teller = client_for("teller_a")
    quote = teller.get(f"/api/v1/credit/loans/{active_loan.pk}/payoff").json()
    r = post(teller, f"/api/v1/credit/loans/{active_loan.pk}/repayments",
             {"amount": quote["total"], "mode": "payoff"}, key="p-1")
    assert r.status_code == 201, r.content
    assert r.json()["loan"]["status"] == "closed"


# --- bad input: a clear 4xx and nothing written -------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"principal": 5_000}, "principal"),  # under the product's minimum
    ({"principal": 9_000_000}, "principal"),  # over its maximum
    ({"principal": "12.5"}, "principal"),
    ({"principal": "abc"}, "principal"),
    ({"repayments": 40, "seasonal": None}, "repayments"),  # over the product's maximum
    ({"product_code": "XYZ"}, "product_code"),
    ({"repayments": 1, "seasonal": {"pattern": "crop", "crop": "cotton", "region": "Sikasso",
                                    "cash_months": ["2026-03"]}},
     "seasonal.cash_months"),  # a cash month before the disbursement
    ({"seasonal": {"pattern": "moon"}}, "seasonal"),
    ({"disbursed_on": "2026-06-01", "first_repayment_on": "2026-05-20", "seasonal": None},
     "first_repayment_on"),
])
def test_bad_applications_are_refused(world, credit, client_for, changes, field):
    r = post(client_for("loan_officer_a"), "/api/v1/credit/loans",
             application(world, credit, **changes))
    assert r.status_code in (400, 422), r.content
    fields = r.json()["fields"]
    assert any(k.startswith(field) for k in fields), fields
    assert Loan.objects.count() == 0
    assert Installment.objects.count() == 0


def test_a_usurious_product_is_refused(world, credit, client_for):
    r = client_for("admin").post(
        f"/api/v1/credit/products?organisation_id={world.orgs.kondo.pk}",
        json.dumps({"values": {"code": "CHR", "name": "Cher", "min_amount": 10_000,
                               "max_amount": 100_000, "min_repayments": 3,
                               "max_repayments": 12, "interest_rate": "1.5",
                               "interest_rate_per": "month", "interest_method": "flat",
                               "application_fee_percent": "3"}}),
        content_type="application/json")
    assert r.status_code == 422, r.content
    assert "interest_rate" in r.json()["fields"]
    assert "usury" in r.json()["code"] or "TEG" in r.json()["message"]


def test_a_repayment_above_the_payoff_is_refused(world, credit, client_for, active_loan):
    entries = JournalEntry.objects.count()
    r = post(client_for("teller_a"), f"/api/v1/credit/loans/{active_loan.pk}/repayments",
             {"amount": 5_000_000}, key="big")
    assert r.status_code == 409
    assert "amount" in r.json()["fields"]
    assert JournalEntry.objects.count() == entries


@pytest.mark.parametrize("amount", [0, -100, "1.5", "lots", 10**15])
def test_bad_repayment_amounts(world, credit, client_for, active_loan, amount):
    entries = JournalEntry.objects.count()
    r = post(client_for("teller_a"), f"/api/v1/credit/loans/{active_loan.pk}/repayments",
             {"amount": amount}, key=f"bad-{amount}")
    assert r.status_code == 422, r.content
    assert JournalEntry.objects.count() == entries


def test_a_repayment_dated_before_disbursement_is_refused(world, credit, client_for,
                                                         active_loan):
    r = post(client_for("teller_a"), f"/api/v1/credit/loans/{active_loan.pk}/repayments",
             {"amount": 1_000, "value_date": "2026-01-05"}, key="early")
    assert r.status_code == 422
    assert "value_date" in r.json()["fields"]


# --- access ---------------------------------------------------------------------------------


def test_another_caisse_sees_nothing(world, credit, client_for, active_loan):
    other = client_for("teller_b")
    assert other.get(f"/api/v1/credit/loans/{active_loan.pk}").status_code == 404
    assert other.get("/api/v1/credit/loans").json() == []
    r = post(other, f"/api/v1/credit/loans/{active_loan.pk}/repayments", {"amount": 1_000},
             key="x")
    assert r.status_code == 404
    assert LoanTransaction.objects.filter(loan=active_loan).count() == 1


def test_health_staff_and_movement_see_no_loans(world, credit, client_for, active_loan):
    for user in ("mutual_manager", "organiser"):
        c = client_for(user)
        assert c.get(f"/api/v1/credit/loans/{active_loan.pk}").status_code == 404
        assert c.get("/api/v1/credit/loans").json() == []


def test_a_teller_cannot_approve_and_an_officer_cannot_disburse_cash(world, credit, client_for):
    officer = client_for("loan_officer_a")
    loan_id = post(officer, "/api/v1/credit/loans", application(world, credit)).json()["id"]
    r = post(client_for("teller_a"), f"/api/v1/credit/loans/{loan_id}/approve", {})
    assert r.status_code == 403
    r = post(officer, f"/api/v1/credit/loans/{loan_id}/disburse", {}, key="k")
    assert r.status_code == 403
    assert Loan.objects.get(pk=loan_id).status == LoanStatus.APPLIED


def test_approval_needs_the_appraisal(world, credit, client_for):
    officer = client_for("loan_officer_a")
    loan_id = post(officer, "/api/v1/credit/loans", application(world, credit)).json()["id"]
    r = post(client_for("manager_a"), f"/api/v1/credit/loans/{loan_id}/approve", {})
    assert r.status_code == 409
    assert r.json()["code"] == "not_appraised"


def test_ledger_after_api_lifecycle(world, credit, active_loan):
    b = balances(world)
    assert b["202"] == 200_000


def test_portfolio_at_risk(world, credit, client_for, active_loan, time_machine):
    teller = client_for("teller_a")
    body = teller.get("/api/v1/credit/portfolio").json()
    assert body == {"loans": 1, "outstanding": 200_000, "at_risk": 0, "late_loans": 0,
                    "par_basis_points": 0}
    first = Installment.objects.filter(loan=active_loan).order_by("number").first()
    late = first.due_on.toordinal() + 45
    from datetime import date

    body = teller.get(f"/api/v1/credit/portfolio?on={date.fromordinal(late)}&days=30").json()
    assert body["at_risk"] == 200_000
    assert body["par_basis_points"] == 10_000
    assert client_for("teller_b").get("/api/v1/credit/portfolio").json()["loans"] == 0
