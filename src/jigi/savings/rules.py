"""Small pure rules of savings: what may be withdrawn, guarantee and penalty amounts, dates.

No Django; integers, Decimals and dates only. Rounding rules are stated on each function.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal


def available_to_withdraw(*, balance: int, held: int, min_balance: int) -> int:
    """What the member may take out: the balance less active holds and the product's minimum
    balance (never negative)."""
    return max(0, balance - held - min_balance)


def guarantee_required(loan_amount: int, percent: Decimal) -> int:
    """Compulsory guarantee savings for a loan, rounded UP to the franc: the member covers at
    least the product's percentage (e.g. 20 % of 150,001 F is 30,001 F, not 30,000 F)."""
    if loan_amount < 0 or not Decimal(0) <= percent <= Decimal(100):
        raise ValueError("bad_guarantee_input")
    exact = Decimal(loan_amount) * percent / Decimal(100)
    return int(exact.to_integral_value(rounding=ROUND_CEILING))


def early_withdrawal_penalty(interest_credited: int, percent: Decimal) -> int:
    """Penalty for breaking a term deposit before maturity: a percentage of the interest already
    credited to it, rounded DOWN to the franc (the member never loses more than the rule says)."""
    if interest_credited < 0 or not Decimal(0) <= percent <= Decimal(100):
        raise ValueError("bad_penalty_input")
    exact = Decimal(interest_credited) * percent / Decimal(100)
    return int(exact.to_integral_value(rounding=ROUND_DOWN))


def add_months(on: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    y, m = divmod(on.month - 1 + months, 12)
    year, month = on.year + y, m + 1
    return date(year, month, min(on.day, calendar.monthrange(year, month)[1]))


def slab_rate(slabs: list[dict], *, term_months: int, amount: int, default: Decimal) -> Decimal:
    """A term deposit's rate from the product's slabs: among the slabs whose term and amount
    the deposit reaches, the one with the longest term then the largest amount; `default`
    when none applies (or there are no slabs)."""
    best: tuple[int, int] | None = None
    rate = default
    for slab in slabs or []:
        months, floor = int(slab["months"]), int(slab["amount"])
        if term_months >= months and amount >= floor and (best is None
                                                          or (months, floor) > best):
            best, rate = (months, floor), Decimal(str(slab["rate"]))
    return rate


def parse_slabs(text: str) -> list[dict]:
    """Slabs written "months/amount/rate" separated by ";" (e.g. "6/0/4.5; 12/1000000/5.5").
    Raises ValueError for anything else."""
    slabs = []
    for part in (p.strip() for p in str(text).split(";")):
        if not part:
            continue
        months, amount, rate = (x.strip().replace(" ", "") for x in part.split("/"))
        value = Decimal(rate.replace(",", "."))
        if not months.isdigit() or not amount.isdigit() or not value.is_finite() or \
                not Decimal(0) <= value <= Decimal(100) or int(months) > 240:
            raise ValueError(part)
        slabs.append({"months": int(months), "amount": int(amount),
                      "rate": str(value.quantize(Decimal("0.01")))})
    keys = [(s["months"], s["amount"]) for s in slabs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate slab")
    return sorted(slabs, key=lambda s: (s["months"], s["amount"]))


def slabs_text(slabs: list[dict]) -> str:
    return "; ".join(f"{s['months']}/{s['amount']}/{s['rate']}" for s in slabs or [])
