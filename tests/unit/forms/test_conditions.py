"""The seed conditions of the @2 forms, each at its boundary with the seed's own numbers (seed 002 §三–§四, 000)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forms.conditions import add_months
from forms.fields import EMC_FORM_V1, EMC_FORM_V2, MONITORING_FORM_V1, MONITORING_FORM_V2
from forms.rules import validate
from forms.samples import sample_form

SOURCES = Path(__file__).parents[3] / "docs" / "sources"  # the seeds, copied so that CI has them
SEED_002 = (SOURCES / "seed-002-emc-acceptance.txt").read_text(encoding="utf-8")
SEED_000 = (SOURCES / "seed-000-metering-notice-2022.txt").read_text(encoding="utf-8")
TODAY = dt.date(2026, 12, 5)


def emc(kind: str = "enterprise", **changes):  # type: ignore[no-untyped-def]
    return {**sample_form("emc-acceptance", kind), **changes}


def monitoring(kind: str = "enterprise", **changes):  # type: ignore[no-untyped-def]
    return {**sample_form("monitoring-fund", kind), **changes}


def codes(data, kind="enterprise", form=EMC_FORM_V2, today=TODAY, complete=True):  # type: ignore[no-untyped-def]
    return {(p.field, p.code) for p in validate(form, kind, data, complete=complete, today=today)}


def messages(data, kind="enterprise", form=EMC_FORM_V2, lang="zh"):  # type: ignore[no-untyped-def]
    return " ".join(p.message for p in validate(form, kind, data, complete=True, lang=lang, today=TODAY))


def test_the_seed_says_what_these_tests_use():
    """The seeds' own words behind each number below (the texts are read from the seeds, not copied)."""
    for words in ("稳定运行6个月以上", "企业一级（关口）表具接入比例达到100％", "企业节能率达到5%（含）以上",
                  "申报单位为项目投资主体", "GB/T 40063-2021", "DB31/T 1141-2019", "一种或多种效果",
                  "年综合能耗不低于园区总能耗的50%"):  # fmt: skip
        assert words in SEED_002
    assert "年综合能耗超过5000吨标准煤的数据中心" in SEED_000


# --- seed 002 §四(一)(3) 稳定运行6个月以上 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "completion,ok",
    [("2026-06-05", True), ("2026-06-06", False), ("2026-06-04", True), ("2027-01-10", False)],
)
def test_six_calendar_months_of_running_before_the_day_of_submission(completion, ok):
    """Completed 2026-06-05, submitted 2026-12-05: six months exactly, accepted; a day later, refused."""
    found = ("completion_date", "running_under_six_months") in codes(
        emc(completion_date=completion, start_date="2025-01-01")
    )
    assert found is not ok


def test_the_running_time_refusal_says_from_when_it_may_be_submitted():
    said = messages(emc(completion_date="2026-06-06"))
    assert "稳定运行6个月以上" in said and "2026-12-06 起方可提交" in said


def test_month_ends_clamp_and_the_form_at_version_1_does_not_ask():
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)
    legacy = sample_form("emc-acceptance", "enterprise", EMC_FORM_V1.label)
    assert validate(EMC_FORM_V1, "enterprise", {**legacy, "completion_date": "2026-12-01"}, complete=True) == []


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_six_months_after_is_never_earlier_than_five_full_months(day):
    later = add_months(day, 6)
    assert later > day and (later - day).days >= 181 - 3 and later.day <= day.day


# --- zero is not compliance ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["tier2", "tier3"])
def test_a_tier_with_no_metering_points_is_not_one_hundred_percent(tier):
    found = codes(emc(**{f"{tier}_points": 0, f"{tier}_connected": 0}))
    assert (f"{tier}_points", "no_points") in found


def test_tier_one_needs_a_point_per_energy_type_declared():
    three = ["electricity", "natural_gas", "water"]
    assert ("tier1_points", "gateway_points_below_energy_types") in codes(
        emc(energy_types=three, tier1_points=2, tier1_connected=2)
    )
    assert codes(emc(energy_types=three, tier1_points=3, tier1_connected=3)) == set()
    said = messages(emc(energy_types=three, tier1_points=2, tier1_connected=2))
    assert "电力、燃气（天然气）、水" in said


def test_energy_types_must_be_known_and_not_repeated():
    assert ("energy_types", "invalid_choices") in codes(emc(energy_types=["electricity", "electricity"]))
    assert ("energy_types", "invalid_choices") in codes(emc(energy_types=["plutonium"]))
    assert ("energy_types", "required") in codes(emc(energy_types=[]))


