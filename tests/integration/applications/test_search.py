"""Search (issue 15 item 9): by unit name, USCC, project name or number, within the caller's visibility — on the
applications page and through `GET /applications?q=`."""

from __future__ import annotations

from tests import factories
from tests.support.api import bearer, problem
from tests.support.pages import log_in, text_of
from workflow.accounts import Organisation
from workflow.db import db
from workflow.engine import fire


def _ids(client, user, text: str) -> set[int]:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/applications", query_string={"q": text}, headers=bearer(client, user))
    assert answer.status_code == 200, answer.get_json()
    return {item["id"] for item in answer.get_json()["items"]}


def test_by_unit_uscc_project_and_number_within_visibility(client, cast):
    other = factories.make_cast("徐汇区")
    with db.transaction() as session:
        session.get(Organisation, cast.org.id).name = "上海甲钢铁有限公司"
        session.get(Organisation, other.org.id).name = "上海乙化工有限公司"
    mine = factories.new_application(cast, project_name="余热回收能源管理中心")
    theirs = factories.new_application(other, project_name="余热回收二期")
    plain = factories.new_application(cast, project_name="空压站改造")
    for app_id, who in ((mine, cast), (theirs, other), (plain, cast)):
        fire(app_id, "submit", who.applicant)
    auditor = cast.auditor
    assert _ids(client, auditor, "余热回收") == {mine, theirs}
    assert _ids(client, auditor, cast.org.uscc.lower()) == {mine, plain}  # the code, in any case
    assert _ids(client, auditor, "甲钢铁") == {mine, plain}  # part of the unit's name
    assert _ids(client, auditor, f"#{theirs}") == {theirs} == _ids(client, auditor, str(theirs))
    assert _ids(client, auditor, "100%") == set()  # % is a character, not a wildcard
    # The district's reviewer finds only what they may see, whatever they type.
    assert _ids(client, cast.district_reviewer, "余热回收") == {mine}
    assert _ids(client, cast.district_reviewer, str(theirs)) == set()
    problem(
        client.get("/api/v1/applications", query_string={"q": " "}, headers=bearer(client, auditor)),
        422,
        "invalid_input",
    )


def test_the_page_searches_and_keeps_the_words_in_its_box(app, cast):
    found = factories.new_application(cast, project_name="余热回收能源管理中心")
    factories.new_application(cast, project_name="空压站改造")
    page = log_in(app, cast.applicant).get("/applications", query_string={"q": "余热"})
    text = text_of(page)
    assert "余热回收能源管理中心" in text and "空压站改造" not in text
    assert 'value="余热"' in page.text and f"/applications/{found}" in page.text
