"""Credit screens without a browser: roles, scoping, forms re-rendered with 422 and nothing
written, idempotent money forms."""

from __future__ import annotations

import re

import pytest

from jigi.credit.models import (
    Appraisal,
    CollectionSheet,
    Loan,
    LoanProduct,
    LoanStatus,
    LoanTransaction,
    SolidarityGroup,
)
from jigi.savings.models import Receipt
from tests.credit.screen_helpers import (
    FIRST_MEETING_AFTER,
    cotton_application_post,
    cotton_loan,
    member_number,
    network_admin,
    women_group_with_loans,
    worksheet_post,
)


def _text(response) -> str:
    return response.content.decode().replace("\u202f", " ").replace("\xa0", " ")


def test_list_screens_render_for_each_role(world, credit, client_for):
    for user in ("loan_officer_a", "manager_a", "teller_a", "auditor"):
        c = client_for(user)
        for url in ("/credit/", "/credit/queue/", "/credit/groups/", "/credit/products/",
                    f"/credit/members/{credit.person.pk}/"):
            assert c.get(url).status_code == 200, (user, url)
    officer = client_for("loan_officer_a")
    assert officer.get("/credit/apply/").status_code == 200
    assert officer.get("/credit/apply/?q=Sanogo").status_code == 200
    page = officer.get(f"/credit/apply/{credit.person.pk}/")
    assert page.status_code == 200
    assert 'id="worksheet"' in page.content.decode()
    # A teller and an auditor take no applications; teller_b does not see the member.
    assert client_for("teller_a").get(f"/credit/apply/{credit.person.pk}/").status_code == 403
    assert client_for("auditor").get("/credit/apply/").status_code == 403
    assert client_for("teller_b").get(f"/credit/apply/{credit.person.pk}/").status_code == 404
    assert client_for("teller_b").get(f"/credit/members/{credit.person.pk}/").status_code == 404
    # The live search answers htmx with the rows only.
    rows = _text(officer.get("/credit/?q=Sanogo", HTTP_HX_REQUEST="true"))
    assert "<html" not in rows
    assert 'id="people-found"' in rows
    person_page = _text(officer.get(f"/people/{credit.person.pk}/"))
    assert f"/credit/members/{credit.person.pk}/" in person_page
    home = _text(client_for("loan_officer_a").get("/"))
    assert "/credit/apply/" in home
    assert 'id="nav-credit"' in home


def test_application_proposes_schedules_then_saves_the_chosen_one(world, credit, client_for):
    c = client_for("loan_officer_a")
    url = f"/credit/apply/{credit.person.pk}/"
    data = cotton_application_post()
    page = c.post(url, data | {"propose": "1"})
    assert page.status_code == 200
    html = _text(page)
    # (A regular 3-month loan would carry its 1.5 % fees over 3 months: above the usury cap,
    # so it is not proposed.)
    for pattern in ("income", "crop"):
        assert f'id="proposal-{pattern}"' in html
    assert 'id="proposal-regular"' not in html
    # The cotton schedule fits a cotton farmer's income best: proposed first.
    first = re.search(r'id="proposal-(\w+)"', html).group(1)
    assert first in ("crop", "income")
    assert "TEG" in html
    assert "24,00 %" in html
    assert Loan.objects.count() == 0
    r = c.post(url, data | {"choose": "crop"})
    assert r.status_code == 302
    loan = Loan.objects.get()
    assert r["Location"] == f"/credit/loans/{loan.pk}/"
    assert (loan.pattern, loan.principal, loan.status) == ("crop", 200_000, LoanStatus.APPLIED)
    appraisal = Appraisal.objects.get(loan=loan)
    assert appraisal.incomes[0]["months"][11] == 300_000
    assert appraisal.within_limit


@pytest.mark.parametrize(("change", "field"), [
    ({"principal": "9000000"}, "err-principal"),
    ({"repayments": "abc"}, "err-repayments"),
    ({"income_1_3": "beaucoup"}, "err-worksheet"),
    ({"product": "XYZ"}, "err-product"),
    ({"kind": "crop", "crop": "cotton", "region": "Kayes"}, "seasonal"),
    ({"disbursed_on": "2026-02-30"}, "err-disbursed_on"),
])
def test_bad_application_is_re_rendered_with_422_and_nothing_written(world, credit, client_for,
                                                                     change, field):
    c = client_for("loan_officer_a")
    r = c.post(f"/credit/apply/{credit.person.pk}/", cotton_application_post() | change |
               {"choose": "crop"})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="form-error"' in html
    assert field in html
    assert 'name="principal"' in html  # the form comes back filled in
    assert Loan.objects.count() == 0
    assert Appraisal.objects.count() == 0


