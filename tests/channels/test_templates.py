"""SMS texts: every kind in French, Bambara and English; GSM-7 vs UCS-2; one part for the
common ones."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.channels import templates
from jigi.channels.sms_length import sms_length

KINDS = ("instalment_reminder", "repayment_receipt", "deposit_receipt", "withdrawal_receipt",
         "contribution_receipt", "dues_receipt", "case_message", "campaign_message",
         "petition_code")


def test_every_kind_exists_in_the_three_languages():
    assert set(templates.TEMPLATES) == set(KINDS)
    for kind in KINDS:
        assert set(templates.TEMPLATES[kind]) == {"fr", "bm", "en"}


@pytest.mark.parametrize("kind", templates.ONE_PART)
@pytest.mark.parametrize("lang", ["fr", "bm", "en"])
def test_common_messages_fit_one_part_with_the_longest_values(kind, lang):
    sms = templates.render(kind, lang, **templates.SAMPLE)
    assert sms.parts == 1, sms.text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_french_and_english_texts_stay_in_gsm7(kind, lang):
    assert templates.render(kind, lang, **templates.SAMPLE).encoding == "gsm7"


def test_bambara_letters_make_the_message_ucs2_with_70_characters_a_part():
    code = templates.render("petition_code", "bm", org="MTC", code="123456")
    assert "ɔ" in code.text
    assert "ɛ" in code.text
    assert code.encoding == "ucs2"
    assert "ucs2" in code.warnings
    long_text = "Aw ye na ɲɔgɔn ye sɔgɔma, baarakɛlaw ka jɛkulu bɛ ŋaniya kɛ. " * 2
    sms = templates.render("campaign_message", "bm", org="MTC", text=long_text)
    length = sms_length(sms.text)
    assert (sms.encoding, sms.parts) == ("ucs2", -(-length.units // 67))
    assert sms.parts == 2
    assert "parts:2" in sms.warnings


def test_a_member_name_outside_gsm7_is_flagged():
    sms = templates.render("case_message", "fr", org="MTC", case="MTC-1",
                           text="Rendez-vous chez Maïmouna’s")  # typographic apostrophe
    assert sms.encoding == "ucs2"
    assert "ucs2" in sms.warnings


def test_amounts_and_dates_are_written_in_gsm7():
    sms = templates.render("deposit_receipt", "fr", org="Kondo Jigima", amount=1_250_000,
                           date=date(2026, 3, 9), balance=10_250_000, receipt="R-1")
    assert "1 250 000 F" in sms.text
    assert "09/03/2026" in sms.text
    assert "10 250 000 F" in sms.text
    assert sms.encoding == "gsm7"


@pytest.mark.parametrize(("lang", "start"), [
    ("fr", "Kondo Jigima: retrait de 20 000 F enregistré le 09/03/2026. Solde: 1 500 F."),
    ("bm", "Kondo Jigima: i ye 20 000 F ta 09/03/2026. I ka wari: 1 500 F."),
    ("en", "Kondo Jigima: withdrawal of 20 000 F recorded on 09/03/2026. Balance: 1 500 F."),
])
def test_the_withdrawal_receipt_says_what_is_left_in_each_language(lang, start):
    sms = templates.render("withdrawal_receipt", lang, org="Kondo Jigima", amount=20_000,
                           date=date(2026, 3, 9), balance=1_500, receipt="2026-000042")
    assert sms.text == f"{start} Ref 2026-000042"
    assert (sms.encoding, sms.parts) == ("gsm7", 1)


def test_language_choice_falls_back_to_french():
    assert templates.language_of("bm", "fr") == "bm"
    assert templates.language_of(None, "en") == "en"
    assert templates.language_of("wo", None) == "fr"
    assert templates.render("campaign_message", "wo", org="MTC", text="x").language == "fr"


@given(st.integers(min_value=0, max_value=10**12))
def test_amount_format_is_digits_and_ascii_spaces(n):
    text = templates.fmt_amount(n)
    assert text.replace(" ", "") == str(n)
    assert all(len(g) == 3 for g in text.split(" ")[1:])
    assert sms_length(text).encoding == "gsm7"


def test_templates_check_lists_every_kind_and_language():
    rows = templates.templates_check()
    assert len(rows) == len(KINDS) * 3
    assert {(r.kind, r.language) for r in rows} == {(k, lang) for k in KINDS
                                                     for lang in ("fr", "bm", "en")}
