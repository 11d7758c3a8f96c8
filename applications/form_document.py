"""附件2 of seed 002 as .docx: the 项目申请表 laid out as the seed gives it, then the 验收申请报告（大纲）
with the seed's guidance under each chapter followed by the applicant's own text.

The table is 附件2's, row by row and cell by cell on a six-column grid (merged where 附件2 spans): 一、申报（投资）主体
基本情况, 二、申报项目基本情况 (总投资 with its four parts, the three tiers' points and access ratio, the park row),
三、能源管理中心建设情况 (序号 | 项目内容 | 简介, six items), and the block 申报单位意见 / 上级主管部门意见 left
blank for seal and signature. Ratios and shares are computed from the counts (forms.rules.computed), never typed.

附件2 has no row for what the form asks beyond it (the USCC, the superior authority, the service company; and what
form @2 adds: the investment mode and energy-using unit, the energy types, the standard built to, the park members'
tier-1 meters, the effects). Those follow section 二 in rows under their own heading, so nothing the applicant
declared is left out and nothing is passed off as 附件2's.

Values print as the applicant typed them; choices print their Chinese labels. A form of an older version (an
application in flight) prints with the fields it lacks left blank. Page set-up and fonts as storage.documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm, Pt
from docx.table import Table, _Cell

from applications.programme_words import ProgrammeWords, programme_words
from forms import fields as F
from forms.fields import Field, form_version
from forms.rules import computed
from storage.documents import FANGSONG, HEITI, docx_bytes, east_asian_font, new_document
from workflow.definitions import Definition
from workflow.models import Application

KAITI = "楷体"  # the seed's guidance, set apart from the applicant's own text
XIAOER, SIHAO, XIAOSI, WUHAO = Pt(18), Pt(14), Pt(12), Pt(10.5)  # 小二, 四号, 小四, 五号
# Six equal columns across the text width (A4 less the binder's 3.17 cm margins).
COLUMN = Cm((21.0 - 2 * 3.17) / 6)
EXTRA_HEADING = "附件2未设栏目的申报信息（申请表所填，附件2无对应栏目）"

# 附件2 三、能源管理中心建设情况: 序号, 项目内容 (the seed's words), and the form field holding the applicant's 简介.
CONSTRUCTION_ITEMS = (
    ("1", "能源管理制度建设", "management_system"),
    ("2", "计量体系", "metering_system"),
    ("3", "在线监测", "online_monitoring"),
    ("4", "软件平台", "software_platform"),
    ("5", "系统应用", "system_application"),
    ("6", "其他", "innovation"),
)
INVESTMENT_PARTS = (
    ("工程建设", "investment_construction_wan"),
    ("能源计量数据采集上传设备", "investment_equipment_wan"),
    ("软件", "investment_software_wan"),
    ("其他", "investment_other_wan"),
)
TIERS = (
    ("一级表具监测点数及接入率", "tier1"),
    ("二级表具监测点数及接入率", "tier2"),
    ("三级表具监测点数及接入率", "tier3"),
)


@dataclass(frozen=True)
class Chapter:
    """A chapter of the 验收申请报告（大纲）: its heading and the seed's guidance, for enterprises and for parks."""

    heading: str
    field: str  # the form field with the applicant's text
    guidance: tuple[str, ...]
    park_guidance: tuple[str, ...] | None = None  # None: the same for every kind

    def guidance_for(self, kind: str) -> tuple[str, ...]:
        return self.park_guidance if kind == "park" and self.park_guidance is not None else self.guidance


