"""The applicant's documents as .docx: the seed's wording with each programme's own bodies and words, A4 with the
binder margins, Chinese fonts set properly."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.oxml.ns import qn

from applications.programme_words import programme_words
from storage.documents import (
    AuthenticityCommitment,
    CreditAuthorisation,
    authenticity_commitment,
    credit_authorisation,
)
from workflow.definitions import Definition, shipped

SHIPPED = {d.label: d for d in shipped()}
EMC, MONITORING = SHIPPED["emc-acceptance@2"], SHIPPED["monitoring-fund@2"]
EMC_V1, MONITORING_V1 = SHIPPED["emc-acceptance@1"], SHIPPED["monitoring-fund@1"]
UNIT = "上海申闵精密制造有限公司"


def _letter(definition: Definition, role: str = "法人代表", project: str = "能源管理中心建设项目") -> str:
    data = CreditAuthorisation("张伟", "11010519491231002X", role, UNIT, project, programme_words(definition))
    return _text(credit_authorisation(data))


def _commitment(definition: Definition, project: str = "剑川路能源管理中心") -> str:
    data = AuthenticityCommitment(UNIT, "91110108551385082Q", project, programme_words(definition))
    return _text(authenticity_commitment(data))


def _text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_the_emc_letter_is_the_seeds_sentences_with_the_blanks_filled():
    # Seed 002 附件3, each ×××× filled with the name less the word the sentence puts after it (资金, 项目).
    text = _letter(EMC)
    assert text.splitlines()[0] == "关于查询上海市公共信用信息的委托授权书"
    assert (
        "本人张伟为上海申闵精密制造有限公司的法人代表，为开展专项资金项目申报工作，"
        "同意授权上海市经济和信息化委员会对本人开展上海市公共信用信息查询及信用评估等工作。"
    ) in text
    assert (
        "本项授权仅用于本单位申报的上海市工业通信业节能减排和合同能源管理专项资金的能源管理中心建设项目使用，"
        "如获得上海市经济和信息化委员会支持，上海市经济和信息化委员会可在项目实施期内通过上海市公共信用信息服务平台"
        "查询本人相关信用信息。"
    ) in text
    assert "项目项目" not in text and "资金资金" not in text and "）资金" not in text
    assert "身份证号码：11010519491231002X" in text and "特此授权。" in text


@pytest.mark.parametrize(
    ("project", "as_whom"),
    [
        ("剑川路能源管理中心", "为剑川路能源管理中心项目的负责人"),  # a name without 项目 takes the seed's word
        ("能源管理中心建设项目", "为能源管理中心建设项目的负责人"),  # a name ending 项目 keeps it once
    ],
)
def test_the_project_lead_signs_for_the_project_not_the_company(project, as_whom):
    # Seed 002 附件3 "本人×××为…/××××项目的负责人".
    text = _letter(EMC, role="项目负责人", project=project)
    assert f"本人张伟{as_whom}，为开展专项资金项目申报工作" in text
    assert UNIT not in text and "的项目负责人" not in text
    assert f"资金的{project.removesuffix('项目')}项目使用" in text


def test_the_monitoring_letter_names_the_market_regulator_and_the_institute_reviewing_for_it():
    # Seed 000 §二(四) "市局委托市计测院对扶持资金申请开展审核", "扶持资金支持": the letter's bodies and award word.
    text = _letter(MONITORING, project="关口表具智能化改造项目")
    assert (
        "同意授权上海市市场监督管理局及受其委托审核的上海市计量测试技术研究院对本人开展上海市公共信用信息查询及信用评估等工作。"
    ) in text
    assert (
        "本项授权仅用于本单位申报的能耗在线监测系统建设专项扶持资金的关口表具智能化改造项目使用，"
        "如获得上海市市场监督管理局扶持，上海市市场监督管理局可在项目实施期内"
    ) in text
    assert "经济和信息化" not in text and "支持" not in text


def test_the_emc_commitment_lists_the_form_the_report_and_the_attachments():
    text = _commitment(EMC)
    assert text.splitlines()[0] == "申报材料真实性承诺书"
    assert "本单位上海申闵精密制造有限公司（统一社会信用代码：91110108551385082Q）郑重承诺" in text
    assert "为剑川路能源管理中心项目申报上海市工业通信业节能减排和合同能源管理专项资金（能源管理中心建设）" in text
    assert "向上海市经济和信息化委员会提交的申报材料，包括项目申请表、验收申请报告及全部附件" in text
    assert "退回已获得的支持资金" in text


def test_the_monitoring_commitment_names_its_bodies_and_no_report():
    # Seed 000: the fund has an application and attachments, no 验收申请报告 (that is seed 002's programme).
    text = _commitment(MONITORING)
    assert "向上海市市场监督管理局及受其委托审核的上海市计量测试技术研究院提交的申报材料，包括申请表及全部附件" in text
    assert "申报能耗在线监测系统建设专项扶持资金，" in text and "退回已获得的扶持资金" in text
    assert "验收申请报告" not in text and "经济和信息化" not in text


@pytest.mark.parametrize("definition", [EMC_V1, MONITORING_V1], ids=lambda d: d.label)
def test_definitions_from_before_the_programme_words_print_the_emc_words(definition):
    """@1 files carry no authority, award or fund: applications in flight print seed 002's words, as before."""
    assert not definition.authority
    text = _letter(definition)
    assert "同意授权上海市经济和信息化委员会对本人" in text and "如获得上海市经济和信息化委员会支持" in text
    assert "本单位申报的上海市工业通信业节能减排和合同能源管理专项资金的能源管理中心建设项目使用" in text


def test_every_current_definition_has_its_own_words():
    for definition in shipped():
        if definition.authority:  # the @2 files on: nothing falls back
            words = programme_words(definition)
            assert (words.authority, words.award, words.fund) == (
                definition.authority["name"],
                definition.terms["award"],
                definition.fund["name"],
            )
            assert words.fund.endswith("资金")


def test_page_is_a4_with_the_binder_margins_and_fonts_carry_the_east_asian_attribute():
    doc = Document(io.BytesIO(credit_authorisation(CreditAuthorisation(
        "张伟", "11010519491231002X", "法人代表", UNIT, "能源管理中心建设项目", programme_words(EMC)
    ))))  # fmt: skip
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
