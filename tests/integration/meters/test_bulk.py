"""COPY on PostgreSQL (issue 12): the same file gives the same readings and the same refusals, by line, as the row
by row path, a re-import changes nothing, and readings land in their month's partition."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import text

from meters import bulk, ingest, partitions, registry
from tests import factories
from tests.support.meters import stored
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.errors import InvalidInput

pytestmark = pytest.mark.postgres

METERS = (
    "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"
    "E-1,1,electricity,kWh,15,true,,0.5S,\n"
    "W-1,1,water,t,60,false,,,\n"
)
# Every kind of row: the common shape, other ISO forms, quoting, blanks, and each refusal.
ROWS = (
    "E-1,2026-03-01T00:00:00+08:00,100.5\n"  # line 2
    "E-1,2026-03-01T00:15,100.75\n"  # 3: no offset, Shanghai
    "E-1 , 2026-03-01 00:30:00 , 101\n"  # 4: spaces around the cells
    "W-1,2026-02-28T16:00:00Z,7\n"  # 5: UTC
    '"W-1","2026-03-01T01:00:00+08:00","8"\n'  # 6: quoted cells
    "\n"  # 7: blank
    "W-1,2026-03-01,9\n"  # 8: a date alone is its midnight (Python's ISO 8601): line 5's time, another value
    "W-1,2026-03-01T02:00:00+08:00,1e1\n"  # 9: an exponent
    "E-9,2026-03-01T00:00:00+08:00,1\n"  # 10: unknown meter
    "E-1,2026-02-30T00:00:00+08:00,1\n"  # 11: no such day
    "E-1,2026-03-01T24:00:00+08:00,1\n"  # 12: no such hour
    "E-1,2026-03-01T00:45:00+08:00,abc\n"  # 13: not a number
    "E-1,2026-03-01T00:45:00+08:00\n"  # 14: two cells
    "E-1,2026-03-01T00:00:00+08:00,999\n"  # 15: line 2's meter and time, another value
    "E-1,2026-03-01T00:00:00+08:00,100.5\n"  # 16: line 2 again, the same value
    "W-1,2026-04-01T00:00:00+08:00,10\n"  # 17: the next month (March 31 16:00 UTC)
)
HEADER = "point_code,timestamp,value\n"


def _unit() -> int:
    org = factories.make_org()
    rows, _ = registry.read_registry(io.StringIO(METERS))
    with db.transaction() as session:
        registry.register(session, SYSTEM, session.merge(org), rows)
    return org.id


def _outcome(result: ingest.Ingested) -> tuple[int, int, list[tuple[int, str]]]:
    return result.inserted, result.unchanged, [(p.line, p.column) for p in result.refused]


def test_copy_and_row_by_row_store_the_same_readings_and_refuse_the_same_lines():
    by_rows, by_copy = _unit(), _unit()
    python = ingest.ingest(SYSTEM, by_rows, ingest.read_readings(io.StringIO(HEADER + ROWS)), "rows.csv")
    copied = bulk.load_file(SYSTEM, by_copy, io.BytesIO((HEADER + ROWS).encode()), "copy.csv")
    assert _outcome(copied) == _outcome(python)
    refused = [(8, "value"), (10, "point_code"), (11, "timestamp"), (12, "timestamp"), (13, "value"), (14, "row")]
    assert _outcome(copied)[2] == [*refused, (15, "value")]
    assert (copied.inserted, copied.unchanged) == (7, 1)
    assert stored(by_copy) == stored(by_rows)
    assert stored(by_copy)[0] == ("E-1", dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC), Decimal("100.5"))


def test_copy_again_changes_nothing_and_names_a_changed_value():
    org_id = _unit()
    good = "E-1,2026-03-01T00:00:00+08:00,100.5\nE-1,2026-03-01T00:15:00+08:00,101\n"
    first = bulk.load_file(SYSTEM, org_id, io.BytesIO((HEADER + good).encode()))
    again = bulk.load_file(SYSTEM, org_id, io.BytesIO((HEADER + good).encode()))
    assert (first.inserted, again.inserted, again.unchanged, again.refused) == (2, 0, 2, [])
    changed = bulk.load_file(SYSTEM, org_id, io.BytesIO((HEADER + good.replace("101", "102")).encode()))
    assert [(p.line, p.message) for p in changed.refused] == [
        (3, "E-1 at 2026-03-01T00:15:00+08:00 is already stored as 101.000000, not 102.000000")
    ]


def test_readings_land_in_their_months_partition_and_the_default_keeps_none():
    org_id = _unit()
    rows = "W-1,2026-02-28T16:00:00Z,7\nW-1,2026-03-31T16:00:00Z,8\n"  # 1 March and 1 April, Shanghai
    bulk.load_file(SYSTEM, org_id, io.BytesIO((HEADER + rows).encode()))
    with db.transaction() as session:
        made = partitions.existing(session)
        assert {"meter_readings_y2026m02", "meter_readings_y2026m03"} <= made
        where = dict(
            session.execute(
                text(
                    "SELECT tableoid::regclass::text, count(*) FROM meter_readings "
                    "WHERE at < '2026-04-01 00:00+00' GROUP BY 1"
                )
            ).all()
        )
    assert where.get("meter_readings_default") is None
    assert where["meter_readings_y2026m02"] >= 1 and where["meter_readings_y2026m03"] >= 1


def test_a_wrong_header_or_a_file_that_is_not_utf8_is_refused_whole():
    org_id = _unit()
    with pytest.raises(InvalidInput, match="the header must be point_code,timestamp,value"):
        bulk.load_file(SYSTEM, org_id, io.BytesIO(b"code,time,value\nE-1,2026-03-01,1\n"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        bulk.load_file(SYSTEM, org_id, io.BytesIO(b"point_code,timestamp,value\nE-1,2026-03-01,\xff\xfe\n"))


def test_a_plain_file_goes_straight_in_and_stores_what_the_row_by_row_path_stores():
    """Every line plain: COPY straight into the readings (no staging), Shanghai's wall clock where no offset is
    given, across a month's end (partitions on both sides made first)."""
    plain = (
        "E-1,2026-02-28T23:45,100.5\n"
        "E-1,2026-03-01T00:00:00+08:00,101.25\n"
        "W-1,2026-03-31T23:00:00Z,3\n"
        "W-1,2026-04-01 09:00,4\n"
    )
    by_rows, by_copy = _unit(), _unit()
    ingest.ingest(SYSTEM, by_rows, ingest.read_readings(io.StringIO(HEADER + plain)), "rows.csv")
    copied = bulk.load_file(SYSTEM, by_copy, io.BytesIO((HEADER + plain).encode()))
    assert (copied.inserted, copied.unchanged, copied.refused) == (4, 0, [])
    assert stored(by_copy) == stored(by_rows)
    assert stored(by_copy)[0][1] == dt.datetime(2026, 2, 28, 15, 45, tzinfo=dt.UTC)
    with db.transaction() as session:
        zone = session.execute(text("SHOW TimeZone")).scalar_one()
    assert zone != "Asia/Shanghai"  # the load's own setting does not outlive it
