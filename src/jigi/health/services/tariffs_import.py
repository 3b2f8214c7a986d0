"""A convention's tariff imported from a CSV file, all or nothing.

The file is read and checked line by line by the pure `health.tariff_csv` (every problem of
every line reported at once); if anything is wrong nothing is written and the refusal carries,
per line, its text and what is wrong with it in words. Otherwise every item is added to the
convention or, for a code the tariff has already, changed (label, kind, group, price,
quantity limit) as `tariff_item_save` does one at a time, in one transaction with one audit
row. Items of the tariff that the file does not mention stay: claim lines keep pointing at
them, so a tariff is never cut by an import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError
from jigi.health import tariff_csv
from jigi.health.models import Convention, ServiceGroup, TariffItem
from jigi.health.services._common import (
    MANAGER_ROLES,
    require_mutual,
    require_role,
    require_union_admin,
)

ITEM_FIELDS = ("label", "kind", "group", "price", "max_quantity")

MESSAGES: dict[str, Any] = {
    tariff_csv.ENCODING: _("This is not a text (CSV) file: save the sheet as CSV (semicolons)."),
    tariff_csv.TOO_LARGE: _("The file is too large (at most 1 MB)."),
    tariff_csv.TOO_MANY_LINES: _("At most %(detail)s lines per file."),
    tariff_csv.EMPTY: _("The file has no tariff line."),
    tariff_csv.UNREADABLE: _("This line cannot be read (a quote not closed, or a NUL "
                             "character)."),
    tariff_csv.HEADER: _("The header line names unknown, missing or repeated columns: "
                         "%(detail)s. Expected: code;label;kind;group;price;max_quantity."),
    tariff_csv.COLUMN_COUNT: _("Wrong number of columns: give code;label;kind;group;price;"
                               "max_quantity, separated by semicolons."),
    tariff_csv.CODE: _("Code: letters, digits, dots and dashes, at most 24."),
    tariff_csv.DUPLICATE: _("This code is already on line %(detail)s."),
    tariff_csv.LABEL_REQUIRED: _("The label is missing."),
    tariff_csv.LABEL_TOO_LONG: _("The label is too long (at most %(detail)s characters)."),
    tariff_csv.LABEL_CONTROL: _("Remove the control characters from the label."),
    tariff_csv.KIND: _("Kind: act or drug."),
    tariff_csv.GROUP: _("Unknown service group."),
    tariff_csv.PRICE: _("Price: a whole number of francs CFA."),
    tariff_csv.PRICE_FRACTION: _("Price: whole francs only (the franc CFA has no cents)."),
    tariff_csv.PRICE_NOT_POSITIVE: _("Price: more than zero."),
    tariff_csv.PRICE_TOO_LARGE: _("Price: at most %(detail)s F CFA."),
    tariff_csv.QUANTITY: _("Quantity limit: empty, or a whole number from 1 to %(detail)s."),
}


def problem_text(problem: tariff_csv.Problem) -> str:
    text = MESSAGES.get(problem.code)
    if text is None:
        return problem.code
    return str(text) % {"detail": problem.detail} if "%(detail)s" in str(text) else str(text)


@dataclass(frozen=True)
class LineProblems:
    """One refused line: its number (0: the whole file), its text and what is wrong."""

    line: int
    text: str
    messages: list[str]


class TariffRefused(ApplicationError):
    """The file has problems: nothing was imported. `lines` says what, line by line."""

    def __init__(self, lines: list[LineProblems]) -> None:
        n = sum(1 for p in lines if p.line > 0)
        message = (_("%(n)s lines are not valid: nothing was imported.") % {"n": n} if n > 1
                   else _("One line is not valid: nothing was imported.") if n == 1
                   else _("The file cannot be imported."))
        super().__init__("tariff_invalid", message,
                         {"tariff_file": " ".join(m for p in lines for m in p.messages)
                          if n == 0 else message}, status_code=422)
        self.lines = lines


@dataclass
class TariffImport:
    convention: Convention
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def group_aliases() -> dict[str, str]:
    """How a file may write a service group: its code, or its label in any of the site's
    languages (folded), e.g. "drugs", "Médicaments essentiels"."""
    out = {g: g for g in ServiceGroup.values}
    for lang, _name in settings.LANGUAGES:
        with translation.override(lang):
            for value, label in ServiceGroup.choices:
                out.setdefault(tariff_csv.fold(str(label)), value)
    return out


def _require_convention_admin(user, convention: Convention) -> None:
    """As for one item of the tariff: the union administrator for a union-wide convention,
    the mutual's manager (or the union administrator) for a mutual's own."""
    if convention.mutual_id is None:
        require_union_admin(user, convention.provider.organisation)
    else:
        require_role(user, require_mutual(convention.mutual), MANAGER_ROLES,
                     not_found_code="convention_not_found", not_found=_("Convention not found."))


def _refusal(parsed: tariff_csv.Parsed) -> TariffRefused:
    by_line: dict[int, list[str]] = {}
    for p in parsed.problems:
        by_line.setdefault(p.line, []).append(problem_text(p))
    return TariffRefused([LineProblems(line, parsed.lines.get(line, ""), messages)
                          for line, messages in sorted(by_line.items())])


def tariff_import(*, acting_user, convention: Convention, data: bytes | str) -> TariffImport:
    """Import a tariff list (CSV, semicolons: code;label;kind;group;price;max_quantity) into
    `convention`: new codes added, known codes changed, nothing written if any line is wrong
    (TariffRefused, 422, with every line's problems)."""
    _require_convention_admin(acting_user, convention)
    if isinstance(data, bytes):
        if len(data) > tariff_csv.MAX_BYTES:
            raise _refusal(tariff_csv.Parsed((), (tariff_csv.Problem(
                0, "", tariff_csv.TOO_LARGE),)))
        text = tariff_csv.decode(data)
        if text is None:
            raise _refusal(tariff_csv.Parsed((), (tariff_csv.Problem(
                0, "", tariff_csv.ENCODING),)))
    elif isinstance(data, str):
        text = data
    else:
        raise _refusal(tariff_csv.Parsed((), (tariff_csv.Problem(0, "", tariff_csv.EMPTY),)))
    parsed = tariff_csv.parse(text, groups=group_aliases())
    if not parsed.ok:
        raise _refusal(parsed)
    result = TariffImport(convention)
    with transaction.atomic(durable=True):
        Convention.objects.select_for_update().get(pk=convention.pk)
        existing = {i.code.upper(): i for i in TariffItem.objects.filter(convention=convention)}
        new, changed = [], []
        for item in parsed.items:
            row = existing.get(item.code)
            values = item.as_dict()
            if row is None:
                new.append(TariffItem(convention=convention, **values))
                result.added.append(item.code)
            elif any(getattr(row, k) != values[k] for k in ITEM_FIELDS):
                for k in ITEM_FIELDS:
                    setattr(row, k, values[k])
                changed.append(row)
                result.changed.append(item.code)
            else:
                result.unchanged.append(item.code)
        TariffItem.objects.bulk_create(new)
        TariffItem.objects.bulk_update(changed, list(ITEM_FIELDS))
        audit_log(actor=acting_user, event_type="health.tariff_imported", subject=convention,
                  after={"added": result.added[:500], "changed": result.changed[:500],
                         "unchanged": len(result.unchanged), "lines": len(parsed.items)},
                  organisation=convention.provider.organisation, unit=convention.mutual)
    return result
