"""What a loan owes and how a payment is split: pure, whole francs, no Django.

Vocabulary of Fineract's loan transaction processing: a payment is applied instalment by
instalment, oldest first, and inside an instalment by the product's allocation order (default
"penalties, fees, interest, principal"). What is left after everything due pays the next
instalments in advance (Fineract's default, no interest recalculation). Two explicit actions
recalculate interest on a declining-balance loan:

- **payoff** (foreclosure): outstanding principal, everything due, and the interest of the
  current period only up to today; the interest of later periods is not owed;
- **prepayment**: after what is due, the rest reduces principal from the last instalment
  backwards (the term shortens) and every later instalment's interest shrinks in proportion to
  the principal it is computed on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

COMPONENTS = ("penalties", "fees", "interest", "principal")
DEFAULT_ORDER = COMPONENTS


class AllocationError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class Due:
    """One instalment's outstanding parts (what is still owed, not the original amounts)."""

    number: int
    due_on: date
    principal: int
    interest: int
    fees: int = 0
    penalties: int = 0

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees + self.penalties

    def part(self, name: str) -> int:
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class Portion:
    """What one payment pays of one instalment."""

    number: int
    principal: int = 0
    interest: int = 0
    fees: int = 0
    penalties: int = 0
    # Interest of this instalment no longer owed (payoff or prepayment on declining balance).
    interest_waived: int = 0

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees + self.penalties


@dataclass(frozen=True, slots=True)
class Allocation:
    portions: tuple[Portion, ...]
    excess: int  # what the loan did not need (to savings or refused, by product setting)

    def sum(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.portions)

    @property
    def total(self) -> int:
        return sum(p.total for p in self.portions)


def check_order(order: Sequence[str]) -> tuple[str, ...]:
    """An allocation order names each of the four components exactly once."""
    cleaned = tuple(str(x).strip() for x in order)
    if sorted(cleaned) != sorted(COMPONENTS):
        raise AllocationError("allocation_order",
                              "name penalties, fees, interest and principal once each")
    return cleaned


def _check(dues: Sequence[Due], amount: int) -> None:
    if type(amount) is not int or amount <= 0:
        raise AllocationError("amount", "a payment is a positive whole number of francs")
    for d in dues:
        if min(d.principal, d.interest, d.fees, d.penalties) < 0:
            raise AllocationError("dues", "an instalment cannot owe a negative amount")


def _pay(due: Due, left: int, order: Sequence[str]) -> tuple[dict[str, int], int]:
    taken: dict[str, int] = {}
    for name in order:
        take = min(left, due.part(name))
        if take:
            taken[name] = take
            left -= take
    return taken, left


def allocate(dues: Sequence[Due], amount: int, order: Sequence[str] = DEFAULT_ORDER
             ) -> Allocation:
    """Split `amount` over the instalments oldest first, each by `order`; the remainder is
    `excess`. Everything owed is payable now (later instalments are paid in advance)."""
    _check(dues, amount)
    order = check_order(order)
    left = amount
    portions = []
    for due in sorted(dues, key=lambda d: (d.due_on, d.number)):
        if not left:
            break
        taken, left = _pay(due, left, order)
        if taken:
            portions.append(Portion(number=due.number, **taken))
    return Allocation(tuple(portions), left)


def accrued_interest(interest: int, period_start: date, period_end: date, on: date) -> int:
    """The part of one period's interest earned by `on` (linear by days, rounded down: the
    member never pays a franc of interest not yet earned)."""
    if on <= period_start:
        return 0
    if on >= period_end:
        return interest
    days = (period_end - period_start).days
    return interest * (on - period_start).days // days if days > 0 else interest


@dataclass(frozen=True, slots=True)
class Payoff:
    principal: int
    interest: int
    fees: int
    penalties: int
    interest_waived: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees + self.penalties


def _interest_kept(dues: Sequence[Due], on: date, disbursed_on: date,
                   period_starts: dict[int, date]) -> dict[int, int]:
    """Per instalment, the interest still owed if the loan ended on `on`: all of it for
    instalments due by then, the earned part of the current period, nothing after."""
    kept = {}
    for due in dues:
        start = period_starts.get(due.number, disbursed_on)
        if due.due_on <= on:
            kept[due.number] = due.interest
        else:
            kept[due.number] = accrued_interest(due.interest, start, due.due_on, on)
    return kept


def payoff(dues: Sequence[Due], on: date, disbursed_on: date,
           period_starts: dict[int, date] | None = None, *, recalculate: bool = True) -> Payoff:
    """What closes the loan on `on`. With `recalculate` (declining balance), interest of
    periods not yet begun is not owed and the current period's is owed up to `on`; without it
    (flat: interest is contractual), every instalment's interest is owed."""
    starts = period_starts or {}
    if recalculate:
        kept = _interest_kept(dues, on, disbursed_on, starts)
    else:
        kept = {d.number: d.interest for d in dues}
    interest = sum(kept.values())
    return Payoff(
        principal=sum(d.principal for d in dues), interest=interest,
        fees=sum(d.fees for d in dues if d.due_on <= on),
        penalties=sum(d.penalties for d in dues),
        interest_waived=sum(d.interest for d in dues) - interest)


