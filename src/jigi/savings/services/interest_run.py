"""Interest posting for a whole caisse: one batch, one aggregated entry per product."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Unit
from jigi.savings.interest import daily_balance_interest, is_period_end, period_bounds
from jigi.savings.models import (
    MONEY_STATUSES,
    AccountStatus,
    Direction,
    InterestPosting,
    ProductOverride,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    TxKind,
)
from jigi.savings.rules import slab_rate
from jigi.savings.services._common import (
    INTEREST_EXPENSE,
    MANAGER_ROLES,
    batch_transaction,
    book_of,
    invalid,
    require_counter,
)


@dataclass(frozen=True)
class InterestRun:
    """The postings of a period for a caisse: `created` of them made by this run (0 when the
    period was already posted: a second run posts nothing)."""

    postings: tuple[InterestPosting, ...]
    created: int

    @property
    def total(self) -> int:
        return sum(p.total for p in self.postings)


def _post_product(*, caisse: Unit, product: SavingsProduct, override, period_end: date,
                  acting_user) -> tuple[InterestPosting, bool]:
    start, end = period_bounds(product.interest_posting, period_end)
    rate = Decimal(override.interest_rate) if override and override.interest_rate is not None \
        else Decimal(product.interest_rate)
    min_balance = override.min_balance_for_interest if override and \
        override.min_balance_for_interest is not None else product.min_balance_for_interest
    # Lock the accounts (in id order) so no deposit lands between reading the history and
    # crediting the interest.
    accounts = list(SavingsAccount.objects.select_for_update(of=("self",)).filter(
        caisse=caisse, product=product, opened_on__lte=end).exclude(
        status=AccountStatus.CLOSED).order_by("pk"))
    # Checked under the locks: a concurrent run of the same period waited above and finds the
    # first run's posting here.
    done = InterestPosting.objects.filter(caisse=caisse, product=product, period_end=end).first()
    if done is not None:
        return done, False
    opening: dict[int, int] = defaultdict(int)
    movements: dict[int, list[tuple[date, int]]] = defaultdict(list)
    # The whole history of the caisse's accounts of this product in one query: movements
    # before the period make the opening balance, those inside it are walked day by day.
    rows = SavingsTransaction.objects.filter(
        account__caisse=caisse, account__product=product, value_date__lte=end,
        status__in=MONEY_STATUSES).values_list("account_id", "direction", "amount",
                                               "value_date")
    for account_id, direction, amount, on in rows.iterator(chunk_size=10_000):
        signed = amount if direction == Direction.CREDIT else -amount
        if on < start:
            opening[account_id] += signed
        else:
            movements[account_id].append((on, signed))
    credited: list[tuple[SavingsAccount, int]] = []
    for acc in accounts:
        first_day = max(start, acc.opened_on)
        moves = movements.get(acc.pk, [])
        opening_balance = opening.get(acc.pk, 0) + sum(a for d, a in moves if d < first_day)
        account_rate = rate
        if product.rate_slabs and acc.maturity_on:
            # A term deposit earns its slab's rate: its term, and what it held when the
            # period began (or its first deposit).
            term = (acc.maturity_on.year - acc.opened_on.year) * 12 + \
                acc.maturity_on.month - acc.opened_on.month
            amount = opening_balance or next((a for _d, a in moves if a > 0), 0)
            account_rate = slab_rate(product.rate_slabs, term_months=term, amount=amount,
                                     default=rate)
        result = daily_balance_interest(
            opening_balance=opening_balance,
            movements=moves, start=first_day, end=end, annual_rate_percent=account_rate,
            days_in_year=product.days_in_year, min_balance=min_balance,
            rounding=product.interest_rounding)
        if result.amount > 0:
            credited.append((acc, result.amount))
    total = sum(amount for _acc, amount in credited)
    posting = InterestPosting.objects.create(caisse=caisse, product=product, period_start=start,
                                             period_end=end, accounts=len(credited), total=total)
    if total:
        entry = entry_post(
            book=book_of(caisse), value_date=end, acting_user=acting_user, audit=False,
            lines=[LineSpec(INTEREST_EXPENSE, "D", total),
                   LineSpec(product.gl_account, "C", total)],
            description=f"Intérêts {product.code} {start:%d/%m/%Y}-{end:%d/%m/%Y}",
            source_type="savings.interest", source_id=str(posting.pk),
            posting_date=max(end, timezone.localdate()))
        posting.journal_entry = entry
        posting.save(update_fields=["journal_entry"])
        label = str(_("Interest %(start)s - %(end)s") % {
            "start": start.strftime("%d/%m/%Y"), "end": end.strftime("%d/%m/%Y")})
        txs = []
        for acc, amount in credited:
            acc.balance += amount
            txs.append(SavingsTransaction(
                account=acc, kind=TxKind.INTEREST, direction=Direction.CREDIT, amount=amount,
                value_date=end, balance_after=acc.balance, description=label,
                journal_entry=entry, created_by=acting_user))
        # The rows are locked: writing the new balances back is safe and one statement per
        # batch instead of one per account.
        SavingsAccount.objects.bulk_update([a for a, _x in credited], ["balance"],
                                           batch_size=500)
        SavingsTransaction.objects.bulk_create(txs, batch_size=2000)
    audit_log(actor=acting_user, event_type="savings.interest_posted", subject=posting,
              after={"product": product.code, "period": f"{start}..{end}",
                     "accounts": len(credited), "total": total, "rate": str(rate)},
              unit=caisse)
    return posting, True


def interest_post_caisse(*, caisse: Unit, period_end: date, acting_user) -> InterestRun:
    """Post the interest of the period ending `period_end` for every account of the caisse:
    each product whose posting frequency ends a period that day (monthly, quarterly, yearly)
    and whose rate (caisse override first) is above zero. One aggregated ledger entry per
    product (6025 -> the product's deposit account), one interest row per account credited.
    Idempotent: a product already posted for the period is skipped, so a second run posts
    nothing. Will be one step of close of business; runs as its own transaction."""
    require_counter(acting_user, caisse, MANAGER_ROLES)
    products = list(SavingsProduct.objects.filter(organisation_id=caisse.organisation_id,
                                                  active=True).order_by("code"))
    if not is_period_end("monthly", period_end):
        raise invalid("period_end", _("Not the end of a posting period."))
    due = [p for p in products if is_period_end(p.interest_posting, period_end)]
    overrides = {o.product_id: o for o in ProductOverride.objects.filter(caisse=caisse)}
    postings: list[InterestPosting] = []
    created = 0
    with batch_transaction():
        for product in due:
            override = overrides.get(product.pk)
            rate = override.interest_rate if override and override.interest_rate is not None \
                else product.interest_rate
            if not rate:
                continue
            posting, made = _post_product(caisse=caisse, product=product, override=override,
                                          period_end=period_end, acting_user=acting_user)
            postings.append(posting)
            created += made
    return InterestRun(tuple(postings), created)
