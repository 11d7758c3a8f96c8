"""A keyed audit chain (issue 10 item 4): an insider with write access to the database cannot forge it.

The probe: with database write access an insider dropped the triggers, changed who approved an award, recomputed every
later hash and the head, and `audit verify` said "intact". Changing `applications.state` with no event also passed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tests import factories
from workflow import audit
from workflow.db import db
from workflow.definitions import canonical_json
from workflow.models import Application, AuditEvent, AuditHead


def _verify() -> audit.Verification:
    with db.transaction() as session:
        return audit.verify(session)


def _drop_triggers(session: Session) -> None:
    """What the insider did first; undone with the test's rolled-back transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events"))
    else:
        session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))


def _plain_sha256(values: dict[str, Any]) -> str:
    """The chain's old, public recipe: SHA-256 over the canonical JSON of the event's fields."""
    return hashlib.sha256(canonical_json(values)).hexdigest()


def _content(event: AuditEvent, fields: tuple[str, ...]) -> dict[str, Any]:
    content = {name: getattr(event, name) for name in fields}
    content["occurred_at"] = audit._stamp(event.occurred_at)
    return content


def _forge_from(seq: int, sign: Callable[[AuditEvent], str]) -> None:
    """Re-link and re-hash every event from `seq` on with `sign`, and move the head: a complete forgery."""
    with db.transaction() as session:
        _drop_triggers(session)
        previous = session.get(AuditEvent, seq - 1)
        prev_hash = previous.hash if previous is not None else audit.GENESIS
        for event in session.scalars(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)):
            event.prev_hash = prev_hash
            event.hash = sign(event)
            prev_hash = event.hash
            session.flush()
        session.execute(update(AuditHead).where(AuditHead.id == audit.HEAD_ID).values(last_hash=prev_hash))


def as_legacy(event: AuditEvent) -> str:
    event.key_id = None
    event.app_version = None
    return _plain_sha256(_content(event, audit.LEGACY_FIELDS))


def with_a_guessed_key(event: AuditEvent) -> str:
    """Keeps the event's key id, signs with a key of the forger's own."""
    return hmac.new(b"guessed", canonical_json(_content(event, audit.HASHED_FIELDS)), hashlib.sha256).hexdigest()


def under_own_key_id(event: AuditEvent) -> str:
    event.key_id = audit.key_id("forger's key")
    return hmac.new(b"forger's key", canonical_json(_content(event, audit.HASHED_FIELDS)), hashlib.sha256).hexdigest()


@pytest.fixture
def approved(cast) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """An award approved by the second finance officer: (application id, seq of the approve_award event)."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "award_approved")
    with db.transaction() as session:
        seq = session.scalars(
            select(AuditEvent.seq).where(AuditEvent.application_id == app_id, AuditEvent.trigger == "approve_award")
        ).one()
    assert _verify().ok
    return app_id, seq


def _change_the_approver(seq: int, cast) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        _drop_triggers(session)
        event = session.get(AuditEvent, seq)
        assert event is not None and event.actor == cast.finance_officer2.username
        event.actor_id, event.actor = cast.finance_officer.id, cast.finance_officer.username


@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        (as_legacy, "unkeyed event after the keyed chain began"),
        (with_a_guessed_key, "content does not match its hash"),
        (under_own_key_id, "which is not configured"),
    ],
    ids=["plain-sha256", "guessed-key", "own-key-id"],
)
def test_a_forged_approver_with_every_later_hash_and_the_head_recomputed_is_caught(cast, approved, forgery, reason):
    _, seq = approved
    _change_the_approver(seq, cast)
    _forge_from(seq, forgery)
    result = _verify()
    assert not result.ok and result.broken_seq == seq and reason in result.reason, str(result)


def test_the_same_forgery_with_the_real_key_would_pass(cast, approved):
    """The chain's strength is the key alone: the forgery recipe itself is right (this guards the tests above)."""
    _, seq = approved
    _change_the_approver(seq, cast)
    _forge_from(seq, audit.compute_hash)
    assert _verify().ok


def _rewrite(app_id: int, **values: Any) -> None:
    with db.transaction() as session:
        session.execute(update(Application).where(Application.id == app_id).values(**values))


def test_a_state_changed_with_no_event_is_caught(approved):
    app_id, _ = approved
    _rewrite(app_id, state="paid")
    result = _verify()
    assert not result.ok and f"application {app_id} is in state 'paid'" in result.reason
    assert "award_approved" in result.reason


def test_a_version_changed_with_no_event_is_caught(approved):
    app_id, _ = approved
    with db.transaction() as session:
        version = session.get(Application, app_id).version  # type: ignore[union-attr]
    _rewrite(app_id, version=version + 5)
    result = _verify()
    assert not result.ok and f"application {app_id} is at version {version + 5}" in result.reason


def test_an_application_inserted_behind_the_chains_back_is_caught(cast, approved):
    app_id, _ = approved
    with db.transaction() as session:
        model = session.get(Application, app_id)
        assert model is not None
        intruder = Application(
            programme_version_id=model.programme_version_id,
            organisation_id=model.organisation_id,
            kind=model.kind,
            project_name="无事件的申请",
            district=model.district,
            form={},
            state="award_approved",
            version=1,
            created_by_id=cast.applicant.id,
        )
        session.add(intruder)
        session.flush()
        intruder_id = intruder.id
    result = _verify()
    assert not result.ok and f"application {intruder_id} has no event" in result.reason


@pytest.fixture
def keys(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The app's keys, put back after a test that rotates them."""
    shipped = list(app.config["AUDIT_KEYS"])
    yield shipped
    audit.configure(shipped, int(app.config["AUDIT_LEGACY_THROUGH"]))


def test_a_rotated_key_still_verifies_old_events_and_signs_new_ones(cast, keys):
    first = factories.new_application(cast)
    new_key = secrets.token_urlsafe(32)
    audit.configure([new_key, *keys])
    second = factories.new_application(cast)
    result = _verify()
    assert result.ok and {audit.key_id(keys[0]), audit.key_id(new_key)} <= set(result.keys), str(result)
    with db.transaction() as session:
        signers = dict(session.execute(select(AuditEvent.application_id, AuditEvent.key_id).where(
            AuditEvent.application_id.in_([first, second]), AuditEvent.outcome == "created"
        )).all())  # fmt: skip
    assert signers == {first: audit.key_id(keys[0]), second: audit.key_id(new_key)}

    audit.configure([new_key])  # the old key dropped too soon: its events can no longer be verified
    dropped = _verify()
    assert not dropped.ok and "not configured" in dropped.reason


def test_unkeyed_events_verify_only_up_to_the_boundary_kept_outside_the_database(cast, keys):
    factories.new_application(cast)
    _forge_from(1, as_legacy)  # the whole chain as events written before keying
    with db.transaction() as session:
        last = session.get(AuditHead, audit.HEAD_ID).last_seq  # type: ignore[union-attr]
    assert not _verify().ok  # AUDIT_LEGACY_THROUGH unset: no unkeyed event is believed
    audit.configure(keys, legacy_through=last)
    within = _verify()
    assert within.ok and within.keys == {"legacy": last}
    audit.configure(keys, legacy_through=last - 1)
    beyond = _verify()
    assert not beyond.ok and beyond.broken_seq == last


def test_audit_verify_and_head_print_what_an_auditor_records(runner, approved):
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "audit chain intact" in verified.output
    head = runner.invoke(args=["audit", "head"])
    seq, digest = head.output.split()
    assert f"head {seq} {digest}" in verified.output and len(digest) == 64
