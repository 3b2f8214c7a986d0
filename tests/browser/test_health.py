"""UTM health screens in a real browser (headless Debian chromium), on the `health` fixture of
tests/health/conftest.py (mutual M01, the AMV package, the CSCom de Hamdallaye and its tariff,
a polygamous family covered and paid up), at 20 November 2026: enrolment of a family,
contribution payment, eligibility check at a clinic, claim entry with an automatic rejection
explained, review and approval, payment batch, reinsurance statement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from jigi.health.models import (
    Beneficiary,
    Claim,
    ClaimStatus,
    Contribution,
    Coverage,
    PaymentBatch,
    ReinsuranceStatement,
)
from jigi.health.selectors import REASON_TEXT
from jigi.health.selectors_claims import AUTOMATIC_REASONS, MANUAL_REASONS
from jigi.health.services.claims import LineIn, claim_approve, claim_submit
from jigi.health.services.reinsurance import treaty_create
from tests.health.conftest import health, make_coverage, make_family, today  # noqa: F401

pytestmark = pytest.mark.browser


def _nbsp(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _switch(page, login, username):
    page.context.clear_cookies()
    return login(username)


def _submit(health, *lines, ben=None, user="clinic"):  # noqa: F811
    return claim_submit(acting_user=health.users[user],
                        card_number=(ben or health.head).card_number,
                        provider_id=health.provider.pk,
                        care_date=health.today - timedelta(days=3), lines=list(lines))


def test_enrolment_of_a_polygamous_family(world, health, login, page):  # noqa: F811
    family = make_family(world, last_name="Konaté", spouses=2, children=1, too_old=1)
    login("mutual_manager")
    page.click("#nav-health")
    page.click(f"#mutual-{world.mutual_1.pk}")
    page.click("#enrol-link")
    page.fill("#q", family.head.full_name)
    page.click("#find-head")
    page.click(f"#choose-{family.head.pk}")
    expect(page.locator("#dependants")).to_contain_text(family.spouses[1].full_name)
    # Every member of the household is offered, the son over the age limit too: refused on
    # his row, and nothing is enrolled.
    old = family.too_old[0]
    expect(page.locator(f"#cover_{old.pk}")).to_be_checked()
    page.click("#enrol-submit")
    expect(page.locator(f"#err-dep-{old.pk}")).to_contain_text("18")
    assert not Coverage.objects.filter(member=family.head).exists()
    page.uncheck(f"#cover_{old.pk}")
    page.click("#enrol-submit")
    expect(page.locator("#beneficiaries")).to_be_visible()
    coverage = Coverage.objects.get(member=family.head)
    assert page.url.endswith(f"/health/coverages/{coverage.pk}/")
    cards = list(Beneficiary.objects.filter(coverage=coverage).order_by("pk"))
    assert [b.relation for b in cards] == ["head", "spouse", "spouse", "child"]
    table = page.locator("#beneficiaries")
    for b in cards:
        expect(table).to_contain_text(b.card_number)
    expect(page.locator("#waiting")).to_be_visible()
    expect(page.locator("ul.messages")).to_contain_text(cards[1].card_number)


def test_contribution_payment_with_a_printable_receipt(health, login, page):  # noqa: F811
    login("mutual_manager")
    page.goto(f"/health/coverages/{health.coverage.pk}/")
    expect(page.locator("#owed")).to_have_text("0\u00a0F\u00a0CFA")
    page.fill("#amount", "3 300")
    page.select_option("#channel", "cash")
    page.click("#pay-submit")
    expect(page.locator("#receipt-amount")).to_be_visible()
    payment = Contribution.objects.filter(coverage=health.coverage).latest("pk")
    assert page.url.endswith(f"/health/contributions/{payment.pk}/receipt/")
    assert _nbsp(page.locator("#receipt-amount").inner_text()) == "3 300 F CFA"
    assert page.locator("#receipt-number").inner_text() == payment.receipt_number
    # December 2026 is paid in advance for the six beneficiaries (6 x 550 F).
    assert page.locator("#receipt-paid-through").inner_text() == "2026-12-31"
    page.click("#back-to-coverage")
    expect(page.locator("#payments")).to_contain_text(payment.receipt_number)
    assert payment.amount == 3_300
    assert payment.channel == "cash"


def test_eligibility_check_at_the_clinic_on_a_phone(world, health, login, page):  # noqa: F811
    page.set_viewport_size({"width": 360, "height": 740})
    recent = make_coverage(world, make_family(world, spouses=0, children=0),
                           package=health.package, enrolled_on=health.today - timedelta(days=10),
                           paid_through=health.today)
    login("clinic")
    page.goto("/health/eligibility/")
    page.fill("#q", health.spouses[1].card_number)
    page.click("#check")
    expect(page.locator("#verdict")).to_contain_text("✔")
    expect(page.locator("#answer")).to_have_class("answer yes")
    match = page.locator(f"#match-{health.spouses[1].pk}")
    expect(match).to_contain_text(health.family.spouses[1].full_name)
    expect(match.locator("table.copay")).to_contain_text("40 %")
    # A family still in its waiting period: red, with the date in words.
    page.fill("#q", recent.beneficiaries[0].card_number)
    page.click("#check")
    expect(page.locator("#answer")).to_have_class("answer no")
    until = recent.coverage.covered_from.isoformat()
    expect(page.locator("#why")).to_contain_text(until)
    assert str(REASON_TEXT["WAITING_PERIOD"]).split(":")[0] in page.locator("#why").inner_text()
    # The big answer fits the phone's width.
    box = page.locator("#answer").bounding_box()
    assert box is not None
    assert box["width"] <= 360


def test_claim_entry_with_an_automatic_rejection_explained(health, login, page):  # noqa: F811
    health.package.exclusions = ["AMOX"]
    health.package.save()
    login("clinic")
    page.click("#tiles a[href='/health/claims/new/']")
    # Her centre is chosen for her; choosing a tariff code fills in the agreed price.
    expect(page.locator("#provider_id")).to_have_value(str(health.provider.pk))
    page.fill("#card_number", health.children[0].card_number)
    page.fill("#item_1", "CONS")
    expect(page.locator("#price_1")).to_have_value("1500")
    expect(page.locator("#qty_1")).to_have_value("1")
    page.fill("#item_2", "AMOX")
    page.fill("#qty_2", "10")
    expect(page.locator("#price_2")).to_have_value("50")
    page.click("#claim-submit")
    expect(page.locator("#claim-lines")).to_be_visible()
    claim = Claim.objects.get()
    assert page.url.endswith(f"/health/claims/{claim.pk}/")
    line = page.locator("#line-2")
    expect(line).to_have_attribute("data-status", "rejected")
    expect(line.locator(".reason[data-code=EXCLUDED]")).to_have_text(
        str(AUTOMATIC_REASONS["EXCLUDED"]))
    expect(page.locator("#line-1")).to_have_attribute("data-status", "accepted")
    # The consultation is paid at 60 %: 900 F by the mutual, 600 F by the family.
    assert _nbsp(page.locator("#mutual-share").inner_text()) == "900 F CFA"
    assert _nbsp(page.locator("#copay").inner_text()) == "600 F CFA"
    assert claim.status == ClaimStatus.VALUED


def test_review_and_approval(health, login, page):  # noqa: F811
    flagged = _submit(health, LineIn("CONS", 1, 1_500), LineIn("NFS", 1, 6_000))
    login("claims_officer")
    page.goto("/health/claims/queue/")
    row = page.locator(f"#review-{flagged.pk}")
    expect(row).to_contain_text(str(AUTOMATIC_REASONS["PRICE_FAR_ABOVE_TARIFF"]))
    page.click(f"#open-{flagged.pk}")
    expect(page.locator("#review-form")).to_be_visible()
    page.check("#action_2_reduce")
    page.select_option("#reason_2", "PRICE_NOT_JUSTIFIED")
    page.fill("#price_2", "2000")
    page.click("#review-submit")
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "valued")
    expect(page.locator("#line-2")).to_contain_text(str(MANUAL_REASONS["PRICE_NOT_JUSTIFIED"]))
    page.click("#approve-submit")
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "approved")
    expect(page.locator("#history")).to_contain_text(str(ClaimStatus.APPROVED.label))
    flagged.refresh_from_db()
    assert flagged.status == ClaimStatus.APPROVED
    # 1,500 F consultation + 2,000 F blood count, 60 % paid by the mutual.
    assert flagged.mutual_share == 2_100
    assert flagged.decided_by.username == "claims_officer"


def test_payment_batch_prepared_approved_and_paid(health, login, page):  # noqa: F811
    claims = [_submit(health, LineIn("CONS", 1, 1_500)),
              _submit(health, LineIn("GE", 1, 1_000), ben=health.spouses[0])]
    for claim in claims:
        claim_approve(acting_user=health.users["claims_officer"], claim=claim)
    login("mutual_manager")
    page.goto("/health/batches/")
    expect(page.locator("#waiting")).to_contain_text(health.provider.name)
    page.select_option("#provider_id", str(health.provider.pk))
    page.click("#prepare-submit")
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "open")
    batch = PaymentBatch.objects.get()
    assert _nbsp(page.locator("#batch-total").inner_text()) == "1 500 F CFA"
    expect(page.locator("#batch-claims")).to_contain_text(claims[1].number)
    page.click("#approve-batch")
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "approved")
    expect(page.locator("#entries")).to_contain_text("601")
    page.select_option("#paid_from", "57")
    page.click("#pay-batch")
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "paid")
    expect(page.locator("#entries .entry")).to_have_count(2)
    batch.refresh_from_db()
    assert (batch.status, batch.total, batch.paid_from) == ("paid", 1_500, "57")
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.PAID}


def test_reinsurance_statement_and_simulation(health, login, page):  # noqa: F811
    treaty = treaty_create(acting_user=health.users["union_admin"],
                           mutual=health.world.mutual_1, reference="RE-M01-2026",
                           valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31),
                           terms={"cession_bp": 1_000, "xol_priority": 50_000,
                                  "stop_loss_attachment_bp": 8_000})
    login("union_admin")
    page.goto("/health/reinsurance/")
    page.click(f"#treaty-{treaty.pk}")
    expect(page.locator("#terms")).to_contain_text("10 %")
    page.select_option("#year", "2026")
    page.select_option("#quarter", "2")
    page.click("#settle-submit")
    expect(page.locator("#statement-balance")).to_be_visible()
    st = ReinsuranceStatement.objects.get()
    assert (st.year, st.quarter) == (2026, 2)
    expect(page.locator("#fig-contributions")).to_be_visible()
    # The families paid their contributions in May for the months to come: a tenth is ceded.
    assert st.figures["contributions"] > 0
    assert st.figures["premiums"] == st.figures["contributions"] // 10
    assert st.balance == st.figures["premiums"]
    assert _nbsp(page.locator("#statement-balance").inner_text()).endswith("F CFA")
    page.click(f"a[href='/health/reinsurance/treaties/{treaty.pk}/']")
    expect(page.locator("#statements")).to_contain_text("2026")
    page.click("#simulation-link")
    expect(page.locator("#chart rect.bar-with")).to_have_count(4)
    expect(page.locator("#year-with")).to_be_visible()
