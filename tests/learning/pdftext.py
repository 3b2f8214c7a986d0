"""Reading the text back out of an uncompressed fpdf2 PDF, without a PDF library: each font's
ToUnicode map turns the 2-byte glyph codes of the `(..) Tj` strings into characters."""

from __future__ import annotations

import re

_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f",
            b"(": b"(", b")": b")", b"\\": b"\\"}


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i:i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = raw[i + 1:i + 2]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
        elif nxt.isdigit():
            m = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
            out.append(int(m.group(0), 8))
            i += 1 + len(m.group(0))
        else:
            i += 1
    return bytes(out)


def _cmaps(pdf: bytes) -> list[dict[int, str]]:
    maps = []
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", pdf, re.S):
        pairs = re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block)
        maps.append({int(a, 16): bytes.fromhex(b.decode()).decode("utf-16-be")
                     for a, b in pairs})
    return maps


def pdf_strings(pdf: bytes) -> list[str]:
    """Every shown string, decoded with each font's map (the right one reads as text)."""
    maps = _cmaps(pdf)
    out = []
    for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", pdf, re.S):
        data = _unescape(raw)
        codes = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
        for m in maps:
            if all(c in m for c in codes):
                out.append("".join(m[c] for c in codes))
    return out
