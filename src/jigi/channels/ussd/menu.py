"""The members' USSD menu as a pure state machine: (the gateway's `text`, the session's frozen
facts, a data provider) -> the reply. Plain Python, no Django.

Africa's Talking sends the whole input chain on every request ("", "1", "1*1234", ...). The
machine replays the chain from the start each time, so the only state kept between requests
is what the chain cannot tell: the language the session started in ("" when it must be asked),
whether the PIN was accepted and for whom. Inputs are never acted on twice: the provider's
writes (PIN check, callback, language) run only for the newest input, and the screens' reads
only for the screen shown.

Flow: language (only when the member has none), her first name (only when several persons
share the phone; typed, never listed: nobody's name is shown before the PIN), PIN (once per
session; a wrong PIN ends the session, which is what makes the replay exact), then the main
menu: 1 savings, 2 next instalment, 3 mutual coverage, 4 last receipts, 5 call me back,
6 language, 0 back (from the main menu: goodbye).

Every reply starts with "CON " or "END " and is at most 182 GSM-7 characters, prefix included:
text is folded to GSM-7 first (`gsm_fold`; Bambara's ɛ ɔ ɲ ŋ are written è ò ny ng as in the
pre-1982 orthography still common in SMS, since many basic handsets cannot show them and one
such letter would switch the USSD string to UCS-2, about 80 characters) and counted in septets
(the extension characters € [ ] { } ... count two), then cut line by line if it is too long.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from jigi.channels.sms_length import GSM7_BASIC, GSM7_EXTENSION
from jigi.people.names import fold

CON = "CON "
END = "END "
MAX_SEPTETS = 182
# Longer chains are not a member typing: end them rather than replay them.
MAX_TEXT = 160
MAX_INPUTS = 40
LANGUAGES = ("fr", "bm")


def _(msgid: str) -> str:
    """Marks a msgid for `makemessages`; the provider translates it when the reply is drawn."""
    return msgid


# --- data the provider answers ------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    id: int
    first_name: str


@dataclass(frozen=True)
class Balance:
    label: str
    amount: int


@dataclass(frozen=True)
class Instalment:
    loan: str  # the loan's number
    due_on: date  # the next unpaid instalment's date
    amount: int  # what that instalment still owes
    late: int  # what earlier instalments still owe


@dataclass(frozen=True)
class Cover:
    # "covered", "waiting" (until `until`), "suspended" (arrears `amount`), "ended", "none"
    status: str
    until: date | None = None
    amount: int = 0


@dataclass(frozen=True)
class ReceiptLine:
    day: date
    kind: str  # "savings", "loan", "health"
    amount: int


PIN_OK, PIN_WRONG, PIN_LOCKED, PIN_NONE = "ok", "wrong", "locked", "none"


@dataclass(frozen=True)
class PinCheck:
    result: str  # PIN_OK, PIN_WRONG, PIN_LOCKED, PIN_NONE
    tries_left: int = 0


class Provider(Protocol):
    def translate(self, language: str, msgid: str) -> str: ...

    def pin_state(self, person_id: int) -> str: ...  # PIN_OK (set, usable), PIN_LOCKED, PIN_NONE

    def verify_pin(self, person_id: int, pin: str) -> PinCheck: ...

    def balances(self, person_id: int) -> Sequence[Balance]: ...

    def instalments(self, person_id: int) -> Sequence[Instalment]: ...

    def cover(self, person_id: int) -> Cover: ...

    def receipts(self, person_id: int) -> Sequence[ReceiptLine]: ...

    def request_callback(self, person_id: int) -> str: ...  # "new", "already", "no_unit"

    def set_language(self, person_id: int, language: str) -> None: ...


@dataclass(frozen=True)
class Session:
    """What the chain cannot tell: the persons behind the phone, the language the session
    started in ("" = ask it first) and whether the PIN was accepted (for whom)."""

    persons: tuple[Person, ...]
    start_language: str = ""
    authenticated: bool = False
    person_id: int | None = None


@dataclass(frozen=True)
class Reply:
    text: str  # "CON ..." or "END ...", at most 182 septets
    language: str
    person_id: int | None = None
    authenticated: bool = False

    @property
    def ended(self) -> bool:
        return self.text.startswith(END)


# --- GSM-7 ------------------------------------------------------------------------------------

_FOLD = str.maketrans({
    "ɛ": "è", "Ɛ": "E", "ɔ": "ò", "Ɔ": "O", "ɲ": "ny", "Ɲ": "Ny", "ŋ": "ng", "Ŋ": "Ng",
    "ç": "c", "œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "«": '"',
    "»": '"', "\u00a0": " ", "\u202f": " ", "…": "...", "–": "-", "—": "-", "\t": " ",
})


def gsm_fold(text: str) -> str:
    """The text in the GSM-7 alphabet: Bambara and French letters outside it replaced by their
    usual plain spelling, other accents dropped, anything else "?"."""
    out = []
    for c in text.translate(_FOLD):
        if c in GSM7_BASIC or c in GSM7_EXTENSION:
            out.append(c)
            continue
        base = "".join(x for x in unicodedata.normalize("NFKD", c)
                       if not unicodedata.combining(x))
        out.append(base if base and all(x in GSM7_BASIC for x in base) else "?")
    return "".join(out)


def septets(text: str) -> int:
    """The length the gateway counts: GSM-7 septets, extension characters two."""
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


def _cut(text: str, limit: int) -> str:
    out, used = [], 0
    for c in text:
        used += septets(c)
        if used > limit:
            break
        out.append(c)
    return "".join(out)


def fit(prefix: str, lines: Sequence[str], footer: Sequence[str] = ()) -> str:
    """prefix + lines + footer, one per line, folded to GSM-7 and at most 182 septets: body
    lines are dropped from the end (a "..." line says so) while more than one is left, then the
    text is cut."""
    body = [gsm_fold(x) for x in lines]
    tail = [gsm_fold(x) for x in footer]
    text = prefix + "\n".join(body + tail)
    dropped = False
    while septets(text) > MAX_SEPTETS and len(body) > 1:
        body.pop()
        dropped = True
        text = prefix + "\n".join(body + (["..."] if dropped else []) + tail)
    if septets(text) > MAX_SEPTETS:
        text = prefix + _cut(text[len(prefix):], MAX_SEPTETS - len(prefix))
    return text


def francs(amount: int) -> str:
    """12500 -> '12 500 F' (plain spaces: GSM-7 has no narrow space)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,}".replace(",", " ") + " F"


