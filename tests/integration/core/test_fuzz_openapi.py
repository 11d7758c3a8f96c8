"""schemathesis against /api/v1, in-process and bounded (issue 16 item 2): no 5xx, and every answer is one the
document gives — its status, media type, headers and schema. Valid and invalid input, sent as an applicant with
real drafts, reviewers of several desks, or nobody, and aimed at real applications, so it reaches past 401 and 404.
The document declares no links: the stateful run follows those schemathesis infers (an id a response names).

Runs on SQLite and, in CI's second pass, on PostgreSQL; `python -m bench.fuzz` is the long run."""

from __future__ import annotations

import pytest

from tests.support import fuzz

EXAMPLES = 5  # per operation: with ~50 operations, about 250 calls


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    return fuzz.build_world(app)


def test_every_operation_answers_as_documented(app, world):
    found = fuzz.run_operations(world, fuzz.load_schema(app), EXAMPLES)
    assert not found.failures, found.report()
    # Not vacuous: past the 401s and 404s, the fuzz reached operations that did their work.
    assert len(found.succeeded) >= 15, sorted(found.succeeded)
    assert found.statuses.get(422) and found.statuses.get(404)


def test_stateful_scenarios_answer_as_documented(app, world):
    found = fuzz.run_stateful(world, fuzz.load_schema(app), max_examples=5, steps=8)
    assert not found.failures, found.report()
    assert found.succeeded
