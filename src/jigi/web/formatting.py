"""Amounts and dates the way Malian users read them, through Babel (glibc has no fr_ML/bm_ML)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal

BABEL_LOCALES = {"fr": "fr_ML", "bm": "bm_ML", "en": "en"}


def babel_locale(language: str | None) -> str:
    return BABEL_LOCALES.get((language or "fr").split("-")[0], "fr_ML")


def format_francs(amount: int | None, language: str | None = "fr") -> str:
    """1234567 -> '1 234 567 F CFA' (narrow no-break spaces as CLDR gives them for fr)."""
    if amount is None:
        return ""
    return f"{format_decimal(int(amount), format='#,##0', locale=babel_locale(language))}\u00a0F\u00a0CFA"


def format_day(value: date | None, language: str | None = "fr", fmt: str = "medium") -> str:
    if value is None:
        return ""
    return babel_format_date(value, format=fmt, locale=babel_locale(language))
