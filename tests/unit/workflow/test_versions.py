"""Programme versions: applications stay on the version they were created under; published versions never change."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from tests import factories
from workflow import operations
from workflow.db import db
from workflow.definitions import Definition, DefinitionError, parse, shipped
from workflow.engine import fire
from workflow.errors import InvalidInput, NotAllowedNow
from workflow.models import Application, ProgrammeVersion

# The newest shipped version (what new applications pin) and the one after it, which the tests publish.
CURRENT = max((d for d in shipped() if d.code == "emc-acceptance"), key=lambda d: d.version)
NEXT = CURRENT.version + 1


def _v2() -> Definition:
    """The next version sends a corrected application straight to the municipal completeness check."""
    raw = copy.deepcopy(CURRENT.raw)
    raw["version"] = NEXT
    next(t for t in raw["transitions"] if t["trigger"] == "resubmit")["dest"] = "completeness_check"
    return parse(raw, source=f"emc-acceptance.v{NEXT}.toml")


def _publish(definition: Definition) -> tuple[ProgrammeVersion, bool]:
    with db.transaction() as session:
        return operations.publish(session, definition)


def _pinned_label(app_id: int) -> str:
    with db.transaction() as session:
        app = session.get(Application, app_id)
        return app.programme_version.label


def test_new_version_does_not_move_applications_in_flight(cast):
    """An application created under v1 keeps v1's graph after v2 is published; a new one follows v2."""
    old = factories.new_application(cast)
    factories.drive_to(cast, old, "returned")
    row, created = _publish(_v2())
    assert (row.label, created) == (f"emc-acceptance@{NEXT}", True)
    new = factories.new_application(cast)
    factories.drive_to(cast, new, "returned")

    assert (_pinned_label(old), _pinned_label(new)) == (CURRENT.label, f"emc-acceptance@{NEXT}")
    assert fire(old, "resubmit", cast.applicant).state == "district_review"
    assert fire(new, "resubmit", cast.applicant).state == "completeness_check"


def test_each_version_answers_with_its_own_graph(cast):
    """After resubmitting, v1 is back in pre-review (pass_prereview allowed) while on v2 it is not allowed now."""
    old = factories.new_application(cast)
    factories.drive_to(cast, old, "returned")
    _publish(_v2())
    new = factories.new_application(cast)
    factories.drive_to(cast, new, "returned")
    fire(old, "resubmit", cast.applicant)
    fire(new, "resubmit", cast.applicant)
    assert fire(old, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK).state == "completeness_check"
    with pytest.raises(NotAllowedNow) as excinfo:
        fire(new, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK)
    assert excinfo.value.state == "completeness_check"


def test_current_programme_is_the_latest_version(cast):
    """New applications pin the highest published version."""
    _publish(_v2())
    with db.transaction() as session:
        row, definition = operations.current_programme(session, "emc-acceptance")
        assert (row.version, definition.version) == (NEXT, NEXT)
        assert definition.transition("resubmit", "returned").dest == "completeness_check"


def test_republishing_a_version_with_other_content_is_refused():
    """A published version cannot change in place: refused, naming the next free version."""
    raw = copy.deepcopy(CURRENT.raw)
    next(t for t in raw["transitions"] if t["trigger"] == "submit")["label"] = {"zh": "改过的", "en": "Changed"}
    with pytest.raises(DefinitionError) as excinfo:
        _publish(parse(raw))
    assert "already published with different content" in str(excinfo.value)
    assert f"version {NEXT}" in str(excinfo.value)
    with db.transaction() as session:
        stored = session.scalars(
            select(ProgrammeVersion).where(
                ProgrammeVersion.code == "emc-acceptance", ProgrammeVersion.version == CURRENT.version
            )
        ).one()
        assert stored.digest == CURRENT.digest


def test_republishing_the_same_content_is_a_no_op():
    """Seeding again changes nothing (the same digest is already there)."""
    row, created = _publish(parse(copy.deepcopy(CURRENT.raw)))
    assert (row.label, created) == (CURRENT.label, False)
    with db.transaction() as session:
        assert all(not created for _, created in operations.seed_programmes(session))


def test_editing_a_draft_refuses_a_blank_or_overlong_project_name(cast):

    app_id = factories.new_application(cast)
    for bad, code in (("   ", "required"), ("项" * 301, "too_long")):
        with pytest.raises(InvalidInput) as refused:
            operations.update_draft(cast.applicant, app_id, {}, expected_version=1, project_name=bad)
        assert [(p.field, p.code) for p in refused.value.problems] == [("project_name", code)]
    assert factories.state_of(app_id) == ("draft", 1)
