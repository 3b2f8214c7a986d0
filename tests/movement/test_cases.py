"""Cases from intake to outcome: the services, their refusals and their confidentiality."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from jigi.channels.models import OutboundMessage
from jigi.core.errors import ApplicationError, Conflict, Forbidden, NotFound
from jigi.core.models import AuditEvent
from jigi.movement import selectors_cases as sel
from jigi.movement.models import Case, CaseAction, CaseAlert, CaseAssignment, CaseDeadline
from jigi.movement.services import cases as svc
from jigi.people.models import Consent
from tests.movement.conftest import make_member

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _open(mtc, profile=None, user="organiser", **kw):
    profile = profile or make_member(mtc)
    args = {"category": "unpaid_wages", "intake_channel": "in_person",
            "summary": "Trois mois sans salaire.", "employer_name": "Famille Keïta"}
    args.update(kw)
    return svc.case_intake(acting_user=mtc.users[user], person=profile.person, **args)


def _assign(mtc, case, lead="case_worker_1", support=()):
    return svc.case_assign(acting_user=mtc.users["movement_admin"], case=case,
                           lead=mtc.users[lead], support=[mtc.users[u] for u in support])


def _as(mtc, user, case):
    return sel.get_case_for_user(mtc.users[user], case.pk)


# --- intake -------------------------------------------------------------------------------------


def test_intake_numbers_gapless_per_year_and_sets_deadlines(mtc):
    a = _open(mtc, opened_on=date(2026, 11, 2))
    b = _open(mtc, category="no_contract", opened_on=date(2026, 11, 3))
    assert (a.number, b.number) == ("MTC-2026-000001", "MTC-2026-000002")
    assert a.first_action_due == date(2026, 11, 9)
    assert a.resolution_due == date(2027, 1, 1)
    assert a.section == mtc.sections["domestic"]
    assert a.profile is not None
    assert a.urgency == "normal"
    assert not a.confidential
    assert a.status == "open"
    assert list(a.actions.values_list("kind", flat=True)) == ["intake"]
    assert AuditEvent.objects.filter(event_type="movement.case_opened",
                                     subject_id=str(a.pk)).exists()


def test_deadlines_follow_the_organisations_settings_and_the_tightest_category(mtc):
    CaseDeadline.objects.filter(organisation=mtc.org, category="unpaid_wages").update(
        first_action_days=3, resolution_days=20)
    case = _open(mtc, other_categories=["no_rest_day"], opened_on=date(2026, 11, 2))
    assert case.first_action_due == date(2026, 11, 5)
    assert case.resolution_due == date(2026, 11, 22)
    assert case.other_categories == ["no_rest_day"]


@override_settings(JIGI_MOVEMENT_ALERT_PHONES=["76 12 34 56", "not a phone", "+22365000001"])
def test_a_minors_child_labour_case_is_urgent_alerted_and_texted_without_details(mtc):
    girl = make_member(mtc, birth_year=2011)
    case = _open(mtc, girl, category="child_labour", confidential=False)
    assert case.urgency == "urgent"
    assert case.urgent_reason == "minor"
    assert case.confidential  # a child's urgent case stays confidential whatever was ticked
    assert list(CaseAlert.objects.filter(case=case).values_list("kind", flat=True)) == ["urgent"]
    sms = list(OutboundMessage.objects.filter(ref=case.number).order_by("phone"))
    assert [m.phone for m in sms] == ["+22365000001", "+22376123456"]
    assert all(case.number in m.text and girl.person.first_name not in m.text
               and "Keïta" not in m.text for m in sms)


def test_an_adults_violence_is_urgent_only_when_marked_and_confidential_by_default(mtc):
    plain = _open(mtc, category="violence")
    marked = _open(mtc, category="violence", marked_urgent=True)
    assert plain.urgency == "normal"
    assert plain.confidential
    assert marked.urgency == "urgent"
    assert marked.urgent_reason == "marked"
    assert CaseAlert.objects.filter(case=marked, kind="urgent").exists()
    assert not CaseAlert.objects.filter(case=plain).exists()


def test_intake_refusals_are_field_errors_and_write_nothing(mtc):
    profile = make_member(mtc)
    with pytest.raises(ApplicationError) as exc:
        _open(mtc, profile, category="theft", intake_channel="fax", summary="",
              employer_phone="123")
    assert exc.value.status_code == 422
    assert set(exc.value.fields) == {"category", "intake_channel", "summary", "employer_phone"}
    with pytest.raises(ApplicationError) as exc:
        _open(mtc, profile, marked_urgent=True)
    assert set(exc.value.fields) == {"urgent"}
    with pytest.raises(ApplicationError) as exc:
        _open(mtc, profile, opened_on=date(2030, 1, 1))
    assert set(exc.value.fields) == {"opened_on"}
    assert not Case.objects.exists()


def test_an_organiser_opens_cases_only_in_her_section(mtc):
    artisan = make_member(mtc, "artisans")
    with pytest.raises(NotFound):
        _open(mtc, artisan, user="organiser")  # S-DOM organiser, S-ART member
    case = _open(mtc, artisan, user="organiser_art")
    assert case.section == mtc.sections["artisans"]


@pytest.mark.parametrize("user", ["teller_a", "mutual_manager"])
def test_outsiders_cannot_open_a_case(mtc, user):
    with pytest.raises(NotFound):
        _open(mtc, user=user)
    assert not Case.objects.exists()


def test_sms_intake_runs_without_a_user_but_only_for_sms(mtc):
    profile = make_member(mtc)
    case = svc.case_intake(acting_user=None, person=profile.person, category="unpaid_wages",
                           intake_channel="sms", summary="SMS: pas payée")
    assert case.created_by is None
    assert case.intake_channel == "sms"
    with pytest.raises(Forbidden):
        svc.case_intake(acting_user=None, person=profile.person, category="unpaid_wages",
                        intake_channel="phone", summary="x")


# --- assignment and confidentiality ---------------------------------------------------------------


def test_assignment_and_reassignment_end_the_previous_ones(mtc):
    case = _open(mtc, category="violence")
    _assign(mtc, case, "case_worker_1", ["case_worker_2"])
    team = _assign(mtc, case, "case_worker_2")
    assert [(a.user.username, a.lead) for a in team] == [("case_worker_2", True)]
    ended = CaseAssignment.objects.filter(case=case, ended_at__isnull=False)
    assert sorted(a.user.username for a in ended) == ["case_worker_1", "case_worker_2"]


def test_only_a_movement_admin_assigns(mtc):
    case = _open(mtc)
    with pytest.raises(Forbidden):
        svc.case_assign(acting_user=mtc.users["case_worker_1"], case=case,
                        lead=mtc.users["case_worker_1"])
    with pytest.raises(NotFound):
        svc.case_assign(acting_user=mtc.users["teller_a"], case=case,
                        lead=mtc.users["case_worker_1"])
    with pytest.raises(ApplicationError) as exc:  # an organiser is not a case worker
        _assign(mtc, case, "organiser")
    assert set(exc.value.fields) == {"lead"}


def test_an_admin_assigning_herself_is_audited(mtc):
    case = _open(mtc, category="violence")
    admin = mtc.users["movement_admin"]
    assert not sel.sees_details(admin, _as(mtc, "movement_admin", case))
    _assign(mtc, case, "movement_admin")
    assert sel.sees_details(admin, _as(mtc, "movement_admin", case))
    assert AuditEvent.objects.filter(event_type="movement.case_self_assigned",
                                     actor=admin, subject_id=str(case.pk)).exists()


def test_confidential_case_exists_for_staff_details_only_for_its_workers(mtc):
    case = _open(mtc, category="violence")
    _assign(mtc, case, "case_worker_1")
    for user in ["case_worker_1", "case_worker_2", "movement_admin", "organiser"]:
        assert _as(mtc, user, case).number == case.number
    assert sel.get_case_details_for_user(mtc.users["case_worker_1"], case.pk) == case
    for user in ["case_worker_2", "movement_admin", "organiser"]:
        with pytest.raises(Forbidden):
            sel.get_case_details_for_user(mtc.users[user], case.pk)
    for user in ["teller_a", "mutual_manager", "organiser_art"]:
        with pytest.raises(NotFound):
            sel.get_case_for_user(mtc.users[user], case.pk)


def test_a_non_confidential_case_shows_details_to_staff_but_only_workers_act(mtc):
    case = _open(mtc)
    _assign(mtc, case, "case_worker_1")
    assert sel.get_case_details_for_user(mtc.users["case_worker_2"], case.pk) == case
    with pytest.raises(Forbidden):
        svc.case_action_record(acting_user=mtc.users["case_worker_2"],
                               case=_as(mtc, "case_worker_2", case), kind="call")
    assert case.actions.count() == 1


def test_list_rows_hide_the_outcome_of_a_confidential_case(mtc):
    case = _open(mtc, category="violence")
    _assign(mtc, case, "case_worker_1")
    worker = _as(mtc, "case_worker_1", case)
    svc.case_close(acting_user=mtc.users["case_worker_1"], case=worker, outcome="resolved")
    other = sel.case_row(_as(mtc, "case_worker_2", case), mtc.users["case_worker_2"],
                         date(2026, 11, 27))
    mine = sel.case_row(_as(mtc, "case_worker_1", case), mtc.users["case_worker_1"],
                        date(2026, 11, 27))
    assert other.outcome == ""
    assert not other.sees_details
    assert other.status == "closed"
    assert mine.outcome == "resolved"
    assert mine.sees_details


# --- timeline and outcome ---------------------------------------------------------------------------


def _worker_case(mtc, **kw):
    case = _open(mtc, **kw)
    _assign(mtc, case, "case_worker_1")
    return _as(mtc, "case_worker_1", case), mtc.users["case_worker_1"]


def test_timeline_first_action_mediation_and_closing_with_wages(mtc):
    case, worker = _worker_case(mtc, opened_on=date(2026, 11, 2))
    svc.case_action_record(acting_user=worker, case=case, kind="interview",
                           happened_on=date(2026, 11, 3), note="Entretien")
    svc.case_action_record(acting_user=worker, case=case, kind="mediation",
                           happened_on=date(2026, 11, 10), amount_recovered=45_000)
    case.refresh_from_db()
    assert case.first_action_on == date(2026, 11, 3)
    assert case.status == "in_progress"
    closed = svc.case_close(acting_user=worker, case=case, outcome="wages_recovered",
                            closed_on=date(2026, 11, 12))
    assert closed.wages_recovered == 45_000
    assert closed.closed_on == date(2026, 11, 12)
    assert list(closed.actions.values_list("kind", flat=True)) == [
        "intake", "interview", "mediation", "closure"]


def test_a_referral_refers_and_closing_without_wages_is_refused(mtc):
    case, worker = _worker_case(mtc)
    svc.case_action_record(acting_user=worker, case=case, kind="labour_inspection")
    case.refresh_from_db()
    assert case.status == "referred"
    with pytest.raises(ApplicationError) as exc:
        svc.case_close(acting_user=worker, case=case, outcome="wages_recovered")
    assert set(exc.value.fields) == {"wages_recovered"}
    closed = svc.case_close(acting_user=worker, case=case, outcome="referred")
    assert closed.outcome == "referred"
    assert closed.wages_recovered == 0


def test_a_closed_case_takes_only_a_reopening(mtc):
    case, worker = _worker_case(mtc)
    svc.case_close(acting_user=worker, case=case, outcome="wages_recovered",
                   wages_recovered=20_000)
    with pytest.raises(Conflict):
        svc.case_action_record(acting_user=worker, case=case, kind="call")
    with pytest.raises(Conflict):
        svc.case_close(acting_user=worker, case=case, outcome="resolved")
    svc.case_action_record(acting_user=worker, case=case, kind="reopening", note="Rechute")
    case.refresh_from_db()
    assert (case.status, case.outcome, case.closed_on, case.wages_recovered) == (
        "in_progress", "", None, 0)


def test_action_refusals(mtc):
    case, worker = _worker_case(mtc, opened_on=date(2026, 11, 2))
    bad = [
        ({"kind": "closure"}, {"kind"}),
        ({"kind": "call", "amount_recovered": 1000}, {"amount_recovered"}),
        ({"kind": "mediation", "amount_recovered": 1.5}, {"amount_recovered"}),
        ({"kind": "note", "note": ""}, {"note"}),
        ({"kind": "call", "happened_on": date(2026, 11, 1)}, {"happened_on"}),
        ({"kind": "reopening"}, {"kind"}),
    ]
    for kw, fields in bad:
        with pytest.raises(ApplicationError) as exc:
            svc.case_action_record(acting_user=worker, case=case, **kw)
        assert set(exc.value.fields) == fields, kw
    assert case.actions.count() == 1


def test_a_stale_version_is_a_conflict(mtc):
    case, worker = _worker_case(mtc)
    seen = case.version
    svc.case_action_record(acting_user=worker, case=case, kind="call", version=seen)
    with pytest.raises(Conflict):
        svc.case_action_record(acting_user=worker, case=case, kind="note", note="x",
                               version=seen)
    assert CaseAction.objects.filter(case=case, kind="note").count() == 0


# --- documents and links ------------------------------------------------------------------------


def test_documents_kept_with_their_hash_and_refused_when_wrong(mtc):
    case, worker = _worker_case(mtc, category="violence")
    doc = svc.case_document_add(acting_user=worker, case=case, name="C:\\scans\\lettre.pdf",
                                content_type="application/pdf", content=PDF)
    assert doc.name == "lettre.pdf"
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest()
    assert doc.size == len(PDF)
    for name, ctype, content in [("x.exe", "application/x-msdownload", b"MZ..."),
                                 ("x.png", "image/png", PDF),
                                 ("big.pdf", "application/pdf", b"%PDF" + b"0" * svc.MAX_DOCUMENT)]:
        with pytest.raises(ApplicationError) as exc:
            svc.case_document_add(acting_user=worker, case=case, name=name, content_type=ctype,
                                  content=content)
        assert set(exc.value.fields) == {"file"}
    other = mtc.users["case_worker_2"]
    with pytest.raises(Forbidden):
        svc.case_document_add(acting_user=other, case=_as(mtc, "case_worker_2", case),
                              name="p.png", content_type="image/png", content=PNG)
    with pytest.raises(Forbidden):
        sel.get_document_for_user(other, _as(mtc, "case_worker_2", case), doc.pk)
    assert sel.get_document_for_user(worker, case, doc.pk).content == PDF


def test_links_need_the_persons_live_consent(mtc):
    case, worker = _worker_case(mtc)
    with pytest.raises(Forbidden) as exc:
        svc.case_link_create(acting_user=worker, case=case, scope="health")
    assert exc.value.code == "consent_required"
    consent = Consent.objects.create(person=case.person, granted_to=mtc.org, scope="health",
                                     purpose="Suivi du cas", given_at=timezone.now())
    link = svc.case_link_create(acting_user=worker, case=case, scope="health")
    assert link.organisation == mtc.world.orgs.utm
    views = sel.case_links(case, date(2026, 11, 27))
    assert [(v.scope, v.consent_live) for v in views] == [("health", True)]
    consent.withdrawn_at = timezone.now()
    consent.save()
    assert [v.consent_live for v in sel.case_links(case, date(2026, 11, 27))] == [False]
    with pytest.raises(Forbidden):
        svc.case_link_create(acting_user=worker, case=case, scope="savings")
    with pytest.raises(ApplicationError):
        svc.case_link_create(acting_user=worker, case=case, scope="movement")


# --- overdue and alerts ------------------------------------------------------------------------------


def test_overdue_alerts_raised_once(mtc):
    late = _open(mtc, opened_on=date(2026, 9, 1))  # first action by 8 Sep, resolution 31 Oct
    fresh = _open(mtc, opened_on=date(2026, 11, 20))
    day = date(2026, 11, 21)
    assert svc.cases_check_overdue(organisation=mtc.org, today=day) == {
        "first_action_overdue": 1, "resolution_overdue": 1}
    assert svc.cases_check_overdue(organisation=mtc.org, today=day) == {
        "first_action_overdue": 0, "resolution_overdue": 0}
    assert set(CaseAlert.objects.values_list("case_id", "kind")) == {
        (late.pk, "first_action_overdue"), (late.pk, "resolution_overdue")}
    assert svc.cases_check_overdue(organisation=mtc.org, today=day + timedelta(days=8)) == {
        "first_action_overdue": 1, "resolution_overdue": 0}
    assert CaseAlert.objects.filter(case=fresh).count() == 1


def test_a_closed_case_raises_no_overdue_alert(mtc):
    case, worker = _worker_case(mtc, opened_on=date(2026, 9, 1))
    svc.case_close(acting_user=worker, case=case, outcome="no_result",
                   closed_on=date(2026, 9, 2))
    assert svc.cases_check_overdue(organisation=mtc.org, today=date(2026, 11, 21)) == {
        "first_action_overdue": 0, "resolution_overdue": 0}


def test_alerts_acknowledged_by_case_workers_not_organisers_nor_outsiders(mtc):
    case = _open(mtc, category="violence", marked_urgent=True)
    alert = sel.alerts_visible(mtc.users["case_worker_2"]).get()
    assert sel.alerts_visible(mtc.users["teller_a"]).count() == 0
    with pytest.raises(NotFound):
        sel.get_alert_for_user(mtc.users["teller_a"], alert.pk)
    with pytest.raises(Forbidden):
        svc.case_alert_acknowledge(acting_user=mtc.users["organiser"], alert=alert)
    done = svc.case_alert_acknowledge(acting_user=mtc.users["case_worker_2"], alert=alert)
    assert done.acknowledged_by == mtc.users["case_worker_2"]
    assert sel.alerts_visible(mtc.users["case_worker_2"]).count() == 0
    assert case.alerts.count() == 1


def test_each_consent_scope_reads_its_facts(mtc):
    case, worker = _worker_case(mtc)
    for scope in ["health", "savings", "credit"]:
        Consent.objects.create(person=case.person, granted_to=mtc.org, scope=scope,
                               purpose="Suivi du cas", given_at=timezone.now())
        svc.case_link_create(acting_user=worker, case=case, scope=scope)
    views = sel.case_links(case, date(2026, 11, 27))
    assert sorted((v.scope, v.organisation) for v in views) == [
        ("credit", mtc.world.orgs.kondo.name), ("health", mtc.world.orgs.utm.name),
        ("savings", mtc.world.orgs.kondo.name)]
    assert all(v.consent_live and v.facts == [] for v in views)  # she holds nothing there


def test_a_reopened_case_gets_a_new_resolution_deadline_and_is_alerted_again(mtc):
    # unpaid wages: first action within 7 days, resolution within 60.
    case, worker = _worker_case(mtc, opened_on=date(2026, 9, 1))
    svc.case_action_record(acting_user=worker, case=case, kind="call",
                           happened_on=date(2026, 9, 2))
    assert svc.cases_check_overdue(organisation=mtc.org, today=date(2026, 11, 1)) == {
        "first_action_overdue": 0, "resolution_overdue": 1}
    svc.case_close(acting_user=worker, case=case, outcome="no_result",
                   closed_on=date(2026, 11, 5))
    svc.case_action_record(acting_user=worker, case=case, kind="reopening",
                           happened_on=date(2026, 11, 20), note="L'employeur ne paie plus")
    case.refresh_from_db()
    assert case.resolution_due == date(2026, 11, 20) + timedelta(days=60)
    assert svc.cases_check_overdue(organisation=mtc.org, today=date(2026, 11, 21)) == {
        "first_action_overdue": 0, "resolution_overdue": 0}
    assert svc.cases_check_overdue(organisation=mtc.org, today=date(2027, 1, 20)) == {
        "first_action_overdue": 0, "resolution_overdue": 1}
    assert svc.cases_check_overdue(organisation=mtc.org, today=date(2027, 1, 21)) == {
        "first_action_overdue": 0, "resolution_overdue": 0}
    assert list(CaseAlert.objects.filter(case=case).order_by("due_on")
                .values_list("kind", "due_on")) == [
        ("resolution_overdue", date(2026, 10, 31)), ("resolution_overdue", date(2027, 1, 19))]
