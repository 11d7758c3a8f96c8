"""Evidence snapshots (issue 12): taken when an application enters site verification, frozen with a hash, shown
beside the checklist's criteria, and fresh ones taken by the agency's coordinator."""

from __future__ import annotations

from sqlalchemy import select

from meters import snapshots
from meters.models import EvidenceSnapshot
from review import scoring
from tests import factories
from tests.support.api import bearer, problem
from tests.support.meters import metered
from tests.support.openapi import Conformance
from tests.support.pages import log_in
from tests.support.shell import openapi_document
from workflow.db import db
from workflow.models import AuditEvent


def _snapshots(app_id: int) -> list[EvidenceSnapshot]:
    with db.transaction() as session:
        rows = list(session.scalars(select(EvidenceSnapshot).where(EvidenceSnapshot.application_id == app_id)))
        session.expunge_all()
        return rows


def test_entering_site_verification_takes_one_frozen_snapshot_and_the_sheet_shows_its_figures(cast):
    metered(cast.org.id)
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    assert _snapshots(app_id) == []  # not before the site verification
    factories.drive_to(cast, app_id, "site_verification")
    [taken] = _snapshots(app_id)
    assert (taken.taken_by, taken.reason, taken.rules) == ("system", "entered site_verification", "evidence@1")
    assert taken.sha256 == snapshots.digest(taken)  # the hash covers what is stored
    results = {r["check"]: r for r in taken.results}
    assert (results["ACCESS_RATIO_T1"]["value"], results["ACCESS_RATIO_T1"]["passed"]) == ("1.0000", True)
    assert taken.inputs[0]["meter"] == "G-1" and taken.inputs[0]["points"] == 365
    factories.ensure_leader(cast, app_id)
    sheet = scoring.view_sheet(cast.expert, app_id)
    slots = {e["check"]: e["result"] for cat in sheet["categories"] for c in cat["criteria"] for e in c["evidence"]}
    assert slots["ACCESS_RATIO_T1"]["value"] == "1.0000" and slots["ACCESS_RATIO_T1"]["snapshot_id"] == taken.id
    assert slots["ACCESS_RATIO_T1"]["threshold"] == "1.00" and slots["ACCESS_RATIO_T1"]["passed"] is True


def test_the_api_shows_the_latest_and_the_coordinator_takes_a_fresh_one(app, client, cast):
    metered(cast.org.id)
    app_id = factories.new_application(cast)
    url = f"/api/v1/applications/{app_id}/evidence"
    conform = Conformance(openapi_document(app))
    coordinator = bearer(client, cast.agency_coordinator)
    applicant = bearer(client, cast.applicant)
    problem(client.get(url, headers=applicant), 404, "not_found")  # none yet: the file is a draft
    factories.drive_to(cast, app_id, "site_verification")
    shown = client.get(url, headers=applicant)
    assert shown.status_code == 200
    conform.check(shown, "/applications/{application_id}/evidence", "get")
    first = shown.get_json()
    problem(client.post(url, headers=applicant), 403, "forbidden")
    asked = client.post(url, headers=coordinator)
    assert asked.status_code == 202 and asked.headers["Location"] == url  # queued: a large unit's takes minutes
    conform.check(asked, "/applications/{application_id}/evidence", "post")
    assert asked.get_json()["status"] == "queued"
    fresh = client.get(url, headers=applicant).get_json()  # the embedded (eager) worker has taken it
    assert fresh["id"] != first["id"] and fresh["taken_by"] == cast.agency_coordinator.username
    with db.transaction() as session:
        request = session.get(AuditEvent, asked.get_json()["request"])
        assert request is not None and request.outcome == "evidence_asked"
    assert len(_snapshots(app_id)) == 2  # the older one stays
    problem(client.get(url, headers=bearer(client, cast.other_applicant)), 404, "not_found")


def test_the_snapshot_freezes_the_pictures_figures_and_both_doors_draw_them(app, client, cast):
    """Each quantitative criterion names its picture; the tablet (page session) and the API draw it as SVG or PNG
    from the frozen figures; someone who may not see the application gets 404, as for anything not there."""
    metered(cast.org.id)
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    [taken] = _snapshots(app_id)
    assert taken.figures["days"] == 365 and taken.figures["completeness"][0]["meter"] == "G-1"
    assert set(taken.figures["completeness"][0]["days"]) == {"A"}  # one daily point a day: every day complete
    assert taken.figures["daily"][0]["values"][-1] == "10"  # the register rose 10 a day
    factories.ensure_leader(cast, app_id)
    sheet = scoring.view_sheet(cast.expert, app_id)
    charts = {
        e["check"]: e["result"]["chart"] for cat in sheet["categories"] for c in cat["criteria"] for e in c["evidence"]
    }
    assert (charts["ACCESS_RATIO_T1"], charts["LONG_GAP"], charts["COUNTER_INTEGRITY"]) == (
        "completeness",
        "gaps",
        "daily",
    )
    assert charts["PUE_METERED"] is None  # no IT-load meter: nothing to draw

    api_url = f"/api/v1/applications/{app_id}/evidence/{taken.id}/charts"
    expert = bearer(client, cast.expert)
    svg = client.get(f"{api_url}/completeness.svg", headers=expert)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    Conformance(openapi_document(app)).check(
        svg, "/applications/{application_id}/evidence/{snapshot_id}/charts/{chart}.{fmt}", "get"
    )
    png = client.get(f"{api_url}/daily.png", headers=expert)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get(f"{api_url}/daily.png", headers=expert).data == png.data  # frozen: drawn the same again
    problem(client.get(f"{api_url}/pue.svg", headers=expert), 404, "not_found")
    problem(client.get(f"{api_url}/weather.svg", headers=expert), 404, "not_found")
    problem(client.get(f"{api_url}/daily.svg", headers=bearer(client, cast.other_applicant)), 404, "not_found")
    latest = client.get(f"/api/v1/applications/{app_id}/evidence", headers=expert).get_json()
    assert latest["charts"] == ["completeness", "daily", "gaps"]

    tablet = log_in(app, cast.expert)
    page = tablet.get(f"/applications/{app_id}/checklist")
    chart_url = f"/applications/{app_id}/evidence/{taken.id}/charts/completeness.svg"
    assert page.status_code == 200 and chart_url.encode() in page.data
    drawn = tablet.get(chart_url)
    assert drawn.status_code == 200 and drawn.mimetype == "image/svg+xml"
