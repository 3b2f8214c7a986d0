"""UTM set-up screens in a real browser (headless Debian chromium), on the `health` fixture of
tests/health/conftest.py at 20 November 2026: a provider registered with a convention and its
tariff imported from a CSV file (one bad line refused, then fixed in place), a package rule
changed, the mutual's board picked from the registry, and the group enrolment of two domestic
workers of MTC's section (one consent recorded by the section on the person's page)."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from jigi.health.models import (
    BenefitRule,
    Convention,
    Coverage,
    GroupAgreement,
    MutualProfile,
    Provider,
    TariffItem,
)
from jigi.people.models import Consent
from jigi.people.services import consent_grant
from tests.health.conftest import health, person, today  # noqa: F401
from tests.people.factories import register

pytestmark = pytest.mark.browser

TARIFF = ("code;label;kind;group;price;max_quantity\n"
          "CONS;Consultation curative;act;consultation;1500;1\n"
          "ECHO;Échographie obstétricale;act;antenatal;7 500;1\n"
          "RX;Radiographie du thorax;act;imagerie;12000;1\n"
          "PARA;Paracétamol 500 mg;médicament;drugs;25;30\n")


def _switch(page, login, username):
    page.context.clear_cookies()
    return login(username)


def test_a_provider_with_a_convention_and_its_tariff_from_a_csv_file(
        health, login, page, tmp_path):  # noqa: F811
    login("union_admin")
    page.goto("/health/")
    page.click("#tile-providers")
    expect(page.locator("#providers")).to_contain_text(health.provider.name)
    page.click("#provider-new-link")
    page.fill("#code", "CSREF-K4")
    page.fill("#name", "CSRef de la Commune IV")
    page.select_option("#kind", "csref")
    page.fill("#region", "Bamako")
    page.fill("#cercle", "Commune IV")
    page.fill("#village", "Lafiabougou")
    page.fill("#phone", "20 29 00 00")
    page.click("#provider-submit")
    expect(page.locator("#provider-info")).to_contain_text("Lafiabougou")
    provider = Provider.objects.get(code="CSREF-K4")
    assert provider.phone == "+22320290000"
    # Her clinic staff: clinic_2 linked to it.
    page.select_option("#staff-user", str(health.users["clinic_2"].pk))
    page.click("#staff-submit")
    expect(page.locator("#staff")).to_contain_text("clinic_2")
    # A union-wide convention.
    page.click("#convention-new-link")
    page.fill("#reference", "UTM-CSREF-2026")
    page.fill("#valid_from", "2026-11-01")
    page.fill("#tolerance_pct", "40")
    page.click("#convention-submit")
    expect(page.locator("#convention-info")).to_contain_text(provider.name)
    convention = Convention.objects.get(reference="UTM-CSREF-2026")
    # The CSV file with an unknown service group on line 4: refused, nothing imported.
    csv_file = tmp_path / "tarif-csref.csv"
    csv_file.write_bytes(TARIFF.encode("cp1252"))
    page.set_input_files("#tariff_file", str(csv_file))
    page.click("#import-submit")
    expect(page.locator("#problem-line-4")).to_contain_text("imagerie")
    expect(page.locator("#import-problems tbody tr")).to_have_count(1)
    assert not TariffItem.objects.filter(convention=convention).exists()
    # The lines came back in the box: fix line 4 there and import again.
    box = page.locator("#tariff_text")
    expect(box).to_have_value(TARIFF)
    box.fill(box.input_value().replace("imagerie", "lab"))
    page.click("#import-submit")
    expect(page.locator("ul.messages")).to_contain_text(
        _("Tariff imported: %(added)s added, %(changed)s changed, %(same)s unchanged.")
        % {"added": 4, "changed": 0, "same": 0})
    table = page.locator("#tariff")
    for code in ("CONS", "ECHO", "RX", "PARA"):
        expect(table.locator(f"#item-{code}")).to_be_visible()
    expect(table.locator("#item-ECHO")).to_contain_text("7\u202f500")
    items = {i.code: i for i in TariffItem.objects.filter(convention=convention)}
    assert (items["RX"].group, items["RX"].price) == ("lab", 12_000)
    assert (items["PARA"].kind, items["PARA"].max_quantity) == ("drug", 30)
    # One item changed by hand: the X-ray now 11 000 F.
    page.click("#edit-RX")
    expect(page.locator("#item-code")).to_have_value("RX")
    page.fill("#item-price", "11 000")
    page.click("#item-submit")
    expect(page.locator("#item-RX")).to_contain_text("11\u202f000")
    assert TariffItem.objects.get(convention=convention, code="RX").price == 11_000


def test_edit_a_package_rule(health, login, page):  # noqa: F811
    login("union_admin")
    page.goto("/health/packages/")
    page.click(f"#package-edit-{health.package.code}")
    expect(page.locator("#in-use")).to_be_visible()
    share = page.locator("#share_consultation")
    expect(share).to_have_value("60")
    # A share above 100 % is refused on its row; nothing changes.
    share.fill("120")
    page.click("#package-submit")
    expect(page.locator("#err-share-consultation")).to_be_visible()
    expect(page.locator("#rule-row-consultation")).to_have_class("row-bad")
    assert BenefitRule.objects.get(package=health.package,
                                   group="consultation").mutual_share_pct == 60
    page.fill("#share_consultation", "70")
    page.fill("#year_consultation", "30 000")
    page.click("#package-submit")
    row = page.locator(f"#rule-{health.package.pk}-consultation")
    expect(row).to_contain_text("70 %")
    expect(row).to_contain_text("30 %")  # the co-payment
    expect(row).to_contain_text("30\u202f000")
    rule = BenefitRule.objects.get(package=health.package, group="consultation")
    assert (rule.mutual_share_pct, rule.ceiling_per_year) == (70, 30_000)
    # The other groups kept their rules.
    assert BenefitRule.objects.filter(package=health.package).count() == len(health.rules)


def test_the_board_picked_from_the_registry(world, health, login, page):  # noqa: F811
    treasurer = person(world, first_name="Aminata", last_name="Coulibaly", sex="F",
                       birth_year=1975)
    login("mutual_manager")
    page.goto(f"/health/mutuals/{world.mutual_1.pk}/")
    page.click("#profile-edit-link")
    page.fill("#target_population", "15000")
    page.fill("#board_q", "Coulibaly")
    # Enter in the search box searches; it does not send the profile.
    with page.expect_response(lambda r: "board_q=" in r.url and r.status == 200):
        page.press("#board_q", "Enter")
    expect(page.locator(f"#add-person-{treasurer.pk}")).to_be_checked()
    assert MutualProfile.objects.get(unit=world.mutual_1).target_population == 12_000
    page.select_option("#add_office", "treasurer")
    page.fill("#add_since", "2026-03-14")
    page.click("#profile-submit")
    expect(page.locator("#profile")).to_contain_text("15000")
    profile = MutualProfile.objects.get(unit=world.mutual_1)
    assert profile.board == [{"person_id": treasurer.pk, "office": "treasurer",
                              "since": "2026-03-14"}]


def test_group_enrolment_of_two_domestic_workers(world, health, login, page):  # noqa: F811
    def worker(first, last, year):
        return register(world, unit=world.section_domestic, user="organiser",
                        first_name=first, last_name=last, sex="F", birth_year=year,
                        village="Badalabougou", cercle="Commune V", region="Bamako")

    sitan = worker("Sitan", "Samaké", 1998)
    bintou = worker("Bintou", "Dao", 2001)
    worker("Fanta", "Keïta", 1995)  # has not consented: the union does not see her
    consent_grant(acting_user=world.users["organiser"], person=sitan, granted_to=world.orgs.utm,
                  scope="identity", purpose="Adhésion à la mutuelle par la section")
    # The section's organiser records Bintou's consent on her page, as she says it.
    login("organiser")
    page.goto(f"/people/{bintou.pk}/")
    page.select_option("#id_granted_to", str(world.orgs.utm.pk))
    page.select_option("#id_scope", "identity")
    page.fill("#id_purpose", "Adhésion à la mutuelle par la section")
    page.click("#consent-form button[type=submit]")
    expect(page.locator("#consents")).to_contain_text(world.orgs.utm.name)
    assert Consent.objects.filter(person=bintou, granted_to=world.orgs.utm).exists()

    _switch(page, login, "mutual_manager")
    page.goto("/health/")
    page.click("#tile-agreements")
    page.fill("#name", "Travailleuses domestiques de S-DOM")
    page.select_option("#mutual", str(world.mutual_1.pk))
    page.select_option("#package", str(health.package.pk))
    page.select_option("#partner", str(world.orgs.mtc.pk))
    page.select_option("#partner_unit", str(world.section_domestic.pk))
    page.fill("#signed_on", "2026-11-15")
    page.check("#waiting_waived")
    page.click("#agreement-submit")
    expect(page.locator("#agreement-info")).to_contain_text(world.section_domestic.name)
    agreement = GroupAgreement.objects.get()
    expect(page.locator("#hidden-members")).to_contain_text("1")
    expect(page.locator("#group-form")).not_to_contain_text("Fanta")
    page.check(f"#pick-{sitan.pk}")
    page.check(f"#pick-{bintou.pk}")
    page.click("#group-submit")
    results = page.locator("#results")
    expect(results.locator(f"#result-{sitan.pk}")).to_have_class("row-ok")
    expect(results.locator(f"#result-{bintou.pk}")).to_have_class("row-ok")
    covs = {c.member_id: c for c in Coverage.objects.filter(agreement=agreement)}
    assert set(covs) == {sitan.pk, bintou.pk}
    for p in (sitan, bintou):
        card = covs[p.pk].beneficiaries.get().card_number
        expect(results.locator(f"#result-{p.pk}")).to_contain_text(card)
        expect(page.locator("#agreement-coverages")).to_contain_text(card)
        # The waiting period is waived by the agreement: covered from the day enrolled.
        assert covs[p.pk].covered_from == health.today
    # Sent again, Sitan is refused on her row with the reason; nobody is enrolled twice.
    page.check(f"#pick-{sitan.pk}")
    page.click("#group-submit")
    expect(page.locator(f"#result-{sitan.pk}")).to_have_class("row-bad")
    assert Coverage.objects.filter(member=sitan).count() == 1
