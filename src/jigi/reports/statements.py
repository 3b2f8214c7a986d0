"""Financial statements from the ledger in the RCSFD layout, and the BCEAO prudential
indicators the data supports.

Per caisse (its book) or consolidated (every book under a region or the network), as of a
value date: `ledger.selectors.consolidated_trial_balance` aggregates the journal lines in SQL.
The balance sheet follows the DIMF 2000 headings (the RCSFD classes 1 to 5 on both sides,
accounts by their kind: a deposit account of class 2 is a liability, provisions 299 reduce the
assets); the income statement follows DIMF 2080 (financial income and charges, general
charges, provisions and losses, result) for the financial year to date.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from jigi.ledger.selectors import TrialBalance, consolidated_trial_balance
from jigi.reports import rules
from jigi.reports.portfolio import portfolio
from jigi.reports.selectors import REPORT_TITLES, Params, Perimeter, par_totals
from jigi.reports.tables import Column, Report, Table

ASSET_SIDE = {"asset"}
EXPENSE, INCOME = "expense", "income"


def _class_headings() -> dict[str, str]:
    # RCSFD classes (DIMF 2000 headings).
    return {
        "1": _("Treasury and operations with financial institutions"),
        "2": _("Operations with members"),
        "3": _("Securities and sundry operations"),
        "4": _("Fixed assets"),
        "5": _("Provisions, equity and similar"),
    }


def _income_headings() -> dict[str, str]:
    # DIMF 2080 headings by RCSFD account group.
    return {
        "60": _("Financial charges"), "62": _("External services"),
        "63": _("Staff costs"), "66": _("Provisions and losses on loans"),
        "67": _("Other charges"), "70": _("Financial income"),
        "76": _("Provision reversals"), "77": _("Other income"),
    }


def tb_at(perimeter: Perimeter, on: date | None) -> TrialBalance:
    return consolidated_trial_balance(perimeter.organisation, as_of=on, unit=perimeter.unit)


def _balances(tb: TrialBalance) -> dict[str, tuple[str, str, int]]:
    return {r.code: (r.name, r.kind, r.balance) for r in tb.rows}


def report_trial_balance(perimeter: Perimeter, p: Params) -> Report:
    tb = tb_at(perimeter, p.on)
    rows = [{"code": r.code, "name": r.name, "debit": r.debit, "credit": r.credit,
             "balance": r.balance} for r in tb.rows]
    table = Table("trial_balance", _("Trial balance at %(d)s") % {"d": p.on.isoformat()}, [
        Column("code", _("Account")), Column("name", _("Name")),
        Column("debit", _("Debit"), "francs"), Column("credit", _("Credit"), "francs"),
        Column("balance", _("Balance"), "francs")], rows,
        {"code": _("Total"), "name": "", "debit": tb.total_debit, "credit": tb.total_credit,
         "balance": None})
    return Report("trial_balance", REPORT_TITLES["trial_balance"], p.on, perimeter.label,
                  [table], notes=[_("%(n)s book(s) consolidated; balances on each account's "
                                    "normal side.") % {"n": tb.books}])


def balance_sheet(perimeter: Perimeter, on: date) -> dict[str, Any]:
    """Assets and liabilities by RCSFD class, the result not yet allocated, and totals."""
    balances = _balances(tb_at(perimeter, on))
    heads = _class_headings()
    assets: dict[str, list] = {}
    liabilities: dict[str, list] = {}
    result = 0
    for code, (name, kind, balance) in sorted(balances.items()):
        if kind == INCOME:
            result += balance
        elif kind == EXPENSE:
            result -= balance
        elif kind in ASSET_SIDE:
            assets.setdefault(code[0], []).append((code, name, balance))
        else:
            liabilities.setdefault(code[0], []).append((code, name, balance))
    return {"assets": assets, "liabilities": liabilities, "result": result, "heads": heads,
            "total_assets": sum(b for v in assets.values() for _c, _n, b in v),
            "total_liabilities": sum(b for v in liabilities.values() for _c, _n, b in v)
            + result}


def report_balance_sheet(perimeter: Perimeter, p: Params) -> Report:
    bs = balance_sheet(perimeter, p.on)
    cols = [Column("code", _("Account")), Column("name", _("Heading")),
            Column("amount", _("Amount"), "francs")]

    def side(key: str, title: str, groups: dict, extra: list | None = None, total=0):
        rows = []
        for cls in sorted(set(groups) | ({"5"} if extra else set())):
            lines = groups.get(cls, [])
            sub = sum(b for _c, _n, b in lines) + (sum(x[2] for x in extra)
                                                   if extra and cls == "5" else 0)
            rows.append({"code": cls, "name": bs["heads"].get(cls, cls), "amount": sub,
                         "heading": True})
            for code, name, balance in lines:
                rows.append({"code": code, "name": name, "amount": balance})
            if extra and cls == "5":
                for code, name, amount in extra:
                    rows.append({"code": code, "name": name, "amount": amount})
        return Table(key, title, cols, rows, {"code": "", "name": _("Total"), "amount": total})

    assets = side("assets", _("Assets"), bs["assets"], total=bs["total_assets"])
    liabilities = side("liabilities", _("Liabilities and equity"), bs["liabilities"],
                       [("", _("Result of the period not yet allocated"), bs["result"])],
                       bs["total_liabilities"])
    return Report("balance_sheet", REPORT_TITLES["balance_sheet"], p.on, perimeter.label,
                  [assets, liabilities],
                  notes=[_("RCSFD classes 1-5 by the nature of each account; provisions (299) "
                           "are deducted from the assets.")])


def income_statement(perimeter: Perimeter, on: date) -> dict[str, Any]:
    """Income and charges of the financial year to `on` (the year's movements: the balance
    at `on` minus the balance at the end of the previous year)."""
    now = _balances(tb_at(perimeter, on))
    before = _balances(tb_at(perimeter, date(on.year, 1, 1) - timedelta(days=1)))
    groups: dict[str, list] = {}
    income = charges = 0
    for code, (name, kind, balance) in sorted(now.items()):
        if kind not in (INCOME, EXPENSE):
            continue
        amount = balance - before.get(code, ("", kind, 0))[2]
        groups.setdefault(code[:2], []).append((code, name, kind, amount))
        if kind == INCOME:
            income += amount
        else:
            charges += amount
    return {"groups": groups, "income": income, "charges": charges,
            "result": income - charges}


def report_income_statement(perimeter: Perimeter, p: Params) -> Report:
    st = income_statement(perimeter, p.on)
    heads = _income_headings()
    cols = [Column("code", _("Account")), Column("name", _("Heading")),
            Column("amount", _("Amount"), "francs")]
    tables = []
    for kind, title, total in ((EXPENSE, _("Charges"), st["charges"]),
                               (INCOME, _("Income"), st["income"])):
        rows = []
        for grp in sorted(st["groups"]):
            lines = [x for x in st["groups"][grp] if x[2] == kind]
            if not lines:
                continue
            rows.append({"code": grp, "name": heads.get(grp, grp),
                         "amount": sum(x[3] for x in lines), "heading": True})
            rows += [{"code": c, "name": n, "amount": a} for c, n, _k, a in lines]
        tables.append(Table(kind, title, cols, rows,
                            {"code": "", "name": _("Total"), "amount": total}))
    tables.append(Table("result", _("Result"), cols, [
        {"code": "", "name": _("Income"), "amount": st["income"]},
        {"code": "", "name": _("Charges"), "amount": st["charges"]}],
        {"code": "", "name": _("Result of the period (surplus if positive)"),
         "amount": st["result"]}))
    return Report("income_statement", REPORT_TITLES["income_statement"], p.on,
                  perimeter.label, tables, {"from": date(p.on.year, 1, 1)},
                  [_("Financial year to date: from 1 January to the as-of date.")])


# --- Prudential indicators ------------------------------------------------------------------

def report_prudential(perimeter: Perimeter, p: Params) -> Report:
    on = p.on
    par = par_totals(perimeter, on)
    bs = balance_sheet(perimeter, on)
    equity = sum(b for _c, _n, b in bs["liabilities"].get("5", [])) + bs["result"]
    balances = {c: b for grp in (bs["assets"], bs["liabilities"]) for v in grp.values()
                for c, _n, b in v}
    treasury = sum(b for _c, _n, b in bs["assets"].get("1", []))
    sight = sum(balances.get(c, 0) for c in ("251", "253", "257"))
    # Largest exposure on one borrower at `on`.
    by_person = portfolio(perimeter.caisse_ids, on, "person", [])
    largest = max((a.outstanding for a in by_person.values()), default=0)
    # General reserve: allocation this year against 15 % of last year's surplus.
    last_year = income_statement(perimeter, date(on.year - 1, 12, 31))["result"]
    start_reserve = _reserve(perimeter, date(on.year - 1, 12, 31))
    allocated = balances.get("5521", 0) - start_reserve
    total_assets = bs["total_assets"]
    rows = [
        _indicator(_("Portfolio at risk > 90 days (PAR90)"), par["par90"], rules.PAR90_MAX, True,
                   _("PAR90 at most 3 %")),
        _indicator(_("Largest single-borrower exposure / equity"),
                   rules.ratio_pct(largest, equity) if equity > 0 else None,
                   rules.SINGLE_BORROWER_MAX, True, _("at most 10 % of equity"),
                   _("largest outstanding: %(n)s F CFA") % {"n": f"{largest:,}".replace(
                       ",", "\u202f")}),
        _indicator(_("Loans to managers and staff / equity"), None, rules.INSIDER_MAX, True,
                   _("at most 10 % of equity"),
                   _("not computed: the registry does not yet link staff to their member "
                     "records")),
        _indicator(_("Liquidity (treasury / sight deposits)"), rules.ratio_pct(treasury, sight),
                   rules.LIQUIDITY_MIN, False, _("at least 80 %"),
                   _("approximation: class 1 assets over sight and group deposits (251, 253, "
                     "257)")),
        _indicator(_("General reserve allocated / last year's surplus"),
                   rules.ratio_pct(allocated, last_year) if last_year > 0 else None,
                   rules.GENERAL_RESERVE_MIN, False, _("at least 15 % of the surplus"),
                   "" if last_year > 0 else _("no surplus last year")),
        _indicator(_("Capitalisation (equity / total assets)"),
                   rules.ratio_pct(equity, total_assets) if total_assets > 0 else None,
                   rules.CAPITALISATION_MIN, False, _("at least 15 %")),
    ]
    table = Table("prudential", _("Norms of Instruction 010-08-2010"), [
        Column("label", _("Indicator")), Column("value", _("Value %"), "pct"),
        Column("norm", _("Norm")), Column("status", _("Status"), "status"),
        Column("note", _("Note"))], rows)
    return Report("prudential", REPORT_TITLES["prudential"], on, perimeter.label, [table],
                  notes=[_("Equity: class 5 balances plus the result not yet allocated.")])


def _reserve(perimeter: Perimeter, on: date) -> int:
    return next((r.balance for r in tb_at(perimeter, on).rows if r.code == "5521"), 0)


def _indicator(label, value: Decimal | None, limit: Decimal, at_most: bool, norm: str,
               note: str = "") -> dict[str, Any]:
    return {"label": label, "value": value, "norm": norm,
            "status": rules.status(value, limit, at_most=at_most), "note": note}
