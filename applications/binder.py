"""The application binder, bound as 附件4 of seed 002 prescribes (issue 13 item 4).

附件4 "申报材料装订要求": A4; "在有文字的每页材料右下角编写页码"; the cover's
"上海市工业通信业节能减排和合同能源管理专项资金（***）项目申报材料" in 二号黑体 bold, the unit's and the project's names
in 一号黑体, the date in 三号仿宋; "材料目录页为三号仿宋，行距为单倍行距"; margins top 2.54, bottom 2.54, left 3.17,
right 3.17 cm; bound "按照申请表和申请报告顺序".

So: a cover (its own section: it is printed on the 120 g cover stock, 附件4 四、1, so it carries no page number),
then, numbered from 1 at the bottom right, the contents (a TOC field Word and LibreOffice fill in), 一、项目申请表,
二、验收申请报告 (chapters 1–6), 三、附件 with an index — each current attachment in the order the programme requires
them, its size, page count and SHA-256 — and each image placed on a page of its own. A PDF is listed, not rendered
in: no PDF renderer is installed here (its pages are counted with pypdf, its bytes hashed as they stream).
Attachments stream one at a time; only the image being placed is held whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from docx.enum.section import WD_SECTION
from docx.shared import Pt
from sqlalchemy.orm import Session

from applications import form_document
from applications.attachments import attachments_of, open_blob, required_categories
from applications.models import Attachment, category_label
from applications.programme_words import programme_words
from forms.fields import form_sections
from storage import binding
from storage.blobs import BlobStore
from storage.documents import ERHAO, FANGSONG, HEITI, SANHAO, east_asian_font, new_document
from workflow.accounts import Actor
from workflow.db import utcnow
from workflow.definitions import Definition
from workflow.errors import NotFound
from workflow.models import Application
from workflow.visibility import get_visible, programme_definitions
from workflow.workdays import today_in_shanghai

YIHAO = Pt(26)  # 一号
IMAGES = frozenset({"image/png", "image/jpeg"})
SPOOL = 8 << 20  # an attachment is spooled to disk beyond this while it is hashed and its pages counted
PARTS = ("一、项目申请表", "二、验收申请报告", "三、附件")


@dataclass(frozen=True)
class BoundFile:
    """An attachment as the binder's index lists it."""

    number: int
    category: str
    label: str
    filename: str
    content_type: str
    size: int
    sha256: str
    pages: int | None  # a PDF's pages; None for anything else
    placed: bool  # an image placed on a page of the binder


Progress = Callable[[int, int, str], None]  # (done, of, what)


def cover_title(definition: Definition) -> str:
    """附件4's cover line with the programme's own fund and sub-programme in place of ***."""
    words = programme_words(definition)
    return f"{words.fund_title}项目申报材料"


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _cover(doc: Any, app: Application, definition: Definition, day: dt.date) -> None:
    binding.cover(
        doc,
        [
            (cover_title(definition), HEITI, ERHAO, True),
            ("", HEITI, YIHAO, False),
            (app.organisation.name, HEITI, YIHAO, False),
            (app.project_name, HEITI, YIHAO, False),
            ("", FANGSONG, SANHAO, False),
            (_chinese_date(day), FANGSONG, SANHAO, False),
        ],
    )


def _form_without_annex2(doc: Any, app: Application, definition: Definition, entries: list[tuple[int, str]]) -> None:
    """A programme with no 附件2 form (the monitoring fund): its form's own parts and labels, as on the page."""
    for heading, rows in form_sections(definition.form, app.kind, app.form or {}, "zh"):
        if heading:
            binding.heading(doc, heading, 2, entries)
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in rows:
            cells = table.add_row().cells
            east_asian_font(cells[0].paragraphs[0], label, size=Pt(10.5))
            east_asian_font(cells[1].paragraphs[0], value, size=Pt(10.5))