def test_application_not_eligible_writes_nothing(world, credit, client_for):
    # 2,000,000 F is above the first-cycle ceiling and the savings-before-credit rule.
    r = client_for("loan_officer_a").post(
        f"/credit/apply/{credit.person.pk}/",
        cotton_application_post(principal="1000000") | {"choose": "crop"})
    assert r.status_code == 422
    assert Loan.objects.count() == 0


def test_loan_pages_are_scoped_to_the_caisse(world, credit, client_for):
    loan = cotton_loan(world, credit, disburse=True)
    base = f"/credit/loans/{loan.pk}/"
    for url in (base, base + "schedule/", base + "disburse/", base + "repay/",
                base + "reschedule/"):
        assert client_for("teller_b").get(url).status_code == 404, url
    r = client_for("teller_b").post(base + "repay/", {"amount": "1000", "idempotency_key": "k1"})
    assert r.status_code == 404
    assert client_for("teller_b").post(base + "approve/").status_code == 404
    assert LoanTransaction.objects.filter(kind="repayment").count() == 0
    page = _text(client_for("teller_a").get(base))
    assert 'id="repay-link"' in page
    assert 'id="reschedule-link"' not in page
    assert 'id="reschedule-link"' in _text(client_for("manager_a").get(base))
    assert client_for("auditor").get(base).status_code == 200
    assert client_for("teller_a").get(base + "reschedule/").status_code == 403


def test_schedule_card_in_big_figures_with_season_icons(world, credit, client_for):
    loan = cotton_loan(world, credit, approve=False)
    html = _text(client_for("loan_officer_a").get(f"/credit/loans/{loan.pk}/schedule/"))
    assert html.count('class="sc ') == loan.installments.count()
    assert "💰" in html
    assert "🌿" in html
    first = loan.installments.order_by("number").first()
    assert f'data-amount="{first.total}"' in html


def test_queue_approve_reject_and_maker_checker(world, credit, client_for):
    loan = cotton_loan(world, credit, approve=False)
    queue = _text(client_for("manager_a").get("/credit/queue/"))
    assert f'id="queue-{loan.pk}"' in queue
    # The loan officer who applied cannot decide on it: the queue says why.
    r = client_for("loan_officer_a").post(f"/credit/loans/{loan.pk}/approve/", {"note": ""})
    assert r.status_code == 403
    assert 'id="form-error"' in r.content.decode()
    # Rejecting needs a reason.
    r = client_for("manager_a").post(f"/credit/loans/{loan.pk}/reject/", {"note": " "})
    assert r.status_code == 422
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.APPLIED
    r = client_for("manager_a").post(f"/credit/loans/{loan.pk}/approve/",
                                     {"note": "Comité du 12 mai"})
    assert r.status_code == 302
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.APPROVED
    assert f'id="disburse-{loan.pk}"' in _text(client_for("teller_a").get("/credit/queue/"))


def test_disbursement_once_per_form_key_and_the_receipt(world, credit, client_for):
    loan = cotton_loan(world, credit)
    c = client_for("teller_a")
    page = c.get(f"/credit/loans/{loan.pk}/disburse/")
    assert page.status_code == 200
    key = re.search(r'name="idempotency_key" value="(\w+)"', page.content.decode()).group(1)
    assert "177 000 F CFA" in _text(page)  # 200,000 - 3,000 fees - 20,000 blocked savings
    data = {"idempotency_key": key, "channel": "cash"}
    first = c.post(f"/credit/loans/{loan.pk}/disburse/", data)
    assert first.status_code == 302
    assert "/savings/receipts/" in first["Location"]
    # A double click: same key, same answer, nothing posted twice.
    again = c.post(f"/credit/loans/{loan.pk}/disburse/", data)
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert LoanTransaction.objects.filter(kind="disbursement").count() == 1
    receipt = _text(c.get(first["Location"]))
    assert "177 000 F CFA" in receipt
    assert loan.number in receipt
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.ACTIVE


