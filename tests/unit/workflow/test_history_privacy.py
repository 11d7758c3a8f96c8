"""What the applicant sees of the desks' working in the history: decisions and comments, not the desks' notes."""

from __future__ import annotations

from tests import factories
from workflow import operations
from workflow.db import db
from workflow.engine import fire


def _history(actor, app_id):  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return [(e.outcome, e.trigger, dict(e.payload or {})) for e in operations.history(session, actor, app_id)]


def test_applicant_sees_the_return_and_its_points_but_not_the_checks(cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    checks = {"form_authenticity": "problem", "legal_entity": "ok", "operations": "ok", "finances": "not_checked"}
    fire(app_id, "return_for_correction", cast.district_reviewer, {"comment": "请补充盖章页", "checks": checks})

    mine = [p for outcome, trigger, p in _history(cast.applicant, app_id) if trigger == "return_for_correction"]
    theirs = [
        p for outcome, trigger, p in _history(cast.district_reviewer, app_id) if trigger == "return_for_correction"
    ]
    assert mine == [{"comment": "请补充盖章页"}]
    assert theirs[0]["checks"] == checks
    # The stored audit row is untouched by what the applicant was shown.
    assert _history(cast.auditor, app_id)[-1][2]["checks"] == checks


def test_applicant_does_not_see_the_panel_at_work(cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    factories.score_sheet(cast.expert, app_id)

    seen_by_applicant = {outcome for outcome, _, _ in _history(cast.applicant, app_id)}
    seen_by_coordinator = {outcome for outcome, _, _ in _history(cast.agency_coordinator, app_id)}
    assert seen_by_applicant.isdisjoint(operations.PANEL_INTERNAL)
    assert {"scored", "sheet_submitted"} <= seen_by_coordinator