def day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


# --- the machine ------------------------------------------------------------------------------

MAIN, SAVINGS, LOANS, COVER, RECEIPTS, CALLBACK, LANGUAGE = (
    "main", "savings", "loans", "cover", "receipts", "callback", "language")
MAIN_CHOICES = {"1": SAVINGS, "2": LOANS, "3": COVER, "4": RECEIPTS, "5": CALLBACK,
                "6": LANGUAGE}
LANGUAGE_CHOICES = {"1": "fr", "2": "bm"}
# Language names are written in their own language and never translated.
LANGUAGE_MENU = ["1 Français", "2 Bamanankan"]


class _Draw:
    """Translation and layout for one reply's language."""

    def __init__(self, provider: Provider, language: str) -> None:
        self.p = provider
        self.language = language

    def t(self, msgid: str, **params: object) -> str:
        text = self.p.translate(self.language, msgid)
        if not params:
            return text
        try:
            return text % params
        except (KeyError, ValueError, TypeError):  # a translation with broken placeholders
            return msgid % params

    def con(self, lines: Sequence[str], *, back: bool = False, note: str = "") -> str:
        head = [note] if note else []
        return fit(CON, head + list(lines), [self.t("0 Back")] if back else [])

    def end(self, *lines: str) -> str:
        return fit(END, list(lines))


