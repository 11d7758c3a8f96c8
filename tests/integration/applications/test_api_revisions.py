"""Revisions over the API: each submission listed and shown, what changed since the last read, the read marker."""

from __future__ import annotations

from typing import Any

import pytest

from review.models import RevisionRead
from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from workflow import operations
from workflow.db import db
from workflow.engine import fire

PREFIX = "/api/v1"


def _url(app_id: int, tail: str) -> str:
    return f"{PREFIX}/applications/{app_id}/{tail}"


def _correct_and_resubmit(cast: factories.Cast, app_id: int) -> None:
    """The applicant's correction after a return: one field edited, the equipment list replaced."""
    operations.update_draft(cast.applicant, app_id, {"innovation": "空压站群控"}, factories.state_of(app_id)[1])
    factories.upload(factories.flask_app(), cast, app_id, "equipment_list", data=factories.SAMPLE_PDF + b"% v2\n")
    fire(app_id, "resubmit", cast.applicant)


@pytest.fixture
def resubmitted(cast) -> int:
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "returned")
    _correct_and_resubmit(cast, app_id)
    return app_id


def test_submit_resubmit_and_supply_each_add_a_revision(client, cast):
    app_id = factories.new_application(cast)
    applicant = bearer(client, cast.applicant)
    listed = client.get(_url(app_id, "revisions"), headers=applicant).get_json()
    assert listed == {"items": [], "latest": 0, "last_read": 0}

    fire(app_id, "submit", cast.applicant)
    factories.drive_to(cast, app_id, "returned")
    _correct_and_resubmit(cast, app_id)
    factories.drive_to(cast, app_id, "supplement_requested")
    factories.upload(factories.flask_app(), cast, app_id, "supplement")
    fire(app_id, "supply", cast.applicant, factories.payload_for("supply", app_id))

    listed = client.get(_url(app_id, "revisions"), headers=applicant).get_json()
    assert [(r["number"], r["trigger"], r["created_by"]) for r in listed["items"]] == [
        (1, "submit", cast.applicant.username),
        (2, "resubmit", cast.applicant.username),
        (3, "supply", cast.applicant.username),
    ]
    assert listed["latest"] == 3

    third = client.get(_url(app_id, "revisions/3"), headers=applicant).get_json()
    assert [(i["text"], i["answer"]) for i in third["supplement"]["items"]] == [
        ("会计师事务所专项审计报告", "已上传专项审计报告"),
        ("设备清单", "已上传设备清单"),
    ]
    assert "supplement" in {a["category"] for a in third["attachments"]}
    second = client.get(_url(app_id, "revisions/2"), headers=applicant).get_json()
    assert second["form"]["innovation"] == "空压站群控" and second["supplement"] is None
    problem(client.get(_url(app_id, "revisions/4"), headers=applicant), 404, "not_found")


def test_changes_since_the_last_read_revision_then_mark_read(client, cast, resubmitted):
    reviewer = bearer(client, cast.district_reviewer)
    everything = client.get(_url(resubmitted, "changes"), headers=reviewer).get_json()
    assert (everything["since"], everything["latest"]) == (0, 2)
    assert {c["change"] for c in everything["attachments"]} == {"added"}

    marked = client.put(_url(resubmitted, "revisions/read"), json={"revision": 1}, headers=reviewer)
    assert marked.status_code == 200 and marked.get_json()["revision"] == 1

    changes = client.get(_url(resubmitted, "changes"), headers=reviewer).get_json()
    assert (changes["since"], changes["latest"]) == (1, 2)
    (field,) = changes["form"]
    assert (field["field"], field["after"], field["label"]["zh"]) == ("innovation", "空压站群控", "其他（建设创新点）")
    (attachment,) = changes["attachments"]
    assert (attachment["category"], attachment["change"]) == ("equipment_list", "replaced")
    assert attachment["after"]["version"] == attachment["before"]["version"] + 1
    assert attachment["category_label"]["zh"].startswith("用于能源管理中心信息化管理及控制系统设备清单")  # 附件2

    assert client.put(_url(resubmitted, "revisions/read"), json={"revision": 2}, headers=reviewer).status_code == 200
    backwards = client.put(_url(resubmitted, "revisions/read"), json={"revision": 1}, headers=reviewer)
    assert backwards.get_json()["revision"] == 2
    up_to_date = client.get(_url(resubmitted, "changes"), headers=reviewer).get_json()
    assert up_to_date == {"since": 2, "latest": 2, "form": [], "attachments": [], "supplements": []}
    assert client.get(_url(resubmitted, "changes?since=1"), headers=reviewer).get_json()["form"][0]["field"] == (
        "innovation"
    )
    assert client.get(_url(resubmitted, "revisions"), headers=reviewer).get_json()["last_read"] == 2
    with db.transaction() as session:
        stored = session.query(RevisionRead).filter_by(user_id=cast.district_reviewer.id).one()
        assert (stored.application_id, stored.number) == (resubmitted, 2)


