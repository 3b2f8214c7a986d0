"""SMS texts in French, Bambara and English, by kind, and their length check. Plain Python.

The member's language comes from her SmsPreference (else person.language); unknown languages
fall back to French. Amounts are written "125 000" with ASCII spaces and dates "12/03/2026":
Babel's narrow no-break space or a typographic apostrophe would turn a whole message into UCS-2
(70 characters a part instead of 160). The French and English texts stay in GSM-7 on purpose
(no ç, ê, ô, °, ’). Bambara's ɛ ɔ ɲ ŋ are outside GSM-7: one of them makes the whole
message UCS-2 (70 a part), so the common Bambara texts (reminder, receipts) are worded with
words that need none of them, and the others are kept short. The Bambara texts are drafts to be checked by a native speaker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jigi.channels.sms_length import sms_length

LANGUAGES = ("fr", "bm", "en")

TEMPLATES: dict[str, dict[str, str]] = {
    "instalment_reminder": {
        "fr": "{org}: votre échéance de {amount} F (crédit {loan}) est due le {date}. "
              "Merci de payer à temps.",
        "bm": "{org}: i ka juru {amount} F ({loan}) ka kan ka sara {date}. I ni ce!",
        "en": "{org}: your instalment of {amount} F (loan {loan}) is due on {date}. "
              "Please pay on time.",
    },
    "repayment_receipt": {
        "fr": "{org}: remboursement de {amount} F enregistré le {date}, crédit {loan}. "
              "Reste à payer: {balance} F. Ref {receipt}",
        "bm": "{org}: i ye juru {amount} F sara {date}. A to: {balance} F. Ref {receipt}",
        "en": "{org}: repayment of {amount} F recorded on {date}, loan {loan}. "
              "Left to pay: {balance} F. Ref {receipt}",
    },
    "deposit_receipt": {
        "fr": "{org}: versement de {amount} F enregistré le {date}. Solde: {balance} F. "
              "Ref {receipt}",
        "bm": "{org}: i ye {amount} F bila {date}. I ka wari: {balance} F. Ref {receipt}",
        "en": "{org}: deposit of {amount} F recorded on {date}. Balance: {balance} F. "
              "Ref {receipt}",
    },
    "withdrawal_receipt": {
        "fr": "{org}: retrait de {amount} F enregistré le {date}. Solde: {balance} F. "
              "Ref {receipt}",
        "bm": "{org}: i ye {amount} F ta {date}. I ka wari: {balance} F. Ref {receipt}",
        "en": "{org}: withdrawal of {amount} F recorded on {date}. Balance: {balance} F. "
              "Ref {receipt}",
    },
    "contribution_receipt": {
        "fr": "{org}: cotisation de {amount} F enregistrée le {date}. Couvert jusqu'au "
              "{until}. Ref {receipt}",
        "bm": "{org}: i ye {amount} F sara {date}. Fo {until}. Ref {receipt}",
        "en": "{org}: contribution of {amount} F recorded on {date}. Covered until {until}. "
              "Ref {receipt}",
    },
    "dues_receipt": {
        "fr": "{org}: cotisation de {amount} F ({period}) enregistrée le {date}. "
              "Ref {receipt}. Merci!",
        "bm": "{org}: i ye {amount} F sara {date} ({period}). Ref {receipt}. I ni ce!",
        "en": "{org}: dues of {amount} F ({period}) recorded on {date}. Ref {receipt}. "
              "Thank you!",
    },
    "case_message": {
        "fr": "{org}: dossier {case}: {text}",
        "bm": "{org}: dosiye {case}: {text}",
        "en": "{org}: case {case}: {text}",
    },
    "campaign_message": {
        "fr": "{org}: {text}",
        "bm": "{org}: {text}",
        "en": "{org}: {text}",
    },
    "petition_code": {
        "fr": "{org}: votre code pour signer est {code}. Valable 24 h. "
              "Ne le donnez a personne d'autre.",
        "bm": "{org}: i ka kode ye {code} ye. A kana di mɔgɔ wɛrɛ ma.",
        "en": "{org}: your code to sign is {code}. Valid 24 h. Give it to no one else.",
    },
}

# The purpose an outbox row gets for each kind (petition codes keep the movement's purpose,
# which the opt-in rule exempts).
PURPOSES = {kind: kind for kind in TEMPLATES}

# What the length check fills in: the longest values a real message carries.
SAMPLE = {
    "org": "Kondo Jigima", "amount": 1_250_000, "loan": "C001-2026-00123",
    "date": date(2026, 12, 31), "balance": 10_250_000, "receipt": "C001-2026-012345",
    "until": date(2026, 12, 31), "period": "12/2026", "case": "MTC-2026-0042",
    "text": "Réunion samedi 10 h au siège.", "code": "482913",
}
# Kinds whose common case should fit one SMS part in every language.
ONE_PART = ("instalment_reminder", "repayment_receipt", "deposit_receipt",
            "withdrawal_receipt", "contribution_receipt", "dues_receipt", "petition_code")


def fmt_amount(value: int) -> str:
    """1250000 -> "1 250 000" (ASCII spaces: GSM-7)."""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(int(value)):,}".replace(",", " ")


def fmt_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return fmt_amount(value)
    if isinstance(value, date):
        return fmt_date(value)
    return str(value)


def language_of(preferred: str | None, fallback: str | None = None) -> str:
    for lang in (preferred, fallback):
        if lang in LANGUAGES:
            return lang
    return "fr"


@dataclass(frozen=True)
class RenderedSms:
    kind: str
    language: str
    text: str
    encoding: str
    parts: int
    warnings: tuple[str, ...]


def render(kind: str, language: str, **values: object) -> RenderedSms:
    """The text of `kind` in `language` (French if unknown) with its length and warnings:
    "ucs2" when the text needs UCS-2 (Bambara letters, or a value brought a character outside
    GSM-7), "parts:N" when it takes more than one part."""
    texts = TEMPLATES[kind]
    lang = language if language in texts else "fr"
    text = texts[lang].format(**{k: _fmt(v) for k, v in values.items()})
    length = sms_length(text)
    warnings = []
    if length.encoding == "ucs2":
        warnings.append("ucs2")
    if length.parts > 1:
        warnings.append(f"parts:{length.parts}")
    return RenderedSms(kind, lang, text, length.encoding, length.parts, tuple(warnings))


def templates_check() -> list[RenderedSms]:
    """Every template rendered with the longest sample values: what `jigi sms templates`
    prints and the tests hold to (ONE_PART kinds in one part)."""
    return [render(kind, lang, **SAMPLE) for kind in TEMPLATES for lang in LANGUAGES]
