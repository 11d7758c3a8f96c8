"""The commission's overview (issue 15 item 7): its figures equal counts this test computes from what it created —
by state and district, each desk's waiting, supplements overdue and due soon, the pass rate by applicant kind, the
budgets — within the reader's visibility; the pictures are SVG drawn on the server."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from review.overview import overview
from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from tests.support.pages import log_in
from workflow.db import db
from workflow.engine import fire
from workflow.workdays import SHANGHAI


@pytest.fixture
def made(cast):  # type: ignore[no-untyped-def]
    """Applications in known states and districts: (id, district, state) of each, and the supplement's due day."""
    other = factories.make_cast("徐汇区")
    rows = []

    def at(who, state: str) -> int:  # type: ignore[no-untyped-def]
        app_id = factories.new_application(who)
        factories.drive_to(who, app_id, state)
        rows.append((app_id, who.org.district, state))
        return app_id

    at(cast, "district_review")
    at(cast, "district_review")
    at(other, "district_review")
    at(cast, "completeness_check")
    supplement = factories.new_application(cast)
    factories.drive_to(cast, supplement, "completeness_check")
    payload = factories.payload_for("request_supplement", supplement)
    fire(supplement, "request_supplement", cast.municipal_reviewer, payload)
    rows.append((supplement, cast.org.district, "supplement_requested"))
    at(cast, "funding_review")  # the panel concluded: pass
    at(cast, "verification_failed")  # the panel concluded: fail
    return rows, dt.date.fromisoformat(payload["due_date"])


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), SHANGHAI)


def test_the_figures_are_the_counts_of_what_was_made(cast, made):
    rows, due = made
    with db.transaction() as session:
        found = overview(session, cast.auditor, now=_noon(due + dt.timedelta(days=1)))
    expected = Counter((state, district) for _, district, state in rows)
    got = Counter(
        {(state, district): n for (code, state), cells in found.by_state.items() for district, n in cells.items()}
    )
    assert got == expected and found.total == len(rows)
    desks = {d.role: d for d in found.desks}
    for role, state in (("district_reviewer", "district_review"), ("municipal_reviewer", "completeness_check")):
        waiting = [app_id for app_id, _, s in rows if s == state]
        assert desks[role].count == len(waiting)
        assert desks[role].worst_application in waiting
    finance = [app_id for app_id, _, s in rows if s == "funding_review"]
    assert (desks["finance_officer"].count, desks["finance_officer"].worst_application) == (1, finance[0])
    today = dt.datetime.now(SHANGHAI).date()
    assert desks["district_reviewer"].worst_days == (due + dt.timedelta(days=1) - today).days
    assert found.supplements_overdue == 1 and found.supplements_due_soon == 0
    assert found.verdicts == {"enterprise": (1, 1)} and found.pass_rate("enterprise") == 0.5


def test_a_supplement_due_within_three_working_days_is_due_soon(cast, made):
    _rows, due = made
    from workflow import workdays

    day = due - dt.timedelta(days=1)
    while workdays.add_working_days(day, 3) < due:
        day += dt.timedelta(days=1)
    with db.transaction() as session:
        found = overview(session, cast.auditor, now=_noon(day))
    assert (found.supplements_overdue, found.supplements_due_soon) == (0, 1)


def test_a_district_sees_its_own_and_the_api_says_the_same(client, cast, made):
    rows, _due = made
    conform = Conformance(client.get("/api/v1/openapi.json").get_json())
    answer = client.get("/api/v1/overview", headers=bearer(client, cast.district_reviewer))
    conform.check(answer, "/overview", "get")
    body = answer.get_json()
    assert {r["district"] for r in body["by_state"]} == {cast.org.district}
    mine = [r for r in rows if r[1] == cast.org.district]
    assert body["total"] == len(mine) == sum(r["count"] for r in body["by_state"])
    assert body["budgets"] == []  # the ledger is not theirs to read
    everything = client.get("/api/v1/overview", headers=bearer(client, cast.auditor)).get_json()
    assert everything["total"] == len(rows)
    assert {v["kind"]: v["pass_rate"] for v in everything["verdicts"]} == {"enterprise": 0.5}
    problem(client.get("/api/v1/overview", headers=bearer(client, cast.applicant)), 403, "forbidden")


def test_the_page_and_its_pictures(app, cast, made):
    rows, _due = made
    browser = log_in(app, cast.auditor)
    page = browser.get("/overview")
    assert page.status_code == 200
    table = page.text.split('id="by-state"', 1)[1].split("</table>", 1)[0]
    totals = [int(n) for n in re.findall(r'</th><td class="count">(\d+)</td>', table)]  # each row's Total
    assert sum(totals) == len(rows) and len(totals) == len({state for _, _, state in rows})
    assert 'id="desks"' in page.text and 'id="verdicts"' in page.text and "50%" in page.text
    for chart in ("states", "desks"):
        picture = browser.get(f"/overview/{chart}.svg")
        assert picture.status_code == 200 and picture.mimetype == "image/svg+xml"
        assert picture.text.startswith("<svg") and "<script" not in picture.text
    states = browser.get("/overview/states.svg").text
    assert "区主管部门初审中" in states  # the state by its name, not its code
    assert log_in(app, cast.applicant).get("/overview").status_code == 403
    assert log_in(app, cast.expert).get("/overview.svg").status_code == 404
    assert "/overview" in log_in(app, cast.municipal_reviewer).get("/desk").text  # in the menu
