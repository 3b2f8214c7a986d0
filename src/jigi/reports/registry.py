"""Report name -> builder; the one entry point for screens, downloads and the CLI."""

from __future__ import annotations

from jigi.reports import selectors, statements
from jigi.reports.selectors import Params, Perimeter
from jigi.reports.tables import Report

BUILDERS = {
    "par": selectors.report_par,
    "ageing": selectors.report_ageing,
    "provisions": selectors.report_provisions,
    "flows": selectors.report_flows,
    "yield": selectors.report_yield,
    "writeoffs": selectors.report_writeoffs,
    "trial_balance": statements.report_trial_balance,
    "balance_sheet": statements.report_balance_sheet,
    "income_statement": statements.report_income_statement,
    "prudential": statements.report_prudential,
    "social": selectors.report_social,
}
assert set(BUILDERS) == set(selectors.REPORTS)


def build_report(name: str, perimeter: Perimeter, params: Params) -> Report:
    return BUILDERS[name](perimeter, params)
