"""Issue 10 item 6a: the applicant reads only what is addressed to them; the desks and finance keep their notes.

Every trigger of both programmes is fired with a distinctive comment, then the applicant's history is read through
the API: the comment is there only where the transition is addressed to the applicant, the event is there unless
even its fact is deliberation (a draft award, its send-back), and the reviewers still read everything.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifications.models import Notification
from tests import factories
from tests.support.api import bearer
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.definitions import shipped
from workflow.engine import fire

DEFINITIONS = shipped()

# Our own reading of issue 10 (not the parser's table): the applicant's own acts and what they must act on or be
# told are addressed to them; the desks' passes and referrals, clerical acts and finance's working are internal.
ADDRESSED = {
    "submit",
    "resubmit",
    "supply",
    "withdraw",
    "return_for_correction",
    "request_supplement",
    "reject",
    "conclude_pass",
    "conclude_fail",
    "lapse",
}
HIDDEN = {"propose_award", "send_back"}


def _triggers() -> list[pytest.ParameterSet]:
    """One case per (programme, trigger, first source), from the newest shipped version of each programme."""
    newest = {d.code: d for d in sorted(DEFINITIONS, key=lambda d: d.version)}
    return [
        pytest.param(code, trigger, id=f"{code}:{trigger}")
        for code, definition in newest.items()
        for trigger in definition.triggers
    ]


def _history(client: Any, headers: dict[str, str], app_id: int) -> tuple[list[dict[str, Any]], str]:
    response = client.get(f"/api/v1/applications/{app_id}/history", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"], response.get_data(as_text=True)


def _fire_marked(cast: factories.Cast, app_id: int, trigger: str, marker: str) -> int:
    """Fire `trigger` from where the application stands, with `marker` as its comment; the event's seq."""
    definition = factories.definition_of(app_id)
    state, _ = factories.state_of(app_id)
    transition = definition.transition(trigger, state)
    assert transition is not None
    role = next((r for r in transition.roles if r != "system"), transition.roles[0])
    if role == "expert":
        factories.ensure_leader(cast, app_id)
    if "panel_sheets_complete" in transition.guards:
        factories.score_sheet(cast.expert, app_id)
        factories.note_visit_steps(app_id)
    payload = {**factories.payload_for(trigger, app_id), "comment": marker}
    if trigger == "propose_award":
        payload["amount"] = "36000.00"  # under both rules' amounts: the marker is its reason
    actor = SYSTEM if role == "system" else factories.actor_for(cast, trigger, role)
    return fire(app_id, trigger, actor, payload).event_seq


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.label)
def test_every_shipped_version_addresses_its_transitions_as_the_issue_reads(definition):
    """v1 and v2 of both programmes (immutable, so without the key) take their visibility from the default table."""
    expected = {
        (t.trigger, s): "applicant" if t.trigger in ADDRESSED else "hidden" if t.trigger in HIDDEN else "internal"
        for t in definition.transitions
        for s in t.sources
    }
    assert {(t.trigger, s): definition.visibility_of(t.trigger, s) for t, s in _sources(definition)} == expected


def _sources(definition: Any) -> list[tuple[Any, str]]:
    return [(t, s) for t in definition.transitions for s in t.sources]