def payoff_allocation(dues: Sequence[Due], on: date, disbursed_on: date,
                      period_starts: dict[int, date] | None = None, *,
                      recalculate: bool = True) -> Allocation:
    """The portions of a payoff: each instalment paid in full of what is still owed, the
    interest not owed shown as waived (and fees of later instalments, never earned)."""
    starts = period_starts or {}
    kept = (_interest_kept(dues, on, disbursed_on, starts) if recalculate
            else {d.number: d.interest for d in dues})
    portions = []
    for d in sorted(dues, key=lambda d: (d.due_on, d.number)):
        fees = d.fees if d.due_on <= on else 0
        portions.append(Portion(number=d.number, principal=d.principal,
                                interest=kept[d.number], fees=fees, penalties=d.penalties,
                                interest_waived=d.interest - kept[d.number]))
    return Allocation(tuple(p for p in portions if p.total or p.interest_waived), 0)


@dataclass(frozen=True, slots=True)
class Prepayment:
    allocation: Allocation  # what is paid now, per instalment
    new_dues: tuple[Due, ...]  # the instalments afterwards (interest recalculated)


def prepay(dues: Sequence[Due], amount: int, on: date, order: Sequence[str] = DEFAULT_ORDER,
           *, recalculate: bool = True) -> Prepayment:
    """Pay what is due by `on` first (by `order`), then reduce principal from the LAST
    instalment backwards. With `recalculate` (declining balance), each later instalment's
    interest is scaled by the principal outstanding during its period after/before the
    prepayment (interest of a period is proportional to the balance it runs on)."""
    _check(dues, amount)
    order = check_order(order)
    ordered = sorted(dues, key=lambda d: (d.due_on, d.number))
    due_now = [d for d in ordered if d.due_on <= on]
    later = [d for d in ordered if d.due_on > on]
    first = allocate(due_now, amount, order) if due_now else Allocation((), amount)
    left = first.excess
    outstanding_later = sum(d.principal for d in later)
    if left > outstanding_later:
        raise AllocationError("amount", "more than the principal outstanding: use a payoff")
    reduce: dict[int, int] = {}
    for d in reversed(later):
        if not left:
            break
        take = min(left, d.principal)
        if take:
            reduce[d.number] = take
            left -= take
    # Balance each later period runs on, before and after.
    new_later: list[Due] = []
    portions = list(first.portions)
    before = outstanding_later
    after = outstanding_later - sum(reduce.values())
    for d in later:
        cut = reduce.get(d.number, 0)
        interest = d.interest
        if recalculate and before > 0:
            interest = d.interest * after // before
        waived = d.interest - interest
        if cut or waived:
            portions.append(Portion(number=d.number, principal=cut, interest_waived=waived))
        new_later.append(replace(d, principal=d.principal - cut, interest=interest))
        before -= d.principal
        after -= d.principal - cut
    paid_now = {p.number: p for p in first.portions}
    new_now = []
    for d in due_now:
        p = paid_now.get(d.number)
        if p is None:
            new_now.append(d)
        else:
            new_now.append(replace(d, principal=d.principal - p.principal,
                                   interest=d.interest - p.interest, fees=d.fees - p.fees,
                                   penalties=d.penalties - p.penalties))
    return Prepayment(Allocation(tuple(portions), 0), tuple(new_now + new_later))


@dataclass(frozen=True, slots=True)
class Arrears:
    overdue: int  # everything due by `on` and unpaid
    overdue_principal: int
    days: int  # days since the oldest unpaid instalment fell due (0 when none)
    oldest_due_on: date | None


def arrears(dues: Sequence[Due], on: date, tolerance: int = 0) -> Arrears:
    """Overdue amount and days in arrears on `on`. An overdue total within `tolerance` (the
    product's arrears tolerance: a few francs of rounding) is not arrears."""
    late = [d for d in dues if d.due_on < on and d.total > 0]
    overdue = sum(d.total for d in late)
    if not late or overdue <= tolerance:
        return Arrears(0, 0, 0, None)
    oldest = min(d.due_on for d in late)
    return Arrears(overdue, sum(d.principal for d in late), (on - oldest).days, oldest)


def penalties_to_charge(dues: Sequence[Due], on: date, *, percent_x100: int, grace_days: int,
                        already: set[int]) -> dict[int, int]:
    """Penalty per instalment overdue by more than `grace_days` and not yet penalised: a
    one-off `percent_x100`/100 % of its unpaid principal and interest (rounded down)."""
    out = {}
    if percent_x100 <= 0:
        return out
    for d in dues:
        if d.number in already or (on - d.due_on).days <= grace_days:
            continue
        base = d.principal + d.interest
        amount = base * percent_x100 // 10_000
        if amount > 0:
            out[d.number] = amount
    return out


# RCSFD provisioning of overdue loans (DOMAIN.md §1): the whole outstanding is "en
# souffrance" from one unpaid instalment; provision rate by age of the oldest arrears.
def provision_rate(days_overdue: int) -> tuple[str, int]:
    """(class, percent) for the provisioning of a loan `days_overdue` days late."""
    if days_overdue <= 0:
        return "sain", 0
    if days_overdue <= 90:
        return "0-3", 0
    if days_overdue <= 180:
        return "3-6", 40
    if days_overdue <= 365:
        return "6-12", 80
    if days_overdue <= 730:
        return "12-24", 100
    return "24+", 100
