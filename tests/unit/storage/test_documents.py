"""The applicant's documents as .docx: the seed's wording, A4 with the binder margins, Chinese fonts set properly."""

from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn

from storage.documents import (
    AuthenticityCommitment,
    CreditAuthorisation,
    authenticity_commitment,
    credit_authorisation,
)

AUTH = CreditAuthorisation(
    person_name="张伟",
    id_card="11010519491231002X",
    role="法人代表",
    company="上海申闵精密制造有限公司",
    fund="上海市工业通信业节能减排和合同能源管理专项资金（能源管理中心建设）",
    project="能源管理中心建设项目",
)


def _open(data: bytes):  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(data))


def test_credit_authorisation_has_the_seed_wording_with_the_blanks_filled():
    doc = _open(credit_authorisation(AUTH))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text == "关于查询上海市公共信用信息的委托授权书"
    assert "本人张伟为上海申闵精密制造有限公司的法人代表，为开展专项资金项目申报工作" in text
    assert "同意授权上海市经济和信息化委员会对本人开展上海市公共信用信息查询及信用评估等工作。" in text
    assert f"本项授权仅用于本单位申报的{AUTH.fund}资金的能源管理中心建设项目项目使用" in text
    assert "身份证号码：11010519491231002X" in text
    assert "特此授权。" in text


def test_commitment_names_the_unit_its_code_and_the_project():
    doc = _open(authenticity_commitment(AuthenticityCommitment("某某公司", "91110108551385082Q", "专项资金", "某项目")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text == "申报材料真实性承诺书"
    assert "本单位某某公司（统一社会信用代码：91110108551385082Q）郑重承诺" in text


def test_page_is_a4_with_the_binder_margins_and_fonts_carry_the_east_asian_attribute():
    doc = _open(credit_authorisation(AUTH))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert [round(m.cm, 2) for m in (section.top_margin, section.bottom_margin)] == [2.54, 2.54]
    assert [round(m.cm, 2) for m in (section.left_margin, section.right_margin)] == [3.17, 3.17]
    runs = [r for p in doc.paragraphs for r in p.runs]
    assert runs
    east_asian = {r._r.rPr.rFonts.get(qn("w:eastAsia")) for r in runs}
    assert east_asian == {"黑体", "仿宋"}
    title = doc.paragraphs[0].runs[0]
    assert title.font.bold and title.font.size.pt == 22  # 二号 bold
