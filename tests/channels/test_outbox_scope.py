"""Who reads which SMS in the outbox (access rule 5: a teller sees only her caisse; health data
only health roles): the selector, the web page, the API and `jigi sms outbox --user`; the unit
each money and movement service records on its message; the data migration's fill of the
messages queued before units were recorded.

Personas added to the shared world: network_admin (Kondo, organisation-wide), region_manager
(caisse manager of the Ségou region: caisse A below it, not caisse B), union_admin (UTM,
organisation-wide), mutual_manager_2 (mutual 2), two_hats (teller of caisse A and manager of
mutual 1).
"""

from __future__ import annotations

import importlib
import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from jigi.channels import selectors
from jigi.channels.models import OutboundMessage
from jigi.channels.outbox import message_queue
from jigi.channels.services import receipt_queue as _receipt_queue
from jigi.channels.services import reminders_from_cob, reminders_queue
from jigi.core.errors import Forbidden, NotFound
from jigi.credit.models import Installment, Loan, LoanProduct, LoanStatus
from jigi.orgs.models import Role
from jigi.orgs.services import role_grant
from tests.channels.conftest import AS_OF
from tests.channels.test_receipt_hooks import (  # noqa: F401 - fixtures
    _contribute,
    _opt,
    _repay,
    coverage,
    loan,
)
from tests.conftest import _user
from tests.movement.conftest import make_member, mtc  # noqa: F401 - the mtc fixture

DUE = AS_OF + timedelta(days=3)


def _grant(world, username, organisation, role, unit=None):
    user = world.users.get(username) or _user(username)
    role_grant(user=user, organisation=organisation, role=role, unit=unit)
    world.users[username] = user
    return user


@pytest.fixture
def staff(world):
    orgs = world.orgs
    _grant(world, "network_admin", orgs.kondo, Role.NETWORK_ADMIN)
    _grant(world, "region_manager", orgs.kondo, Role.CAISSE_MANAGER, world.region_segou)
    _grant(world, "union_admin", orgs.utm, Role.UNION_ADMIN)
    _grant(world, "mutual_manager_2", orgs.utm, Role.MUTUAL_MANAGER, world.mutual_2)
    _grant(world, "two_hats", orgs.kondo, Role.TELLER, world.caisse_a)
    _grant(world, "two_hats", orgs.utm, Role.MUTUAL_MANAGER, world.mutual_1)
    return world.users


def _loan(world, person, caisse, number):
    product, _ = LoanProduct.objects.get_or_create(
        organisation=world.orgs.kondo, code="SCOPE",
        defaults={"name": "Test", "min_amount": 10_000, "max_amount": 1_000_000,
                  "interest_rate": Decimal("18")})
    made = Loan.objects.create(
        number=number, product=product, caisse=caisse, person=person,
        status=LoanStatus.ACTIVE, principal=25_000, terms={},
        applied_on=AS_OF - timedelta(days=60), expected_disbursement_on=AS_OF - timedelta(days=50))
    Installment.objects.create(loan=made, number=1, due_on=DUE, principal=25_000, interest=2_500)
    return made


def _receipt(world, member, kind, org, unit, receipt, **values):
    m = _receipt_queue(kind=kind, organisation=org, person=member(), amount=5_000, on=AS_OF,
                       receipt=receipt, ref=f"test:{receipt}",
                       unit_id=unit.pk if unit else None, **values)
    assert m is not None
    return m


