"""Idempotency keys: a retried command replays its answer; a reused key for another command is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from workflow.db import db
from workflow.engine import fire
from workflow.errors import GuardFailed, IdempotencyConflict
from workflow.models import AuditEvent


def _transitions(app_id: int) -> int:
    with db.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.application_id == app_id, AuditEvent.outcome == "transition")
        )


@pytest.fixture
def in_review(cast) -> int:
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    return app_id


def test_same_key_same_command_replays(cast, in_review):
    """A retry with the same key gets the stored result back: one audit event, one state change."""
    payload = {"comment": "请补充盖章页"}
    first = fire(in_review, "return_for_correction", cast.district_reviewer, payload, 2, idempotency_key="k-1")
    again = fire(in_review, "return_for_correction", cast.district_reviewer, payload, 2, idempotency_key="k-1")

    assert (first.replayed, again.replayed) == (False, True)
    assert {**first.as_dict(), "replayed": True} == again.as_dict()
    assert factories.state_of(in_review) == ("returned", 3)
    assert _transitions(in_review) == 2  # submit, and the return once


def test_replay_wins_over_the_stale_version(cast, in_review):
    """The retry carries the version the first attempt moved past; it still replays rather than 409."""
    passed = factories.PREREVIEW_OK
    fire(in_review, "pass_prereview", cast.district_reviewer, passed, expected_version=2, idempotency_key="k-2")
    replay = fire(
        in_review, "pass_prereview", cast.district_reviewer, passed, expected_version=2, idempotency_key="k-2"
    )
    assert replay.replayed
    assert replay.state == "completeness_check"


@pytest.mark.parametrize(
    ("trigger", "payload"),
    [("pass_prereview", {}), ("return_for_correction", {"comment": "另一条意见"})],
    ids=["other-trigger", "other-payload"],
)
def test_same_key_other_command_conflicts(cast, in_review, trigger, payload):
    """Reusing a key for a different command is refused (422) and changes nothing."""
    fire(in_review, "return_for_correction", cast.district_reviewer, {"comment": "请补充盖章页"}, idempotency_key="k-3")
    with pytest.raises(IdempotencyConflict) as excinfo:
        fire(in_review, trigger, cast.district_reviewer, payload, idempotency_key="k-3")
    assert excinfo.value.status == 422
    assert "k-3" in excinfo.value.detail
    assert factories.state_of(in_review) == ("returned", 3)
    assert _transitions(in_review) == 2


def test_same_key_on_another_application_conflicts(cast, in_review):
    """The key names one command on one application."""
    other = factories.new_application(cast)
    fire(other, "submit", cast.applicant)
    fire(in_review, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK, idempotency_key="k-4")
    with pytest.raises(IdempotencyConflict):
        fire(other, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK, idempotency_key="k-4")
    assert factories.state_of(other)[0] == "district_review"


def test_keys_are_per_actor(cast):
    """Two people may use the same key for their own commands without colliding."""
    app_id = factories.new_application(cast)
    assert not fire(app_id, "submit", cast.applicant, idempotency_key="same").replayed
    second = fire(app_id, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK, idempotency_key="same")
    assert not second.replayed
    assert second.state == "completeness_check"
    assert _transitions(app_id) == 2


def test_failed_command_does_not_burn_its_key(cast, in_review):
    """A command refused by a guard stores no answer: the corrected retry under the same key runs."""
    with pytest.raises(GuardFailed):
        fire(in_review, "return_for_correction", cast.district_reviewer, {}, idempotency_key="k-5")
    result = fire(
        in_review, "return_for_correction", cast.district_reviewer, {"comment": "补充"}, idempotency_key="k-5"
    )
    assert not result.replayed
    assert result.state == "returned"
