"""Form versions as data: each field's key (the API's JSON key), type, labels, and which applicant kinds fill it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Field types and what a value must look like. Numbers may come as JSON numbers or strings ("1234.56").
TEXT, LONG_TEXT, USCC, PHONE, DATE, MONEY, ENERGY, COUNT, FLAG, DISTRICT = (
    "text", "long_text", "uscc", "phone", "date", "money", "energy", "count", "flag", "district",
)  # fmt: skip


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    zh: str
    en: str
    kinds: tuple[str, ...] = ()  # empty: every applicant kind fills it
    required: bool = True  # required to submit (a draft may leave anything empty)
    max_length: int = 200

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


@dataclass(frozen=True)
class FormVersion:
    """One immutable version of a programme's application form, with the thresholds its rules use."""

    code: str
    version: int
    title: dict[str, str]
    fields: tuple[Field, ...]
    thresholds: dict[str, Any] = field(default_factory=dict)
    rules: tuple[str, ...] = ()  # cross-field rules (forms.rules.CROSS_RULES) this version applies

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"

    def fields_for(self, kind: str) -> list[Field]:
        return [f for f in self.fields if f.applies_to(kind)]


def _f(key: str, type_: str, zh: str, en: str, **kw: Any) -> Field:
    return Field(key, type_, zh, en, **kw)


_NARRATIVE = (
    # 附件2 三、能源管理中心建设情况: six sections.
    _f("management_system", LONG_TEXT, "能源管理制度建设", "Energy management system", max_length=4000),
    _f("metering_system", LONG_TEXT, "计量体系", "Metering system", max_length=4000),
    _f("online_monitoring", LONG_TEXT, "在线监测", "Online monitoring", max_length=4000),
    _f("software_platform", LONG_TEXT, "软件平台", "Software platform", max_length=4000),
    _f("system_application", LONG_TEXT, "系统应用", "System application", max_length=4000),
    _f("innovation", LONG_TEXT, "其他（建设创新点）", "Other: innovations", required=False, max_length=4000),
    # 验收申请报告（大纲）: chapters 1–6.
    _f("report_profile", LONG_TEXT, "第一章 用能单位基本概况", "Ch. 1 Unit profile", max_length=20000),
    _f("report_project", LONG_TEXT, "第二章 项目基本情况", "Ch. 2 The project", max_length=20000),
    _f("report_status", LONG_TEXT, "第三章 能源管理现状", "Ch. 3 Energy management status", max_length=20000),
    _f("report_construction", LONG_TEXT, "第四章 建设方案", "Ch. 4 Construction", max_length=20000),
    _f("report_effects", LONG_TEXT, "第五章 系统应用效果", "Ch. 5 Effects", max_length=20000),
    _f("report_next_steps", LONG_TEXT, "第六章 下一步计划", "Ch. 6 Next steps", max_length=20000),
)

