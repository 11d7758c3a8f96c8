"""An expert assigned but not yet declared may know whose file it is, not open it (workflow.visibility)."""

from __future__ import annotations

from sqlalchemy import update

from tests import factories
from workflow import operations
from workflow.db import db
from workflow.models import Assignment
from workflow.visibility import get_visible, known_by_assignment, visible_or_known


def _ids(query) -> set[int]:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return {a.id for a in session.scalars(query(session))}


def test_a_seat_before_the_declaration_is_known_not_visible(cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)

    assert _ids(lambda s: known_by_assignment(cast.expert2)) == {app_id}
    assert _ids(lambda s: visible_or_known(s, cast.expert2)) == {app_id}
    assert _ids(lambda s: known_by_assignment(cast.expert)) == set()  # not on this panel
    with db.transaction() as session:
        assert get_visible(session, cast.expert2, app_id) is None

    factories.declare_clear(app_id, cast.expert2.id)
    assert _ids(lambda s: known_by_assignment(cast.expert2)) == set()  # now simply visible
    with db.transaction() as session:
        assert get_visible(session, cast.expert2, app_id) is not None


def test_a_seat_left_on_a_conflict_stays_known_but_closed(cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)
    with db.transaction() as session:
        session.execute(
            update(Assignment)
            .where(Assignment.application_id == app_id, Assignment.user_id == cast.expert2.id)
            .values(active=False, conflict=True)
        )

    assert _ids(lambda s: visible_or_known(s, cast.expert2)) == {app_id}
    with db.transaction() as session:
        assert get_visible(session, cast.expert2, app_id) is None
