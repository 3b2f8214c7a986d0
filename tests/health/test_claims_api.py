"""The claims API end to end: entry with an Idempotency-Key, review, approval, a payment batch
posted once, reinsurance, prevention and indicators; refusals for other mutuals, other
providers' clinic staff, Kondo and MTC staff, and bad input (4xx, never 5xx, nothing written)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from jigi.health.models import Claim, PaymentBatch, ReinsuranceStatement
from jigi.ledger.models import JournalEntry

API = "/api/v1/health"


def post(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{API}{url}", json.dumps(body), content_type="application/json",
                       **headers)


def get(client, url, **params):
    return client.get(f"{API}{url}", params)


def sheet(health, *, ben=None, days_ago=3, lines=None, **extra):
    body = {"card_number": (ben or health.head).card_number, "provider_id": health.provider.pk,
            "care_date": (health.today - timedelta(days=days_ago)).isoformat(),
            "lines": lines if lines is not None else [
                {"item_code": "CONS", "quantity": 1, "unit_price": 1_500},
                {"item_code": "PARA", "quantity": 10, "unit_price": "25"}]}
    body.update(extra)
    return body


def test_clinic_enters_a_claim_and_a_retry_returns_the_same_claim(health, client_for):
    clinic = client_for("clinic")
    r = post(clinic, "/claims", sheet(health, diagnosis="B54"), key="fs-1")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["mutual_share"], body["copay"]) == ("valued", 1_050, 700)
    assert [x["status"] for x in body["lines"]] == ["accepted", "accepted"]
    assert [e["to"] for e in body["events"]] == ["entered", "valued"]

    again = post(clinic, "/claims", sheet(health, diagnosis="B54"), key="fs-1")
    assert (again.status_code, again.json()["id"]) == (201, body["id"])
    other = post(clinic, "/claims", sheet(health, diagnosis="A09"), key="fs-1")
    assert other.status_code == 409
    assert Claim.objects.count() == 1


def test_an_automatic_rejection_is_explained(health, client_for):
    r = post(client_for("clinic"), "/claims",
             sheet(health, lines=[{"item_code": "IRM", "quantity": 1, "unit_price": 90_000}]),
             key="fs-2")

    assert r.status_code == 201, r.content
    line = r.json()["lines"][0]
    assert r.json()["status"] == "rejected"
    assert line["reasons"][0]["code"] == "UNKNOWN_ITEM"
    assert line["reasons"][0]["label"] == "Acte ou médicament absent du tarif de la convention"


@pytest.mark.parametrize(("change", "field"), [
    ({"card_number": "M01-9999999"}, "card_number"),
    ({"care_date": "2030-01-01"}, "care_date"),
    ({"lines": [{"item_code": "CONS", "quantity": -2, "unit_price": 1_500}]},
     "lines.0.quantity"),
    ({"lines": [{"item_code": "CONS", "quantity": 1, "unit_price": 1_500.5}]},
     "lines.0.unit_price"),
    ({"lines": [{"item_code": "CONS", "quantity": 1, "unit_price": True}]},
     "lines.0.unit_price"),
    ({"lines": []}, "lines"),
    ({"diagnosis": "fièvre"}, "diagnosis"),
    ({"provider_id": 0}, "provider_id"),
])
def test_bad_input_gets_a_field_message_and_writes_nothing(health, client_for, change, field):
    r = post(client_for("clinic"), "/claims", sheet(health, **change), key="bad")

    assert r.status_code == 422, r.content
    assert field in r.json()["fields"]
    assert not Claim.objects.exists()


def test_a_money_call_without_key_is_refused(health, client_for):
    r = post(client_for("clinic"), "/claims", sheet(health))

    assert r.status_code == 400
    assert r.json()["code"] == "idempotency_key_required"
    assert not Claim.objects.exists()


def test_who_sees_a_claim(health, client_for):
    r = post(client_for("clinic"), "/claims", sheet(health), key="fs-1")
    pk = r.json()["id"]

    assert get(client_for("claims_officer"), f"/claims/{pk}").status_code == 200
    assert get(client_for("union_admin"), f"/claims/{pk}").status_code == 200
    for user in ("manager_2", "clinic_2", "teller_a", "organiser"):
        assert get(client_for(user), f"/claims/{pk}").status_code == 404, user
        assert get(client_for(user), "/claims").json() == [], user
    assert [c["id"] for c in get(client_for("clinic"), "/claims").json()] == [pk]


def test_refusals_for_other_roles(health, client_for):
    assert post(client_for("teller_a"), "/claims", sheet(health), key="k").status_code == 403
    assert post(client_for("clinic_2"), "/claims", sheet(health), key="k").status_code == 403
    officer_other = post(client_for("manager_2"), "/claims", sheet(health), key="k")
    assert officer_other.status_code == 422  # a card of a mutual she does not serve
    assert get(client_for("teller_a"),
               f"/mutuals/{health.world.mutual_1.pk}/review-queue").status_code == 404
    assert get(client_for("manager_2"),
               f"/mutuals/{health.world.mutual_1.pk}/indicators", year=2026).status_code == 404
    assert not Claim.objects.exists()


def test_review_approval_and_a_batch_paid_once(health, client_for):
    clinic, officer, manager = (client_for(u) for u in ("clinic", "claims_officer",
                                                          "mutual_manager"))
    flagged = post(clinic, "/claims", sheet(health, lines=[
        {"item_code": "NFS", "quantity": 1, "unit_price": 6_000}]), key="fs-1").json()
    assert flagged["status"] == "review"
    queue = get(officer, f"/mutuals/{health.world.mutual_1.pk}/review-queue").json()
    assert [c["id"] for c in queue] == [flagged["id"]]
    assert queue[0]["lines"][0]["reasons"][0]["code"] == "PRICE_FAR_ABOVE_TARIFF"

    r = post(officer, f"/claims/{flagged['id']}/review",
             {"decisions": [{"line_no": 1, "action": "accept"}]})
    assert (r.status_code, r.json()["status"]) == (200, "valued")
    assert post(clinic, f"/claims/{flagged['id']}/approve", {}).status_code == 403
    r = post(manager, f"/claims/{flagged['id']}/approve", {"note": "ok"})
    assert (r.status_code, r.json()["status"]) == (200, "approved")

    r = post(officer, f"/mutuals/{health.world.mutual_1.pk}/batches",
             {"provider_id": health.provider.pk})
    assert r.status_code == 201, r.content
    batch = r.json()
    assert (batch["total"], len(batch["claims"])) == (1_500, 1)
    assert post(manager, f"/batches/{batch['id']}/approve", {}).status_code == 400  # no key
    assert post(manager, f"/batches/{batch['id']}/approve", {}, key="b-1").status_code == 200
    entries = JournalEntry.objects.count()
    paid = post(manager, f"/batches/{batch['id']}/pay", {"paid_from": "57"}, key="b-2")
    replay = post(manager, f"/batches/{batch['id']}/pay", {"paid_from": "57"}, key="b-2")
    assert paid.status_code == replay.status_code == 200
    assert paid.json() == replay.json()
    assert paid.json()["status"] == "paid"
    assert JournalEntry.objects.count() == entries + 1
    assert get(manager, f"/claims/{flagged['id']}").json()["status"] == "paid"
    assert get(client_for("manager_2"), f"/batches/{batch['id']}").status_code == 404


def test_batch_with_another_mutual_s_claim_is_refused(health, client_for):
    theirs = post(client_for("clinic"), "/claims",
                  sheet(health, ben=health.other_beneficiary), key="fs-9").json()
    post(client_for("manager_2"), f"/claims/{theirs['id']}/approve", {})

    r = post(client_for("mutual_manager"), f"/mutuals/{health.world.mutual_1.pk}/batches",
             {"provider_id": health.provider.pk, "claim_ids": [theirs["id"]]})

    assert r.status_code == 404
    assert not PaymentBatch.objects.exists()


def test_reinsurance_through_the_api(health, client_for, time_machine):
    admin, manager = client_for("union_admin"), client_for("mutual_manager")
    mutual = health.world.mutual_1.pk
    terms = {"cession_bp": "500", "xol_priority": 50_000}
    assert post(manager, f"/mutuals/{mutual}/treaties",
                {"reference": "R1", "valid_from": "2026-01-01", "valid_until": "2026-12-31",
                 "terms": terms}).status_code == 403
    bad = post(admin, f"/mutuals/{mutual}/treaties",
               {"reference": "R1", "valid_from": "2026-01-01", "valid_until": "2026-12-31",
                "terms": {"xol_limit": 10}})
    assert (bad.status_code, list(bad.json()["fields"])) == (422, ["terms.xol_limit"])
    r = post(admin, f"/mutuals/{mutual}/treaties",
             {"reference": "R1", "valid_from": "2026-01-01", "valid_until": "2026-12-31",
              "terms": terms})
    assert r.status_code == 201, r.content
    treaty = r.json()
    assert treaty["terms"]["cession_bp"] == 500

    st = post(admin, f"/treaties/{treaty['id']}/statements", {"year": 2026, "quarter": 2},
              key="st-1")
    again = post(admin, f"/treaties/{treaty['id']}/statements", {"year": 2026, "quarter": 2},
                 key="st-2")
    assert st.status_code == again.status_code == 201
    assert st.json()["id"] == again.json()["id"]
    assert st.json()["figures"]["premiums"] == 1_155
    assert ReinsuranceStatement.objects.count() == 1
    sim = get(manager, f"/mutuals/{mutual}/reinsurance-simulation", year=2026).json()
    assert sim["with"]["annual"]["premiums"] == 1_155
    assert sim["without"]["annual"]["premiums"] == 0
    what_if = post(manager, f"/mutuals/{mutual}/reinsurance-simulation",
                   {"year": 2026, "terms": {"cession_bp": 1_000}})
    assert what_if.json()["with"]["annual"]["premiums"] == 2_310
    assert get(client_for("teller_a"), f"/treaties/{treaty['id']}").status_code == 404
    assert post(client_for("teller_a"), f"/treaties/{treaty['id']}/statements",
                {"year": 2026, "quarter": 1}, key="x").status_code == 404


def test_prevention_and_indicators(health, client_for):
    manager = client_for("mutual_manager")
    r = post(manager, "/prevention-sessions",
             {"unit_id": health.world.mutual_1.pk, "topic": "Paludisme", "place": "Hamdallaye",
              "held_on": (health.today - timedelta(days=1)).isoformat(),
              "facilitator": "Dr Keïta"})
    assert r.status_code == 201, r.content
    session = r.json()
    r = post(manager, f"/prevention-sessions/{session['id']}/attendance",
             {"person_ids": [health.head.person_id]})
    assert (r.status_code, r.json()["added"]) == (200, 1)
    assert post(client_for("teller_a"), "/prevention-sessions",
                {"unit_id": health.world.mutual_1.pk, "topic": "x", "place": "y",
                 "held_on": "2026-11-01", "facilitator": "z"}).status_code == 404

    ind = get(manager, f"/mutuals/{health.world.mutual_1.pk}/indicators", year=2026).json()
    assert (ind["members"], ind["beneficiaries"], ind["prevention_attendance"]) == (1, 6, 1)
    assert ind["collection_rate"] == "100.0"
    csv = get(manager, f"/mutuals/{health.world.mutual_1.pk}/indicators.csv",
              date_from="2026-01-01", date_to="2026-12-31")
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().count("\n") == 2
    assert get(manager, f"/mutuals/{health.world.mutual_1.pk}/indicators",
               date_from="2026-12-31", date_to="2026-01-01").status_code == 422
    assert get(manager, "/ramu-report", year=2026).status_code == 404
    ramu = get(client_for("union_admin"), "/ramu-report.csv", year=2026)
    assert ramu.status_code == 200
    assert ramu.content.decode().count("\n") == 4  # header, M01, M02, total
    assert get(client_for("union_admin"), "/ramu-report", year=99_999).status_code == 422
    assert date(2026, 1, 1) < health.today
