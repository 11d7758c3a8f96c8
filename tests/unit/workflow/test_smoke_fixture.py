"""The fixtures isolate tests: what one test writes, the next does not see."""

from sqlalchemy import func, select

from tests import factories
from workflow.db import db
from workflow.models import Application


def _count() -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Application))


def test_first_test_writes(cast):
    factories.new_application(cast)
    assert _count() == 1


def test_second_test_sees_nothing_of_the_first(cast):
    assert _count() == 0
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "archived")
    assert factories.state_of(app_id)[0] == "archived"
