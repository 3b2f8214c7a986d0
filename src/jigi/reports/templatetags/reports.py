from __future__ import annotations

from django import template
from django.utils.translation import get_language

from jigi.web.formatting import format_francs

register = template.Library()


@register.filter
def cell(row, column):
    """A report cell formatted by its column kind (francs, percent, count, status)."""
    value = row.get(column.key)
    kind = row.get("kind", "text") if column.kind == "mixed" else column.kind
    if value is None or value == "":
        return "—" if kind in ("pct", "francs", "int", "status") else ""
    if kind == "francs":
        return format_francs(value, get_language())
    if kind == "pct":
        return f"{value} %".replace(".", ",") if get_language() != "en" else f"{value} %"
    if kind == "int":
        return f"{value:,}".replace(",", "\u202f")
    return value


@register.filter
def is_num(column):
    return column.kind in ("francs", "pct", "int", "mixed")
