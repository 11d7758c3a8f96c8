"""Exports (issue 15 item 8): the applications list as .xlsx with its filters applied — the rows the page shows —
and text that a spreadsheet would run as a formula written as text."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from tests import factories
from tests.support.pages import log_in
from workflow.engine import fire


def _sheet(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(response.data))
    return [[c for c in row] for row in book.active.iter_rows(values_only=True)]


def test_the_export_holds_the_rows_the_page_shows_with_its_filters(app, cast):
    waiting = [factories.new_application(cast, project_name=f"余热回收{n}") for n in range(3)]
    for app_id in waiting[:2]:
        fire(app_id, "submit", cast.applicant)
    factories.new_application(cast, project_name="空压站改造")
    browser = log_in(app, cast.applicant)
    args = {"q": "余热", "state": "district_review"}
    page = browser.get("/applications", query_string=args)
    shown = {int(n) for n in re.findall(r'href="/applications/(\d+)"', page.text)}
    rows = _sheet(browser.get("/applications.xlsx", query_string=args))
    assert "q=余热" in rows[0][0] and "state=district_review" in rows[0][0]  # the title says the filters
    assert {row[0] for row in rows[2:]} == shown == set(waiting[:2])
    assert 'id="export-list"' in page.text and "q=%E4%BD%99%E7%83%AD" in page.text  # the link keeps the filters


def test_a_formula_in_a_name_is_exported_as_text(app, cast):
    app_id = factories.new_application(cast, project_name='=HYPERLINK("http://x.example","点我")')
    rows = _sheet(log_in(app, cast.applicant).get("/applications.xlsx"))
    [row] = [r for r in rows[2:] if r[0] == app_id]
    assert row[1] == '\'=HYPERLINK("http://x.example","点我")'  # a leading apostrophe: words, not a formula
    book = load_workbook(io.BytesIO(log_in(app, cast.applicant).get("/applications.xlsx").data))
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)


def test_the_desk_exports_its_list_every_page_of_it(app, cast):
    submitted = []
    for n in range(3):
        app_id = factories.new_application(cast, project_name=f"待审项目{n}")
        fire(app_id, "submit", cast.applicant)
        submitted.append(app_id)
    browser = log_in(app, cast.district_reviewer)
    page = browser.get("/desk", query_string={"per_page": 2})
    assert 'id="export-desk"' in page.text
    rows = _sheet(browser.get("/desk.xlsx", query_string={"per_page": 2}))
    assert sorted(row[0] for row in rows[2:]) == sorted(submitted)  # all three, though the page shows two
    assert log_in(app, cast.other_district_reviewer).get("/desk.xlsx").status_code == 200
    assert len(_sheet(log_in(app, cast.other_district_reviewer).get("/desk.xlsx"))) == 2  # title and header only
