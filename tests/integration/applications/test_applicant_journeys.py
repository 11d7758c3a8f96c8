"""A new applicant of each kind, from no application to a submitted one: through the pages alone, and the API alone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from applications.attachments import required_categories
from forms.samples import sample_form
from tests import factories
from tests.support.api import bearer
from tests.support.pages import log_in, state_badge, text_of
from tests.support.uploads import post_upload, upload

JOURNEYS = [
    ("emc-acceptance", "enterprise", "区主管部门初审中", "district_review"),
    ("emc-acceptance", "data_centre", "区主管部门初审中", "district_review"),
    ("emc-acceptance", "park", "区主管部门初审中", "district_review"),
    ("monitoring-fund", "enterprise", "市计测院技术审核中", "technical_review"),
    ("monitoring-fund", "data_centre", "市计测院技术审核中", "technical_review"),
]


def new_applicant(kind: str) -> Any:
    """An account of a unit of this kind that has never applied."""
    org = factories.make_org(kind, "浦东新区")
    return factories.make_user("applicant", organisation=org), org


def open_to(programme: str, org: Any) -> None:
    """The monitoring fund takes applications in an open round from units on the year's key-unit list (seed 000)."""
    if programme == "monitoring-fund":
        factories.open_round_around_today(programme)
        factories.list_key_unit(org.uscc, int(sample_form(programme, "enterprise")["key_unit_list_year"]), org.name)


def page_form(form: dict[str, Any], version: int) -> dict[str, str]:
    """The form page's fields as a browser posts them: ticked boxes as 'y', unticked ones left out,
    several ticked choices as one value each."""
    data = {k: ("y" if v is True else v if isinstance(v, list) else str(v)) for k, v in form.items() if v is not False}
    return {**data, "expected_version": str(version)}


@pytest.mark.parametrize("programme,kind,state_zh,_state", JOURNEYS)
def test_through_the_pages_alone(app, programme, kind, state_zh, _state):
    applicant, org = new_applicant(kind)
    open_to(programme, org)
    browser = log_in(app, applicant)
    created = browser.post(
        "/applications", data={"programme": programme, "kind": kind, "project_name": "能源管理中心项目"}
    )
    assert created.status_code == 303, text_of(created)
    detail = created.headers["Location"]
    app_id = int(re.findall(r"\d+", detail)[-1])
    assert state_badge(browser.get(detail)) == "草稿"

    form = {**sample_form(programme, kind), "unit_name": org.name, "uscc": org.uscc, "district": org.district}
    saved = browser.post(f"/applications/{app_id}/form", data=page_form(form, 1))
    assert saved.status_code == 303
    assert "提交前还需填写" not in text_of(browser.get(f"/applications/{app_id}/form"))

    commitment = browser.get(f"/applications/{app_id}/documents/authenticity-commitment")
    assert commitment.status_code == 200 and commitment.data[:2] == b"PK"  # the .docx to print, sign and scan
    for category in required_categories(factories.newest_definition(programme), kind, form):
        assert post_upload(browser, app_id, category, factories.SAMPLE_PDF + category.encode()).status_code == 303
    page = browser.get(detail)
    assert 'id="attachments-missing"' not in page.text

    # Submit leads to "check your answers"; its button submits and the confirmation follows.
    assert f'href="/applications/{app_id}/check"' in page.text
    check = browser.get(f"/applications/{app_id}/check")
    version = re.search(r'name="submit-expected_version" type="hidden" value="(\d+)"', check.text)
    assert version is not None
    submitted = browser.post(f"/applications/{app_id}/check", data={"submit-expected_version": version.group(1)})
    assert submitted.status_code == 303, text_of(submitted)
    assert submitted.headers["Location"].endswith(f"/applications/{app_id}/submitted")
    assert state_badge(browser.get(detail)) == state_zh


@pytest.mark.parametrize("programme,kind,_state_zh,state", JOURNEYS)
def test_through_the_api_alone(client, programme, kind, _state_zh, state):
    applicant, org = new_applicant(kind)
    open_to(programme, org)
    headers = bearer(client, applicant)
    form = {**sample_form(programme, kind), "unit_name": org.name, "uscc": org.uscc, "district": org.district}
    created = client.post(
        "/api/v1/applications",
        json={"programme": programme, "kind": kind, "project_name": "能源管理中心项目", "form": form},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    app_id = created.get_json()["id"]
    listed = client.get(f"/api/v1/applications/{app_id}/attachments", headers=headers).get_json()
    assert listed["missing"] == required_categories(factories.newest_definition(programme), kind, form)
    for category in listed["missing"]:
        assert upload(client, headers, app_id, category, factories.SAMPLE_PDF, "扫描件.pdf").status_code == 201
    submitted = client.post(f"/api/v1/applications/{app_id}/transitions", json={"trigger": "submit"}, headers=headers)
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["state"] == state
