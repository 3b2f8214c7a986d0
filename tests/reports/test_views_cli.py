"""Screens, downloads (CSV, XLSX), the CLI, access by role and bad input."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from tests.reports.conftest import D

L1_OUT = 200_000 - 32_172
GROSS = 369_228


def test_manager_sees_her_caisse_par_on_screen(book, client_for):
    c = client_for("manager_a")
    r = c.get("/reports/par/", {"on": D.isoformat(), "by": "caisse"})
    assert r.status_code == 200
    body = r.content.decode()
    assert "C001 Caisse de Niono" in body
    assert "72,54 %" in body  # PAR1, French decimal comma
    assert 'id="download-xlsx"' in body
    # htmx asks for the fragment only.
    r = c.get("/reports/par/", {"on": D.isoformat()}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert "<html" not in r.content.decode()


def test_csv_and_xlsx_content(book, client_for):
    c = client_for("auditor")
    r = c.get("/reports/par/", {"on": D.isoformat(), "format": "csv"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    data = next(row for row in rows if row and row[0] == "C001 Caisse de Niono")
    assert data[1:5] == ["3", str(GROSS), str(L1_OUT + 100_000), "72.54"]
    r = c.get("/reports/ageing/", {"on": D.isoformat(), "format": "xlsx"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb["ageing"]
    values = [row for row in ws.iter_rows(min_row=4, values_only=True)]
    assert values[0][1:3] == (1, GROSS - L1_OUT - 100_000)
    assert values[-1][2] == GROSS  # the total row


def test_every_report_renders(book, client_for):
    c = client_for("auditor")
    for name in ("par", "ageing", "provisions", "flows", "yield", "writeoffs",
                 "trial_balance", "balance_sheet", "income_statement", "prudential", "social"):
        r = c.get(f"/reports/{name}/", {"on": D.isoformat()})
        assert r.status_code == 200, name
        assert c.get(f"/reports/{name}/", {"on": D.isoformat(), "format": "xlsx"}
                     ).status_code == 200


def test_dashboard_inline_svg(book, client_for):
    r = client_for("manager_a").get("/reports/dashboard/", {"on": D.isoformat()})
    assert r.status_code == 200
    body = r.content.decode()
    assert body.count("<svg") == 2
    assert 'id="top-risk"' in body
    assert len(r.content) < 60_000  # readable on a slow link


@pytest.mark.parametrize("user", ["teller_a", "clinic", "mutual_manager", "organiser"])
def test_staff_without_report_role_refused(book, client_for, user):
    c = client_for(user)
    assert c.get("/reports/par/", {"on": D.isoformat()}).status_code == 403
    assert c.get("/reports/par/", {"on": D.isoformat(), "format": "csv"}).status_code == 403
    assert c.get("/reports/dashboard/").status_code == 403


def test_other_or_unknown_caisse_is_404(book, client_for):
    c = client_for("manager_a")
    for code in ("C002", "R-SEG", "NOPE", "RES"):
        r = c.get("/reports/par/", {"on": D.isoformat(), "unit": code, "format": "json"})
        assert r.status_code == 404, code
        assert r.json()["code"] == "unit_not_found"
    # The auditor may narrow to any unit of the network, not to an unknown one.
    a = client_for("auditor")
    assert a.get("/reports/par/", {"on": D.isoformat(), "unit": "C002"}).status_code == 200
    assert a.get("/reports/par/", {"on": D.isoformat(), "unit": "X"}).status_code == 404


@pytest.mark.parametrize(("query", "field"), [
    ({"on": "2026-13-01"}, "on"), ({"on": "hier"}, "on"), ({"on": "2027-01-01"}, "on"),
    ({"by": "astrology"}, "by"), ({"from": "2026-06-01", "on": "2026-05-01"}, "from"),
])
def test_bad_input_is_422(book, client_for, query, field):
    r = client_for("auditor").get("/reports/flows/", {**query, "format": "json"})
    assert r.status_code == 422
    assert field in r.json()["fields"]


def test_unknown_report_404(book, client_for):
    assert client_for("auditor").get("/reports/horoscope/").status_code == 404


def test_cli_par_json_and_csv(book, capsys):
    call_command("report", "par", "--on", D.isoformat(), "--by", "caisse", "--format", "json")
    out = json.loads(capsys.readouterr().out)
    row = out["tables"][0]["rows"][0]
    assert out["on"] == "2026-05-12"
    assert row["outstanding"] == GROSS
    assert (row["par1"], row["par30"], row["par60"], row["par90"]) == (
        "72.54", "45.45", "45.45", "0.00")
    call_command("report", "par", "--on", "2026-03-31", "--format", "csv")
    text = capsys.readouterr().out
    assert f"C001 Caisse de Niono,2,{L1_OUT + 150_000},{L1_OUT},52.80" in text


def test_cli_bad_input_exit_2(book, capsys):
    with pytest.raises(SystemExit) as exc:
        call_command("report", "par", "--on", "2026-02-30")
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "on" in captured.err
    with pytest.raises(SystemExit):
        call_command("report", "par", "--unit", "C999")
    assert "C999" in capsys.readouterr().err
