"""Evidence snapshots: every check run once for an application and a period, frozen with a SHA-256 of the whole.

A snapshot stores what the checks read (each meter's points, first and last time, and a digest of its readings),
the results, and the rule and code versions; it is never changed. The outbox takes one when an application enters
a state the rules name (the site verification, the monitoring fund's technical review); the agency's coordinator
or 市计测院 may ask for a fresh one; the latest is shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters import checks, figures
from meters.models import EvidenceSnapshot
from meters.rules import EvidenceRules, rules
from workflow import audit, outbox
from workflow.accounts import SYSTEM, Actor
from workflow.db import db, iso_utc, utcnow
from workflow.engine import command_target
from workflow.models import Application, AuditEvent
from workflow.visibility import get_visible
from workflow.workdays import SHANGHAI

CODE = "meters.checks@1"  # the checks' own version: a change to how a figure is computed moves it


def default_period(taken_on: dt.date, evidence_rules: EvidenceRules) -> checks.Period:
    """The trailing days the rules name, ending the day before the snapshot is taken (Shanghai dates)."""
    end = taken_on - dt.timedelta(days=1)
    return checks.Period(end - dt.timedelta(days=evidence_rules.snapshot_days - 1), end)


def _inputs(evidence: checks.Evidence) -> list[dict[str, Any]]:
    out = []
    for meter in evidence.meters:
        series = evidence.series[meter.id]
        out.append(
            {
                "meter": meter.point_code,
                "tier": meter.tier,
                "energy_type": meter.energy_type,
                "unit": meter.unit,
                "interval_minutes": meter.interval_minutes,
                "cumulative": meter.cumulative,
                "points": series.points,
                "first": iso_utc(series.first),
                "last": iso_utc(series.last),
                "sha256": series.sha256,  # of its readings as "time|value" lines, taken as they streamed past
            }
        )
    return out


def document(snapshot: EvidenceSnapshot) -> dict[str, Any]:
    """What the snapshot's hash covers (and what the API shows, with its id and hash). The pictures' figures are
    covered when there are any (snapshots from before they were kept have none, and keep their hash)."""
    covered = {
        "application_id": snapshot.application_id,
        "period": {"from": snapshot.period_start.isoformat(), "to": snapshot.period_end.isoformat()},
        "taken_at": iso_utc(snapshot.taken_at),
        "taken_by": snapshot.taken_by,
        "reason": snapshot.reason,
        "rules": snapshot.rules,
        "code": snapshot.code,
        "inputs": snapshot.inputs,
        "results": snapshot.results,
    }
    if snapshot.figures:
        covered["figures"] = snapshot.figures
    return covered


def digest(snapshot: EvidenceSnapshot) -> str:
    canonical = json.dumps(document(snapshot), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def take(
    session: Session,
    application: Application,
    taken_by: str,
    reason: str,
    period: checks.Period | None = None,
    source_event_seq: int | None = None,
) -> EvidenceSnapshot:
    """Run every check on the applicant unit's meters for the period and store the result, hashed."""
    evidence_rules = rules()
    now = utcnow()
    period = period or default_period(now.astimezone(SHANGHAI).date(), evidence_rules)
    evidence = checks.load(
        session, application.organisation_id, period, declared=application.form or {}, rules=evidence_rules
    )
    results = [{k: v for k, v in r.as_dict().items() if k != "period"} for r in checks.run(evidence, evidence_rules)]
    snapshot = EvidenceSnapshot(
        application_id=application.id,
        period_start=period.start,
        period_end=period.end,
        taken_at=now.replace(microsecond=0),
        taken_by=taken_by[:64],
        reason=reason[:64],
        source_event_seq=source_event_seq,
        rules=evidence_rules.label,
        code=CODE,
        inputs=_inputs(evidence),
        results=results,
        figures=figures.figures(evidence, evidence_rules),
        sha256="",
    )
    snapshot.sha256 = digest(snapshot)
    session.add(snapshot)
    session.flush()
    return snapshot


def latest(session: Session, application_id: int) -> EvidenceSnapshot | None:
    return session.scalars(
        select(EvidenceSnapshot)
        .where(EvidenceSnapshot.application_id == application_id)
        .order_by(EvidenceSnapshot.id.desc())
        .limit(1)
    ).one_or_none()


def _once(session: Session, application_id: int, event_seq: int, taken_by: str, reason: str) -> EvidenceSnapshot | None:
    """The snapshot an audited event asked for: the one already taken for it, else a new one (tasks are redelivered)."""
    done: EvidenceSnapshot | None = outbox.made_for(session, EvidenceSnapshot, application_id, event_seq)
    if done is not None:
        return done
    application = get_visible(session, SYSTEM, application_id)
    if application is None:
        return None
    return take(session, application, taken_by, reason, source_event_seq=event_seq)


def on_transition(session: Session, application_id: int, event_seq: int) -> EvidenceSnapshot | None:
    """The outbox's delivery of a transition: a snapshot if it entered a state the rules name (once per event)."""
    event = session.get(AuditEvent, event_seq)
    if event is None or event.outcome != "transition" or event.to_state not in rules().snapshot_on:
        return None
    return _once(session, application_id, event_seq, "system", f"entered {event.to_state}")


# Who may ask for a fresh snapshot: the agency runs the site verification, 市计测院 the monitoring fund's review.
TAKERS = frozenset({"agency_coordinator", "monitoring_reviewer"})
REQUESTED = "evidence_requested"  # the outbox topic of a fresh snapshot asked for on a page


def request_fresh(actor: Actor | int, application_id: int, request_id: str | None = None) -> int:
    """The coordinator asks for a fresh snapshot, taken by a worker (a large unit's takes minutes): the request is
    audited, and its event makes the task idempotent. Returns the event's number."""
    with db.transaction() as session:
        who, application = command_target(
            session, actor, application_id, roles=TAKERS, doing="take an evidence snapshot"
        )
        event = audit.note(session, who, application, "evidence_asked", {}, request_id=request_id)
        message = {"application_id": application.id, "event_seq": event.seq, "requested_by": who.username}
        outbox.publish(session, REQUESTED, message, application_id=application.id)
    outbox.kick()
    return event.seq


def on_request(session: Session, application_id: int, event_seq: int, requested_by: str) -> EvidenceSnapshot | None:
    """The worker's side of `request_fresh`: one snapshot per request, however often the task is delivered."""
    return _once(session, application_id, event_seq, requested_by, "requested")
