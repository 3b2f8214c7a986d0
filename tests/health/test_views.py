"""Health screens without a browser (coverage side): who may open what (a Kondo teller or an
MTC organiser gets 403/404, another mutual's data is a 404), the mutual's page and member
search, enrolment of a family with refusals on the dependant's row, contributions in cash or
from Kondo savings (receipt, double submit posting once, refusals writing nothing), reversal,
and the eligibility check."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jigi.health.models import (
    Beneficiary,
    Contribution,
    Coverage,
    SuspensionPeriod,
)
from jigi.health.selectors import REASON_TEXT
from jigi.health.services.claims import LineIn, claim_submit
from jigi.ledger.models import JournalEntry
from jigi.people.models import Household, HouseholdMember, Person
from jigi.people.services import consent_grant, membership_add
from jigi.savings.services import (
    drawer_open,
    savings_account_open,
    savings_deposit,
    share_purchase,
)
from jigi.savings.setup import kondo_products_seed
from tests.health.conftest import make_coverage, make_family, page_text

_text = page_text


def _claim(health):
    return claim_submit(acting_user=health.users["clinic"], card_number=health.head.card_number,
                        provider_id=health.provider.pk,
                        care_date=health.today - timedelta(days=3),
                        lines=[LineIn("CONS", 1, 1_500)])


# --- who may open what ------------------------------------------------------------------------

LIST_PAGES = ["/health/", "/health/eligibility/", "/health/claims/", "/health/claims/new/",
              "/health/claims/queue/", "/health/batches/", "/health/reinsurance/",
              "/health/prevention/", "/health/indicators/"]


@pytest.mark.parametrize("username", ["teller_a", "organiser", "auditor"])
def test_kondo_and_mtc_staff_are_refused_every_health_page(health, client_for, username):
    claim = _claim(health)
    payment = Contribution.objects.filter(coverage=health.coverage).first()
    m1 = health.world.mutual_1.pk
    c = client_for(username)
    for url in LIST_PAGES:
        assert c.get(url).status_code == 403, url
    assert c.get("/health/eligibility/", {"q": health.head.card_number}).status_code == 403
    for url in (f"/health/mutuals/{m1}/", f"/health/mutuals/{m1}/enrol/",
                f"/health/mutuals/{m1}/simulation/", f"/health/coverages/{health.coverage.pk}/",
                f"/health/contributions/{payment.pk}/receipt/", f"/health/claims/{claim.pk}/"):
        assert c.get(url).status_code == 404, url
    # Nor can they move money or decide a claim by posting directly.
    assert c.post(f"/health/coverages/{health.coverage.pk}/",
                  {"amount": "3300", "idempotency_key": "k1"}).status_code == 404
    assert c.post(f"/health/claims/{claim.pk}/approve/").status_code == 404
    home = _text(c.get("/"))
    assert 'id="nav-health"' not in home
    assert Contribution.objects.filter(coverage=health.coverage).count() == 1


def test_health_roles_see_the_health_link_and_their_tiles(health, client_for):
    home = _text(client_for("mutual_manager").get("/"))
    assert 'id="nav-health"' in home
    assert "/health/claims/queue/" in home
    clinic = _text(client_for("clinic").get("/"))
    assert "/health/eligibility/" in clinic
    assert "/health/claims/new/" in clinic


def test_another_mutual_data_is_a_404(health, client_for):
    payment = Contribution.objects.filter(coverage=health.coverage).first()
    other = client_for("manager_2")
    m1 = health.world.mutual_1.pk
    for url in (f"/health/mutuals/{m1}/", f"/health/mutuals/{m1}/enrol/",
                f"/health/mutuals/{m1}/enrol/{health.family.head.pk}/",
                f"/health/coverages/{health.coverage.pk}/",
                f"/health/contributions/{payment.pk}/receipt/"):
        assert other.get(url).status_code == 404, url
    assert client_for("mutual_manager").get(
        f"/health/coverages/{health.other_coverage.pk}/").status_code == 404
    # Clinic staff check cards; the families' records are not theirs to read.
    clinic = client_for("clinic")
    assert clinic.get(f"/health/mutuals/{m1}/").status_code == 404
    assert clinic.get(f"/health/coverages/{health.coverage.pk}/").status_code == 404
    # Non-numeric or absurd ids are plain 404s, not errors.
    assert client_for("mutual_manager").get("/health/coverages/99999999999999999999/"
                                            ).status_code == 404


# --- the mutual's page ------------------------------------------------------------------------


def test_mutual_page_shows_profile_packages_and_finds_members(health, client_for):
    c = client_for("mutual_manager")
    url = f"/health/mutuals/{health.world.mutual_1.pk}/"
    page = _text(c.get(url))
    assert "Commune IV du District de Bamako" in page
    assert 'id="package-AMV"' in page
    assert "2 500 F CFA" in page  # the card fee
    assert "550 F CFA" in page
    assert 'id="enrol-link"' in page
    number = health.coverage.number
    assert number in page

    def found(q):
        rows = _text(c.get(url, {"q": q}, HTTP_HX_REQUEST="true"))
        assert "<html" not in rows
        return number in rows

    assert found(health.children[0].card_number)
    assert found(health.spouses[1].card_number.lower().replace("-", " "))
    assert found("Traor")
    assert found(health.family.spouses[0].phone)  # a spouse's phone finds the family
    assert not found(health.other_beneficiary.card_number)
    assert not found("Zzz")
    # A claims officer reads the page but does not enrol.
    officer = _text(client_for("claims_officer").get(url))
    assert number in officer
    assert 'id="enrol-link"' not in officer


# --- enrolment --------------------------------------------------------------------------------


def test_enrol_a_polygamous_family_shows_every_card(world, health, client_for):
    family = make_family(world, last_name="Keïta", spouses=2, children=2)
    c = client_for("mutual_manager")
    url = f"/health/mutuals/{world.mutual_1.pk}/enrol/{family.head.pk}/"
    page = _text(c.get(url))
    for p in family.spouses + family.children:
        assert f'id="cover_{p.pk}"' in page
    post = {"action": "enrol", "package": str(health.package.pk),
            "enrolled_on": health.today.isoformat()}
    for p in family.spouses + family.children:
        post[f"cover_{p.pk}"] = "on"
        post[f"rel_{p.pk}"] = "spouse" if p in family.spouses else "child"
    response = c.post(url, post)
    coverage = Coverage.objects.get(member=family.head)
    assert response.status_code == 302
    assert response["Location"] == f"/health/coverages/{coverage.pk}/"
    cards = list(Beneficiary.objects.filter(coverage=coverage).values_list("relation",
                                                                          "card_number"))
    assert sorted(r for r, _c in cards) == ["child", "child", "head", "spouse", "spouse"]
    page = _text(c.get(response["Location"]))
    for _rel, card in cards:
        assert card in page
    # Waiting period: covered from enrolment + 90 days, said in words on the page.
    assert 'id="waiting"' in page
    assert coverage.number in page


def test_child_over_the_age_limit_is_refused_on_his_row_and_nothing_is_written(
        world, health, client_for):
    family = make_family(world, last_name="Sissoko", spouses=1, children=1, too_old=1)
    c = client_for("mutual_manager")
    url = f"/health/mutuals/{world.mutual_1.pk}/enrol/{family.head.pk}/"
    post = {"action": "enrol", "package": str(health.package.pk)}
    for p in family.spouses + family.children + family.too_old:
        post[f"cover_{p.pk}"] = "on"
        post[f"rel_{p.pk}"] = "spouse" if p in family.spouses else "child"
    before = (Coverage.objects.count(), Beneficiary.objects.count(), JournalEntry.objects.count())
    response = c.post(url, post)
    assert response.status_code == 422
    page = _text(response)
    old = family.too_old[0]
    assert f'id="err-dep-{old.pk}"' in page
    assert "18" in page.split(f'id="err-dep-{old.pk}"')[1].split("</span>")[0]
    # The choices come back as they were typed.
    assert f'id="cover_{old.pk}" checked' in page
    assert (Coverage.objects.count(), Beneficiary.objects.count(),
            JournalEntry.objects.count()) == before
    # Unticked, the rest of the family is enrolled.
    del post[f"cover_{old.pk}"]
    assert c.post(url, post).status_code == 302
    assert Beneficiary.objects.filter(coverage__member=family.head).count() == 3


def test_register_the_head_then_a_new_child_then_enrol(world, health, client_for):
    c = client_for("mutual_manager")
    start = f"/health/mutuals/{world.mutual_1.pk}/enrol/"
    assert "Traoré" in _text(c.get(start, {"q": "Traoré"}))
    persons = Person.objects.count()
    bad = c.post(start, {"first_name": "Lassina", "last_name": "", "sex": "M",
                         "birth_year": "1980"})
    assert bad.status_code == 422
    assert Person.objects.count() == persons
    response = c.post(start, {"first_name": "Lassina", "last_name": "Togola", "sex": "M",
                              "birth_year": "1980", "phone": "76 55 44 33"})
    head = Person.objects.get(first_name="Lassina", last_name="Togola")
    url = f"/health/mutuals/{world.mutual_1.pk}/enrol/{head.pk}/"
    assert response.status_code == 302
    assert response["Location"] == url
    added = c.post(url, {"action": "add_member", "relation": "child", "first_name": "Hawa",
                         "last_name": "Togola", "sex": "F", "birth_year": "2019"})
    assert added.status_code == 302
    child = Person.objects.get(first_name="Hawa", last_name="Togola")
    assert HouseholdMember.objects.filter(person=child, relation="child",
                                          household__members__person=head).exists()
    assert Household.objects.filter(members__person=head).count() == 1
    done = c.post(url, {"action": "enrol", "package": str(health.package.pk),
                        f"cover_{child.pk}": "on", f"rel_{child.pk}": "child"})
    assert done.status_code == 302
    assert Beneficiary.objects.filter(coverage__member=head).count() == 2


def test_only_managers_enrol(world, health, client_for):
    family = make_family(world, spouses=0, children=0)
    officer = client_for("claims_officer")
    url = f"/health/mutuals/{world.mutual_1.pk}/enrol/{family.head.pk}/"
    assert officer.get(url).status_code == 403
    assert officer.post(url, {"action": "enrol", "package": str(health.package.pk)}
                        ).status_code == 403
    assert not Coverage.objects.filter(member=family.head).exists()


# --- contributions ----------------------------------------------------------------------------


def _pay(c, coverage, **data):
    return c.post(f"/health/coverages/{coverage.pk}/",
                  {"idempotency_key": "form-1", "channel": "cash"} | data)


def test_coverage_page_shows_beneficiaries_schedule_and_payments(health, client_for):
    page = _text(client_for("mutual_manager").get(f"/health/coverages/{health.coverage.pk}/"))
    for b in health.beneficiaries:
        assert b.card_number in page
    assert page.count('class="state-ok"') >= len(health.beneficiaries)
    assert health.coverage.payments.get().receipt_number in page
    assert 'id="dues"' in page
    assert 'id="pay-form"' in page
    # The child over the age limit was left out of the card.
    assert health.refused_child.full_name not in page.split('id="beneficiaries"')[1].split(
        "</table>")[0]


def test_cash_payment_prints_a_receipt_and_a_double_submit_posts_once(health, client_for):
    c = client_for("mutual_manager")
    entries = JournalEntry.objects.count()
    first = _pay(c, health.coverage, amount="3 300")
    payment = Contribution.objects.filter(coverage=health.coverage).latest("pk")
    assert first.status_code == 302
    assert first["Location"] == f"/health/contributions/{payment.pk}/receipt/"
    again = _pay(c, health.coverage, amount="3 300")
    assert again["Location"] == first["Location"]
    assert Contribution.objects.filter(coverage=health.coverage).count() == 2
    assert JournalEntry.objects.count() == entries + 1
    assert payment.amount == 3_300
    receipt = _text(c.get(first["Location"]))
    assert payment.receipt_number in receipt
    assert "3 300 F CFA" in receipt
    health.coverage.refresh_from_db()
    assert health.coverage.paid_through.isoformat() in receipt


@pytest.mark.parametrize(("amount", "field"), [("12.5", "amount"), ("-300", "amount"),
                                               ("trois mille", "amount"), ("0", "amount")])
def test_bad_amount_comes_back_on_the_field_with_nothing_written(health, client_for, amount,
                                                                 field):
    c = client_for("mutual_manager")
    entries = JournalEntry.objects.count()
    response = _pay(c, health.coverage, amount=amount)
    assert response.status_code == 422
    page = _text(response)
    assert 'id="err-amount"' in page
    assert f'value="{amount}"' in page
    assert Contribution.objects.filter(coverage=health.coverage).count() == 1
    assert JournalEntry.objects.count() == entries


def test_a_payment_dated_in_the_future_is_refused(health, client_for):
    c = client_for("mutual_manager")
    future = (health.today + timedelta(days=3)).isoformat()
    response = _pay(c, health.coverage, amount="3300", paid_on=future)
    assert response.status_code == 422
    assert "err-amount" not in _text(response)
    assert Contribution.objects.filter(coverage=health.coverage).count() == 1


def test_claims_officer_reads_the_coverage_but_does_not_collect(health, client_for):
    c = client_for("claims_officer")
    page = _text(c.get(f"/health/coverages/{health.coverage.pk}/"))
    assert 'id="pay-form"' not in page
    assert _pay(c, health.coverage, amount="3300").status_code == 403
    assert Contribution.objects.filter(coverage=health.coverage).count() == 1


@pytest.fixture
def kondo_account(world, health):
    """The family's head also saves at Kondo caisse A (20,000 F); the mutual recorded his
    consent that Kondo sees his identity."""
    head = health.family.head
    _share, products = kondo_products_seed(organisation=world.orgs.kondo)
    consent_grant(acting_user=world.users["mutual_manager"], person=head,
                  granted_to=world.orgs.kondo, scope="identity", purpose="Compte à la caisse")
    teller = world.users["teller_a"]
    membership_add(acting_user=teller, person=head, unit=world.caisse_a, start_date=health.today)
    drawer_open(acting_user=teller, caisse=world.caisse_a, amount=100_000, on=health.today)
    share_purchase(acting_user=teller, person=head, caisse=world.caisse_a, shares=2,
                   on=health.today)
    account = savings_account_open(acting_user=teller, product=products["EPV"],
                                   caisse=world.caisse_a, person=head, on=health.today)
    savings_deposit(acting_user=teller, account=account, amount=20_000, on=health.today)
    account.refresh_from_db()
    return account


def test_pay_from_kondo_savings_only_with_the_holders_consent(world, health, client_for,
                                                            kondo_account):
    c = client_for("mutual_manager")
    url = f"/health/coverages/{health.coverage.pk}/"
    # No consent to the union yet: the account is not offered and cannot be named.
    assert kondo_account.number not in _text(c.get(url))
    refused = _pay(c, health.coverage, amount="3300", channel="savings",
                   savings_account=str(kondo_account.pk))
    assert refused.status_code == 422
    assert 'id="form-error"' in _text(refused)
    assert Contribution.objects.filter(coverage=health.coverage).count() == 1
    consent_grant(acting_user=world.users["teller_a"], person=health.family.head,
                  granted_to=world.orgs.utm, scope="savings",
                  purpose="Cotisations de la mutuelle prélevées sur l'épargne")
    assert kondo_account.number in _text(c.get(url))
    paid = _pay(c, health.coverage, amount="3300", channel="savings",
                savings_account=str(kondo_account.pk), idempotency_key="form-2")
    assert paid.status_code == 302
    payment = Contribution.objects.filter(coverage=health.coverage).latest("pk")
    assert (payment.channel, payment.amount) == ("savings", 3_300)
    assert payment.savings_transaction_id is not None
    kondo_account.refresh_from_db()
    assert kondo_account.balance == 20_000 - 3_300


def test_reverse_a_payment_with_a_reason(health, client_for):
    c = client_for("mutual_manager")
    _pay(c, health.coverage, amount="3300")
    payment = Contribution.objects.filter(coverage=health.coverage).latest("pk")
    url = f"/health/contributions/{payment.pk}/reverse/"
    no_reason = c.post(url, {"idempotency_key": "rev-1", "reason": ""})
    assert no_reason.status_code == 422
    payment.refresh_from_db()
    assert payment.reversed_by_id is None
    done = c.post(url, {"idempotency_key": "rev-2", "reason": "Erreur de saisie"})
    payment.refresh_from_db()
    assert done.status_code == 302
    assert done["Location"] == f"/health/contributions/{payment.reversed_by_id}/receipt/"
    receipt = _text(c.get(done["Location"]))
    assert payment.receipt_number in receipt
    assert "−3 300 F CFA" in receipt
    assert c.post(url, {"idempotency_key": "rev-3", "reason": "Encore"}).status_code == 409


# --- eligibility ------------------------------------------------------------------------------


def test_clinic_checks_a_card_and_reads_the_copayments(health, client_for):
    c = client_for("clinic")
    page = _text(c.get("/health/eligibility/", {"q": health.spouses[0].card_number}))
    assert 'id="answer"' in page
    assert 'class="answer yes"' in page
    assert health.family.spouses[0].full_name in page
    assert "40 %" in page  # the patient's share of a consultation
    assert "25 %" in page  # and of a complicated delivery


def test_not_covered_says_why_in_words(world, health, client_for):
    c = client_for("clinic")
    family = make_family(world, spouses=0, children=0)
    recent = make_coverage(world, family, package=health.package,
                           enrolled_on=health.today - timedelta(days=10),
                           paid_through=health.today)
    waiting = _text(c.get("/health/eligibility/", {"q": recent.beneficiaries[0].card_number}))
    assert 'class="answer no"' in waiting
    until = (health.today + timedelta(days=80)).isoformat()
    assert until in waiting.split('id="why"')[1].split("</div>")[0]
    SuspensionPeriod.objects.create(coverage=health.coverage,
                                    start=health.today - timedelta(days=5))
    suspended = _text(c.get("/health/eligibility/", {"q": health.head.card_number}))
    why = suspended.split('id="why"')[1].split("</div>")[0]
    assert str(REASON_TEXT["SUSPENDED_ARREARS"]).split(":")[0] in why
    # A mutual's manager checking another mutual's card learns only that it is not hers.
    other = _text(client_for("mutual_manager").get(
        "/health/eligibility/", {"q": health.other_beneficiary.card_number}))
    assert 'class="answer no"' in other
    assert str(REASON_TEXT["NOT_A_BENEFICIARY"]) in other
    assert health.other_family.head.full_name not in other


def test_phone_finds_the_family_and_typing_errors_are_shown_on_the_field(health, client_for):
    c = client_for("clinic")
    phone = health.family.head.phone
    page = _text(c.get("/health/eligibility/", {"q": phone}))
    for b in health.beneficiaries:
        assert f'id="match-{b.pk}"' in page
    good = health.head.card_number
    typo = good[:-1] + str((int(good[-1]) + 1) % 10)
    response = c.get("/health/eligibility/", {"q": typo})
    assert response.status_code == 422
    assert 'id="err-q"' in _text(response)


def test_clinic_staff_without_a_provider_are_told_why(health, client_for):
    response = client_for("clinic_2").get("/health/eligibility/",
                                          {"q": health.head.card_number})
    assert response.status_code == 403
    assert 'id="form-error"' in _text(response)
    assert 'id="answer"' not in _text(response)


# --- changes to the family --------------------------------------------------------------------


def test_a_newborn_is_added_and_a_spouse_taken_off_the_card(world, health, client_for):
    from jigi.people.services import household_member_add
    from tests.people.factories import register

    baby = register(world, unit=world.mutual_1, user="mutual_manager", first_name="Assitan",
                    last_name="Traoré", sex="F", birth_year=2026, village="Hamdallaye",
                    cercle="Commune IV", region="Bamako")
    household_member_add(acting_user=health.users["mutual_manager"],
                         household=health.family.household, person=baby, relation="child")
    c = client_for("mutual_manager")
    url = f"/health/coverages/{health.coverage.pk}/"
    page = _text(c.get(url))
    assert f'<option value="{baby.pk}">' in page.split('id="add-beneficiary"')[1]
    family = f"{url}family/"
    added = c.post(family, {"action": "add", "person": str(baby.pk), "relation": "child"})
    assert added.status_code == 302
    card = Beneficiary.objects.get(coverage=health.coverage, person=baby).card_number
    assert card in _text(c.get(url))
    # Taking the member himself off is refused; a spouse needs a reason.
    head = health.head
    refused = c.post(family, {"action": "remove", "beneficiary": str(head.pk),
                              "reason": "Erreur"})
    assert refused.status_code == 409
    no_reason = c.post(family, {"action": "remove",
                                "beneficiary": str(health.spouses[1].pk)})
    assert no_reason.status_code == 422
    assert Beneficiary.objects.get(pk=health.spouses[1].pk).until is None
    done = c.post(family, {"action": "remove", "beneficiary": str(health.spouses[1].pk),
                           "reason": "Divorce"})
    assert done.status_code == 302
    assert Beneficiary.objects.get(pk=health.spouses[1].pk).until == health.today
    # Another mutual's beneficiary is not found through this coverage.
    assert c.post(family, {"action": "remove", "beneficiary": str(
        health.other_beneficiary.pk), "reason": "x"}).status_code == 404
    # Renewal opens 60 days before its date: too early now, a conflict.
    assert c.post(family, {"action": "renew"}).status_code == 409
    assert client_for("claims_officer").post(family, {"action": "renew"}).status_code == 403
    ended = c.post(family, {"action": "end", "reason": "La famille quitte Bamako"})
    assert ended.status_code == 302
    health.coverage.refresh_from_db()
    assert health.coverage.status == "ended"
    assert 'id="pay-form"' not in _text(c.get(url))
