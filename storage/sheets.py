"""Lists as .xlsx for people to take away (issue 15 item 8): a title row, a header, the rows. Text that a
spreadsheet would run as a formula (=, +, -, @ at its start, or a tab or carriage return) is written with a
leading apostrophe, so a project named "=HYPERLINK(…)" stays words (OWASP's CSV injection advice)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOLD = Font(bold=True)


def safe(value: Any) -> Any:
    """A cell's value: text that would start a formula gets a leading apostrophe, and control characters no .xlsx
    may hold (openpyxl refuses them) become U+FFFD; anything else as it is."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def cell(sheet: Any, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    out = WriteOnlyCell(sheet, value=safe(value))
    if bold:
        out.font = BOLD
    if isinstance(value, Decimal):
        out.number_format = "#,##0.00"
    elif isinstance(value, dt.datetime):
        out.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        out.number_format = "yyyy-mm-dd"
    return out


def write(out: BinaryIO, sheet_title: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """One sheet: `title` (what the list is, with its filters), `header`, then `rows`. Returns the rows written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title[:31])
    sheet.append([cell(sheet, title, bold=True)])
    sheet.append([cell(sheet, h, bold=True) for h in header])
    count = 0
    for row in rows:
        sheet.append([cell(sheet, v) for v in row])
        count += 1
    book.save(out)
    return count
