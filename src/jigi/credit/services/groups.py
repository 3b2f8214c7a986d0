"""Solidarity groups and women's groups: members, leader, meetings, the collection sheet."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jigi.core.audit import audit_log
from jigi.core.errors import ApplicationError
from jigi.credit.models import CollectionSheet, GroupMember, Loan, LoanStatus, SolidarityGroup
from jigi.credit.services._common import (
    COUNTER_ROLES,
    OFFICER_ROLES,
    conflict,
    current_installments,
    dues_of,
    invalid,
    require_role,
    today,
)
from jigi.credit.services.operations import LoanOperation, loan_repay
from jigi.orgs.models import Unit
from jigi.people.models import Person
from jigi.savings.idempotency import keyed_call
from jigi.savings.models import SavingsAccount
from jigi.savings.services import savings_deposit
from jigi.savings.services._common import Operation, clean_amount
from jigi.savings.services.loan_link import voluntary_account


def group_create(*, acting_user, caisse: Unit, name: str, members: list[Person],
                 leader: Person | None = None, kind: str = "women",
                 meeting_every_days: int = 14, first_meeting_on: date | None = None,
                 meeting_place: str = "", savings_account: SavingsAccount | None = None
                 ) -> SolidarityGroup:
    require_role(acting_user, caisse, OFFICER_ROLES)
    errors: dict[str, Any] = {}
    if not str(name or "").strip():
        errors["name"] = _("The group's name is required.")
    if kind not in ("women", "solidarity"):
        errors["kind"] = _("A women's group or a solidarity group.")
    if len({p.pk for p in members}) != len(members) or len(members) < 2:
        errors["member_ids"] = _("At least two members, each once.")
    if leader is not None and leader.pk not in {p.pk for p in members}:
        errors["leader_id"] = _("The leader is one of the members.")
    if not isinstance(meeting_every_days, int) or not 1 <= meeting_every_days <= 92:
        errors["meeting_every_days"] = _("Between 1 and 92 days.")
    if savings_account is not None and savings_account.caisse_id != caisse.pk:
        errors["savings_account_id"] = _("An account of this caisse.")
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    on = first_meeting_on or today()
    with transaction.atomic():
        group = SolidarityGroup.objects.create(
            caisse=caisse, name=name.strip()[:200], kind=kind, leader=leader,
            meeting_every_days=meeting_every_days, first_meeting_on=on,
            meeting_place=str(meeting_place or "")[:200], savings_account=savings_account)
        GroupMember.objects.bulk_create([
            GroupMember(group=group, person=p, joined_on=today(),
                        role="leader" if leader is not None and p.pk == leader.pk else "member")
            for p in members])
        audit_log(actor=acting_user, event_type="credit.group_created", subject=group,
                  after={"name": group.name, "members": [p.pk for p in members],
                         "leader": leader.pk if leader else None}, unit=caisse)
    return group


def group_member_add(*, acting_user, group: SolidarityGroup, person: Person) -> GroupMember:
    require_role(acting_user, group.caisse, OFFICER_ROLES)
    try:
        with transaction.atomic():
            member = GroupMember.objects.create(group=group, person=person, joined_on=today())
            audit_log(actor=acting_user, event_type="credit.group_member_added", subject=group,
                      after={"person": person.pk}, unit=group.caisse)
    except IntegrityError:
        raise conflict("already_member", _("Already a member of this group."),
                       "person_id") from None
    return member


def group_member_remove(*, acting_user, group: SolidarityGroup, person: Person) -> None:
    require_role(acting_user, group.caisse, OFFICER_ROLES)
    if Loan.objects.filter(group=group, person=person, status=LoanStatus.ACTIVE).exists():
        raise conflict("loan_active", _("A member leaves once her group loan is repaid."),
                       "person_id")
    with transaction.atomic():
        n = GroupMember.objects.filter(group=group, person=person,
                                       left_on__isnull=True).update(left_on=today())
        if not n:
            raise invalid("person_id", _("Not a member of this group."))
        audit_log(actor=acting_user, event_type="credit.group_member_removed", subject=group,
                  after={"person": person.pk}, unit=group.caisse)


def next_meeting(group: SolidarityGroup, on: date) -> date:
    if on <= group.first_meeting_on:
        return group.first_meeting_on
    step = group.meeting_every_days
    k = -(-(on - group.first_meeting_on).days // step)
    return group.first_meeting_on + timedelta(days=k * step)


def collection_sheet(group: SolidarityGroup, on: date) -> list[dict[str, Any]]:
    """Every active member's line for the meeting of `on`: her group loan's amount due by then
    (overdue included) and her savings account for the deposit."""
    lines = []
    members = group.members.filter(left_on__isnull=True).select_related("person").order_by(
        "person__last_name", "person__first_name")
    loans = {loan.person_id: loan for loan in Loan.objects.filter(
        group=group, status=LoanStatus.ACTIVE).select_related("product")}
    for m in members:
        loan = loans.get(m.person_id)
        due = overdue = 0
        if loan is not None:
            for d in dues_of(current_installments(loan)):
                if d.due_on <= on:
                    due += d.total
                    if d.due_on < on:
                        overdue += d.total
        account = voluntary_account(m.person_id, group.caisse_id)
        lines.append({"person_id": m.person_id, "name": m.person.full_name, "role": m.role,
                      "loan_id": loan.pk if loan else None,
                      "loan_number": loan.number if loan else "",
                      "due": due, "overdue": overdue,
                      "savings_account_id": account.pk if account else None,
                      "savings_account": account.number if account else ""})
    return lines


def _line_key(sheet_key: str, index: int, what: str) -> str:
    digest = hashlib.sha256(sheet_key.encode()).hexdigest()[:40]
    return f"sheet:{digest}:{index}:{what}"


def _amount_or_zero(value: Any, field: str) -> int:
    if value in (None, "", 0, "0"):
        return 0
    return clean_amount(value, field)


def collection_sheet_submit(*, acting_user, group: SolidarityGroup, meeting_on: date,
                            lines: list[dict[str, Any]], idempotency_key: str
                            ) -> CollectionSheet:
    """Post one meeting's collection: each member's repayment and savings deposit as its own
    operation (cash into the teller's drawer), with a result per line. The sheet's key makes
    the whole submission idempotent: a second submission returns the first sheet, and a
    submission interrupted half-way, sent again, posts only what was not yet posted (each line
    is keyed from the sheet's key)."""
    require_role(acting_user, group.caisse, COUNTER_ROLES)
    key = str(idempotency_key or "").strip()
    if not key or len(key) > 128:
        raise invalid("Idempotency-Key", _("Required, 1 to 128 printable characters."))
    existing = CollectionSheet.objects.filter(submitted_by=acting_user,
                                              idempotency_key=key).first()
    if existing is not None:
        if existing.group_id != group.pk or existing.meeting_on != meeting_on:
            raise conflict("idempotency_key_reused",
                           _("This Idempotency-Key was already used for a different request."))
        return existing
    if not isinstance(lines, list) or not lines or len(lines) > 200:
        raise invalid("lines", _("One line per member present."))
    members = set(group.members.filter(left_on__isnull=True).values_list("person_id",
                                                                         flat=True))
    cleaned = []
    errors: dict[str, Any] = {}
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            errors[f"lines[{index}]"] = _("A line per member.")
            continue
        try:
            person_id = int(line.get("person_id"))
        except (TypeError, ValueError):
            person_id = 0
        if person_id not in members:
            errors[f"lines[{index}].person_id"] = _("Not a member of this group.")
            continue
        try:
            repay = _amount_or_zero(line.get("repayment"), f"lines[{index}].repayment")
            save = _amount_or_zero(line.get("savings"), f"lines[{index}].savings")
        except ApplicationError as exc:
            errors.update(exc.fields)
            continue
        cleaned.append((index, person_id, repay, save))
    if errors:
        raise ApplicationError("invalid", _("Some fields are not valid."), errors,
                               status_code=422)
    loans = {loan.person_id: loan for loan in Loan.objects.filter(
        group=group, status=LoanStatus.ACTIVE).select_related("product", "caisse")}
    results = []
    total_repaid = total_saved = 0
    for index, person_id, repay, save in cleaned:
        result: dict[str, Any] = {"person_id": person_id, "repayment": repay, "savings": save,
                                  "ok": True, "errors": {}}
        if repay:
            loan = loans.get(person_id)
            if loan is None:
                result["ok"] = False
                result["errors"]["repayment"] = str(_("No group loan being repaid."))
            else:
                try:
                    _status, answer = keyed_call(
                        acting_user, _line_key(key, index, "repay"),
                        endpoint=f"collection:{group.pk}:repay",
                        body={"loan": loan.pk, "amount": repay, "on": meeting_on},
                        render=_render_receipt,
                        run=lambda claim, loan=loan, repay=repay: loan_repay(
                            acting_user=acting_user, loan=loan, amount=repay, on=meeting_on,
                            channel="cash", idempotency=claim))
                    result["receipt"] = answer["receipt"]
                    total_repaid += repay
                except ApplicationError as exc:
                    result["ok"] = False
                    result["errors"]["repayment"] = str(exc.message)
        if save:
            account = voluntary_account(person_id, group.caisse_id)
            if account is None:
                result["ok"] = False
                result["errors"]["savings"] = str(_("No savings account at this caisse."))
            else:
                try:
                    _status, answer = keyed_call(
                        acting_user, _line_key(key, index, "save"),
                        endpoint=f"collection:{group.pk}:save",
                        body={"account": account.pk, "amount": save, "on": meeting_on},
                        render=_render_receipt,
                        run=lambda claim, account=account, save=save: savings_deposit(
                            acting_user=acting_user, account=account, amount=save,
                            on=meeting_on, description=f"Réunion {group.name}",
                            idempotency=claim))
                    result["savings_receipt"] = answer["receipt"]
                    total_saved += save
                except ApplicationError as exc:
                    result["ok"] = False
                    result["errors"]["savings"] = str(exc.message)
        results.append(result)
    try:
        with transaction.atomic():
            sheet = CollectionSheet.objects.create(
                group=group, meeting_on=meeting_on, lines=results, total_repaid=total_repaid,
                total_saved=total_saved, submitted_by=acting_user, idempotency_key=key)
            audit_log(actor=acting_user, event_type="credit.collection_sheet", subject=group,
                      after={"meeting_on": meeting_on.isoformat(), "repaid": total_repaid,
                             "saved": total_saved,
                             "failed": sum(1 for r in results if not r["ok"])},
                      unit=group.caisse)
    except IntegrityError:
        sheet = CollectionSheet.objects.get(submitted_by=acting_user, idempotency_key=key)
    return sheet


def _render_receipt(op: LoanOperation | Operation) -> dict[str, Any]:
    """What a sheet line keeps of a repayment or a deposit (replayed on a second submit)."""
    return {"transaction_id": op.transaction.pk, "receipt": str(op.receipt) if op.receipt
            else None}
