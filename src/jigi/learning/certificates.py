"""The printable certificate of a completed training (an A4 landscape PDF made with fpdf2).

Names are written with an embedded TrueType font that has the accented French letters and the
Bambara letters (ɛ ɔ ɲ ŋ): Debian's DejaVu Sans (package fonts-dejavu-core, installed with
chromium). The core PDF fonts (Helvetica...) only know Latin-1 and would fail on "Ɲɛnɛba".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"


class FontMissing(RuntimeError):
    pass


def font_path(name: str) -> Path:
    for d in FONT_DIRS:
        if (d / name).is_file():
            return d / name
    raise FontMissing(f"{name} not found: install the Debian package fonts-dejavu-core")


@dataclass(frozen=True)
class CertificateText:
    """Everything printed, already translated and formatted by the caller."""

    heading: str          # "Certificate"
    organisation: str     # "Kondo Jigima"
    awarded_to: str       # "awarded to"
    name: str             # "Fatoumata Ɲɛnɛba Traoré"
    for_completing: str   # "for completing the training"
    programme: str        # certificate title or programme name
    details: str          # "Niono, 2 March 2026 - 27 April 2026, 12 meetings"
    unit: str             # "C001 Caisse de Niono"
    number_line: str      # "No. KONDO-CERT-2026-00012, issued on 28 April 2026"
    verification: str     # how to check it
    signature: str        # "The trainer: ..."
    issued_on: date


def certificate_pdf(text: CertificateText, *, compress: bool = True) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.set_title(f"{text.heading} {text.number_line}")
    pdf.set_creator("Jigi")
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("DejaVu", "", str(font_path(REGULAR)))
    pdf.add_font("DejaVu", "B", str(font_path(BOLD)))
    pdf.add_page()
    w = pdf.w - 40
    # A double frame, the organisation's colour of the web screens.
    pdf.set_draw_color(181, 84, 28)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.4)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)

    def line(txt: str, size: float, style: str = "", gap: float = 4) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.set_x(20)
        pdf.multi_cell(w, size * 0.5, txt, align="C")
        pdf.ln(gap)

    pdf.set_y(26)
    pdf.set_text_color(181, 84, 28)
    line(text.organisation, 18, "B", 2)
    pdf.set_text_color(29, 42, 47)
    line(text.unit, 11, "", 8)
    line(text.heading.upper(), 30, "B", 6)
    line(text.awarded_to, 13, "", 2)
    line(text.name, 26, "B", 6)
    line(text.for_completing, 13, "", 2)
    line(text.programme, 18, "B", 4)
    line(text.details, 12, "", 12)
    line(text.signature, 11, "", 10)
    pdf.set_y(pdf.h - 36)
    line(text.number_line, 11, "B", 1)
    pdf.set_text_color(95, 107, 112)
    line(text.verification, 9, "", 0)
    return bytes(pdf.output())
