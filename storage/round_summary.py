"""A round's summary as .docx (issue 15 item 8), built from plain data already in the reader's words: a title,
facts (label and value), then tables each under its heading. A4 with the binder rules' margins; Chinese set on the
runs' East Asian font (storage.documents.east_asian_font), as Word needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from storage.documents import FANGSONG, HEITI, docx_bytes, east_asian_font, new_document

SIHAO, XIAOSI, WUHAO = Pt(14), Pt(12), Pt(10.5)  # 四号, 小四, 五号


@dataclass(frozen=True)
class Table:
    heading: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    empty: str = "—"  # said under the heading when there are no rows


@dataclass(frozen=True)
class Summary:
    title: str
    facts: Sequence[tuple[str, str]]
    tables: Sequence[Table] = field(default_factory=list)
    footer: str = ""


def round_summary(data: Summary) -> bytes:
    """The document: title, the facts as a two-column table, each table under its heading, a footer line."""
    doc = new_document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    east_asian_font(title, data.title, font=HEITI, size=SIHAO, bold=True)
    _table(doc, None, [(label, value) for label, value in data.facts])
    for table in data.tables:
        heading = doc.add_paragraph()
        heading.paragraph_format.space_before = Pt(12)
        heading.paragraph_format.keep_with_next = True
        east_asian_font(heading, table.heading, font=HEITI, size=XIAOSI, bold=True)
        if table.rows:
            _table(doc, table.header, table.rows)
        else:
            east_asian_font(doc.add_paragraph(), table.empty, size=WUHAO)
    if data.footer:
        east_asian_font(doc.add_paragraph(), data.footer, size=WUHAO)
    return docx_bytes(doc)


def _table(doc: object, header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> None:
    width = len(header) if header else max((len(r) for r in rows), default=2)
    table = doc.add_table(rows=0, cols=width)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for n, row in enumerate([header, *rows] if header else rows):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=False):
            east_asian_font(cell.paragraphs[0], str(text), font=FANGSONG, size=WUHAO, bold=bool(header) and n == 0)
