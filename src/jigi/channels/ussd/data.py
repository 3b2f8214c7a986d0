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
from django.utils import timezone, translation
from django.utils.translation import gettext

from jigi.channels.models import SmsPreference, UssdPin
from jigi.channels.ussd import menu, pins, services
from jigi.core import prepared
from jigi.credit.models import Installment, Loan, LoanStatus, LoanTransaction, LoanTxKind
from jigi.health import eligibility as el
from jigi.health import selectors as health
from jigi.health.models import Contribution, Coverage
from jigi.orgs.scoping import Scope
from jigi.people.models import Person
from jigi.savings.models import (
    AccountStatus,
    Direction,
    SavingsAccount,
    SavingsProduct,
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
        rows = _run("ussd.balances", _balances_sql, [person_id, AccountStatus.CLOSED.value])
        return [menu.Balance(name, balance) for name, balance in rows]

    def instalments(self, person_id: int) -> list[menu.Instalment]:
        """Per active loan (current schedule version): the next unpaid instalment on or after
        today (else the last unpaid one) and what earlier unpaid instalments still owe."""
        rows = _run("ussd.instalments", _instalments_sql,
                    [person_id, LoanStatus.ACTIVE.value])
        loans: dict[int, list[tuple[str, date, int]]] = {}
        for loan_id, number, due_on, owed in rows:
            if owed > 0:
                loans.setdefault(loan_id, []).append((number, _day(due_on), owed))
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
        rows = _run("ussd.receipts", _receipts_sql, [
            person_id, TxStatus.POSTED.value, person_id, False,
            LoanTxKind.REPAYMENT.value, LoanTxKind.PAYOFF.value, LoanTxKind.PREPAYMENT.value,
            person_id])
        for kind, pk, d, amount, direction in rows:
            d = _day(d)
            sign = -1 if direction == Direction.DEBIT else 1
            lines.append((d, pk, menu.ReceiptLine(d, kind, sign * amount)))
        lines.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return [line for _d, _pk, line in lines[:RECEIPTS]]


def _run(name: str, build, params: list) -> list[tuple]:
    with prepared.cursor() as cursor:
        return cursor.execute(prepared.statement(name, build), params).fetchall()


def _day(value) -> date:
    # SQLite may give dates as ISO text; PostgreSQL as dates.
    return value if isinstance(value, date) else date.fromisoformat(value)


def _balances_sql() -> str:
    a, k = SavingsAccount, SavingsProduct
    return (  # names from the models, the values as parameters
        f"SELECT k.{_c(k, 'name')}, a.{_c(a, 'balance')} FROM {_t(a)} a "  # noqa: S608
        f"JOIN {_t(k)} k ON k.{_c(k, 'id')} = a.{_c(a, 'product')} "
        f"WHERE a.{_c(a, 'person')} = %s AND a.{_c(a, 'status')} <> %s "
        f"ORDER BY a.{_c(a, 'id')} LIMIT {MAX_ACCOUNTS}")


def _instalments_sql() -> str:
    i, n = Installment, Loan
    owed = " - ".join([" + ".join(f"i.{_c(i, f)}" for f in ("principal", "interest", "fees",
                                                            "penalties"))] + [
        f"i.{_c(i, f)}" for f in ("principal_paid", "interest_paid", "fees_paid",
                                  "penalties_paid", "interest_waived")])
    return (  # names from the models, the values as parameters
        f"SELECT i.{_c(i, 'loan')}, n.{_c(n, 'number')}, i.{_c(i, 'due_on')}, "  # noqa: S608
        f"{owed} FROM {_t(i)} i JOIN {_t(n)} n ON n.{_c(n, 'id')} = i.{_c(i, 'loan')} "
        f"WHERE n.{_c(n, 'person')} = %s AND n.{_c(n, 'status')} = %s "
        f"AND i.{_c(i, 'version')} = n.{_c(n, 'schedule_version')} "
        f"AND i.{_c(i, 'paid_on')} IS NULL "
        f"ORDER BY i.{_c(i, 'loan')}, i.{_c(i, 'due_on')}, i.{_c(i, 'number')} LIMIT 500")


def _receipts_sql() -> str:
    """The last receipts of each kind in one round trip (each branch walks its own index: the
    accounts', loans' and coverages' person)."""
    t, a, x, n, c, v = (SavingsTransaction, SavingsAccount, LoanTransaction, Loan,
                        Contribution, Coverage)
    savings = (
        f"SELECT 'savings' AS kind, t.{_c(t, 'id')} AS pk, "  # noqa: S608
        f"t.{_c(t, 'value_date')} AS day, "
        f"t.{_c(t, 'amount')} AS amount, t.{_c(t, 'direction')} AS direction "
        f"FROM {_t(t)} t JOIN {_t(a)} a ON a.{_c(a, 'id')} = t.{_c(t, 'account')} "
        f"WHERE a.{_c(a, 'person')} = %s AND t.{_c(t, 'status')} = %s "
        f"AND t.{_c(t, 'receipt_number')} IS NOT NULL "
        f"ORDER BY t.{_c(t, 'value_date')} DESC, t.{_c(t, 'id')} DESC LIMIT {RECEIPTS}")
    loans = (
        f"SELECT 'loan' AS kind, x.{_c(x, 'id')} AS pk, "  # noqa: S608
        f"x.{_c(x, 'value_date')} AS day, "
        f"x.{_c(x, 'amount')} AS amount, 'C' AS direction "
        f"FROM {_t(x)} x JOIN {_t(n)} n ON n.{_c(n, 'id')} = x.{_c(x, 'loan')} "
        f"WHERE n.{_c(n, 'person')} = %s AND x.{_c(x, 'reversed')} = %s "
        f"AND x.{_c(x, 'kind')} IN (%s, %s, %s) "
        f"ORDER BY x.{_c(x, 'value_date')} DESC, x.{_c(x, 'id')} DESC LIMIT {RECEIPTS}")
    health_ = (
        f"SELECT 'health' AS kind, c.{_c(c, 'id')} AS pk, "  # noqa: S608
        f"c.{_c(c, 'paid_on')} AS day, "
        f"c.{_c(c, 'amount')} AS amount, 'C' AS direction "
        f"FROM {_t(c)} c JOIN {_t(v)} v ON v.{_c(v, 'id')} = c.{_c(c, 'coverage')} "
        f"WHERE v.{_c(v, 'member')} = %s AND c.{_c(c, 'reversed_by')} IS NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {_t(c)} r WHERE r.{_c(c, 'reversed_by')} = "
        f"c.{_c(c, 'id')}) "
        f"ORDER BY c.{_c(c, 'paid_on')} DESC, c.{_c(c, 'id')} DESC LIMIT {RECEIPTS}")
    # Names from the models, the values as parameters.
    return " UNION ALL ".join(
        f"SELECT * FROM ({q}) AS q{k}"  # noqa: S608
        for k, q in enumerate((savings, loans, health_)))


class _Nobody:
    """No staff user: the eligibility facts' "providers the user works at" match nothing."""

    pk = None


def _person_column() -> int:
    names = [(alias, name) for _m, alias, ns in health._CARD_FIELDS for name in ns]
    return names.index(("p", "id"))