def test_disbursement_without_a_form_key_writes_nothing(world, credit, client_for):
    loan = cotton_loan(world, credit)
    r = client_for("teller_a").post(f"/credit/loans/{loan.pk}/disburse/", {"channel": "cash"})
    assert r.status_code == 422
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.APPROVED
    # The loan officer moves no cash (but may disburse to savings).
    r = client_for("loan_officer_a").post(f"/credit/loans/{loan.pk}/disburse/",
                                          {"channel": "cash", "idempotency_key": "abc"})
    assert r.status_code == 403
    assert LoanTransaction.objects.count() == 0


def test_repayment_form_receipt_idempotent_and_refusals(world, credit, client_for):
    loan = cotton_loan(world, credit, disburse=True)
    c = client_for("teller_a")
    page = c.get(f"/credit/loans/{loan.pk}/repay/")
    assert page.status_code == 200
    assert 'id="payoff-total"' in page.content.decode()
    url = f"/credit/loans/{loan.pk}/repay/"
    # More than the payoff (the AGR product refuses the excess): 409, nothing written.
    r = c.post(url, {"idempotency_key": "k-big", "amount": "9 000 000", "channel": "cash",
                     "mode": "normal"})
    assert r.status_code == 409
    assert 'id="form-error"' in r.content.decode()
    r = c.post(url, {"idempotency_key": "k-bad", "amount": "dix", "channel": "cash",
                     "mode": "normal"})
    assert r.status_code == 422
    assert LoanTransaction.objects.filter(kind="repayment").count() == 0
    data = {"idempotency_key": "k-1", "amount": "5000", "channel": "cash", "mode": "normal"}
    first = c.post(url, data)
    assert first.status_code == 302
    assert "/savings/receipts/" in first["Location"]
    assert c.post(url, data)["Location"] == first["Location"]
    assert LoanTransaction.objects.filter(kind="repayment").count() == 1
    assert Receipt.objects.filter(kind="repayment").count() == 1
    page = _text(c.get(f"/credit/loans/{loan.pk}/"))
    assert "5 000 F CFA" in page
    assert 'id="arrears"' in page


def test_payoff_from_the_form_closes_the_loan(world, credit, client_for):
    loan = cotton_loan(world, credit, disburse=True)
    c = client_for("teller_a")
    html = c.get(f"/credit/loans/{loan.pk}/repay/").content.decode()
    total = re.search(r'id="payoff-total" data-amount="(\d+)"', html).group(1)
    r = c.post(f"/credit/loans/{loan.pk}/repay/", {"idempotency_key": "p1", "amount": total,
                                                   "channel": "cash", "mode": "payoff"})
    assert r.status_code == 302
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.CLOSED


def test_rescheduling_form(world, credit, client_for):
    loan = cotton_loan(world, credit, disburse=True)
    c = client_for("manager_a")
    url = f"/credit/loans/{loan.pk}/reschedule/"
    assert c.get(url).status_code == 200
    r = c.post(url, {"reason": "", "repayments": "4"})
    assert r.status_code == 422
    assert "err-reason" in r.content.decode()
    r = c.post(url, {"reason": "illness", "repayments": "x"})
    assert r.status_code == 422
    assert Loan.objects.get(pk=loan.pk).schedule_version == 1
    r = c.post(url, {"reason": "illness", "note": "Paludisme", "repayments": "6"})
    assert r.status_code == 302
    loan.refresh_from_db()
    assert (loan.schedule_version, loan.restructured) == (2, True)
    page = _text(c.get(f"/credit/loans/{loan.pk}/"))
    assert page.count('id="inst-') == 6
    assert "Paludisme" in page


def test_products_list_and_usury_refusal(world, credit, client_for):
    product = credit.products["AGR"]
    assert client_for("manager_a").get(f"/credit/products/{product.pk}/").status_code == 403
    network_admin(world)
    c = client_for("network_admin")
    page = c.get("/credit/products/")
    assert 'id="product-AGR"' in page.content.decode()
    form = c.get(f"/credit/products/{product.pk}/")
    assert form.status_code == 200
    data = {"name": product.name, "min_amount": "25000", "max_amount": "1500000",
            "min_repayments": "6", "max_repayments": "12", "interest_rate": "30",
            "allowed_patterns": ["regular", "crop"], "active": "on"}
    r = c.post(f"/credit/products/{product.pk}/", data)
    assert r.status_code == 422
    html = _text(r)
    assert 'id="err-interest_rate"' in html
    assert "24.00 %" in html
    assert LoanProduct.objects.get(pk=product.pk).interest_rate == product.interest_rate
    r = c.post(f"/credit/products/{product.pk}/", data | {"interest_rate": "15"})
    assert r.status_code == 302
    assert str(LoanProduct.objects.get(pk=product.pk).interest_rate) == "15.000"
    r = c.post("/credit/products/new/", {"code": "", "name": "Nouveau"})
    assert r.status_code == 422
    assert LoanProduct.objects.count() == 3


