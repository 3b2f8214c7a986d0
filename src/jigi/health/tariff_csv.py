"""A convention's tariff list read from a CSV file (pure: no Django).

The file a union or a mutual gets from a health centre, or types in a spreadsheet: one act or
drug per line, columns separated by semicolons (what a French spreadsheet writes),

    code;label;kind;group;price;max_quantity
    CONS;Consultation curative;act;consultation;1500;1

The header line is optional (without it the columns are in that order) and, when present,
may name the columns in another order (French names accepted: libelle, type, groupe, prix,
quantite_max). `max_quantity` may be left empty or left out. Kinds are "act" or "drug" ("acte",
"médicament"); groups are the service groups the caller passes (its codes and labels).

Every line is checked and every problem reported with its line number, so that one reading
of the file tells the user all there is to fix: the caller imports nothing unless `ok`.
Prices are whole francs CFA (`core.money.to_francs`: no float, no cents). Limits are the
convention service's (code, label, price, quantity), so that what passes here passes there.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from jigi.core.money import MoneyError, to_francs

COLUMNS = ("code", "label", "kind", "group", "price", "max_quantity")
REQUIRED = COLUMNS[:5]
HEADER_NAMES = {
    "code": "code", "label": "label", "libelle": "label", "kind": "kind", "type": "kind",
    "nature": "kind", "group": "group", "groupe": "group", "price": "price", "prix": "price",
    "tarif": "price", "max_quantity": "max_quantity", "quantite_max": "max_quantity",
    "qte_max": "max_quantity",
}
KINDS = {"act": "act", "acte": "act", "drug": "drug", "medicament": "drug"}

MAX_LINES = 5_000  # as many items as convention_create takes in one tariff
MAX_BYTES = 1_000_000
MAX_PRICE = 50_000_000
MAX_QUANTITY = 10_000
MAX_LABEL = 200
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,23}$")

# Problem codes (stable: the service words them, tests name them).
ENCODING = "encoding"
TOO_LARGE = "too_large"
TOO_MANY_LINES = "too_many_lines"
EMPTY = "empty"
UNREADABLE = "unreadable"
HEADER = "header"
COLUMN_COUNT = "columns"
CODE = "code"
DUPLICATE = "duplicate"
LABEL_REQUIRED = "label_required"
LABEL_TOO_LONG = "label_too_long"
LABEL_CONTROL = "label_control"
KIND = "kind"
GROUP = "group"
PRICE = "price"
PRICE_FRACTION = "price_fraction"
PRICE_NOT_POSITIVE = "price_not_positive"
PRICE_TOO_LARGE = "price_too_large"
QUANTITY = "quantity"


@dataclass(frozen=True)
class Item:
    """One line of the tariff, clean: code in capitals, whole francs."""

    code: str
    label: str
    kind: str
    group: str
    price: int
    max_quantity: int | None

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "label": self.label, "kind": self.kind, "group": self.group,
                "price": self.price, "max_quantity": self.max_quantity}


@dataclass(frozen=True)
class Problem:
    """What is wrong on `line` (1-based; 0 for the whole file), in which column ("" for the
    whole line); `detail` says more for some codes (the first line of a duplicate code, the
    number of columns expected)."""

    line: int
    column: str
    code: str
    detail: str = ""


@dataclass(frozen=True)
class Parsed:
    items: tuple[Item, ...]
    problems: tuple[Problem, ...]
    # The text of each line with a problem, to show it next to its messages.
    lines: Mapping[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.items)


def fold(text: str) -> str:
    """Lower case without accents or surrounding spaces: "Médicament " -> "medicament"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def decode(data: bytes) -> str | None:
    """The file's text: UTF-8 (with or without the BOM a spreadsheet adds), else Windows-1252
    (what Excel writes in French on Windows); None when it is neither (a picture, a .xlsx)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    # A binary file often decodes as cp1252 too; text has no NUL and few control bytes.
    if "\x00" in text or sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t") > 8:
        return None
    return text


def _whole(problem: str, detail: str = "") -> Parsed:
    return Parsed((), (Problem(0, "", problem, detail),))


def _price(text: str) -> tuple[int | None, str | None]:
    try:
        price = to_francs(text)
    except MoneyError as exc:
        return None, {"fractional_franc": PRICE_FRACTION, "zero": PRICE_NOT_POSITIVE,
                      "negative": PRICE_NOT_POSITIVE, "too_large": PRICE_TOO_LARGE,
                      }.get(str(exc), PRICE)
    if price > MAX_PRICE:
        return None, PRICE_TOO_LARGE
    return price, None


def _quantity(text: str) -> tuple[int | None, bool]:
    compact = text.replace(" ", "").replace("\xa0", "").replace("\u202f", "")
    if not compact:
        return None, True
    if not compact.isascii() or not compact.isdigit() or len(compact) > 6:
        return None, False
    value = int(compact)
    return (value, True) if 1 <= value <= MAX_QUANTITY else (None, False)


def _header(cells: list[str]) -> tuple[list[str] | None, Problem | None]:
    """The columns named by a header line, or None when the line is data (a header names at
    least three known columns; no tariff line looks like that)."""
    names = [fold(c).replace(" ", "_").replace("-", "_") for c in cells]
    while names and not names[-1]:
        names.pop()
    if sum(1 for n in names if n in HEADER_NAMES) < 3:
        return None, None
    columns = [HEADER_NAMES.get(n, "") for n in names]
    unknown = [cells[i].strip() for i, c in enumerate(columns) if not c]
    missing = [c for c in REQUIRED if c not in columns]
    twice = sorted({c for c in columns if c and columns.count(c) > 1})
    if unknown or missing or twice:
        return None, Problem(1, "", HEADER, ", ".join(unknown + missing + twice))
    return columns, None


def parse(text: str, *, groups: Mapping[str, str]) -> Parsed:
    """Read a tariff list. `groups` maps each accepted way of writing a service group
    (folded: see `fold`) to its code. Never raises: problems are returned."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return _whole(TOO_LARGE, str(MAX_BYTES))
    raw = [line.rstrip("\r\n") for line in io.StringIO(text, newline="").readlines()]
    if len(raw) > MAX_LINES + 1:
        return _whole(TOO_MANY_LINES, str(MAX_LINES))
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(raw, delimiter=";")
    last = 0
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            if any(c.strip() for c in cells):
                rows.append((start, cells))
    except csv.Error:
        line = last + 1
        return Parsed((), (Problem(line, "", UNREADABLE),),
                      {line: raw[line - 1] if line <= len(raw) else ""})
    if not rows:
        return _whole(EMPTY)
    columns = list(COLUMNS)
    problems: list[Problem] = []
    named, bad_header = _header(rows[0][1])
    if bad_header is not None:
        return Parsed((), (Problem(rows[0][0], "", HEADER, bad_header.detail),),
                      {rows[0][0]: raw[rows[0][0] - 1]})
    if named is not None:
        columns = named
        rows = rows[1:]
        if not rows:
            return _whole(EMPTY)
    items: list[Item] = []
    first_line: dict[str, int] = {}
    for line, cells in rows:
        values = list(cells)
        while len(values) > len(columns) and not values[-1].strip():
            values.pop()  # spreadsheets add empty columns at the end
        optional = len(columns) - sum(1 for c in columns if c in REQUIRED)
        if not len(columns) - optional <= len(values) <= len(columns):
            problems.append(Problem(line, "", COLUMN_COUNT, str(len(columns))))
            continue
        cell = dict(zip(columns, values, strict=False))
        found: list[Problem] = []
        code = cell["code"].strip().upper()
        if not CODE_RE.match(code):
            found.append(Problem(line, "code", CODE))
        elif code in first_line:
            found.append(Problem(line, "code", DUPLICATE, str(first_line[code])))
        else:
            first_line[code] = line
        label = cell["label"].strip()
        if not label:
            found.append(Problem(line, "label", LABEL_REQUIRED))
        elif len(label) > MAX_LABEL:
            found.append(Problem(line, "label", LABEL_TOO_LONG, str(MAX_LABEL)))
        elif any(ord(c) < 32 or ord(c) == 127 for c in label):
            found.append(Problem(line, "label", LABEL_CONTROL))
        kind = KINDS.get(fold(cell["kind"]))
        if kind is None:
            found.append(Problem(line, "kind", KIND))
        group = groups.get(fold(cell["group"]))
        if group is None:
            found.append(Problem(line, "group", GROUP))
        price, price_problem = _price(cell["price"])
        if price_problem is not None:
            found.append(Problem(line, "price", price_problem, str(MAX_PRICE)))
        quantity, quantity_ok = _quantity(cell.get("max_quantity", "") or "")
        if not quantity_ok:
            found.append(Problem(line, "max_quantity", QUANTITY, str(MAX_QUANTITY)))
        if found or kind is None or group is None or price is None:
            problems.extend(found)
            continue
        items.append(Item(code, label, kind, group, price, quantity))
    shown = {p.line: raw[p.line - 1] for p in problems if 0 < p.line <= len(raw)}
    return Parsed(tuple(items), tuple(problems), shown)


def render(items: list[Item] | tuple[Item, ...], *, header: bool = True) -> str:
    """The tariff as the CSV `parse` reads (for an export, and the tests' round trip)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
    for i in items:
        writer.writerow([i.code, i.label, i.kind, i.group, i.price,
                         "" if i.max_quantity is None else i.max_quantity])
    return out.getvalue()
