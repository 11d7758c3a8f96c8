"""Meter readings in: a CSV stream read row by row, checked, and stored in batches, so a file of any size streams.

`point_code,timestamp,value`: ISO 8601 times (without an offset, Asia/Shanghai), stored in UTC; the value is the
register reading for a cumulative meter, else the interval's quantity. A row is refused — with its line and why —
for an unknown meter, a time or value that does not parse, or a time already stored with another value; it is
never dropped silently or filled with zero. The same row sent again changes nothing. The good rows land.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from meters import partitions
from meters.models import Meter, Reading
from meters.registry import RowProblem
from workflow import audit
from workflow.accounts import Actor, Organisation
from workflow.db import as_utc, db
from workflow.engine import resolve_actor
from workflow.errors import Forbidden, InvalidInput, Problem
from workflow.workdays import SHANGHAI

READINGS_HEADER = ("point_code", "timestamp", "value")
BATCH = 5000
MAX_DIGITS = 20  # the column: 20 digits, 6 after the point
MAX_REFUSALS_KEPT = 10_000  # a file of refusals still streams; the count goes on past the list


@dataclass(frozen=True)
class ReadingRow:
    line: int
    point_code: str
    at: dt.datetime  # UTC
    value: Decimal


@dataclass
class Ingested:
    """What an import did: rows stored, rows already there with the same value, and the refused rows."""

    inserted: int = 0
    unchanged: int = 0
    refused_count: int = 0
    refused: list[RowProblem] = field(default_factory=list)

    def refuse(self, problem: RowProblem) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_REFUSALS_KEPT:
            self.refused.append(problem)


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time in UTC; one without an offset is Shanghai's wall clock."""
    when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=SHANGHAI)
    try:
        return when.astimezone(dt.UTC)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset: a time that does not parse
        raise ValueError(f"{text!r} is outside the calendar in UTC") from None


def parse_value(text: str) -> Decimal:
    value = Decimal(text.strip())
    if not value.is_finite():
        raise InvalidOperation(text)
    digits = len(value.quantize(Decimal("0.000001")).as_tuple().digits)
    if digits > MAX_DIGITS:
        raise InvalidOperation(text)
    return value


def read_readings(stream: IO[str]) -> Iterator[ReadingRow | RowProblem]:
    """Each data row as a reading, or the problem that refuses it; the header must be point_code,timestamp,value."""
    reader = csv.reader(stream)
    header = tuple(name.strip() for name in next(reader, ()))
    if header != READINGS_HEADER:
        wanted = ",".join(READINGS_HEADER)
        raise InvalidInput(
            f"the header must be {wanted}; got {','.join(header) or 'nothing'}",
            [Problem("header", "wrong_header", f"the header must be {wanted}")],
        )
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(READINGS_HEADER):
            yield RowProblem(line, "row", f"3 values (point_code,timestamp,value); got {len(cells)}")
            continue
        code, stamp, raw = (cell.strip() for cell in cells)
        try:
            at = parse_time(stamp)
        except ValueError:
            yield RowProblem(line, "timestamp", f"an ISO 8601 time such as 2026-03-01T00:15:00+08:00; got {stamp!r}")
            continue
        try:
            value = parse_value(raw)
        except InvalidOperation:
            yield RowProblem(line, "value", f"a finite number with at most {MAX_DIGITS} digits; got {raw!r}")
            continue
        yield ReadingRow(line, code, at, value)


def ingest(
    actor: Actor,
    organisation_id: int,
    rows: Iterable[ReadingRow | RowProblem],
    source: str = "",
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
    request_id: str | None = None,
) -> Ingested:
    """Store the rows in batches of `batch`, each in its own transaction; returns the counts and the refusals."""
    result = Ingested()
    with db.transaction() as session:
        found = session.execute(select(Meter.point_code, Meter.id).where(Meter.organisation_id == organisation_id))
        meters: dict[str, int] = {code: meter_id for code, meter_id in found}
        uscc = session.get(Organisation, organisation_id).uscc  # type: ignore[union-attr]
    pending: list[ReadingRow] = []
    for row in rows:
        if isinstance(row, RowProblem):
            result.refuse(row)
        elif row.point_code not in meters:
            result.refuse(RowProblem(row.line, "point_code", f"no meter '{row.point_code}' registered for this unit"))
        else:
            pending.append(row)
        if len(pending) >= batch:
            _store(pending, meters, result)
            if progress is not None:
                progress(len(pending))
            pending = []
    if pending:
        _store(pending, meters, result)
        if progress is not None:
            progress(len(pending))
    result.refused.sort(key=lambda p: p.line)
    with db.transaction() as session:
        record_load(session, actor, uscc, result, source, request_id)
    return result


