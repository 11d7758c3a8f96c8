"""The form as JSON Schema, served by the API; and the form guard refusing `submit` through fire()."""

from __future__ import annotations

import copy
import datetime as dt

import jsonschema
import pytest

from forms.conditions import add_months
from forms.fields import EMC_FORM_V2, MONITORING_FORM_V2
from forms.samples import sample_form
from forms.schema import json_schema
from tests import factories
from workflow import operations, workdays
from workflow.db import db, utcnow
from workflow.definitions import parse, shipped
from workflow.engine import fire
from workflow.errors import GuardFailed

CASES = [
    ("emc-acceptance", EMC_FORM_V2, "enterprise"),
    ("emc-acceptance", EMC_FORM_V2, "data_centre"),
    ("emc-acceptance", EMC_FORM_V2, "park"),
    ("monitoring-fund", MONITORING_FORM_V2, "enterprise"),
]


@pytest.mark.parametrize("programme,form,kind", CASES)
def test_schema_is_valid_and_accepts_the_sample_form(programme, form, kind):
    schema = json_schema(form, kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(sample_form(programme, kind), schema, format_checker=jsonschema.FormatChecker())


def test_schema_fields_follow_the_applicant_kind():
    park = json_schema(EMC_FORM_V2, "park")["properties"]
    enterprise = json_schema(EMC_FORM_V2, "enterprise")["properties"]
    assert "park_total_energy_tce" in park and "park_total_energy_tce" not in enterprise
    assert "dc_platform_connected" in json_schema(EMC_FORM_V2, "data_centre")["required"]
    typed_ratio = {**sample_form("emc-acceptance", "enterprise"), "tier1_access_ratio": 1}
    with pytest.raises(jsonschema.ValidationError, match="tier1_access_ratio"):  # ratios are computed, not typed
        jsonschema.validate(typed_ratio, json_schema(EMC_FORM_V2, "enterprise"))


def _token(client, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": factories.PASSWORD})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_form_schema_endpoint(client, cast):
    headers = _token(client, cast.applicant)
    ok = client.get("/api/v1/programmes/emc-acceptance/form-schema?kind=park", headers=headers)
    assert ok.status_code == 200
    assert "park_large_enterprises" in ok.get_json()["properties"]
    wrong_kind = client.get("/api/v1/programmes/monitoring-fund/form-schema?kind=park", headers=headers)
    assert wrong_kind.status_code == 422
    assert wrong_kind.get_json()["errors"][0]["field"] == "kind"
    assert client.get("/api/v1/programmes/nope/form-schema?kind=park", headers=headers).status_code == 404
    assert client.get("/api/v1/programmes/emc-acceptance/form-schema?kind=park").status_code == 401


def _publish_guarded_v2() -> None:
    """A newer emc-acceptance whose submit and resubmit name the form guard alone (no attachments needed)."""
    newest = max((d for d in shipped() if d.code == "emc-acceptance"), key=lambda d: d.version)
    raw = copy.deepcopy(newest.raw)
    raw["version"] = newest.version + 1
    for t in raw["transitions"]:
        if t["trigger"] in ("submit", "resubmit"):
            t["guards"] = ["application_form_complete"]
    with db.transaction() as session:
        operations.publish(session, parse(raw))


def test_the_form_guard_refuses_submit_with_every_field_problem_and_passes_a_complete_form(cast):
    _publish_guarded_v2()
    incomplete = operations.create_application(cast.applicant, "emc-acceptance", "data_centre", "未填完的申报", {}).id
    with pytest.raises(GuardFailed) as refused:
        fire(incomplete, "submit", cast.applicant)
    fields = {p.field for p in refused.value.problems}
    assert {"uscc", "tier1_points", "dc_platform_connected"} <= fields
    assert factories.state_of(incomplete)[0] == "draft"

    complete = operations.create_application(
        cast.applicant,
        "emc-acceptance",
        "data_centre",
        "数据中心能源管理中心",
        sample_form("emc-acceptance", "data_centre"),
    )
    assert fire(complete.id, "submit", cast.applicant).state == "district_review"


def test_submit_counts_six_months_of_running_to_the_day_of_submission_in_shanghai(cast):
    """Seed 002 §四(一)(3) "稳定运行6个月以上": completed six calendar months ago to the day, submit passes the form
    guard; a day later than that, it is refused naming completion_date (the shipped programme, through fire())."""
    today = workdays.today_in_shanghai(utcnow())
    six_months_ago = add_months(today, -6)
    refused = factories.new_application(cast)
    late = (six_months_ago + dt.timedelta(days=1)).isoformat()
    operations.update_draft(cast.applicant, refused, {"completion_date": late}, None)
    with pytest.raises(GuardFailed) as excinfo:
        fire(refused, "submit", cast.applicant)
    assert [(p.field, p.code) for p in excinfo.value.problems] == [("completion_date", "running_under_six_months")]
    accepted = factories.new_application(cast)
    operations.update_draft(cast.applicant, accepted, {"completion_date": six_months_ago.isoformat()}, None)
    assert fire(accepted, "submit", cast.applicant).state == "district_review"


def test_the_schema_offers_the_choices_with_their_labels():
    schema = json_schema(EMC_FORM_V2, "enterprise")["properties"]
    assert schema["investment_mode"]["enum"] == ["self_built", "third_party"]
    assert schema["energy_types"]["items"]["enum"][0] == "electricity"
    assert schema["energy_types"]["x-choices"]["heat"]["zh"] == "热力（蒸汽、热水）"
    assert schema["saving_rate_pct"]["maximum"] == 100
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"energy_types": ["coal", "coal"]}, json_schema(EMC_FORM_V2, "enterprise"))


def _pin_to_version(application_id: int, code: str, version: int) -> None:
    """Pin a draft to an older published version, as one opened before the newer version shipped would be."""
    from sqlalchemy import select

    from workflow.models import Application, ProgrammeVersion

    with db.transaction() as session:
        app = session.get(Application, application_id)
        assert app is not None
        app.programme_version_id = session.scalars(
            select(ProgrammeVersion.id).where(ProgrammeVersion.code == code, ProgrammeVersion.version == version)
        ).one()


def test_an_application_in_flight_on_version_1_keeps_form_1_and_its_rules(cast):
    """Form @2's new fields and conditions bind only applications pinned to @2; one on v1 submits on @1's rules."""
    from forms.fields import EMC_FORM_V1

    legacy = operations.create_application(
        cast.applicant,
        "emc-acceptance",
        "enterprise",
        "能源管理中心建设项目",
        {
            **sample_form("emc-acceptance", "enterprise", EMC_FORM_V1.label),
            "district": cast.org.district,
            "completion_date": workdays.today_in_shanghai(utcnow()).isoformat(),  # @2 would refuse: six months
            "tier3_points": 0,  # @2 would refuse: zero is not compliance
            "tier3_connected": 0,
        },
    ).id
    _pin_to_version(legacy, "emc-acceptance", 1)
    factories.attach_required(factories.flask_app(), cast, legacy)
    assert factories.definition_of(legacy).form == "emc-acceptance-form@1"
    assert fire(legacy, "submit", cast.applicant).state == "district_review"

    current = operations.create_application(
        cast.applicant,
        "emc-acceptance",
        "enterprise",
        "能源管理中心建设项目",
        sample_form("emc-acceptance", "enterprise", EMC_FORM_V1.label),
    ).id
    with pytest.raises(GuardFailed) as refused:
        fire(current, "submit", cast.applicant)
    assert {"investment_mode", "energy_types", "conforms_gbt_40063"} <= {p.field for p in refused.value.problems}
