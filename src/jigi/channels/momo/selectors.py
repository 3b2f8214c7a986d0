"""Reads of mobile-money payments, scoped to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from jigi.channels.models import MobileMoneyPayment, PaymentStatus, Refund, StatementLine
from jigi.channels.storable import printable
from jigi.core.errors import NotFound
from jigi.ledger.models import JournalEntry
from jigi.orgs.models import Role, Unit, UnitKind
from jigi.orgs.scoping import user_scope

MANAGER_ROLES = {Role.CAISSE_MANAGER.value, Role.NETWORK_ADMIN.value, Role.MUTUAL_MANAGER.value,
                 Role.UNION_ADMIN.value, Role.MOVEMENT_ADMIN.value}


def payments_for_user(user) -> QuerySet[MobileMoneyPayment]:
    return (MobileMoneyPayment.objects.select_related("unit")
            .filter(user_scope(user).unit_q("unit__")).order_by("-requested_at", "-pk"))


def merchant_units_for_user(user) -> QuerySet[Unit]:
    """Units whose statements the user may import: caisses and mutuals she manages, and the
    movement's sections for its admins."""
    return user_scope(user).units(write=True, roles=MANAGER_ROLES).filter(
        kind__in=[UnitKind.CAISSE, UnitKind.MUTUAL, UnitKind.SECTION]).order_by("code")


def get_payment_for_user(user, order_id: str) -> MobileMoneyPayment:
    p = (MobileMoneyPayment.objects.select_related("unit").filter(order_id=order_id).first()
         if printable(order_id) else None)  # PostgreSQL cannot even look up a NUL
    if p is None or not user_scope(user).covers_unit(p.unit):
        raise NotFound("payment_not_found", _("Payment not found."))
    return p


@dataclass
class DayReport:
    day: date
    by_status: dict[str, tuple[int, int]] = field(default_factory=dict)  # count, francs
    by_resolution: dict[str, tuple[int, int]] = field(default_factory=dict)
    succeeded_not_on_statement: list[MobileMoneyPayment] = field(default_factory=list)
    unmatched: list[StatementLine] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    refunds_waiting: list[Refund] = field(default_factory=list)


def reconciliation_report(user, day: date) -> DayReport:
    """One day: our payments by status, the statement's lines by resolution, what we posted
    that the statement does not show, what the statement shows that matches nothing."""
    payments = payments_for_user(user).filter(requested_at__date=day)
    report = DayReport(day)
    for row in payments.values("status").annotate(n=Count("pk"), s=Sum("amount")):
        report.by_status[row["status"]] = (row["n"], row["s"] or 0)
    ids = list(payments.values_list("pk", flat=True))
    lines = StatementLine.objects.filter(statement_date=day)
    scope = user_scope(user)
    lines = list(lines.select_related("payment__unit"))
    # Money matching no payment belongs to the unit whose book holds its suspense entry.
    # (Its source_id is the txn id cut to the column's 64 characters.)
    parked = {e.source_id: e.book.unit for e in JournalEntry.objects.select_related(
        "book__unit").filter(source_type="channels.momo_suspense",
                             source_id__in=[ln.provider_txn_id[:64] for ln in lines])}
    visible = [ln for ln in lines
               if (ln.payment is not None and scope.covers_unit(ln.payment.unit))
               or (ln.payment is None and ln.provider_txn_id[:64] in parked
                   and scope.covers_unit(parked[ln.provider_txn_id[:64]]))]
    for ln in visible:
        n, s = report.by_resolution.get(ln.resolution, (0, 0))
        report.by_resolution[ln.resolution] = (n + 1, s + ln.amount)
    on_statement = {ln.payment_id for ln in StatementLine.objects.filter(payment_id__in=ids)}
    report.succeeded_not_on_statement = [p for p in payments if p.status ==
                                         PaymentStatus.SUCCEEDED and p.pk not in on_statement]
    report.unmatched = [ln for ln in visible if ln.resolution == "unmatched"]
    report.refunds = list(refunds_for_user(user).filter(requested_at__date=day)
                          .order_by("pk"))
    report.refunds_waiting = list(refunds_for_user(user).filter(status="requested")
                                  .order_by("requested_at", "pk")[:100])
    return report


def refunds_for_user(user) -> QuerySet[Refund]:
    """Refunds posted in the books of the user's units (whatever the day)."""
    return (Refund.objects.select_related("journal_entry__book__unit")
            .filter(user_scope(user).unit_q("journal_entry__book__unit__")))
