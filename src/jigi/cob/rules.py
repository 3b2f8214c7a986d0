"""Close-of-business arithmetic: pure, whole francs, no Django.

The SQL of `jigi.cob.sql` applies these same rules set-based (one statement per caisse); the
tests check that both give the same answer loan by loan. Sources: BCEAO/RCSFD provisioning of
overdue loans (DOMAIN.md §1: one unpaid instalment moves the whole outstanding to "créances en
souffrance"; 0-3 months 0 %, >3-6 40 %, >6-12 80 %, >12-24 100 %, >24 months written off),
Fineract's accrual of the current period (linear by days).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

# Ageing bands by days past due (upper bound included): class, provision %, class-29 account
# for a loan that is not restructured. Restructured loans stay in 291 whatever their age.
# More than 730 days: still 294 and 100 %, with a write-off proposal (a person decides).
BANDS: tuple[tuple[int | None, str, int, str | None], ...] = (
    (0, "sain", 0, None),
    (90, "0-3", 0, "292"),
    (180, "3-6", 40, "292"),
    (365, "6-12", 80, "293"),
    (730, "12-24", 100, "294"),
    (None, "24+", 100, "294"),
)
WRITE_OFF_AFTER_DAYS = 730
RESTRUCTURED = "291"
ACCRUED_INTEREST = "27"
INTEREST_INCOME = "7021"
PROVISIONS = "299"
PROVISION_CHARGE = "664"
PROVISION_REVERSAL = "764"
SOUFFRANCE = ("292", "293", "294")


@dataclass(frozen=True, slots=True)
class Band:
    risk_class: str
    percent: int
    account: str | None  # None: the loan stays on its own account (healthy)


def band(days_past_due: int) -> Band:
    """The ageing band of a loan `days_past_due` days late (0: not late)."""
    for upper, name, percent, account in BANDS:
        if upper is None or days_past_due <= upper:
            return Band(name, percent, account)
    raise AssertionError("unreachable")  # pragma: no cover


def ledger_account(loan_account: str, days_past_due: int, restructured: bool) -> str:
    """Where the loan's whole outstanding sits: its own account (202/203) while healthy, 291
    once restructured, else 292/293/294 by age."""
    if restructured or loan_account == RESTRUCTURED:
        return RESTRUCTURED
    return band(days_past_due).account or loan_account


def provision(outstanding: int, guarantee: int, days_past_due: int) -> int:
    """Provision of one loan: base = outstanding principal minus the guarantee deposits (the
    borrower's blocked savings and the guarantors' pledges), never below zero; times the
    band's rate, rounded UP to the franc (prudence: never provision a franc too little)."""
    base = max(outstanding - guarantee, 0)
    percent = band(days_past_due).percent
    return -(-base * percent // 100)


def days_past_due(dues: list[tuple[date, int]], on: date, tolerance: int = 0) -> tuple[int, int]:
    """(days, overdue amount) on `on` from (due date, outstanding) pairs of the current schedule
    version: days since the oldest unpaid instalment due before `on`; an overdue total within
    the product's tolerance is not arrears (same rule as credit.allocation.arrears)."""
    late = [(d, amount) for d, amount in dues if d < on and amount > 0]
    overdue = sum(amount for _d, amount in late)
    if not late or overdue <= tolerance:
        return 0, 0
    return (on - min(d for d, _a in late)).days, overdue


def accrued_unpaid(*, interest: int, waived: int, paid: int, period_start: date,
                   period_end: date, on: date) -> int:
    """Interest earned and not yet paid on `on` for the period running that day (the first
    instalment due after `on`): (interest - waived) x elapsed days / period days, rounded down
    (never a franc not earned), minus what the member already paid in advance, not below 0.
    Interest of instalments already due is not accrued: overdue interest is income when paid."""
    days = (period_end - period_start).days
    elapsed = (on - period_start).days
    if elapsed <= 0 or days <= 0:
        return 0
    earned = (interest - waived) * min(elapsed, days) // days
    return max(earned - paid, 0)


@dataclass(frozen=True, slots=True)
class Line:
    account: str
    side: str
    amount: int
    subledger: str = ""


def adjustment(target: int, current: int, *, debit_up: str, credit_up: str,
               subledger: str = "") -> list[Line]:
    """Lines moving an account from `current` to `target` (both on the debit side of
    `debit_up`): up = D debit_up / C credit_up, down = the reverse; nothing when equal."""
    delta = target - current
    if delta == 0:
        return []
    if delta > 0:
        return [Line(debit_up, "D", delta, subledger), Line(credit_up, "C", delta, subledger)]
    return [Line(credit_up, "D", -delta, subledger), Line(debit_up, "C", -delta, subledger)]


def classification_lines(targets: Mapping[tuple[str, str], int],
                         current: Mapping[tuple[str, str], int]) -> list[Line]:
    """Balance adjustments between the loan accounts and class 29: for each (loan account,
    29x account) pair, the amount that should sit in 29x (sum of the outstanding of that
    account's loans in that band) against what the ledger holds there (lines tagged
    "202>292"). Pairs are sorted so the entry is the same whatever the dict order."""
    lines: list[Line] = []
    for pair in sorted(set(targets) | set(current)):
        source, target = pair
        lines += adjustment(targets.get(pair, 0), current.get(pair, 0), debit_up=target,
                            credit_up=source, subledger=f"{source}>{target}")
    return lines


def provision_lines(target: int, current: int) -> list[Line]:
    """Provisions (299, held on the credit side) moved to `target`: a rise is a charge
    (D 664 / C 299), a fall a reversal (D 299 / C 764), as the RCSFD separates them."""
    delta = target - current
    if delta > 0:
        return [Line(PROVISION_CHARGE, "D", delta), Line(PROVISIONS, "C", delta)]
    if delta < 0:
        return [Line(PROVISIONS, "D", -delta), Line(PROVISION_REVERSAL, "C", -delta)]
    return []


def accrual_lines(target: int, current: int) -> list[Line]:
    """Accrued interest (27) moved to `target`: D 27 / C 7021 when it grows, the reverse when
    repayments (credited to 7021 on the cash basis) or overdue instalments reduce it."""
    return adjustment(target, current, debit_up=ACCRUED_INTEREST, credit_up=INTEREST_INCOME)
