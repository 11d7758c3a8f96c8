"""The reviewing district is the organisation's registered district, fixed at creation (issue 10 item 2).

The probe: a Minhang (闵行区) applicant wrote 浦东新区 into the form, and Minhang lost sight of the file, even one it
had returned for correction.
"""

from __future__ import annotations

import shlex

import pytest
from sqlalchemy import select

from forms.samples import sample_form
from tests import factories
from workflow import operations
from workflow.db import db
from workflow.engine import fire
from workflow.errors import InvalidInput, NotFound
from workflow.models import Application, AuditEvent
from workflow.visibility import can_see


def _district(app_id: int) -> str | None:
    with db.transaction() as session:
        app = session.get(Application, app_id)
        assert app is not None
        return app.district


def _sees(actor, app_id: int) -> bool:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return can_see(session, actor, app_id)


def test_a_form_district_does_not_route_the_file_at_creation(cast):
    pudong = factories.make_user("district_reviewer", district="浦东新区")
    form = {**sample_form("emc-acceptance", "enterprise"), "district": "浦东新区"}
    created = operations.create_application(cast.applicant, "emc-acceptance", "enterprise", "闵行企业项目", form)
    factories.attach_required(factories.flask_app(), cast, created.id)
    fire(created.id, "submit", cast.applicant)

    assert _district(created.id) == "闵行区"
    assert _sees(cast.district_reviewer, created.id)
    assert not _sees(pudong, created.id)
    with pytest.raises(NotFound):
        fire(created.id, "pass_prereview", pudong, factories.PREREVIEW_OK)


def test_a_returned_file_stays_with_the_district_that_returned_it(cast):
    pudong = factories.make_user("district_reviewer", district="浦东新区")
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    fire(app_id, "return_for_correction", cast.district_reviewer, {"comment": "请补充盖章页"})

    _, version = factories.state_of(app_id)
    operations.update_draft(cast.applicant, app_id, {"district": "浦东新区"}, version)
    fire(app_id, "resubmit", cast.applicant)

    assert _district(app_id) == "闵行区"
    assert _sees(cast.district_reviewer, app_id) and not _sees(pudong, app_id)


def test_an_organisation_without_a_registered_district_cannot_open_a_file():
    unit = factories.make_org("enterprise", district=None)
    applicant = factories.make_user("applicant", organisation=unit)
    with pytest.raises(InvalidInput) as refused:
        operations.create_application(applicant, "emc-acceptance", "enterprise", "无地区单位项目")
    assert [p.field for p in refused.value.problems] == ["district"]


def test_moving_an_organisation_is_an_audited_admin_act_that_routes_only_new_files(cast, runner):
    before = factories.new_application(cast)
    result = runner.invoke(args=shlex.split(f"orgs move {cast.org.uscc} 浦东新区 --note 工商变更登记"))
    assert result.exit_code == 0, result.output

    after = operations.create_application(cast.applicant, "emc-acceptance", "enterprise", "迁址后的项目").id
    assert (_district(before), _district(after)) == ("闵行区", "浦东新区")
    with db.transaction() as session:
        moved = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "org_moved")).all()
        mine = [e for e in moved if e.payload["uscc"] == cast.org.uscc]
        assert [(e.payload["from"], e.payload["to"], e.payload["note"]) for e in mine] == [
            ("闵行区", "浦东新区", "工商变更登记")
        ]
        assert mine[0].actor.startswith("cli:")


def test_moving_to_a_place_that_is_no_district_is_refused(cast, runner):
    result = runner.invoke(args=["orgs", "move", cast.org.uscc, "火星区"])
    assert result.exit_code != 0 and "火星区" in result.output
