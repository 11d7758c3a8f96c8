"""The OpenAPI document: valid 3.1, covering every API route, and true to what the routes answer."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from forms.samples import sample_form
from tests import factories
from tests.support.api import bearer
from tests.support.openapi import Conformance
from web.core.problems import PROBLEM_TYPES
from workflow.errors import WorkflowError

PARK_FORM = sample_form("emc-acceptance", "park")
EDIT = {"form": {"innovation": "空压站群控"}}
PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")  # no token: the document is public
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def openapi_path(rule: str) -> str:
    """/api/v1/applications/<int:application_id> → /applications/{application_id}"""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.removeprefix(PREFIX))


def test_document_is_valid_openapi_3_1(document):
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])
    assert document["servers"] == [{"url": PREFIX}]
    validate(document)  # raises on any structural error or unresolvable $ref


def test_every_api_route_is_documented_and_nothing_else(app, document):
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            routes.setdefault(openapi_path(rule.rule), set()).update(rule.methods - IGNORED_METHODS)
    documented = {
        path: {method.upper() for method in item if method != "parameters"} for path, item in document["paths"].items()
    }
    assert routes == documented


def test_bearer_security_is_the_default_and_public_routes_say_so(document):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]
    public = {
        (path, method)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters" and operation.get("security") == []
    }
    assert public == {("/auth/token", "post"), ("/openapi.json", "get"), ("/problems/{code}", "get")}


def test_responses_match_the_documented_schemas(client, cast, document):
    conform = Conformance(document)
    token = client.post(f"{PREFIX}/auth/token", json={"username": cast.applicant.username, "password": "x" * 12})
    conform.check(token, "/auth/token", "post")
    conform.check(client.post(f"{PREFIX}/auth/token", json={}), "/auth/token", "post")
    conform.check(client.get(f"{PREFIX}/programmes"), "/programmes", "get")

    applicant = bearer(client, cast.applicant)
    token = client.post(
        f"{PREFIX}/auth/token", json={"username": cast.applicant.username, "password": factories.PASSWORD}
    )
    conform.check(token, "/auth/token", "post")
    conform.check(client.get(f"{PREFIX}/programmes", headers=applicant), "/programmes", "get")

    created = client.post(
        f"{PREFIX}/applications",
        json={"programme": "emc-acceptance", "kind": "park", "project_name": "园区能源管理中心", "form": PARK_FORM},
        headers=applicant,
    )
    conform.check(created, "/applications", "post")
    app_id = created.get_json()["id"]
    item = f"{PREFIX}/applications/{app_id}"
    conform.check(client.post(f"{PREFIX}/applications", json={}, headers=applicant), "/applications", "post")
    conform.check(client.get(f"{PREFIX}/applications", headers=applicant), "/applications", "get")
    conform.check(client.get(f"{PREFIX}/applications?page=0", headers=applicant), "/applications", "get")
    conform.check(client.get(item, headers=applicant), "/applications/{application_id}", "get")
    conform.check(client.get(f"{PREFIX}/applications/0", headers=applicant), "/applications/{application_id}", "get")

    patch = "/applications/{application_id}"
    conform.check(client.patch(item, json=EDIT, headers=applicant), patch, "patch")
    conform.check(client.patch(item, json=EDIT, headers={**applicant, "If-Match": "9"}), patch, "patch")
    conform.check(client.patch(item, json=EDIT, headers={**applicant, "If-Match": "1"}), patch, "patch")

    factories.attach_required(factories.flask_app(), cast, app_id)
    fire = "/applications/{application_id}/transitions"
    key = {**applicant, "Idempotency-Key": "conformance"}
    conform.check(client.post(f"{item}/transitions", json={"trigger": "submit"}, headers=key), fire, "post")
    replay = client.post(f"{item}/transitions", json={"trigger": "submit"}, headers=key)
    conform.check(replay, fire, "post")
    assert replay.headers["Idempotent-Replayed"] == "true"
    conform.check(client.post(f"{item}/transitions", json={"trigger": "submit"}, headers=applicant), fire, "post")
    conform.check(client.post(f"{item}/transitions", json={"trigger": "reject"}, headers=applicant), fire, "post")
    reviewer = bearer(client, cast.district_reviewer)
    conform.check(client.post(f"{item}/transitions", json={"trigger": "reject"}, headers=reviewer), fire, "post")
    stale = {"trigger": "pass_prereview", "expected_version": 1}
    conform.check(client.post(f"{item}/transitions", json=stale, headers=reviewer), fire, "post")
    malformed = {**reviewer, "Content-Type": "application/json"}
    conform.check(client.post(f"{item}/transitions", data="[]", headers=malformed), fire, "post")

    conform.check(client.get(f"{item}/history", headers=reviewer), "/applications/{application_id}/history", "get")
    conform.check(client.get(f"{PREFIX}/problems/stale_version"), "/problems/{code}", "get")
    conform.check(client.get(f"{PREFIX}/problems/nope"), "/problems/{code}", "get")


def test_every_workflow_error_has_a_problem_type_with_its_status(app):
    # `app` imports the stage packages, which may define errors of their own.
    classes, pending = [], [WorkflowError]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    assert len(classes) > 1
    assert {cls.code: PROBLEM_TYPES.get(cls.code, (None,))[0] for cls in classes} == {
        cls.code: cls.status for cls in classes
    }
