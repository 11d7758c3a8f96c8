"""POST /api/v1/meters/readings: a unit's access-end system pushes its readings; a batch sent again changes nothing."""

from __future__ import annotations

import io

from meters import registry
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from tests.support.shell import openapi_document
from workflow.accounts import SYSTEM, Organisation
from workflow.db import db

URL = "/api/v1/meters/readings"
METERS = (
    "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"
    "E-1,1,electricity,kWh,15,true,,0.5S,2027-03-31\n"
)


def _register(org_id: int) -> None:
    rows, _ = registry.read_registry(io.StringIO(METERS))
    with db.transaction() as session:
        registry.register(session, SYSTEM, session.get(Organisation, org_id), rows)


def test_a_pushed_batch_lands_once_and_refusals_are_named_by_index(app, client, cast):
    _register(cast.org.id)
    headers = bearer(client, cast.applicant)
    conform = Conformance(openapi_document(app))
    batch = {
        "readings": [
            {"point_code": "E-1", "timestamp": "2026-03-01T00:15:00", "value": 1000.5},
            {"point_code": "E-1", "timestamp": "2026-03-01T00:30:00+08:00", "value": "1001.25"},
            {"point_code": "E-9", "timestamp": "2026-03-01T00:30:00", "value": 1},
            {"point_code": "E-1", "timestamp": "yesterday", "value": 1},
            {"point_code": "E-1", "timestamp": "2026-03-01T00:45:00", "value": True},
        ]
    }
    first = client.post(URL, json=batch, headers=headers)
    assert first.status_code == 200
    conform.check(first, "/meters/readings", "post")
    body = first.get_json()
    assert (body["inserted"], body["unchanged"]) == (2, 0)
    assert [(r["index"], r["field"]) for r in body["refused"]] == [(2, "point_code"), (3, "timestamp"), (4, "value")]
    again = client.post(URL, json={"readings": batch["readings"][:2]}, headers=headers).get_json()
    assert (again["inserted"], again["unchanged"], again["refused"]) == (0, 2, [])
    changed = {"readings": [{"point_code": "E-1", "timestamp": "2026-03-01T00:15:00", "value": 999}]}
    refused = client.post(URL, json=changed, headers=headers).get_json()["refused"]
    assert "already stored as 1000.5" in refused[0]["message"]


def test_only_the_units_own_account_pushes_and_only_to_its_meters(client, cast):
    _register(cast.org.id)
    reviewer = bearer(client, cast.district_reviewer)
    problem(client.post(URL, json={"readings": []}, headers=reviewer), 403, "forbidden")
    # Another unit's applicant: the point codes of this unit are not theirs.
    other = bearer(client, cast.other_applicant)
    item = {"point_code": "E-1", "timestamp": "2026-03-01T00:15:00", "value": 1}
    body = client.post(URL, json={"readings": [item]}, headers=other).get_json()
    assert body["inserted"] == 0 and body["refused"][0]["field"] == "point_code"
    problem(client.post(URL, json={"readings": "E-1"}, headers=bearer(client, cast.applicant)), 422, "invalid_input")
