"""The JSON API: tokens, problems, programmes, and creating, listing, reading and editing applications."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests import factories
from tests.factories import PASSWORD
from tests.support.api import MISSING_ID, bearer, problem
from tests.support.statements import selects_during
from workflow.accounts import User


def create(client: Any, headers: dict[str, str], **overrides: Any) -> Any:
    body = {"programme": "emc-acceptance", "kind": "enterprise", "project_name": "能源管理中心建设项目"}
    return client.post("/api/v1/applications", json={**body, **overrides}, headers=headers)


# --- tokens ---------------------------------------------------------------------------------------------------


def test_token_is_issued_for_the_right_password_and_opens_the_api(client, cast, app):
    response = client.post("/api/v1/auth/token", json={"username": cast.applicant.username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    expires = dt.datetime.fromisoformat(body["expires_at"])
    lifetime = expires - dt.datetime.now(dt.UTC)
    assert (
        dt.timedelta(hours=app.config["TOKEN_TTL_HOURS"] - 1)
        < lifetime
        <= dt.timedelta(hours=app.config["TOKEN_TTL_HOURS"])
    )
    assert response.headers["Cache-Control"] == "no-store"
    listed = client.get("/api/v1/programmes", headers={"Authorization": f"Bearer {body['token']}"})
    assert listed.status_code == 200


def test_wrong_password_is_401_with_a_clear_detail(client, cast):
    response = client.post("/api/v1/auth/token", json={"username": cast.applicant.username, "password": "wrong"})
    body = problem(response, 401, "invalid_credentials")
    assert "wrong username or password" in body["detail"]
    assert "token" not in body


def test_unknown_user_and_deactivated_account_get_the_same_401(client):
    inactive = factories.make_user("auditor", active=False)
    unknown = client.post("/api/v1/auth/token", json={"username": "nobody-here", "password": PASSWORD})
    deactivated = client.post("/api/v1/auth/token", json={"username": inactive.username, "password": PASSWORD})
    assert (
        problem(unknown, 401, "invalid_credentials")["detail"]
        == problem(deactivated, 401, "invalid_credentials")["detail"]
    )


def test_token_request_without_fields_is_422_naming_them(client):
    body = problem(client.post("/api/v1/auth/token", json={"username": ""}), 422, "invalid_input")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {("username", "required"), ("password", "required")}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/programmes"),
        ("get", "/api/v1/applications"),
        ("post", "/api/v1/applications"),
        ("get", "/api/v1/applications/1"),
        ("post", "/api/v1/applications/1/transitions"),
        ("get", "/api/v1/applications/1/history"),
    ],
)
def test_requests_without_a_token_are_401(client, method, path):
    response = getattr(client, method)(path)
    body = problem(response, 401, "unauthorized")
    assert "Bearer" in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_invalid_tokens_are_401(client, header):
    problem(client.get("/api/v1/applications", headers={"Authorization": header}), 401, "unauthorized")


def test_expired_token_is_401(client, cast, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOKEN_TTL_HOURS", 0)  # expires the moment it is issued
    headers = bearer(client, cast.applicant)
    response = client.get("/api/v1/applications", headers=headers)
    assert "expired" in problem(response, 401, "unauthorized")["detail"]


def test_api_is_exempt_from_csrf_because_it_uses_bearer_tokens(client, cast, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    headers = bearer(client, cast.applicant)
    assert create(client, headers).status_code == 201


# --- errors ---------------------------------------------------------------------------------------------------


def test_malformed_json_is_400(client, cast):
    headers = {**bearer(client, cast.applicant), "Content-Type": "application/json"}
    body = problem(client.post("/api/v1/applications", data="{not json", headers=headers), 400, "malformed_json")
    assert "Traceback" not in body["detail"]


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', "NaN", '{"form": NaN}'])
def test_a_body_that_is_not_a_json_object_is_400(client, cast, data):
    headers = {**bearer(client, cast.applicant), "Content-Type": "application/json"}
    problem(client.post("/api/v1/applications", data=data, headers=headers), 400, "malformed_json")


def test_a_body_that_is_not_json_is_415(client, cast):
    headers = {**bearer(client, cast.applicant), "Content-Type": "text/plain"}
    problem(client.post("/api/v1/applications", data="hello", headers=headers), 415, "unsupported_media_type")


def test_unknown_api_route_is_a_404_problem(client):
    body = problem(client.get("/api/v1/no/such/thing"), 404, "not_found")
    assert body["instance"] == "/api/v1/no/such/thing"


def test_wrong_method_is_a_405_problem_naming_the_allowed_ones(client):
    response = client.delete("/api/v1/applications")
    body = problem(response, 405, "method_not_allowed")
    assert "GET" in body["detail"] and "POST" in body["detail"]
    assert "POST" in response.headers["Allow"]


def test_unexpected_errors_are_500_without_internals(client, cast, monkeypatch):
    headers = bearer(client, cast.auditor)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    monkeypatch.setattr("web.applications.api.programme_definitions", broken)
    response = client.get("/api/v1/programmes", headers=headers)
    body = problem(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text
    assert body["request_id"] in body["detail"]


def test_problem_titles_are_chinese_first_and_english_on_request(client):
    assert client.get("/api/v1/programmes").get_json()["title"] == "未认证或令牌无效"
    english = client.get("/api/v1/programmes", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.get_json()["title"] == "Authentication required"


def test_problem_types_are_documented_at_their_uri(client):
    body = problem(client.get("/api/v1/programmes"), 401, "unauthorized")
    described = client.get(body["type"])
    assert described.status_code == 200
    assert described.get_json() == {
        "type": body["type"],
        "code": "unauthorized",
        "status": 401,
        "title": {"zh": "未认证或令牌无效", "en": "Authentication required"},
    }
    problem(client.get("/api/v1/problems/no_such_problem"), 404, "not_found")


# --- programmes -----------------------------------------------------------------------------------------------


def test_programmes_list_both_with_labelled_states_and_triggers(client, cast):
    response = client.get("/api/v1/programmes", headers=bearer(client, cast.applicant))
    programmes = {p["code"]: p for p in response.get_json()["items"]}
    assert set(programmes) == {"emc-acceptance", "monitoring-fund"}
    emc = programmes["emc-acceptance"]
    assert emc["label"] == f"emc-acceptance@{emc['version']}"
    assert emc["applicant_kinds"] == ["enterprise", "data_centre", "park"]
    assert {"name": "draft", "label": {"zh": "草稿", "en": "Draft"}, "terminal": False} in emc["states"]
    submit = next(t for t in emc["triggers"] if t["trigger"] == "submit")
    assert submit == {
        "trigger": "submit",
        "label": {"zh": "提交申报", "en": "Submit"},
        "sources": ["draft"],
        "dest": "district_review",
        "roles": ["applicant"],
        "requires": [],
    }


# --- create ---------------------------------------------------------------------------------------------------


def test_applicant_creates_an_application(client, cast):
    headers = bearer(client, cast.applicant)
    response = create(client, headers, form={"district": "闵行区", "total_investment_wan": "120"})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "state": "draft", "version": 1}
    assert response.headers["Location"] == f"/api/v1/applications/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    detail = client.get(response.headers["Location"], headers=headers).get_json()
    assert detail["form"] == {"district": "闵行区", "total_investment_wan": "120"}


def test_create_with_a_kind_the_programme_does_not_take_is_422(client, cast):
    response = create(client, bearer(client, cast.applicant), programme="monitoring-fund", kind="park")
    body = problem(response, 422, "invalid_input")
    assert [e["field"] for e in body["errors"]] == ["kind"]


def test_create_with_missing_and_mistyped_fields_is_422_naming_each(client, cast):
    headers = bearer(client, cast.applicant)
    response = client.post("/api/v1/applications", json={"kind": 3, "form": [], "colour": "red"}, headers=headers)
    body = problem(response, 422, "invalid_input")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("colour", "unknown_field"),
        ("programme", "required"),
        ("kind", "wrong_type"),
        ("project_name", "required"),
        ("form", "wrong_type"),
    }


def test_only_applicants_create_applications(client, cast):
    problem(create(client, bearer(client, cast.district_reviewer)), 403, "forbidden")


# --- list and detail ------------------------------------------------------------------------------------------


def test_list_shows_only_what_the_caller_may_see(client, cast):
    draft = factories.new_application(cast)
    submitted = factories.new_application(cast)
    factories.drive_to(cast, submitted, "district_review")

    def listed(user: User, query: str = "") -> list[int]:
        response = client.get(f"/api/v1/applications{query}", headers=bearer(client, user))
        assert response.status_code == 200
        return [item["id"] for item in response.get_json()["items"]]

    assert listed(cast.applicant) == [submitted, draft]  # newest first
    # Drafts belong to the applicant alone; the district reviewer sees what reached the district.
    assert listed(cast.district_reviewer) == [submitted]
    assert listed(cast.other_applicant) == []
    assert listed(cast.other_district_reviewer) == []


def test_list_filters_by_state_and_programme_and_pages(client, cast):
    emc = [factories.new_application(cast) for _ in range(3)]
    monitoring = factories.new_application(cast, "monitoring-fund")
    factories.drive_to(cast, emc[0], "district_review")
    headers = bearer(client, cast.applicant)

    def page(query: str) -> dict[str, Any]:
        response = client.get(f"/api/v1/applications?{query}", headers=headers)
        assert response.status_code == 200
        return response.get_json()

    assert [i["id"] for i in page("state=district_review")["items"]] == [emc[0]]
    assert [i["id"] for i in page("programme=monitoring-fund")["items"]] == [monitoring]
    assert [i["id"] for i in page("programme=emc-acceptance&state=draft")["items"]] == [emc[2], emc[1]]
    first, second = page("per_page=3&page=1"), page("per_page=3&page=2")
    assert first["total"] == second["total"] == 4
    assert [i["id"] for i in first["items"] + second["items"]] == [monitoring, *reversed(emc)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=nowhere", "state"),
        ("programme=nope", "programme"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
        (f"page={10**20}", "page"),
    ],
)
def test_list_rejects_unknown_filters_and_bad_paging(client, cast, query, field):
    response = client.get(f"/api/v1/applications?{query}", headers=bearer(client, cast.applicant))
    assert [e["field"] for e in problem(response, 422, "invalid_input")["errors"]] == [field]


def test_detail_carries_state_labels_version_and_allowed_triggers(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    response = client.get(f"/api/v1/applications/{app_id}", headers=bearer(client, cast.district_reviewer))
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "district_review"
    assert body["state_label"] == {"zh": "区主管部门初审中", "en": "District pre-review"}
    assert body["version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert body["programme"].startswith("emc-acceptance@")
    assert body["organisation"]["name"] == cast.org.name
    assert body["district"] == cast.org.district
    assert sorted(body["allowed_triggers"]) == ["pass_prereview", "reject", "return_for_correction"]
    assert body["submitted_at"] is not None
    applicant_view = client.get(f"/api/v1/applications/{app_id}", headers=bearer(client, cast.applicant))
    assert applicant_view.get_json()["allowed_triggers"] == ["withdraw"]


@pytest.mark.parametrize("outsider", ["other_applicant", "other_district_reviewer"])
def test_detail_of_an_unseen_application_is_404_exactly_like_a_missing_one(client, cast, outsider):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    headers = bearer(client, getattr(cast, outsider))
    unseen = problem(client.get(f"/api/v1/applications/{app_id}", headers=headers), 404, "not_found")
    missing = problem(client.get(f"/api/v1/applications/{MISSING_ID}", headers=headers), 404, "not_found")
    assert unseen["detail"] == missing["detail"].replace(str(MISSING_ID), str(app_id))
    assert set(unseen) == set(missing)
    problem(client.get(f"/api/v1/applications/{app_id}/history", headers=headers), 404, "not_found")


# --- PATCH ----------------------------------------------------------------------------------------------------


def test_patch_without_if_match_is_428(client, cast):
    app_id = factories.new_application(cast)
    response = client.patch(f"/api/v1/applications/{app_id}", json={"form": {}}, headers=bearer(client, cast.applicant))
    problem(response, 428, "precondition_required")


def test_patch_with_a_malformed_if_match_is_400(client, cast):
    app_id = factories.new_application(cast)
    headers = {**bearer(client, cast.applicant), "If-Match": "*"}
    problem(
        client.patch(f"/api/v1/applications/{app_id}", json={"form": {}}, headers=headers), 400, "invalid_precondition"
    )


def test_patch_merges_the_form_and_bumps_the_version(client, cast):
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    client.patch(
        f"/api/v1/applications/{app_id}",
        json={"form": {"contact_person": "王工", "contact_phone": "021-64220001"}},
        headers={**headers, "If-Match": '"1"'},
    )
    response = client.patch(
        f"/api/v1/applications/{app_id}",
        json={"form": {"contact_phone": None, "annual_output_value_wan": "800000"}, "project_name": "园区能源管理中心"},
        headers={**headers, "If-Match": '"2"'},
    )
    assert response.status_code == 200
    body = response.get_json()
    form = body["form"]
    assert (form["district"], form["contact_person"], form["annual_output_value_wan"]) == (
        cast.org.district,
        "王工",
        "800000",
    )
    assert "contact_phone" not in form  # null removes a key (RFC 7386)
    assert body["project_name"] == "园区能源管理中心"
    assert body["version"] == 3
    assert response.headers["ETag"] == '"3"'


def test_patch_with_a_stale_version_is_409(client, cast):
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    url = f"/api/v1/applications/{app_id}"
    assert client.patch(url, json={"form": {"nature": "民营"}}, headers={**headers, "If-Match": "1"}).status_code == 200
    body = problem(
        client.patch(url, json={"form": {"nature": "国有"}}, headers={**headers, "If-Match": "1"}), 409, "stale_version"
    )
    assert (body["expected_version"], body["current_version"]) == (1, 2)
    assert client.get(url, headers=headers).get_json()["form"]["nature"] == "民营"


def test_patch_once_submitted_is_409_naming_the_state(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    headers = {**bearer(client, cast.applicant), "If-Match": '"2"'}
    response = client.patch(f"/api/v1/applications/{app_id}", json={"form": {"nature": "民营"}}, headers=headers)
    body = problem(response, 409, "not_allowed_in_state")
    assert body["state"] == "district_review"
    assert body["allowed_triggers"] == ["withdraw"]


def test_patch_by_someone_else_is_403_or_404(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    url = f"/api/v1/applications/{app_id}"
    reviewer = {**bearer(client, cast.district_reviewer), "If-Match": '"2"'}
    outsider = {**bearer(client, cast.other_applicant), "If-Match": '"2"'}
    problem(client.patch(url, json={"form": {"nature": "民营"}}, headers=reviewer), 403, "forbidden")
    problem(client.patch(url, json={"form": {"nature": "民营"}}, headers=outsider), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "form"), ({"project_name": "  "}, "project_name"), ({"form": "x"}, "form"), ({"state": "paid"}, "state")],
)
def test_patch_with_nothing_usable_is_422(client, cast, body, field):
    app_id = factories.new_application(cast)
    headers = {**bearer(client, cast.applicant), "If-Match": '"1"'}
    response = client.patch(f"/api/v1/applications/{app_id}", json=body, headers=headers)
    assert field in [e["field"] for e in problem(response, 422, "invalid_input")["errors"]]


@pytest.mark.parametrize("huge", [2**31, 10**23])
def test_an_id_beyond_any_database_is_404_like_a_missing_one(client, cast, huge):
    headers = bearer(client, cast.applicant)
    detail = problem(client.get(f"/api/v1/applications/{huge}", headers=headers), 404, "not_found")["detail"]
    assert detail == f"application {huge} not found"
    fired = client.post(f"/api/v1/applications/{huge}/transitions", json={"trigger": "submit"}, headers=headers)
    problem(fired, 404, "not_found")
    problem(client.get(f"/api/v1/applications/{huge}/history", headers=headers), 404, "not_found")


def test_programmes_carry_their_authority_award_word_window_and_local_settings(client, cast):
    """Seed 002 附件3 names 上海市经济和信息化委员会 and its 支持; seed 000 puts the monitoring fund under
    上海市市场监督管理局 with 上海市计量测试技术研究院 reviewing, its 扶持资金 due "于2022年9月30日前"."""
    listed = client.get("/api/v1/programmes", headers=bearer(client, cast.applicant)).get_json()["items"]
    by_code = {p["code"]: p for p in listed}
    emc, monitoring = by_code["emc-acceptance"], by_code["monitoring-fund"]
    assert emc["authority"]["name"] == "上海市经济和信息化委员会" and emc["terms"]["award"] == "支持"
    assert emc["window"] is None
    assert (monitoring["authority"]["name"], monitoring["authority"]["reviewer"]) == (
        "上海市市场监督管理局",
        "上海市计量测试技术研究院",
    )
    assert monitoring["terms"]["award"] == "扶持" and monitoring["window"]["closes"] == "2022-09-30"
    for programme in (emc, monitoring):
        assert programme["local_settings"], programme["code"]
        assert all("本地设置" in s["label"]["zh"] for s in programme["local_settings"])


def test_the_detail_api_reads_in_four_statements(client, cast):
    """The token with its user, the programme versions, the application with its unit, the credit authoriser."""
    app_id = factories.new_application(cast)
    headers = bearer(client, cast.applicant)
    assert client.get(f"/api/v1/applications/{app_id}", headers=headers).status_code == 200  # the token's first use
    answer, sent = selects_during(lambda: client.get(f"/api/v1/applications/{app_id}", headers=headers))
    assert answer.status_code == 200 and answer.get_json()["organisation"]["name"] == cast.org.name
    assert len(sent) == 4, "\n".join(sent)
    assert "FROM api_tokens JOIN users" in sent[0]
