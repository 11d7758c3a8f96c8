"""Reference numbers under racing submissions on PostgreSQL with real commits (issue 15 item 2): applications
submitted at the same moment in one series (programme, year, district) take distinct, consecutive numbers; the
counter row's upsert serialises them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tests import factories
from workflow.db import db
from workflow.engine import FireResult, fire
from workflow.models import Application

pytestmark = pytest.mark.postgres

RACERS = 6


def test_racing_submissions_take_distinct_consecutive_numbers(cast, committed_db):
    apps = [factories.new_application(cast) for _ in range(RACERS)]
    start = threading.Barrier(RACERS)

    def submit(app_id: int) -> object:
        start.wait()
        return fire(app_id, "submit", cast.applicant)

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(submit, apps))
    assert all(isinstance(o, FireResult) for o in outcomes), outcomes
    with db.transaction() as session:
        references = list(session.scalars(select(Application.reference).where(Application.id.in_(apps))))
    year = factories.shanghai_today().year
    assert sorted(references) == [f"EMC-{year}-MH-{n:04d}" for n in range(1, RACERS + 1)]
