"""Issue 10 item 8: finance officers see an application only from the funding review on, in both programmes.

Lists, details, history and the decisions all go through workflow.visibility, so an application before the
funding review is to finance exactly as one that does not exist (404), and the list leaves it out.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.support.api import bearer, problem
from workflow.engine import fire
from workflow.errors import NotFound


def _listed(client: Any, headers: dict[str, str]) -> set[int]:
    response = client.get("/api/v1/applications?per_page=100", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def _sees(client: Any, headers: dict[str, str], app_id: int) -> bool:
    detail = client.get(f"/api/v1/applications/{app_id}", headers=headers)
    history = client.get(f"/api/v1/applications/{app_id}/history", headers=headers)
    if detail.status_code == 404:
        problem(detail, 404, "not_found")
        problem(history, 404, "not_found")
        assert app_id not in _listed(client, headers)
        return False
    assert (detail.status_code, history.status_code) == (200, 200)
    assert app_id in _listed(client, headers)
    return True


@pytest.mark.parametrize(
    ("code", "before", "after"),
    [
        pytest.param(
            "emc-acceptance",
            ["district_review", "returned", "completeness_check", "supplement_requested", "site_verification"],
            ["funding_review", "award_proposed", "award_approved", "paid", "archived"],
            id="emc-acceptance",
        ),
        pytest.param(
            "monitoring-fund",
            ["technical_review", "returned", "regulator_approval"],
            ["funding_review", "award_proposed", "award_approved", "paid", "archived"],
            id="monitoring-fund",
        ),
    ],
)
def test_finance_sees_an_application_only_from_the_funding_review_on(client, cast, code, before, after):
    definition = factories.newest_definition(code)
    app_id = factories.new_application(cast, code, definition.applicant_kinds[0])
    finance = bearer(client, cast.finance_officer)
    auditor = bearer(client, cast.auditor)
    for state in before:
        factories.drive_to(cast, app_id, state)
        assert factories.state_of(app_id)[0] == state
        assert not _sees(client, finance, app_id), state
        assert _sees(client, auditor, app_id), state  # the programme-wide scope itself is unchanged
    for state in after:
        factories.drive_to(cast, app_id, state)
        assert factories.state_of(app_id)[0] == state
        assert _sees(client, finance, app_id), state


def test_an_application_archived_before_the_funding_review_stays_out_of_finances_sight(client, cast):
    """Archived is reached from the funding review (after payment) and around it (after a rejection): finance sees
    only the archived files that passed through the funding review."""
    rejected = factories.new_application(cast)
    factories.drive_to(cast, rejected, "rejected")
    fire(rejected, "archive", cast.municipal_reviewer)
    finance = bearer(client, cast.finance_officer)
    assert not _sees(client, finance, rejected)
    with pytest.raises(NotFound):
        fire(rejected, "propose_award", cast.finance_officer, {"amount": "1.00"})