EMC_FORM_V1 = FormVersion(
    code="emc-acceptance-form",
    version=1,
    title={"zh": "能源管理中心建设项目申请表", "en": "Energy management centre project application form"},
    fields=(
        # 一、申报（投资）主体基本情况
        _f("unit_name", TEXT, "单位名称", "Unit name"),
        _f("uscc", USCC, "统一社会信用代码", "Unified social credit code"),
        _f("legal_representative", TEXT, "单位法人", "Legal representative", max_length=50),
        _f("nature", TEXT, "性质", "Nature of the unit", max_length=50),
        _f("industry", TEXT, "所属行业", "Industry", max_length=100),
        _f("address", TEXT, "地址", "Address"),
        _f("district", DISTRICT, "所属地区", "District"),
        _f("contact_person", TEXT, "负责人", "Contact person", max_length=50),
        _f("contact_phone", PHONE, "联系方式", "Contact phone"),
        _f("start_date", DATE, "开工时间", "Construction start"),
        _f("completion_date", DATE, "竣工时间", "Construction completion"),
        _f("last_year_energy_tce", ENERGY, "用能单位上年度综合能耗（吨标煤）", "Last year's energy use (tce)"),
        _f("annual_output_value_wan", MONEY, "年总产值（万元）", "Annual output value (10k yuan)"),
        # 二、申报项目基本情况
        _f("total_investment_wan", MONEY, "项目总投资（万元）", "Total investment (10k yuan)"),
        _f("investment_construction_wan", MONEY, "工程建设（万元）", "Engineering construction (10k yuan)"),
        _f("investment_equipment_wan", MONEY, "能源计量数据采集上传设备（万元）", "Metering and upload equipment"),
        _f("investment_software_wan", MONEY, "软件（万元）", "Software (10k yuan)"),
        _f("investment_other_wan", MONEY, "其他（万元）", "Other (10k yuan)"),
        _f("tier1_points", COUNT, "一级表具监测点数", "Tier-1 metering points"),
        _f("tier1_connected", COUNT, "一级表具接入数", "Tier-1 points connected"),
        _f("tier2_points", COUNT, "二级表具监测点数", "Tier-2 metering points"),
        _f("tier2_connected", COUNT, "二级表具接入数", "Tier-2 points connected"),
        _f("tier3_points", COUNT, "三级表具监测点数", "Tier-3 metering points"),
        _f("tier3_connected", COUNT, "三级表具接入数", "Tier-3 points connected"),
        _f(
            "park_large_enterprises",
            COUNT,
            "园区综合能耗2000tce以上企业数量",
            "Park enterprises ≥ 2000 tce",
            kinds=("park",),
        ),
        _f("park_large_connected", COUNT, "接入平台企业数量", "Of those, connected", kinds=("park",)),
        _f(
            "park_connected_energy_tce",
            ENERGY,
            "接入平台企业总能耗（吨标煤）",
            "Their total energy (tce)",
            kinds=("park",),
        ),
        _f("park_total_energy_tce", ENERGY, "园区总能耗（吨标煤）", "Park total energy (tce)", kinds=("park",)),
        _f(
            "dc_platform_connected",
            FLAG,
            "已接入“上海市数据中心能耗在线监测平台”",
            "Connected to the municipal data-centre monitoring platform",
            kinds=("data_centre",),
        ),
        _f("competent_authority", TEXT, "上级主管部门", "Superior competent authority"),
        # The company that built the project for the unit: its staff are never drawn onto the expert panel.
        _f("service_company_name", TEXT, "项目建设技术服务单位", "Technical service company", required=False),
        _f(
            "service_company_uscc",
            USCC,
            "项目建设技术服务单位统一社会信用代码",
            "Technical service company's unified social credit code",
            required=False,
        ),
        *_NARRATIVE,
    ),
    thresholds={
        # seed 002 §一, §四: all programme rules, carried here so a new version can change them.
        "min_energy_tce": {"enterprise": Decimal("2000"), "data_centre": Decimal("2000")},
        "min_access_ratio": {"tier1": Decimal("1.00"), "tier2": Decimal("0.95"), "tier3": Decimal("0.80")},
        "park_min_connected_share": Decimal("0.50"),
        "park_min_energy_share": Decimal("0.50"),
    },
    rules=(
        "dates_in_order",
        "investment_parts_sum",
        "connected_within_points",
        "energy_threshold",
        "access_ratios",
        "data_centre_platform",
        "park_coverage",
    ),
)

# Designed from seed 000 (2022 energy-metering notice): key energy-using units retrofit tier-1 meters and
# upload tier-1/2/3 data to the city monitoring system. Assumptions: the unit's key-energy-unit list year,
# the counts of meters retrofitted and uploading per tier, the date uploading began, and the retrofit investment.
MONITORING_FORM_V1 = FormVersion(
    code="monitoring-fund-form",
    version=1,
    title={"zh": "能耗在线监测系统建设专项扶持资金申请表", "en": "Online monitoring fund application form"},
    fields=(
        _f("unit_name", TEXT, "单位名称", "Unit name"),
        _f("uscc", USCC, "统一社会信用代码", "Unified social credit code"),
        _f("district", DISTRICT, "所属地区", "District"),
        _f("address", TEXT, "地址", "Address"),
        _f("contact_person", TEXT, "联系人", "Contact person", max_length=50),
        _f("contact_phone", PHONE, "联系电话", "Contact phone"),
        _f("key_unit_list_year", COUNT, "列入重点用能单位名单年度", "Year on the key energy-using unit list"),
        _f("last_year_energy_tce", ENERGY, "上年度综合能耗（吨标煤）", "Last year's energy use (tce)"),
        _f("tier1_points", COUNT, "一级（关口）表具数", "Tier-1 (gateway) meters"),
        _f("tier1_retrofitted", COUNT, "一级表具完成智能化改造数", "Tier-1 meters retrofitted"),
        _f("tier1_connected", COUNT, "一级表具上传数", "Tier-1 meters uploading"),
        _f("tier2_points", COUNT, "二级表具数", "Tier-2 meters", required=False),
        _f("tier2_connected", COUNT, "二级表具上传数", "Tier-2 meters uploading", required=False),
        _f("tier3_points", COUNT, "三级表具数", "Tier-3 meters", required=False),
        _f("tier3_connected", COUNT, "三级表具上传数", "Tier-3 meters uploading", required=False),
        _f("upload_started_on", DATE, "开始上传数据日期", "Date uploading began"),
        _f("retrofit_investment_wan", MONEY, "改造投资（万元）", "Retrofit investment (10k yuan)"),
        _f("retrofit_description", LONG_TEXT, "改造及采集上传情况", "Retrofit and upload description", max_length=4000),
    ),
    thresholds={},
    rules=("connected_within_points", "retrofitted_within_points"),
)

FORMS: dict[str, FormVersion] = {f.label: f for f in (EMC_FORM_V1, MONITORING_FORM_V1)}


def form_version(label: str) -> FormVersion:
    """The form a programme definition names (its `form = "code@version"`)."""
    try:
        return FORMS[label]
    except KeyError:
        raise LookupError(f"no form version '{label}'; known: {', '.join(sorted(FORMS))}") from None
