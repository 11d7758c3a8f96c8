"""申报回执, the receipt an applicant keeps once the application is submitted (issue 15 item 2), built as .docx from
plain data: the reference number (申报编号), who applied for what, when it was submitted, the revision received and
the attachments in it with their sizes.

Page set-up and fonts as the other printed documents (storage.documents: A4, the binder rules' margins, Chinese
fonts on the East Asian attribute).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from storage.documents import ERHAO, FANGSONG, HEITI, docx_bytes, east_asian_font, new_document

XIAOSI = Pt(12)  # 小四, for the tables


@dataclass(frozen=True)
class ReceivedAttachment:
    category: str  # by its Chinese name (营业执照扫描件)
    filename: str
    size: int  # bytes


@dataclass(frozen=True)
class Receipt:
    reference: str
    programme: str  # the fund's name with its sub-programme
    unit_name: str
    uscc: str
    district: str
    project: str
    submitted_at: str  # Beijing time, "YYYY-MM-DD HH:MM"
    revision: int | None  # the revision received (1 for the first submission), None if none was recorded
    revision_at: str = ""  # when that revision was received, Beijing time, if it is not the first submission
    authority: str = ""  # who receives it (the body running the fund)
    attachments: list[ReceivedAttachment] = field(default_factory=list)


def size_text(size: int) -> str:
    """A file's size as people read it: bytes, KB or MB (1024-based, one decimal)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _cell(cell: Any, text: str, *, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    east_asian_font(paragraph, text, font=HEITI if bold else FANGSONG, size=XIAOSI, bold=bold)


def _table(doc: Any, header: list[str] | None, rows: list[list[str]]) -> None:
    table = doc.add_table(rows=0, cols=len(rows[0] if rows else header or [""]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    if header:
        for cell, text in zip(table.add_row().cells, header, strict=True):
            _cell(cell, text, bold=True)
    for row in rows:
        for n, (cell, text) in enumerate(zip(table.add_row().cells, row, strict=True)):
            _cell(cell, text, bold=header is None and n == 0)


def receipt(data: Receipt) -> bytes:
    """The receipt as .docx: a title, the facts of the submission, the attachments received, a closing line."""
    doc = new_document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    east_asian_font(title, "申报回执", font=HEITI, size=ERHAO, bold=True)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    east_asian_font(number, f"申报编号：{data.reference}", font=HEITI)

    revision = f"第{data.revision}版" if data.revision is not None else "—"
    if data.revision_at:
        revision += f"（{data.revision_at}提交）"
    facts = [
        ["申报编号", data.reference],
        ["申报项目", data.programme],
        ["申报单位", data.unit_name],
        ["统一社会信用代码", data.uscc],
        ["所属地区", data.district or "—"],
        ["项目名称", data.project],
        ["提交时间（北京时间）", data.submitted_at],
        ["申报材料版本", revision],
    ]
    _table(doc, None, facts)

    heading = doc.add_paragraph()
    heading.paragraph_format.space_before = Pt(12)
    east_asian_font(heading, f"已收到的附件（共{len(data.attachments)}份）", font=HEITI)
    rows = [[str(n), a.category, a.filename, size_text(a.size)] for n, a in enumerate(data.attachments, start=1)] or [
        ["—", "无", "", ""]
    ]
    _table(doc, ["序号", "附件类别", "文件名", "大小"], rows)

    closing = doc.add_paragraph()
    closing.paragraph_format.space_before = Pt(12)
    receiver = data.authority or "受理部门"
    east_asian_font(
        closing,
        f"以上申报材料已于{data.submitted_at}（北京时间）在线提交，{receiver}已收到。"
        "本回执仅证明材料已提交，不代表审核结果。请妥善保存，查询时请提供申报编号。",
        size=XIAOSI,
    )
    return docx_bytes(doc)