def test_a_park_needs_at_least_one_enterprise_of_2000_tce():
    assert ("park_large_enterprises", "park_no_large_enterprise") in codes(
        emc("park", park_large_enterprises=0, park_large_connected=0), kind="park"
    )
    assert codes(emc("park", park_large_enterprises=1, park_large_connected=1), kind="park") == set()
    assert ("park_total_energy_tce", "not_positive") in codes(
        emc("park", park_total_energy_tce="0", park_connected_energy_tce="0"), kind="park"
    )


# --- seed 002 §四(三)(2) 企业一级（关口）表具接入比例达到100％ ------------------------------------------------------


def test_member_enterprises_gateway_access_is_one_hundred_percent():
    assert codes(emc("park", member_tier1_points=36, member_tier1_connected=36), kind="park") == set()
    assert ("member_tier1_connected", "member_access_too_low") in codes(
        emc("park", member_tier1_points=36, member_tier1_connected=35), kind="park"
    )
    assert ("member_tier1_connected", "exceeds_points") in codes(
        emc("park", member_tier1_points=36, member_tier1_connected=37), kind="park"
    )
    assert ("member_tier1_points", "member_no_points") in codes(
        emc("park", member_tier1_points=0, member_tier1_connected=0), kind="park"
    )
    said = messages(emc("park", member_tier1_points=36, member_tier1_connected=35), kind="park")
    assert "97.22%（35/36）低于要求的 100.00%" in said


# --- seed 002 §四(二)(4), §四(三)(4) 一种或多种效果 ------------------------------------------------------------------


NO_EFFECTS = {k: None for k in ("saving_rate_pct", "unit_consumption_before", "unit_consumption_after",
                                "unit_consumption_unit", "fault_count_before", "fault_count_after", "pue_before",
                                "pue_after")}  # fmt: skip


@pytest.mark.parametrize("rate,ok", [("5", True), ("5.00", True), ("4.99", False)])
def test_a_saving_rate_counts_from_five_percent_inclusive(rate, ok):
    found = codes(emc(**{**NO_EFFECTS, "saving_rate_pct": rate}))
    assert (("saving_rate_pct", "no_effect_claimed") in found) is not ok


def test_at_least_one_effect_is_claimed_and_the_refusal_lists_the_options():
    assert ("saving_rate_pct", "no_effect_claimed") in codes(emc(**NO_EFFECTS))
    said = messages(emc(**{**NO_EFFECTS, "saving_rate_pct": "4.99"}))
    assert "节能率 4.99% 未达到 5%（含）" in said and "用能设备安全故障次数" in said
    # Drafts are not asked for effects yet.
    assert ("saving_rate_pct", "no_effect_claimed") not in codes(emc(**NO_EFFECTS), complete=False)


@pytest.mark.parametrize(
    "kind,before,after",
    [
        ("enterprise", "unit_consumption_before", "unit_consumption_after"),
        ("enterprise", "fault_count_before", "fault_count_after"),
        ("data_centre", "pue_before", "pue_after"),
        ("data_centre", "fault_count_before", "fault_count_after"),
        ("park", "park_energy_per_value_before", "park_energy_per_value_after"),
        ("park", "park_carbon_per_value_before", "park_carbon_per_value_after"),
    ],
)
def test_a_falling_measure_is_an_effect_and_a_flat_one_is_not(kind, before, after):
    blank = {k: None for k in NO_EFFECTS | dict.fromkeys(
        ("park_energy_per_value_before", "park_energy_per_value_after", "park_carbon_per_value_before",
         "park_carbon_per_value_after", "park_abnormal_warning"))}  # fmt: skip
    blank = {k: v for k, v in blank.items() if any(f.key == k for f in EMC_FORM_V2.fields_for(kind))}
    unit = {"unit_consumption_unit": "tce/t"} if kind == "enterprise" else {}
    falling = emc(kind, **{**blank, **unit, before: "2", after: "1"})
    flat = emc(kind, **{**blank, **unit, before: "2", after: "2"})
    assert ("saving_rate_pct", "no_effect_claimed") not in codes(falling, kind=kind)
    assert ("saving_rate_pct", "no_effect_claimed") in codes(flat, kind=kind)
    assert (after, "effect_pair_incomplete") in codes(emc(kind, **{**blank, **unit, before: "2"}), kind=kind)


def test_a_park_with_an_abnormal_use_warning_has_an_effect():
    park = emc("park", saving_rate_pct=None, park_energy_per_value_before=None, park_energy_per_value_after=None)
    assert ("saving_rate_pct", "no_effect_claimed") in codes({**park, "park_abnormal_warning": False}, kind="park")
    assert codes({**park, "park_abnormal_warning": True}, kind="park") == set()