def respond(text: str, session: Session, provider: Provider) -> Reply:
    """The reply to the gateway's `text` in this session. Never raises for any text."""
    start = session.start_language if session.start_language in LANGUAGES else ""
    d = _Draw(provider, start or "fr")
    if not session.persons:
        return Reply(d.end(d.t(_("This number is not known. Go to your caisse or mutual."))),
                     d.language)
    if len(text) > MAX_TEXT or text.count("*") >= MAX_INPUTS:
        return Reply(d.end(d.t(_("Too many choices. Dial again."))), d.language)
    inputs = text.split("*") if text else []
    newest = len(inputs) - 1
    i = 0

    # 1. Language, when the member has none yet.
    note = ""
    if not start:
        while True:
            if i == len(inputs):
                return Reply(fit(CON, ([note] if note else []) + LANGUAGE_MENU), "fr")
            choice = inputs[i].strip()
            i += 1
            if choice in LANGUAGE_CHOICES:
                d = _Draw(provider, LANGUAGE_CHOICES[choice])
                break
            note = "?"

    # 2. Who, when several persons share the phone: she types her first name.
    note = ""
    if len(session.persons) == 1:
        person = session.persons[0]
    else:
        while True:
            if i == len(inputs):
                return Reply(d.con([d.t(_("Your first name?"))], note=note), d.language)
            typed = fold(inputs[i])
            i += 1
            found = [p for p in session.persons if typed and typed in _name_keys(p.first_name)]
            if len(found) == 1:
                person = found[0]
                break
            if len(found) > 1:
                return Reply(d.end(d.t(_("Several persons have this name on this phone. "
                                          "Go to your caisse or mutual."))), d.language)
            note = d.t(_("Name not found."))

    # 3. PIN, once per session.
    authenticated = session.authenticated and session.person_id == person.id
    saved = ""
    if authenticated:
        i += 1  # the PIN that opened the session (never re-checked, never re-counted)
    else:
        if i == len(inputs):
            state = provider.pin_state(person.id)
            if state == PIN_NONE:
                return Reply(d.end(d.t(_("You have no PIN. Ask your caisse or mutual for one."))),
                             d.language)
            if state == PIN_LOCKED:
                return Reply(d.end(d.t(_("PIN locked. Try again in 15 minutes."))), d.language)
            return Reply(d.con([d.t(_("Your PIN?"))]), d.language)
        if i != newest:
            # A PIN typed earlier that did not open the session: the session is over.
            return Reply(d.end(d.t(_("Session ended. Dial again."))), d.language)
        check = provider.verify_pin(person.id, inputs[i].strip())
        i += 1
        if check.result == PIN_LOCKED:
            return Reply(d.end(d.t(_("PIN locked. Try again in 15 minutes."))), d.language)
        if check.result == PIN_NONE:
            return Reply(d.end(d.t(_("You have no PIN. Ask your caisse or mutual for one."))),
                         d.language)
        if check.result != PIN_OK:
            return Reply(d.end(d.t(_("Wrong PIN. Tries left: %(n)s. Dial again."),
                                   n=check.tries_left)), d.language)
        authenticated = True
        if not start:
            provider.set_language(person.id, d.language)  # the choice made at the start
            saved = d.t(_("Language saved."))

    # 4. The menus.
    screen, note, callback = MAIN, saved, ""
    while True:
        if i >= len(inputs):
            return Reply(_screen(d, screen, person, note, callback), d.language, person.id,
                         authenticated)
        choice = inputs[i].strip()
        is_new = i == newest
        i += 1
        note = ""
        if screen == MAIN:
            if choice == "0":
                return Reply(d.end(d.t(_("Goodbye."))), d.language, person.id, authenticated)
            if choice in MAIN_CHOICES:
                screen = MAIN_CHOICES[choice]
                if screen == CALLBACK and is_new:
                    callback = provider.request_callback(person.id)
            else:
                note = d.t(_("Wrong choice."))
        elif screen == LANGUAGE:
            if choice in LANGUAGE_CHOICES:
                d = _Draw(provider, LANGUAGE_CHOICES[choice])
                if is_new:
                    provider.set_language(person.id, d.language)
                screen, note = MAIN, d.t(_("Language saved."))
            elif choice == "0":
                screen = MAIN
            else:
                note = d.t(_("Wrong choice."))
        elif choice == "0":
            screen = MAIN
        else:
            note = d.t(_("Wrong choice."))


