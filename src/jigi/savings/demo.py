"""Demo savings: every Kondo member gets the minimum shares and a savings book with a plausible
12-month history (deposits around the harvest, withdrawals in the lean season).

Synthetic history at 75,000 members must load in well under a minute, so rows are
bulk-inserted and the ledger gets one balanced entry per caisse and month for deposits, one for
withdrawals and one for shares (the counter services post one entry per operation; the
aggregate is what an SFD migrating from paper books would post). Receipts stay gapless per
caisse and year and the counters continue after the demo.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from jigi.core.audit import audit_log
from jigi.core.models import Counter
from jigi.ledger.models import Book
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Organisation
from jigi.people.models import Membership, MembershipStatus
from jigi.savings.models import (
    Receipt,
    SavingsAccount,
    SavingsTransaction,
    ShareAccount,
    ShareTransaction,
    TxKind,
)
from jigi.savings.setup import kondo_products_seed

BATCH = 5000
# Relative deposit propensity by month (1 = January): harvest and cash months Oct-Jan are
# high, the lean season Jul-Sep low (DOMAIN.md §2).
DEPOSIT_WEIGHT = {1: 1.6, 2: 1.0, 3: 0.8, 4: 0.7, 5: 0.7, 6: 0.5, 7: 0.2, 8: 0.15, 9: 0.2,
                  10: 1.4, 11: 2.0, 12: 2.0}
WITHDRAW_WEIGHT = {1: 0.3, 2: 0.4, 3: 0.5, 4: 0.5, 5: 0.7, 6: 1.0, 7: 1.8, 8: 2.0, 9: 1.7,
                   10: 0.6, 11: 0.3, 12: 0.5}


def _month_starts(today: date, months: int) -> list[date]:
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return sorted(out)


def _insert(model, columns: list[str], rows: list[tuple]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        for k in range(0, len(rows), 20_000):
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",  # noqa: S608
                               rows[k:k + 20_000])


def savings_demo_build(*, seed: int, today: date) -> dict:
    rng = random.Random(seed * 7919 + 17)
    kondo = Organisation.objects.get(code="KONDO")
    share_product, products = kondo_products_seed(organisation=kondo)
    epv = products["EPV"]
    members = list(Membership.objects.filter(
        organisation=kondo, status=MembershipStatus.ACTIVE).select_related("unit").order_by(
        "pk").values_list("person_id", "unit_id", "unit__code"))
    books = {b.unit_id: b for b in Book.objects.filter(organisation=kondo, unit__isnull=False)}
    months = _month_starts(today, 13)
    start = months[0]

    with transaction.atomic():
        # Shares: the minimum, bought when the savings book was opened.
        shares = [ShareAccount(product=share_product, person_id=pid, caisse_id=cid,
                               shares=share_product.min_shares, entry_fee_paid=True,
                               opened_on=start) for pid, cid, _code in members]
        ShareAccount.objects.bulk_create(shares, batch_size=BATCH)
        per_caisse_shares: dict[int, int] = defaultdict(int)
        for _pid, cid, _code in members:
            per_caisse_shares[cid] += 1

        # History first, so accounts are inserted once with their final balance.
        history: list[tuple[int, date, int, str, int]] = []
        balances = [0] * len(members)
        last_activity = [start] * len(members)
        for i, (_pid, cid, _code) in enumerate(members):
            wealth = rng.lognormvariate(8.9, 0.8)  # typical deposit around 7,000-15,000 F
            balance = 0
            for month in months:
                last_day = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - \
                    timedelta(days=1)
                if month == months[-1]:
                    last_day = min(last_day, today)
                if rng.random() < 0.3 * DEPOSIT_WEIGHT[month.month]:
                    amount = max(500, int(wealth * DEPOSIT_WEIGHT[month.month]
                                          * rng.uniform(0.5, 1.5)) // 100 * 100)
                    day = month + timedelta(days=rng.randrange((last_day - month).days + 1))
                    history.append((cid, day, i, TxKind.DEPOSIT, amount))
                    balance += amount
                    last_activity[i] = max(last_activity[i], day)
                available = balance - epv.min_balance
                if available > 1000 and rng.random() < 0.2 * WITHDRAW_WEIGHT[month.month]:
                    amount = min(available, int(available * rng.uniform(0.2, 0.7))) // 100 * 100
                    if amount >= 500:
                        day = max(month, last_day - timedelta(days=rng.randrange(10)))
                        history.append((cid, day, i, TxKind.WITHDRAWAL, amount))
                        balance -= amount
                        last_activity[i] = max(last_activity[i], day)
            balances[i] = balance

        n_by_caisse: dict[int, int] = defaultdict(int)
        accounts: list[SavingsAccount] = []
        for i, (pid, cid, code) in enumerate(members):
            n_by_caisse[cid] += 1
            accounts.append(SavingsAccount(
                number=f"{code}-EPV-{n_by_caisse[cid]:06d}", product=epv, caisse_id=cid,
                person_id=pid, opened_on=start, last_activity_on=last_activity[i],
                balance=balances[i]))
        SavingsAccount.objects.bulk_create(accounts, batch_size=BATCH)
        if accounts and accounts[0].pk is None:
            accounts = list(SavingsAccount.objects.filter(product=epv).order_by("pk"))

        history.sort(key=lambda h: (h[0], h[1], h[2], h[3] != TxKind.DEPOSIT))

        # Ledger: one entry per caisse, month and direction, plus the shares.
        monthly: dict[tuple[int, date, str], int] = defaultdict(int)
        for cid, day, _i, kind, amount in history:
            monthly[(cid, day.replace(day=1), kind)] += amount
        entries = {}
        for (cid, month, kind), total in sorted(monthly.items()):
            value_date = min(today, (month.replace(day=28) + timedelta(days=4)).replace(day=1)
                             - timedelta(days=1))
            lines = ([LineSpec("101", "D", total), LineSpec("251", "C", total)]
                     if kind == TxKind.DEPOSIT else
                     [LineSpec("251", "D", total), LineSpec("101", "C", total)])
            entries[(cid, month, kind)] = entry_post(
                book=books[cid], lines=lines, value_date=value_date, posting_date=value_date,
                description=f"Reprise historique {kind} {month:%m/%Y}", acting_user=None,
                source_type="savings.history", source_id=f"{cid}:{month:%Y-%m}:{kind}",
                audit=False)
        share_total = share_product.min_shares * share_product.nominal_value
        share_entries = {}
        for cid, count in sorted(per_caisse_shares.items()):
            share_entries[cid] = entry_post(book=books[cid], lines=[
                LineSpec("101", "D", count * (share_total + share_product.entry_fee)),
                LineSpec("57", "C", count * share_total),
                LineSpec("7029", "C", count * share_product.entry_fee)],
                value_date=start, posting_date=start, description="Reprise parts sociales",
                acting_user=None, source_type="shares.history", source_id=str(cid), audit=False)

        # Transactions and receipts, numbered gaplessly per caisse and year.
        running = [0] * len(accounts)
        receipt_no: dict[tuple[int, int], int] = defaultdict(int)
        tx_rows = []
        receipt_rows = []
        now = timezone.now()
        for cid, day, i, kind, amount in history:
            acc = accounts[i]
            running[i] += amount if kind == TxKind.DEPOSIT else -amount
            receipt_no[(cid, day.year)] += 1
            n = receipt_no[(cid, day.year)]
            tx_rows.append((acc.pk, kind, "C" if kind == TxKind.DEPOSIT else "D", amount,
                            "posted", running[i], day, day.year, n, "Historique", True,
                            entries[(cid, day.replace(day=1), kind)].pk, now, "", ""))
            receipt_rows.append((cid, day.year, n, kind, amount, now, acc.person_id, acc.number,
                                 running[i], ""))
        # Raw executemany: several times faster than bulk_create for ~450,000 synthetic rows.
        _insert(SavingsTransaction, ["account_id", "kind", "direction", "amount", "status",
                                     "balance_after", "value_date", "receipt_year",
                                     "receipt_number", "description", "cash", "journal_entry_id",
                                     "created_at", "reason", "idempotency_key"],
                tx_rows)
        _insert(Receipt, ["caisse_id", "year", "number", "kind", "amount", "issued_at",
                          "person_id", "account_number", "balance_after", "description"],
                receipt_rows)
        assert running == balances  # the rows replay to the balances the accounts hold
        Counter.objects.bulk_create([
            Counter(scope=f"receipt:{cid}", year=year, value=value)
            for (cid, year), value in receipt_no.items()])
        Counter.objects.bulk_create([
            Counter(scope=f"savings-account:{cid}", year=0, value=value)
            for cid, value in n_by_caisse.items()])
        if shares and shares[0].pk is None:
            shares = list(ShareAccount.objects.filter(product=share_product).order_by("pk"))
        ShareTransaction.objects.bulk_create([
            ShareTransaction(account=s, kind="purchase", shares=s.shares, amount=share_total,
                             entry_fee=share_product.entry_fee, value_date=start,
                             journal_entry=share_entries[s.caisse_id])
            for s in shares], batch_size=BATCH)
        result = {"share_accounts": len(shares), "savings_accounts": len(accounts),
                  "transactions": len(tx_rows), "ledger_entries": len(entries) +
                  len(share_entries), "deposits_total": sum(balances)}
        audit_log(actor=None, event_type="demo.savings_loaded", subject=kondo, after=result,
                  organisation=kondo)
    return result
