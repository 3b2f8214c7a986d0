"""MTC dues: accrual, payments with receipts and SMS, advances, reversals, waivers
(maker-checker), standing after every change, and the books (411, 419, 756, 658, 57)."""

from __future__ import annotations

from datetime import date

import pytest

from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.core.errors import ApplicationError, Forbidden, NotFound
from jigi.ledger.models import AccountBalance, JournalEntry
from jigi.ledger.selectors import ledger_verify
from jigi.movement.models import DuesAllocation, DuesCharge, DuesPayment, DuesRate
from jigi.movement.services import dues as svc
from jigi.movement.services._common import book_of
from jigi.orgs.models import MemberGroup
from tests.movement.conftest import make_member

SEP = date(2026, 9, 1)
NOV20 = date(2026, 11, 20)


def balance(org, code: str) -> int:
    """Debit minus credit of an account of the movement's book."""
    row = AccountBalance.objects.filter(book=book_of(org), account__code=code).first()
    return 0 if row is None else row.debit - row.credit


def _member(mtc, **kw):
    kw.setdefault("joined", SEP)
    return make_member(mtc, **kw)


def _pay(mtc, p, amount, user="organiser", channel="cash", **kw):
    return svc.dues_pay(acting_user=mtc.users[user], profile=p, amount=amount, channel=channel,
                        **kw)


def test_accrual_makes_missing_charges_once_and_posts_one_entry_per_section(mtc):
    a, b = _member(mtc), _member(mtc)
    art = _member(mtc, group=MemberGroup.ARTISANS)
    run = svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    assert run.charges == 9
    assert run.amount == 3 * 250 * 2 + 3 * 500
    assert run.entries == 2  # S-DOM and S-ART
    assert [(c.period_start, c.period_end, c.amount) for c in a.charges.order_by("period_start")
            ] == [(date(2026, 9, 1), date(2026, 9, 30), 250),
                  (date(2026, 10, 1), date(2026, 10, 31), 250),
                  (date(2026, 11, 1), date(2026, 11, 30), 250)]
    assert balance(mtc.org, "411") == 3000
    assert balance(mtc.org, "756") == -3000
    again = svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    assert (again.charges, again.entries) == (0, 0)
    assert DuesCharge.objects.count() == 9
    for p in (a, b, art):
        p.refresh_from_db()
        assert p.standing == "grace"
    assert b.arrears == 750
    assert b.owing_since == SEP
    assert not ledger_verify(book_of(mtc.org))


def test_accrual_uses_the_rate_in_force_and_skips_exempt_members(mtc):
    DuesRate.objects.create(organisation=mtc.org, group="domestic", amount=300,
                            valid_from=date(2026, 10, 1))
    p = _member(mtc)
    exempt = _member(mtc)
    exempt.dues_exempt = True
    exempt.save()
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    assert list(p.charges.order_by("period_start").values_list("amount", flat=True)) == \
        [250, 300, 300]
    assert not exempt.charges.exists()
    exempt.refresh_from_db()
    assert exempt.standing == "exempt"


def test_payment_allocates_oldest_first_with_receipt_sms_and_entry(mtc):
    p = _member(mtc)
    p.person.language = "bm"
    p.person.save()
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    r = _pay(mtc, p, 600)
    pay = r.payment
    year = pay.paid_on.year
    assert pay.receipt_number == f"MTC-{year}-000001"
    assert [(x.charge.period_start.month, x.amount) for x in
            pay.allocations.order_by("charge__period_start")] == [(9, 250), (10, 250), (11, 100)]
    assert pay.advance_part == 0
    assert r.profile.arrears == 150
    assert balance(mtc.org, "57") == 600
    assert balance(mtc.org, "411") == 150
    sms = OutboundMessage.objects.get(purpose="dues_receipt")
    assert sms.language == "bm"
    assert sms.phone == p.person.phone
    assert pay.receipt_number in sms.text
    SmsPreference.objects.create(person=p.person, opt_in=True, language="fr")
    second = _pay(mtc, p, 1000, channel="mobile_money").payment
    assert OutboundMessage.objects.filter(purpose="dues_receipt").latest("pk").language == "fr"
    assert second.receipt_number == f"MTC-{year}-000002"
    assert second.advance_part == 850
    p.refresh_from_db()
    assert (p.arrears, p.advance, p.standing) == (0, 850, "current")
    assert balance(mtc.org, "419") == -850
    assert balance(mtc.org, "53") == 1000
    assert not ledger_verify(book_of(mtc.org))