@pytest.fixture
def box(world, staff, member):
    """One message of each kind and place; returns them by name."""
    kondo, utm, mtc_org = world.orgs.kondo, world.orgs.utm, world.orgs.mtc
    _loan(world, member(), world.caisse_a, "C001-2026-90001")
    _loan(world, member(), world.caisse_b, "C002-2026-90001")
    assert reminders_queue(as_of=AS_OF) == 2
    reminders = {m.unit_id: m for m in OutboundMessage.objects.filter(
        purpose="instalment_reminder")}
    return {
        "a_receipt": _receipt(world, member, "repayment_receipt", kondo, world.caisse_a, "RA",
                              loan="C001-1", balance=0),
        "b_receipt": _receipt(world, member, "repayment_receipt", kondo, world.caisse_b, "RB",
                              loan="C002-1", balance=0),
        "a_reminder": reminders[world.caisse_a.pk],
        "b_reminder": reminders[world.caisse_b.pk],
        "kondo_org": message_queue(organisation=kondo, phone="+22376000900",
                                   text="Assemblée générale", purpose="campaign_message"),
        # Health data recorded on a caisse (a stray case): a teller still may not read it.
        "a_health": message_queue(organisation=kondo, phone="+22376000901", text="Cotisation",
                                  purpose="contribution_receipt", unit_id=world.caisse_a.pk),
        "m1_receipt": _receipt(world, member, "contribution_receipt", utm, world.mutual_1, "M1",
                               until=AS_OF),
        "m2_receipt": _receipt(world, member, "contribution_receipt", utm, world.mutual_2, "M2",
                               until=AS_OF),
        "utm_org": message_queue(organisation=utm, phone="+22376000902", text="Campagne UTM",
                                 purpose="campaign_message"),
        "mtc_dues": message_queue(organisation=mtc_org, phone="+22376000903",
                                  text="MTC: recu", purpose="dues_receipt",
                                  unit_id=world.section_domestic.pk),
        "mtc_org": message_queue(organisation=mtc_org, phone="+22376000904",
                                 text="MTC: marche", purpose="campaign_message"),
    }


def _seen(box, user) -> set[str]:
    names = {m.pk: name for name, m in box.items()}
    return {names[pk] for pk in selectors.outbox_for_user(user).values_list("pk", flat=True)}


# --- the selector -------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "expected"), [
    ("teller_a", {"a_receipt", "a_reminder"}),
    ("manager_a", {"a_receipt", "a_reminder"}),
    ("loan_officer_a", {"a_receipt", "a_reminder"}),
    ("teller_b", {"b_receipt", "b_reminder"}),
    ("region_manager", {"a_receipt", "a_reminder"}),  # caisse A is in her region, B is not
    ("network_admin", {"a_receipt", "b_receipt", "a_reminder", "b_reminder", "kondo_org"}),
    ("auditor", {"a_receipt", "b_receipt", "a_reminder", "b_reminder", "kondo_org"}),
    ("mutual_manager", {"m1_receipt"}),
    ("mutual_manager_2", {"m2_receipt"}),
    ("union_admin", {"m1_receipt", "m2_receipt", "utm_org"}),
    ("organiser", {"mtc_dues"}),
    ("two_hats", {"a_receipt", "a_reminder", "m1_receipt"}),
])
def test_each_role_reads_the_messages_of_its_units(box, world, username, expected):
    assert _seen(box, world.users[username]) == expected


def test_the_superuser_reads_everything(box, world):
    assert _seen(box, world.users["admin"]) == set(box)


def test_a_kondo_user_never_reads_utm_or_mtc_messages(box, world):
    foreign = {"m1_receipt", "m2_receipt", "utm_org", "mtc_dues", "mtc_org"}
    for username in ("teller_a", "teller_b", "manager_a", "region_manager", "network_admin",
                     "auditor"):
        assert not _seen(box, world.users[username]) & foreign, username


def test_health_messages_only_through_a_health_role(box, world):
    # The stray health message on caisse A: not for caisse A's staff, not for the network's.
    for username in ("teller_a", "manager_a", "network_admin", "auditor", "two_hats"):
        assert "a_health" not in _seen(box, world.users[username]), username


def test_filters_still_apply_within_the_scope(box, world):
    teller = world.users["teller_a"]
    b_phone = box["b_receipt"].phone
    assert not selectors.outbox_for_user(teller, phone=b_phone).exists()
    a_phone = box["a_receipt"].phone
    assert [m.pk for m in selectors.outbox_for_user(teller, phone=a_phone)] == [
        box["a_receipt"].pk]
    assert not selectors.outbox_for_user(teller, status="delivered").exists()


