"""Documents the applicant prints, signs, scans and uploads, built as .docx from plain data (no stage imported).

- 附件3 关于查询上海市公共信用信息的委托授权书 (credit-query authorisation), worded as seed 002 gives it;
- 申报材料真实性承诺书 (authenticity commitment): seed 002 lists it as attachment 6 without a text; the wording
  here is ours, in the usual form of such commitments.

Page set-up follows the binder rules (附件4): A4, margins top/bottom 2.54 cm, left/right 3.17 cm. Chinese fonts are
set on the run's East Asian attribute (w:eastAsia), which Word uses for CJK text; `font.name` alone is not enough.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

# 字号: 二号 22 pt, 三号 16 pt (the binder rules' sizes).
ERHAO, SANHAO = Pt(22), Pt(16)
HEITI, FANGSONG = "黑体", "仿宋"


@dataclass(frozen=True)
class CreditAuthorisation:
    """Who authorises the credit query, for which unit, fund and project (附件3)."""

    person_name: str
    id_card: str
    role: str  # "法人代表" or "项目负责人"
    company: str
    fund: str
    project: str


@dataclass(frozen=True)
class AuthenticityCommitment:
    unit_name: str
    uscc: str
    fund: str
    project: str


def _font(paragraph: Paragraph, text: str, *, font: str = FANGSONG, size: Pt = SANHAO, bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = size
    run.font.bold = bold
    fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)  # what Word uses for Chinese characters


def _document() -> Document:  # type: ignore[valid-type]
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2.54)
    section.left_margin = section.right_margin = Cm(3.17)
    return doc


def _title(doc: Document, text: str) -> None:  # type: ignore[valid-type]
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph, text, font=HEITI, size=ERHAO, bold=True)


def _body(doc: Document, text: str, *, indent: bool = True) -> None:  # type: ignore[valid-type]
    paragraph = doc.add_paragraph()
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(32)  # two characters of 三号
    paragraph.paragraph_format.line_spacing = 1.5
    _font(paragraph, text)


def _bytes(doc: Document) -> bytes:  # type: ignore[valid-type]
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def credit_authorisation(data: CreditAuthorisation) -> bytes:
    """附件3, word for word as seed 002 gives it, with the blanks filled in."""
    doc = _document()
    _title(doc, "关于查询上海市公共信用信息的委托授权书")
    _body(
        doc,
        f"本人{data.person_name}为{data.company}的{data.role}，为开展专项资金项目申报工作，"
        "同意授权上海市经济和信息化委员会对本人开展上海市公共信用信息查询及信用评估等工作。",
    )
    _body(
        doc,
        f"本项授权仅用于本单位申报的{data.fund}资金的{data.project}项目使用，如获得上海市经济和信息化委员会支持，"
        "上海市经济和信息化委员会可在项目实施期内通过上海市公共信用信息服务平台查询本人相关信用信息。",
    )
    _body(doc, "特此授权。")
    doc.add_paragraph()
    for line in (f"姓名：{data.person_name}", f"身份证号码：{data.id_card}", "签字：", "日期：      年    月    日"):
        _body(doc, line, indent=False)
    return _bytes(doc)


def authenticity_commitment(data: AuthenticityCommitment) -> bytes:
    """申报材料真实性承诺书 (our wording; seed 002 names the document but gives no text)."""
    doc = _document()
    _title(doc, "申报材料真实性承诺书")
    _body(
        doc,
        f"本单位{data.unit_name}（统一社会信用代码：{data.uscc}）郑重承诺：所提交的{data.fund}"
        f"“{data.project}”项目申报材料，包括项目申请表、验收申请报告及全部附件，内容真实、准确、完整，"
        "不存在虚报、瞒报、伪造、篡改等情况。",
    )
    _body(doc, "如有不实，本单位愿承担相应的法律责任，并接受有关部门依法依规作出的处理。")
    _body(doc, "特此承诺。")
    doc.add_paragraph()
    for line in ("法定代表人（签字）：", "单位（盖章）：", "日期：      年    月    日"):
        _body(doc, line, indent=False)
    return _bytes(doc)
