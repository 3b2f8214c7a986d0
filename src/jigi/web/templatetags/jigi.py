from __future__ import annotations

from django import template
from django.utils.translation import get_language

from jigi.web.formatting import format_day, format_francs

register = template.Library()


@register.filter
def francs(amount):
    return format_francs(amount, get_language())


@register.filter
def day(value, fmt: str = "medium"):
    return format_day(value, get_language(), fmt)
