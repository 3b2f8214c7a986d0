"""Server-side charts as small inline SVG: no script, no front-end build, a few kilobytes on a
slow link. Pure: takes numbers and labels, returns markup (texts are escaped here).

Colours are paired with text (legends, values in <title>) so no information is carried by
colour alone.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

W, H = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 34
SERIES_COLOURS = ("#b03a2e", "#1f618d", "#7d6608", "#117a65")


def _num(x: float) -> str:
    return f"{x:.1f}"


def _scale(values: list[float]) -> float:
    top = max([v for v in values if v is not None] + [0])
    if top <= 0:
        return 1.0
    # A round ceiling: 1, 2, 5 x 10^k.
    k = 1.0
    while k * 10 <= top:
        k *= 10
    for m in (1, 2, 5, 10):
        if top <= m * k:
            return m * k
    return 10 * k


def line_chart(labels: list[str], series: list[tuple[str, list[Decimal | None]]], *,
               title: str, unit: str = "%", limit: tuple[str, Decimal] | None = None) -> str:
    """Lines over the x labels (e.g. month ends); None breaks a line. `limit` draws a dashed
    horizontal norm (e.g. PAR90 3 %)."""
    values = [float(v) for _n, vs in series for v in vs if v is not None]
    if limit is not None:
        values.append(float(limit[1]))
    top = _scale(values)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return LEFT + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return TOP + ph - ph * v / top

    parts = [_frame(title, top, unit)]
    for i, lab in enumerate(labels):
        parts.append(f'<text x="{_num(x(i))}" y="{H - BOTTOM + 14}" text-anchor="middle" '
                     f'class="ax">{escape(lab)}</text>')
    if limit is not None:
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{_num(y(float(limit[1])))}" '
                     f'y2="{_num(y(float(limit[1])))}" stroke="#555" stroke-dasharray="4 3">'
                     f'<title>{escape(limit[0])}</title></line>')
    for k, (name, vs) in enumerate(series):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        path, pen = [], "M"
        for i, v in enumerate(vs):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{_num(x(i))} {_num(y(float(v)))}")
            pen = "L"
            parts.append(f'<circle cx="{_num(x(i))}" cy="{_num(y(float(v)))}" r="3" '
                         f'fill="{colour}"><title>{escape(name)} {escape(labels[i])}: '
                         f'{v} {escape(unit)}</title></circle>')
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')
        parts.append(_legend(k, name, colour))
    return _svg(title, parts)


def bar_chart(labels: list[str], values: list[int], *, title: str, unit: str = "",
              bands: list[tuple[str, str, str]] | None = None,
              band_legend: list[tuple[str, str]] | None = None) -> str:
    """Vertical bars, one per label. `bands` colours the background of some columns
    (label, colour, text), e.g. the sowing and harvest months of the farming calendar."""
    top = _scale([float(v) for v in values])
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = max(len(labels), 1)
    slot = pw / n
    band_of = {lab: (colour, text) for lab, colour, text in (bands or [])}
    parts = [_frame(title, top, unit)]
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        x0 = LEFT + slot * i
        if lab in band_of:
            colour, text = band_of[lab]
            parts.append(f'<rect x="{_num(x0)}" y="{TOP}" width="{_num(slot)}" height="{ph}" '
                         f'fill="{colour}"><title>{escape(lab)}: {escape(text)}</title></rect>')
        h = ph * v / top
        parts.append(f'<rect x="{_num(x0 + slot * 0.15)}" y="{_num(TOP + ph - h)}" '
                     f'width="{_num(slot * 0.7)}" height="{_num(h)}" fill="#1f618d">'
                     f'<title>{escape(lab)}: {v:,} {escape(unit)}</title></rect>')
        parts.append(f'<text x="{_num(x0 + slot / 2)}" y="{H - BOTTOM + 14}" '
                     f'text-anchor="middle" class="ax">{escape(lab)}</text>')
    for k, (text, colour) in enumerate(band_legend or []):
        parts.append(_legend(k, text, colour, square=True))
    return _svg(title, parts)


def _frame(title: str, top: float, unit: str) -> str:
    ph = H - TOP - BOTTOM
    ticks = []
    for k in range(5):
        v = top * k / 4
        yy = TOP + ph - ph * k / 4
        label = f"{v:,.0f}" if top >= 10 else f"{v:g}"
        ticks.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{_num(yy)}" y2="{_num(yy)}" '
                     f'stroke="#ddd"/><text x="{LEFT - 4}" y="{_num(yy + 4)}" '
                     f'text-anchor="end" class="ax">{escape(label)}</text>')
    return "".join(ticks) + (f'<text x="{LEFT}" y="{TOP - 3}" class="ax">{escape(unit)}</text>'
                             if unit else "")


def _legend(k: int, name: str, colour: str, square: bool = False) -> str:
    x0 = LEFT + 150 * k
    yy = H - 8
    mark = (f'<rect x="{x0}" y="{yy - 8}" width="10" height="10" fill="{colour}" '
            f'stroke="#999"/>' if square else
            f'<line x1="{x0}" x2="{x0 + 14}" y1="{yy - 4}" y2="{yy - 4}" stroke="{colour}" '
            f'stroke-width="3"/>')
    return f'{mark}<text x="{x0 + 18}" y="{yy}" class="lg">{escape(name)}</text>'


def _svg(title: str, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
            f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<style>.ax{{font:10px sans-serif;fill:#444}}.lg{{font:11px sans-serif}}</style>'
            + "".join(parts) + "</svg>")
