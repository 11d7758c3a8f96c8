"""Input no document or database can hold is refused whole, naming the field (issue 10 items 5, 6 and 7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from applications import authorisers
from storage import sealed
from tests import factories
from tests.support.api import bearer, problem
from tests.support.authorisers import NUMBER, PERSON, audit_events, authoriser_rows, credit_letter_url
from tests.support.pages import log_in
from workflow.db import db
from workflow.models import Application

CONTROL = ["\u0001", "\u000b", "\u0000"]


def _raw(client: Any, method: str, url: str, body: str, headers: dict[str, str]) -> Any:
    """A JSON body as written, escapes and all (the test client would re-encode a Python object)."""
    return client.open(url, method=method, data=body, headers={**headers, "Content-Type": "application/json"})


def _form(app_id: int) -> dict[str, Any]:
    with db.transaction() as session:
        row = session.get(Application, app_id)
        assert row is not None
        return dict(row.form)


# --- item 5: half-written records ---------------------------------------------------------------------------------


@pytest.mark.parametrize("char", CONTROL, ids=["U+0001", "U+000B", "NUL"])
def test_a_control_character_in_the_authorisers_name_is_refused_and_nothing_is_kept(client, cast, char):
    """The probe: the row and its audit event were committed, then the .docx render and every later GET gave 500."""
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    refused = client.post(credit_letter_url(app_id), json={**PERSON, "person_name": f"张{char}伟"}, headers=headers)
    body = problem(refused, 422, "invalid_input")
    assert [e["field"] for e in body["errors"]] == ["person_name"]
    assert authoriser_rows(app_id) == [] and not [e for e in audit_events(app_id) if e.outcome == "authoriser_set"]
    assert client.get(credit_letter_url(app_id), headers=headers).status_code == 404  # not 500: nothing half-written
    assert client.post(credit_letter_url(app_id), json=PERSON, headers=headers).status_code == 200


def test_the_letter_is_rendered_before_the_commit(app, cast):
    """Should a value no document can hold reach the operation by another road, the render fails inside the
    transaction, and neither the row nor its event remains."""
    app_id = factories.new_application(cast)
    with pytest.raises(ValueError, match="XML compatible"):
        authorisers.record(
            cast.applicant,
            app_id,
            person_name="张\u0001伟",
            id_card=NUMBER,
            role="法人代表",
            sealer=sealed.sealer(app.config["FIELD_ENCRYPTION_KEYS"]),
        )
    assert authoriser_rows(app_id) == [] and not [e for e in audit_events(app_id) if e.outcome == "authoriser_set"]


def test_a_page_form_with_a_control_character_is_refused_naming_the_field(app, cast):
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant)
    answer = browser.post(
        f"/applications/{app_id}/documents/credit-authorisation",
        data={**PERSON, "person_name": "张\u000b伟"},
    )
    assert answer.status_code == 422 and "person_name" in answer.text and "U+000B" in answer.text
    assert authoriser_rows(app_id) == []


@pytest.mark.parametrize("char", CONTROL, ids=["U+0001", "U+000B", "NUL"])
def test_a_control_character_in_a_transition_comment_is_refused(client, cast, char):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    answer = client.post(
        f"/api/v1/applications/{app_id}/transitions",
        json={"trigger": "return_for_correction", "comment": f"请补充{char}盖章页"},
        headers=bearer(client, cast.district_reviewer),
    )
    assert [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]] == ["comment"]
    assert factories.state_of(app_id)[0] == "district_review"


# --- item 6: unbounded input --------------------------------------------------------------------------------------


def test_five_thousand_unknown_form_keys_are_refused_and_stored_nowhere(client, cast):
    """The probe: 5,000 unknown keys (5 MB) were accepted, and stored twice, once in the immutable audit chain."""
    app_id = factories.new_application(cast)
    before, events_before = _form(app_id), len(audit_events(app_id))
    junk = {f"junk_{n}": "x" * 900 for n in range(5000)}
    answer = client.patch(
        f"/api/v1/applications/{app_id}",
        json={"form": junk},
        headers={**bearer(client, cast.applicant), "If-Match": str(factories.state_of(app_id)[1])},
    )
    assert answer.status_code in (413, 422)
    small = {"junk_1": "x", "nature": "民营", "junk_2": "y"}
    named = client.patch(
        f"/api/v1/applications/{app_id}",
        json={"form": small},
        headers={**bearer(client, cast.applicant), "If-Match": str(factories.state_of(app_id)[1])},
    )
    errors = problem(named, 422, "invalid_input")["errors"]
    assert [e["field"] for e in errors] == ["form.junk_1", "form.junk_2"]
    assert {e["code"] for e in errors} == {"unknown_field"}
    assert _form(app_id) == before and len(audit_events(app_id)) == events_before + 1  # the refusal, as a denial
    assert [e.outcome for e in audit_events(app_id)][-1] == "denied"


def test_unknown_keys_are_refused_when_an_application_is_created(client, cast):
    answer = client.post(
        "/api/v1/applications",
        json={"programme": "emc-acceptance", "kind": "enterprise", "project_name": "项目", "form": {"evil": 1}},
        headers=bearer(client, cast.applicant),
    )
    assert [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]] == ["form.evil"]


def _patch_form_raw(client: Any, cast: Any, app_id: int, form_json: str) -> Any:
    headers = {**bearer(client, cast.applicant), "If-Match": str(factories.state_of(app_id)[1])}
    return _raw(client, "PATCH", f"/api/v1/applications/{app_id}", '{"form": ' + form_json + "}", headers)


@pytest.mark.parametrize("depth", [950, 25])
def test_a_deep_array_is_refused(client, cast, depth):
    """The probe: a 950-deep array was accepted."""
    app_id = factories.new_application(cast)
    before = _form(app_id)
    answer = _patch_form_raw(client, cast, app_id, '{"nature": ' + "[" * depth + "]" * depth + "}")
    error = problem(answer, 422, "invalid_input")["errors"][0]
    assert error["code"] == "too_deep" and (error["field"] == "body" or error["field"].startswith("form.nature"))
    assert _form(app_id) == before


def test_a_field_and_a_body_have_size_limits(client, cast):
    app_id = factories.new_application(cast)
    headers = {**bearer(client, cast.applicant), "If-Match": "1"}
    long = client.patch(f"/api/v1/applications/{app_id}", json={"form": {"nature": "长" * 20001}}, headers=headers)
    error = problem(long, 422, "invalid_input")["errors"][0]
    assert (error["field"], error["code"]) == ("form.nature", "too_long") and "20000" in error["message"]
    big = client.patch(
        f"/api/v1/applications/{app_id}", json={"form": {f"k{n}": "x" * 1000 for n in range(1100)}}, headers=headers
    )
    assert problem(big, 413, "payload_too_large")["errors"][0]["field"] == "body"


# --- item 7: 500 where 422 belongs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_name", "code"),
    [(r'"\ud800 项目"', "illegal_character"), (r'"项目\u0000"', "illegal_character")],
    ids=["lone-surrogate", "NUL"],
)
def test_a_lone_surrogate_or_nul_in_any_string_is_422_naming_the_field(client, cast, raw_name, code):
    body = '{"programme": "emc-acceptance", "kind": "enterprise", "project_name": ' + raw_name + "}"
    answer = _raw(client, "POST", "/api/v1/applications", body, bearer(client, cast.applicant))
    error = problem(answer, 422, "invalid_input")["errors"][0]
    assert (error["field"], error["code"]) == ("project_name", code)


def test_1e400_is_422_and_never_stored_as_infinity(client, cast):
    """On SQLite, 1e400 was stored, and the detail JSON then carried a bare -Infinity (invalid JSON)."""
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    answer = _patch_form_raw(client, cast, app_id, '{"nature": -1e400}')
    error = problem(answer, 422, "invalid_input")["errors"][0]
    assert (error["field"], error["code"]) == ("form.nature", "not_finite")
    detail = client.get(f"/api/v1/applications/{app_id}", headers=headers)
    json.loads(detail.get_data(as_text=True), parse_constant=lambda c: pytest.fail(f"{c} in the detail JSON"))


def test_nul_in_a_query_string_is_422_not_500(client, cast):
    answer = client.get("/api/v1/applications?state=%00", headers=bearer(client, cast.applicant))
    assert [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]] == ["state"]
    browser = log_in(factories.flask_app(), cast.applicant)
    assert browser.get("/applications?state=%00").status_code == 422


def test_ordinary_text_with_tabs_and_line_breaks_is_kept(client, cast):
    app_id = factories.new_application(cast)
    text = "第一行\n第二行\t制表\r\n"
    answer = client.patch(
        f"/api/v1/applications/{app_id}",
        json={"form": {"nature": text}},
        headers={**bearer(client, cast.applicant), "If-Match": "1"},
    )
    assert answer.status_code == 200 and _form(app_id)["nature"] == text
    with db.transaction() as session:
        assert session.scalar(select(Application.version).where(Application.id == app_id)) == 2
