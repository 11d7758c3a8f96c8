"""Evidence snapshots (issue 12): taken when an application enters site verification, frozen with a hash, shown
beside the checklist's criteria, and fresh ones taken by the agency's coordinator."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import insert, select

from meters import registry, snapshots
from meters.models import EvidenceSnapshot, Meter, Reading
from review import scoring
from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from tests.support.shell import openapi_document
from workflow.accounts import SYSTEM, Organisation
from workflow.db import db, utcnow
from workflow.workdays import SHANGHAI

METERS = (
    "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"
    "G-1,1,electricity,kWh,1440,true,,0.5S,2030-01-01\n"
)


def _metered(cast: factories.Cast) -> None:
    """The cast's unit: one gateway meter, required, read daily for the last 400 days (a register rising 10/day)."""
    rows, _ = registry.read_registry(io.StringIO(METERS))
    today = utcnow().astimezone(SHANGHAI).date()
    with db.transaction() as session:
        org = session.get(Organisation, cast.org.id)
        registry.register(session, SYSTEM, org, rows)
        registry.require(session, SYSTEM, org, 1, "electricity", 1)
        meter_id = session.scalars(select(Meter.id).where(Meter.organisation_id == org.id)).one()
        start = today - dt.timedelta(days=400)
        session.execute(
            insert(Reading),
            [
                {
                    "meter_id": meter_id,
                    "at": dt.datetime.combine(start + dt.timedelta(days=n), dt.time(), SHANGHAI),
                    "value": 10 * n,
                }
                for n in range(401)
            ],
        )


def _snapshots(app_id: int) -> list[EvidenceSnapshot]:
    with db.transaction() as session:
        rows = list(session.scalars(select(EvidenceSnapshot).where(EvidenceSnapshot.application_id == app_id)))
        session.expunge_all()
        return rows


def test_entering_site_verification_takes_one_frozen_snapshot_and_the_sheet_shows_its_figures(cast):
    _metered(cast)
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
    _metered(cast)
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
    fresh = client.post(url, headers=coordinator)
    assert fresh.status_code == 201
    conform.check(fresh, "/applications/{application_id}/evidence", "post")
    assert fresh.get_json()["id"] != first["id"] and fresh.get_json()["taken_by"] == cast.agency_coordinator.username
    assert client.get(url, headers=applicant).get_json()["id"] == fresh.get_json()["id"]
    assert len(_snapshots(app_id)) == 2  # the older one stays
    problem(client.get(url, headers=bearer(client, cast.other_applicant)), 404, "not_found")
