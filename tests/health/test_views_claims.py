"""Health screens without a browser (claims side): claim entry with the automatic checks' answer
per line and field-level refusals writing nothing, the review queue and per-line decisions,
approval (maker-checker), payment batches with their journal entries (a double submit posts
once), reinsurance treaties, statements and the simulation, prevention sessions, indicators
and the RAMU report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jigi.health.models import (
    Claim,
    ClaimStatus,
    PaymentBatch,
    PreventionSession,
    ReinsuranceStatement,
    ReinsuranceTreaty,
)
from jigi.health.selectors_claims import AUTOMATIC_REASONS, MANUAL_REASONS
from jigi.health.services.claims import LineIn, claim_approve, claim_submit
from jigi.health.services.reinsurance import treaty_create
from jigi.ledger.models import JournalEntry, JournalLine
from tests.health.conftest import page_text

_text = page_text


def _submit(health, *lines, user="clinic", ben=None, days_ago=3):
    return claim_submit(acting_user=health.users[user],
                        card_number=(ben or health.head).card_number,
                        provider_id=health.provider.pk,
                        care_date=health.today - timedelta(days=days_ago),
                        lines=list(lines) or [LineIn("CONS", 1, 1_500)])


def _form(health, lines, **extra):
    data = {"card_number": health.head.card_number, "provider_id": str(health.provider.pk),
            "care_date": (health.today - timedelta(days=2)).isoformat(),
            "idempotency_key": "claim-form-1", "rows": "6"}
    for row, (code, qty, price) in enumerate(lines, start=1):
        data |= {f"item_{row}": code, f"qty_{row}": qty, f"price_{row}": price}
    return data | extra


# --- claim entry ------------------------------------------------------------------------------


def test_clinic_form_preselects_its_centre_and_offers_the_tariff(health, client_for):
    page = _text(client_for("clinic").get("/health/claims/new/"))
    assert f'<option value="{health.provider.pk}" selected>' in page
    assert '<option value="CONS" data-price="1500">' in page
    assert 'name="idempotency_key"' in page
    fragment = _text(client_for("mutual_manager").get(
        "/health/claims/tariff/", {"provider_id": health.provider.pk}))
    assert '<option value="CES" data-price="75000">' in fragment
    assert "<html" not in fragment


def test_entered_claim_shows_each_line_with_the_reason_in_words(health, client_for):
    health.package.exclusions = ["AMOX"]
    health.package.save()
    c = client_for("clinic")
    response = c.post("/health/claims/new/", _form(health, [
        ("CONS", "1", "1500"), ("AMOX", "10", "50"), ("GE", "1", "4000")]))
    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/health/claims/{claim.pk}/"
    page = _text(c.get(response["Location"]))
    line2 = page.split('id="line-2"')[1].split("</tr>")[0]
    assert 'data-status="rejected"' in page.split('id="line-2"')[1][:40]
    assert 'data-code="EXCLUDED"' in line2
    assert str(AUTOMATIC_REASONS["EXCLUDED"]) in line2
    line3 = page.split('id="line-3"')[1].split("</tr>")[0]
    assert str(AUTOMATIC_REASONS["PRICE_FAR_ABOVE_TARIFF"]) in line3
    assert claim.status == ClaimStatus.REVIEW
    assert f'data-status="{ClaimStatus.REVIEW}"' in page
    # Clinic staff read their claim's answer but do not review it.
    assert 'id="review-form"' not in page
    assert 'id="history"' in page


def test_again_with_the_same_form_key_gives_the_same_claim(health, client_for):
    c = client_for("clinic")
    first = c.post("/health/claims/new/", _form(health, [("CONS", "1", "1500")]))
    again = c.post("/health/claims/new/", _form(health, [("CONS", "1", "1500")]))
    assert first["Location"] == again["Location"]
    assert Claim.objects.count() == 1


@pytest.mark.parametrize(("change", "marker"), [
    ({"card_number": "M01-0000000"}, 'id="err-card"'),
    ({"qty_2": "deux"}, 'id="err-line-2"'),
    ({"qty_2": "0"}, 'id="err-line-2"'),
    ({"price_2": "12.5"}, 'id="err-line-2"'),
    ({"care_date": "2030-01-01"}, 'id="err-care-date"'),
    ({"diagnosis": "paludisme"}, 'id="err-diagnosis"'),
    ({"item_1": "", "qty_1": "", "price_1": "", "item_2": "", "qty_2": "", "price_2": ""},
     'id="err-lines"'),
])
def test_bad_claims_come_back_on_the_field_with_nothing_written(health, client_for, change,
                                                                marker):
    c = client_for("clinic")
    response = c.post("/health/claims/new/", _form(
        health, [("CONS", "1", "1500"), ("PARA", "10", "25")]) | change)
    assert response.status_code == 422
    page = _text(response)
    assert marker in page
    assert 'id="form-error"' in page
    # What was typed comes back.
    assert f'value="{change.get("item_1", "CONS")}"' in page
    assert Claim.objects.count() == 0


def test_clinic_staff_enter_only_for_their_centre(world, health, client_for):
    from jigi.health.services import provider_create

    other = provider_create(acting_user=health.users["union_admin"], code="CSREF-IV",
                            name="CSRef de la Commune IV", kind="csref")
    response = client_for("clinic").post("/health/claims/new/", _form(
        health, [("CONS", "1", "1500")], provider_id=str(other.pk)))
    # The centre is not among hers: the form asks for one of hers again.
    assert response.status_code == 422
    assert 'id="err-provider"' in _text(response)
    assert client_for("clinic_2").post("/health/claims/new/", _form(
        health, [("CONS", "1", "1500")])).status_code == 422
    assert Claim.objects.count() == 0


# --- review and approval ----------------------------------------------------------------------


@pytest.fixture
def flagged(health):
    """A blood count claimed at 6,000 F for a 2,500 F tariff: far above it, flagged."""
    return _submit(health, LineIn("CONS", 1, 1_500), LineIn("NFS", 1, 6_000))


def test_queue_lists_flagged_and_valued_claims_of_the_users_mutuals(health, flagged,
                                                                   client_for):
    valued = _submit(health, LineIn("GE", 1, 1_000), ben=health.spouses[0])
    page = _text(client_for("claims_officer").get("/health/claims/queue/"))
    assert f'id="review-{flagged.pk}"' in page
    assert str(AUTOMATIC_REASONS["PRICE_FAR_ABOVE_TARIFF"]) in page
    assert f'id="approve-{valued.pk}"' in page
    other = _text(client_for("manager_2").get("/health/claims/queue/"))
    assert flagged.number not in other
    assert client_for("clinic").get("/health/claims/queue/").status_code == 403
    assert client_for("manager_2").get(f"/health/claims/{flagged.pk}/").status_code == 404


def test_review_refusal_shows_on_the_line_then_decisions_value_the_claim(health, flagged,
                                                                        client_for):
    c = client_for("claims_officer")
    url = f"/health/claims/{flagged.pk}/review/"
    # Reducing without a reason: refused on line 2, nothing changed.
    response = c.post(url, {"action_2": "reduce", "price_2": "2000"})
    assert response.status_code == 422
    page = _text(response)
    assert 'id="err-decide-2"' in page
    assert 'id="action_2_reduce" style="min-height:auto" checked' in page
    flagged.refresh_from_db()
    assert flagged.status == ClaimStatus.REVIEW
    # No decision at all for the flagged line.
    assert c.post(url, {}).status_code == 422
    done = c.post(url, {"action_2": "reduce", "reason_2": "PRICE_NOT_JUSTIFIED",
                        "price_2": "2000"})
    assert done.status_code == 302
    flagged.refresh_from_db()
    line = flagged.lines.get(line_no=2)
    assert flagged.status == ClaimStatus.VALUED
    assert (line.status, line.allowed) == ("reduced", 2_000)
    page = _text(c.get(f"/health/claims/{flagged.pk}/"))
    assert str(MANUAL_REASONS["PRICE_NOT_JUSTIFIED"]) in page
    assert 'id="approve-submit"' in page


def test_approval_is_maker_checker_and_clinic_staff_never_approve(health, client_for):
    own = _submit(health, user="mutual_manager")
    c = client_for("mutual_manager")
    response = c.post(f"/health/claims/{own.pk}/approve/")
    assert response.status_code == 403
    assert own.number in _text(response)
    own.refresh_from_db()
    assert own.status == ClaimStatus.VALUED
    clinic_claim = _submit(health, LineIn("GE", 1, 1_000), ben=health.spouses[1])
    assert client_for("clinic").post(
        f"/health/claims/{clinic_claim.pk}/approve/").status_code == 403
    done = c.post(f"/health/claims/{clinic_claim.pk}/approve/", {"next": "queue"})
    assert done.status_code == 302
    assert done["Location"] == "/health/claims/queue/"
    clinic_claim.refresh_from_db()
    assert clinic_claim.status == ClaimStatus.APPROVED
    history = _text(c.get(f"/health/claims/{clinic_claim.pk}/")).split('id="history"')[1]
    assert str(ClaimStatus.APPROVED.label) in history
    assert "mutual_manager" in history


def test_reject_a_whole_claim_needs_a_coded_reason(health, flagged, client_for):
    c = client_for("claims_officer")
    url = f"/health/claims/{flagged.pk}/reject/"
    assert c.post(url, {"reason": ""}).status_code == 422
    assert c.post(url, {"reason": "OTHER"}).status_code == 422  # "other" needs a note
    assert c.post(url, {"reason": "SUSPECTED_FRAUD"}).status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == ClaimStatus.REJECTED


# --- payment batches --------------------------------------------------------------------------


@pytest.fixture
def approved(health):
    claims = [_submit(health), _submit(health, LineIn("GE", 1, 1_000), ben=health.spouses[0])]
    for claim in claims:
        claim_approve(acting_user=health.users["claims_officer"], claim=claim)
    return claims


def _lines(entry) -> list[tuple[str, str, int]]:
    return sorted(JournalLine.objects.filter(entry=entry).values_list(
        "account__code", "side", "amount"))


def test_prepare_approve_pay_with_the_entries_on_the_batch_page(health, approved, client_for):
    c = client_for("mutual_manager")
    total = sum(x.mutual_share for x in approved)
    listing = _text(c.get("/health/batches/"))
    assert health.provider.name in listing.split('id="waiting"')[1]
    response = c.post("/health/batches/", {
        "mutual": str(health.world.mutual_1.pk), "provider_id": str(health.provider.pk),
        "through": health.today.isoformat(), "idempotency_key": "prep-1"})
    batch = PaymentBatch.objects.get()
    assert response["Location"] == f"/health/batches/{batch.pk}/"
    assert batch.total == total
    page = _text(c.get(response["Location"]))
    for claim in approved:
        assert claim.number in page
    assert 'id="approve-batch"' in page
    url = f"/health/batches/{batch.pk}/approve/"
    assert c.post(url, {"idempotency_key": "ap-1"}).status_code == 302
    # The same form sent twice posts once.
    assert c.post(url, {"idempotency_key": "ap-1"}).status_code == 302
    batch.refresh_from_db()
    assert batch.status == "approved"
    assert JournalEntry.objects.filter(source_type="health.batch").count() == 1
    assert _lines(batch.approval_entry) == [("401", "C", total), ("601", "D", total)]
    paid = c.post(f"/health/batches/{batch.pk}/pay/", {"idempotency_key": "pay-1",
                                                       "paid_from": "57"})
    assert paid.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "paid"
    assert _lines(batch.payment_entry) == [("401", "D", total), ("57", "C", total)]
    page = _text(c.get(f"/health/batches/{batch.pk}/"))
    entries = page.split('id="entries"')[1]
    assert entries.count('class="card entry"') == 2
    assert "601" in entries
    assert "57" in entries
    assert Claim.objects.filter(status=ClaimStatus.PAID).count() == 2


def test_batch_refusals_write_nothing(health, approved, client_for):
    c = client_for("mutual_manager")
    nothing = c.post("/health/batches/", {
        "mutual": str(health.world.mutual_1.pk), "provider_id": str(health.provider.pk),
        "through": (health.today - timedelta(days=30)).isoformat(),
        "idempotency_key": "prep-0"})
    assert nothing.status_code == 409
    assert 'id="form-error"' in _text(nothing)
    assert PaymentBatch.objects.count() == 0
    c.post("/health/batches/", {"mutual": str(health.world.mutual_1.pk),
                                "provider_id": str(health.provider.pk),
                                "idempotency_key": "prep-1"})
    batch = PaymentBatch.objects.get()
    # A claims officer prepares but does not approve; paying before approval is a conflict.
    officer = client_for("claims_officer")
    assert officer.post(f"/health/batches/{batch.pk}/approve/",
                        {"idempotency_key": "x"}).status_code == 403
    early = c.post(f"/health/batches/{batch.pk}/pay/", {"idempotency_key": "p0",
                                                        "paid_from": "57"})
    assert early.status_code == 409
    bad_date = c.post(f"/health/batches/{batch.pk}/approve/",
                      {"idempotency_key": "a0", "value_date": "demain"})
    assert bad_date.status_code == 422
    assert client_for("manager_2").get(f"/health/batches/{batch.pk}/").status_code == 404
    batch.refresh_from_db()
    assert batch.status == "open"
    assert not JournalEntry.objects.filter(source_type="health.batch").exists()
    cancelled = c.post(f"/health/batches/{batch.pk}/cancel/", {"idempotency_key": "c1",
                                                               "reason": "Erreur"})
    assert cancelled.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "cancelled"
    assert Claim.objects.filter(batch__isnull=True, status=ClaimStatus.APPROVED).count() == 2


# --- reinsurance ------------------------------------------------------------------------------

TERMS_POST = {"cession_bp": "10", "xol_priority": "50000", "xol_share_bp": "100",
              "stop_loss_attachment_bp": "80"}


def _treaty(health, valid_from=date(2025, 1, 1), valid_until=date(2026, 12, 31)):
    return treaty_create(acting_user=health.users["union_admin"], mutual=health.world.mutual_1,
                         reference="RE-M01-2025", valid_from=valid_from,
                         valid_until=valid_until,
                         terms={"cession_bp": 1_000, "xol_priority": 50_000,
                                "stop_loss_attachment_bp": 8_000})


def test_union_admin_signs_a_treaty_from_the_form(health, client_for):
    c = client_for("union_admin")
    url = "/health/reinsurance/treaties/new/"
    base = {"mutual": str(health.world.mutual_1.pk), "reference": "RE-M01-26",
            "valid_from": "2026-01-01", "valid_until": "2026-12-31"}
    bad = c.post(url, base | TERMS_POST | {"cession_bp": "2.555"})
    assert bad.status_code == 422
    assert "field-error" in _text(bad).split('id="cession_bp"')[1].split("</div>")[0]
    assert ReinsuranceTreaty.objects.count() == 0
    limit_without_priority = c.post(url, base | {"xol_limit": "100000"})
    assert limit_without_priority.status_code == 422
    assert ReinsuranceTreaty.objects.count() == 0
    response = c.post(url, base | TERMS_POST)
    treaty = ReinsuranceTreaty.objects.get()
    assert response["Location"] == f"/health/reinsurance/treaties/{treaty.pk}/"
    assert treaty.terms["cession_bp"] == 1_000
    assert treaty.terms["xol_priority"] == 50_000
    assert treaty.terms["stop_loss_attachment_bp"] == 8_000
    page = _text(c.get(response["Location"]))
    assert "10 %" in page
    assert "50 000 F CFA" in page
    assert client_for("mutual_manager").get(url).status_code == 403


def test_statements_are_drawn_up_by_the_union_admin_and_read_by_the_mutual(health,
                                                                          client_for):
    treaty = _treaty(health)
    admin = client_for("union_admin")
    settle = f"/health/reinsurance/treaties/{treaty.pk}/settle/"
    # The current quarter has not ended: a conflict, nothing drawn up.
    early = admin.post(settle, {"year": "2026", "quarter": "4"})
    assert early.status_code == 409
    assert 'id="err-quarter"' in _text(early)
    assert not ReinsuranceStatement.objects.exists()
    manager = client_for("mutual_manager")
    assert manager.post(settle, {"year": "2026", "quarter": "3"}).status_code == 403
    assert 'id="settle-form"' not in _text(manager.get(
        f"/health/reinsurance/treaties/{treaty.pk}/"))
    done = admin.post(settle, {"year": "2026", "quarter": "3"})
    st = ReinsuranceStatement.objects.get()
    assert done["Location"] == f"/health/reinsurance/statements/{st.pk}/"
    page = _text(manager.get(done["Location"]))
    assert 'id="fig-contributions"' in page
    assert 'id="fig-premiums"' in page
    assert f'data-balance="{st.balance}"' in page
    assert st.figures["premiums"] == st.figures["contributions"] // 10
    # Asked again, the same statement.
    assert admin.post(settle, {"year": "2026", "quarter": "3"})["Location"] == \
        done["Location"]
    assert client_for("manager_2").get(done["Location"]).status_code == 404


def test_simulation_compares_the_year_with_and_without_the_treaty(health, client_for):
    _treaty(health)
    c = client_for("mutual_manager")
    url = f"/health/mutuals/{health.world.mutual_1.pk}/simulation/"
    page = _text(c.get(url, {"year": "2026"}))
    for q in (1, 2, 3, 4):
        assert f'id="q{q}"' in page
    assert 'id="year-with"' in page
    assert page.count('class="bar bar-with"') == 4
    assert page.count('class="bar bar-without"') == 4
    assert "RE-M01-2025" in page
    tried = _text(c.get(url, {"year": "2026", "try": "1", "cession_bp": "20"}))
    assert "20 %" in tried
    assert ReinsuranceTreaty.objects.count() == 1  # trying signs nothing
    bad = c.get(url, {"year": "2026", "try": "1", "xol_share_bp": "150"})
    assert bad.status_code == 422
    assert client_for("clinic").get(url).status_code == 404


# --- prevention -------------------------------------------------------------------------------


def test_a_session_and_its_attendance_by_card(health, client_for):
    c = client_for("mutual_manager")
    bad = c.post("/health/prevention/", {"unit": str(health.world.mutual_1.pk), "topic": "",
                                         "place": "CSCom", "held_on": "2026-11-18",
                                         "facilitator": "Awa"})
    assert bad.status_code == 422
    assert not PreventionSession.objects.exists()
    response = c.post("/health/prevention/", {
        "unit": str(health.world.mutual_1.pk), "topic": "Paludisme et moustiquaires",
        "place": "CSCom de Hamdallaye", "held_on": "2026-11-18", "facilitator": "Awa Coulibaly"})
    session = PreventionSession.objects.get()
    url = f"/health/prevention/{session.pk}/"
    assert response["Location"] == url
    page = _text(c.get(url, {"q": health.spouses[0].card_number}))
    spouse = health.family.spouses[0]
    assert f'value="{spouse.pk}"' in page
    assert c.post(f"{url}attendance/", {"person_ids": [str(spouse.pk)]}).status_code == 302
    assert list(session.attendees.values_list("pk", flat=True)) == [spouse.pk]
    assert spouse.full_name in _text(c.get(url)).split('id="attendees"')[1]
    assert c.post(f"{url}attendance/", {"person_ids": ["abc"]}).status_code == 422
    c.post(f"{url}attendance/", {"person_ids": [str(spouse.pk)], "remove": "1"})
    assert not session.attendees.exists()
    assert client_for("manager_2").get(url).status_code == 404
    # Clinic staff see the sessions but do not record them.
    assert client_for("clinic").get(url).status_code == 200
    assert client_for("clinic").post(f"{url}attendance/", {
        "person_ids": [str(spouse.pk)]}).status_code == 403


# --- indicators -------------------------------------------------------------------------------


def test_indicators_on_screen_and_as_csv(health, client_for):
    c = client_for("mutual_manager")
    page = _text(c.get("/health/indicators/", {"year": "2026"}))
    assert 'id="ind-M01"' in page
    assert 'id="ind-M02"' not in page
    m1 = health.world.mutual_1.pk
    detail = _text(c.get("/health/indicators/", {"year": "2026", "mutual": m1}))
    assert 'id="indicator-detail"' in detail
    csv = c.get("/health/indicators/", {"year": "2026", "mutual": m1, "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert "M01" in csv.content.decode("utf-8-sig")
    assert c.get("/health/indicators/", {"mutual": health.world.mutual_2.pk}
                 ).status_code == 404
    # The RAMU report is the union administrator's.
    assert c.get("/health/indicators/ramu/").status_code == 404
    admin = client_for("union_admin")
    ramu = _text(admin.get("/health/indicators/ramu/", {"year": "2026"}))
    assert 'id="ind-M01"' in ramu
    assert 'id="ind-M02"' in ramu
    assert 'id="ind-UTM"' in ramu
    assert admin.get("/health/indicators/ramu/", {"year": "2026", "format": "csv"}
                     )["Content-Disposition"] == 'attachment; filename="rapport-ramu-2026.csv"'


# --- garbage never gives a 500 ----------------------------------------------------------------

GARBAGE = ["", "abc", "-1", "99999999999999999999999", "1e5", "12.5", "\u202f", "<script>",
           "2026-13-45", "0"]


def test_garbage_in_any_field_is_refused_not_a_server_error(world, health, flagged,
                                                           client_for):
    from jigi.health.models import Contribution

    treaty = _treaty(health)
    manager = client_for("mutual_manager")
    admin = client_for("union_admin")
    payment = Contribution.objects.filter(coverage=health.coverage).first()
    batch_url = "/health/batches/"
    for value in GARBAGE:
        posts = [
            (manager, f"/health/coverages/{health.coverage.pk}/",
             {"amount": value, "paid_on": value, "channel": value, "savings_account": value,
              "idempotency_key": f"g-{value}"}),
            # (A reason is free text: any is a reason. Without one, the key alone is garbage.)
            (manager, f"/health/contributions/{payment.pk}/reverse/",
             {"idempotency_key": value}),
            (manager, f"/health/mutuals/{world.mutual_1.pk}/enrol/{health.family.head.pk}/",
             {"action": "enrol", "package": value, "enrolled_on": value,
              f"cover_{health.refused_child.pk}": "on", f"rel_{health.refused_child.pk}": value}),
            (manager, "/health/claims/new/",
             {"card_number": value, "provider_id": value, "care_date": value, "rows": value,
              "item_1": value, "qty_1": value, "price_1": value, "diagnosis": value,
              "idempotency_key": f"c-{value}"}),
            (manager, f"/health/claims/{flagged.pk}/review/",
             {"action_2": value, "reason_2": value, "qty_2": value, "price_2": value}),
            (manager, f"/health/claims/{flagged.pk}/reject/", {"reason": value}),
            (manager, batch_url, {"mutual": value, "provider_id": value, "through": value,
                                  "idempotency_key": f"b-{value}"}),
            (admin, f"/health/reinsurance/treaties/{treaty.pk}/settle/",
             {"year": value, "quarter": value}),
            (admin, "/health/reinsurance/treaties/new/",
             {"mutual": value, "valid_from": value, "valid_until": value, "cession_bp": value,
              "xol_priority": value, "stop_loss_limit_bp": value}),
            (manager, "/health/prevention/", {"unit": value, "held_on": value, "topic": value}),
        ]
        for client, url, data in posts:
            status = client.post(url, data).status_code
            assert status in (302, 403, 404, 409, 422), (url, value, status)
        gets = [
            f"/health/eligibility/?q={value}&group={value}&provider={value}",
            f"/health/mutuals/{world.mutual_1.pk}/?q={value}&status={value}",
            f"/health/mutuals/{world.mutual_1.pk}/simulation/?year={value}&try=1"
            f"&cession_bp={value}&xol_limit={value}",
            f"/health/indicators/?year={value}", f"/health/claims/?status={value}",
            f"/health/claims/new/?rows={value}&provider_id={value}",
        ]
        for url in gets:
            status = manager.get(url).status_code
            assert status in (200, 404, 422), (url, value, status)
    # Nothing was written by any of it.
    assert not ReinsuranceStatement.objects.exists()
    assert not PaymentBatch.objects.exists()
    assert Contribution.objects.filter(coverage=health.coverage).count() == 1
    assert payment.__class__.objects.get(pk=payment.pk).reversed_by_id is None
    assert Claim.objects.count() == 1
    flagged.refresh_from_db()
    assert flagged.status == ClaimStatus.REVIEW
