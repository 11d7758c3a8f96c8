"""The application binder, bound as 附件4 of seed 002 prescribes (issue 13 item 4).

附件4 "申报材料装订要求": A4; "在有文字的每页材料右下角编写页码"; the cover's
"上海市工业通信业节能减排和合同能源管理专项资金（***）项目申报材料" in 二号黑体 bold, the unit's and the project's names
in 一号黑体, the date in 三号仿宋; "材料目录页为三号仿宋，行距为单倍行距"; margins top 2.54, bottom 2.54, left 3.17,
right 3.17 cm; bound "按照申请表和申请报告顺序".

So: a cover (its own section: it is printed on the 120 g cover stock, 附件4 四、1, so it carries no page number),
then, numbered from 1 at the bottom right, the contents (a TOC field Word and LibreOffice fill in), 一、项目申请表,
二、验收申请报告 (chapters 1–6), 三、附件 with an index — each current attachment in the order the programme requires
them, its size, page count and SHA-256 — and each image placed on a page of its own, each PDF's pages rendered
(pdfium, at RENDER_DPI) and placed one to a page. python-docx holds what is placed in memory until it saves, so a
binder renders at most RENDER_PAGES pages of PDFs; the rest, and a PDF pdfium cannot read, are listed only, and the
index says so. Attachments stream one at a time, spooled to disk beyond SPOOL.
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
RENDER_DPI = 100  # legible text on A4 at about 100 KB a page (JPEG)
RENDER_PAGES = 300  # PDF pages placed per binder at most: bounds the memory python-docx holds until it saves
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
    placed: bool  # an image, or every page of a PDF, placed in the binder
    rendered: int = 0  # a PDF's pages placed


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


def _pixels(image: io.BytesIO) -> tuple[int, int]:
    from PIL import Image

    with Image.open(image) as opened:
        size = opened.size
    image.seek(0)
    return size


def _pdf_pages(stream: Any) -> int | None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return len(PdfReader(stream).pages)
    except (PdfReadError, ValueError, KeyError, OSError):
        return None  # listed without a count; the hash still binds it


def _rendered_pages(stream: Any, limit: int) -> Iterator[tuple[io.BytesIO, int, int]]:
    """A PDF's first `limit` pages as JPEGs with their pixel sizes; nothing if pdfium cannot read it."""
    try:
        import pypdfium2 as pdfium
    except ImportError:  # no renderer: the PDF is listed only
        return
    try:
        pdf = pdfium.PdfDocument(stream)
    except pdfium.PdfiumError:
        return
    try:
        for number in range(min(limit, len(pdf))):
            page = pdf[number]
            try:
                image = page.render(scale=RENDER_DPI / 72).to_pil()
            finally:
                page.close()
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=75)  # colour kept: seals are red
            out.seek(0)
            yield out, image.width, image.height
    finally:
        pdf.close()


def _place_pdf(doc: Any, spool: Any, heading: str, entries: list[tuple[int, str]], limit: int) -> int:
    """Each page of the PDF (up to `limit`) on a page of its own, the first under the attachment's heading."""
    placed = 0
    for image, width, height in _rendered_pages(spool, limit):
        binding.page_break(doc)
        if not placed:
            binding.heading(doc, heading, 2, entries)
        binding.picture(doc, image, width, height)
        placed += 1
    return placed


def _placement(file: BoundFile) -> str:
    if file.content_type in IMAGES:
        return "已置入" if file.placed else "未置入"
    if file.pages is None:
        return "未置入（无法读取页面）"
    if file.placed:
        return "已置入"
    return f"置入前{file.rendered}页" if file.rendered else "未置入"


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
    render_pages: int = RENDER_PAGES,
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
    index = doc.add_table(rows=1, cols=7)
    index.style = "Table Grid"
    for cell, text in zip(
        index.rows[0].cells, ("序号", "材料", "文件名", "大小（字节）", "页数", "SHA-256", "本册"), strict=True
    ):
        east_asian_font(cell.paragraphs[0], text, font=HEITI, size=Pt(9), bold=True)
    bound: list[BoundFile] = []
    total, budget = len(attachments), render_pages
    for number, row in enumerate(attachments, start=1):
        spool, sha256, size = _spooled(open_blob(row))
        with spool:
            label = category_label(row.category)
            heading = f"附件{number}　{label}（{row.filename}）"
            pages, rendered, placed = None, 0, False
            if row.content_type == "application/pdf":
                pages = _pdf_pages(spool)
                if pages and budget:
                    spool.seek(0)
                    rendered = _place_pdf(doc, spool, heading, entries, budget)
                    budget -= rendered
                placed = pages is not None and rendered == pages
            elif row.content_type in IMAGES:
                binding.page_break(doc)
                binding.heading(doc, heading, 2, entries)
                spool.seek(0)
                image = io.BytesIO(spool.read())
                width, height = _pixels(image)
                binding.picture(doc, image, width, height)
                placed = True
        file = BoundFile(
            number, row.category, label, row.filename, row.content_type, size, sha256, pages, placed, rendered
        )
        bound.append(file)
        cells = index.add_row().cells
        values = (str(number), label, row.filename, f"{size:,}", "" if pages is None else str(pages), sha256)
        for cell, text in zip(cells, (*values, _placement(file)), strict=True):
            east_asian_font(cell.paragraphs[0], text, size=Pt(9))
        if progress is not None:
            progress(number, total, row.filename)
    if any(not b.placed for b in bound):
        note = doc.add_paragraph()
        east_asian_font(
            note,
            "表中未置入或未全部置入本册的附件以原件随附，以其 SHA-256 核对一致。",
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