def _spooled(chunks: Iterable[bytes]) -> tuple[Any, str, int]:
    """The bytes into a spooled file (in memory up to SPOOL, then on disk), with their SHA-256 and size."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - returned open, closed by the caller
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest(), size


def _pdf_pages(stream: Any) -> int | None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return len(PdfReader(stream).pages)
    except (PdfReadError, ValueError, KeyError, OSError):
        return None  # listed without a count; the hash still binds it


def ordered(attachments: list[Attachment], required: list[str]) -> list[Attachment]:
    """Current versions only, in the order the programme requires them, then the rest by category."""
    rank = {category: n for n, category in enumerate(required)}
    current = [a for a in attachments if a.superseded_at is None]
    return sorted(current, key=lambda a: (rank.get(a.category, len(rank)), a.category, a.id))


def build(
    app: Application,
    definition: Definition,
    attachments: list[Attachment],
    open_blob: Callable[[Attachment], Iterator[bytes]],
    out: BinaryIO,
    *,
    day: dt.date,
    progress: Progress | None = None,
) -> list[BoundFile]:
    """Write the binder of `app` to `out`; `attachments` in binding order (see `ordered`). Returns the index."""
    doc = new_document()
    binding.update_fields_on_open(doc)
    binding.toc_styles(doc)
    _cover(doc, app, definition, day)
    binding.numbered_from_one(doc.add_section(WD_SECTION.NEW_PAGE))
    contents = binding.contents(doc)
    entries: list[tuple[int, str]] = []
    binding.page_break(doc)
    binding.heading(doc, PARTS[0], 1, entries)
    if form_document.has_application_form(definition):
        form_document.write_form(doc, app, definition)
    else:
        _form_without_annex2(doc, app, definition, entries)
    if programme_words(definition).report:
        binding.page_break(doc)
        binding.heading(doc, PARTS[1], 1, entries)
        form_document.write_report(doc, app, definition)
    binding.page_break(doc)
    binding.heading(doc, PARTS[2], 1, entries)
    index = doc.add_table(rows=1, cols=6)
    index.style = "Table Grid"
    for cell, text in zip(
        index.rows[0].cells, ("序号", "材料", "文件名", "大小（字节）", "页数", "SHA-256"), strict=True
    ):
        east_asian_font(cell.paragraphs[0], text, font=HEITI, size=Pt(9), bold=True)
    bound: list[BoundFile] = []
    total = len(attachments)
    for number, row in enumerate(attachments, start=1):
        spool, sha256, size = _spooled(open_blob(row))
        with spool:
            pages = _pdf_pages(spool) if row.content_type == "application/pdf" else None
            placed = row.content_type in IMAGES
            label = category_label(row.category)
            cells = index.add_row().cells
            values = (str(number), label, row.filename, f"{size:,}", "" if pages is None else str(pages), sha256)
            for cell, text in zip(cells, values, strict=True):
                east_asian_font(cell.paragraphs[0], text, size=Pt(9))
            if placed:
                binding.page_break(doc)
                binding.heading(doc, f"附件{number}　{label}", 2, entries)
                spool.seek(0)
                doc.add_picture(io.BytesIO(spool.read()), width=binding.TEXT_WIDTH)
        bound.append(
            BoundFile(number, row.category, label, row.filename, row.content_type, size, sha256, pages, placed)
        )
        if progress is not None:
            progress(number, total, row.filename)
    listed = [b for b in bound if not b.placed]
    if listed:
        note = doc.add_paragraph()
        east_asian_font(
            note,
            "表中未置入本册的附件（PDF 等）以原件随附，以其 SHA-256 核对一致。",
            size=Pt(10.5),
        )
    binding.fill_contents(contents, entries)
    doc.save(out)
    return bound


def bind(
    session: Session,
    actor: Actor,
    application_id: int,
    store: BlobStore,
    out: BinaryIO,
    progress: Progress | None = None,
) -> tuple[Application, list[BoundFile]]:
    """The binder of an application `actor` may see, with its current attachments, dated today (Shanghai)."""
    app = get_visible(session, actor, application_id)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    definition = programme_definitions(session)[app.programme_version_id]
    rows = ordered(
        attachments_of(session, actor, application_id),
        required_categories(definition, app.kind, app.form or {}),
    )
    day = today_in_shanghai(utcnow())
    return app, build(app, definition, rows, lambda row: open_blob(store, row), out, day=day, progress=progress)
