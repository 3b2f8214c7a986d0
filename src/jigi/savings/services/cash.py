"""Cash control: teller drawers (vault allocation, count by denomination, differences to
suspense) and the caisse's business day."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError, Forbidden
from jigi.core.money import MoneyError, to_francs
from jigi.ledger.rules import LineSpec
from jigi.ledger.services import entry_post
from jigi.orgs.models import Unit
from jigi.savings.models import (
    DENOMINATIONS,
    CaisseDay,
    DrawerSession,
    DrawerStatus,
    SavingsTransaction,
    TxStatus,
)
from jigi.savings.services._common import (
    DRAWER,
    MANAGER_ROLES,
    MAX_OPERATION,
    SUSPENSE,
    VAULT,
    book_of,
    clean_reason,
    conflict,
    invalid,
    refuse_decimal_mark,
    require_counter,
    service_transaction,
)


def _day(caisse: Unit, on: date, user) -> CaisseDay:
    day, created = CaisseDay.objects.select_for_update().get_or_create(
        caisse=caisse, business_date=on,
        defaults={"opened_at": timezone.now(), "opened_by": user})
    if day.closed_at is not None:
        raise conflict("day_closed", _("The caisse has closed this day."))
    if created:
        audit_log(actor=user, event_type="caisse.day_opened", subject=day,
                  after={"date": str(on)}, unit=caisse)
    return day


def caisse_day_open(*, acting_user, caisse: Unit, on: date | None = None) -> CaisseDay:
    """Open the caisse's business day (the first drawer opened does it too)."""
    require_counter(acting_user, caisse, MANAGER_ROLES)
    with service_transaction(None):
        return _day(caisse, on or timezone.localdate(), acting_user)


def caisse_day_close(*, acting_user, caisse: Unit, on: date) -> CaisseDay:
    """Close the business day: refused while any drawer of the caisse is open."""
    require_counter(acting_user, caisse, MANAGER_ROLES)
    with service_transaction(None):
        day, _created = CaisseDay.objects.select_for_update().get_or_create(
            caisse=caisse, business_date=on,
            defaults={"opened_at": timezone.now(), "opened_by": acting_user})
        if day.closed_at:
            raise conflict("day_closed", _("This day is already closed."))
        open_drawers = DrawerSession.objects.filter(caisse=caisse, status=DrawerStatus.OPEN)
        if open_drawers.exists():
            names = ", ".join(sorted(str(d.teller) for d in open_drawers.select_related("teller")))
            raise conflict("drawers_open",
                           _("Close every drawer first (still open: %(names)s).") % {
                               "names": names}, "drawers")
        day.closed_at, day.closed_by = timezone.now(), acting_user
        day.save(update_fields=["closed_at", "closed_by"])
        audit_log(actor=acting_user, event_type="caisse.day_closed", subject=day,
                  after={"date": str(on)}, unit=caisse)
    return day


def drawer_open(*, acting_user, caisse: Unit, amount: Any, on: date | None = None
                ) -> DrawerSession:
    """Open the teller's drawer for the day with cash taken from the vault (101 -> 102)."""
    require_counter(acting_user, caisse)
    refuse_decimal_mark(amount)
    try:
        value = to_francs(amount, allow_zero=True)
    except MoneyError:
        raise invalid("amount", _("Enter an amount in francs CFA.")) from None
    if value > MAX_OPERATION:
        raise invalid("amount", _("This amount is not plausible."))
    on = on or timezone.localdate()
    with service_transaction(None):
        _day(caisse, on, acting_user)
        if DrawerSession.objects.filter(teller=acting_user, status=DrawerStatus.OPEN).exists():
            raise conflict("drawer_open", _("Your drawer is already open."), "drawer")
        drawer = DrawerSession.objects.create(caisse=caisse, teller=acting_user,
                                              business_date=on, opening_amount=value)
        if value:
            entry_post(book=book_of(caisse), lines=[LineSpec(DRAWER, "D", value),
                                                    LineSpec(VAULT, "C", value)],
                       value_date=on, description=f"Ouverture guichet {acting_user}",
                       acting_user=acting_user, source_type="drawer", source_id=str(drawer.pk),
                       audit=False)
        audit_log(actor=acting_user, event_type="drawer.opened", subject=drawer,
                  after={"amount": value, "date": str(on)}, unit=caisse)
    return drawer


