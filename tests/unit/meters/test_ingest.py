"""Readings in (issue 12): Shanghai time stored as UTC, bad rows refused by line, a re-import that changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from meters import ingest, registry
from tests import factories
from tests.support.meters import stored
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.errors import InvalidInput
from workflow.models import AuditEvent

METERS = (
    "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"
    "E-1,1,electricity,kWh,15,true,,0.5S,\n"
    "W-1,1,water,t,60,false,,,\n"
)


@pytest.fixture
def unit() -> int:
    org = factories.make_org()
    rows, _ = registry.read_registry(io.StringIO(METERS))
    with db.transaction() as session:
        registry.register(session, SYSTEM, session.merge(org), rows)
    return org.id


def _import(org_id: int, text: str, batch: int = ingest.BATCH) -> ingest.Ingested:
    rows = ingest.read_readings(io.StringIO("point_code,timestamp,value\n" + text))
    return ingest.ingest(SYSTEM, org_id, rows, "test.csv", batch=batch)


def test_a_time_without_offset_is_shanghai_and_is_stored_in_utc(unit):
    text = "E-1,2026-03-01T00:00:00,100.5\nE-1,2026-03-01T00:15:00+08:00,101\nW-1,2026-02-28T16:30Z,3\n"
    result = _import(unit, text)
    assert (result.inserted, result.refused_count) == (3, 0)
    assert stored(unit) == [
        # Shanghai's midnight of 1 March is 16:00 UTC on 28 February: the day boundary is Shanghai's, the storage UTC.
        ("E-1", dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC), Decimal("100.5")),
        ("E-1", dt.datetime(2026, 2, 28, 16, 15, tzinfo=dt.UTC), Decimal("101")),
        ("W-1", dt.datetime(2026, 2, 28, 16, 30, tzinfo=dt.UTC), Decimal("3")),
    ]


def test_a_re_import_changes_nothing_in_any_batch_size(unit):
    text = "".join(f"E-1,2026-03-01T{h:02d}:00:00,{100 + h}\n" for h in range(24))
    first = _import(unit, text, batch=7)
    again = _import(unit, text, batch=5)
    assert (first.inserted, again.inserted, again.unchanged, again.refused_count) == (24, 0, 24, 0)
    assert len(stored(unit)) == 24
    with db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "readings_loaded")).all()
    assert [e.payload["inserted"] for e in events[-2:]] == [24, 0]


def test_bad_rows_are_refused_by_line_never_zero_filled_and_the_good_ones_land(unit):
    _import(unit, "E-1,2026-03-01T00:00:00,100\n")
    result = _import(
        unit,
        "E-1,2026-03-01T00:15:00,101\n"  # line 2: good
        + "X-9,2026-03-01T00:15:00,1\n"  # line 3: no such meter
        + "E-1,2026-13-01T00:00:00,1\n"  # line 4: no 13th month
        + "E-1,2026-03-01T00:30:00,\n"  # line 5: no value (not a zero)
        + "E-1,2026-03-01T00:30:00,NaN\n"  # line 6: not a finite number
        + "E-1,2026-03-01T00:00:00,99\n"  # line 7: that time is stored as 100
        + "E-1,2026-03-01T00:15:00,102\n"  # line 8: line 2 has 101 for the same time
        + "E-1,2026-03-01T00:45:00\n",  # line 9: two values, not three
    )
    assert [(p.line, p.column) for p in result.refused] == [
        (3, "point_code"),
        (4, "timestamp"),
        (5, "value"),
        (6, "value"),
        (7, "value"),
        (8, "value"),
        (9, "row"),
    ]
    assert "already stored as 100" in result.refused[4].message
    assert "line 2 has 101" in result.refused[5].message
    assert (result.inserted, result.refused_count) == (1, 7)
    assert [v for _, _, v in stored(unit)] == [Decimal("100"), Decimal("101")]


def test_a_file_with_another_header_is_refused_whole(unit):
    with pytest.raises(InvalidInput, match="point_code,timestamp,value"):
        list(ingest.read_readings(io.StringIO("meter,time,value\nE-1,2026-03-01T00:00:00,1\n")))