def test_a_pue_below_one_is_impossible_and_percentages_stop_at_100():
    assert ("pue_after", "pue_below_one") in codes(emc("data_centre", pue_after="0.98"), kind="data_centre")
    assert ("saving_rate_pct", "above_hundred") in codes(emc(saving_rate_pct="100.01"))
    assert ("unit_consumption_unit", "unit_missing") in codes(emc(unit_consumption_unit=None))


# --- seed 002 §三, §四(二)(3), §四(三)(3); the investment ------------------------------------------------------------


def test_a_third_party_investor_names_the_energy_using_unit():
    third = emc(investment_mode="third_party")
    assert {("energy_user_name", "required_for_third_party"), ("energy_user_uscc", "required_for_third_party")} <= (
        codes(third)
    )
    named = {**third, "energy_user_name": "上海申闵精密制造有限公司", "energy_user_uscc": "91440300708461136T"}
    assert codes(named) == set()
    assert ("energy_user_uscc", "same_as_applicant") in codes({**named, "energy_user_uscc": third["uscc"]})
    assert ("investment_mode", "invalid_choice") in codes(emc(investment_mode="borrowed"))


@pytest.mark.parametrize("kind,key", [("enterprise", "conforms_gbt_40063"), ("data_centre", "conforms_gbt_40063"),
                                      ("park", "conforms_db31_1141")])  # fmt: skip
def test_the_standard_of_each_kind_is_declared(kind, key):
    assert (key, "standard_not_declared") in codes(emc(kind, **{key: False}), kind=kind)
    other = "conforms_db31_1141" if key == "conforms_gbt_40063" else "conforms_gbt_40063"
    assert (other, "not_for_kind") in codes(emc(kind, **{other: True}), kind=kind)
    standard = "GB/T 40063-2021" if key == "conforms_gbt_40063" else "DB31/T 1141-2019"
    assert standard in messages(emc(kind, **{key: False}), kind=kind)


def test_total_investment_must_be_more_than_zero():
    zero = dict.fromkeys(("total_investment_wan", "investment_construction_wan", "investment_equipment_wan",
                          "investment_software_wan", "investment_other_wan"), "0")  # fmt: skip
    assert ("total_investment_wan", "not_positive") in codes(emc(**zero))
    assert ("total_investment_wan", "not_positive") not in codes(emc(**{**zero, "total_investment_wan": "0.01",
                                                                        "investment_other_wan": "0.01"}))  # fmt: skip


# --- seed 000 §二(一)(四): the monitoring fund ------------------------------------------------------------------


@pytest.mark.parametrize("tce,ok", [("5000", False), ("5000.0001", True), ("4999", False)])
def test_data_centres_qualify_above_5000_tce(tce, ok):
    found = codes(monitoring("data_centre", last_year_energy_tce=tce), kind="data_centre", form=MONITORING_FORM_V2)
    assert (("last_year_energy_tce", "data_centre_not_over") in found) is not ok


def test_an_enterprise_has_no_5000_tce_threshold_in_the_monitoring_fund():
    assert codes(monitoring(last_year_energy_tce="800"), form=MONITORING_FORM_V2) == set()


@pytest.mark.parametrize(
    "changes,field,code",
    [
        ({"key_unit_list_year": 1066}, "key_unit_list_year", "implausible_year"),
        ({"key_unit_list_year": 2027}, "key_unit_list_year", "implausible_year"),
        ({"key_unit_list_year": "二〇二一"}, "key_unit_list_year", "not_a_number"),
        ({"last_year_energy_tce": "0"}, "last_year_energy_tce", "not_positive"),
        ({"retrofit_investment_wan": "0"}, "retrofit_investment_wan", "not_positive"),
    ],
)
def test_impossible_monitoring_values_are_refused_with_field_and_code(changes, field, code):
    assert (field, code) in codes(monitoring(**changes), form=MONITORING_FORM_V2)


def test_the_monitoring_form_at_version_1_keeps_its_rules():
    legacy = sample_form("monitoring-fund", "data_centre", MONITORING_FORM_V1.label)
    assert validate(MONITORING_FORM_V1, "data_centre", {**legacy, "last_year_energy_tce": "10"}, complete=True) == []


def test_every_message_reads_in_chinese_and_in_english_on_request():
    bad = emc(uscc="91110108551385082X", saving_rate_pct="4", unit_consumption_before=None,
              unit_consumption_after=None, fault_count_before=None, fault_count_after=None)  # fmt: skip
    zh = messages(bad)
    assert "校验码应为" in zh and "check digit" not in zh
    assert "check digit" in messages(bad, lang="en")
