"""MTC cases in a real browser: a case worker opens the case assigned to her from the list,
records a mediation with the employer that recovered 45,000 F, closes the case as "wages
recovered" and sees the outcome, without reloading the page (htmx); on the way she tells the
member by SMS, which the timeline shows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.movement.services.cases import case_assign, case_intake
from jigi.people.models import Person
from tests.movement.conftest import make_member, mtc  # noqa: F401

pytestmark = pytest.mark.browser


def test_mediation_recovers_wages_and_the_case_closes_with_its_outcome(mtc, page, login):  # noqa: F811
    profile = make_member(mtc)
    Person.objects.filter(pk=profile.person_id).update(phone="+22376120001")
    SmsPreference.objects.create(person=profile.person, opt_in=True, language="fr")
    case = case_intake(acting_user=mtc.users["organiser"], person=profile.person,
                       category="unpaid_wages", intake_channel="in_person",
                       summary="Trois mois de salaire impayés", employer_name="Famille Keïta")
    case_assign(acting_user=mtc.users["movement_admin"], case=case,
                lead=mtc.users["case_worker_1"])
    login("case_worker_1")
    page.goto("/movement/cases/")
    page.click(f"text={case.number}")
    expect(page.locator("#case-number")).to_have_text(case.number)
    expect(page.locator("#case-summary")).to_contain_text("Trois mois")

    page.select_option("#kind", "mediation")
    page.fill("#amount_recovered", "45 000")
    page.fill("#note", "L'employeur paie les trois mois")
    with page.expect_response(lambda r: r.url.endswith(f"/movement/cases/{case.pk}/actions/")
                              and r.status == 200):
        page.click("#action-submit")
    expect(page.locator("#timeline li[data-kind=mediation]")).to_contain_text("45")

    # She tells the member by SMS (the member agreed to SMS, in French).
    page.fill("#sms-text", "Votre employeur paie les trois mois vendredi.")
    with page.expect_response(lambda r: r.url.endswith(f"/movement/cases/{case.pk}/sms/")
                              and r.status == 200):
        page.click("#sms-submit")
    expect(page.locator("#timeline li[data-kind=sms]")).to_contain_text("vendredi")
    sms = OutboundMessage.objects.get(purpose="case_message")
    assert sms.text.endswith("Votre employeur paie les trois mois vendredi.")

    page.select_option("#outcome", "wages_recovered")
    with page.expect_response(lambda r: r.url.endswith(f"/movement/cases/{case.pk}/close/")
                              and r.status == 200):
        page.click("#close-submit")
    expect(page.locator("#case-outcome")).to_be_visible()
    expect(page.locator("#wages-recovered")).to_contain_text("45")
    expect(page.locator("#wages-recovered")).to_contain_text("000")
    expect(page.locator("#close-form")).to_have_count(0)
    case.refresh_from_db()
    assert case.status == "closed"
    assert case.outcome == "wages_recovered"
    assert case.wages_recovered == 45_000
