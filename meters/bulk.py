"""A readings file loaded on PostgreSQL with COPY: the file streams into a staging table as it is, one raw line a row
with its line number, and SQL parses, checks and stores it in a few set operations.

The rules are those of `meters.ingest` (same header, same refusals, same messages where they can be): the common
shape of a row (a point code, an ISO 8601 time, a plain decimal) is parsed in SQL; any other row goes through the
Python parser line by line, so what one path accepts the other does too. The file loads in one transaction: the
good rows land and the refused rows are listed, or — on a database error — nothing lands.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import IO, Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from meters import partitions
from meters.ingest import MAX_REFUSALS_KEPT, READINGS_HEADER, Ingested, ReadingRow, read_readings, record_load
from meters.registry import RowProblem
from workflow.accounts import Actor, Organisation
from workflow.db import db
from workflow.errors import InvalidInput, Problem
from workflow.workdays import SHANGHAI

CHUNK = 1 << 20
ROW = r"^[^,\"]*,[^,\"]*,[^,\"]*$"
TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-](0\d|1[0-5]):?[0-5]\d)?$"
VALUE = r"^[+-]?\d{1,14}(\.\d{1,6})?$"
# The plain line the straight path takes; PostgreSQL's own input checks the rest (a 30 February fails the COPY).
PLAIN_TIME = re.compile(
    rb"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?"
    rb"(Z|[+-](0\d|1[0-5]):?[0-5]\d)?"
)
PLAIN_VALUE = re.compile(rb"[+-]?\d{1,14}(\.\d{1,6})?")

# Nested CASEs: PostgreSQL evaluates a CASE's branches in order, so no cast meets a string it would fail on.
PARSE = rf"""
CREATE TEMP TABLE meter_parsed ON COMMIT DROP AS
SELECT s.line, s.code, m.id AS meter_id,
  CASE WHEN s.ts ~ '{TIME}' THEN
    CASE WHEN substr(s.ts, 6, 2) BETWEEN '01' AND '12' AND substr(s.ts, 1, 4) >= '0001' THEN
      CASE WHEN substr(s.ts, 9, 2) BETWEEN '01' AND to_char(
                  make_date(substr(s.ts, 1, 4)::int, substr(s.ts, 6, 2)::int, 1) + interval '1 month - 1 day', 'DD')
            AND substr(s.ts, 12, 2) <= '23' AND substr(s.ts, 15, 2) <= '59'
            AND (substr(s.ts, 17, 1) <> ':' OR substr(s.ts, 18, 2) <= '59')
      THEN CASE WHEN s.ts ~ '(Z|[+-]\d{{2}}:?\d{{2}})$' THEN s.ts::timestamptz
                ELSE s.ts::timestamp AT TIME ZONE 'Asia/Shanghai' END END
    END
  END AS at,
  CASE WHEN s.val ~ '{VALUE}' THEN s.val::numeric(20, 6) END AS value
