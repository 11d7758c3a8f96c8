"""The meter-evidence card on the application's page (issue 12): the frozen figures, the declared annual energy use
against the metered one, the completion date against six months of data, and a fresh snapshot for the coordinator."""

from __future__ import annotations

from sqlalchemy import func, select

from meters import snapshots
from meters.models import EvidenceSnapshot
from tests import factories
from tests.support.meters import metered
from tests.support.pages import log_in, text_of
from workflow.db import db
from workflow.models import AuditEvent


def _count(app_id: int) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).where(EvidenceSnapshot.application_id == app_id)) or 0


def test_the_card_shows_the_figures_and_the_coordinator_takes_a_fresh_snapshot(app, cast):
    metered(cast.org.id)
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    page = log_in(app, cast.applicant).get(f"/applications/{app_id}")
    card = text_of(page)
    assert 'id="evidence"' in page.text and 'data-check="ACCESS_RATIO_T1"' in page.text
    assert "/evidence/" in page.text and "/charts/completeness.svg" in page.text
    # The sample form declares 5200.5 tce; one register rising 10 kWh a day meters next to nothing.
    assert "5200.5" in card and 'id="evidence-take"' not in page.text
    assert 'id="evidence-completion"' in page.text

    coordinator = log_in(app, cast.agency_coordinator)
    shown = coordinator.get(f"/applications/{app_id}")
    assert 'id="evidence-take"' in shown.text
    before = _count(app_id)
    taken = coordinator.post(f"/applications/{app_id}/evidence", data={})
    assert taken.status_code == 303 and taken.headers["Location"].endswith(f"/applications/{app_id}#evidence")
    assert _count(app_id) == before + 1
    refused = log_in(app, cast.applicant).post(f"/applications/{app_id}/evidence", data={})
    assert refused.status_code == 403


def test_a_draft_without_a_snapshot_shows_no_card(app, cast):
    app_id = factories.new_application(cast)
    assert 'id="evidence"' not in log_in(app, cast.applicant).get(f"/applications/{app_id}").text
    assert 'id="evidence"' not in log_in(app, cast.agency_coordinator).get(f"/applications/{app_id}").text


def test_a_requested_snapshot_is_taken_once_however_often_the_task_runs(cast):
    """The page's request is audited and queued; a redelivered task finds its snapshot and takes no second one."""
    metered(cast.org.id)
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    before = _count(app_id)
    seq = snapshots.request_fresh(cast.agency_coordinator, app_id)
    assert _count(app_id) == before + 1  # the eager relay ran the task
    with db.transaction() as session:
        again = snapshots.on_request(session, app_id, seq, cast.agency_coordinator.username)
        assert again is not None and again.source_event_seq == seq
        asked = session.get(AuditEvent, seq)
        assert asked is not None and (asked.outcome, asked.actor) == (
            "evidence_asked",
            cast.agency_coordinator.username,
        )
    assert _count(app_id) == before + 1
