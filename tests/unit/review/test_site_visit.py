"""The site visit (seed 002 §五(二)): sheets and conclusions open on the visit's day; the panel notes both steps."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from sqlalchemy import select

from review import panels, record, scoring, site_visit
from review.models import SiteVisit
from tests import factories
from workflow import operations
from workflow.db import db
from workflow.engine import fire
from workflow.errors import Forbidden, GuardFailed
from workflow.models import AuditEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED_STEPS = ("申报单位汇报", "现场演示", "现场勘察提问")  # seed 002 §五(二)(1), (2), as the seed words them


@pytest.fixture
def panel(cast) -> int:
    """Site verification with cast.expert leading and cast.expert2 sitting, both declared; no visit yet."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)
    factories.declare_clear(app_id, cast.expert2.id)
    return app_id


def _visit_at(app_id: int, when: dt.datetime) -> None:
    """Where the calendar stands against the visit: its stored time (schedule_visit takes only future times)."""
    with db.transaction() as session:
        visit = session.scalars(select(SiteVisit).where(SiteVisit.application_id == app_id)).one_or_none()
        if visit is None:
            visit = SiteVisit(application_id=app_id, place="现场", note="")
            session.add(visit)
        visit.visit_at = when.astimezone(dt.UTC)  # stored in UTC, as schedule_visit stores it


def _today_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def _save(expert, app_id: int) -> None:  # type: ignore[no-untyped-def]
    scoring.save_answers(expert, app_id, [{"criterion": "1.1", "result": "conform"}])


def test_the_words_are_the_seeds():
    text = (Path(__file__).parents[3] / "docs" / "sources" / "seed-002-emc-acceptance.txt").read_text(encoding="utf-8")
    assert all(words in text for words in SEED_STEPS)
    assert [zh for zh, _en in site_visit.STEPS.values()] == ["汇报与现场演示", "勘察提问"]


def test_with_no_visit_scheduled_nothing_is_scored(cast, panel):
    with pytest.raises(site_visit.BeforeVisitDay) as refused:
        _save(cast.expert, panel)
    assert [(p.field, p.code) for p in refused.value.problems] == [("visit", "no_visit")]


def test_the_sheet_opens_on_the_visits_day_in_shanghai_even_before_its_hour(cast, panel):
    """Tomorrow 00:00 in Shanghai is refused, naming the day; today 23:59:59 in Shanghai is open now."""
    tomorrow = _today_shanghai() + dt.timedelta(days=1)
    _visit_at(panel, dt.datetime.combine(tomorrow, dt.time(0, 0), SHANGHAI))
    with pytest.raises(site_visit.BeforeVisitDay) as refused:
        _save(cast.expert, panel)
    assert f"现场核查定于 {tomorrow}（北京时间）" in refused.value.detail
    _visit_at(panel, dt.datetime.combine(_today_shanghai(), dt.time(23, 59, 59), SHANGHAI))
    _save(cast.expert, panel)
    assert scoring.view_sheet(cast.expert, panel)["visit"] == {"day": _today_shanghai().isoformat(), "open": True}


def test_a_visit_moved_to_a_later_day_holds_the_conclusion(cast, panel):
    factories.visit_day_arrives(panel)
    factories.score_sheet(cast.expert, panel)
    factories.score_sheet(cast.expert2, panel)
    factories.note_visit_steps(panel)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    panels.schedule_visit(cast.agency_coordinator, panel, later, "另定地点")
    for trigger in ("conclude_pass", "conclude_fail"):
        with pytest.raises(GuardFailed) as refused:
            fire(panel, trigger, cast.expert, {"comment": "结论"})
        assert ("visit", "before_visit_day") in {(p.field, p.code) for p in refused.value.problems}


def test_only_the_leader_notes_the_steps_and_only_from_the_visits_day(cast, panel):
    _visit_at(panel, dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    with pytest.raises(site_visit.BeforeVisitDay):
        site_visit.record_steps(cast.expert, panel, "汇报", "勘察")
    factories.visit_day_arrives(panel)
    with pytest.raises(Forbidden):
        site_visit.record_steps(cast.expert2, panel, "汇报", "勘察")
    with pytest.raises(Forbidden):
        site_visit.record_steps(cast.agency_coordinator, panel, "汇报", "勘察")
    noted = site_visit.record_steps(cast.expert, panel, "  演示了能耗看板  ", "抽查关口表")
    assert (noted["presentation"]["notes"], noted["inspection"]["notes"]) == ("演示了能耗看板", "抽查关口表")
    assert noted["presentation"]["label"] == "汇报与现场演示" and noted["noted_by"] == cast.expert.username
    with db.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.application_id == panel, AuditEvent.outcome == "visit_steps")
        ).one()
        assert event.payload == {"presentation": "演示了能耗看板", "inspection": "抽查关口表"}


def test_the_conclusion_needs_both_steps_noted_and_the_record_states_them(cast, panel):
    factories.visit_day_arrives(panel)
    factories.score_sheet(cast.expert, panel)
    factories.score_sheet(cast.expert2, panel)
    site_visit.record_steps(cast.expert, panel, "申报单位汇报并演示平台", "")
    with pytest.raises(GuardFailed) as refused:
        fire(panel, "conclude_pass", cast.expert, {"comment": "符合"})
    assert {(p.field, p.code) for p in refused.value.problems} == {("visit.inspection", "step_not_noted")}
    site_visit.record_steps(cast.expert, panel, "申报单位汇报并演示平台", "查看关口表布点，抽查断数")
    assert fire(panel, "conclude_pass", cast.expert, {"comment": "符合"}).state == "funding_review"

    with db.transaction() as session:
        _name, data = record.record_document(session, cast.municipal_reviewer, panel, factories.blob_store())
    cells = [c.text for t in Document(io.BytesIO(data)).tables for row in t.rows for c in row.cells]
    assert "（1）汇报与现场演示" in cells and "申报单位汇报并演示平台" in cells
    assert "（2）勘察提问" in cells and "查看关口表布点，抽查断数" in cells


def test_the_applicant_sees_the_visit_but_not_the_panels_notes(cast, panel):
    factories.visit_day_arrives(panel)
    factories.note_visit_steps(panel)
    with db.transaction() as session:
        mine = panels.panel_view(session, cast.applicant, panel)["visit"]
        theirs = panels.panel_view(session, cast.agency_coordinator, panel)["visit"]
    assert "steps" not in mine and theirs["steps"]["inspection"]["notes"]
