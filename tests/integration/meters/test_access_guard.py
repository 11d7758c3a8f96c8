"""The monitoring fund's technical review reads the meter evidence (issue 12 §5): seed 002 附表1 2.1
"企业一级（关口）表具接入比例100％", in the snapshot taken on entering the review; below it, a recorded reason."""

from __future__ import annotations

import io

from sqlalchemy import select

from meters import registry
from meters.models import EvidenceSnapshot
from tests import factories
from tests.support.meters import HEADER, metered
from tests.support.pages import fire_form, log_in, text_of
from workflow.accounts import SYSTEM, Organisation
from workflow.db import db
from workflow.engine import fire
from workflow.errors import GuardFailed
from workflow.models import Application, AuditEvent, ProgrammeVersion

PROGRAMME = "monitoring-fund"


def _in_review(cast: factories.Cast) -> int:
    app_id = factories.new_application(cast, programme=PROGRAMME)
    factories.drive_to(cast, app_id, "technical_review")
    return app_id


def _refusal(app_id: int, cast: factories.Cast, payload: dict[str, str]) -> list[str]:
    try:
        fire(app_id, "pass_technical_review", cast.monitoring_reviewer, payload)
    except GuardFailed as exc:
        return [p.code for p in exc.problems]
    return []


def _second_gateway_required(org_id: int) -> None:
    """A second tier-1 electricity point required and registered, but never read: 1 live of 2."""
    rows, _ = registry.read_registry(io.StringIO(HEADER + "G-2,1,electricity,kWh,1440,true,,0.5S,2030-01-01\n"))
    with db.transaction() as session:
        org = session.get(Organisation, org_id)
        registry.register(session, SYSTEM, org, rows)
        registry.require(session, SYSTEM, org, 1, "electricity", 2)


def test_entering_the_technical_review_takes_a_snapshot_and_100_percent_passes_without_a_reason(cast):
    metered(cast.org.id)  # one gateway point required, read every day: tier-1 access 100 %
    app_id = _in_review(cast)
    with db.transaction() as session:
        [taken] = session.scalars(select(EvidenceSnapshot).where(EvidenceSnapshot.application_id == app_id)).all()
        assert taken.reason == "entered technical_review"
        t1 = next(r for r in taken.results if r["check"] == "ACCESS_RATIO_T1")
        assert (t1["value"], t1["threshold"], t1["passed"]) == ("1.0000", "1.00", True)
    assert _refusal(app_id, cast, {}) == []
    assert factories.state_of(app_id)[0] == "regulator_approval"


def test_below_100_percent_the_review_passes_only_with_a_recorded_reason(cast):
    metered(cast.org.id)
    _second_gateway_required(cast.org.id)
    app_id = _in_review(cast)
    assert _refusal(app_id, cast, {}) == ["tier1_access_below"]
    assert _refusal(app_id, cast, {"access_reason": "   "}) == ["tier1_access_below"]  # blank is no reason
    assert factories.state_of(app_id)[0] == "technical_review"
    reason = "G-2 为备用关口表，2026年内完成接入"
    assert _refusal(app_id, cast, {"access_reason": reason}) == []
    with db.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.application_id == app_id,
                AuditEvent.trigger == "pass_technical_review",
                AuditEvent.outcome == "transition",
            )
        ).one()
        assert event.payload["access_reason"] == reason  # the reason is on the record


def test_without_any_snapshot_or_required_points_a_reason_is_needed(cast):
    app_id = _in_review(cast)  # no meters: the snapshot cannot compute tier-1 access
    assert _refusal(app_id, cast, {}) == ["tier1_access_below"]
    with db.transaction() as session:
        for snapshot in session.scalars(select(EvidenceSnapshot).where(EvidenceSnapshot.application_id == app_id)):
            session.delete(snapshot)
    assert _refusal(app_id, cast, {}) == ["no_evidence"]


def test_an_application_opened_under_version_2_keeps_its_rules(cast):
    """Version 2 had no such guard; an application pinned to it passes as it did (a version never changes)."""
    app_id = _in_review(cast)
    with db.transaction() as session:
        v2 = session.scalars(
            select(ProgrammeVersion).where(ProgrammeVersion.code == PROGRAMME, ProgrammeVersion.version == 2)
        ).one()
        application = session.get(Application, app_id)
        assert application is not None
        application.programme_version_id = v2.id  # as if submitted in 2022, before version 3 shipped
    assert _refusal(app_id, cast, {}) == []  # no meters, no snapshot, no reason: version 2 does not ask


def test_the_reviewers_page_offers_the_reason_and_shows_why_it_was_refused(app, cast):
    metered(cast.org.id)
    _second_gateway_required(cast.org.id)
    app_id = _in_review(cast)
    reviewer = log_in(app, cast.monitoring_reviewer)
    page = reviewer.get(f"/applications/{app_id}")
    assert 'name="pass_technical_review-access_reason"' in page.text
    refused = fire_form(reviewer, app_id, "pass_technical_review")
    assert refused.status_code == 422
    assert "一级（关口）表具接入比例为 50.00%，低于 100%" in text_of(refused)
    passed = fire_form(reviewer, app_id, "pass_technical_review", {"access_reason": "备用关口表年内接入"})
    assert passed.status_code == 303
    assert factories.state_of(app_id)[0] == "regulator_approval"
