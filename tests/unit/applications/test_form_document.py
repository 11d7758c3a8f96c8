"""附件2 项目申请表 and 验收申请报告 as .docx: the seed's title, table, blocks and chapters, filled from the form."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn

from applications.form_document import application_form, filename, has_application_form
from forms.fields import EMC_FORM_V1
from forms.samples import sample_form
from workflow.definitions import shipped

SEED = Path(__file__).parents[3] / "docs" / "sources" / "seed-002-emc-acceptance.txt"
SHIPPED = {d.label: d for d in shipped()}
EMC, EMC_V1 = SHIPPED["emc-acceptance@2"], SHIPPED["emc-acceptance@1"]
MONITORING, MONITORING_V1 = SHIPPED["monitoring-fund@2"], SHIPPED["monitoring-fund@1"]

# Seed 002 附件2, every label of the table in order (a line break inside a printed cell is not part of the words).
SECTION_ONE = ["一、申报（投资）主体基本情况", "单位名称（盖章）", "单位法人", "性质", "所属行业", "地址", "所属地区",
               "负责人", "联系方式", "开竣工时间", "用能单位上年度综合能耗（吨标煤）", "年总产值（万元）"]  # fmt: skip
SECTION_TWO = ["二、申报项目基本情况", "项目总投资（万元）", "工程建设", "能源计量数据采集上传设备", "软件", "其他",
               "一级表具监测点数及接入率", "二级表具监测点数及接入率", "三级表具监测点数及接入率",
               "园区综合能耗2000tce以上企业数量", "接入平台企业数量及占比",
               "接入平台企业总能耗（吨标煤）及占比"]  # fmt: skip
SECTION_THREE = ["三、能源管理中心建设情况", "序号", "项目内容", "简介", "1", "能源管理制度建设", "2", "计量体系",
                 "3", "在线监测", "4", "软件平台", "5", "系统应用", "6", "其他"]  # fmt: skip
CHAPTERS = ["第一章  用能单位基本概况", "第二章  项目基本情况", "第三章  能源管理现状",
            "第四章  建设方案（主要建设内容说明）", "第五章  系统应用效果", "第六章  下一步计划"]  # fmt: skip
NARRATIVE = ("management_system", "metering_system", "online_monitoring", "software_platform", "system_application",
             "innovation")  # fmt: skip


def _app(kind: str = "enterprise", **changes: Any) -> SimpleNamespace:
    form = {**sample_form("emc-acceptance", kind), **changes}
    return SimpleNamespace(kind=kind, form={k: v for k, v in form.items() if v is not None}, project_name="剑川路项目")


def _doc(app: SimpleNamespace, definition: Any = EMC) -> Any:
    return Document(io.BytesIO(application_form(app, definition)))


def _cells(doc: Any) -> list[list[str]]:
    """The table's rows as their distinct cells' texts (a merged cell once)."""
    rows = []
    for row in doc.tables[0].rows:
        seen: list[Any] = []
        for cell in row.cells:
            if all(cell._tc is not other._tc for other in seen):
                seen.append(cell)
        rows.append([cell.text for cell in seen])
    return rows


def _flat(doc: Any) -> list[str]:
    """Every distinct cell's text, row by row (a cell merged down two rows once)."""
    seen: list[Any] = []
    for row in doc.tables[0].rows:
        seen.extend(cell for cell in row.cells if all(cell._tc is not other._tc for other in seen))
    return [cell.text for cell in seen]


def _paragraphs(doc: Any) -> list[str]:
    return [p.text for p in doc.paragraphs if p.text]


def test_the_title_is_the_funds_name_and_the_sub_programmes_form():
    paragraphs = _paragraphs(_doc(_app()))
    assert paragraphs[:2] == ["上海市工业通信业节能减排和合同能源管理专项资金", "（能源管理中心建设）项目申请表"]
    assert filename(EMC) == "能源管理中心建设项目申请表及验收申请报告.docx"


