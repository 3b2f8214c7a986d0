"""Pure helpers: Mali phone numbers and name keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jigi.people.names import fold, name_key, name_similarity, search_name
from jigi.people.phones import PhoneError, normalize_mali_phone

# Operator ranges (DOMAIN.md): Orange 70-79, 82-85, 90-94; Moov 60-69, 89, 95-99;
# Telecel 50-53.
MOBILE_PREFIXES = [*range(70, 80), 82, 83, 84, 85, *range(90, 95), *range(60, 70), 89,
                   *range(95, 100), 50, 51, 52, 53]


@pytest.mark.parametrize("raw", ["76 12 34 56", "+223 76 12 34 56", "0022376123456", "76123456",
                                 " 76-12-34-56 ", "+22376123456"])
def test_mali_phone_formats_normalise_to_e164(raw):
    assert normalize_mali_phone(raw) == "+22376123456"


@pytest.mark.parametrize("raw", ["", "   ", "1234", "12345678", "+33612345678", "7612345",
                                 "761234567", "abc", "+223 12 34 56 78", "00"])
def test_non_mali_or_invalid_phones_are_refused(raw):
    with pytest.raises(PhoneError):
        normalize_mali_phone(raw)


@given(prefix=st.sampled_from(MOBILE_PREFIXES), rest=st.integers(0, 999_999),
       style=st.sampled_from(["{n}", "+223{n}", "00223{n}", "{a} {b} {c} {d}"]))
def test_every_operator_number_normalises_the_same_in_any_format(prefix, rest, style):
    n = f"{prefix}{rest:06d}"
    raw = style.format(n=n, a=n[:2], b=n[2:4], c=n[4:6], d=n[6:])
    e164 = normalize_mali_phone(raw)
    assert e164 == f"+223{n}"
    assert normalize_mali_phone(e164) == e164


def test_fold_removes_accents_case_and_bambara_letters():
    assert fold("  Aïssata   KEÏTA ") == "aissata keita"
    assert fold("Ɲɛlɛ Sɔgɔba") == "nyele sogoba"
    assert search_name("Fatoumata", "Traoré") == "fatoumata traore"


@given(st.text(max_size=40))
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


def test_spelling_variants_share_a_key_and_are_similar():
    assert name_key("Fatoumata", "Traoré") == name_key("Fatoumata", "Traore")
    assert name_key("Mariam", "Keïta") == name_key("Mariam", "Keita")
    assert name_similarity("Fatoumata", "Traoré", "Fatoumata", "Traore") == 1.0
    assert name_similarity("Fatoumata", "Traoré", "Fatimata", "Traore") >= 0.88
    # Another woman of the same family: same key, but the names are too far apart.
    assert name_similarity("Fatoumata", "Traoré", "Bintou", "Traoré") < 0.88
    assert name_key("Awa", "Diarra") != name_key("Awa", "Coulibaly")
