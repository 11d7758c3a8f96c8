"""The fixtures isolate tests: what one test writes, the next does not see, whichever of the two runs first."""

import pytest
from sqlalchemy import func, select

from tests import factories
from workflow.db import db
from workflow.models import Application


def _count() -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Application))


# Two identical tests: each starts from an empty table and leaves an application behind, so whichever runs second
# proves the first one's writes were rolled back (run alone, one still proves the session starts empty).
@pytest.mark.parametrize("turn", ["one", "two"])
def test_a_test_sees_nothing_of_another(cast, turn):
    assert _count() == 0
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "archived")
    assert factories.state_of(app_id)[0] == "archived" and _count() == 1
