"""The panel's lists as .xlsx (issue 15 item 8): the expert pool with the page's filters, an expert's panel seats —
the rows the page shows; text a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook

from review import panels
from review import pool as expert_pool
from tests import factories
from tests.support.pages import log_in


def _rows(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(response.data))
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)  # no formula anywhere
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def _pool(cast):  # type: ignore[no-untyped-def]
    first = factories.make_user("expert", username="export_wang")
    second = factories.make_user("expert", username="export_li")
    expert_pool.add_expert(cast.admin, first.username, factories.uscc(), "=HYPERLINK(1)", "闵行区", ["电力"])
    expert_pool.add_expert(cast.admin, second.username, factories.uscc(), "乙公司", "徐汇区", ["热力"])
    return first, second


def test_the_pool_export_holds_the_rows_the_page_shows_with_its_filters(app, cast):
    _pool(cast)
    browser = log_in(app, cast.agency_coordinator, "en")
    for args in ({}, {"district": "闵行区"}, {"speciality": "热力"}):
        page = browser.get("/experts", query_string=args)
        shown = re.findall(r'<li class="card" data-username="[^"]+">\s*<h2>([^<]+?) <span', page.text)
        rows = _rows(browser.get("/experts.xlsx", query_string=args))
        assert rows[1][0] == "Name"
        assert [row[0] for row in rows[2:]] == [name.strip() for name in shown] and shown
        for key, value in args.items():
            assert f"{key}={value}" in rows[0][0]  # the title says the filters
        link = re.search(r'id="export-experts" href="([^"]+)"', page.text)
        assert link and link.group(1).startswith("/experts.xlsx")
    [minhang] = _rows(browser.get("/experts.xlsx", query_string={"district": "闵行区"}))[2:]
    assert minhang[1] == "'=HYPERLINK(1)"  # the employer's name as words, not a formula
    assert log_in(app, cast.expert).get("/experts.xlsx").status_code == 403


def test_an_expert_exports_their_panel_seats(app, cast):
    seated = factories.new_application(cast, project_name="=1+1 余热项目")
    factories.drive_to(cast, seated, "site_verification")
    factories.ensure_leader(cast, seated)
    panels.schedule_visit(cast.agency_coordinator, seated, dt.datetime(2099, 5, 6, 9, 30), "剑川路1000号")
    browser = log_in(app, cast.expert, "en")
    page = browser.get("/assignments")
    shown = [int(n) for n in re.findall(r'<li class="card" data-application="(\d+)"', page.text)]
    assert 'id="export-assignments"' in page.text
    rows = _rows(browser.get("/assignments.xlsx"))
    assert [row[0] for row in rows[2:]] == shown == [seated]
    row = rows[2]
    assert row[1] == "'=1+1 余热项目" and row[2] == cast.org.name and row[5] == "yes"
    assert row[7] == "剑川路1000号" and row[8] == "No conflict of interest"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[6]) and row[6] in page.text  # as the page shows it
    assert log_in(app, cast.municipal_reviewer).get("/assignments.xlsx").status_code == 403