def record_load(
    session: Session, actor: Actor, uscc: str, result: Ingested, source: str, request_id: str | None = None
) -> None:
    """The audit event of one load: what was stored, already there and refused, and where it came from."""
    audit.append(
        session,
        actor=actor,
        outcome="readings_loaded",
        application_id=None,
        payload={
            "uscc": uscc,
            "inserted": result.inserted,
            "unchanged": result.unchanged,
            "refused": result.refused_count,
            "source": source,
        },
        request_id=request_id,
    )


def _store(rows: list[ReadingRow], meters: dict[str, int], result: Ingested) -> None:
    """One batch: new rows inserted; a row already stored with its value is unchanged, with another is refused."""
    fresh: dict[tuple[int, dt.datetime], ReadingRow] = {}
    for row in rows:
        key = (meters[row.point_code], row.at)
        first = fresh.get(key)
        if first is None:
            fresh[key] = row
        elif first.value == row.value:
            result.unchanged += 1
        else:
            result.refuse(
                RowProblem(row.line, "value", f"line {first.line} has {first.value} for the same meter and time")
            )
    with db.transaction() as session:
        # The batch's meters over its time span: an index range per meter, where a list of (meter, time) pairs
        # makes PostgreSQL plan thousands of row comparisons on every partition.
        times = [at for _, at in fresh]
        stored = {
            (meter_id, as_utc(at)): value
            for meter_id, at, value in session.execute(
                select(Reading.meter_id, Reading.at, Reading.value).where(
                    Reading.meter_id.in_({meter_id for meter_id, _ in fresh}),
                    Reading.at >= min(times),
                    Reading.at <= max(times),
                )
            )
            if (meter_id, as_utc(at)) in fresh
        }
        new = []
        for key, row in fresh.items():
            if key not in stored:
                new.append({"meter_id": key[0], "at": key[1], "value": row.value})
            elif stored[key] == row.value:
                result.unchanged += 1
            else:
                shown = key[1].astimezone(SHANGHAI).isoformat()
                message = f"{row.point_code} at {shown} is already stored as {stored[key]}, not {row.value}"
                result.refuse(RowProblem(row.line, "value", message))
        if new:
            partitions.ensure(session, partitions.months_of(at for _, at in fresh))
            session.execute(insert(Reading), new)
        result.inserted += len(new)


MAX_PUSH = 10_000  # readings per request: a day of a 100-meter unit at 15 minutes is 9,600


def push(actor: Actor | int, items: list[Any], request_id: str | None = None) -> Ingested:
    """The unit's access-end system pushes a batch for its own meters (an applicant account of the unit).

    Items are `{point_code, timestamp, value}`; a refused item is named by its index in the list (from 0)."""
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        if who.role != "applicant" or who.organisation_id is None:
            raise Forbidden("only the unit's own account pushes its meter readings")
        organisation_id = who.organisation_id
    if len(items) > MAX_PUSH:
        message = f"at most {MAX_PUSH} readings per request; got {len(items)}"
        raise InvalidInput(message, [Problem("readings", "too_many", message)])
    rows = (_item(n, item) for n, item in enumerate(items))
    return ingest(who, organisation_id, rows, "api", request_id=request_id)


def _item(index: int, item: Any) -> ReadingRow | RowProblem:
    if not isinstance(item, dict) or set(item) != {"point_code", "timestamp", "value"}:
        return RowProblem(index, "reading", "an object with exactly point_code, timestamp and value")
    code, stamp, value = item["point_code"], item["timestamp"], item["value"]
    if not isinstance(code, str) or not code.strip():
        return RowProblem(index, "point_code", "a meter's point code")
    try:
        at = parse_time(stamp) if isinstance(stamp, str) else None
    except ValueError:
        at = None
    if at is None:
        return RowProblem(index, "timestamp", f"an ISO 8601 time such as 2026-03-01T00:15:00+08:00; got {stamp!r}")
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation(value)
        number = parse_value(str(value))
    except InvalidOperation:
        return RowProblem(index, "value", f"a finite number with at most {MAX_DIGITS} digits; got {value!r}")
    return ReadingRow(index, code.strip(), at, number)