def test_every_label_of_the_table_comes_in_the_seeds_order():
    flat = _flat(_doc(_app()))
    labels = SECTION_ONE + SECTION_TWO + SECTION_THREE
    assert [text for text in flat if text in labels] == labels
    # What 附件2 has no row for comes after section 二 under its own heading, before section 三.
    extra = next(i for i, text in enumerate(flat) if text.startswith("附件2未设栏目"))
    assert flat.index("接入平台企业总能耗（吨标煤）及占比") < extra < flat.index("三、能源管理中心建设情况")


def test_the_table_is_filled_as_the_applicant_typed_with_ratios_computed():
    rows = _cells(_doc(_app()))
    assert ["单位名称（盖章）", "上海申闵精密制造有限公司"] in rows
    assert ["单位法人", "张伟", "性质", "有限责任公司", "所属行业", "通用设备制造业"] in rows
    assert ["负责人", "李娜", "联系方式", "13812345678", "开竣工时间", "2025-01-10至2025-06-30"] in rows
    assert ["项目总投资（万元）", "180.00", "40.00", "90.00", "45.50", "4.50"] in rows
    tiers = next(row for row in rows if row[0] == "一级表具监测点数及接入率")
    # Seed 002 §四(二)(2): 二级 39 of 40 points is 97.50 %, computed, never typed.
    assert tiers[3] == "监测点数40，接入39，接入率97.50%"
    narratives = [row[2] for row in rows if len(row) == 3 and row[0] in "123456" and row[0]]
    assert narratives == [sample_form("emc-acceptance", "enterprise")[key] for key in NARRATIVE]


def test_the_park_row_carries_counts_and_shares():
    rows = _cells(_doc(_app("park")))
    park = next(row for row in rows if row[0] == "园区综合能耗2000tce以上企业数量")
    # 8 of 12 enterprises (66.66 %, rounded down); 61000 of 98000 tce (62.24 %).
    assert park[1:] == ["12", "接入平台企业数量及占比", "8，占66.66%", "接入平台企业总能耗（吨标煤）及占比",
                        "61000，占园区总能耗98000吨标煤的62.24%"]  # fmt: skip


def test_what_form_2_adds_is_printed_in_rows_labelled_as_outside_the_annex():
    rows = _cells(_doc(_app(investment_mode="third_party", energy_user_name="上海某某用能单位")))
    assert ["建设模式（申报单位为项目投资主体）", "委托第三方服务公司建设（合同能源管理）"] in rows  # its Chinese label
    assert ["用能单位名称（第三方投资时填写）", "上海某某用能单位"] in rows
    assert ["接入的能源品种", "电力、燃气（天然气）、水"] in rows
    assert ["节能率（%）", "6.20"] in rows
    park = _cells(_doc(_app("park")))
    assert ["园区企业一级（关口）表具接入数", "36"] in park
    assert ["按照《工业园区能耗在线监测系统技术要求》（DB31/T 1141-2019）进行建设", "是"] in park


def test_the_seal_and_signature_block_is_left_blank():
    last = _doc(_app()).tables[0].rows[-1]
    left, right = last.cells[0], last.cells[5]
    assert [p.text for p in left.paragraphs if p.text] == ["申报单位意见：", "（公章）", "法人代表（签字）："]
    assert [p.text for p in right.paragraphs if p.text] == ["上级主管部门意见：", "（公章）"]
    assert len(left.paragraphs) > 4  # room to write the opinion above the seal


