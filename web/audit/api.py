"""The audit API, for the auditor alone (anyone else: 404, as for a path that does not exist): the events, filtered
and paged, and a verification of the whole chain (recorded as an event of its own; it changes no event)."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

from web.audit.access import event_filter, may_read
from web.audit.blueprints import api as bp
from web.core.actor import me
from web.core.api import positive_int
from web.core.pages import commit_reads
from web.core.problems import ApiProblem
from workflow import audit_trail
from workflow.audit import Verification
from workflow.db import db, iso_utc
from workflow.errors import InvalidInput
from workflow.models import AuditEvent

MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000


def _auditor_only() -> None:
    if not may_read(me()):
        # The same answer as for a path that does not exist: the audit is not there for anyone else.
        raise ApiProblem(404, "not_found", "no such resource")


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": iso_utc(event.occurred_at),
        "actor": event.actor,
        "actor_id": event.actor_id,
        "role": event.role,
        "application_id": event.application_id,
        "kind": event.outcome,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "payload": event.payload,
        "request_id": event.request_id,
        "key_id": event.key_id,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def verification_json(found: Verification) -> dict[str, Any]:
    return {
        "ok": found.ok,
        "checked": found.checked,
        "broken_seq": found.broken_seq,
        "reason": found.reason,
        "applications": found.applications,
        "head_hash": found.head_hash if found.ok else None,
        "summary": str(found),
    }


@bp.get("/audit/events")
def events() -> Response:
    """The audit events, newest first: filter by application_id, actor, kind, from and to (Beijing days)."""
    _auditor_only()
    page, page_problem = positive_int("page", 1, MAX_PAGE)
    per_page, per_page_problem = positive_int("per_page", 50, MAX_PER_PAGE)
    where, problems = event_filter(request.args)
    problems = [p for p in (page_problem, per_page_problem, *problems) if p]
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    found = audit_trail.events(db.session, where, page, per_page)
    return jsonify(
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        items=[event_json(e) for e in found.events],
    )


@bp.post("/audit/verify")
def verify() -> Response:
    """Walk the whole chain and say whether it is intact or where it first breaks; the run itself is recorded."""
    _auditor_only()
    commit_reads()
    with db.transaction() as session:
        found = audit_trail.verify_and_record(session, me(), request_id=g.get("request_id"))
    return jsonify(verification_json(found))
