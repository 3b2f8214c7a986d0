"""Pure rules of double entry, no Django: what makes a set of lines postable."""

from __future__ import annotations

from dataclasses import dataclass

from jigi.core.money import MAX_AMOUNT


@dataclass(frozen=True)
class LineSpec:
    account: str  # account code in the book's chart, e.g. "251"
    side: str  # "D" or "C"
    amount: int  # integer francs CFA, > 0
    subledger: str = ""


class UnbalancedEntry(ValueError):
    pass


def check_lines(lines: list[LineSpec] | tuple[LineSpec, ...]) -> int:
    """Return the entry's total if the lines can be posted; raise otherwise.

    At least two lines, every amount a positive int (no float, no bool), sides D/C, and
    debits equal credits to the franc: no tolerance, no automatic correction line.
    """
    if len(lines) < 2:
        raise UnbalancedEntry("at_least_two_lines")
    debit = credit = 0
    for line in lines:
        if type(line.amount) is not int:
            raise UnbalancedEntry("amount_not_integer")
        if line.amount <= 0 or line.amount > MAX_AMOUNT:
            raise UnbalancedEntry("amount_out_of_range")
        if line.side == "D":
            debit += line.amount
        elif line.side == "C":
            credit += line.amount
        else:
            raise UnbalancedEntry("bad_side")
    if debit != credit:
        raise UnbalancedEntry("debits_differ_from_credits")
    return debit


def reversed_lines(lines: list[LineSpec]) -> list[LineSpec]:
    return [LineSpec(line.account, "C" if line.side == "D" else "D", line.amount, line.subledger)
            for line in lines]
