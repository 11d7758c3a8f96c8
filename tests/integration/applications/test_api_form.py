"""The application form through the API: a draft keeps what was typed and is told at once what the rules say."""

from __future__ import annotations

from applications.attachments import required_categories
from forms.samples import sample_form
from tests import factories
from tests.support.api import bearer
from tests.support.uploads import upload
from workflow import operations


def test_a_bad_value_is_kept_in_the_draft_and_reported_with_its_field(client, cast):
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    response = client.patch(
        f"/api/v1/applications/{app_id}",
        json={"form": {"contact_phone": "12345", "tier2_connected": 30}},
        headers={**headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["form"]["contact_phone"] == "12345"  # nothing typed is lost
    problems = {(p["field"], p["code"]) for p in body["form_problems"]}
    assert problems == {("contact_phone", "invalid_phone"), ("tier2_connected", "access_ratio_too_low")}
    assert body["computed"]["tier2_access_ratio"] == "0.7500"
    english = client.get(f"/api/v1/applications/{app_id}?lang=en", headers=headers).get_json()
    assert any("below the required 95.00%" in p["message"] for p in english["form_problems"])


def test_submit_through_the_api_is_refused_naming_every_field_the_rules_want(client, cast):
    draft = operations.create_application(cast.applicant, "emc-acceptance", "park", "园区项目", {"district": "闵行区"})
    headers = bearer(client, cast.applicant)
    refused = client.post(f"/api/v1/applications/{draft.id}/transitions", json={"trigger": "submit"}, headers=headers)
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.get_json()["errors"] if e["code"] == "required"}
    assert {"uscc", "park_large_enterprises", "park_total_energy_tce", "report_profile"} <= fields

    headers_v = {**headers, "If-Match": '"1"'}
    form = sample_form("emc-acceptance", "park")
    client.patch(f"/api/v1/applications/{draft.id}", json={"form": form}, headers=headers_v)
    for category in required_categories(
        factories.newest_definition("emc-acceptance"), "park", form
    ):  # the documents, through the API too
        assert upload(client, headers, draft.id, category, factories.SAMPLE_PDF, "扫描件.pdf").status_code == 201
    ok = client.post(f"/api/v1/applications/{draft.id}/transitions", json={"trigger": "submit"}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["state"] == "district_review"
