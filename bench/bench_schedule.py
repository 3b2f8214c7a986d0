"""Schedule generation speed (issue #4): 100,000 schedules of 12 instalments in one process.

    .venv/bin/python bench/bench_schedule.py [--count 100000] [--with-teg]

Every schedule is different (principal, rate, date, method vary with the index) and goes
through the whole pure path: LoanTerms validation, Fineract cumulative generation, fees. With
--with-teg the TEG of each schedule is solved too (what `jigi loan schedule` prints).
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date, timedelta
from decimal import Decimal

from jigi.credit.schedule import (
    Amortization,
    Fee,
    FeeType,
    InterestMethod,
    InterestPeriod,
    LoanTerms,
    generate_schedule,
)
from jigi.credit.teg import teg_of_schedule

METHODS = [
    (InterestMethod.DECLINING_BALANCE, Amortization.EQUAL_INSTALLMENTS, InterestPeriod.SAME_AS_REPAYMENT),
    (InterestMethod.DECLINING_BALANCE, Amortization.EQUAL_INSTALLMENTS, InterestPeriod.DAILY),
    (InterestMethod.DECLINING_BALANCE, Amortization.EQUAL_PRINCIPAL, InterestPeriod.SAME_AS_REPAYMENT),
    (InterestMethod.FLAT, Amortization.EQUAL_INSTALLMENTS, InterestPeriod.SAME_AS_REPAYMENT),
]  # fmt: skip
FEES = (Fee("frais de dossier", FeeType.UPFRONT_PERCENT, Decimal(2)),)


def terms_for(index: int) -> LoanTerms:
    method, amortization, period = METHODS[index % len(METHODS)]
    return LoanTerms(
        principal=Decimal(50_000 + (index % 1_000) * 1_000),
        interest_rate=Decimal(12 + index % 9),
        repayments=12,
        disbursed_on=date(2025, 1, 1) + timedelta(days=index % 365),
        interest_method=method,
        amortization=amortization,
        interest_period=period,
        installment_multiples_of=(0, 5, 25, 100)[(index // 4) % 4],
        fees=FEES,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--with-teg", action="store_true")
    args = ap.parse_args()
    instalments = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for index in range(args.count):
        schedule = generate_schedule(terms_for(index))
        instalments += len(schedule.installments)
        if args.with_teg:
            teg_of_schedule(schedule)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    what = "schedules + TEG" if args.with_teg else "schedules"
    print(f"python {platform.python_version()} on {platform.machine()}")
    print(f"{args.count} {what} ({instalments} instalments) in {elapsed:.2f} s (CPU {cpu:.2f} s)")
    print(f"rate: {args.count / elapsed:,.0f} schedules/s")


if __name__ == "__main__":
    main()
