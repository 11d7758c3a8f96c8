"""Rounds through pages (issue 15 item 10): an administrator copies the newest version into a draft, changes a
threshold and the supplement deadline, reads the diff and publishes; new applications take the new version and its
rules while those already open keep theirs; a draft that breaks reachability is refused; a late submission is
refused by the window, then admitted with a reason and accepted."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from applications.attachments import required_categories
from review.models import Budget, SupplementRequest
from tests import factories
from tests.support.pages import log_in, text_of
from workflow import drafts, workdays
from workflow.db import db, utcnow
from workflow.engine import fire
from workflow.errors import Forbidden, GuardFailed, InvalidInput
from workflow.models import AuditEvent

EMC = "emc-acceptance"


def _start(client, code: str = EMC) -> int:  # type: ignore[no-untyped-def]
    response = client.post(f"/rounds/{code}/drafts")
    assert response.status_code == 302, response.text
    found = re.search(r"/rounds/drafts/(\d+)$", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def _changes(response) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = re.findall(
        r'<tr data-key="([^"]+)"><th scope="row">[^<]*</th><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td></tr>',
        response.text,
    )
    return {key: (before, after) for key, before, after in rows}


def _due_in_working_days(cast: factories.Cast, application_id: int) -> int:
    """Request a supplement naming no date: the default deadline, counted back in working days from today."""
    factories.drive_to(cast, application_id, "completeness_check")
    fire(application_id, "request_supplement", cast.municipal_reviewer, {"items": ["设备清单"]})
    with db.transaction() as session:
        due = session.scalars(
            select(SupplementRequest.due_date).where(SupplementRequest.application_id == application_id)
        ).one()
    today = workdays.today_in_shanghai(utcnow())
    return next(n for n in range(1, 60) if workdays.add_working_days(today, n) == due)


def test_an_administrator_opens_a_round_with_a_new_threshold_and_deadline_without_touching_code(app, cast):
    before = factories.new_application(cast)  # in flight under the version published now
    old_label = factories.definition_of(before).label
    admin = log_in(app, cast.admin, lang="en")
    draft_id = _start(admin)
    assert admin.get(f"/rounds/drafts/{draft_id}").status_code == 200
    year = workdays.today_in_shanghai(utcnow()).year + 1
    response = admin.post(
        f"/rounds/drafts/{draft_id}",
        data={
            "special_audit_from_wan": "200",
            "deadline_supplement_requested": "15",
            "budget_year": str(year),
            "budget_amount": "5000000",
        },
    )
    assert response.status_code == 302, text_of(response)

    diff = admin.get(f"/rounds/drafts/{draft_id}/diff")
    changes = _changes(diff)
    # Seed 002 附件2 附件5 "投资额100万以上…专项审计报告" (100 万元) and the local 10 working days, as changed.
    assert changes["special_audit_from_wan"] == ("100", "200")
    assert changes["deadline.supplement_requested"] == ("10", "15")
    assert changes[f"budget.{year}"] == ("—", "5,000,000.00")
    assert "Default deadline in “Supplement requested” (working days)" in text_of(diff)

    response = admin.post(f"/rounds/drafts/{draft_id}/publish")
    assert response.status_code == 302, text_of(response)
    newest = factories.newest_definition(EMC)
    assert newest.version == factories.definition_of(before).version + 1
    assert "15个工作日" in {s.key: s.zh for s in newest.local_settings}["supplement_default_days"]

    after = factories.new_application(cast)
    assert factories.definition_of(after).label == newest.label
    assert factories.definition_of(before).label == old_label  # in flight: keeps its version

    # The threshold applies to the new round only: the sample's 180 万元 needs the special audit report under the
    # seed's 100 万元, not under this round's 200 万元.
    form = {"total_investment_wan": "180"}
    assert "special_audit_report" in required_categories(factories.definition_of(before), "enterprise", form)
    assert "special_audit_report" not in required_categories(factories.definition_of(after), "enterprise", form)
    # …and so does the deadline: a supplement requested without a date is due in 15 working days, not 10.
    assert _due_in_working_days(cast, after) == 15
    assert _due_in_working_days(cast, before) == 10

    with db.transaction() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "round_published"))
        assert event.definition == newest.label and event.actor == cast.admin.username
        assert {c["key"] for c in event.payload["changes"]} >= {
            "special_audit_from_wan",
            "deadline.supplement_requested",
        }
        budget = session.scalars(select(Budget).where(Budget.programme == EMC, Budget.year == year)).one()
        assert budget.amount == 5_000_000
    page = admin.get("/rounds").text
    assert newest.label in page and f"/rounds/drafts/{draft_id}" not in page  # published: no longer a draft


def test_an_invalid_value_is_shown_in_the_error_summary_and_changes_nothing(app, cast):
    admin = log_in(app, cast.admin, lang="en")
    draft_id = _start(admin)
    response = admin.post(
        f"/rounds/drafts/{draft_id}", data={"deadline_supplement_requested": "0", "award_rate": "1.5"}
    )
    assert response.status_code == 422
    assert 'id="error-summary"' in response.text
    assert 'href="#deadline_supplement_requested"' in response.text and 'href="#award_rate"' in response.text
    assert "不是 0" in text_of(response) and "不是 1.5" in text_of(response)
    assert _changes(admin.get(f"/rounds/drafts/{draft_id}/diff")) == {}


def test_a_window_overlapping_the_newest_round_is_refused(app, cast):
    factories.open_round_around_today("monitoring-fund")
    window = factories.newest_definition("monitoring-fund").window
    assert window is not None and window.closes is not None
    admin = log_in(app, cast.admin, lang="en")
    draft_id = _start(admin, "monitoring-fund")
    response = admin.post(
        f"/rounds/drafts/{draft_id}",
        data={"opens": window.closes.isoformat(), "closes": (window.closes + dt.timedelta(days=30)).isoformat()},
    )
    assert response.status_code == 422
    assert 'href="#opens"' in response.text and "重叠" in text_of(response)


def test_a_draft_that_breaks_reachability_cannot_be_published(app, cast):
    with db.transaction() as session:
        draft = drafts.start_draft(session, cast.admin, EMC)
        raw = dict(draft.definition)
        # The test's way in (the pages edit only a round's settings): drop the district's pass.
        raw["transitions"] = [t for t in raw["transitions"] if t["trigger"] != "pass_prereview"]
        drafts.replace_definition(session, cast.admin, draft.id, raw)
        draft_id = draft.id
    version = factories.newest_definition(EMC).version
    admin = log_in(app, cast.admin, lang="en")
    changes = _changes(admin.get(f"/rounds/drafts/{draft_id}/diff"))
    assert changes["transition.pass_prereview.district_review"] == ("completeness_check", "—")
    response = admin.post(f"/rounds/drafts/{draft_id}/publish")
    assert response.status_code == 422
    assert "state 'completeness_check' cannot be reached from 'draft'" in html.unescape(response.text)
    assert factories.newest_definition(EMC).version == version


def test_a_loop_with_no_way_to_a_final_state_cannot_be_published(cast):
    with db.transaction() as session:
        draft = drafts.start_draft(session, cast.admin, EMC)
        raw = dict(draft.definition)
        # A withdrawn application could only be withdrawn again, never archived.
        raw["transitions"] = [
            {**t, "source": [s for s in t["source"] if s != "withdrawn"]} if t["trigger"] == "archive" else t
            for t in raw["transitions"]
        ] + [{"trigger": "reconsider", "source": "withdrawn", "dest": "withdrawn", "roles": ["applicant"]}]
        drafts.replace_definition(session, cast.admin, draft.id, raw)
        with pytest.raises(InvalidInput) as refused:
            drafts.publish_draft(session, cast.admin, draft.id)
    assert ("definition", "no_way_to_end") in {(p.field, p.code) for p in refused.value.problems}


def test_a_late_submission_is_admitted_with_a_reason_and_then_accepted(app, cast, monkeypatch):
    app_id = factories.new_application(cast, "monitoring-fund")
    window = factories.definition_of(app_id).window
    assert window is not None and window.closes is not None
    # Seed 000 §二(四) "于…前…提交申请": the day after the close (noon in Shanghai), the window guard refuses.
    after_close = dt.datetime.combine(window.closes + dt.timedelta(days=1), dt.time(4), dt.UTC)
    monkeypatch.setattr("workflow.guards.utcnow", lambda: after_close)
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "submit", cast.applicant)
    assert "window_closed" in {p.code for p in refused.value.problems}

    admin = log_in(app, cast.admin, lang="en")
    blank = admin.post("/rounds/late-admissions", data={"application_id": str(app_id), "reason": "  "})
    assert blank.status_code == 422 and 'href="#reason"' in blank.text and "须写明理由" in text_of(blank)
    reason = "申报系统于截止日下午故障，单位已于当日书面报送"
    response = admin.post("/rounds/late-admissions", data={"application_id": str(app_id), "reason": reason})
    assert response.status_code == 302, text_of(response)
    assert reason in text_of(admin.get("/rounds"))

    assert fire(app_id, "submit", cast.applicant).state == "technical_review"
    with db.transaction() as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.application_id == app_id, AuditEvent.outcome == "late_admitted")
        )
        assert event.payload["reason"] == reason and event.actor == cast.admin.username
    again = admin.post("/rounds/late-admissions", data={"application_id": str(app_id), "reason": reason})
    assert again.status_code == 422 and "已经提交" in text_of(again)


def test_only_an_administrator_reaches_the_rounds_pages(app, cast):
    with db.transaction() as session:
        draft_id = drafts.start_draft(session, cast.admin, EMC).id
    for user in (cast.municipal_reviewer, cast.applicant, cast.finance_officer, cast.auditor):
        client = log_in(app, user)
        assert client.get("/rounds").status_code == 403
        assert client.get(f"/rounds/drafts/{draft_id}").status_code == 403
        assert client.get(f"/rounds/drafts/{draft_id}/diff").status_code == 403
        assert (
            client.post(f"/rounds/drafts/{draft_id}", data={"deadline_supplement_requested": "20"}).status_code == 403
        )
        assert client.post(f"/rounds/drafts/{draft_id}/publish").status_code == 403
        assert client.post(f"/rounds/{EMC}/drafts").status_code == 403
        assert client.post("/rounds/late-admissions", data={"application_id": "1", "reason": "x"}).status_code == 403
    with pytest.raises(Forbidden, match="only an administrator"), db.transaction() as session:
        drafts.start_draft(session, cast.municipal_reviewer, EMC)
