"""Documents the applicant prints, signs, scans and uploads, built as .docx from plain data (no stage imported).

- 附件3 关于查询上海市公共信用信息的委托授权书 (credit-query authorisation), worded as seed 002 gives it;
- 申报材料真实性承诺书 (authenticity commitment): seed 002 lists it as attachment 6 without a text; the wording
  here is ours, in the usual form of such commitments.

Both name the programme's own bodies and words (applications.programme_words: the authority, the body reviewing on its
behalf, 支持 or 扶持, the fund, whether it has a 验收申请报告), never a name written here.

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


@dataclass(frozen=True)
class ProgrammeWords:
    authority: str  # the body that runs the fund, by its full name (附件3 names it so)
    reviewer: str  # the body that reviews on its behalf, or "" when the authority reviews itself
    award: str  # 支持 / 扶持
    fund: str  # the fund's full name, ending 资金
    subprogramme: str  # e.g. 能源管理中心建设, or ""
    application_form: str  # the programme's printed application form (附件2 项目申请表), or "" when it has none
    report: str  # the report that goes with the form (验收申请报告), or "" when the programme has none

    @property
    def fund_title(self) -> str:
        """The fund with its sub-programme, as the cover of 附件4 names it: 专项资金（能源管理中心建设）."""
        return f"{self.fund}（{self.subprogramme}）" if self.subprogramme else self.fund


# 字号: 二号 22 pt, 三号 16 pt (the binder rules' sizes).
ERHAO, SANHAO = Pt(22), Pt(16)
HEITI, FANGSONG = "黑体", "仿宋"


@dataclass(frozen=True)
class CreditAuthorisation:
    """Who authorises the credit query, as whom, for which unit and project, under which programme (附件3)."""

    person_name: str
    id_card: str
    role: str  # "法人代表" or "项目负责人"
    unit: str
    project: str  # the project's name as the applicant gave it
    programme: ProgrammeWords


@dataclass(frozen=True)
class AuthenticityCommitment:
    unit_name: str
    uscc: str
    project: str
    programme: ProgrammeWords


def east_asian_font(
    paragraph: Paragraph, text: str, *, font: str = FANGSONG, size: Pt = SANHAO, bold: bool = False
) -> None:
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = size
    run.font.bold = bold
    fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)  # what Word uses for Chinese characters


def new_document() -> Document:  # type: ignore[valid-type]
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2.54)
    section.left_margin = section.right_margin = Cm(3.17)
    return doc


def _title(doc: Document, text: str) -> None:  # type: ignore[valid-type]
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    east_asian_font(paragraph, text, font=HEITI, size=ERHAO, bold=True)


def _body(doc: Document, text: str, *, indent: bool = True) -> None:  # type: ignore[valid-type]
    paragraph = doc.add_paragraph()
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(32)  # two characters of 三号
    paragraph.paragraph_format.line_spacing = 1.5
    east_asian_font(paragraph, text)


def docx_bytes(doc: Document) -> bytes:  # type: ignore[valid-type]
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def stem(name: str, suffix: str) -> str:
    """`name` without its own trailing `suffix`, for a blank the seed's sentence follows with that word itself."""
    return name[: -len(suffix)] if name.endswith(suffix) and len(name) > len(suffix) else name


def _authorised(words: ProgrammeWords) -> str:
    """Who may query: the authority, and the body reviewing on its behalf (seed 000 §二(四) 市局委托市计测院…审核)."""
    return f"{words.authority}及受其委托审核的{words.reviewer}" if words.reviewer else words.authority


def _as_whom(data: CreditAuthorisation) -> str:
    """附件3 "×××××公司的法人代表/××××项目的负责人": the unit for its legal representative, the project for its lead."""
    if data.role == "法人代表":
        return f"{data.unit}的法人代表"
    if data.role == "项目负责人":
        return f"{stem(data.project, '项目')}项目的负责人"
    raise ValueError(f"no wording in 附件3 for the role '{data.role}'")


def credit_authorisation(data: CreditAuthorisation) -> bytes:
    """附件3, word for word as seed 002 gives it, the blanks filled with the programme's and the applicant's names."""
    words = data.programme
    doc = new_document()
    _title(doc, "关于查询上海市公共信用信息的委托授权书")
    _body(
        doc,
        f"本人{data.person_name}为{_as_whom(data)}，为开展专项资金项目申报工作，"
        f"同意授权{_authorised(words)}对本人开展上海市公共信用信息查询及信用评估等工作。",
    )
    # "本单位申报的××××资金的××××项目使用": each blank takes the name without the word that follows it.
    _body(
        doc,
        f"本项授权仅用于本单位申报的{stem(words.fund, '资金')}资金的{stem(data.project, '项目')}项目使用，"
        f"如获得{words.authority}{words.award}，"
        f"{words.authority}可在项目实施期内通过上海市公共信用信息服务平台查询本人相关信用信息。",
    )
    _body(doc, "特此授权。")
    doc.add_paragraph()
    for line in (f"姓名：{data.person_name}", f"身份证号码：{data.id_card}", "签字：", "日期：      年    月    日"):
        _body(doc, line, indent=False)
    return docx_bytes(doc)


def _materials(words: ProgrammeWords) -> str:
    """What the applicant submitted: the programme's form and report (附件2) where it has them, and attachments."""
    documents = [words.application_form or "申请表", *([words.report] if words.report else [])]
    return "、".join(documents) + "及全部附件"


def authenticity_commitment(data: AuthenticityCommitment) -> bytes:
    """申报材料真实性承诺书 (our wording; seed 002 names the document but gives no text)."""
    words = data.programme
    doc = new_document()
    _title(doc, "申报材料真实性承诺书")
    _body(
        doc,
        f"本单位{data.unit_name}（统一社会信用代码：{data.uscc}）郑重承诺：为{stem(data.project, '项目')}项目"
        f"申报{words.fund_title}，向{_authorised(words)}提交的申报材料，包括{_materials(words)}，"
        "内容真实、准确、完整，不存在虚报、瞒报、伪造、篡改等情况。",
    )
    _body(
        doc,
        f"如有不实，本单位愿承担相应的法律责任，退回已获得的{words.award}资金，"
        f"并接受{words.authority}依法依规作出的处理。",
    )
    _body(doc, "特此承诺。")
    doc.add_paragraph()
    for line in ("法定代表人（签字）：", "单位（盖章）：", "日期：      年    月    日"):
        _body(doc, line, indent=False)
    return docx_bytes(doc)
