"""Review fixes on the members and dues code: each test failed before its fix."""

from __future__ import annotations

import re

from tests.movement.conftest import make_member


def test_member_page_title_is_her_name_only(mtc, client_for):
    # The title block was left open around a copy of the officer's form: the page's <title>
    # carried the form's markup as text.
    p = make_member(mtc)
    html = client_for("movement_admin").get(f"/movement/members/{p.pk}/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<" not in title
    assert p.person.first_name in title
    assert html.count('id="officer-form"') == 1


def test_dues_statement_reads_the_allocations_in_one_query(mtc, client_for):
    # Each payment of the statement read its allocations with a query of its own (N+1).
    from datetime import date

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jigi.movement.services import dues

    p = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    cl = client_for("organiser")

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            r = cl.get(f"/api/v1/movement/members/{p.pk}/dues")
        assert r.status_code == 200
        assert all(pay["allocations"] for pay in r.json()["payments"])
        return len(r.json()["payments"]), len(ctx.captured_queries)

    dues.dues_pay(acting_user=mtc.users["organiser"], profile=p, amount=100, channel="cash")
    rows, few = count()
    for _ in range(3):
        dues.dues_pay(acting_user=mtc.users["organiser"], profile=p, amount=100, channel="cash")
    more_rows, many = count()
    assert (rows, more_rows) == (1, 4)
    assert many == few


def test_membership_cannot_end_before_dues_already_charged(mtc):
    # Ending it on a past day left the charges made after that day open: she owed dues for
    # months after she had left, with nothing to show it.
    from datetime import date

    import pytest

    from jigi.core.errors import ApplicationError
    from jigi.movement.services import dues
    from jigi.movement.services.members import member_end
    from jigi.people.models import Membership

    p = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))  # Sept, Oct, Nov
    with pytest.raises(ApplicationError) as exc:
        member_end(acting_user=mtc.users["movement_admin"], profile=p, reason="Départ",
                   on=date(2026, 10, 15))
    assert exc.value.fields.keys() == {"on"}
    assert Membership.objects.get(pk=p.membership_id).status != "ended"
    member_end(acting_user=mtc.users["movement_admin"], profile=p, reason="Départ",
               on=date(2026, 11, 1))
    assert Membership.objects.get(pk=p.membership_id).end_date == date(2026, 11, 1)


def test_record_fields_cleaned_by_the_core_helpers(mtc):
    # The members service had its own copies of core.cleaning's text and whole-number rules.
    import pytest

    from jigi.core.errors import ApplicationError
    from jigi.movement.services.members import clean_record

    with pytest.raises(ApplicationError) as exc:
        clean_record("domestic", {"employer_name": "  ", "district": "a\x00", "daily_hours": True,
                                  "weekly_rest_half_days": 15})
    assert exc.value.fields.keys() == {"employer_name", "district", "daily_hours",
                                       "weekly_rest_half_days"}
    assert clean_record("domestic", {"employer_name": " Famille Sow ", "district": "Sogoniko",
                                     "daily_hours": 10}) == {
        "employer_name": "Famille Sow", "district": "Sogoniko", "daily_hours": 10}


def test_section_summary_sums_live_members_arrears(mtc):
    # The sum moved into the database: the figure must stay the live members' arrears.
    from datetime import date

    from jigi.movement import selectors
    from jigi.movement.services import dues
    from jigi.movement.services.members import member_end

    a = make_member(mtc, joined=date(2026, 9, 1))
    make_member(mtc, joined=date(2026, 10, 1))
    gone = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    member_end(acting_user=mtc.users["movement_admin"], profile=gone, reason="Départ",
               on=date(2026, 11, 20))
    dues.dues_pay(acting_user=mtc.users["organiser"], profile=a, amount=100, channel="cash")
    [dom] = [s for s in selectors.section_summaries(mtc.users["movement_admin"])
             if s.section.code == "S-DOM"]
    assert (dom.members, dom.arrears) == (2, 3 * 250 - 100 + 2 * 250)


def test_receipt_lists_the_periods_paid_oldest_first_in_one_query(mtc, client_for):
    # Each line of the receipt read its charge with a query of its own, in no set order.
    from datetime import date

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jigi.movement.services import dues

    p = make_member(mtc, joined=date(2026, 5, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    cl = client_for("organiser")

    def receipt(amount):
        pay = dues.dues_pay(acting_user=mtc.users["organiser"], profile=p, amount=amount,
                            channel="cash").payment
        with CaptureQueriesContext(connection) as ctx:
            html = cl.get(f"/movement/payments/{pay.pk}/").content.decode()
        return html, len(ctx.captured_queries)

    html, one_line = receipt(250)
    assert "05/2026" in html
    html, five_lines = receipt(5 * 250)
    months = [html.index(m) for m in ["06/2026", "07/2026", "08/2026", "09/2026", "10/2026"]]
    assert months == sorted(months)
    assert five_lines == one_line


def test_accrual_api_refuses_a_day_before_the_periods_charged(mtc, client_for):
    # An old as_of made no charge but rewrote every member's standing as of that day.
    import json
    from datetime import date

    from jigi.movement.models import MemberProfile
    from jigi.movement.services import dues

    p = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    before = MemberProfile.objects.get(pk=p.pk)
    assert before.standing == "grace"
    r = client_for("movement_admin").post("/api/v1/movement/dues/accrue",
                                          json.dumps({"as_of": "2026-01-01"}),
                                          content_type="application/json")
    assert r.status_code == 422
    assert r.json()["fields"].keys() == {"as_of"}
    after = MemberProfile.objects.get(pk=p.pk)
    assert (after.standing, after.version) == ("grace", before.version)


def test_each_money_form_of_the_member_page_has_its_own_key(mtc, client_for):
    # The pay form and every "cancel this payment" form carried one key: a page kept open (or
    # shown again by Back) after a payment refused the cancellation as a reused key.
    from datetime import date

    from jigi.movement.services import dues

    p = make_member(mtc, joined=date(2026, 9, 1))
    dues.dues_accrue(organisation=mtc.org, as_of=date(2026, 11, 20))
    pay = dues.dues_pay(acting_user=mtc.users["organiser"], profile=p, amount=250,
                        channel="cash").payment
    cl = client_for("organiser")
    html = cl.get(f"/movement/members/{p.pk}/").content.decode()
    keys = re.findall(r'name="idempotency_key" value="([^"]+)"', html)
    assert len(keys) == 2
    assert len(set(keys)) == 2
    r = cl.post(f"/movement/members/{p.pk}/pay/", {"amount": "250", "channel": "cash",
                                                    "idempotency_key": keys[0]})
    assert r.status_code == 302
    r = cl.post(f"/movement/payments/{pay.pk}/reverse/", {"reason": "Erreur de saisie",
                                                          "idempotency_key": keys[1]})
    assert r.status_code == 302
    assert pay.reversed_by.amount == -250
