"""The application binder read back from its .docx (issue 13 item 4), against 附件4 of seed 002: "申报材料一律采用
A4纸", "在有文字的每页材料右下角编写页码", the cover's "二号黑体" bold title, "一号黑体" names and "三号仿宋" date,
"材料目录页为三号仿宋，行距为单倍行距", "页边距：上：2.54,下：2.54,左：3.17 ,右：3.17", "按照申请表和申请报告顺序"."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject
from sqlalchemy import select

from applications import binder
from applications.attachments import attachments_of, open_blob, required_categories
from applications.models import Attachment
from tests import factories
from web.core.extensions import blob_store
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.models import Application
from workflow.visibility import programme_definitions

COVER = "上海市工业通信业节能减排和合同能源管理专项资金（能源管理中心建设）项目申报材料"  # 附件4's, *** filled in


def _two_page_pdf() -> bytes:
    """Two A4 pages; the first has a black square in its middle (so a rendering of it can be told from a blank)."""
    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(width=595, height=842)
    square = DecodedStreamObject()
    square.set_data(b"0 0 0 rg 197 321 200 200 re f")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(square)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _bound(app, cast, **options) -> tuple[int, bytes, list[binder.BoundFile]]:  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.upload(app, cast, app_id, "equipment_list", _two_page_pdf(), "设备清单.pdf")  # a second version
    factories.upload(app, cast, app_id, "other", factories.SIGNATURE_PNG, "现场照片.png")
    out = io.BytesIO()
    with db.transaction() as session:
        application = session.get(Application, app_id)
        definition = programme_definitions(session)[application.programme_version_id]
        rows = binder.ordered(
            attachments_of(session, SYSTEM, app_id),
            required_categories(definition, application.kind, application.form or {}),
        )
        store = blob_store(app)
        day = dt.date(2026, 12, 5)
        bound = binder.build(application, definition, rows, lambda r: open_blob(store, r), out, day=day, **options)
    return app_id, out.getvalue(), bound


def _pictures(doc) -> list[Image.Image]:  # type: ignore[no-untyped-def]
    """The placed pictures, in document order."""
    blobs = []
    for blip in doc.element.body.iter(qn("a:blip")):
        part = doc.part.related_parts[blip.get(qn("r:embed"))]
        blobs.append(Image.open(io.BytesIO(part.blob)))
    return blobs


def _east_asian(run) -> str | None:  # type: ignore[no-untyped-def]
    fonts = run._r.rPr.rFonts if run._r.rPr is not None else None
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def _instructions(element) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.text.strip() for t in element.iter(qn("w:instrText"))]


def test_page_setup_and_the_cover(app, cast):
    _app_id, data, _bound_files = _bound(app, cast)
    doc = Document(io.BytesIO(data))
    for section in doc.sections:
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)  # A4
        margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
        assert [round(m.cm, 2) for m in margins] == [2.54, 2.54, 3.17, 3.17]  # .docx keeps twips: to the 1/100 cm
    texts = {p.text: p for p in doc.paragraphs if p.text}
    title = texts[COVER].runs[0]
    assert (_east_asian(title), title.font.size, title.font.bold) == ("黑体", Pt(22), True)  # 二号黑体 加粗
    for name in (cast.org.name, "能源管理中心建设项目"):
        run = texts[name].runs[0]
        assert (_east_asian(run), run.font.size) == ("黑体", Pt(26))  # 一号黑体
    dated = next(p for p in doc.paragraphs if p.text.endswith("日") and "年" in p.text and p.text[:4].isdigit())
    assert (_east_asian(dated.runs[0]), dated.runs[0].font.size) == ("仿宋", Pt(16))  # 三号仿宋


def test_page_numbers_bottom_right_after_the_cover_and_the_contents_in_fangsong(app, cast):
    _app_id, data, _ = _bound(app, cast)
    doc = Document(io.BytesIO(data))
    cover, body = doc.sections
    assert not any("PAGE" in i for i in _instructions(cover.footer._element))  # the 120 g cover stock: unnumbered
    footer = body.footer.paragraphs[0]
    assert not body.footer.is_linked_to_previous and footer.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert _instructions(footer._p) == ["PAGE"]
    assert body._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    contents = next(p for p in doc.paragraphs if any(i.startswith("TOC") for i in _instructions(p._p)))
    assert contents.paragraph_format.line_spacing == 1.0  # 单倍行距
    assert {(_east_asian(r), r.font.size) for r in contents.runs} == {("仿宋", Pt(16))}  # 三号仿宋
    shown = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("toc ")]
    headings = [
        (p.style.name.replace("Heading", "toc"), p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")
    ]
    assert shown == headings and ("toc 1", "三、附件") in shown  # the contents list every part and placed image
    for level in (1, 2):
        style = doc.styles[f"toc {level}"]
        assert (style.font.size, style.paragraph_format.line_spacing) == (Pt(16), 1.0)
    assert doc.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"


def test_the_order_form_report_attachments_with_an_index(app, cast):
    app_id, data, bound = _bound(app, cast)
    doc = Document(io.BytesIO(data))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、项目申请表", "二、验收申请报告", "三、附件"]
    texts = [p.text for p in doc.paragraphs]
    first, second, third = (n for n, p in enumerate(doc.paragraphs) if p.style.name == "Heading 1")
    assert first < texts.index("（能源管理中心建设）项目申请表") < second  # the form, then the report's chapters
    assert second < texts.index("第一章  用能单位基本概况") < texts.index("第六章  下一步计划") < third
    with db.transaction() as session:
        current = session.scalars(
            select(Attachment).where(Attachment.application_id == app_id, Attachment.superseded_at.is_(None))
        ).all()
    assert len(bound) == len(current)  # current versions only: the superseded 设备清单 is not bound
    index = doc.tables[-1]
    rows = [[c.text for c in r.cells] for r in index.rows[1:]]
    assert [r[5] for r in rows] == [b.sha256 for b in bound]
    assert {r[5] for r in rows} == {a.sha256 for a in current}
    listed = {r[2]: r for r in rows}
    assert listed["设备清单.pdf"][4] == "2"  # the PDF's pages, counted
    assert listed["设备清单.pdf"][6] == listed["现场照片.png"][6] == "已置入"
    image = next(b for b in bound if b.filename == "现场照片.png")
    pdf = next(b for b in bound if b.filename == "设备清单.pdf")
    assert image.placed and pdf.placed and pdf.rendered == 2
    pictures = _pictures(doc)
    assert len(pictures) == 3  # the PDF's two pages, then the image, each on a page of its own
    first, second = pictures[0].convert("L"), pictures[1].convert("L")
    assert first.size == (827, 1170)  # A4 rendered at 100 dpi
    middle, corner = first.getpixel((413, 585)), first.getpixel((20, 20))
    assert middle < 40 and corner > 215  # the first page's black square, rendered; its margin white
    assert second.getpixel((413, 585)) > 215  # the second page is blank
    assert doc.inline_shapes[0].width <= binder.binding.TEXT_WIDTH  # within 附件4's margins
    assert bound[-1].category == "other"  # after every required category, in the programme's order


def test_pdf_pages_beyond_the_binders_limit_are_listed_and_the_index_says_so(app, cast):
    _app_id, data, bound = _bound(app, cast, render_pages=1)
    doc = Document(io.BytesIO(data))
    pdf = next(b for b in bound if b.filename == "设备清单.pdf")
    assert (pdf.rendered, pdf.placed) == (1, False)
    rows = {r.cells[2].text: r.cells[6].text for r in doc.tables[-1].rows[1:]}
    assert rows["设备清单.pdf"] == "置入前1页"
    assert len(_pictures(doc)) == 2  # one page of the PDF, and the image (images do not count against the limit)
    assert any("未全部置入本册的附件以原件随附" in p.text for p in doc.paragraphs)


def test_the_command_writes_the_binder_or_nothing(app, cast, runner, tmp_path):
    app_id = factories.new_application(cast)
    out = tmp_path / "binder.docx"
    done = runner.invoke(args=["binder", "build", str(app_id), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert Document(str(out)).paragraphs and "attachments" in done.output
    missing = tmp_path / "none.docx"
    refused = runner.invoke(args=["binder", "build", "999999", "--out", str(missing)])
    assert refused.exit_code != 0 and "not found" in refused.output
    assert not missing.exists() and not (tmp_path / "none.docx.partial").exists()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed here")
def test_libreoffice_opens_it(app, cast, tmp_path):
    _app_id, data, _ = _bound(app, cast)
    source = tmp_path / "binder.docx"
    source.write_bytes(data)
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True,
        timeout=180,
        capture_output=True,
    )
    from pypdf import PdfReader

    pages = PdfReader(str(tmp_path / "binder.pdf")).pages
    assert len(pages) >= 5  # cover, contents, form, report, attachments
    assert all((round(float(p.mediabox.width)), round(float(p.mediabox.height))) == (595, 842) for p in pages)  # A4
    # The numbers as LibreOffice laid them out: none on the cover, then 1, 2, … at the foot of each page.
    footers = [p.extract_text().rstrip().rsplit("\n", 1)[-1].strip() for p in pages]
    assert not footers[0].isdigit() or footers[0] != "1"
    assert footers[1:] == [str(n) for n in range(1, len(pages))]
    assert len(pages[1].extract_text().splitlines()) >= 4  # the contents were filled in: a title and its entries
    if not _cjk_font():
        return  # the words themselves need a Chinese font to be laid out (CI installs one)
    cover = pages[0].extract_text().replace("\n", "")
    assert COVER in cover and cast.org.name in cover
    contents = pages[1].extract_text()
    assert all(part in contents for part in ("一、项目申请表", "二、验收申请报告", "三、附件"))


def _cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())
