"""Form versions as data: each field's key (the API's JSON key), type, labels, and which applicant kinds fill it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Field types and what a value must look like. Numbers may come as JSON numbers or strings ("1234.56").
TEXT, LONG_TEXT, USCC, PHONE, DATE, MONEY, ENERGY, COUNT, FLAG, DISTRICT = (
    "text", "long_text", "uscc", "phone", "date", "money", "energy", "count", "flag", "district",
)  # fmt: skip
# Added with the @2 forms: one of the field's choices, several of them, a percentage 0–100, a plain measure.
CHOICE, CHOICES, PERCENT, NUMBER = "choice", "choices", "percent", "number"


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    zh: str
    en: str
    kinds: tuple[str, ...] = ()  # empty: every applicant kind fills it
    required: bool = True  # required to submit (a draft may leave anything empty)
    max_length: int = 200
    choices: tuple[tuple[str, str, str], ...] = ()  # (value, zh, en) for CHOICE and CHOICES
    unit: str = ""  # shown beside a number (PERCENT: %)

    def choice_label(self, value: str, lang: str = "zh") -> str:
        for key, zh, en in self.choices:
            if key == value:
                return en if lang == "en" else zh
        return value

    def shown(self, value: Any, lang: str = "zh") -> str:
        """The value as a page or a printed form shows it: choices by their labels, yes/no, a unit."""
        if isinstance(value, bool):
            return ("Yes" if value else "No") if lang == "en" else ("是" if value else "否")
        if self.type == CHOICE and isinstance(value, str):
            return self.choice_label(value, lang)
        if self.type == CHOICES and isinstance(value, list):
            return ("、" if lang == "zh" else ", ").join(self.choice_label(str(v), lang) for v in value)
        return f"{value}{self.unit}" if self.unit else str(value)

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
    if "choices" in kw:
        kw["choices"] = tuple(kw["choices"])
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

# --- @2: the seed's conditions that nothing checked before (issue 9) ---------------------------------------------

# Seed 002 §三: the applicant is the project's investor, building itself or through a service company (合同能源管理).
INVESTMENT_MODES = (
    ("self_built", "自建", "Built by the unit itself"),
    ("third_party", "委托第三方服务公司建设（合同能源管理）", "Built and financed by a service company (EPC)"),
)
# Seed 002 §四(一)(2) "实现电力、燃气、热力等全能源品种接入": the energy types the unit's meters bring in.
ENERGY_TYPES = (
    ("electricity", "电力", "Electricity"),
    ("natural_gas", "燃气（天然气）", "Gas (natural gas)"),
    ("heat", "热力（蒸汽、热水）", "Heat (steam, hot water)"),
    ("water", "水", "Water"),
    ("coal", "煤炭", "Coal"),
    ("oil", "油品", "Oil products"),
    ("other", "其他能源", "Other energy"),
)
ENTERPRISE_KINDS = ("enterprise", "data_centre")
# The earliest year a key energy-using unit list can have (节约能源法, in force 1998-01-01); a local setting, shared by
# the form's rule and the list import (review.keyunits).
FIRST_LIST_YEAR = 1998


def _v1_without(*keys: str) -> tuple[Field, ...]:
    return tuple(f for f in EMC_FORM_V1.fields if f.key not in keys)


def _emc_v2_fields() -> tuple[Field, ...]:
    by_key = {f.key: f for f in EMC_FORM_V1.fields}
    head = [by_key[k] for k in ("unit_name", "uscc")]
    investor = (
        _f("investment_mode", CHOICE, "建设模式（申报单位为项目投资主体）", "Who built and invested",
           choices=INVESTMENT_MODES),
        _f("energy_user_name", TEXT, "用能单位名称（第三方投资时填写）", "Energy-using unit (third-party investment)",
           required=False),
        _f("energy_user_uscc", USCC, "用能单位统一社会信用代码（第三方投资时填写）",
           "Energy-using unit's unified social credit code (third-party investment)", required=False),
    )  # fmt: skip
    basics = [by_key[k] for k in ("legal_representative", "nature", "industry", "address", "district",
                                  "contact_person", "contact_phone", "start_date", "completion_date",
                                  "last_year_energy_tce", "annual_output_value_wan", "total_investment_wan",
                                  "investment_construction_wan", "investment_equipment_wan",
                                  "investment_software_wan", "investment_other_wan")]  # fmt: skip
    metering = (
        _f("energy_types", CHOICES, "接入的能源品种", "Energy types brought in", choices=ENERGY_TYPES),
        *(by_key[f"tier{n}_{what}"] for n in (1, 2, 3) for what in ("points", "connected")),
        *(by_key[k] for k in ("park_large_enterprises", "park_large_connected", "park_connected_energy_tce",
                              "park_total_energy_tce")),
        # Seed 002 §四(三)(2) "企业一级（关口）表具接入比例达到100％": the member enterprises' own gateway meters.
        _f("member_tier1_points", COUNT, "园区企业一级（关口）表具监测点数", "Member enterprises' tier-1 points",
           kinds=("park",)),
        _f("member_tier1_connected", COUNT, "园区企业一级（关口）表具接入数", "Member enterprises' tier-1 connected",
           kinds=("park",)),
        by_key["dc_platform_connected"],
        # Seed 002 §四(二)(3), §四(三)(3): the standard each kind is built to.
        _f("conforms_gbt_40063", FLAG, "按照《工业企业能源管控中心建设指南》（GB/T 40063-2021）进行建设",
           "Built to GB/T 40063-2021 (industrial energy management and control centres)", kinds=ENTERPRISE_KINDS),
        _f("conforms_db31_1141", FLAG, "按照《工业园区能耗在线监测系统技术要求》（DB31/T 1141-2019）进行建设",
           "Built to DB31/T 1141-2019 (park online energy monitoring)", kinds=("park",)),
    )  # fmt: skip
    # Seed 002 §四(二)(4), §四(三)(4): one or more effects, before and after the centre was built.
    effects = (
        _f("saving_rate_pct", PERCENT, "节能率（%）", "Energy-saving rate (%)", required=False, unit="%"),
        _f("unit_consumption_before", NUMBER, "产品单耗或产线单耗（建设前）", "Unit consumption before",
           kinds=("enterprise",), required=False),
        _f("unit_consumption_after", NUMBER, "产品单耗或产线单耗（建设后）", "Unit consumption after",
           kinds=("enterprise",), required=False),
        _f("unit_consumption_unit", TEXT, "单耗计量单位（如 kgce/t）", "Unit of the unit consumption (e.g. kgce/t)",
           kinds=("enterprise",), required=False, max_length=30),
        _f("pue_before", NUMBER, "综合PUE（建设前）", "PUE before", kinds=("data_centre",), required=False),
        _f("pue_after", NUMBER, "综合PUE（建设后）", "PUE after", kinds=("data_centre",), required=False),
        _f("fault_count_before", COUNT, "用能设备安全故障次数（建设前一年）", "Safety faults, the year before",
           kinds=ENTERPRISE_KINDS, required=False),
        _f("fault_count_after", COUNT, "用能设备安全故障次数（建设后一年）", "Safety faults, the year after",
           kinds=ENTERPRISE_KINDS, required=False),
        _f("park_energy_per_value_before", NUMBER, "园区增加值（或产值）能耗（建设前，吨标煤/万元）",
           "Park energy per value added, before (tce / 10k yuan)", kinds=("park",), required=False),
        _f("park_energy_per_value_after", NUMBER, "园区增加值（或产值）能耗（建设后，吨标煤/万元）",
           "Park energy per value added, after (tce / 10k yuan)", kinds=("park",), required=False),
        _f("park_carbon_per_value_before", NUMBER, "园区增加值（或产值）碳排放（建设前，吨CO₂/万元）",
           "Park carbon per value added, before (t CO2 / 10k yuan)", kinds=("park",), required=False),
        _f("park_carbon_per_value_after", NUMBER, "园区增加值（或产值）碳排放（建设后，吨CO₂/万元）",
           "Park carbon per value added, after (t CO2 / 10k yuan)", kinds=("park",), required=False),
        _f("park_abnormal_warning", FLAG, "具备用能异常预警功能", "Abnormal-use warning in operation", kinds=("park",),
           required=False),
    )  # fmt: skip
    tail = [by_key[k] for k in ("competent_authority", "service_company_name", "service_company_uscc")]
    return (*head, *investor, *basics, *metering, *effects, *tail, *_NARRATIVE)


EMC_FORM_V2 = FormVersion(
    code="emc-acceptance-form",
    version=2,
    title=EMC_FORM_V1.title,
    fields=_emc_v2_fields(),
    thresholds={
        **EMC_FORM_V1.thresholds,
        # seed 002 §四(一)(3) 稳定运行6个月以上: calendar months from completion to the day of submission.
        "min_running_months": 6,
        # seed 002 §四(三)(2) 企业一级（关口）表具接入比例达到100％.
        "member_tier1_min_ratio": Decimal("1.00"),
        # seed 002 §四(二)(4), §四(三)(4) 节能率达到5%（含）以上.
        "min_saving_rate_pct": Decimal("5"),
        # issue 9: a project with no investment has nothing to fund.
        "positive": ("total_investment_wan",),
    },
    rules=(
        *EMC_FORM_V1.rules,
        "positive_values",
        "investor_identified",
        "stable_running",
        "every_tier_has_points",
        "gateway_per_energy_type",
        "park_has_large_enterprise",
        "member_gateway_access",
        "standard_declared",
        "effects_claimed",
    ),
)

MONITORING_FORM_V2 = FormVersion(
    code="monitoring-fund-form",
    version=2,
    title=MONITORING_FORM_V1.title,
    fields=MONITORING_FORM_V1.fields,
    thresholds={
        # seed 000 §二(一): "年综合能耗超过5000吨标准煤的数据中心" — more than 5000 tce.
        "data_centre_min_tce_exceeding": Decimal("5000"),
        # Local setting (the seed names no bound): key energy-using units exist since the Energy Conservation Law
        # (节约能源法) took effect on 1998-01-01; an earlier list year is a typo, not a list.
        "first_list_year": FIRST_LIST_YEAR,
        "positive": ("last_year_energy_tce", "retrofit_investment_wan"),
    },
    rules=(*MONITORING_FORM_V1.rules, "positive_values", "data_centre_over_threshold", "plausible_list_year"),
)

FORMS: dict[str, FormVersion] = {f.label: f for f in (EMC_FORM_V1, MONITORING_FORM_V1, EMC_FORM_V2, MONITORING_FORM_V2)}


# Where each part of 附件2 begins (seed 002 附件2 项目申请表 and 验收申请报告): first field → (zh, en) heading.
SECTIONS = {
    "unit_name": ("一、申报（投资）主体基本情况", "1. The applicant (investor)"),
    "total_investment_wan": ("二、申报项目基本情况", "2. The project"),
    "energy_types": ("计量表具及接入情况", "Metering points and access"),
    "tier1_points": ("计量表具及接入情况", "Metering points and access"),
    "saving_rate_pct": ("能源管理中心建设效果（一种或多种）", "Effects of the centre (one or more)"),
    "management_system": ("三、能源管理中心建设情况", "3. The energy management centre"),
    "report_profile": ("验收申请报告", "Acceptance application report"),
    "key_unit_list_year": ("计量器具改造及数据上传", "Meter retrofit and data upload"),
}


def form_sections(
    label: str, kind: str, data: dict[str, Any], lang: str = "zh"
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The saved form under the form's own headings, in its order; a part with nothing filled is left out, and
    keys the form lacks come last under an empty heading."""
    fields = FORMS[label].fields_for(kind) if label in FORMS else []
    parts: list[tuple[str, list[tuple[str, str]]]] = [("", [])]
    for f in fields:
        heading = SECTIONS.get(f.key)
        if heading is not None:
            title = heading[1] if lang == "en" else heading[0]
            if title != parts[-1][0]:
                parts.append((title, []))
        if data.get(f.key) not in (None, "", []):
            parts[-1][1].append((f.en if lang == "en" else f.zh, f.shown(data[f.key], lang)))
    known = {f.key for f in fields}
    extra = [
        (k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in data.items() if k not in known
    ]
    leftover = sorted((k, v) for k, v in extra if v not in ("", "null", "[]"))
    if leftover:
        parts.append(("", leftover))
    return [(title, rows) for title, rows in parts if rows]


def form_version(label: str) -> FormVersion:
    """The form a programme definition names (its `form = "code@version"`)."""
    try:
        return FORMS[label]
    except KeyError:
        raise LookupError(f"no form version '{label}'; known: {', '.join(sorted(FORMS))}") from None
