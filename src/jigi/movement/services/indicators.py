"""The monthly snapshot of the decent-work indicators (IndicatorSnapshot), so they can be
followed over time: the members' records hold only the present.

A month's snapshot is the whole movement's indicators (every breakdown) computed from the
records as they stand when it is taken, at the month's last day (or today, for the month under
way): take it at the turn of the month (`jigi movement_snapshot`, cron or close of business).
Taking it again changes nothing: the first snapshot of a month stays (history is not
rewritten), and two runs at once leave one row.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.cleaning import invalid, service_transaction, today
from jigi.movement.decent_work import month_end, month_start
from jigi.movement.models import IndicatorSnapshot
from jigi.movement.selectors_indicators import movement_decent_work
from jigi.orgs.models import Organisation

# Snapshots start with the movement on Jigi; earlier months have no records to speak of.
EARLIEST = date(2000, 1, 1)


def indicator_snapshot_take(*, organisation: Organisation, month: date, acting_user=None
                            ) -> tuple[IndicatorSnapshot, bool]:
    """The snapshot of `month` (any day of it), and whether this call made it."""
    if not isinstance(month, date):
        raise invalid({"month": _("Enter a month (YYYY-MM).")})
    month = month_start(month)
    if month > month_start(today()) or month < EARLIEST:
        raise invalid({"month": _("The month cannot be in the future.")})
    existing = IndicatorSnapshot.objects.filter(organisation=organisation, month=month).first()
    if existing is not None:
        return existing, False
    on = min(month_end(month), today())
    result = movement_decent_work(organisation, on)  # reads only: before the transaction
    try:
        with service_transaction():
            snap = IndicatorSnapshot.objects.create(organisation=organisation, month=month,
                                                    data=result.as_data(),
                                                    smig=result.law.smig)
            audit_log(actor=acting_user, event_type="movement.indicator_snapshot",
                      subject=snap, organisation=organisation,
                      after={"month": month.isoformat(), "members": result.members,
                             "computed_on": on.isoformat()})
    except IntegrityError:  # another run took it meanwhile: keep the first
        return IndicatorSnapshot.objects.get(organisation=organisation, month=month), False
    return snap, True