def clean_count(count: dict | None) -> tuple[int, dict[str, int]]:
    """Total of a cash count {denomination: pieces} over the XOF notes and coins; refuses
    unknown denominations and anything but a whole number of pieces."""
    detail: dict[str, int] = {}
    errors: dict[str, Any] = {}
    seen: set[int] = set()
    for key, pieces in (count or {}).items():
        try:
            denom = int(str(key))
        except ValueError:
            errors[str(key)] = _("Unknown note or coin.")
            continue
        if denom not in DENOMINATIONS:
            errors[str(key)] = _("Unknown note or coin.")
            continue
        if denom in seen:
            # "500" and " 500" (or "0500") name one denomination: counting it under both keys
            # would keep only one of the two figures.
            errors[str(denom)] = _("This note or coin is counted twice.")
            continue
        seen.add(denom)
        if isinstance(pieces, str) and pieces.strip().isdigit():
            pieces = int(pieces.strip())
        elif isinstance(pieces, str) and not pieces.strip():
            pieces = 0
        if isinstance(pieces, bool) or not isinstance(pieces, int) or not 0 <= pieces <= 10**7:
            errors[str(denom)] = _("Enter a number of pieces.")
            continue
        if pieces:
            detail[str(denom)] = pieces
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    return sum(int(d) * n for d, n in detail.items()), detail


def drawer_close(*, acting_user, drawer: DrawerSession, count: dict | None) -> DrawerSession:
    """Close with a count by denomination. The counted cash goes back to the vault (102 -> 101);
    a difference goes to suspense 371 and is flagged to the manager until acknowledged."""
    counted, detail = clean_count(count)
    with service_transaction(None):
        d = DrawerSession.objects.select_for_update().select_related("caisse", "teller").get(
            pk=drawer.pk)
        if d.teller_id != acting_user.pk:
            # Someone else's drawer: only a manager of that caisse closes it.
            require_counter(acting_user, d.caisse, MANAGER_ROLES)
        if d.status != DrawerStatus.OPEN:
            raise conflict("drawer_closed", _("This drawer is already closed."), "drawer")
        waiting = SavingsTransaction.objects.filter(drawer=d, status=TxStatus.PENDING).count()
        if waiting:
            raise conflict("pending_operations",
                           _("%(n)d operation(s) of this drawer await a manager's decision.")
                           % {"n": waiting}, "drawer")
        expected = d.expected
        diff = counted - expected
        lines = []
        if counted:
            lines += [LineSpec(VAULT, "D", counted), LineSpec(DRAWER, "C", counted)]
        if diff < 0:
            lines += [LineSpec(SUSPENSE, "D", -diff), LineSpec(DRAWER, "C", -diff)]
        elif diff > 0:
            lines += [LineSpec(DRAWER, "D", diff), LineSpec(SUSPENSE, "C", diff)]
        if lines:
            entry_post(book=book_of(d.caisse), lines=lines, value_date=d.business_date,
                       description=f"Fermeture guichet {d.teller}", acting_user=acting_user,
                       source_type="drawer", source_id=str(d.pk), audit=False)
        d.status = DrawerStatus.CLOSED
        d.counted_amount, d.count_detail, d.difference = counted, detail, diff
        d.flagged = diff != 0
        d.closed_at, d.closed_by = timezone.now(), acting_user
        d.save()
        audit_log(actor=acting_user, event_type="drawer.closed", subject=d,
                  after={"expected": expected, "counted": counted, "difference": diff,
                         "flagged": d.flagged, "count": detail}, unit=d.caisse)
    return d


def drawer_difference_acknowledge(*, acting_user, drawer: DrawerSession, note: str
                                  ) -> DrawerSession:
    """The manager has seen a flagged difference (and says what was done about it)."""
    require_counter(acting_user, drawer.caisse, MANAGER_ROLES)
    text = clean_reason(note, _("Say what was done about the difference."), "note")
    with service_transaction(None):
        d = DrawerSession.objects.select_for_update().get(pk=drawer.pk)
        if not d.flagged or d.acknowledged_at:
            raise conflict("not_flagged", _("Nothing to acknowledge on this drawer."))
        if d.teller_id == acting_user.pk:
            raise Forbidden("maker_checker", _("Another manager must look at your own drawer."))
        d.acknowledged_by, d.acknowledged_at, d.acknowledgement = (acting_user, timezone.now(),
                                                                    text)
        d.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement"])
        audit_log(actor=acting_user, event_type="drawer.difference_acknowledged", subject=d,
                  after={"difference": d.difference, "note": text}, unit=drawer.caisse)
    return d
