"""API helpers: a bearer token through the real endpoint, and a problem document checked."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD
from workflow.accounts import User

PROBLEM = "application/problem+json"


MISSING_ID = 987_654_321


def bearer(client: Any, user: User) -> dict[str, str]:
    """Authorization headers for `user`, through the real token endpoint."""
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response's problem document, checked for its status, media type and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/api/v1/problems/{code}"
    assert body["title"] and body["detail"]
    return body
