"""Meter events that explain a unit's data: a meter replaced, a register rolled over, an outage with its cause.

The checks read them (`meters.integrity`, `meters.quality`): a fall across a recorded replacement is not a fault, a
gap inside a recorded outage is shown but not held against the unit. Each event is audited; none is ever changed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters.models import Meter, MeterEvent
from workflow import audit
from workflow.accounts import Actor, Organisation
from workflow.db import iso_utc
from workflow.errors import InvalidInput, Problem

KINDS = ("replaced", "rollover", "outage")
MAX_NOTE = 500


def record(
    session: Session,
    actor: Actor,
    organisation: Organisation,
    point_code: str,
    kind: str,
    at: dt.datetime,
    ends_at: dt.datetime | None = None,
    note: str = "",
) -> MeterEvent:
    """Record an event for one of the unit's meters; an outage needs its end, the others have none. Times carry their
    zone and are stored in UTC."""
    at = at.astimezone(dt.UTC)
    ends_at = ends_at.astimezone(dt.UTC) if ends_at is not None else None
    problems = []
    meter = session.scalars(
        select(Meter).where(Meter.organisation_id == organisation.id, Meter.point_code == point_code)
    ).one_or_none()
    if meter is None:
        problems.append(Problem("meter", "not_found", f"no meter '{point_code}' for {organisation.uscc}"))
    if kind not in KINDS:
        problems.append(Problem("kind", "not_allowed", f"one of {', '.join(KINDS)}; got {kind!r}"))
    if kind == "outage" and ends_at is None:
        problems.append(Problem("until", "required", "an outage needs its end"))
    if kind != "outage" and ends_at is not None:
        problems.append(Problem("until", "not_allowed", f"a {kind} happens at one time; only an outage has an end"))
    if ends_at is not None and ends_at <= at:
        problems.append(Problem("until", "before_start", f"the end {ends_at} is not after the start {at}"))
    if len(note) > MAX_NOTE:
        problems.append(Problem("note", "too_long", f"at most {MAX_NOTE} characters; got {len(note)}"))
    if kind == "outage" and not note.strip():
        problems.append(Problem("note", "required", "say what caused the outage"))
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    assert meter is not None
    event = MeterEvent(
        meter_id=meter.id, kind=kind, at=at, ends_at=ends_at, note=note.strip(), recorded_by=actor.username[:64]
    )
    session.add(event)
    session.flush()
    audit.append(
        session,
        actor=actor,
        outcome="meter_event",
        application_id=None,
        payload={
            "uscc": organisation.uscc,
            "meter": point_code,
            "kind": kind,
            "at": iso_utc(at),
            "until": iso_utc(ends_at) if ends_at is not None else None,
            "note": note.strip(),
        },
    )
    return event
