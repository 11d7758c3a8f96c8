"""The JSON API's commands and timeline: POST …/transitions and GET …/history."""

from __future__ import annotations

from typing import Any

import pytest

from applications.attachments import required_categories
from forms.samples import sample_form
from tests import factories
from tests.support.api import MISSING_ID, bearer, problem
from workflow.accounts import User


def transition(client: Any, user: User, app_id: int, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return client.post(
        f"/api/v1/applications/{app_id}/transitions", json=body, headers={**bearer(client, user), **(headers or {})}
    )


def history(client: Any, user: User, app_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/applications/{app_id}/history", headers=bearer(client, user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_submit_moves_the_application_on(client, cast):
    app_id = factories.new_application(cast)
    response = transition(client, cast.applicant, app_id, trigger="submit", expected_version=1)
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "application_id": app_id,
        "trigger": "submit",
        "from_state": "draft",
        "state": "district_review",
        "version": 2,
        "event_seq": body["event_seq"],
        "replayed": False,
    }
    assert response.headers["ETag"] == '"2"'
    assert "Idempotent-Replayed" not in response.headers
    assert factories.state_of(app_id) == ("district_review", 2)


def test_a_role_that_may_never_fire_the_trigger_is_403(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    body = problem(transition(client, cast.applicant, app_id, trigger="pass_prereview"), 403, "forbidden")
    assert "district_reviewer" in body["detail"]
    assert factories.state_of(app_id) == ("district_review", 2)


def test_an_application_the_caller_may_not_see_is_404_like_a_missing_one(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    unseen = transition(client, cast.other_district_reviewer, app_id, trigger="pass_prereview")
    missing = transition(client, cast.other_district_reviewer, MISSING_ID, trigger="pass_prereview")
    assert problem(unseen, 404, "not_found")["detail"] == f"application {app_id} not found"
    assert problem(missing, 404, "not_found")["detail"] == f"application {MISSING_ID} not found"
    assert factories.state_of(app_id) == ("district_review", 2)


def test_a_stale_expected_version_is_409_with_both_versions(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    response = transition(client, cast.district_reviewer, app_id, trigger="pass_prereview", expected_version=1)
    body = problem(response, 409, "stale_version")
    assert (body["expected_version"], body["current_version"]) == (1, 2)
    assert factories.state_of(app_id) == ("district_review", 2)


def test_a_trigger_not_allowed_in_this_state_is_409_with_state_and_allowed_triggers(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    body = problem(transition(client, cast.applicant, app_id, trigger="submit"), 409, "not_allowed_in_state")
    assert body["state"] == "district_review"
    assert body["allowed_triggers"] == ["withdraw"]
    assert "district_review" in body["detail"]


def test_a_failed_guard_is_422_naming_the_missing_comment(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    body = problem(transition(client, cast.district_reviewer, app_id, trigger="reject"), 422, "guard_failed")
    assert body["errors"] == [{"field": "comment", "code": "required", "message": "'comment' is required to reject"}]
    assert factories.state_of(app_id) == ("district_review", 2)


def test_the_comment_field_is_stored_in_the_payload(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    response = transition(
        client, cast.district_reviewer, app_id, trigger="return_for_correction", comment="请补充盖章页"
    )
    assert response.get_json()["state"] == "returned"
    returned = [e for e in history(client, cast.applicant, app_id) if e["trigger"] == "return_for_correction"]
    assert [e["payload"] for e in returned] == [{"comment": "请补充盖章页"}]


def test_a_payload_goes_to_the_guards(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    payload = factories.payload_for("request_supplement", app_id)
    response = transition(client, cast.municipal_reviewer, app_id, trigger="request_supplement", payload=payload)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "supplement_requested"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "trigger"),
        ({"trigger": "submit", "payload": ["x"]}, "payload"),
        ({"trigger": "submit", "expected_version": "1"}, "expected_version"),
        ({"trigger": "submit", "expected_version": True}, "expected_version"),
        ({"trigger": "submit", "comment": 5}, "comment"),
    ],
)
def test_a_malformed_command_is_422_naming_the_field(client, cast, body, field):
    app_id = factories.new_application(cast)
    response = transition(client, cast.applicant, app_id, **body)
    assert [e["field"] for e in problem(response, 422, "invalid_input")["errors"]] == [field]
    assert factories.state_of(app_id) == ("draft", 1)


def test_a_retry_with_the_same_idempotency_key_is_replayed_and_fires_once(client, cast):
    app_id = factories.new_application(cast)
    key = {"Idempotency-Key": "submit-7f3a"}
    first = transition(client, cast.applicant, app_id, key, trigger="submit", expected_version=1)
    again = transition(client, cast.applicant, app_id, key, trigger="submit", expected_version=1)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert {**first.get_json(), "replayed": True} == again.get_json()
    submits = [e for e in history(client, cast.applicant, app_id) if e["trigger"] == "submit"]
    assert [e["outcome"] for e in submits] == ["transition"]
    assert factories.state_of(app_id) == ("district_review", 2)


def test_the_same_idempotency_key_with_a_different_body_is_422(client, cast):
    app_id = factories.new_application(cast)
    key = {"Idempotency-Key": "once-only"}
    assert transition(client, cast.applicant, app_id, key, trigger="submit").status_code == 200
    response = transition(client, cast.applicant, app_id, key, trigger="withdraw")
    assert "once-only" in problem(response, 422, "idempotency_key_reused")["detail"]
    assert factories.state_of(app_id) == ("district_review", 2)


def test_an_overlong_idempotency_key_is_422(client, cast):
    app_id = factories.new_application(cast)
    response = transition(client, cast.applicant, app_id, {"Idempotency-Key": "k" * 201}, trigger="submit")
    assert [e["field"] for e in problem(response, 422, "invalid_input")["errors"]] == ["Idempotency-Key"]


# --- history --------------------------------------------------------------------------------------------------


def test_history_is_the_timeline_with_labels(client, cast):
    app_id = factories.new_application(cast)
    headers = {**bearer(client, cast.applicant), "If-Match": '"1"'}
    client.patch(f"/api/v1/applications/{app_id}", json={"form": {"contact_person": "王工"}}, headers=headers)
    transition(client, cast.applicant, app_id, trigger="submit")
    events = history(client, cast.applicant, app_id)
    uploads = [e for e in events if e["outcome"] == "attached"]  # the required attachments, before the edit
    assert [e["payload"]["category"] for e in uploads] == required_categories(
        factories.newest_definition("emc-acceptance"), "enterprise", sample_form("emc-acceptance", "enterprise")
    )
    assert [(e["outcome"], e["trigger"], e["from_state"], e["to_state"]) for e in events if e not in uploads] == [
        ("created", None, None, "draft"),
        ("edited", None, "draft", "draft"),
        ("transition", "submit", "draft", "district_review"),
    ]
    submitted = events[-1]
    assert submitted["actor"] == cast.applicant.username
    assert submitted["role"] == "applicant"
    assert submitted["trigger_label"] == {"zh": "提交申报", "en": "Submit"}
    assert submitted["from_state_label"] == {"zh": "草稿", "en": "Draft"}
    assert submitted["to_state_label"] == {"zh": "区主管部门初审中", "en": "District pre-review"}
    assert events[0]["from_state_label"] is None
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)


def test_refused_attempts_of_others_are_shown_to_authorities_not_to_the_applicant(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    # A reviewer's refused attempt (no comment) and the applicant's own (a reviewer's trigger).
    assert transition(client, cast.district_reviewer, app_id, trigger="reject").status_code == 422
    assert transition(client, cast.applicant, app_id, trigger="pass_prereview").status_code == 403

    def denied(user: User) -> list[tuple[str, str]]:
        return [(e["actor"], e["trigger"]) for e in history(client, user, app_id) if e["outcome"] == "denied"]

    both = [(cast.district_reviewer.username, "reject"), (cast.applicant.username, "pass_prereview")]
    assert denied(cast.district_reviewer) == both
    assert denied(cast.municipal_reviewer) == both
    assert denied(cast.auditor) == both
    assert denied(cast.applicant) == [(cast.applicant.username, "pass_prereview")]
    # The applicant still sees every change.
    assert [e["trigger"] for e in history(client, cast.applicant, app_id) if e["outcome"] == "transition"] == ["submit"]
