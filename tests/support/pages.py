"""Page helpers: a browser of its own logged in, a page's text, its state badge, a trigger's form posted."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import factories
from web.app import create_app
from workflow import outbox


def log_in(app, user, lang: str | None = None):  # type: ignore[no-untyped-def]
    """A browser of its own, logged in as `user`."""
    client = app.test_client()
    if lang:
        client.get(f"/login?lang={lang}")
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 303, response.text
    return client


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text without tags, so assertions read like what a person sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


def state_badge(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'<span id="state"[^>]*>([^<]*)</span>', response.text)
    assert found, "no state on the page"
    return found.group(1)


def fire_form(client, app_id: int, trigger: str, data: dict[str, str] | None = None, version: int | None = None):  # type: ignore[no-untyped-def]
    """Post a trigger's form as the page would (fields carry the trigger as prefix)."""
    current = factories.state_of(app_id)[1] if version is None else version
    body = {f"{trigger}-expected_version": str(current)}
    body.update({f"{trigger}-{name}": value for name, value in (data or {}).items()})
    return client.post(f"/applications/{app_id}/transitions/{trigger}", data=body)


def csrf_app(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A second app on the same database and blobs, with CSRF protection on as in production."""
    # A second app rewires the outbox's global hooks to its Celery; put the session app's back afterwards.
    monkeypatch.setattr(outbox, "_sender", outbox._sender)
    monkeypatch.setattr(outbox, "_kicker", outbox._kicker)
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "INSTANCE_PATH": app.config["INSTANCE_PATH"],
            "SECRET_KEY": "csrf-test-secret",
            "WTF_CSRF_ENABLED": True,
            "STORAGE_URL": app.config["STORAGE_URL"],
        }
    )
