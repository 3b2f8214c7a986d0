"""The shape every report takes, and its CSV, XLSX and JSON renderings.

A report is a title, the as-of date, the perimeter and a list of tables; a table is typed
columns, rows (dicts) and an optional total row. Renderers know nothing of the database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

# Column kinds: text, int (a count), francs (integer F CFA), pct (Decimal percent or None),
# date, status (green | red | na).
KINDS = ("text", "int", "francs", "pct", "date", "status")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] | None = None
    note: str = ""


@dataclass
class Report:
    name: str
    title: str
    on: date
    perimeter: str
    tables: list[Table]
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def plain(value: Any) -> Any:
    """A cell as JSON/CSV wants it: Decimal percents as strings ("5.23"), dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_json(report: Report) -> dict[str, Any]:
    return {
        "report": report.name,
        "title": str(report.title),
        "on": report.on.isoformat(),
        "perimeter": report.perimeter,
        "params": {k: plain(v) for k, v in report.params.items()},
        "tables": [
            {
                "key": t.key,
                "title": str(t.title),
                "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind}
                            for c in t.columns],
                "rows": [{c.key: plain(r.get(c.key)) for c in t.columns} for r in t.rows],
                "total": None if t.total is None else
                {c.key: plain(t.total.get(c.key)) for c in t.columns},
            }
            for t in report.tables
        ],
    }


def to_csv(report: Report) -> str:
    """One block per table: a title line, the header, the rows, the total; blank line between.
    Cells are raw values (francs as integers, percents as "5.23"), for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(report.title), report.on.isoformat(), report.perimeter])
    for t in report.tables:
        writer.writerow([])
        writer.writerow([str(t.title)])
        writer.writerow([str(c.label) for c in t.columns])
        for r in t.rows:
            writer.writerow(_csv_row(t, r))
        if t.total is not None:
            writer.writerow(_csv_row(t, t.total))
    return out.getvalue()


def _csv_row(t: Table, r: dict[str, Any]) -> list[Any]:
    return ["" if r.get(c.key) is None else plain(r.get(c.key)) for c in t.columns]


def to_xlsx(report: Report) -> bytes:
    """One sheet per table; francs as integers with a thousands format, percents as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for t in report.tables:
        ws = wb.create_sheet(title=_sheet_name(t.key, wb.sheetnames))
        ws.append([str(report.title), report.on.isoformat(), report.perimeter])
        ws.append([str(t.title)])
        ws.append([str(c.label) for c in t.columns])
        for cell in ws[3]:
            cell.font = Font(bold=True)
        rows = list(t.rows) + ([t.total] if t.total is not None else [])
        for r in rows:
            ws.append([_xlsx_cell(c, r.get(c.key)) for c in t.columns])
        for idx, c in enumerate(t.columns, start=1):
            fmt = {"francs": "#,##0", "int": "#,##0", "pct": "0.00", "date": "yyyy-mm-dd"
                   }.get(c.kind)
            if fmt:
                for row in ws.iter_rows(min_row=4, min_col=idx, max_col=idx):
                    row[0].number_format = fmt
        if t.total is not None:
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_cell(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "pct" and isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as a number
    if isinstance(value, (int, Decimal, date)):
        return value
    return str(value)


def _sheet_name(key: str, taken: list[str]) -> str:
    name = "".join(ch for ch in key if ch not in "[]:*?/\\")[:28] or "table"
    base, n = name, 2
    while name in taken:
        name = f"{base[:26]}{n}"
        n += 1
    return name
