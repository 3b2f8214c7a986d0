"""What the USSD menu reads, for one member: each screen is one to three small indexed queries
(the phone's persons with their PIN and language in one; balances; the current schedule's
unpaid instalments; the coverage through the health module's prepared eligibility statements;
the last receipts of savings, loans and contributions).

Only the caller's own rows are read (the person the PIN opened the session for); health data
is her coverage status only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext

from jigi.channels.models import SmsPreference, UssdPin
from jigi.channels.ussd import menu, pins, services
from jigi.core import prepared
from jigi.credit.models import Installment, LoanStatus, LoanTransaction, LoanTxKind
from jigi.health import eligibility as el
from jigi.health import selectors as health
from jigi.health.models import Contribution
from jigi.orgs.scoping import Scope
from jigi.people.models import Person
from jigi.savings.models import (
    AccountStatus,
    Direction,
    SavingsAccount,
    SavingsTransaction,
    TxStatus,
)

MAX_ACCOUNTS = 6
MAX_LOANS = 3
RECEIPTS = 3


@dataclass(frozen=True)
class PhonePerson:
    id: int
    first_name: str
    has_pin: bool
    locked: bool  # her PIN is locked now
    language: str | None  # her SMS preference's language, None without a choice


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _c(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _persons_sql() -> str:
    p, u, s = Person, UssdPin, SmsPreference
    return (  # names from the models, the values as parameters
        f"SELECT p.{_c(p, 'id')}, p.{_c(p, 'first_name')}, "  # noqa: S608
        f"CASE WHEN u.{_c(u, 'pin_hash')} IS NULL OR u.{_c(u, 'pin_hash')} = '' "
        f"THEN 0 ELSE 1 END, "
        f"CASE WHEN u.{_c(u, 'locked_until')} > %s THEN 1 ELSE 0 END, s.{_c(s, 'language')} "
        f"FROM {_t(p)} p LEFT JOIN {_t(u)} u ON u.{_c(u, 'person')} = p.{_c(p, 'id')} "
        f"LEFT JOIN {_t(s)} s ON s.{_c(s, 'person')} = p.{_c(p, 'id')} "
        f"WHERE p.{_c(p, 'phone')} = %s AND p.{_c(p, 'merged_into')} IS NULL "
        f"ORDER BY p.{_c(p, 'id')} LIMIT 20")


def persons_by_phone(phone: str, now: datetime | None = None) -> list[PhonePerson]:
    """The (unmerged) persons whose phone it is, with their PIN state and language: one
    statement, prepared once per process (every USSD reply runs it)."""
    now = connection.ops.adapt_datetimefield_value(now or timezone.now())
    with prepared.cursor() as cursor:
        rows = cursor.execute(prepared.statement("ussd.persons", _persons_sql),
                              [now, phone]).fetchall()
    return [PhonePerson(pk, first or "", bool(has_pin), bool(locked), lang or None)
            for pk, first, has_pin, locked, lang in rows]


def start_language(persons: Sequence[PhonePerson]) -> str:
    """The language a new session starts in: the members' own choice when every person on the
    phone made the same one; "" (ask first) otherwise."""
    chosen = {p.language for p in persons}
    if len(chosen) == 1:
        (language,) = chosen
        return language if language in menu.LANGUAGES else ""
    return ""


@functools.lru_cache(maxsize=1024)
def _translated(language: str, msgid: str) -> str:
    """The catalogues are loaded once per process: so is each menu text (activating a language
    for every line cost more than the rest of the menu)."""
    with translation.override(language):
        return gettext(msgid)


class DbProvider:
    """The menu's `Provider` over the database, for one request."""

    def __init__(self, phone: str, persons: Sequence[PhonePerson], on: date | None = None):
        self.phone = phone
        self.persons = {p.id: p for p in persons}
        self.on = on or timezone.localdate()

    def translate(self, language: str, msgid: str) -> str:
        return _translated(language, msgid)

    # --- PIN ---
    def pin_state(self, person_id: int) -> str:
        p = self.persons.get(person_id)
        if p is None or not p.has_pin:
            return menu.PIN_NONE
        if p.locked:
            return menu.PIN_LOCKED
        return menu.PIN_OK

    def verify_pin(self, person_id: int, pin: str) -> menu.PinCheck:
        return pins.pin_verify(person_id=person_id, pin=pin)

    # --- writes ---
    def request_callback(self, person_id: int) -> str:
        return services.ussd_callback_request(person_id=person_id, phone=self.phone)

    def set_language(self, person_id: int, language: str) -> None:
        services.ussd_language_set(person_id=person_id, language=language)

    # --- reads ---
    def balances(self, person_id: int) -> list[menu.Balance]:
        rows = (SavingsAccount.objects.filter(person_id=person_id)
                .exclude(status=AccountStatus.CLOSED).order_by("pk")
                .values_list("product__name", "balance")[:MAX_ACCOUNTS])
        return [menu.Balance(name, balance) for name, balance in rows]

    def instalments(self, person_id: int) -> list[menu.Instalment]:
        """Per active loan (current schedule version): the next unpaid instalment on or after
        today (else the last unpaid one) and what earlier unpaid instalments still owe."""
        rows = (Installment.objects
                .filter(loan__person_id=person_id, loan__status=LoanStatus.ACTIVE,
                        version=F("loan__schedule_version"), paid_on__isnull=True)
                .order_by("loan_id", "due_on", "number")
                .values_list("loan_id", "loan__number", "due_on", "principal", "interest",
                             "fees", "penalties", "principal_paid", "interest_paid",
                             "fees_paid", "penalties_paid", "interest_waived")[:500])
        loans: dict[int, list[tuple[str, date, int]]] = {}
        for loan_id, number, due_on, p, i, f, pen, pp, ip, fp, penp, waived in rows:
            owed = p + i + f + pen - pp - ip - fp - penp - waived
            if owed > 0:
                loans.setdefault(loan_id, []).append((number, due_on, owed))
        out = []
        for items in list(loans.values())[:MAX_LOANS]:
            upcoming = [x for x in items if x[1] >= self.on]
            nxt = upcoming[0] if upcoming else items[-1]
            late = sum(x[2] for x in items if x[1] < self.on and x is not nxt)
            out.append(menu.Instalment(nxt[0], nxt[1], nxt[2], late))
        return out

    def cover(self, person_id: int) -> menu.Cover:
        """Her own coverage status, decided by the health module's eligibility rules on its
        prepared statements (the beneficiaries reached by the phone, kept when they are her)."""
        scope = Scope(user_id=None, is_superuser=True)  # the member herself: no staff scope
        nobody = _Nobody()
        decisions = []
        with prepared.cursor() as cursor:
            rows = cursor.execute(prepared.statement("health.phone", health._phone_sql),
                                  [self.phone, self.phone]).fetchall()
            pid = _person_column()
            for row in rows:
                if row[pid] != person_id:
                    continue
                match = health._decide_row(cursor, scope, nobody, row, self.on, None, None)
                if match is not None:
                    decisions.append(match.decision)
        if not decisions:
            return menu.Cover("none")
        if any(d.covered for d in decisions):
            return menu.Cover("covered")
        reason = decisions[0].reasons[0] if decisions[0].reasons else None
        code = reason.code if reason else el.ENDED
        if code == el.WAITING_PERIOD:
            return menu.Cover("waiting", until=reason.until)
        if code == el.SUSPENDED_ARREARS:
            return menu.Cover("suspended", amount=reason.amount or 0)
        return menu.Cover("ended")

    def receipts(self, person_id: int) -> list[menu.ReceiptLine]:
        """The last receipts whatever the organisation: savings operations with a receipt
        number, loan repayments and mutual contributions (reversed ones left out)."""
        lines: list[tuple[date, int, menu.ReceiptLine]] = []
        savings = (SavingsTransaction.objects
                   .filter(account__person_id=person_id, status=TxStatus.POSTED,
                           receipt_number__isnull=False)
                   .order_by("-value_date", "-pk")
                   .values_list("pk", "value_date", "amount", "direction")[:RECEIPTS])
        for pk, d, amount, direction in savings:
            sign = -1 if direction == Direction.DEBIT else 1
            lines.append((d, pk, menu.ReceiptLine(d, "savings", sign * amount)))
        loans = (LoanTransaction.objects
                 .filter(loan__person_id=person_id, reversed=False,
                         kind__in=[LoanTxKind.REPAYMENT, LoanTxKind.PAYOFF,
                                   LoanTxKind.PREPAYMENT])
                 .order_by("-value_date", "-pk")
                 .values_list("pk", "value_date", "amount")[:RECEIPTS])
        lines += [(d, pk, menu.ReceiptLine(d, "loan", amount)) for pk, d, amount in loans]
        health_rows = (Contribution.objects
                       .filter(coverage__member_id=person_id, reversed_by__isnull=True,
                               reverses__isnull=True)
                       .order_by("-paid_on", "-pk")
                       .values_list("pk", "paid_on", "amount")[:RECEIPTS])
        lines += [(d, pk, menu.ReceiptLine(d, "health", amount)) for pk, d, amount in health_rows]
        lines.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return [line for _d, _pk, line in lines[:RECEIPTS]]


class _Nobody:
    """No staff user: the eligibility facts' "providers the user works at" match nothing."""

    pk = None


def _person_column() -> int:
    names = [(alias, name) for _m, alias, ns in health._CARD_FIELDS for name in ns]
    return names.index(("p", "id"))
