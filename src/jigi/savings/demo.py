"""Demo savings: every active Kondo member gets the minimum shares and a savings book with a
plausible 12-month history (deposits around the harvest, withdrawals in the lean season).

    savings_demo_build(*, seed: int, today: date) -> dict

Called by `jigi demo` as its last step, inside the demo's transaction. At 75,000 members it
must load in well under a minute, so it does not go through the counter services (one journal
entry per operation): rows are bulk-inserted, and the ledger gets, per caisse and month, ONE
balanced entry (deposits 101 -> 251 and withdrawals 251 -> 101, gross), plus one entry per
caisse for the shares and entry fees (101 -> 57, 7029): what an SFD migrating from paper books
posts. Receipts stay gapless per caisse and year, and the counters continue after the demo, so
the first real deposit gets the next number.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction

from jigi.core.audit import audit_log
from jigi.core.models import Counter
from jigi.demo.bulk import bulk_insert
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


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def savings_demo_build(*, seed: int, today: date) -> dict:
    """Shares and a savings history for every active Kondo member; returns counts.

    Runs inside the caller's transaction (no durable block). Deterministic for a seed. When the
    network already holds share accounts it does nothing and says so ({"already_present": n}).
    """
    rng = random.Random(seed * 7919 + 17)
    kondo = Organisation.objects.get(code="KONDO")
    share_product, products = kondo_products_seed(organisation=kondo)
    present = ShareAccount.objects.filter(product=share_product).count()
    if present:
        return {"already_present": present}
    epv = products["EPV"]
    members = list(Membership.objects.filter(
        organisation=kondo, status=MembershipStatus.ACTIVE).order_by("pk").values_list(
        "person_id", "unit_id", "unit__code"))
    books = {b.unit_id: b for b in Book.objects.filter(organisation=kondo, unit__isnull=False)}
    months = _month_starts(today, 13)
    start = months[0]
    share_total = share_product.min_shares * share_product.nominal_value
    fee = share_product.entry_fee

    with transaction.atomic():
        # History first, so accounts are inserted once with their final balance.
        history: list[tuple[int, date, int, str, int]] = []  # caisse, day, member, kind, F
        balances = [0] * len(members)
        last_activity = [start] * len(members)
        for i, (_pid, cid, _code) in enumerate(members):
            wealth = rng.lognormvariate(8.9, 0.8)  # typical deposit around 7,000-15,000 F
            balance = 0
            for month in months:
                last_day = min(_month_end(month), today)
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

        share_ids = bulk_insert(
            ShareAccount, ["product_id", "person_id", "caisse_id", "shares", "entry_fee_paid",
                           "opened_on"],
            ((share_product.pk, pid, cid, share_product.min_shares, True, start)
             for pid, cid, _code in members))
        n_by_caisse: dict[int, int] = defaultdict(int)
        numbers: list[str] = []
        for _pid, cid, code in members:
            n_by_caisse[cid] += 1
            numbers.append(f"{code}-{epv.code}-{n_by_caisse[cid]:06d}")
        account_ids = bulk_insert(
            SavingsAccount, ["number", "product_id", "caisse_id", "person_id", "opened_on",
                             "last_activity_on", "balance", "status"],
            ((numbers[i], epv.pk, cid, pid, start, last_activity[i], balances[i], "active")
             for i, (pid, cid, _code) in enumerate(members)))

        # Ledger: per caisse and month one entry with the month's deposits and withdrawals.
        history.sort(key=lambda h: (h[0], h[1], h[2], h[3] != TxKind.DEPOSIT))
        monthly: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
        for cid, day, _i, kind, amount in history:
            monthly[(cid, day.replace(day=1))][0 if kind == TxKind.DEPOSIT else 1] += amount
        entries = {}
        for (cid, month), (deposits, withdrawals) in sorted(monthly.items()):
            value_date = min(today, _month_end(month))
            lines = []
            if deposits:
                lines += [LineSpec("101", "D", deposits), LineSpec("251", "C", deposits)]
            if withdrawals:
                lines += [LineSpec("251", "D", withdrawals), LineSpec("101", "C", withdrawals)]
            entries[(cid, month)] = entry_post(
                book=books[cid], lines=lines, value_date=value_date, posting_date=value_date,
                description=f"Reprise historique épargne {month:%m/%Y}", acting_user=None,
                source_type="savings.history", source_id=f"{cid}:{month:%Y-%m}", audit=False)
        per_caisse: dict[int, int] = defaultdict(int)
        for _pid, cid, _code in members:
            per_caisse[cid] += 1
        share_entries = {}
        for cid, count in sorted(per_caisse.items()):
            lines = [LineSpec("101", "D", count * (share_total + fee)),
                     LineSpec("57", "C", count * share_total)]
            if fee:
                lines.append(LineSpec("7029", "C", count * fee))
            share_entries[cid] = entry_post(
                book=books[cid], lines=lines, value_date=start, posting_date=start,
                description="Reprise parts sociales", acting_user=None,
                source_type="shares.history", source_id=str(cid), audit=False)

        # Movements and their receipts, numbered gaplessly per caisse and year.
        running = [0] * len(members)
        receipt_no: dict[tuple[int, int], int] = defaultdict(int)
        tx_rows = []
        receipt_rows = []
        for cid, day, i, kind, amount in history:
            running[i] += amount if kind == TxKind.DEPOSIT else -amount
            receipt_no[(cid, day.year)] += 1
            n = receipt_no[(cid, day.year)]
            tx_rows.append((account_ids[i], kind, "C" if kind == TxKind.DEPOSIT else "D",
                            amount, "posted", running[i], day, day.year, n, "Historique", True,
                            entries[(cid, day.replace(day=1))].pk))
            receipt_rows.append((cid, day.year, n, kind, amount, members[i][0], numbers[i],
                                 running[i]))
        if running != balances:
            raise RuntimeError("demo history does not replay to the account balances")
        bulk_insert(SavingsTransaction, ["account_id", "kind", "direction", "amount", "status",
                                         "balance_after", "value_date", "receipt_year",
                                         "receipt_number", "description", "cash",
                                         "journal_entry_id"], tx_rows)
        bulk_insert(Receipt, ["caisse_id", "year", "number", "kind", "amount", "person_id",
                              "account_number", "balance_after"], receipt_rows)
        bulk_insert(ShareTransaction, ["account_id", "kind", "shares", "amount", "entry_fee",
                                       "value_date", "journal_entry_id"],
                    ((sid, "purchase", share_product.min_shares, share_total, fee, start,
                      share_entries[members[k][1]].pk) for k, sid in enumerate(share_ids)))
        Counter.objects.bulk_create(
            [Counter(scope=f"receipt:{cid}", year=year, value=value)
             for (cid, year), value in receipt_no.items()]
            + [Counter(scope=f"savings-account:{cid}", year=0, value=value)
               for cid, value in n_by_caisse.items()])
        result = {"share_accounts": len(share_ids), "savings_accounts": len(account_ids),
                  "transactions": len(tx_rows),
                  "ledger_entries": len(entries) + len(share_entries),
                  "deposits_total": sum(balances)}
        audit_log(actor=None, event_type="demo.savings_loaded", subject=kondo, after=result,
                  organisation=kondo)
    return result