def test_later_accruals_consume_the_advance_first(mtc):
    p = _member(mtc, joined=date(2026, 10, 1))
    svc.dues_accrue(organisation=mtc.org, as_of=date(2026, 10, 5))
    _pay(mtc, p, 500)  # Oct 250, advance 250
    p.refresh_from_db()
    assert p.advance == 250
    run = svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    assert run.advance_used == 250
    p.refresh_from_db()
    assert (p.advance, p.arrears) == (0, 0)
    nov = p.charges.get(period_start=date(2026, 11, 1))
    assert nov.paid == 250
    assert balance(mtc.org, "419") == 0
    assert balance(mtc.org, "411") == 0
    assert balance(mtc.org, "756") == -500
    assert DuesAllocation.objects.filter(charge=nov, amount=250).exists()
    assert not ledger_verify(book_of(mtc.org))


def test_reversal_reopens_charges_with_a_mirror_payment(mtc):
    p = _member(mtc)
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    first = _pay(mtc, p, 1000).payment  # 750 + 250 advance
    r = svc.dues_reverse(acting_user=mtc.users["organiser"], payment=first,
                         reason="Billet faux")
    rev = r.payment
    assert rev.amount == -1000
    assert rev.reverses == first
    assert rev.receipt_number != first.receipt_number
    assert JournalEntry.objects.get(pk=rev.journal_entry_id).reversal_of_id == \
        first.journal_entry_id
    p.refresh_from_db()
    assert (p.arrears, p.advance, p.standing) == (750, 0, "grace")
    assert sum(c.paid for c in p.charges.all()) == 0
    assert balance(mtc.org, "57") == 0
    assert balance(mtc.org, "419") == 0
    assert balance(mtc.org, "411") == 750
    with pytest.raises(ApplicationError) as exc:
        svc.dues_reverse(acting_user=mtc.users["organiser"], payment=first, reason="encore")
    assert exc.value.code == "already_reversed"
    with pytest.raises(ApplicationError) as exc:
        svc.dues_reverse(acting_user=mtc.users["organiser"], payment=rev, reason="encore")
    assert exc.value.code == "is_reversal"
    assert not ledger_verify(book_of(mtc.org))


def test_bad_payments_are_refused_and_leave_nothing(mtc):
    p = _member(mtc)
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    with pytest.raises(ApplicationError) as exc:
        _pay(mtc, p, "-5", channel="cheque", paid_on=date(2999, 1, 1))
    assert exc.value.status_code == 422
    assert set(exc.value.fields) == {"amount", "channel", "paid_on"}
    with pytest.raises(ApplicationError):
        _pay(mtc, p, 10_000_001)
    with pytest.raises(NotFound):
        _pay(mtc, p, 250, user="organiser_art")
    with pytest.raises(NotFound):
        _pay(mtc, p, 250, user="teller_a")
    with pytest.raises(Forbidden):
        _pay(mtc, p, 250, user="case_worker_1")
    assert not DuesPayment.objects.exists()
    assert balance(mtc.org, "57") == 0


def test_waiver_is_decided_by_another_administrator(mtc):
    p = _member(mtc)
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    users = mtc.users
    with pytest.raises(ApplicationError) as exc:
        svc.waiver_request(acting_user=users["organiser"], profile=p, amount=800,
                           reason="Malade")
    assert exc.value.fields.keys() == {"amount"}
    w = svc.waiver_request(acting_user=users["organiser"], profile=p, amount=400,
                           reason="Malade trois mois")
    with pytest.raises(Forbidden):
        svc.waiver_decide(acting_user=users["organiser"], waiver=w, approve=True)
    w = svc.waiver_decide(acting_user=users["movement_admin"], waiver=w, approve=True,
                          note="Certificat vu")
    assert w.status == "approved"
    assert [c.waived for c in p.charges.order_by("period_start")] == [250, 150, 0]
    p.refresh_from_db()
    assert p.arrears == 350
    assert balance(mtc.org, "658") == 400
    assert balance(mtc.org, "411") == 350
    with pytest.raises(ApplicationError) as exc:
        svc.waiver_decide(acting_user=users["movement_admin"], waiver=w, approve=False)
    assert exc.value.code == "waiver_decided"
    assert not ledger_verify(book_of(mtc.org))


