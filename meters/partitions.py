"""Monthly partitions of the meter readings on PostgreSQL (migration 0012); nothing to do on SQLite.

A month's partition is made before its readings are loaded, under an advisory lock so two loads cannot race; any
rows of that month that reached the default partition first are moved into it. Partitions are by UTC month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

TABLE = "meter_readings"
DEFAULT = "meter_readings_default"
LOCK = 0x4D455452  # "METR": the advisory lock every partition change takes


def name(month: dt.date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def _bounds(month: dt.date) -> tuple[str, str]:
    following = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return f"{month:%Y-%m-01} 00:00:00+00", f"{following:%Y-%m-01} 00:00:00+00"


def is_partitioned(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind = session.execute(text("SELECT relkind FROM pg_class WHERE relname = :t"), {"t": TABLE}).scalar()
    return kind == "p"


def existing(session: Session) -> set[str]:
    return set(
        session.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t"
            ),
            {"t": TABLE},
        ).scalars()
    )


def months_of(times: Iterable[dt.datetime]) -> set[dt.date]:
    """The UTC months the times fall in."""
    return {t.astimezone(dt.UTC).date().replace(day=1) for t in times}


def ensure(session: Session, months: Iterable[dt.date]) -> list[str]:
    """Make the months' partitions that are missing (moving their rows out of the default); returns those made."""
    wanted = {m.replace(day=1) for m in months}
    if not wanted or not is_partitioned(session):
        return []
    have = existing(session)
    missing = sorted(m for m in wanted if name(m) not in have)
    if not missing:
        return []
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
    have = existing(session)  # another load may have made some while we waited
    made = []
    for month in missing:
        table = name(month)
        if table in have:
            continue
        low, high = _bounds(month)
        window = {"low": low, "high": high}
        session.execute(text(f"CREATE TABLE {table} (LIKE {TABLE} INCLUDING DEFAULTS)"))
        session.execute(text(f"INSERT INTO {table} SELECT * FROM {DEFAULT} WHERE at >= :low AND at < :high"), window)
        session.execute(text(f"DELETE FROM {DEFAULT} WHERE at >= :low AND at < :high"), window)
        session.execute(text(f"ALTER TABLE {TABLE} ATTACH PARTITION {table} FOR VALUES FROM ('{low}') TO ('{high}')"))
        made.append(table)
    return made