# Seed 002 附件2 验收申请报告（大纲）, word for word (chapters 1 and 3 differ for 企业/数据中心 and 园区).
CHAPTERS = (
    Chapter(
        "第一章  用能单位基本概况",
        "report_profile",
        (
            "企业申报单位基本概况包括：企业名称、地址、人员、企业性质、所属行业、主要产品种类及近三年产量情况、主要工艺流程和"
            "生产装置的规模（用文字和图表说明，数据中心说明ICT设备、电气、制冷空调、给排水等各系统组成）、近三年来的销售收入、"
            "利润、税金、固定资产、资产负债率、银行信用等级、法人及主要股东的概况。",
        ),
        (
            "园区申报单位基本概况包括：园区名称、园区简介、园区所在区域、土地面积、建筑面积、近三年的产值与能源消耗情况、园区能源"
            "管理现状等；园区规上企业数量，各企业的名称、性质、所属行业，主要产品种类及产值情况等。",
        ),
    ),
    Chapter(
        "第二章  项目基本情况",
        "report_project",
        (
            "项目主要建设内容、项目实施工期情况、以及项目总投资、设备设施投资额（主要用于能源管理中心信息化管理及控制系统）、"
            "以及主要资金来源情况。",
        ),
    ),
    Chapter(
        "第三章  能源管理现状",
        "report_status",
        (
            "企业要求近三年能源消耗总量和主要单位产品能耗（数据中心为综合PUE）、主要能源供应设施情况、项目实施前主要能源介质"
            "消耗状况、能源计量器具的配备情况、自动化基础条件、能源管理组织机构及人员等。",
        ),
        (
            "园区要求近三年园区及区内企业的能源消耗情况，项目实施前主要能源介质消耗状况、能源计量器具的配备情况、自动化基础"
            "条件、能源管理组织机构及人员等。以及参与园区能源管理中心建设的企业数量与比例等。",
        ),
    ),
    Chapter(
        "第四章  建设方案（主要建设内容说明）",
        "report_construction",
        (
            "1.能源在线监测",
            "内容包括：用能单位能源计量器具配备率及在线率情况；能源数据在线监测实际状况，包括能源计量数据准确度状况和能源"
            "在线监测率情况等。数据中心的能源管理中心接入市经济信息化委“上海市数据中心能耗在线监测平台”情况。",
            "2.软件平台功能",
            "内容包括：能源管理中心软件平台的系统设计及硬件配置情况，以及主要功能是否已经全部实现。如能源数据采集及在线监测、"
            "能源可视化管理与统计分析、能效对标、异常报警等功能建设情况。",
        ),
    ),
    Chapter(
        "第五章  系统应用效果",
        "report_effects",
        (
            "内容包括：能源管理中心建设至今的实际使用情况及达到的节能效果，或给实际能源管理工作带来的优势之处，以及能源管理"
            "中心应用带来的经济效益等。",
        ),
    ),
    Chapter(
        "第六章  下一步计划",
        "report_next_steps",
        ("内容包括：基于能源管理中心开展深入的能源管理规划及实际应用拓展。",),
    ),
)
# Seed 002 附件2, under chapter 1: for an application by the third-party company that invested (seed 002 §三).
THIRD_PARTY_NOTE = "注：第三方机构投资申报，介绍第三方机构基本情况。"

# The form fields 附件2's own rows print; every other field of the form goes under EXTRA_HEADING.
PRINTED_IN_TABLE = frozenset(
    {
        "unit_name", "legal_representative", "nature", "industry", "address", "district", "contact_person",
        "contact_phone", "start_date", "completion_date", "last_year_energy_tce", "annual_output_value_wan",
        "total_investment_wan", *(key for _, key in INVESTMENT_PARTS),
        *(f"{tier}_{what}" for _, tier in TIERS for what in ("points", "connected")),
        "park_large_enterprises", "park_large_connected", "park_connected_energy_tce", "park_total_energy_tce",
        *(key for _, _, key in CONSTRUCTION_ITEMS), *(c.field for c in CHAPTERS),
    }
)  # fmt: skip


def has_application_form(definition: Definition) -> bool:
    """Whether the programme prints a 附件2 项目申请表: its data names one (`documents.application_form`) and its form
    carries 附件2's sections (an @1 file takes emc's words, so monitoring-fund@1 is told apart by its form)."""
    if not programme_words(definition).application_form:
        return False
    keys = {f.key for f in form_version(definition.form).fields}
    return all(key in keys for _, _, key in CONSTRUCTION_ITEMS)


def filename(definition: Definition) -> str:
    """E.g. 能源管理中心建设项目申请表及验收申请报告.docx."""
    words = programme_words(definition)
    name = words.subprogramme + words.application_form
    return f"{name}及{words.report}.docx" if words.report else f"{name}.docx"


# --- values -------------------------------------------------------------------------------------------------------


