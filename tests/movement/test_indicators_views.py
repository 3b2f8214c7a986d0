"""The decent-work screen: figures as the records give them, the htmx fragment, the three CSV
exports, and the refusals (outsiders and another section: 404; a bad filter: 422)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from jigi.movement.services.indicators import indicator_snapshot_take
from jigi.orgs.models import MemberGroup
from tests.movement.test_indicators import members  # noqa: F401

URL = "/movement/indicators/"


def _rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_page_shows_the_movement_s_figures(mtc, members, client_for):  # noqa: F811
    response = client_for("case_worker_1").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="now-contract"' in html
    now = response.context["now"]
    by_key = {c["key"]: c for c in now}
    assert (by_key["contract"]["numerator"], by_key["contract"]["denominator"]) == (2, 4)
    assert by_key["contract"]["share"] == "50,0 %"
    assert by_key["hours"]["share"] == "50,0 %"
    assert by_key["teachers_below_smig"]["amount"] == 75_000
    assert "50,0 %" in html
    lines = {line["value"]: line for line in response.context["breakdown"]}
    assert set(lines) == {"teachers", "domestic", "artisans", "youth"}
    artisans = {c["key"]: c for c in lines["artisans"]["cells"]}
    assert artisans["smig"]["share"] == "100,0 %"
    assert artisans["hours"]["share"] == "–"  # nobody concerned, not 0 %
    assert len(response.context["series"]) == 12


def test_by_sex_and_a_group_filter(mtc, members, client_for):  # noqa: F811
    response = client_for("movement_admin").get(URL, {"by": "sex",
                                                      "group": MemberGroup.DOMESTIC})
    lines = {line["value"]: line for line in response.context["breakdown"]}
    assert set(lines) == {"F"}
    cells = {c["key"]: c for c in lines["F"]["cells"]}
    assert (cells["minors"]["numerator"], cells["minors"]["denominator"]) == (1, 2)


def test_htmx_gets_the_results_only(mtc, members, client_for):  # noqa: F811
    response = client_for("case_worker_1").get(URL, {"by": "age_band"},
                                                   HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="by-under_15"' in html


def test_csv_exports(mtc, members, client_for, time_machine):  # noqa: F811
    indicator_snapshot_take(organisation=mtc.org, month=date(2026, 10, 1))
    client = client_for("case_worker_1")
    now = _rows(client.get(URL, {"format": "csv"}))
    assert len(now) == 9
    assert now[1][1:4] == ["2", "4", "50,0"]
    assert now[7][1:5] == ["1", "2", "50,0", "75000"]  # teachers below the SMIG, pay owed
    by = _rows(client.get(URL, {"format": "csv", "table": "by", "by": "group"}))
    assert [row[0] for row in by[1:]] == [str(label) for _v, label in MemberGroup.choices]
    series = _rows(client.get(URL, {"format": "csv", "table": "series"}))
    assert len(series) == 13
    assert series[-2][:4] == ["2026-10", "2", "4", "50,0"]
    assert series[-1][1:4] == ["", "", ""]  # no snapshot kept for November


def test_an_organiser_sees_her_section(mtc, members, client_for):  # noqa: F811
    client = client_for("organiser")
    response = client.get(URL)
    assert response.status_code == 200
    by_key = {c["key"]: c for c in response.context["now"]}
    assert (by_key["smig"]["numerator"], by_key["smig"]["denominator"]) == (1, 2)
    assert [s.pk for s in response.context["sections"]] == [mtc.sections["domestic"].pk]
    assert client.get(URL, {"section": mtc.sections["artisans"].pk}).status_code == 404


@pytest.mark.parametrize("username", ["teller_a", "mutual_manager"])
def test_outsiders_get_a_404(mtc, members, client_for, username):  # noqa: F811
    assert client_for(username).get(URL).status_code == 404
    assert client_for(username).get(URL, {"format": "csv"}).status_code == 404


def test_a_bad_group_is_refused_on_the_form(mtc, members, client_for):  # noqa: F811
    response = client_for("movement_admin").get(URL, {"group": "farmers"})
    assert response.status_code == 422
    assert "group" in response.context["field_errors"]
    assert 'id="error"' in response.content.decode()


def test_login_required(mtc, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_series_up_to_a_month(mtc, members, client_for):  # noqa: F811
    indicator_snapshot_take(organisation=mtc.org, month=date(2026, 10, 1))
    client = client_for("movement_admin")
    response = client.get(URL, {"until": "2026-10"})
    months = [p["month"] for p in response.context["series"]]
    assert (months[0], months[-1]) == (date(2025, 11, 1), date(2026, 10, 1))
    assert response.context["series"][-1]["cells"][0]["numerator"] == 2
    later = client.get(URL, {"until": "2030-01"}).context["series"]
    assert later[-1]["month"] == date(2026, 11, 1)  # never after this month
    for bad in ("octobre", "0001-01"):
        response = client.get(URL, {"until": bad})
        assert response.status_code == 422
        assert "until" in response.context["field_errors"]


def test_csv_headers_in_the_reader_s_language(mtc, members, client_for):  # noqa: F811
    client = client_for("case_worker_1")
    rows = _rows(client.get(URL, {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert rows[0] == ["Indicator", "Numerator", "Denominator", "%", "Amount"]
    assert rows[1][0] == ("Written contract (domestic workers; teachers on State or local "
                          "contract)")
    assert rows[7][0] == "Teachers paid below the SMIG"