@pytest.mark.parametrize(("code", "trigger"), _triggers())
def test_the_applicant_reads_a_comment_only_where_it_is_addressed_to_them(client, cast, code, trigger):
    definition = next(d for d in DEFINITIONS if d.code == code)
    source = next(t.sources[0] for t in definition.transitions if t.trigger == trigger)
    kind = definition.applicant_kinds[0]
    app_id = factories.new_application(cast, code, kind)
    factories.drive_to(cast, app_id, source)
    marker = f"MARK-{code}-{trigger}-内部意见"
    seq = _fire_marked(cast, app_id, trigger, marker)

    mine, text = _history(client, bearer(client, cast.applicant), app_id)
    event = next((e for e in mine if e["seq"] == seq), None)
    if trigger in ADDRESSED:
        assert event is not None and event["payload"]["comment"] == marker
    elif trigger in HIDDEN:
        assert event is None
        assert marker not in text and "36000.00" not in text
    else:
        # The applicant knows where the file is, not what the desk wrote.
        assert event is not None and event["to_state"] == definition.transition(trigger, source).dest
        # An approval tells the applicant the amount it approved (drive_to proposed the rule's), nothing else.
        approved = {"amount": factories.rule_award(app_id)}
        assert event["payload"] == (approved if trigger == "approve_award" else {})
        assert marker not in text
    assert "checks" not in text  # the pre-review's checklist is the desk's, whatever the decision

    # The authorities that run and oversee the programme still read all of it.
    theirs, _ = _history(client, bearer(client, cast.auditor), app_id)
    event = next(e for e in theirs if e["seq"] == seq)
    assert event["payload"]["comment"] == marker


def test_a_draft_award_and_its_send_back_reach_the_applicant_only_as_the_approved_amount(client, cast):
    """The reproduction: officer 1 proposes 351,000 (the rule's amount), officer 2 sends it back with a note;
    the applicant's history (API and page) and inbox show neither. After a second proposal is approved, they read
    that amount."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    fire(app_id, "propose_award", cast.finance_officer, {"amount": "351000.00", "comment": "按规则核定"})
    fire(app_id, "send_back", cast.finance_officer2, {"comment": "金额超出预算，请按核定投资额重拟"})
    applicant = bearer(client, cast.applicant)
    _items, text = _history(client, applicant, app_id)
    assert "351000" not in text and "超出预算" not in text and "按规则核定" not in text
    with db.transaction() as session:
        told = {n.event_seq for n in session.query(Notification).filter_by(user_id=cast.applicant.id)}
        assert told  # the applicant hears of their own and the desks' other moves …
    items, _ = _history(client, bearer(client, cast.auditor), app_id)
    finance = {e["seq"] for e in items if e["trigger"] in ("propose_award", "send_back")}
    assert len(finance) == 2 and not told & finance  # … never of a draft award or its send-back

    fire(app_id, "propose_award", cast.finance_officer, {"amount": "300000.00", "comment": "按年度预算下调"})
    fire(app_id, "approve_award", cast.finance_officer2, {"comment": "同意"})
    items, text = _history(client, applicant, app_id)
    approved = [e for e in items if e["trigger"] == "approve_award"]
    assert [e["payload"] for e in approved] == [{"amount": "300000.00"}]
    assert [e["trigger"] for e in items if e["trigger"] in HIDDEN] == []
    assert "351000" not in text and "超出预算" not in text

    client.post("/login", data={"username": cast.applicant.username, "password": factories.PASSWORD})
    page = client.get(f"/applications/{app_id}").get_data(as_text=True)
    assert "300000.00" in page
    assert "351000" not in page and "超出预算" not in page and "按规则核定" not in page


def test_the_return_points_are_a_list_on_the_page_and_the_checks_stay_with_the_desk(client, cast):
    """The district's points to correct read as items, not as a raw JSON array."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    checks = {"form_authenticity": "problem", "legal_entity": "ok", "operations": "ok", "finances": "ok"}
    points = ["补充加盖公章的申请表", "更正项目总投资额"]
    payload = {"comment": "请按以下要点修改", "points": points, "checks": checks}
    fire(app_id, "return_for_correction", cast.district_reviewer, payload)

    client.post("/login", data={"username": cast.applicant.username, "password": factories.PASSWORD})
    page = client.get(f"/applications/{app_id}").get_data(as_text=True)
    history = page[page.index('id="history"') :]
    assert json.dumps(points, ensure_ascii=False) not in history and "[&#34;" not in history
    assert all(f"<li>{p}</li>" in history for p in points)
    assert "form_authenticity" not in page