def _short(label: str, limit: int = 22) -> str:
    """An account's product name on one line: 'Épargne à vue (livret)' fits; longer ones are
    cut at a word, without half a bracket."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    cut = label[:limit].rsplit(" ", 1)[0] if " " in label[:limit] else label[:limit]
    if cut.count("(") > cut.count(")"):  # no half of a bracket
        cut = cut[:cut.rindex("(")] or cut
    return cut.rstrip(" (-:,")


def _name_keys(first_name: str) -> set[str]:
    """'Awa Fatoumata' answers to 'awa fatoumata', 'awa' and 'fatoumata'."""
    folded = fold(first_name)
    return {folded, *folded.split()} if folded else set()


def _screen(d: _Draw, screen: str, person: Person, note: str, callback: str) -> str:
    p = d.p
    if screen == MAIN:
        return d.con([d.t(_("1 Savings")), d.t(_("2 Loan to pay")), d.t(_("3 Mutual")),
                      d.t(_("4 Receipts")), d.t(_("5 Call me")), d.t(_("6 Language")),
                      d.t(_("0 Quit"))], note=note)
    if screen == SAVINGS:
        rows = p.balances(person.id)
        lines = [f"{_short(b.label)}: {francs(b.amount)}" for b in rows]
        return d.con(lines or [d.t(_("No savings account."))], back=True,
                     note=note or d.t(_("Savings")))
    if screen == LOANS:
        lines = []
        for x in p.instalments(person.id):
            lines.append(d.t(_("Loan %(loan)s"), loan=x.loan[-16:]))
            lines.append(d.t(_("Pay %(amount)s by %(day)s"), amount=francs(x.amount),
                             day=day(x.due_on)))
            if x.late:
                lines.append(d.t(_("Late: %(amount)s"), amount=francs(x.late)))
        return d.con(lines or [d.t(_("No loan to pay."))], back=True, note=note)
    if screen == COVER:
        return d.con([_cover_line(d, p.cover(person.id))], back=True, note=note)
    if screen == RECEIPTS:
        kinds = {"savings": d.t(_("Savings")), "loan": d.t(_("Loan")), "health": d.t(_("Mutual"))}
        lines = [f"{r.day.strftime('%d/%m')} {kinds.get(r.kind, r.kind)} {francs(r.amount)}"
                 for r in p.receipts(person.id)]
        return d.con(lines or [d.t(_("No receipt."))], back=True, note=note)
    if screen == CALLBACK:
        text = {"new": d.t(_("Your caisse will call you.")),
                "already": d.t(_("Already asked today. Your caisse will call you.")),
                "no_unit": d.t(_("You are not a member of a caisse or mutual."))}.get(
                    callback, d.t(_("Already asked today. Your caisse will call you.")))
        return d.con([text], back=True, note=note)
    return d.con(LANGUAGE_MENU, back=True, note=note)  # LANGUAGE


def _cover_line(d: _Draw, cover: Cover) -> str:
    if cover.status == "covered":
        return d.t(_("Mutual: you are covered."))
    if cover.status == "waiting":
        return d.t(_("Mutual: covered from %(day)s."), day=day(cover.until) if cover.until else "?")
    if cover.status == "suspended":
        return d.t(_("Mutual: suspended. To pay: %(amount)s."), amount=francs(cover.amount))
    if cover.status == "ended":
        return d.t(_("Mutual: coverage ended."))
    return d.t(_("You are not covered by a mutual."))
