"""SMS receipts from the money services (a loan repayment, a mutual contribution), called
inside the service's own transaction, after its record is written: the message exists exactly
when the payment does (a rolled-back payment leaves none).

Cheap for the many members who said no: one prepared statement reads her preference (with her
phone, language and the organisation's names) and stops there; for an opted-in member the text
is rendered and one prepared INSERT queues it (`outbox.message_queue`). Who gets one is
`policy.may_send`'s decision; the language is `templates.language_of`'s. (Savings deposits
read the opt-in with the account's lock and skip even the first statement for members who
said no.)
Reversals queue nothing (see docs/channels.md, "Receipts by SMS").
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from jigi.channels import policy, templates
from jigi.channels.models import OutboundMessage, SmsPreference
from jigi.channels.outbox import message_queue
from jigi.core import prepared
from jigi.orgs.models import Organisation
from jigi.people.models import Person


def _preference_sql() -> str:
    pref, person = SmsPreference._meta.db_table, Person._meta.db_table
    org = Organisation._meta.db_table
    # The preference with her phone and language and the organisation's names, one row.
    return (f"SELECT p.opt_in, p.language, m.phone, m.language, o.name, o.code "  # noqa: S608
            f"FROM {pref} p JOIN {person} m ON m.id = p.person_id, {org} o "
            f"WHERE p.person_id = %s AND o.id = %s")


def payment_receipt_queue(*, kind: str, organisation_id: int, person_id: int, amount: int,
                          on: date, receipt: str, ref: str, unit_id: int | None = None,
                          **values: Any) -> OutboundMessage | None:
    """Queue the `kind` receipt (services.RECEIPT_KINDS) for the member `person_id`, in the
    caller's transaction, with `unit_id` (the unit whose staff may read it in the outbox).
    None when the policy says no (no preference row, not opted in), or she has no phone.
    One prepared read and one prepared insert: it runs on the deposit's hot path."""
    from jigi.channels.services import RECEIPT_KINDS, sender_label

    if kind not in RECEIPT_KINDS:
        raise ValueError(f"not a receipt kind: {kind}")
    with prepared.cursor() as cursor:
        row = cursor.execute(prepared.statement("channels.receipt_preference", _preference_sql),
                             [person_id, organisation_id]).fetchone()
    if row is None:
        return None
    opt_in, preferred, phone, spoken, org_name, org_code = row
    if not phone or not policy.may_send(kind, has_person=True, opted_in=bool(opt_in)):
        return None
    sms = templates.render(kind, templates.language_of(preferred, spoken),
                           org=sender_label(SimpleNamespace(name=org_name or "", code=org_code or "")),
                           amount=amount, date=on, receipt=receipt or "-", **values)
    return message_queue(organisation_id=organisation_id, person_id=person_id, phone=phone,
                         text=sms.text, purpose=templates.PURPOSES[kind], ref=ref,
                         language=sms.language, unit_id=unit_id, encoding=sms.encoding,
                         parts=sms.parts)