def test_the_report_outline_has_the_six_chapters_each_with_the_applicants_text():
    app = _app()
    paragraphs = _paragraphs(_doc(app))
    report = paragraphs[paragraphs.index("（大纲）") - 2 :]
    assert report[:3] == [
        "上海市工业通信业节能减排和合同能源管理专项资金",
        "（能源管理中心建设）项目验收申请报告",
        "（大纲）",
    ]
    assert [p for p in report if p in CHAPTERS] == CHAPTERS
    keys = ("report_profile", "report_project", "report_status", "report_construction", "report_effects",
            "report_next_steps")  # fmt: skip
    for heading, following, key in zip(CHAPTERS, [*CHAPTERS[1:], None], keys, strict=True):
        end = report.index(following) if following else len(report)
        assert report[end - 1] == app.form[key]  # the applicant's text closes its chapter
        assert report.index(heading) < end - 1


@pytest.mark.parametrize(
    ("kind", "shown", "not_shown"),
    [
        (
            "enterprise",
            ["企业申报单位基本概况包括：", "企业要求近三年能源消耗总量"],
            ["园区申报单位", "园区要求近三年"],
        ),
        (
            "data_centre",
            ["企业申报单位基本概况包括：", "企业要求近三年能源消耗总量"],
            ["园区申报单位", "园区要求近三年"],
        ),
        ("park", ["园区申报单位基本概况包括：", "园区要求近三年园区及区内企业"], ["企业申报单位", "企业要求近三年"]),
    ],
)
def test_chapters_one_and_three_give_the_guidance_for_the_applicants_kind(kind, shown, not_shown):
    doc = _doc(_app(kind))
    text = "\n".join(_paragraphs(doc))
    assert all(words in text for words in shown) and not any(words in text for words in not_shown)
    # Every line of guidance is the seed's own, word for word.
    seed_lines = {line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()}
    guidance = [p.text for p in doc.paragraphs if p.text and p.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "楷体"]
    assert len(guidance) == 9 and set(guidance) <= seed_lines


def test_the_third_party_note_follows_chapter_one_only_for_a_third_party_investor():
    note = "注：第三方机构投资申报，介绍第三方机构基本情况。"
    assert note not in _paragraphs(_doc(_app(investment_mode="self_built")))
    paragraphs = _paragraphs(_doc(_app(investment_mode="third_party")))
    assert (
        paragraphs.index("第一章  用能单位基本概况") < paragraphs.index(note) < paragraphs.index("第二章  项目基本情况")
    )


def test_a4_with_the_binder_margins_and_east_asian_fonts_on_every_run():
    doc = _doc(_app("park"))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert [round(m.cm, 2) for m in (section.top_margin, section.bottom_margin)] == [2.54, 2.54]
    assert [round(m.cm, 2) for m in (section.left_margin, section.right_margin)] == [3.17, 3.17]
    cells = [c for row in doc.tables[0].rows for c in row.cells]
    runs = [r for p in doc.paragraphs for r in p.runs] + [r for c in cells for p in c.paragraphs for r in p.runs]
    fonts = [r._r.rPr.rFonts.get(qn("w:eastAsia")) for r in runs if r.text]
    assert set(fonts) == {"黑体", "仿宋", "楷体"}


def test_a_form_1_application_in_flight_prints_with_what_it_has():
    v1_keys = {f.key for f in EMC_FORM_V1.fields}
    app = _app()
    app.form = {k: v for k, v in app.form.items() if k in v1_keys and k != "nature"}
    doc = _doc(app, EMC_V1)
    rows = _cells(doc)
    assert ["单位法人", "张伟", "性质", "", "所属行业", "通用设备制造业"] in rows  # missing: blank
    flat = _flat(doc)
    assert "建设模式（申报单位为项目投资主体）" not in flat and "统一社会信用代码" in flat
    assert _paragraphs(doc)[:2] == ["上海市工业通信业节能减排和合同能源管理专项资金", "（能源管理中心建设）项目申请表"]


def test_the_monitoring_fund_has_no_annex_2():
    assert has_application_form(EMC) and has_application_form(EMC_V1)
    assert not has_application_form(MONITORING) and not has_application_form(MONITORING_V1)
    with pytest.raises(LookupError):
        application_form(_app(), MONITORING)
