"""SMS receipts from the money services (a loan repayment, a mutual contribution), called
inside the service's own transaction, after its record is written: the message exists exactly
when the payment does (a rolled-back payment leaves none).

Cheap for the many members who said no: one query reads her preference (with her phone and
the organisation's name) and stops there; for an opted-in member `services.receipt_queue`
then reads the preference once more and inserts the message. Who gets one is
`policy.may_send`'s decision; the language is `templates.language_of`'s (via receipt_queue).
Reversals queue nothing (see docs/channels.md, "Receipts by SMS").
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Subquery

from jigi.channels import policy
from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.orgs.models import Organisation


def payment_receipt_queue(*, kind: str, organisation_id: int, person_id: int, amount: int,
                          on: date, receipt: str, ref: str, unit_id: int | None = None,
                          **values: Any) -> OutboundMessage | None:
    """Queue the `kind` receipt (services.RECEIPT_KINDS) for the member `person_id`, in the
    caller's transaction; `unit_id` is the unit whose staff may read it (the loan's or the
    account's caisse, the coverage's mutual). None when the policy says no (no preference row,
    not opted in), or she has no phone."""
    from jigi.channels.services import receipt_queue

    org = Organisation.objects.filter(pk=organisation_id)
    pref = (SmsPreference.objects.filter(person_id=person_id).select_related("person")
            .annotate(org_name=Subquery(org.values("name")[:1]),
                      org_code=Subquery(org.values("code")[:1]))
            .first())
    if pref is None or not pref.person.phone:
        return None
    if not policy.may_send(kind, has_person=True, opted_in=pref.opt_in):
        return None
    organisation = Organisation(pk=organisation_id, name=pref.org_name or "",
                                code=pref.org_code or "")
    return receipt_queue(kind=kind, organisation=organisation, person=pref.person,
                         amount=amount, on=on, receipt=receipt, ref=ref, unit_id=unit_id,
                         **values)
