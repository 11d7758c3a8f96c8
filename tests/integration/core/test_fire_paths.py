"""fire()'s two write paths: on PostgreSQL one statement (workflow/engine_pg.py), on SQLite the plain statements;
the same commands leave the same rows, and a dropped connection costs one retry, never a second effect."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url, select, text

from tests import factories
from workflow import audit, engine, engine_pg, outbox
from workflow.db import db, table_of
from workflow.models import Application, AuditEvent, Deadline, IdempotencyRecord, OutboxMessage

# A return answered, a supplement requested (its deadline opens) and supplied (it closes); keys on two commands.
SEQUENCE = [
    ("submit", "applicant", None),
    ("return_for_correction", "district_reviewer", "k-return"),
    ("resubmit", "applicant", None),
    ("pass_prereview", "district_reviewer", None),
    ("request_supplement", "municipal_reviewer", "k-supplement"),
    ("supply", "applicant", None),
]
EXPECTED = [
    ("submit", "draft", "district_review"),
    ("return_for_correction", "district_review", "returned"),
    ("resubmit", "returned", "district_review"),
    ("pass_prereview", "district_review", "completeness_check"),
    ("request_supplement", "completeness_check", "supplement_requested"),
    ("supply", "supplement_requested", "completeness_check"),
]
FROZEN = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Shanghai


def _run(cast: factories.Cast, app_id: int) -> list[engine.FireResult]:
    results = []
    for trigger, role, key in SEQUENCE:
        payload = factories.payload_for(trigger, app_id)
        results.append(engine.fire(app_id, trigger, cast.by_role[role], payload, idempotency_key=key))
    return results


def _rows(app_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row the engine writes for one application; surrogate ids (sequences) left out."""
    apps, events, deadlines = table_of(Application), table_of(AuditEvent), table_of(Deadline)
    records, messages = table_of(IdempotencyRecord), table_of(OutboxMessage)
    with db.transaction() as session:

        def rows(query: Any, drop: tuple[str, ...] = ("id",)) -> list[dict[str, Any]]:
            return [{k: v for k, v in r._asdict().items() if k not in drop} for r in session.execute(query)]

        return {
            "applications": rows(select(apps).where(apps.c.id == app_id), drop=()),
            "audit_events": rows(select(events).where(events.c.application_id == app_id).order_by(events.c.seq), ()),
            "deadlines": rows(select(deadlines).where(deadlines.c.application_id == app_id).order_by(deadlines.c.id)),
            "outbox": rows(select(messages).where(messages.c.application_id == app_id).order_by(messages.c.id)),
            "idempotency": rows(select(records).where(records.c.application_id == app_id).order_by(records.c.id)),
        }


def test_the_sequence_leaves_the_rows_the_engine_promises(cast):
    """On either dialect (either path): each move, its event in the intact chain, the deadline opened and closed
    by its events, one outbox row per event, the keys' records answering as the commands did."""
    app_id = factories.new_application(cast)
    results = _run(cast, app_id)
    rows = _rows(app_id)

    events = [e for e in rows["audit_events"] if e["outcome"] == "transition"]
    assert [(e["trigger"], e["from_state"], e["to_state"]) for e in events] == EXPECTED
    assert [e["app_version"] for e in events] == [r.version for r in results] == list(range(2, 8))
    assert [e["seq"] for e in events] == [r.event_seq for r in results]
    for before, after in zip(rows["audit_events"], rows["audit_events"][1:], strict=False):
        assert after["prev_hash"] == before["hash"] or after["seq"] != before["seq"] + 1
    with db.transaction() as session:
        assert audit.verify(session).ok
    (app,) = rows["applications"]
    assert (app["state"], app["version"]) == ("completeness_check", 7)
    assert app["submitted_at"] is not None and app["reference"]
    (deadline,) = rows["deadlines"]
    assert (deadline["state"], deadline["trigger"]) == ("supplement_requested", "lapse")
    assert deadline["opened_seq"] == results[4].event_seq and deadline["closed_at"] is not None
    assert [(m["task"], m["kwargs"]) for m in rows["outbox"]] == [
        (task, {"application_id": app_id, "event_seq": r.event_seq})
        for r in results
        for task in engine.registry.SUBSCRIBERS.get(engine.TRANSITIONED, [])
    ]
    assert [(r["key"], r["trigger"], r["response"]) for r in rows["idempotency"]] == [
        ("k-return", "return_for_correction", _response(results[1])),
        ("k-supplement", "request_supplement", _response(results[4])),
    ]
    replay = engine.fire(app_id, "return_for_correction", cast.district_reviewer, factories.payload_for(
        "return_for_correction", app_id), idempotency_key="k-return")  # fmt: skip
    assert replay.replayed and replay.event_seq == results[1].event_seq


