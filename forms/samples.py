"""Complete, valid forms for each programme and applicant kind: the demo's data and the tests' starting point."""

from __future__ import annotations

from typing import Any

NARRATIVE = {
    "management_system": "设立能源管理科，配备专职能源管理负责人，建立能源管理制度和绩效考核制度。",
    "metering_system": "按GB 17167配备计量器具，定期检定校准；电、气、热全品种计量并实时采集。",
    "online_monitoring": "一级、二级、三级表具数据实时采集上传，在线监测率满足要求。",
    "software_platform": "平台具备能源统计、分析、看板展示、能效对标和异常报警功能。",
    "system_application": "系统运行以来综合节能率达到6.2%，年节约标准煤约300吨。",
    "innovation": "引入负荷预测与空压站群控。",
    "report_profile": "第一章 用能单位基本概况（略）。",
    "report_project": "第二章 项目基本情况（略）。",
    "report_status": "第三章 能源管理现状（略）。",
    "report_construction": "第四章 建设方案（略）。",
    "report_effects": "第五章 系统应用效果（略）。",
    "report_next_steps": "第六章 下一步计划（略）。",
}

_COMMON = {
    "legal_representative": "张伟",
    "nature": "有限责任公司",
    "industry": "通用设备制造业",
    "address": "上海市闵行区剑川路1000号",
    "district": "闵行区",
    "contact_person": "李娜",
    "contact_phone": "13812345678",
    "start_date": "2025-01-10",
    "completion_date": "2025-06-30",
    "annual_output_value_wan": "52000.00",
    "total_investment_wan": "180.00",
    "investment_construction_wan": "40.00",
    "investment_equipment_wan": "90.00",
    "investment_software_wan": "45.50",
    "investment_other_wan": "4.50",
    "tier1_points": 4,
    "tier1_connected": 4,
    "tier2_points": 40,
    "tier2_connected": 39,
    "tier3_points": 200,
    "tier3_connected": 170,
    "competent_authority": "闵行区经济委员会",
    **NARRATIVE,
}

# What form @2 adds (seed 002 §三, §四): the investor, the energy types, the standard, the effects claimed.
_V2 = {
    "investment_mode": "self_built",
    "energy_types": ["electricity", "natural_gas", "water"],
    "saving_rate_pct": "6.20",
}

EMC_SAMPLES: dict[str, dict[str, Any]] = {
    "enterprise": {**_COMMON, **_V2, "unit_name": "上海申闵精密制造有限公司", "uscc": "91110108551385082Q",
                   "last_year_energy_tce": "5200.5", "conforms_gbt_40063": True,
                   "unit_consumption_before": "0.352", "unit_consumption_after": "0.331",
                   "unit_consumption_unit": "tce/t", "fault_count_before": 12, "fault_count_after": 7},
    "data_centre": {**_COMMON, **_V2, "unit_name": "上海浦江云数据中心有限公司", "uscc": "91440300708461136T",
                    "industry": "互联网数据服务", "last_year_energy_tce": "26000", "dc_platform_connected": True,
                    "conforms_gbt_40063": True, "saving_rate_pct": "5.50", "pue_before": "1.58",
                    "pue_after": "1.42"},
    "park": {**_COMMON, **_V2, "unit_name": "上海紫竹低碳产业园发展有限公司", "uscc": "91110108551385082Q",
             "industry": "园区管理服务", "last_year_energy_tce": "1200", "park_large_enterprises": 12,
             "park_large_connected": 8, "park_connected_energy_tce": "61000", "park_total_energy_tce": "98000",
             "member_tier1_points": 36, "member_tier1_connected": 36, "conforms_db31_1141": True,
             "saving_rate_pct": "5.80", "park_energy_per_value_before": "0.125",
             "park_energy_per_value_after": "0.118", "park_abnormal_warning": True},
}  # fmt: skip

MONITORING_SAMPLES: dict[str, dict[str, Any]] = {
    kind: {
        "unit_name": name,
        "uscc": "91110108551385082Q",
        "district": "浦东新区",
        "address": "上海市浦东新区张江路1号",
        "contact_person": "王芳",
        "contact_phone": "021-64220000",
        "key_unit_list_year": 2021,
        "last_year_energy_tce": "8300",
        "tier1_points": 3,
        "tier1_retrofitted": 3,
        "tier1_connected": 3,
        "tier2_points": 24,
        "tier2_connected": 20,
        "upload_started_on": "2022-07-01",
        "retrofit_investment_wan": "36.80",
        "retrofit_description": "完成3块关口电表智能化改造，一、二级数据实时上传市能耗在线监测系统。",
    }
    for kind, name in (("enterprise", "上海张江制药有限公司"), ("data_centre", "上海临港算力数据中心有限公司"))
}


def sample_form(programme: str, kind: str, form: str | None = None) -> dict[str, Any]:
    """A fresh copy of a valid, complete form of the newest version; with `form` ("code@N"), only that version's
    fields (an older version's form, for applications pinned to it)."""
    samples = EMC_SAMPLES if programme == "emc-acceptance" else MONITORING_SAMPLES
    data = {k: (list(v) if isinstance(v, list) else v) for k, v in samples[kind].items()}
    if form is None:
        return data
    from forms.fields import form_version

    keys = {f.key for f in form_version(form).fields_for(kind)}
    return {k: v for k, v in data.items() if k in keys}