FROM (
  SELECT line, btrim(split_part(raw, ',', 1)) AS code, btrim(split_part(raw, ',', 2)) AS ts,
         btrim(split_part(raw, ',', 3)) AS val
  FROM meter_staging WHERE raw ~ '{ROW}'
) s
LEFT JOIN meters m ON m.organisation_id = :org AND m.point_code = s.code
"""


def _header(stream: IO[bytes]) -> None:
    first = stream.readline()
    try:
        names = next(csv.reader([first.decode("utf-8-sig")]), [])
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"not UTF-8 text: {exc}", [Problem("file", "encoding", "the file must be UTF-8")]) from exc
    header = tuple(name.strip() for name in names)
    if header != READINGS_HEADER:
        wanted = ",".join(READINGS_HEADER)
        raise InvalidInput(
            f"the header must be {wanted}; got {','.join(header) or 'nothing'}",
            [Problem("header", "wrong_header", f"the header must be {wanted}")],
        )


class _NotPlain(Exception):
    """A line the straight COPY does not take: the careful path loads the file instead."""


def _edge_months(stream: IO[bytes], start: int) -> set[dt.date] | None:
    """The UTC months around the first and last lines' times (a month either side), or None if they do not parse."""
    stream.seek(start)
    first = stream.readline()
    stream.seek(0, io.SEEK_END)
    end = stream.tell()
    stream.seek(max(start, end - 4096))
    last = stream.read().rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    stream.seek(start)
    months = set()
    for line in (first, last):
        cells = line.rstrip(b"\r\n").split(b",")
        if len(cells) != 3 or not PLAIN_TIME.fullmatch(cells[1]):
            return None
        month = dt.date(int(cells[1][:4]), int(cells[1][5:7]), 1)
        months |= {(month - dt.timedelta(days=1)).replace(day=1), month, (month + dt.timedelta(days=32)).replace(day=1)}
    low, high = min(months), max(months)
    every, month = set(), low
    while month <= high:
        every.add(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return every


def _straight(
    cursor: Any,
    stream: IO[bytes],
    meters: dict[bytes, int],
    months: set[dt.date],
    progress: Callable[[int], None] | None,
) -> int:
    """Every line plain (a known meter, an ISO time of a month prepared, a plain decimal): COPY them straight into
    the readings, the point code turned into the meter's id on the way. Raises _NotPlain at the first other line;
    a duplicate fails the COPY (the caller's savepoint takes both back)."""
    written = 0
    keys = {f"{m:%Y-%m}".encode() for m in months}
    with cursor.copy("COPY meter_readings (meter_id, at, value) FROM STDIN (FORMAT csv)") as copy:
        rest = b""
        while chunk := stream.read(CHUNK):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            out = []
            for line in lines:
                line = line.rstrip(b"\r")
                if not line:
                    continue
                cells = line.split(b",")
                if len(cells) != 3:
                    raise _NotPlain
                meter_id = meters.get(cells[0])
                if meter_id is None or not PLAIN_TIME.fullmatch(cells[1]) or not PLAIN_VALUE.fullmatch(cells[2]):
                    raise _NotPlain
                if cells[1][:7] not in keys:
                    raise _NotPlain
                out.append(b"%d,%s,%s\n" % (meter_id, cells[1], cells[2]))
            copy.write(b"".join(out))
            written += len(out)
            if progress is not None:
                progress(len(chunk))
        if rest.strip():
            raise _NotPlain
    return written


def load_file(
    actor: Actor,
    organisation_id: int,
    stream: IO[bytes],
    source: str = "",
    progress: Callable[[int], None] | None = None,
    stage: Callable[[str], None] | None = None,
) -> Ingested:
    """Load a readings file: straight in when every line is plain and new, else the careful way (COPY the raw lines,
    parse and check them in SQL, the odd ones in Python), storing the good rows and listing the refused."""
    _header(stream)
    start = stream.tell()
    result = Ingested()
    with db.transaction() as session:
        uscc = session.get(Organisation, organisation_id).uscc  # type: ignore[union-attr]
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        months = _edge_months(stream, start) if stream.seekable() else None
        if months is not None:
            codes = session.execute(
                text("SELECT point_code, id FROM meters WHERE organisation_id = :o"), {"o": organisation_id}
            )
            meters = {code.encode(): meter_id for code, meter_id in codes}
            partitions.ensure(session, months)
            zone = cursor.execute("SHOW TimeZone").fetchone()[0]
            cursor.execute("SET LOCAL TimeZone = 'Asia/Shanghai'")  # a time without an offset is Shanghai's
            cursor.execute("SAVEPOINT meter_straight")
            try:
                result.inserted = _straight(cursor, stream, meters, months, progress)
                cursor.execute("RELEASE SAVEPOINT meter_straight")
            except (_NotPlain, psycopg.Error):
                cursor.execute("ROLLBACK TO SAVEPOINT meter_straight")
                result.inserted = 0
                stream.seek(start)
            finally:
                cursor.execute("SELECT set_config('TimeZone', %s, true)", (zone,))
        if not result.inserted:
            _careful(session, cursor, stream, result, organisation_id, progress, stage)
        record_load(session, actor, uscc, result, source)
    return result


def _careful(
    session: Session,
    cursor: Any,
    stream: IO[bytes],
    result: Ingested,
    organisation_id: int,
    progress: Callable[[int], None] | None,
    stage: Callable[[str], None] | None,
) -> None:
    """The raw lines into staging with their numbers, parsed and checked in SQL, the odd ones in Python."""
    cursor.execute("DROP TABLE IF EXISTS meter_staging, meter_parsed")  # a caller's transaction may hold them
    cursor.execute(
        "CREATE TEMP TABLE meter_staging (line bigint GENERATED ALWAYS AS IDENTITY (START WITH 2), raw text) "
        "ON COMMIT DROP"
    )
    copy_sql = "COPY meter_staging (raw) FROM STDIN (FORMAT csv, DELIMITER E'\\x1f', QUOTE E'\\x1e')"
    try:
        with cursor.copy(copy_sql) as copy:
            while chunk := stream.read(CHUNK):
                copy.write(chunk)
                if progress is not None:
                    progress(len(chunk))
    except psycopg.errors.CharacterNotInRepertoire as exc:
        line = (exc.diag.context or "").rsplit("line ", 1)[-1].strip()
        message = f"not UTF-8 text (line {int(line) + 1})" if line.isdigit() else "not UTF-8 text"
        raise InvalidInput(message, [Problem("file", "encoding", "the file must be UTF-8")]) from None
    if stage is not None:
        stage("checking")
    session.execute(text(PARSE), {"org": organisation_id})
    _odd_rows(session, result, organisation_id)
    if stage is not None:
        stage("storing")
    _store(session, result)
    result.refused.sort(key=lambda p: p.line)


def _odd_rows(session: Session, result: Ingested, organisation_id: int) -> None:
    """Rows the SQL shape did not take: parsed by the Python rules, kept if good, refused by line if not."""
    raws: dict[int, str | None] = dict(
        session.execute(
            text(
                "SELECT line, raw FROM meter_staging WHERE raw IS NULL OR raw !~ :row "
                "OR line IN (SELECT line FROM meter_parsed WHERE at IS NULL OR value IS NULL)"
            ),
            {"row": ROW},
        ).all()
    )
    if not raws:
        return
    meters: dict[str, int] = dict(
        session.execute(
            text("SELECT point_code, id FROM meters WHERE organisation_id = :org"), {"org": organisation_id}
        ).all()
    )
    good: list[dict[str, Any]] = []
    for line in sorted(raws):
        raw = raws[line]
        if raw is None or not raw.strip():
            continue
        for parsed in read_readings(_one(raw)):
            if isinstance(parsed, RowProblem):
                result.refuse(RowProblem(line, parsed.column, parsed.message))
            else:
                good.append(_good(line, parsed, meters))
    session.execute(text("DELETE FROM meter_parsed WHERE at IS NULL OR value IS NULL"))
    if good:
        session.execute(
            text(
                "INSERT INTO meter_parsed (line, code, meter_id, at, value) "
                "VALUES (:line, :code, :meter_id, :at, :value)"
            ),
            good,
        )


def _one(raw: str) -> Any:
    """One raw line as a file with the header, for the Python parser."""
    return io.StringIO(",".join(READINGS_HEADER) + "\n" + raw + "\n")


def _good(line: int, row: ReadingRow, meters: dict[str, int]) -> dict[str, Any]:
    return {
        "line": line,
        "code": row.point_code,
        "meter_id": meters.get(row.point_code),
        "at": row.at,
        "value": row.value,
    }


def _store(session: Session, result: Ingested) -> None:
    for line, code in session.execute(
        text("SELECT line, code FROM meter_parsed WHERE meter_id IS NULL ORDER BY line LIMIT :n"),
        {"n": MAX_REFUSALS_KEPT},
    ):
        result.refuse(RowProblem(line, "point_code", f"no meter '{code}' registered for this unit"))
    unknown = session.execute(text("SELECT count(*) FROM meter_parsed WHERE meter_id IS NULL")).scalar_one()
    result.refused_count += max(0, unknown - MAX_REFUSALS_KEPT)
    months = session.execute(
        text(
            "SELECT (date_trunc('month', at AT TIME ZONE 'UTC'))::date AS month, count(*) FROM meter_parsed "
            "WHERE meter_id IS NOT NULL GROUP BY 1"
        )
    ).all()
    candidates = sum(n for _, n in months)
    partitions.ensure(session, [month for month, _ in months])
    inserted = session.execute(  # type: ignore[attr-defined]  # a CursorResult: an INSERT's row count
        text(
            "INSERT INTO meter_readings (meter_id, at, value) SELECT meter_id, at, value FROM meter_parsed "
            "WHERE meter_id IS NOT NULL ON CONFLICT DO NOTHING"
        )
    ).rowcount
    result.inserted = inserted
    if inserted == candidates:
        return
    differing = session.execute(
        text(
            "SELECT p.line, p.code, p.at, p.value, r.value FROM meter_parsed p "
            "JOIN meter_readings r ON r.meter_id = p.meter_id AND r.at = p.at "
            "WHERE p.meter_id IS NOT NULL AND r.value <> p.value ORDER BY p.line"
        )
    ).all()
    for line, code, at, value, stored in differing:
        shown = at.astimezone(SHANGHAI).isoformat()
        message = f"{code} at {shown} is already stored as {stored}, not {value}"
        result.refuse(RowProblem(line, "value", message))
    result.unchanged = candidates - inserted - len(differing)