def test_one_message_is_found_in_scope_and_not_found_outside(box, world):
    teller = world.users["teller_a"]
    assert selectors.message_get_for_user(teller, box["a_receipt"].pk) == box["a_receipt"]
    for name in ("b_receipt", "kondo_org", "m1_receipt", "a_health"):
        with pytest.raises(NotFound):
            selectors.message_get_for_user(teller, box[name].pk)
    with pytest.raises(NotFound):
        selectors.message_get_for_user(teller, 2**70)


def test_clinic_staff_and_users_without_a_role_read_no_outbox(box, world, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    for user in (world.users["clinic"], nobody):
        with pytest.raises(Forbidden):
            selectors.outbox_for_user(user)


def test_the_cost_report_stays_per_organisation(box, world):
    orgs = selectors.organisations_for_user(world.users["manager_a"],
                                            roles=selectors.REPORT_ROLES)
    assert orgs == {world.orgs.kondo.pk}
    with pytest.raises(Forbidden):
        selectors.organisations_for_user(world.users["teller_a"], roles=selectors.REPORT_ROLES)


# --- the web page and the API -------------------------------------------------------------------


def test_the_outbox_page_shows_a_teller_her_caisse_only(box, world, client_for):
    r = client_for("teller_a").get(reverse("web:channels_outbox"))
    assert r.status_code == 200
    body = r.content.decode()
    assert box["a_receipt"].text in body
    assert box["a_reminder"].text in body
    assert "KONDO · C001" in body
    for name in ("b_receipt", "b_reminder", "kondo_org", "m1_receipt", "a_health"):
        assert box[name].text not in body, name
    # The htmx search by the other caisse's member's phone finds nothing.
    r = client_for("teller_a").get(reverse("web:channels_outbox"),
                                   {"phone": box["b_receipt"].phone}, HTTP_HX_REQUEST="true")
    assert box["b_receipt"].text not in r.content.decode()
    r = client_for("network_admin").get(reverse("web:channels_outbox"))
    body = r.content.decode()
    for name in ("a_receipt", "b_receipt", "b_reminder", "kondo_org"):
        assert box[name].text in body, name


def test_the_outbox_page_refuses_clinic_staff(box, client_for):
    assert client_for("clinic").get(reverse("web:channels_outbox")).status_code == 403


def test_the_api_lists_a_teller_her_caisse_only_and_404s_the_rest(box, world, client_for):
    teller = client_for("teller_a")
    r = teller.get("/api/v1/channels/sms/outbox?limit=200")
    assert r.status_code == 200
    assert {m["id"] for m in r.json()} == {box["a_receipt"].pk, box["a_reminder"].pk}
    assert {m["unit"] for m in r.json()} == {"C001"}
    r = teller.get(f"/api/v1/channels/sms/outbox/{box['a_receipt'].pk}")
    assert (r.status_code, r.json()["unit"]) == (200, "C001")
    for name in ("b_receipt", "kondo_org", "m1_receipt", "mtc_dues"):
        r = teller.get(f"/api/v1/channels/sms/outbox/{box[name].pk}")
        assert r.status_code == 404, name
        assert r.json()["code"] == "message_not_found"
    r = client_for("network_admin").get("/api/v1/channels/sms/outbox?limit=200")
    ids = {m["id"] for m in r.json()}
    assert {box[n].pk for n in ("a_receipt", "b_receipt", "kondo_org")} <= ids
    org_level = next(m for m in r.json() if m["id"] == box["kondo_org"].pk)
    assert org_level["unit"] is None
    r = client_for("mutual_manager").get("/api/v1/channels/sms/outbox")
    assert [m["id"] for m in r.json()] == [box["m1_receipt"].pk]
    assert client_for("clinic").get("/api/v1/channels/sms/outbox").status_code == 403
    r = client_for("clinic").get(f"/api/v1/channels/sms/outbox/{box['m1_receipt'].pk}")
    assert r.status_code == 403


def test_the_cli_lists_what_the_user_may_read(box, world):
    def run(*args):
        out = StringIO()
        call_command("sms", "outbox", *args, stdout=out)
        return json.loads(out.getvalue())

    assert {m["id"] for m in run("--user", "teller_b", "--limit", "100")} == {
        box["b_receipt"].pk, box["b_reminder"].pk}
    assert len(run("--limit", "100")) == len(box)  # the operator's view: everything
    with pytest.raises(CommandError):
        run("--user", "clinic")
    with pytest.raises(CommandError):
        run("--user", "nobody-here")


# --- the unit each service records --------------------------------------------------------------


def test_a_repayment_receipt_belongs_to_the_loans_caisse(world, loan):  # noqa: F811
    _opt(loan.person, True)
    _repay(world, loan, 10_000)
    m = OutboundMessage.objects.get(purpose="repayment_receipt")
    assert m.unit_id == world.caisse_a.pk
    assert _seen({"r": m}, world.users["teller_a"]) == {"r"}
    assert not selectors.outbox_for_user(world.users["teller_b"]).filter(pk=m.pk).exists()


def test_a_contribution_receipt_belongs_to_the_coverages_mutual(world, coverage):  # noqa: F811
    _opt(coverage.member, True)
    _contribute(world, coverage)
    m = OutboundMessage.objects.get(purpose="contribution_receipt")
    assert m.unit_id == coverage.mutual_id == world.mutual_1.pk
    assert selectors.outbox_for_user(world.users["mutual_manager"]).filter(pk=m.pk).exists()


def test_reminders_from_close_of_business_belong_to_the_caisse(world, member):
    from jigi.cob.models import Reminder

    loans = [_loan(world, member(), world.caisse_a, "C001-2026-90002"),
             _loan(world, member(), world.caisse_b, "C002-2026-90002")]
    for loan_ in loans:
        Reminder.objects.create(installment=loan_.installments.get(), loan=loan_,
                                caisse=loan_.caisse, due_on=DUE, amount=27_500,
                                queued_for=AS_OF)
    assert reminders_from_cob(queued_for=AS_OF)["queued"] == 2
    assert dict(OutboundMessage.objects.values_list("ref", "unit_id")) == {
        f"credit.installment:{loan_.installments.get().pk}": loan_.caisse_id for loan_ in loans}


def test_a_dues_receipt_belongs_to_the_members_section(mtc):  # noqa: F811
    from jigi.movement.services import dues

    profile = make_member(mtc, joined=date(2026, 9, 1))
    _opt(profile.person, True, phone="+22376000950")
    dues.dues_pay(acting_user=mtc.users["organiser"], profile=profile, amount=500,
                  channel="cash")
    m = OutboundMessage.objects.get(purpose="dues_receipt")
    assert m.unit_id == profile.section_id == mtc.world.section_domestic.pk
    assert selectors.outbox_for_user(mtc.users["organiser"]).filter(pk=m.pk).exists()
    assert not selectors.outbox_for_user(mtc.users["organiser_art"]).filter(pk=m.pk).exists()
    assert selectors.outbox_for_user(mtc.users["movement_admin"]).filter(pk=m.pk).exists()


@override_settings(JIGI_MOVEMENT_ALERT_PHONES=["+22365000001"])
def test_an_urgent_case_alert_belongs_to_the_cases_section(mtc):  # noqa: F811
    from jigi.movement.services import cases

    girl = make_member(mtc, birth_year=2011)
    case = cases.case_intake(acting_user=mtc.users["organiser"], person=girl.person,
                             category="child_labour", intake_channel="in_person",
                             summary="Travail de nuit.", employer_name="Famille Keïta")
    m = OutboundMessage.objects.get(purpose="movement_case_urgent")
    assert m.unit_id == case.section_id == mtc.world.section_domestic.pk


def test_a_petition_code_belongs_to_a_members_section_else_to_the_movement(mtc):  # noqa: F811
    from jigi.core.cleaning import today
    from jigi.movement.services import campaigns

    c = campaigns.campaign_create(acting_user=mtc.users["organiser"], code="REPOS",
                                  title="Repos", goal="Repos.", starts_on=today())
    p = campaigns.petition_create(acting_user=mtc.users["organiser"], campaign=c, title="Repos",
                                  text="Repos.", target=4, opens_on=today())
    member_ = make_member(mtc, group="artisans")
    for phone, person_id in (("76 11 11 11", member_.person_id), ("76 22 22 22", None)):
        campaigns.signature_collect(acting_user=mtc.users["movement_admin"], petition=p,
                                    name="Awa Diarra", sex="F", phone=phone,
                                    person_id=person_id)
    units = dict(OutboundMessage.objects.filter(purpose="petition_code")
                 .values_list("phone", "unit_id"))
    assert units == {"+22376111111": mtc.sections["artisans"].pk, "+22376222222": None}
    # The code is the signer's proof: no staff outbox shows it (whoever read it could sign
    # in her name); the superuser's does.
    for username in ("movement_admin", "organiser", "organiser_art", "case_worker_1"):
        assert not selectors.outbox_for_user(mtc.users[username]).filter(
            purpose="petition_code").exists()
    assert selectors.outbox_for_user(mtc.users["admin"]).filter(
        purpose="petition_code").count() == 2


# --- the data migration -------------------------------------------------------------------------


def test_the_migration_fills_the_units_it_can_derive(world, loan, member, mtc):  # noqa: F811
    """Messages queued before units were recorded (unit NULL): the fill reads the cause of each
    and leaves the others at the organisation's level."""
    from jigi.movement.models import Case
    from jigi.movement.services import dues
    from jigi.savings.models import SavingsTransaction

    fill = importlib.import_module("jigi.channels.migrations.0003_outbound_message_unit")
    _opt(loan.person, True)
    tx = _repay(world, loan, 10_000).transaction
    profile = make_member(mtc, joined=date(2026, 5, 1))
    _opt(profile.person, True, phone="+22376000951")
    dues.dues_pay(acting_user=mtc.users["organiser"], profile=profile, amount=500,
                  channel="cash")
    b_loan = _loan(world, member(), world.caisse_b, "C002-2026-90003")
    inst = b_loan.installments.get()
    reminder = message_queue(organisation=world.orgs.kondo, phone="+22376000960", text="R",
                             purpose="instalment_reminder", ref=f"credit.installment:{inst.pk}")
    case = Case.objects.create(
        organisation=world.orgs.mtc, section=mtc.sections["teachers"], number="MTC-2026-009999",
        person=profile.person, category="unpaid_wages", intake_channel="in_person", summary="x",
        opened_on=AS_OF, first_action_due=AS_OF, resolution_due=AS_OF)
    alert = message_queue(organisation=world.orgs.mtc, phone="+22365000001", text="Urgent",
                          purpose="movement_case_urgent", ref=case.number)
    deposit = SavingsTransaction.objects.filter(account__caisse=world.caisse_a).first()
    deposit_sms = message_queue(organisation=world.orgs.kondo, phone="+22376000964", text="D",
                                purpose="deposit_receipt",
                                ref=f"savings.savingstransaction:{deposit.pk}")
    unknown = message_queue(organisation=world.orgs.kondo, phone="+22376000961", text="?",
                            purpose="instalment_reminder", ref="credit.installment:999999999")
    junk = message_queue(organisation=world.orgs.kondo, phone="+22376000962", text="?",
                         purpose="campaign_message", ref="credit.installment:1x")
    free = message_queue(organisation=world.orgs.kondo, phone="+22376000963", text="AG",
                         purpose="campaign_message")
    OutboundMessage.objects.update(unit=None)

    fill.fill_units(apps, None)

    units = dict(OutboundMessage.objects.values_list("pk", "unit_id"))
    receipt = OutboundMessage.objects.get(ref=f"credit.loantransaction:{tx.pk}")
    dues_sms = OutboundMessage.objects.get(purpose="dues_receipt")
    assert units[receipt.pk] == world.caisse_a.pk
    assert units[dues_sms.pk] == profile.section_id
    assert units[reminder.pk] == world.caisse_b.pk
    assert units[alert.pk] == mtc.sections["teachers"].pk
    assert units[deposit_sms.pk] == world.caisse_a.pk
    assert units[unknown.pk] is units[junk.pk] is units[free.pk] is None
    fill.fill_units(apps, None)  # again: nothing changes
    assert dict(OutboundMessage.objects.values_list("pk", "unit_id")) == units
