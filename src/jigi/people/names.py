"""Name keys for search and duplicate detection. Pure, no Django.

Malian names come in many spellings (Traoré/Traore/Trawore, Fatoumata/Fatimata, Keïta/Keita):
search uses an accent-free lower-case form; duplicate detection a phonetic key of the family
name plus the first name, compared with Jaro-Winkler similarity.
"""

from __future__ import annotations

import unicodedata

import jellyfish


def fold(text: str) -> str:
    """'Aïssata  KEÏTA' -> 'aissata keita' (accents and case removed, spaces collapsed)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Bambara letters without a decomposition: map to their nearest Latin letter.
    stripped = stripped.translate(str.maketrans({"ɛ": "e", "Ɛ": "e", "ɔ": "o", "Ɔ": "o",
                                                 "ɲ": "ny", "Ɲ": "ny", "ŋ": "ng", "Ŋ": "ng"}))
    return " ".join(stripped.lower().split())


def search_name(first_name: str, last_name: str) -> str:
    return f"{fold(first_name)} {fold(last_name)}"[:210]


def name_key(first_name: str, last_name: str) -> str:
    """A phonetic key of the family name: equal keys are candidates for a closer look."""
    last = fold(last_name).replace(" ", "")
    return (jellyfish.metaphone(last) or last)[:64]


def name_similarity(a_first: str, a_last: str, b_first: str, b_last: str) -> float:
    """Jaro-Winkler similarity of the full folded names, 0..1."""
    return jellyfish.jaro_winkler_similarity(
        search_name(a_first, a_last), search_name(b_first, b_last)
    )
