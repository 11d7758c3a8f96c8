"""The auditor's area (issue 16 item 4, 三员分立): the audit's events and its verification, for the auditor alone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from tests.support.pages import log_in, text_of
from tests.support.shell import openapi_document
from workflow.accounts import ROLES
from workflow.db import db
from workflow.workdays import SHANGHAI

NOT_AUDITORS = [role for role in ROLES if role != "auditor"]


def _audited_application(cast) -> int:  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    return app_id


def test_the_auditor_reads_the_events_filtered_in_beijing_time(app, cast):
    """The list shows each event with its time in Beijing; filters by application, actor, kind and day narrow it."""
    app_id = _audited_application(cast)
    other = factories.new_application(cast, attach=False)
    client = log_in(app, cast.auditor)

    page = client.get(f"/audit?application_id={app_id}")
    assert page.status_code == 200
    assert 'data-seq="' in page.text and f"#{app_id}" in page.text
    assert f'href="/applications/{other}"' not in page.text

    with db.transaction() as session:
        first = session.execute(
            text("SELECT seq, occurred_at FROM audit_events WHERE application_id = :a ORDER BY seq"), {"a": app_id}
        ).first()
    occurred = (
        first.occurred_at
        if isinstance(first.occurred_at, dt.datetime)
        else dt.datetime.fromisoformat(first.occurred_at)
    )
    beijing = (occurred.replace(tzinfo=dt.UTC) if occurred.tzinfo is None else occurred).astimezone(SHANGHAI)
    assert beijing.strftime("%Y-%m-%d %H:%M") in text_of(page)

    by_actor = client.get(f"/audit?actor={cast.applicant.username}&kind=created")
    cards = by_actor.text.count('class="card audit-event"')
    assert cards == 2  # both creations, by the applicant
    assert 'data-kind="transition"' not in by_actor.text

    today = beijing.date()
    assert client.get(f"/audit?application_id={app_id}&from={today}&to={today}").text.count('audit-event"') >= 1
    tomorrow = today + dt.timedelta(days=1)
    assert 'id="audit-empty"' in client.get(f"/audit?application_id={app_id}&from={tomorrow}").text


def test_the_api_lists_events_and_verifies_the_chain_as_documented(app, client, cast):
    """GET /audit/events and POST /audit/verify answer as their OpenAPI paths say; the run is itself an event."""
    app_id = _audited_application(cast)
    headers = bearer(client, cast.auditor)
    conformance = Conformance(openapi_document(app))

    listed = client.get(f"/api/v1/audit/events?application_id={app_id}&per_page=2", headers=headers)
    conformance.check(listed, "/audit/events", "get")
    body = listed.get_json()
    assert body["total"] >= 3 and len(body["items"]) == 2
    assert body["items"][0]["seq"] > body["items"][1]["seq"]  # newest first
    assert {item["application_id"] for item in body["items"]} == {app_id}

    verified = client.post("/api/v1/audit/verify", headers=headers)
    conformance.check(verified, "/audit/verify", "post")
    assert verified.get_json()["ok"] is True

    runs = client.get("/api/v1/audit/events?kind=audit_verified", headers=headers).get_json()
    assert runs["total"] == 1
    assert runs["items"][0]["actor"] == cast.auditor.username
    assert runs["items"][0]["payload"]["ok"] is True

    bad = client.get("/api/v1/audit/events?from=yesterday&application_id=x", headers=headers)
    conformance.check(bad, "/audit/events", "get")
    assert {e["field"] for e in problem(bad, 422, "invalid_input")["errors"]} == {"from", "application_id"}


def test_the_verify_page_shows_the_first_broken_link(app, cast):
    """An event edited behind the triggers' back: the page names it as the first broken link."""
    app_id = _audited_application(cast)
    client = log_in(app, cast.auditor)
    intact = client.post("/audit/verify")
    assert intact.status_code == 200 and 'data-ok="1"' in intact.text

    with db.transaction() as session:
        seq = session.execute(
            text("SELECT min(seq) FROM audit_events WHERE application_id = :a"), {"a": app_id}
        ).scalar_one()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :s"), {"s": seq})
            session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        else:
            session.execute(text("DROP TRIGGER audit_events_no_update"))
            session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = :s"), {"s": seq})
            session.execute(
                text(
                    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (UPDATE refused)'); END"
                )
            )
    broken = client.post("/audit/verify")
    assert 'data-ok="0"' in broken.text
    assert f"#{seq}" in text_of(broken) and "edited" in broken.text


@pytest.mark.parametrize("role", NOT_AUDITORS)
def test_every_other_role_finds_no_audit_area(app, client, cast, role):
    """Pages and API alike: for anyone but the auditor the audit is answered exactly as a missing path."""
    user = cast.by_role[role]
    pages = log_in(app, user)
    missing_page = pages.get("/no-such-page")
    for path in ("/audit", "/audit/verify", "/audit?actor=x"):
        response = pages.get(path)
        assert response.status_code == 404
        assert text_of(response) == text_of(missing_page)
    assert pages.post("/audit/verify").status_code == 404
    headers = bearer(client, user)
    for method, path in (("get", "/api/v1/audit/events"), ("post", "/api/v1/audit/verify")):
        response = getattr(client, method)(path, headers=headers)
        missing = getattr(client, method)("/api/v1/audit/no-such-thing", headers=headers)
        assert (response.status_code, response.get_json()["code"]) == (404, "not_found")
        assert response.get_json()["code"] == missing.get_json()["code"]
    with db.transaction() as session:
        runs = session.execute(text("SELECT count(*) FROM audit_events WHERE outcome = 'audit_verified'")).scalar()
    assert runs == 0  # a refused verification is not run
