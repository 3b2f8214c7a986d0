"""Every user-facing string has a French and a Bambara translation, compiled and in use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.utils import translation

from jigi.web.formatting import format_francs

SRC = Path(__file__).resolve().parent.parent / "src" / "jigi"
LOCALE = SRC / "locale"
TEMPLATE_STRING = re.compile(r'{%\s*translate\s+"([^"]+)"(?:\s+context\s+"([^"]+)")?')
PY_STRING = re.compile(r'(?<![\w.])_\(\s*"((?:[^"\\]|\\.)+)"\s*\)')


def _catalog(lang):
    with open(LOCALE / lang / "LC_MESSAGES" / "django.po", "rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("lang", ["fr", "bm"])
def test_catalogue_is_complete(lang):
    cat = _catalog(lang)

    def forms(value):
        return list(value) if isinstance(value, tuple) else [value]

    missing = [m.id for m in cat if m.id and (m.fuzzy or not all(forms(m.string)))]
    assert missing == []
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for m in cat:
        if not m.id:
            continue
        expected = set().union(*(placeholder.findall(i) for i in forms(m.id)))
        for translated in forms(m.string):
            # A plural form may drop the count ("un événement"), never invent a placeholder.
            assert set(placeholder.findall(translated)) <= expected, m.id
            if not isinstance(m.id, tuple):
                assert set(placeholder.findall(translated)) == expected, m.id


@pytest.mark.parametrize("lang", ["fr", "bm"])
def test_every_source_string_is_in_the_catalogue(lang):
    """Catches a string added to a template or a module after the last `make messages`."""
    ids = {(m.id, m.context) for m in _catalog(lang) if m.id}
    plain = {i for i, _c in ids}
    missing = []
    for path in SRC.rglob("*.html"):
        for text, context in TEMPLATE_STRING.findall(path.read_text(encoding="utf-8")):
            # makemessages escapes a literal % of a template string as %%.
            if (text, context or None) not in ids and \
                    (text.replace("%", "%%"), context or None) not in ids:
                missing.append(f"{path.name}: {text}")
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for text in PY_STRING.findall(path.read_text(encoding="utf-8")):
            text = text.encode().decode("unicode_escape") if "\\" in text else text
            if text not in plain:
                missing.append(f"{path.name}: {text}")
    assert missing == []


def test_compiled_catalogues_translate_at_run_time():
    with translation.override("fr"):
        assert translation.gettext("Log in") != "Log in"
    with translation.override("bm"):
        assert translation.gettext("Log in") != "Log in"
    with translation.override("en"):
        assert translation.gettext("Log in") == "Log in"


def test_amounts_are_formatted_the_malian_way():
    assert format_francs(1_234_567, "fr").replace("\u202f", " ").replace("\xa0", " ") == \
        "1 234 567 F CFA"
    assert format_francs(0, "bm").endswith("F\xa0CFA")


def test_french_is_the_default_language(client, world):
    r = client.get("/login/")
    assert r.headers["Content-Language"] == "fr"
    assert "Connexion" in r.content.decode()
    r = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in" in r.content.decode()
