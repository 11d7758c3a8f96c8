"""Page helpers: a browser of its own logged in, a page's text, its state badge, a trigger's form posted."""

from __future__ import annotations

import re

from tests import factories


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
