"""The report's page furniture over fpdf2: text that the core fonts can hold, a title band,
headline tiles and tables. Charts are in `_charts`.

The PDF uses the standard Helvetica font, which every reader has, so the file embeds no font and
needs none installed; its text is Windows-1252. Symbols outside it are spelled out (σ as "sd",
℮ as "e") and any other character shows as "?" in the PDF — the CSV carries every name exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

MARGIN = 12.0
PAGE_WIDTH = 210.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
_SPELLED = str.maketrans({"σ": "sd", "℮": "e", "≥": ">=", "≤": "<=", "−": "-", "×": "x"})
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)


def pdf_text(text: str) -> str:
    """`text` as the core fonts can write it (see the module docstring)."""
    return text.translate(_SPELLED).encode("cp1252", "replace").decode("cp1252")


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    align: str = "R"


class ReportPdf:
    """One report being written, A4 portrait, millimetres."""

    def __init__(self, title: str, produced_at: datetime) -> None:
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.core_fonts_encoding = "windows-1252"
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(auto=True, margin=MARGIN)
        # A fixed creation date: the same figures produce the same bytes.
        pdf.set_creation_date(produced_at)
        pdf.set_title(pdf_text(title))
        pdf.set_creator("tally")
        pdf.set_text_color(*INK)
        self.pdf = pdf

    def page(self) -> None:
        self.pdf.add_page()

    def room(self, height: float) -> None:
        """Start a new page unless `height` mm fit below the cursor."""
        if self.pdf.get_y() + height > self.pdf.h - MARGIN:
            self.pdf.add_page()

    def title(self, text: str, lines: Sequence[str]) -> None:
        pdf = self.pdf
        pdf.set_font("helvetica", "B", 15)
        pdf.cell(WIDTH, 8, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("helvetica", "", 9)
        for line in lines:
            pdf.multi_cell(WIDTH, 4.6, pdf_text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_draw_color(*RULE)
        pdf.line(MARGIN, pdf.get_y() + 1.5, MARGIN + WIDTH, pdf.get_y() + 1.5)
        pdf.ln(4)

    def section(self, text: str, height: float = 12.0) -> None:
        """A section heading, kept on one page with the first `height` mm below it."""
        self.room(height + 8)
        pdf = self.pdf
        pdf.ln(1.5)
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(WIDTH, 6, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def note(self, text: str) -> None:
        pdf = self.pdf
        pdf.set_font("helvetica", "", 8.5)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(WIDTH, 4.2, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)

    def tiles(self, tiles: Sequence[Tile], per_row: int = 5) -> None:
        pdf = self.pdf
        gap = 2.0
        width = (WIDTH - gap * (per_row - 1)) / per_row
        height = 17.0
        for start in range(0, len(tiles), per_row):
            self.room(height + gap)
            top = pdf.get_y()
            for n, tile in enumerate(tiles[start : start + per_row]):
                left = MARGIN + n * (width + gap)
                pdf.set_fill_color(241, 243, 245)
                pdf.rect(left, top, width, height, style="F")
                pdf.set_xy(left + 1.5, top + 1.5)
                pdf.set_font("helvetica", "", 7.5)
                pdf.set_text_color(*MUTED)
                pdf.cell(width - 3, 3.5, pdf_text(tile.label))
                pdf.set_xy(left + 1.5, top + 5.5)
                pdf.set_font("helvetica", "B", 12)
                pdf.set_text_color(*INK)
                pdf.cell(width - 3, 6, pdf_text(tile.value))
                if tile.note:
                    pdf.set_xy(left + 1.5, top + 12)
                    pdf.set_font("helvetica", "", 7)
                    pdf.set_text_color(*MUTED)
                    pdf.cell(width - 3, 3.5, pdf_text(tile.note))
                    pdf.set_text_color(*INK)
            pdf.set_xy(MARGIN, top + height + gap)

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
        """A table with its header repeated on every page it runs over; an empty one says so."""
        pdf = self.pdf
        self._header_row(columns)
        pdf.set_font("helvetica", "", 8)
        for row in rows:
            if pdf.get_y() + 5 > pdf.h - MARGIN:
                pdf.add_page()
                self._header_row(columns)
                pdf.set_font("helvetica", "", 8)
            for column, value in zip(columns, row, strict=True):
                pdf.cell(column.width, 4.6, pdf_text(value), align=column.align)
            pdf.ln(4.6)
        if not rows:
            self.note("(none)")
        pdf.ln(1)

    def _header_row(self, columns: Sequence[Column]) -> None:
        pdf = self.pdf
        pdf.set_font("helvetica", "B", 7.5)
        pdf.set_fill_color(233, 236, 239)
        for column in columns:
            pdf.cell(column.width, 5, pdf_text(column.title), align=column.align, fill=True)
        pdf.ln(5)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())