def test_group_create_and_refusals(world, credit, client_for):
    from tests.credit.conftest import make_borrower

    awa, _ = make_borrower(world, credit.savings_products, first_name="Awa", last_name="Traoré")
    c = client_for("loan_officer_a")
    numbers = f"{member_number(credit.person)}, {member_number(awa)}"
    r = c.post("/credit/groups/", {"name": "Benkadi", "members": "NOPE-1",
                                   "meeting_every_days": "14"})
    assert r.status_code == 422
    assert "err-members" in r.content.decode()
    r = c.post("/credit/groups/", {"name": "Benkadi", "members": numbers,
                                   "meeting_every_days": "200"})
    assert r.status_code == 422
    assert SolidarityGroup.objects.count() == 0
    r = c.post("/credit/groups/", {"name": "Benkadi", "members": numbers,
                                   "leader": member_number(awa), "meeting_every_days": "14",
                                   "kind": "women"})
    assert r.status_code == 302
    group = SolidarityGroup.objects.get()
    assert group.leader == awa
    assert group.members.count() == 2
    assert client_for("teller_b").get(f"/credit/groups/{group.pk}/").status_code == 404
    assert client_for("teller_a").get(f"/credit/groups/{group.pk}/").status_code == 200


def test_collection_sheet_one_submission_idempotent_per_line_results(world, credit,
                                                                     client_for, time_machine):
    group, awa, kadia = women_group_with_loans(world, credit)
    time_machine.move_to(f"{FIRST_MEETING_AFTER.isoformat()} 09:00:00+00:00", tick=False)
    c = client_for("teller_a")
    url = f"/credit/groups/{group.pk}/sheet/"
    assert client_for("teller_b").get(url).status_code == 404
    assert client_for("loan_officer_a").get(url).status_code == 403
    page = c.get(url)
    html = page.content.decode()
    key = re.search(r'name="idempotency_key" value="(\w+)"', html).group(1)
    due = int(re.search(rf'name="repay_{awa.pk}"[^>]*value="(\d+)"', html).group(1))
    assert due > 0
    data = {"idempotency_key": key, "on": FIRST_MEETING_AFTER.isoformat(),
            f"repay_{awa.pk}": str(due), f"save_{awa.pk}": "1000",
            f"repay_{kadia.pk}": str(due), f"save_{credit.person.pk}": "2500"}
    bad = c.post(url, data | {f"save_{kadia.pk}": "-5"})
    assert bad.status_code == 422
    assert CollectionSheet.objects.count() == 0
    assert LoanTransaction.objects.filter(kind="repayment").count() == 0
    r = c.post(url, data)
    assert r.status_code == 302
    sheet = CollectionSheet.objects.get()
    assert (sheet.total_repaid, sheet.total_saved) == (2 * due, 3_500)
    assert all(line["ok"] for line in sheet.lines)
    result = _text(c.get(r["Location"]))
    assert f'id="result-{awa.pk}"' in result
    assert "✔" in result
    # The same form sent again lands on the same sheet: nothing posted twice.
    again = c.post(url, data)
    assert again["Location"] == r["Location"]
    assert CollectionSheet.objects.count() == 1
    assert LoanTransaction.objects.filter(kind="repayment").count() == 2


def test_collection_sheet_shows_a_refused_line(world, credit, client_for, time_machine):
    group, awa, _kadia = women_group_with_loans(world, credit)
    time_machine.move_to(f"{FIRST_MEETING_AFTER.isoformat()} 09:00:00+00:00", tick=False)
    c = client_for("teller_a")
    url = f"/credit/groups/{group.pk}/sheet/"
    # The leader has no group loan: her repayment is refused on its line, the rest is posted.
    r = c.post(url, {"idempotency_key": "sheet-2", "on": FIRST_MEETING_AFTER.isoformat(),
                     f"repay_{credit.person.pk}": "5000", f"save_{awa.pk}": "1000"})
    assert r.status_code == 302
    result = _text(c.get(r["Location"]))
    assert 'id="failed">1<' in result
    assert "✖" in result
    assert CollectionSheet.objects.get().total_saved == 1_000


def test_worksheet_helper_shape():
    assert worksheet_post()["income_1_12"] == "300000"
