"""People by name and unit, never by their login (issue 15 item 5): the application's history names who acted."""

from __future__ import annotations

from tests import factories
from tests.support.pages import log_in, text_of
from workflow.accounts import User
from workflow.db import db
from workflow.engine import fire


def test_the_history_names_people_and_the_unit_or_district_they_act_for(app, cast):
    with db.transaction() as session:
        session.get(User, cast.applicant.id).display_name = "张申报"
        session.get(User, cast.district_reviewer.id).display_name = "李初审"
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    fire(
        app_id, "return_for_correction", cast.district_reviewer, factories.payload_for("return_for_correction", app_id)
    )
    shown = text_of(log_in(app, cast.applicant).get(f"/applications/{app_id}"))
    assert f"张申报（{cast.org.name}）" in shown
    assert f"李初审（{cast.district_reviewer.district}）" in shown
    assert cast.applicant.username not in shown and cast.district_reviewer.username not in shown
