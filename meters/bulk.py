"""A readings file loaded on PostgreSQL with COPY: the file streams into a staging table as it is, one raw line a row
with its line number, and SQL parses, checks and stores it in a few set operations.

The rules are those of `meters.ingest` (same header, same refusals, same messages where they can be): the common
shape of a row (a point code, an ISO 8601 time, a plain decimal) is parsed in SQL; any other row goes through the
Python parser line by line, so what one path accepts the other does too. The file loads in one transaction: the
good rows land and the refused rows are listed, or — on a database error — nothing lands.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import IO, Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from meters import partitions
from meters.ingest import MAX_REFUSALS_KEPT, READINGS_HEADER, Ingested, ReadingRow, read_readings
from meters.registry import RowProblem
from workflow import audit
from workflow.accounts import Actor, Organisation
from workflow.db import db
from workflow.errors import InvalidInput, Problem
from workflow.workdays import SHANGHAI

CHUNK = 1 << 20
ROW = r"^[^,\"]*,[^,\"]*,[^,\"]*$"
TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-](0\d|1[0-5]):?[0-5]\d)?$"
VALUE = r"^[+-]?\d{1,14}(\.\d{1,6})?$"

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


def load_file(
    actor: Actor,
    organisation_id: int,
    stream: IO[bytes],
    source: str = "",
    progress: Callable[[int], None] | None = None,
    stage: Callable[[str], None] | None = None,
) -> Ingested:
    """COPY the file in, parse and check it in SQL (the odd rows in Python), store the good rows, list the refused."""
    _header(stream)
    result = Ingested()
    with db.transaction() as session:
        uscc = session.get(Organisation, organisation_id).uscc  # type: ignore[union-attr]
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
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
        )
    return result


def _odd_rows(session: Session, result: Ingested, organisation_id: int) -> None:
    """Rows the SQL shape did not take: parsed by the Python rules, kept if good, refused by line if not."""
    odd = session.execute(
        text(
            "SELECT line, raw FROM meter_staging WHERE raw IS NULL OR raw !~ :row "
            "UNION ALL SELECT line, code FROM meter_parsed WHERE at IS NULL OR value IS NULL ORDER BY line"
        ),
        {"row": ROW},
    ).all()
    if not odd:
        return
    raws = dict(
        session.execute(
            text("SELECT line, raw FROM meter_staging WHERE line = ANY(:lines)"), {"lines": [line for line, _ in odd]}
        ).all()
    )
    meters = dict(
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
    inserted = session.execute(
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
