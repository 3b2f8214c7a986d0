"""Reads for field collection: the officer's groups and their collection sheet for a date,
who she may collect from, what her applied items total for a day, the conflicts to review."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from jigi.channels.models import FieldCashCount, SyncItem, SyncItemStatus
from jigi.credit.models import GroupMember, Loan, LoanStatus, SolidarityGroup
from jigi.credit.services._common import COUNTER_ROLES, MANAGER_ROLES, OFFICER_ROLES
from jigi.credit.services.groups import collection_sheet, next_meeting
from jigi.orgs.models import Role, StaffRole, Unit, UnitKind
from jigi.orgs.scoping import user_scope
from jigi.savings.models import AccountStatus, ProductKind, SavingsAccount


@dataclass(frozen=True)
class MemberLine:
    person_id: int
    group_id: int
    caisse_id: int
    loan_id: int | None
    account_id: int | None  # her first open voluntary savings account at the group's caisse


def officer_groups(user):
    """The groups of the caisses where the user works as loan officer (or manages)."""
    return SolidarityGroup.objects.filter(
        user_scope(user).unit_q("caisse__", write=True, roles=OFFICER_ROLES)
    ).select_related("caisse").order_by("name", "pk")


def field_sheet(user, on: date) -> dict[str, Any]:
    """The collection sheet of every group of the officer for the day `on`: per member what is
    due on her group loan by then (overdue included) and whether she has a savings account.
    `version` changes whenever anything on the sheet changes (the ETag)."""
    groups = []
    for group in officer_groups(user):
        lines = collection_sheet(group, on)
        groups.append({
            "id": group.pk, "name": group.name, "caisse": group.caisse.name,
            "next_meeting": next_meeting(group, on).isoformat(),
            "meeting_place": group.meeting_place,
            "members": [{
                "person_id": line["person_id"], "name": line["name"], "role": line["role"],
                "loan_id": line["loan_id"], "loan_number": line["loan_number"],
                "due": line["due"], "overdue": line["overdue"],
                "can_save": line["savings_account_id"] is not None,
            } for line in lines],
        })
    body = {"on": on.isoformat(), "groups": groups}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    body["version"] = hashlib.sha256(text.encode()).hexdigest()[:32]
    return body


def officer_members(user) -> dict[int, MemberLine]:
    """Who the officer may collect from: active members of her groups, with their active group
    loan and savings account (one query each for members, loans and accounts; the account
    chosen as `savings.services.loan_link.voluntary_account` does)."""
    groups = officer_groups(user)
    loans = dict(Loan.objects.filter(group__in=groups, status=LoanStatus.ACTIVE)
                 .order_by("pk").values_list("person_id", "pk"))
    accounts: dict[tuple[int, int], int] = {}
    for pk, person_id, caisse_id in SavingsAccount.objects.filter(
            person_id__in=GroupMember.objects.filter(group__in=groups, left_on__isnull=True)
            .values("person_id"), product__kind=ProductKind.VOLUNTARY,
            status__in=[AccountStatus.ACTIVE, AccountStatus.DORMANT]).order_by("-pk").values_list(
            "pk", "person_id", "caisse_id"):
        accounts[(person_id, caisse_id)] = pk  # the lowest pk wins, as voluntary_account
    members: dict[int, MemberLine] = {}
    rows = GroupMember.objects.filter(group__in=groups, left_on__isnull=True).values_list(
        "person_id", "group_id", "group__caisse_id").order_by("group_id")
    for person_id, group_id, caisse_id in rows:
        members.setdefault(person_id, MemberLine(person_id, group_id, caisse_id,
                                                 loans.get(person_id),
                                                 accounts.get((person_id, caisse_id))))
    return members


def applied_money(items) -> dict[str, int]:
    """Totals of items whose money was posted (a later conflict does not undo a posting)."""
    repaid = saved = count = 0
    for kind, amount in items:
        count += 1
        if kind == "repayment":
            repaid += amount
        else:
            saved += amount
    return {"repaid": repaid, "saved": saved, "total": repaid + saved, "items": count}


def officer_day_total(officer, day: date, caisse_id: int | None = None) -> dict[str, int]:
    """What the officer's synced, posted items say she collected on `day` (at one caisse)."""
    qs = SyncItem.objects.filter(user=officer, collected_on=day).exclude(posting_ref="")
    if caisse_id is not None:
        qs = qs.filter(result__caisse_id=caisse_id)
    return applied_money((p["kind"], int(p["amount"])) for p in qs.values_list(
        "payload", flat=True))


def counter_caisses(user) -> list[Unit]:
    """The caisses where the user receives cash (teller, manager)."""
    return list(user_scope(user).units(write=True, roles=COUNTER_ROLES)
                .filter(kind=UnitKind.CAISSE).order_by("name"))


def field_officers(caisse: Unit):
    """The loan officers of a caisse (those who hand in field cash there)."""
    ids = StaffRole.objects.filter(
        Q(unit=caisse) | Q(unit__isnull=True, organisation=caisse.organisation),
        role=Role.LOAN_OFFICER, revoked_at__isnull=True).values_list("user_id", flat=True)
    return get_user_model().objects.filter(pk__in=ids).order_by("username")


def cash_count_for(officer, day: date, caisse_id: int | None = None) -> FieldCashCount | None:
    """The officer's count that day (at `caisse_id`: a network-wide officer's count made at
    another caisse is not that caisse's staff's to read)."""
    qs = FieldCashCount.objects.filter(user=officer, day=day)
    if caisse_id is not None:
        qs = qs.filter(caisse_id=caisse_id)
    return qs.select_related("counted_by", "caisse").first()


def conflicts_for(user):
    """Conflicts waiting for review in the caisses the user manages."""
    caisse_ids = list(user_scope(user).units(write=True, roles=MANAGER_ROLES)
                      .values_list("pk", flat=True))
    return SyncItem.objects.filter(status=SyncItemStatus.CONFLICT,
                                   result__caisse_id__in=caisse_ids).select_related(
        "user").order_by("received_at", "pk")
