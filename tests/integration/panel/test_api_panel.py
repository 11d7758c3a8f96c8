"""The expert panel over the API: the draw, declarations before the file opens, replacements, the site visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from notifications.models import Notification
from review import panels
from review import pool as expert_pool
from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from workflow.db import db

PREFIX = "/api/v1"
PANEL = "/applications/{application_id}/panel"
DECLARATION = "/applications/{application_id}/panel/declaration"
VISIT = "/applications/{application_id}/visit"


def _url(app_id: int, tail: str = "") -> str:
    return f"{PREFIX}/applications/{app_id}{tail}"


def _expert(cast: factories.Cast) -> Any:
    user = factories.make_user("expert")
    expert_pool.add_expert(cast.admin, user.username, factories.uscc(), "能效咨询公司", "徐汇区", ["电力"])
    return user


@pytest.fixture
def conform(client) -> Conformance:
    return Conformance(client.get(f"{PREFIX}/openapi.json").get_json())


@pytest.fixture
def verifying(cast) -> int:
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    return app_id


@pytest.fixture
def pool(cast) -> dict[str, Any]:
    return {user.username: user for user in (_expert(cast) for _ in range(4))}


def test_the_coordinator_draws_and_anyone_can_repeat_it(client, cast, verifying, pool, conform):
    coordinator = bearer(client, cast.agency_coordinator)
    drawn = client.post(_url(verifying, "/panel"), json={"size": 3, "seed": "2026-第一批"}, headers=coordinator)
    conform.check(drawn, PANEL, "post")
    assert drawn.status_code == 201
    body = drawn.get_json()
    assert drawn.headers["Location"].endswith(f"/applications/{verifying}/panel")
    names = [m["username"] for m in body["members"]]
    assert [m["leader"] for m in body["members"]] == [True, False, False]
    assert (body["seed"], body["draw"], body["pool_size"], body["excluded"]) == ("2026-第一批", 1, 4, 0)
    assert names == panels.draw_members("2026-第一批", body["pool_digest"], sorted(pool), 3)

    shown = client.get(_url(verifying, "/panel"), headers=coordinator)
    conform.check(shown, PANEL, "get")
    view = shown.get_json()
    assert [(m["username"], m["leader"], m["declared"], m["conflict"]) for m in view["members"]] == [
        (name, n == 0, False, None) for n, name in enumerate(names)
    ]
    [draw] = view["draws"]
    assert (draw["seed"], draw["pool_digest"], draw["pool_size"], draw["drawn"]) == (
        "2026-第一批",
        body["pool_digest"],
        4,
        names,
    )

    again = client.post(_url(verifying, "/panel"), json={}, headers=coordinator)
    conform.check(again, PANEL, "post")
    problem(again, 409, "panel_conflict")


def test_the_size_defaults_to_the_setting_and_must_fit_the_pool(
    app, client, cast, verifying, pool, conform, monkeypatch
):
    coordinator = bearer(client, cast.agency_coordinator)
    too_many = client.post(_url(verifying, "/panel"), json={"size": 5}, headers=coordinator)
    conform.check(too_many, PANEL, "post")
    refusal = problem(too_many, 422, "invalid_input")
    assert [e["field"] for e in refusal["errors"]] == ["size"] and "from 1 to 4" in refusal["detail"]
    wrong = client.post(_url(verifying, "/panel"), json={"size": "3"}, headers=coordinator)
    assert problem(wrong, 422, "invalid_input")["errors"][0]["field"] == "size"

    monkeypatch.setitem(app.config, "PANEL_SIZE", 2)
    drawn = client.post(_url(verifying, "/panel"), headers=coordinator)
    assert drawn.status_code == 201 and len(drawn.get_json()["members"]) == 2


def test_only_the_coordinator_draws_and_only_in_site_verification(client, cast, verifying, pool, conform):
    for role in ("expert", "municipal_reviewer"):
        refused = client.post(_url(verifying, "/panel"), json={"size": 1}, headers=bearer(client, cast.by_role[role]))
        conform.check(refused, PANEL, "post")
        problem(refused, 403, "forbidden")
    early = factories.new_application(cast)
    factories.drive_to(cast, early, "completeness_check")
    coordinator = bearer(client, cast.agency_coordinator)
    too_early = client.post(_url(early, "/panel"), json={"size": 1}, headers=coordinator)
    conform.check(too_early, PANEL, "post")
    assert problem(too_early, 409, "not_allowed_in_state")["state"] == "completeness_check"
    missing = client.get(_url(verifying, "/panel"), headers=bearer(client, cast.other_applicant))
    conform.check(missing, PANEL, "get")
    problem(missing, 404, "not_found")


def test_an_expert_sees_the_file_only_after_declaring_no_conflict(client, cast, verifying, pool, conform):
    coordinator = bearer(client, cast.agency_coordinator)
    [leader, *_] = client.post(_url(verifying, "/panel"), json={"size": 2}, headers=coordinator).get_json()["members"]
    expert = bearer(client, pool[leader["username"]])

    problem(client.get(_url(verifying), headers=expert), 404, "not_found")
    hidden = client.get(_url(verifying, "/panel"), headers=expert)
    conform.check(hidden, PANEL, "get")
    problem(hidden, 404, "not_found")

    declared = client.post(_url(verifying, "/panel/declaration"), json={"conflict": False}, headers=expert)
    conform.check(declared, DECLARATION, "post")
    assert declared.status_code == 200
    assert declared.get_json()["conflict"] is False and declared.get_json()["replaced"] is False
    assert client.get(_url(verifying), headers=expert).status_code == 200
    view = client.get(_url(verifying, "/panel"), headers=expert).get_json()
    assert [(m["username"], m["declared"], m["conflict"]) for m in view["members"] if m["leader"]] == [
        (leader["username"], True, False)
    ]

    twice = client.post(_url(verifying, "/panel/declaration"), json={"conflict": False}, headers=expert)
    conform.check(twice, DECLARATION, "post")
    problem(twice, 409, "panel_conflict")


def test_a_declaration_is_checked(client, cast, verifying, pool, conform):
    coordinator = bearer(client, cast.agency_coordinator)
    [member] = client.post(_url(verifying, "/panel"), json={"size": 1}, headers=coordinator).get_json()["members"]
    expert = bearer(client, pool[member["username"]])
    for body, field in (({"conflict": "no"}, "conflict"), ({}, "conflict"), ({"conflict": True, "note": " "}, "note")):
        refused = client.post(_url(verifying, "/panel/declaration"), json=body, headers=expert)
        conform.check(refused, DECLARATION, "post")
        assert [e["field"] for e in problem(refused, 422, "invalid_input")["errors"]] == [field]
    outsider = client.post(
        _url(verifying, "/panel/declaration"), json={"conflict": False}, headers=bearer(client, cast.expert2)
    )
    conform.check(outsider, DECLARATION, "post")
    problem(outsider, 404, "not_found")


def test_a_conflict_closes_the_file_and_a_replacement_is_drawn_and_told(client, cast, verifying, pool, conform):
    coordinator = bearer(client, cast.agency_coordinator)
    first = client.post(_url(verifying, "/panel"), json={"size": 2}, headers=coordinator).get_json()
    leaver = pool[first["members"][0]["username"]]
    expert = bearer(client, leaver)
    declared = client.post(
        _url(verifying, "/panel/declaration"), json={"conflict": True, "note": "曾在申报单位任职"}, headers=expert
    )
    conform.check(declared, DECLARATION, "post")
    assert declared.get_json()["conflict"] is True and declared.get_json()["replaced"] is True
    problem(client.get(_url(verifying), headers=expert), 404, "not_found")
    problem(client.get(_url(verifying, "/panel"), headers=expert), 404, "not_found")

    view = client.get(_url(verifying, "/panel"), headers=coordinator).get_json()
    initial, replacement = view["draws"]
    assert (replacement["reason"], replacement["replaced"], replacement["pool_size"]) == (
        "replacement",
        leaver.username,
        2,  # four in the pool, less the member who stays and the one who left
    )
    [newcomer] = replacement["drawn"]
    assert newcomer not in initial["drawn"]
    active = [m for m in view["members"] if m["active"]]
    assert [(m["username"], m["leader"]) for m in active] == [
        (newcomer, True),
        (first["members"][1]["username"], False),
    ]
    assert [m["username"] for m in view["members"] if m["conflict"]] == [leaver.username]
    with db.transaction() as session:
        told = session.scalars(select(Notification).where(Notification.user_id == pool[newcomer].id)).all()
    assert [n.kind for n in told] == ["panel_assigned"]


def test_the_visit_is_scheduled_and_shown_to_the_applicant(client, cast, verifying, pool, conform):
    coordinator = bearer(client, cast.agency_coordinator)
    client.post(_url(verifying, "/panel"), json={"size": 2}, headers=coordinator)
    body = {"visit_at": "2099-05-06T09:30", "place": "闵行区剑川路1000号", "note": "请准备计量器具台账"}
    scheduled = client.put(_url(verifying, "/visit"), json=body, headers=coordinator)
    conform.check(scheduled, VISIT, "put")
    assert scheduled.status_code == 200
    assert scheduled.get_json()["visit_at"] == "2099-05-06T01:30:00+00:00"  # Shanghai time without a zone
    assert scheduled.get_json()["scheduled_by"] == cast.agency_coordinator.username

    for wrong, field in (
        ({"visit_at": "next tuesday", "place": "x"}, "visit_at"),
        ({"visit_at": "2000-01-01T09:00+08:00", "place": "x"}, "visit_at"),
        ({"visit_at": "2099-05-06T09:30"}, "place"),
    ):
        refused = client.put(_url(verifying, "/visit"), json=wrong, headers=coordinator)
        conform.check(refused, VISIT, "put")
        assert [e["field"] for e in problem(refused, 422, "invalid_input")["errors"]] == [field]
    for role in ("applicant", "admin"):  # the agency arranges the visit with the applicant
        denied = client.put(_url(verifying, "/visit"), json=body, headers=bearer(client, cast.by_role[role]))
        conform.check(denied, VISIT, "put")
        problem(denied, 403, "forbidden")

    seen = client.get(_url(verifying, "/panel"), headers=bearer(client, cast.applicant))
    conform.check(seen, PANEL, "get")
    view = seen.get_json()
    assert view["members"] == [] and view["draws"] == []
    assert (view["visit"]["place"], view["visit"]["note"]) == ("闵行区剑川路1000号", "请准备计量器具台账")


def test_a_visit_time_with_a_zone_keeps_it(client, cast, verifying, pool):
    """A zone given is kept: 09:30 in Shanghai is 01:30 UTC however it is written."""
    coordinator = bearer(client, cast.agency_coordinator)
    when = dt.datetime(2099, 5, 6, 1, 30, tzinfo=dt.UTC)
    for written in ("2099-05-06T09:30+08:00", "2099-05-06T01:30:00Z"):
        shown = client.put(_url(verifying, "/visit"), json={"visit_at": written, "place": "现场"}, headers=coordinator)
        assert dt.datetime.fromisoformat(shown.get_json()["visit_at"]) == when