def test_an_administrator_cannot_approve_her_own_request(mtc, django_user_model):
    from jigi.orgs.models import Role
    from jigi.orgs.services import role_grant
    from tests.conftest import _user

    p = _member(mtc)
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    admin = mtc.users["movement_admin"]
    w = svc.waiver_request(acting_user=admin, profile=p, amount=250, reason="Sans travail")
    with pytest.raises(Forbidden) as exc:
        svc.waiver_decide(acting_user=admin, waiver=w, approve=True)
    assert exc.value.code == "maker_checker"
    other = _user("movement_admin_2")
    role_grant(user=other, organisation=mtc.org, role=Role.MOVEMENT_ADMIN, unit=None)
    w = svc.waiver_decide(acting_user=other, waiver=w, approve=False, note="Non justifié")
    assert w.status == "rejected"
    p.refresh_from_db()
    assert p.arrears == 750
    assert balance(mtc.org, "658") == 0


def test_payments_on_one_member_lock_her_and_bump_the_version(mtc):
    p = _member(mtc)
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    p.refresh_from_db()
    v = p.version
    stale = type(p).objects.get(pk=p.pk)
    _pay(mtc, p, 250)
    _pay(mtc, stale, 250)  # an old copy: the service reads the locked row, nothing lost
    p.refresh_from_db()
    assert p.version == v + 2
    assert p.arrears == 250
    assert sum(c.paid for c in p.charges.all()) == 500


def test_ended_membership_takes_no_payment_and_no_later_charges(mtc):
    from jigi.movement.services.members import member_end

    p = _member(mtc)
    member_end(acting_user=mtc.users["movement_admin"], profile=p, reason="Départ",
               on=date(2026, 10, 15))
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    assert p.charges.count() == 2  # September and October
    with pytest.raises(ApplicationError) as exc:
        _pay(mtc, p, 250)
    assert exc.value.code == "membership_ended"


def test_more_refusals_and_edges(mtc):
    users = mtc.users
    p = _member(mtc)
    p.person.phone = ""
    p.person.save()
    svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    with pytest.raises(ApplicationError) as exc:
        _pay(mtc, p, 250, reference="bad\x00ref")
    assert exc.value.fields.keys() == {"reference"}
    _pay(mtc, p, 250)
    assert not OutboundMessage.objects.exists()  # no phone, no SMS
    with pytest.raises(ApplicationError) as exc:
        svc.waiver_request(acting_user=users["organiser"], profile=p, amount="abc", reason="")
    assert exc.value.fields.keys() == {"amount", "reason"}
    w = svc.waiver_request(acting_user=users["organiser"], profile=p, amount=500,
                           reason="Sans travail")
    with pytest.raises(ApplicationError) as exc:
        svc.waiver_request(acting_user=users["organiser"], profile=p, amount=100,
                           reason="Encore")
    assert exc.value.code == "waiver_pending"
    with pytest.raises(ApplicationError) as exc:
        svc.waiver_decide(acting_user=users["movement_admin"], waiver=w, approve="yes")
    assert exc.value.fields.keys() == {"approve"}
    _pay(mtc, p, 250)  # she now owes 250, less than the 500 asked
    with pytest.raises(ApplicationError) as exc:
        svc.waiver_decide(acting_user=users["movement_admin"], waiver=w, approve=True)
    assert exc.value.code == "waiver_too_large"
    with pytest.raises(AssertionError):
        svc._lines({"411": 1}, "")


def test_a_group_without_rate_is_not_charged(mtc):
    DuesRate.objects.filter(group="youth").delete()
    p = _member(mtc, group=MemberGroup.YOUTH)
    run = svc.dues_accrue(organisation=mtc.org, as_of=NOV20)
    assert run.charges == 0
    assert not p.charges.exists()
