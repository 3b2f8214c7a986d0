"""SMS benchmark (issue #8 "Speed": 10,000 reminder SMS queued and sent through the simulator
in under 60 s).

    .venv/bin/python bench/bench_sms.py [--loans 10000] [--database PATH]

On a fresh SQLite file (migrated once, then copied for the run): 10,000 borrowers who opted
in (a third in Bambara), each with an active loan whose instalment falls due in 3 days, all
written with bulk inserts (the SMS side only reads them). Then, timed:
1. `reminders_queue(as_of, days_before=3)`: one query for the instalments, bulk inserts of the
   reminders;
2. `sms_send_queued(limit=N)` through the simulator (claim, send, record);
3. `sms_simulate_reports()`: the simulator's delivery reports (duplicated, out of order)
   received and applied.
The bench's target is 1 + 2; 3 is reported beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import fresh_sqlite  # noqa: E402

AS_OF = date(2026, 3, 9)


def build(n: int) -> None:
    from jigi.channels.models import SmsPreference
    from jigi.credit.models import Installment, Loan, LoanProduct, LoanStatus
    from jigi.orgs.bootstrap import accounting_unit_create, organisations_bootstrap
    from jigi.orgs.models import UnitKind
    from jigi.people.models import Person

    orgs = organisations_bootstrap()
    caisse = accounting_unit_create(organisation=orgs.kondo, kind=UnitKind.CAISSE, code="C001",
                                    name="Caisse de Niono", parent=orgs.network, region="Ségou")
    product = LoanProduct.objects.create(organisation=orgs.kondo, code="BENCH", name="Bench",
                                         min_amount=10_000, max_amount=10_000_000,
                                         interest_rate=Decimal("18"))
    Person.objects.bulk_create(
        [Person(first_name=f"Awa{i}", last_name="Traoré", sex="F", phone=f"+22376{i:06d}",
                language="bm") for i in range(n)], batch_size=2000)
    people = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    SmsPreference.objects.bulk_create(
        [SmsPreference(person_id=p, opt_in=True, language="bm" if i % 3 == 0 else "fr")
         for i, p in enumerate(people)], batch_size=2000)
    Loan.objects.bulk_create(
        [Loan(number=f"C001-2026-{i:06d}", product=product, caisse=caisse, person_id=p,
              status=LoanStatus.ACTIVE, principal=150_000, terms={},
              applied_on=AS_OF - timedelta(days=90),
              expected_disbursement_on=AS_OF - timedelta(days=80))
         for i, p in enumerate(people)], batch_size=2000)
    loans = list(Loan.objects.order_by("pk").values_list("pk", flat=True))
    Installment.objects.bulk_create(
        [Installment(loan_id=loan, number=1, due_on=AS_OF + timedelta(days=3), principal=25_000,
                     interest=2_250) for loan in loans], batch_size=2000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--database", default="/tmp/jigi-bench-sms.sqlite3")
    args = parser.parse_args()
    fresh_sqlite(Path(args.database))

    from jigi.channels.models import OutboundMessage
    from jigi.channels.sender import sms_send_queued
    from jigi.channels.services import reminders_queue, sms_simulate_reports

    t0 = time.perf_counter()
    build(args.loans)
    t_build = time.perf_counter() - t0

    t0 = time.perf_counter()
    queued = reminders_queue(as_of=AS_OF, days_before=3)
    t_queue = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = sms_send_queued(limit=args.loans)
    t_send = time.perf_counter() - t0
    t0 = time.perf_counter()
    received = sms_simulate_reports(limit=args.loans)
    t_reports = time.perf_counter() - t0
    statuses = {s: OutboundMessage.objects.filter(status=s).count()
                for s in ("queued", "sent", "delivered", "failed")}
    again = reminders_queue(as_of=AS_OF, days_before=3)

    print(f"loans with an instalment due in 3 days: {args.loans} (built in {t_build:.1f} s)")
    print(f"1. reminders queued:      {queued:>6} in {t_queue:6.2f} s")
    print(f"2. sent (simulator):      {report.sent:>6} in {t_send:6.2f} s")
    print(f"   queue + send:                 {t_queue + t_send:6.2f} s (target < 60 s)")
    print(f"3. delivery reports:      {received:>6} in {t_reports:6.2f} s -> {statuses}")
    print(f"reminders queued by a second run the same day: {again}")
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
