"""The evidence checks by the names people read (issue 15 item 5): Chinese first, English under lang en. The codes
(ACCESS_RATIO_T1 …, /work/shared/EVIDENCE.md "Proposed evidence checks") stay the data's keys; pages and documents
show these names, the code at most as a data attribute or in small print. 接入率 is seed 002's word for the access
ratio, 配备率 GB 17167's for the equipment ratio."""

from __future__ import annotations

NAMES: dict[str, tuple[str, str]] = {
    "ACCESS_RATIO_T1": ("一级（关口）表接入率", "Tier-1 (gateway) access ratio"),
    "ACCESS_RATIO_T2": ("二级表接入率", "Tier-2 access ratio"),
    "ACCESS_RATIO_T3": ("三级表接入率", "Tier-3 access ratio"),
    "EQUIPMENT_RATIO": ("计量器具配备率（GB 17167）", "Equipment ratio (GB 17167)"),
    "COMPLETENESS": ("数据完整率", "Data completeness"),
    "ONLINE_DAYS": ("在线天数比例", "Days online"),
    "LONG_GAP": ("最长数据中断（小时）", "Longest gap (hours)"),
    "STABLE_RUN_6M": ("稳定运行天数（6个月）", "Days of stable running (6 months)"),
    "COUNTER_INTEGRITY": ("计数异常", "Counter faults"),
    "DAY_MONTH_CONSISTENCY": ("日数据与月数据一致性", "Daily against monthly"),
    "TIER_BALANCE": ("二级与一级计量平衡", "Tier-2 against tier-1"),
    "CALIBRATION_VALID": ("检定有效的表计比例", "Meters within calibration"),
    "ANNUAL_TCE": ("年综合能耗（吨标准煤）", "Annual energy use (tce)"),
    "SAVING_RATE": ("节能率", "Energy-saving rate"),
    "PUE_METERED": ("实测 PUE", "Metered PUE"),
    "PARK_COVERAGE": ("园区重点企业接入覆盖率", "Park enterprises connected"),
}


def name_of(code: str, lang: str = "zh") -> str:
    """The check's name in `lang` (zh or en); a code without a name stays as it is."""
    names = NAMES.get(code)
    if names is None:
        return code
    return names[1] if lang == "en" else names[0]
