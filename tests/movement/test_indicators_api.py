"""The indicators API router, mounted in a test NinjaAPI with the project's error format (the
lead mounts it at /api/v1/movement): figures, series, snapshots, the gender figures, and the
refusals (404 outside MTC or another section, 403 for a non-administrator's snapshot, 422)."""

from __future__ import annotations

import pytest
from ninja import NinjaAPI
from ninja.testing import TestClient

from jigi.core.errors import ApplicationError
from jigi.movement.api_indicators import router
from jigi.movement.models import IndicatorSnapshot
from tests.movement.test_gender import people  # noqa: F401
from tests.movement.test_indicators import members  # noqa: F401


@pytest.fixture(scope="module")
def api_client():
    api = NinjaAPI(urls_namespace="test-movement-indicators")

    @api.exception_handler(ApplicationError)
    def on_error(request, exc):
        return api.create_response(request, exc.as_dict(), status=exc.status_code)

    api.add_router("/movement", router)
    return TestClient(api)


def test_now_with_breakdowns(mtc, members, api_client):  # noqa: F811
    response = api_client.get("/movement/indicators", user=mtc.users["case_worker_1"])
    assert response.status_code == 200
    body = response.json()
    assert (body["members"], body["law"]["smig"]) == (7, 40_000)
    contract = body["indicators"]["contract"]
    assert (contract["numerator"], contract["denominator"], contract["share"]) == (2, 4, "50.0")
    assert body["indicators"]["teachers_below_smig"]["amount"] == 75_000
    assert body["indicators"]["hours"]["by"]["group"] == {
        "domestic": {"numerator": 1, "denominator": 2, "share": "50.0", "amount": 0}}
    empty = api_client.get("/movement/indicators?group=artisans",
                           user=mtc.users["case_worker_1"]).json()
    assert empty["indicators"]["hours"]["share"] is None


def test_refusals(mtc, members, api_client):  # noqa: F811
    assert api_client.get("/movement/indicators", user=mtc.users["teller_a"]
                          ).status_code == 404
    response = api_client.get(f"/movement/indicators?section={mtc.sections['artisans'].pk}",
                              user=mtc.users["organiser"])
    assert response.status_code == 404
    response = api_client.get("/movement/indicators?group=farmers",
                              user=mtc.users["movement_admin"])
    assert (response.status_code, list(response.json()["fields"])) == (422, ["group"])
    response = api_client.get("/movement/indicators/series?months=0",
                              user=mtc.users["movement_admin"])
    assert response.status_code == 422
    response = api_client.get("/movement/indicators/series?until=0001-01-01",
                              user=mtc.users["movement_admin"])
    assert (response.status_code, list(response.json()["fields"])) == (422, ["until"])


def test_snapshot_and_series(mtc, members, api_client):  # noqa: F811
    admin = mtc.users["movement_admin"]
    response = api_client.post("/movement/indicators/snapshots", json={"month": "2026-10-01"},
                               user=admin)
    assert response.status_code == 201
    assert response.json() == {"month": "2026-10", "created": True, "smig": 40_000,
                               "members": 7}
    again = api_client.post("/movement/indicators/snapshots", json={"month": "2026-10-15"},
                            user=admin)
    assert (again.status_code, again.json()["created"]) == (200, False)
    series = api_client.get("/movement/indicators/series?months=3", user=admin).json()
    assert [p["month"] for p in series] == ["2026-09", "2026-10", "2026-11"]
    assert series[0]["indicators"] is None
    assert series[1]["indicators"]["contract"]["numerator"] == 2
    future = api_client.post("/movement/indicators/snapshots", json={"month": "2027-01-01"},
                             user=admin)
    assert (future.status_code, list(future.json()["fields"])) == (422, ["month"])


def test_only_the_administrator_takes_a_snapshot(mtc, members, api_client):  # noqa: F811
    body = {"month": "2026-10-01"}
    assert api_client.post("/movement/indicators/snapshots", json=body,
                           user=mtc.users["case_worker_1"]).status_code == 403
    assert api_client.post("/movement/indicators/snapshots", json=body,
                           user=mtc.users["teller_a"]).status_code == 404
    assert not IndicatorSnapshot.objects.exists()


def test_gender_figures(mtc, people, api_client):  # noqa: F811
    body = api_client.get("/movement/gender?date_from=2026-01-01&date_to=2026-11-20",
                          user=mtc.users["movement_admin"]).json()
    assert body["movement"] is True
    assert body["members"]["sex"]["lines"] == {"F": {"members": 2}, "M": {"members": 2}}
    assert body["cases"]["sex"]["total"]["wages_recovered"] == 30_000
    assert body["rural_women"]["members"] == 2
    outsider = api_client.get("/movement/gender", user=mtc.users["teller_a"]).json()
    assert outsider["movement"] is False
    assert outsider["members"]["sex"]["total"] == {"members": 0}
    assert outsider["trainings"]["sex"]["total"]["enrolled"] == 1
    response = api_client.get("/movement/gender?date_from=2026-12-01&date_to=2026-01-01",
                              user=mtc.users["movement_admin"])
    assert response.status_code == 422
    response = api_client.get(f"/movement/gender?section={mtc.sections['domestic'].pk}",
                              user=mtc.users["mutual_manager"])
    assert response.status_code == 404