def shown(field: Field | None, value: Any) -> str:
    """A value as the applicant typed it; a choice by its Chinese label; a flag as 是/否; nothing as blank."""
    if value is None or value == "" or value == []:
        return ""
    if field is not None and field.type == F.CHOICE:
        return field.choice_label(str(value))
    if field is not None and field.type == F.CHOICES and isinstance(value, list):
        return "、".join(field.choice_label(str(v)) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def percent(share: str | None) -> str:
    """A computed share ("0.9500") as a percentage ("95.00%"); blank when it cannot be computed."""
    if not share:
        return ""
    try:
        return f"{(Decimal(share) * 100).quantize(Decimal('0.01'))}%"
    except InvalidOperation:
        return ""


class _Values:
    """The application's form values, looked up by key with the form version's fields (missing: blank)."""

    def __init__(self, app: Application, definition: Definition):
        self.form = form_version(definition.form)
        self.kind = app.kind
        self.data: dict[str, Any] = dict(app.form or {})
        self.fields = {f.key: f for f in self.form.fields_for(app.kind)}
        self.computed = computed(self.form, app.kind, self.data)

    def __getitem__(self, key: str) -> str:
        return shown(self.fields.get(key), self.data.get(key))

    def extras(self) -> list[tuple[str, str]]:
        return [(f.zh, self[f.key]) for f in self.fields.values() if f.key not in PRINTED_IN_TABLE]

    def dates(self) -> str:
        start, end = self["start_date"], self["completion_date"]
        return f"{start}至{end}" if start or end else ""

    def tier(self, tier: str) -> str:
        points, connected = self[f"{tier}_points"], self[f"{tier}_connected"]
        if not points:
            return ""
        parts = [f"监测点数{points}"]
        if connected:
            parts.append(f"接入{connected}")
        if ratio := percent(self.computed.get(f"{tier}_access_ratio")):
            parts.append(f"接入率{ratio}")
        return "，".join(parts)

    def share(self, value_key: str, share_key: str, of: str = "") -> str:
        value = self[value_key]
        if not value:
            return ""
        share = percent(self.computed.get(share_key))
        return f"{value}，占{of}{share}" if share else value


# --- the table ----------------------------------------------------------------------------------------------------


def _write(cell: _Cell, text: str, *, label: bool = False, center: bool = False) -> None:
    """Text into a cell, one paragraph per line, in 五号; labels in 黑体."""
    for i, line in enumerate(text.splitlines() or [""]):
        paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if line:
            east_asian_font(paragraph, line, font=HEITI if label else FANGSONG, size=WUHAO, bold=label)


def _row(table: Table, *cells: tuple[str, int, bool]) -> None:
    """A row of (text, columns spanned, is a label) cells across the six columns."""
    row = table.add_row()
    for cell in row.cells:
        cell.width = COLUMN
    column = 0
    for text, span, label in cells:
        cell = row.cells[column] if span == 1 else row.cells[column].merge(row.cells[column + span - 1])
        _write(cell, text, label=label, center=label)
        column += span
    if column != 6:
        raise ValueError(f"a row of 附件2 spans the six columns, not {column}")


def _section(table: Table, title: str) -> None:
    row = table.add_row()
    cell = row.cells[0].merge(row.cells[5])
    _write(cell, title, label=True)


def _table(doc: Any, v: _Values) -> None:
    table: Table = doc.add_table(rows=0, cols=6)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _section(table, "一、申报（投资）主体基本情况")
    _row(table, ("单位名称（盖章）", 1, True), (v["unit_name"], 5, False))
    _row(table, ("单位法人", 1, True), (v["legal_representative"], 1, False), ("性质", 1, True),
         (v["nature"], 1, False), ("所属行业", 1, True), (v["industry"], 1, False))  # fmt: skip
    _row(table, ("地址", 1, True), (v["address"], 3, False), ("所属地区", 1, True), (v["district"], 1, False))
    _row(table, ("负责人", 1, True), (v["contact_person"], 1, False), ("联系方式", 1, True),
         (v["contact_phone"], 1, False), ("开竣工时间", 1, True), (v.dates(), 1, False))  # fmt: skip
    _row(table, ("用能单位上年度综合能耗（吨标煤）", 1, True), (v["last_year_energy_tce"], 2, False),
         ("年总产值（万元）", 1, True), (v["annual_output_value_wan"], 2, False))  # fmt: skip

    _section(table, "二、申报项目基本情况")
    # 项目总投资（万元） and its amount span two rows beside the four parts' names over their amounts.
    first = len(table.rows)
    _row(table, ("项目总投资（万元）", 1, True), (v["total_investment_wan"], 1, False),
         *((name, 1, True) for name, _ in INVESTMENT_PARTS))  # fmt: skip
    _row(table, ("", 1, False), ("", 1, False), *((v[key], 1, False) for _, key in INVESTMENT_PARTS))
    table.cell(first, 0).merge(table.cell(first + 1, 0))
    table.cell(first, 1).merge(table.cell(first + 1, 1))
    _row(table, *((cell for label, tier in TIERS for cell in ((label, 1, True), (v.tier(tier), 1, False)))))
    _row(
        table,
        ("园区综合能耗2000tce以上企业数量", 1, True),
        (v["park_large_enterprises"], 1, False),
        ("接入平台企业数量及占比", 1, True),
        (v.share("park_large_connected", "park_connected_share"), 1, False),
        ("接入平台企业总能耗（吨标煤）及占比", 1, True),
        (v.share("park_connected_energy_tce", "park_energy_share", of=_park_total(v)), 1, False),
    )
    extras = v.extras()
    if extras:
        _section(table, EXTRA_HEADING)
        for label, value in extras:
            _row(table, (label, 2, True), (value, 4, False))

    _section(table, "三、能源管理中心建设情况")
    _row(table, ("序号", 1, True), ("项目内容", 1, True), ("简介", 4, True))
    for number, title, key in CONSTRUCTION_ITEMS:
        _row(table, (number, 1, True), (title, 1, True), (v[key], 4, False))

    # Left blank for the seal and the signatures (附件2's closing row).
    row = table.add_row()
    for cell in row.cells:
        cell.width = COLUMN
    room = "\n" * 4  # for the opinion, above the seal
    _write(row.cells[0].merge(row.cells[2]), f"申报单位意见：{room}（公章）\n法人代表（签字）：\n")
    _write(row.cells[3].merge(row.cells[5]), f"上级主管部门意见：{room}（公章）\n\n")


def _park_total(v: _Values) -> str:
    total = v["park_total_energy_tce"]
    return f"园区总能耗{total}吨标煤的" if total else ""


# --- the document -------------------------------------------------------------------------------------------------


def _line(doc: Any, text: str, *, font: str = FANGSONG, size: Pt = XIAOSI, bold: bool = False,
          center: bool = False, indent: bool = False) -> None:  # fmt: skip
    paragraph = doc.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(24)  # two characters of 小四
    paragraph.paragraph_format.line_spacing = 1.5
    east_asian_font(paragraph, text, font=font, size=size, bold=bold)


def _titles(doc: Any, lines: list[str]) -> None:
    for line in lines:
        _line(doc, line, font=HEITI, size=XIAOER, bold=True, center=True)


def _report(doc: Any, v: _Values, words: ProgrammeWords) -> None:
    """验收申请报告（大纲）: each chapter's heading, the seed's guidance for the applicant's kind, then their text."""
    subtitle = f"（{words.subprogramme}）" if words.subprogramme else ""
    _titles(doc, [words.fund, f"{subtitle}项目{words.report}", "（大纲）"])
    for chapter in CHAPTERS:
        _line(doc, chapter.heading, font=HEITI, size=SIHAO, bold=True)
        for guidance in chapter.guidance_for(v.kind):
            _line(doc, guidance, font=KAITI, indent=True)
        if chapter.field == "report_profile" and v.data.get("investment_mode") == "third_party":
            _line(doc, THIRD_PARTY_NOTE, font=KAITI, indent=True)
        for paragraph in v[chapter.field].splitlines():
            if paragraph.strip():
                _line(doc, paragraph, indent=True)


def write_form(doc: Any, app: Application, definition: Definition) -> None:
    """附件2 项目申请表 of `app` into `doc`: its titles and its table (the programme must have one)."""
    if not has_application_form(definition):
        raise LookupError(f"{definition.label} has no 附件2 项目申请表")
    words = programme_words(definition)
    subtitle = f"（{words.subprogramme}）" if words.subprogramme else ""
    _titles(doc, [words.fund, f"{subtitle}{words.application_form}"])
    _table(doc, _Values(app, definition))


def write_report(doc: Any, app: Application, definition: Definition) -> None:
    """The 验收申请报告（大纲） of `app` into `doc`, if the programme has one."""
    words = programme_words(definition)
    if words.report:
        _report(doc, _Values(app, definition), words)


def application_form(app: Application, definition: Definition) -> bytes:
    """附件2 项目申请表 and 验收申请报告 of `app` as .docx (the programme must have them: `has_application_form`)."""
    doc = new_document()
    write_form(doc, app, definition)
    if programme_words(definition).report:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        write_report(doc, app, definition)
    return docx_bytes(doc)
