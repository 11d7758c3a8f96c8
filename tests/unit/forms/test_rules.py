"""Every rule of the application forms: it refuses with its field and code, and accepts its boundary."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forms.fields import EMC_FORM_V1, EMC_FORM_V2, FORMS, MONITORING_FORM_V2
from forms.rules import computed, validate
from forms.samples import sample_form

EMC_KINDS = ("enterprise", "data_centre", "park")


def emc(kind: str = "enterprise", **changes):  # type: ignore[no-untyped-def]
    return {**sample_form("emc-acceptance", kind), **changes}


def codes(form, kind, data, complete=True):  # type: ignore[no-untyped-def]
    return {(p.field, p.code) for p in validate(form, kind, data, complete=complete)}


@pytest.mark.parametrize(
    "programme,kinds", [("emc-acceptance", EMC_KINDS), ("monitoring-fund", ("enterprise", "data_centre"))]
)
def test_the_sample_forms_pass_every_rule(programme, kinds):
    form = EMC_FORM_V2 if programme == "emc-acceptance" else MONITORING_FORM_V2
    for kind in kinds:
        assert validate(form, kind, sample_form(programme, kind), complete=True) == []


def test_a_draft_may_be_incomplete_but_submitting_needs_every_required_field():
    draft = {"unit_name": "某企业", "district": "闵行区"}
    assert validate(EMC_FORM_V2, "enterprise", draft, complete=False) == []
    missing = {p.field for p in validate(EMC_FORM_V2, "enterprise", draft, complete=True) if p.code == "required"}
    assert {"uscc", "contact_phone", "tier1_points", "report_profile"} <= missing
    assert "innovation" not in missing  # optional
    assert "dc_platform_connected" not in missing  # not asked of an enterprise


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("uscc", "91110108551385082X", "invalid_uscc"),
        ("uscc", "9111010855138508", "invalid_uscc"),
        ("contact_phone", "1381234567", "invalid_phone"),
        ("contact_phone", "12345678901", "invalid_phone"),
        ("start_date", "2025-02-30", "invalid_date"),
        ("total_investment_wan", "-1", "negative"),
        ("investment_other_wan", "4.505", "too_precise"),
        ("annual_output_value_wan", "lots", "not_a_number"),
        ("tier1_points", 2.5, "not_an_integer"),
        ("district", "上海区", "invalid_district"),
        ("unit_name", "名" * 201, "too_long"),
        ("unit_name", 42, "not_text"),
        ("no_such_field", "x", "unknown_field"),
        ("dc_platform_connected", True, "not_for_kind"),
    ],
)
def test_each_field_rule_names_its_field_and_code(field, value, code):
    assert (field, code) in codes(EMC_FORM_V2, "enterprise", emc(**{field: value}))


@pytest.mark.parametrize("phone", ["13812345678", "021-64220000", "02164220000", "64220000", "021-64220000-2478"])
def test_mobile_and_landline_numbers_are_accepted(phone):
    assert validate(EMC_FORM_V2, "enterprise", emc(contact_phone=phone), complete=True) == []


def test_completion_before_start_is_refused_and_the_same_day_accepted():
    assert ("completion_date", "before_start") in codes(
        EMC_FORM_V2, "enterprise", emc(start_date="2025-06-30", completion_date="2025-06-29")
    )
    same_day = emc(start_date="2025-06-30", completion_date="2025-06-30")
    assert validate(EMC_FORM_V2, "enterprise", same_day, complete=True) == []


cents = st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n) / 100)


@given(parts=st.lists(cents, min_size=4, max_size=4), off_by_cents=st.integers(-300, 300))
def test_investment_parts_must_sum_to_the_total_to_the_cent(parts, off_by_cents):
    total = sum(parts, Decimal(0)) + Decimal(off_by_cents) / 100
    if total < 0:
        return
    data = emc(
        total_investment_wan=str(total),
        investment_construction_wan=str(parts[0]),
        investment_equipment_wan=str(parts[1]),
        investment_software_wan=str(parts[2]),
        investment_other_wan=str(parts[3]),
    )
    refused = ("total_investment_wan", "parts_do_not_sum") in codes(EMC_FORM_V2, "enterprise", data)
    assert refused == (off_by_cents != 0)


@pytest.mark.parametrize("kind", ["enterprise", "data_centre"])
@pytest.mark.parametrize("tce,ok", [("1999.99", False), ("1999.9999", False), ("2000", True), ("2000.00", True)])
def test_energy_threshold_2000_tce_inclusive(kind, tce, ok):
    form = emc(kind, last_year_energy_tce=tce)
    refused = ("last_year_energy_tce", "below_threshold") in codes(EMC_FORM_V2, kind, form)
    assert refused != ok


def test_a_park_has_no_own_energy_threshold():
    assert validate(EMC_FORM_V2, "park", emc("park", last_year_energy_tce="10"), complete=True) == []


@given(points=st.integers(1, 5000), data=st.data())
def test_access_ratio_thresholds_100_95_80_percent(points, data):
    minimum = {"tier1": Decimal(1), "tier2": Decimal("0.95"), "tier3": Decimal("0.80")}
    tier = data.draw(st.sampled_from(sorted(minimum)))
    connected = data.draw(st.integers(0, points))
    form = emc(**{f"{tier}_points": points, f"{tier}_connected": connected})
    refused = (f"{tier}_connected", "access_ratio_too_low") in codes(EMC_FORM_V2, "enterprise", form)
    assert refused == (Decimal(connected) / Decimal(points) < minimum[tier])


def test_access_ratio_boundaries_exactly():
    assert validate(EMC_FORM_V2, "enterprise", emc(tier2_points=20, tier2_connected=19), complete=True) == []  # 95 %
    assert ("tier2_connected", "access_ratio_too_low") in codes(
        EMC_FORM_V2, "enterprise", emc(tier2_points=2000, tier2_connected=1899)
    )  # 94.95 %
    assert validate(EMC_FORM_V2, "enterprise", emc(tier3_points=5, tier3_connected=4), complete=True) == []  # 80 %
    assert ("tier1_connected", "access_ratio_too_low") in codes(
        EMC_FORM_V2, "enterprise", emc(tier1_points=4, tier1_connected=3)
    )


def test_connected_cannot_exceed_points_and_a_unit_needs_a_gateway_meter():
    assert ("tier3_connected", "exceeds_points") in codes(EMC_FORM_V2, "enterprise", emc(tier3_connected=201))
    assert ("tier1_points", "no_gateway_meters") in codes(
        EMC_FORM_V2, "enterprise", emc(tier1_points=0, tier1_connected=0)
    )
    # Form @1 let a tier with no points pass (0 of 0); @2 refuses it (zero is not compliance).
    legacy = {**sample_form("emc-acceptance", "enterprise", EMC_FORM_V1.label), "tier3_points": 0, "tier3_connected": 0}
    assert validate(EMC_FORM_V1, "enterprise", legacy, complete=True) == []
    assert ("tier3_points", "no_points") in codes(EMC_FORM_V2, "enterprise", emc(tier3_points=0, tier3_connected=0))


def test_a_data_centre_must_be_connected_to_the_municipal_platform():
    assert ("dc_platform_connected", "platform_not_connected") in codes(
        EMC_FORM_V2, "data_centre", emc("data_centre", dc_platform_connected=False)
    )
    assert ("dc_platform_connected", "required") in codes(
        EMC_FORM_V2, "data_centre", {k: v for k, v in emc("data_centre").items() if k != "dc_platform_connected"}
    )


@pytest.mark.parametrize(
    "changes,code",
    [
        ({"park_large_enterprises": 10, "park_large_connected": 4}, "park_connected_share_too_low"),
        ({"park_connected_energy_tce": "48999.99", "park_total_energy_tce": "98000"}, "park_energy_share_too_low"),
        ({"park_large_enterprises": 10, "park_large_connected": 11}, "exceeds_points"),
    ],
)
def test_park_coverage_rules(changes, code):
    assert code in {c for _, c in codes(EMC_FORM_V2, "park", emc("park", **changes))}


def test_park_coverage_boundaries_at_fifty_percent_are_accepted():
    at_half = emc("park", park_large_enterprises=10, park_large_connected=5,
                  park_connected_energy_tce="49000", park_total_energy_tce="98000")  # fmt: skip
    assert validate(EMC_FORM_V2, "park", at_half, complete=True) == []


def test_eligibility_failures_explain_the_rule_and_the_numbers():
    problems = validate(EMC_FORM_V2, "enterprise", emc(tier2_points=40, tier2_connected=37), complete=True)
    (message,) = [p.message for p in problems if p.code == "access_ratio_too_low"]
    assert "92.50%" in message and "37/40" in message and "95.00%" in message
    english = validate(EMC_FORM_V2, "enterprise", emc(last_year_energy_tce="1500"), complete=True, lang="en")
    assert "at least 2000 tce" in english[0].message and "1500" in english[0].message


def test_ratios_are_computed_from_the_counts():
    result = computed(EMC_FORM_V2, "park", emc("park", tier2_points=3, tier2_connected=2))
    assert result["tier2_access_ratio"] == "0.6666"  # rounded down: a ratio is never flattered
    assert result["park_connected_share"] == "0.6666"
    assert computed(EMC_FORM_V2, "enterprise", {})["tier1_access_ratio"] is None


def test_monitoring_form_rules():
    form = {**sample_form("monitoring-fund", "enterprise"), "tier1_retrofitted": 4}
    assert ("tier1_retrofitted", "exceeds_points") in codes(MONITORING_FORM_V2, "enterprise", form)
    shipped = {"emc-acceptance-form@1", "monitoring-fund-form@1", "emc-acceptance-form@2", "monitoring-fund-form@2"}
    assert set(FORMS) == shipped
