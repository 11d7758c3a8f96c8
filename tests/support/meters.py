"""Units with meters and readings of known shape, for the evidence checks' known-answer tests."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from meters import checks, registry
from meters.models import Meter, Reading
from meters.rules import rules
from tests import factories
from workflow.accounts import SYSTEM, Organisation
from workflow.db import as_utc, db
from workflow.workdays import SHANGHAI

HEADER = "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"


def unit(
    meter_rows: str, required: dict[tuple[int, str], int] | None = None, header: str = HEADER
) -> tuple[int, dict[str, int]]:
    """A unit with the meters of the registry rows (and the required points); returns its id and meter ids."""
    org = factories.make_org()
    rows, problems = registry.read_registry(io.StringIO(header + meter_rows))
    assert problems == []
    with db.transaction() as session:
        registry.register(session, SYSTEM, session.merge(org), rows)
        for (tier, energy), count in (required or {}).items():
            registry.require(session, SYSTEM, session.merge(org), tier, energy, count)
        ids = {m.point_code: m.id for m in session.query(Meter).filter(Meter.organisation_id == org.id)}
    return org.id, ids


def hourly(meter_id: int, period: checks.Period, skip: set[int] = frozenset(), value=lambda n: Decimal(1)):  # type: ignore[no-untyped-def,assignment]
    """One reading an hour over the period (Shanghai hours 00:00 … 23:00 of each day), but for the hours in `skip`."""
    start = dt.datetime.combine(period.start, dt.time(), SHANGHAI)
    rows = [
        {"meter_id": meter_id, "at": (start + dt.timedelta(hours=n)).astimezone(dt.UTC), "value": value(n)}
        for n in range(period.days * 24)
        if n not in skip
    ]
    with db.transaction() as session:
        if rows:
            session.execute(insert(Reading), rows)


def results(
    org_id: int, period: checks.Period, declared: dict[str, Any] | None = None
) -> dict[str, checks.CheckResult]:
    """Every check on the unit's evidence for the period, by name (rules version 1)."""
    with db.transaction() as session:
        evidence = checks.load(session, org_id, period, declared=declared, rules=rules(1))
    return {r.check: r for r in checks.run(evidence, rules(1))}


def daily(meter_id: int, first: dt.date, last: dt.date, skip: set[dt.date] = frozenset()) -> None:  # type: ignore[assignment]
    rows = [
        {"meter_id": meter_id, "at": dt.datetime.combine(first + dt.timedelta(days=n), dt.time(), SHANGHAI), "value": 1}
        for n in range((last - first).days + 1)
        if first + dt.timedelta(days=n) not in skip
    ]
    with db.transaction() as session:
        session.execute(insert(Reading), rows)


def readings(meter_id: int, points: list[tuple[dt.datetime, Decimal | int | str]]) -> None:
    """Store the readings (times with their zone, stored in UTC as ingestion stores them)."""
    rows = [{"meter_id": meter_id, "at": when.astimezone(dt.UTC), "value": Decimal(v)} for when, v in points]
    with db.transaction() as session:
        session.execute(insert(Reading), rows)


def at(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A Shanghai wall-clock time."""
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)


def metered(org_id: int, days: int = 400) -> None:
    """A unit with one gateway meter, required, read each Shanghai midnight for the last `days` days (a register
    rising 10 a day): every check that reads access, completeness and consumption has something to judge."""
    rows, _ = registry.read_registry(io.StringIO(HEADER + "G-1,1,electricity,kWh,1440,true,,0.5S,2030-01-01\n"))
    today = dt.datetime.now(SHANGHAI).date()
    with db.transaction() as session:
        org = session.get(Organisation, org_id)
        registry.register(session, SYSTEM, org, rows)
        registry.require(session, SYSTEM, org, 1, "electricity", 1)
        meter_id = session.scalars(select(Meter.id).where(Meter.organisation_id == org_id)).one()
        start = today - dt.timedelta(days=days)
        points = [
            {
                "meter_id": meter_id,
                "at": dt.datetime.combine(start + dt.timedelta(days=n), dt.time(), SHANGHAI).astimezone(dt.UTC),
                "value": 10 * n,
            }
            for n in range(days + 1)
        ]
        session.execute(insert(Reading), points)


def stored(org_id: int) -> list[tuple[str, dt.datetime, Decimal]]:
    """The unit's readings as (point code, UTC time, value), in meter and time order."""
    with db.transaction() as session:
        rows = session.execute(
            select(Meter.point_code, Reading.at, Reading.value)
            .join(Meter, Meter.id == Reading.meter_id)
            .where(Meter.organisation_id == org_id)
            .order_by(Meter.point_code, Reading.at)
        ).all()
    return [(code, as_utc(at), Decimal(value)) for code, at, value in rows]
