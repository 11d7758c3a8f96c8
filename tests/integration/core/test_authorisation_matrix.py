"""Issue 16 item 1: the authorisation matrix, generated from the URL map and the OpenAPI document.

Every route with an object id, asked by the subjects (each role; an applicant of another organisation, a district
reviewer of another district, an expert not on the panel, one drawn but not yet declared, anonymous) about objects
in every state: each (route, object) by a subject denied it, and each subject on every route where it is denied
something (MATRIX_FULL=1: every denied triple). No denied request answers 2xx or redirects elsewhere than a missing
id's would, and each answers exactly as the same request with an id that does not exist (status, media type,
redirect and body). Who is allowed comes from tests/support/matrix.POLICY, written in the seeds' terms, not from
workflow.visibility; the detail endpoint is held to that policy in both directions.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from flask import Flask

from tests.support import matrix
from tests.support.pages import log_in
from tests.support.shell import openapi_document, url_map
from web.core.security import issue_token
from workflow.db import db


def _clients(app: Flask, world: matrix.World) -> dict[str, matrix.Client]:
    clients: dict[str, matrix.Client] = {}
    for subject in world.subjects:
        api = app.test_client()
        if subject.user is None:
            clients[subject.label] = matrix.Client(app.test_client(), api, {})
        else:
            clients[subject.label] = matrix.Client(log_in(app, subject.user), api, _token(subject.user))
    return clients


def _token(user: Any) -> dict[str, str]:
    """A bearer token as POST /api/v1/auth/token issues it, without a second password check (argon2 is slow)."""
    with db.transaction() as session:
        token, _row = issue_token(session, session.merge(user), ttl_hours=12, label="matrix")
    return {"Authorization": f"Bearer {token}"}


def _report(violations: list[matrix.Violation]) -> str:
    head = f"{'subject':<40} {'route':<78} {'object':<34} what"
    return f"{len(violations)} authorisation violations:\n{head}\n" + "\n".join(str(v) for v in violations)


def test_every_denial_answers_as_a_missing_id(app: Flask, cast: Any) -> None:
    started = time.monotonic()
    object_routes, reference_routes = matrix.routes(app)
    world = matrix.build_world(app, cast)
    print(f"world built in {time.monotonic() - started:.1f}s")
    clients = _clients(app, world)
    built = time.monotonic() - started

    # The policy agrees with the detail endpoint in both directions, so a policy too wide cannot hide a denial.
    detail = matrix.Route("GET", "/api/v1/applications/<int:application_id>", ("application_id",), "none")
    disagreements = []
    for subject in world.subjects:
        for obj in world.objects["application"]:
            assert obj.application is not None
            status = clients[subject.label].ask(detail, {"application_id": obj.application.id}).status
            sees = matrix.sees_application(subject, obj.application)
            expected = 200 if sees else (401 if subject.user is None else 404)
            if status != expected:
                what = f"answered {status}; the policy says {expected}"
                disagreements.append(matrix.Violation(subject.label, str(detail), str(obj), what))

    per_pair = None if os.environ.get("MATRIX_FULL") else matrix.PER_PAIR
    violations, compared = matrix.check(world, object_routes, clients, per_pair)
    checked = time.monotonic()
    violations = disagreements + violations + matrix.check_lists(world, matrix.list_routes(app), clients)
    print(f"lists checked in {time.monotonic() - checked:.1f}s")
    # Routes naming only published data (a programme, a mail template): nobody gets a 5xx, anonymous gets nothing.
    for route in (r for r in reference_routes if r.method == "GET"):
        values = {name: matrix.REFERENCE_PARAMS[name] for name in route.params}
        for subject in world.subjects:
            got = clients[subject.label].ask(route, values)
            if got.status >= 500 or (subject.user is None and got.status < 300):
                violations.append(matrix.Violation(subject.label, str(route), "-", got.short()))
    print(f"matrix: {len(object_routes)} object routes, {compared} denials compared, built in {built:.1f}s, "
          f"total {time.monotonic() - started:.1f}s")  # fmt: skip
    slowest = sorted(matrix.TIMES.items(), key=lambda kv: -kv[1])[:8]
    print("\n".join(f"{t:6.2f}s {r}" for r, t in slowest))
    assert not violations, _report(violations)


def test_a_route_whose_parameter_the_matrix_cannot_fill_fails_the_generator(app: Flask) -> None:
    """A new route is covered or named: an unknown parameter stops the matrix instead of being skipped."""
    published = url_map(app)
    document = openapi_document(app)
    object_routes, _reference = matrix.classify(published, document)
    assert "GET /api/v1/attachments/<int:attachment_id>/download" in {str(r) for r in object_routes}
    with pytest.raises(matrix.UnknownParameter, match=r"GET /payments/<int:payment_id>/receipt: payment_id"):
        matrix.classify([*published, "GET /payments/<int:payment_id>/receipt"], document)
