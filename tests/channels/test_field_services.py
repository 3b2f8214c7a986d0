"""Field sync: a result per item, identical resends as no-ops, conflicts kept for review,
interrupted batches, scoping, and the end-of-day cash count."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from jigi.channels.field import services
from jigi.channels.field.selectors import field_sheet, officer_day_total
from jigi.channels.models import FieldCashCount, SyncItem
from jigi.credit.models import LoanTransaction
from jigi.ledger.models import Book, JournalLine
from jigi.ledger.selectors import ledger_verify
from jigi.savings.models import DrawerSession, SavingsAccount, SavingsTransaction
from tests.channels.test_field_support import field_world


@pytest.fixture
def field(world, time_machine):
    time_machine.move_to("2026-05-12 09:00:00+00:00", tick=False)
    return field_world(world)


def rec(person, amount, kind="repayment", on=None, uid=None):
    return {"uuid": uid or str(uuid.uuid4()), "kind": kind, "person_id": person.pk,
            "amount": amount, "collected_on": (on or "2026-05-12").__str__()}


def test_the_sheet_lists_her_groups_members_with_what_is_due(world, field):
    sheet = field_sheet(world.users["loan_officer_a"], field.today + timedelta(days=30))
    assert len(sheet["groups"]) == 1
    members = sheet["groups"][0]["members"]
    assert len(members) == 4
    due = {m["person_id"]: m["due"] for m in members}
    assert due[field.members[3].pk] == 0
    assert all(due[p] > 0 for p in field.loans)
    assert all(m["can_save"] for m in members)
    assert len(sheet["version"]) == 32
    # Nothing changed: the same version; a teller of caisse B sees no group.
    assert field_sheet(world.users["loan_officer_a"],
                       field.today + timedelta(days=30))["version"] == sheet["version"]
    assert field_sheet(world.users["teller_b"], field.today)["groups"] == []


def test_a_batch_posts_each_item_and_answers_each(world, field):
    officer = world.users["loan_officer_a"]
    a, b, c, d = field.members
    account = SavingsAccount.objects.get(person=d, product__kind="voluntary")
    before = account.balance
    items = [rec(a, 5_000), rec(b, 3_000), rec(d, 2_500, kind="deposit"),
             rec(d, 1_000)]  # d has no loan: rejected alone
    results = services.field_sync(acting_user=officer, device_id="tab-1", items=items)
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "rejected"]
    assert all(r["ack"] for r in results)
    assert results[3]["code"] == "no_group_loan"
    assert "person_id" in results[3]["fields"]
    assert results[0]["receipt"]
    # The deposit's numbered receipt, as on the member's SMS and the caisse's receipt page.
    deposit = SavingsTransaction.objects.get(pk=int(results[2]["posting_ref"].split(":")[1]))
    assert results[2]["receipt"] == deposit.receipt_label != ""
    assert LoanTransaction.objects.filter(channel="field").count() == 2
    account.refresh_from_db()
    assert account.balance == before + 2_500
    field_cash = JournalLine.objects.filter(account__code="102", subledger="field:loan_officer_a")
    assert sum(line.amount for line in field_cash if line.side == "D") == 10_500
    assert officer_day_total(officer, field.today)["total"] == 10_500
    assert SyncItem.objects.filter(status="rejected").count() == 1


def test_an_identical_resend_is_a_no_op_with_the_first_result(world, field):
    officer = world.users["loan_officer_a"]
    items = [rec(field.members[0], 5_000), rec(field.members[1], 2_000, kind="deposit")]
    first = services.field_sync(acting_user=officer, device_id="tab-1", items=items)
    again = services.field_sync(acting_user=officer, device_id="tab-1", items=items)
    assert [r["duplicate"] for r in again] == [True, True]
    assert [r["status"] for r in again] == ["applied", "applied"]
    assert again[0]["receipt"] == first[0]["receipt"]
    assert again[0]["posting_ref"] == first[0]["posting_ref"]
    assert LoanTransaction.objects.filter(channel="field").count() == 1
    assert SyncItem.objects.count() == 2


def test_same_uuid_other_content_is_a_conflict_kept_for_review(world, field):
    officer = world.users["loan_officer_a"]
    uid = str(uuid.uuid4())
    services.field_sync(acting_user=officer, device_id="tab-1",
                        items=[rec(field.members[0], 5_000, uid=uid)])
    [answer] = services.field_sync(acting_user=officer, device_id="tab-2",
                                   items=[rec(field.members[0], 50_000, uid=uid)])
    assert answer["status"] == "conflict"
    assert answer["code"] == "uuid_conflict"
    assert answer["first"]["status"] == "applied"
    item = SyncItem.objects.get(uuid=uid)
    assert item.status == "conflict"
    assert item.payload["amount"] == 5_000
    assert item.conflict_payload["amount"] == 50_000
    assert LoanTransaction.objects.filter(channel="field").count() == 1  # nothing posted
    assert officer_day_total(officer, field.today)["total"] == 5_000
    # The manager reviews it: resolved, the first posting stands.
    services.field_conflict_resolve(acting_user=world.users["manager_a"], item_id=item.pk,
                                    note="Montant vérifié")
    item.refresh_from_db()
    assert item.status == "resolved"
    assert item.reviewed_by == world.users["manager_a"]


def test_an_interrupted_batch_resent_in_full_applies_only_the_rest(world, field):
    officer = world.users["loan_officer_a"]
    items = [rec(m, 1_000 + i, kind="deposit") for i, m in enumerate(field.members)]
    services.field_sync(acting_user=officer, device_id="tab-1", items=items[:2])  # cut off
    results = services.field_sync(acting_user=officer, device_id="tab-1", items=items)
    assert [r["duplicate"] for r in results] == [True, True, False, False]
    assert all(r["status"] == "applied" for r in results)
    assert SyncItem.objects.count() == 4
    assert officer_day_total(officer, field.today)["saved"] == 1_000 + 1_001 + 1_002 + 1_003


def test_another_caisse_member_is_rejected_and_nothing_posted(world, field):
    officer = world.users["loan_officer_a"]
    [answer] = services.field_sync(acting_user=officer, device_id="tab-1",
                                   items=[rec(field.other_caisse_member, 1_000, "deposit")])
    assert answer["status"] == "rejected"
    assert answer["code"] == "not_your_member"
    account = SavingsAccount.objects.get(person=field.other_caisse_member)
    assert account.balance == 0
    assert officer_day_total(officer, field.today)["total"] == 0


def test_amounts_and_dates_are_checked_again_on_the_server(world, field):
    officer = world.users["loan_officer_a"]
    a = field.members[0]
    items = [rec(a, "12.5"), rec(a, 0), rec(a, 1.5), rec(a, 10_000_000),
             rec(a, 1_000, on="2026-05-13"), rec(a, 1_000, on="2026-01-01"),
             {"uuid": "nope", "kind": "gift", "person_id": "x", "amount": 1,
              "collected_on": "2026-05-12"}, "garbage"]
    results = services.field_sync(acting_user=officer, device_id="tab-1", items=items)
    assert all(r["status"] == "rejected" for r in results)
    assert [set(r["fields"]) for r in results] == [
        {"amount"}, {"amount"}, {"amount"}, {"amount"}, {"collected_on"}, {"collected_on"},
        {"uuid", "kind", "person_id"}, {"item"}]
    assert not SyncItem.objects.exists()
    assert not LoanTransaction.objects.filter(channel="field").exists()


def test_a_batch_needs_an_officer_and_a_proper_shape(world, field):
    from jigi.core.errors import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        services.field_sync(acting_user=world.users["auditor"], device_id="t",
                            items=[rec(field.members[0], 1_000)])
    assert exc.value.status_code == 403
    with pytest.raises(ApplicationError) as exc:
        services.field_sync(acting_user=world.users["loan_officer_a"], device_id="t", items=[])
    assert exc.value.status_code == 422
    with pytest.raises(ApplicationError) as exc:
        services.field_sync(acting_user=world.users["loan_officer_a"], device_id="",
                            items=[rec(field.members[0], 1_000)])
    assert "device_id" in exc.value.fields
    assert not SyncItem.objects.exists()


def test_another_officer_cannot_reuse_a_uuid(world, field):
    uid = str(uuid.uuid4())
    services.field_sync(acting_user=world.users["loan_officer_a"], device_id="t",
                        items=[rec(field.members[0], 1_000, uid=uid)])
    [answer] = services.field_sync(acting_user=world.users["manager_a"], device_id="t",
                                   items=[rec(field.members[0], 1_000, uid=uid)])
    assert answer["code"] == "uuid_taken"
    assert LoanTransaction.objects.filter(channel="field").count() == 1


def test_cash_count_shows_and_audits_the_difference(world, field):
    from jigi.core.errors import ApplicationError
    from jigi.core.models import AuditEvent as Event

    officer = world.users["loan_officer_a"]
    services.field_sync(acting_user=officer, device_id="t",
                        items=[rec(field.members[0], 5_000), rec(field.members[1], 2_000,
                                                                   kind="deposit")])
    before_drawer = DrawerSession.objects.get(teller=world.users["teller_a"],
                                              status="open").cash_in
    with pytest.raises(ApplicationError) as exc:  # a difference needs a note
        services.field_cash_count(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                                  officer_id=officer.pk, day=field.today, counted=6_500)
    assert set(exc.value.fields) == {"note"}
    count = services.field_cash_count(acting_user=world.users["teller_a"],
                                      caisse=world.caisse_a, officer_id=officer.pk,
                                      day=field.today, counted=6_500, note="500 F manquants")
    assert (count.expected, count.counted) == (7_000, 6_500)
    event = Event.objects.get(event_type="channels.field_cash_count")
    assert event.after["difference"] == -500
    # The counted cash entered the teller's drawer; the shortage stays on the officer.
    lines = JournalLine.objects.filter(account__code="102", subledger="field:loan_officer_a")
    owed = sum(li.amount if li.side == "D" else -li.amount for li in lines)
    assert owed == 500
    drawer = DrawerSession.objects.get(teller=world.users["teller_a"], status="open")
    assert drawer.cash_in - before_drawer == 6_500
    assert ledger_verify(book=Book.objects.get(unit=world.caisse_a)) == []
    # A manager without an open drawer cannot take cash: nothing written.
    with pytest.raises(ApplicationError):
        services.field_cash_count(acting_user=world.users["manager_a"], caisse=world.caisse_a,
                                  officer_id=officer.pk, day=field.today - timedelta(days=1),
                                  counted=1_000, note="x")
    assert FieldCashCount.objects.count() == 1
    with pytest.raises(ApplicationError) as exc:  # once a day
        services.field_cash_count(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                                  officer_id=officer.pk, day=field.today, counted=7_000)
    assert exc.value.status_code == 409


def test_cash_count_refusals(world, field):
    from jigi.core.errors import ApplicationError

    officer = world.users["loan_officer_a"]
    cases = [("teller_b", world.caisse_a, 404), ("auditor", world.caisse_a, 403),
             ("loan_officer_a", world.caisse_a, 403)]
    for user, caisse, status in cases:
        with pytest.raises(ApplicationError) as exc:
            services.field_cash_count(acting_user=world.users[user], caisse=caisse,
                                      officer_id=officer.pk, day=field.today, counted=0)
        assert exc.value.status_code == status, user
    with pytest.raises(ApplicationError) as exc:
        services.field_cash_count(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                                  officer_id=world.users["teller_b"].pk, day=field.today,
                                  counted=-1)
    assert {"officer_id", "counted"} <= set(exc.value.fields)


def test_a_network_officer_hands_in_at_two_caisses_the_same_day(world, field):
    """One count per officer, caisse and day: counted at caisse A, then at caisse B; a second
    count at A is a 409."""
    from jigi.core.errors import ApplicationError
    from jigi.orgs.models import Role
    from jigi.orgs.services import role_grant
    from tests.conftest import _user

    roving = _user("roving_officer")
    role_grant(user=roving, organisation=world.orgs.kondo, role=Role.LOAN_OFFICER, unit=None)
    for teller, caisse in (("teller_a", world.caisse_a), ("teller_b", world.caisse_b)):
        services.field_cash_count(acting_user=world.users[teller], caisse=caisse,
                                  officer_id=roving.pk, day=field.today, counted=0)
    assert set(FieldCashCount.objects.filter(user=roving).values_list("caisse_id", flat=True)) \
        == {world.caisse_a.pk, world.caisse_b.pk}
    with pytest.raises(ApplicationError) as exc:
        services.field_cash_count(acting_user=world.users["teller_a"], caisse=world.caisse_a,
                                  officer_id=roving.pk, day=field.today, counted=0)
    assert (exc.value.status_code, exc.value.code) == (409, "already_counted")


def test_conflict_review_refusals(world, field):
    from jigi.core.errors import ApplicationError

    uid = str(uuid.uuid4())
    officer = world.users["loan_officer_a"]
    services.field_sync(acting_user=officer, device_id="t",
                        items=[rec(field.members[0], 1_000, uid=uid)])
    item = SyncItem.objects.get(uuid=uid)
    with pytest.raises(ApplicationError) as exc:  # no conflict yet
        services.field_conflict_resolve(acting_user=world.users["manager_a"], item_id=item.pk)
    assert exc.value.status_code == 409
    for user, status in (("teller_b", 404), ("teller_a", 403)):
        with pytest.raises(ApplicationError) as exc:
            services.field_conflict_resolve(acting_user=world.users[user], item_id=item.pk)
        assert exc.value.status_code == status, user


def test_a_uuid_sent_at_the_same_time_elsewhere_posts_once(world, field, monkeypatch):
    """Two requests carry one UUID: the second did not see the first when it started (its
    look-up was empty); its insert fails on the unique UUID, its posting rolls back with it,
    and it answers as a resend."""
    officer = world.users["loan_officer_a"]
    item = rec(field.members[0], 4_000)
    services.field_sync(acting_user=officer, device_id="tab-1", items=[item])
    monkeypatch.setattr(services, "_known_items", lambda uuids: {})
    [answer] = services.field_sync(acting_user=officer, device_id="tab-2", items=[item])
    assert answer["duplicate"] is True
    assert answer["status"] == "applied"
    assert LoanTransaction.objects.filter(channel="field").count() == 1
    field_cash = JournalLine.objects.filter(account__code="102", subledger="field:loan_officer_a")
    assert sum(line.amount for line in field_cash) == 4_000
    assert ledger_verify(book=Book.objects.get(unit=world.caisse_a)) == []


def test_one_uuid_twice_in_a_batch_with_other_content(world, field):
    officer = world.users["loan_officer_a"]
    uid = str(uuid.uuid4())
    results = services.field_sync(acting_user=officer, device_id="t", items=[
        rec(field.members[0], 1_000, uid=uid), rec(field.members[0], 1_000, uid=uid),
        rec(field.members[0], 2_000, uid=uid)])
    assert [r["status"] for r in results] == ["applied", "applied", "conflict"]
    assert [r["duplicate"] for r in results] == [False, True, False]
    assert LoanTransaction.objects.filter(channel="field").count() == 1
    assert ledger_verify(book=Book.objects.get(unit=world.caisse_a)) == []
