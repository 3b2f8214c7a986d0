"""Trainings in a real browser: a caisse manager creates a literacy programme and a session,
enrols a member and a new participant registered on the spot, takes the roll call (one tap per
person, htmx), completes the session and downloads a certificate PDF."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jigi.learning.models import Attendance, Enrolment, TrainingSession
from tests.people.factories import register

pytestmark = pytest.mark.browser


def test_literacy_session_from_planning_to_certificate(world, login, page):
    today = timezone.localdate().isoformat()
    awa = register(world, user="manager_a", first_name="Awa", last_name="Traoré")
    login("manager_a")
    page.click("#nav-learning")
    # A programme of Kondo Jigima.
    page.click("#new-programme")
    page.fill("#code", "ALPHA")
    page.fill("#name", "Alphabétisation en bambara")
    page.select_option("#kind", "literacy")
    page.fill("#min_attendance_pct", "50")
    page.click("#programme-submit")
    expect(page.locator("#programmes")).to_contain_text("Alphabétisation en bambara")
    # A session at caisse A, two meetings, from today to today.
    page.click("#new-session")
    page.fill("#place", "Niono, salle de la caisse")
    page.fill("#trainer", "Moussa Coulibaly")
    page.fill("#starts_on", today)
    page.fill("#ends_on", today)
    page.fill("#meetings", "2")
    page.fill("#capacity", "10")
    page.click("#session-submit")
    expect(page.locator("#session-status")).to_be_visible()
    session = TrainingSession.objects.get()
    # Enrol a member found by name...
    page.fill("#q", "Awa Traoré")
    page.click("#search-form button")
    page.locator("#candidates li", has_text="Awa Traoré").locator(".enrol-button").click()
    expect(page.locator("#participants")).to_contain_text("Awa Traoré")
    # ... and a new participant registered on the spot, with a Bambara name.
    page.fill("#first_name", "Ɲɛnɛba")
    page.fill("#last_name", "Kanté")
    page.select_option("#sex", "F")
    page.fill("#birth_year", "1968")
    page.select_option("#literacy_before", "0")
    page.click("#register-enrol")
    expect(page.locator("#participants")).to_contain_text("Ɲɛnɛba Kanté")
    expect(page.locator("#enrolled-count")).to_have_text("2")
    # Start, then the roll call of meeting 1: one tap per person.
    page.click("#start-session")
    page.click("#roll-call")
    awa_e = Enrolment.objects.get(session=session, person=awa)
    nene = Enrolment.objects.get(session=session, person__first_name="Ɲɛnɛba")
    for e, button in ((awa_e, ".yes"), (nene, ".yes")):
        row = page.locator(f"#roll-{e.pk}")
        with page.expect_response(lambda r: "/roll/1/" in r.url and r.request.method == "POST"):
            row.locator(button).click()
        expect(page.locator(f"#roll-{e.pk}")).to_have_attribute("data-state", "present")
    # Meeting 2: Ɲɛnɛba is absent (still 50 %, enough for this programme).
    page.click(".meetings a >> text='2'")
    # The same rows (same ids) are on meeting 1's page: wait for meeting 2's.
    expect(page.locator(".meetings a[aria-current=page]")).to_have_text("2")
    with page.expect_response(lambda r: "/roll/2/" in r.url and r.request.method == "POST"):
        page.locator(f"#roll-{nene.pk} .no").click()
    expect(page.locator(f"#roll-{nene.pk}")).to_have_attribute("data-state", "absent")
    assert Attendance.objects.filter(enrolment__session=session).count() == 3
    # Completion with the level reached.
    page.click("#back-to-session")
    page.click("#complete-session")
    # all() does not wait: without this the loop may run on no select at all.
    expect(page.locator(".level-after")).to_have_count(2)
    for select in page.locator(".level-after").all():
        select.select_option("2")
    page.click("#complete-submit")
    expect(page.locator("#session-status")).to_have_attribute("class", "badge completed")
    links = page.locator(".certificate-link")
    expect(links).to_have_count(2)
    with page.expect_download() as info:
        page.locator("#participants tr", has_text="Ɲɛnɛba Kanté").locator(
            ".certificate-link").click()
    pdf = open(info.value.path(), "rb").read()  # noqa: PTH123, SIM115
    assert pdf.startswith(b"%PDF-")
    nene.refresh_from_db()
    assert nene.certificate_number.startswith(f"KONDO-CERT-{timezone.localdate().year}-")
    assert info.value.suggested_filename == f"{nene.certificate_number}.pdf"