def test_the_supplement_answers_show_among_the_changes(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "supplement_requested")
    reviewer = bearer(client, cast.municipal_reviewer)
    client.put(_url(app_id, "revisions/read"), json={"revision": 1}, headers=reviewer)
    factories.upload(factories.flask_app(), cast, app_id, "supplement")
    fire(app_id, "supply", cast.applicant, factories.payload_for("supply", app_id))
    changes = client.get(_url(app_id, "changes"), headers=reviewer).get_json()
    assert [(c["category"], c["change"]) for c in changes["attachments"]] == [("supplement", "added")]
    assert changes["form"] == []
    (supplement,) = changes["supplements"]
    assert supplement["revision"] == 2
    assert [i["answer"] for i in supplement["items"]] == ["已上传专项审计报告", "已上传设备清单"]


@pytest.mark.parametrize(
    ("query", "body"),
    [("since=3", None), ("since=-1", None), ("since=abc", None), (None, {"revision": 3}), (None, {"revision": "2"})],
)
def test_bad_revision_numbers_are_422(client, cast, resubmitted, query, body):
    reviewer = bearer(client, cast.district_reviewer)
    if query is not None:
        response = client.get(_url(resubmitted, f"changes?{query}"), headers=reviewer)
        field = "since"
    else:
        response = client.put(_url(resubmitted, "revisions/read"), json=body, headers=reviewer)
        field = "revision"
    document = problem(response, 422, "invalid_input")
    assert [e["field"] for e in document["errors"]] == [field]


def test_another_districts_reviewer_gets_404_exactly_as_for_a_missing_application(client, cast, resubmitted):
    other = bearer(client, cast.other_district_reviewer)
    missing = 2**31 - 2
    for tail, method, body in [
        ("revisions", "get", None),
        ("revisions/1", "get", None),
        ("changes", "get", None),
        ("revisions/read", "put", {"revision": 1}),
    ]:
        hidden = getattr(client, method)(_url(resubmitted, tail), json=body, headers=other)
        absent = getattr(client, method)(_url(missing, tail), json=body, headers=other)
        assert problem(hidden, 404, "not_found")["detail"].replace(str(resubmitted), "N") == problem(
            absent, 404, "not_found"
        )["detail"].replace(str(missing), "N")
    with db.transaction() as session:
        assert session.query(RevisionRead).filter_by(user_id=cast.other_district_reviewer.id).count() == 0


def test_responses_match_the_documented_schemas(client, cast, resubmitted):
    document: dict[str, Any] = client.get(f"{PREFIX}/openapi.json").get_json()
    conform = Conformance(document)
    reviewer = bearer(client, cast.district_reviewer)
    base = "/applications/{application_id}"
    conform.check(client.get(_url(resubmitted, "revisions"), headers=reviewer), f"{base}/revisions", "get")
    conform.check(client.get(_url(resubmitted, "revisions/2"), headers=reviewer), f"{base}/revisions/{{number}}", "get")
    conform.check(client.get(_url(resubmitted, "revisions/9"), headers=reviewer), f"{base}/revisions/{{number}}", "get")
    conform.check(client.get(_url(resubmitted, "changes"), headers=reviewer), f"{base}/changes", "get")
    conform.check(client.get(_url(resubmitted, "changes?since=x"), headers=reviewer), f"{base}/changes", "get")
    read = f"{base}/revisions/read"
    conform.check(client.put(_url(resubmitted, "revisions/read"), json={"revision": 1}, headers=reviewer), read, "put")
    conform.check(client.get(_url(resubmitted, "changes"), headers=reviewer), f"{base}/changes", "get")
    conform.check(client.put(_url(resubmitted, "revisions/read"), json={}, headers=reviewer), read, "put")
    conform.check(client.put(_url(resubmitted, "revisions/read"), data="[]", headers=reviewer), read, "put")
    conform.check(client.get(_url(resubmitted, "revisions")), f"{base}/revisions", "get")

    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "supplement_requested")
    factories.upload(factories.flask_app(), cast, app_id, "supplement")
    fire(app_id, "supply", cast.applicant, factories.payload_for("supply", app_id))
    municipal = bearer(client, cast.municipal_reviewer)
    conform.check(client.get(_url(app_id, "revisions/2"), headers=municipal), f"{base}/revisions/{{number}}", "get")
    conform.check(client.get(_url(app_id, "changes?since=1"), headers=municipal), f"{base}/changes", "get")