def _response(result: engine.FireResult) -> dict[str, Any]:
    return {k: v for k, v in result.as_dict().items() if k != "replayed"}


@pytest.mark.postgres
def test_one_statement_and_plain_paths_write_identical_rows(cast, monkeypatch):
    """The same commands at the same clock, once per path from the same starting point: identical rows, hashes
    and sequence numbers included (the first run is rolled back to a savepoint before the second)."""
    app_id = factories.new_application(cast)
    for module in (engine, audit, outbox):
        monkeypatch.setattr(module, "utcnow", lambda: FROZEN)
    connection = db.sessionmaker.kw["bind"]  # tests/conftest.py binds every session to the test's connection
    snapshots = []
    for one_statement in (True, False):
        monkeypatch.setattr(engine_pg, "enabled", one_statement)
        savepoint = connection.begin_nested()
        results = _run(cast, app_id)
        snapshots.append((results, _rows(app_id)))
        savepoint.rollback()
    (one_results, one_rows), (plain_results, plain_rows) = snapshots
    assert one_results == plain_results
    assert one_rows == plain_rows
    assert len(one_rows["audit_events"]) >= len(SEQUENCE) and len(one_rows["deadlines"]) == 1


def _terminate_others(database_url: str) -> int:
    """Drop every other connection to the test database from the server side, as a restart would."""
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
        return int(row[0]) if row else 0


def _transitions(app_id: int, trigger: str) -> int:
    with db.transaction() as session:
        return len(
            session.execute(
                select(AuditEvent.seq).where(AuditEvent.application_id == app_id, AuditEvent.trigger == trigger)
            ).all()
        )


@pytest.mark.postgres
@pytest.mark.parametrize("key", [None, "k-retry"])
def test_a_dropped_connection_costs_one_retry_and_no_second_effect(cast, committed_db, database_url, key):
    """No pre-ping: the pooled connection the server dropped fails on fire()'s first statement, fire() retries
    once, and the command takes effect exactly once."""
    app_id = factories.new_application(cast)
    engine.fire(app_id, "submit", cast.applicant)
    assert _terminate_others(database_url) >= 1

    result = engine.fire(app_id, "return_for_correction", cast.district_reviewer, {"comment": "请补充盖章页"},
                         expected_version=2, idempotency_key=key)  # fmt: skip

    assert (result.state, result.version, result.replayed) == ("returned", 3, False)
    assert _transitions(app_id, "return_for_correction") == 1
    with db.transaction() as session:
        assert audit.verify(session).ok


@pytest.mark.postgres
def test_a_connection_lost_at_commit_is_retried_only_with_a_key(cast, committed_db, monkeypatch):
    """Lost at COMMIT after the server committed: with a key the retry replays (one effect); without one fire()
    does not guess, and says the connection was lost."""
    assert db.engine is not None
    dialect = db.engine.dialect
    real_commit = dialect.do_commit
    lose = {"next": False}

    def commit_then_lose(dbapi_connection: Any) -> None:
        real_commit(dbapi_connection)
        if lose["next"]:
            lose["next"] = False
            dbapi_connection.driver_connection.close()  # the answer to COMMIT never arrives
            raise psycopg.OperationalError("the connection is closed")

    monkeypatch.setattr(dialect, "do_commit", commit_then_lose)
    first, second = factories.new_application(cast), factories.new_application(cast)
    for app_id in (first, second):
        engine.fire(app_id, "submit", cast.applicant)

    lose["next"] = True
    result = engine.fire(first, "return_for_correction", cast.district_reviewer, {"comment": "请补充盖章页"},
                         expected_version=2, idempotency_key="k-commit")  # fmt: skip
    assert result.replayed and (result.state, result.version) == ("returned", 3)
    assert _transitions(first, "return_for_correction") == 1

    lose["next"] = True
    with pytest.raises(Exception, match="closed"):
        engine.fire(second, "return_for_correction", cast.district_reviewer, {"comment": "请补充盖章页"},
                    expected_version=2)  # fmt: skip
    assert _transitions(second, "return_for_correction") == 1  # it did commit; no retry doubled it
    with db.transaction() as session:
        assert audit.verify(session).ok
        assert session.execute(text("SELECT 1")).scalar() == 1
