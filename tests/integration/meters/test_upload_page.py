"""Readings uploaded on a page (issue 12): the unit's own account, the same refusals by line as the command, a
JSON answer for the progress-bar script, and nobody else's unit."""

from __future__ import annotations

import io

from meters import registry
from tests.support.pages import log_in, text_of
from workflow.accounts import SYSTEM, Organisation
from workflow.db import db

METERS = (
    "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"
    "E-1,1,electricity,kWh,15,true,,0.5S,\n"
)
ROWS = "point_code,timestamp,value\nE-1,2026-03-01T00:00,100\nE-1,2026-03-01T00:15,101\nE-9,2026-03-01T00:00,1\n"


def _register(org_id: int) -> None:
    rows, _ = registry.read_registry(io.StringIO(METERS))
    with db.transaction() as session:
        registry.register(session, SYSTEM, session.get(Organisation, org_id), rows)  # type: ignore[arg-type]


def test_the_unit_uploads_readings_and_sees_each_refused_line(app, cast):
    _register(cast.org.id)
    browser = log_in(app, cast.applicant)
    page = browser.get("/meters/readings")
    assert page.status_code == 200 and 'id="upload-form"' in page.text
    assert "已为" in text_of(page) and "登记 1 块表计" in text_of(page)
    sent = browser.post(
        "/meters/readings",
        data={"file": (io.BytesIO(ROWS.encode()), "readings.csv")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert sent.status_code == 200 and sent.get_json() == {"redirect": "/meters/readings"}
    shown = text_of(browser.get("/meters/readings"))
    assert "已存储 2 条读数" in shown and "第 4 行" in shown and "E-9" in shown  # line 4's unknown meter named
    again = browser.post(
        "/meters/readings",
        data={"file": (io.BytesIO(ROWS.encode()), "readings.csv")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 303


def test_a_wrong_header_is_named_and_nothing_lands(app, cast):
    _register(cast.org.id)
    browser = log_in(app, cast.applicant)
    sent = browser.post(
        "/meters/readings",
        data={"file": (io.BytesIO(b"code,time\nE-1,2026-03-01\n"), "bad.csv")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert sent.status_code == 422
    assert "point_code,timestamp,value" in sent.get_json()["errors"][0]["message"]


def test_only_a_units_own_account_uploads(app, cast):
    assert log_in(app, cast.municipal_reviewer).get("/meters/readings").status_code == 403
    assert log_in(app, cast.expert).post("/meters/readings", data={}).status_code == 403
