"""Concurrent commands on PostgreSQL with real commits: one winner per version, no transition from a stale state."""

from __future__ import annotations

import contextlib
import random
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests import factories
from workflow import audit, outbox
from workflow.db import db
from workflow.definitions import Definition
from workflow.engine import FireResult, fire
from workflow.errors import StaleVersion, WorkflowError
from workflow.models import Application, AuditEvent

pytestmark = pytest.mark.postgres

SEED = 20261121
THREADS = 8
COMMANDS_PER_THREAD = 300
APPLICATIONS = 20
# Moves that end an application's life; left out so that all twenty stay busy for the whole run.
EXITS = {"withdraw", "reject", "lapse", "archive", "conclude_fail", "approve_award", "record_payment"}


def _count(outcome: str, app_id: int, trigger: str) -> int:
    with db.transaction() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.application_id == app_id, AuditEvent.outcome == outcome, AuditEvent.trigger == trigger)
        )


def test_sixteen_racers_one_winner(cast, committed_db):
    """16 threads fire the same trigger with the same expected_version: one succeeds, 15 get 409 StaleVersion."""
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    _, version = factories.state_of(app_id)
    passed = factories.PREREVIEW_OK
    start = threading.Barrier(16)

    def race(_: int) -> FireResult | WorkflowError:
        start.wait()
        try:
            return fire(app_id, "pass_prereview", cast.district_reviewer, passed, expected_version=version)
        except WorkflowError as exc:
            return exc

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(race, range(16)))

    wins = [o for o in outcomes if isinstance(o, FireResult)]
    losses = [o for o in outcomes if isinstance(o, WorkflowError)]
    assert len(wins) == 1
    assert len(losses) == 15
    assert all(isinstance(e, StaleVersion) and e.status == 409 for e in losses), losses
    assert {(e.expected, e.current) for e in losses} == {(version, version + 1)}
    assert factories.state_of(app_id) == ("completeness_check", version + 1)
    assert _count("transition", app_id, "pass_prereview") == 1
    assert _count("denied", app_id, "pass_prereview") == 15
    with db.transaction() as session:
        assert audit.verify(session).ok


def test_sixteen_racers_over_http_one_200_the_rest_409(app, cast, committed_db):
    """The same race through the JSON API: exactly one 200, fifteen 409 problem documents, one audit event."""
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    _, version = factories.state_of(app_id)
    login = app.test_client().post(
        "/api/v1/auth/token", json={"username": cast.district_reviewer.username, "password": factories.PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    start = threading.Barrier(16)

    def race(_: int) -> tuple[int, dict]:
        client = app.test_client()  # one client per thread, as sixteen browsers would be
        start.wait()
        response = client.post(
            f"/api/v1/applications/{app_id}/transitions",
            json={"trigger": "pass_prereview", "expected_version": version, "payload": factories.PREREVIEW_OK},
            headers=headers,
        )
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(race, range(16)))

    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {200: 1, 409: 15}, outcomes
    assert all(body["code"] == "stale_version" for status, body in outcomes if status == 409)
    assert factories.state_of(app_id) == ("completeness_check", version + 1)
    assert _count("transition", app_id, "pass_prereview") == 1


def _cycling_moves(definition: Definition) -> dict[str, list[tuple[str, str]]]:
    """state -> [(trigger, role)] a human may fire there, leaving out the exits."""
    moves: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for t in definition.transitions:
        if t.trigger in EXITS:
            continue
        role = next(r for r in t.roles if r != "system")
        for source in t.sources:
            moves[source].append((t.trigger, role))
    return moves


def test_mixed_commands_keep_the_chain_and_never_fire_from_a_stale_state(cast, committed_db, monkeypatch):
    """8 threads × 300 seeded random commands over 20 applications; the audit tells one consistent story."""
    # The relay is not under test here (tests/unit/notifications is); waking it after every commit
    # would run the notification task inline and triple the run. The rows simply wait in the outbox.
    monkeypatch.setattr(outbox, "_kicker", None)
    app_ids = []
    for _ in range(APPLICATIONS):
        app_id = factories.new_application(cast)
        fire(app_id, "submit", cast.applicant)
        factories.ensure_leader(cast, app_id)  # the panel is in place for when they reach site verification
        app_ids.append(app_id)
    definition = factories.definition_of(app_ids[0])
    moves = _cycling_moves(definition)
    every_move = sorted({move for state_moves in moves.values() for move in state_moves})

    def run(thread_no: int) -> tuple[list[FireResult], Counter[str]]:
        rng = random.Random(SEED + thread_no)
        wins: list[FireResult] = []
        refusals: Counter[str] = Counter()
        for _ in range(COMMANDS_PER_THREAD):
            app_id = rng.choice(app_ids)
            state, version = factories.state_of(app_id)
            # Mostly a move the state allows (racing others for it); now and then one from another state.
            trigger, role = rng.choice(every_move if rng.random() < 0.1 else moves[state])
            actor = factories.actor_for(cast, trigger, role)
            if trigger == "conclude_pass" and state == "site_verification":
                # The leader concludes only on a signed sheet; racers may have signed it, or moved on, already.
                with contextlib.suppress(WorkflowError):
                    factories.score_sheet(cast.expert, app_id)
                with contextlib.suppress(WorkflowError):
                    factories.note_visit_steps(app_id)
            try:
                wins.append(fire(app_id, trigger, actor, factories.payload_for(trigger, app_id), version))
            except WorkflowError as exc:
                refusals[exc.code] += 1
        return wins, refusals

    with ThreadPoolExecutor(THREADS) as pool:
        runs = list(pool.map(run, range(THREADS)))

    wins = [w for won, _ in runs for w in won]
    refusals = sum((r for _, r in runs), Counter())
    assert len(wins) + refusals.total() == THREADS * COMMANDS_PER_THREAD
    assert len(wins) > APPLICATIONS  # the run did move things, not only refuse
    assert any(w.trigger == "conclude_pass" for w in wins)  # through the panel's stage too
    assert refusals["stale_version"] > 0  # and the threads did race

    by_app: dict[int, list[FireResult]] = defaultdict(list)
    for win in sorted(wins, key=lambda w: w.event_seq):
        by_app[win.application_id].append(win)

    with db.transaction() as session:
        result = audit.verify(session)
        assert result.ok, str(result)
        denied = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied"))
        assert denied == refusals.total()  # every refused command left exactly one trace
        for app_id in app_ids:
            events = list(
                session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.application_id == app_id, AuditEvent.outcome == "transition")
                    .order_by(AuditEvent.seq)
                )
            )
            state = definition.initial
            for event in events:
                assert event.from_state == state, f"application {app_id}: {event.trigger} fired from a stale state"
                assert definition.transition(event.trigger, event.from_state).dest == event.to_state
                state = event.to_state
            app = session.get(Application, app_id)
            assert app.state == state
            assert app.version == 1 + len(events)  # every committed change bumped the version exactly once

            # Each committed transition after the set-up submit answered exactly one caller, versions one by one.
            won = by_app[app_id]
            assert [(w.event_seq, w.from_state, w.state) for w in won] == [
                (e.seq, e.from_state, e.to_state) for e in events[1:]
            ]
            assert [w.version for w in won] == list(range(3, 3 + len(won)))
