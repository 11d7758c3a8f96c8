"""申报编号, the reference number an application gets when it is first submitted (issue 15 item 2): programme, year,
district and a sequence, e.g. EMC-2026-MH-0001.

Assigned once by the engine, in the submitting command's own transaction, whichever programme: the definition's
`submits` transition marks the first submission, so no stage need know. A resubmission keeps the number. The
sequence runs per (programme, Shanghai year, district) from a counter row that an upsert increments: on PostgreSQL
`INSERT … ON CONFLICT DO UPDATE` locks the row, so two submissions at once take two numbers; SQLite serialises
writers anyway (BEGIN IMMEDIATE). `applications.reference` is UNIQUE besides.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.db import as_utc, table_of
from workflow.models import ReferenceCounter
from workflow.workdays import SHANGHAI

# The programmes' short prefixes: 能源管理中心 (EMC) and 监测 (JC, the online-monitoring fund of seed 000).
PROGRAMME_PREFIXES: dict[str, str] = {"emc-acceptance": "EMC", "monitoring-fund": "JC"}

# Each Shanghai district (workflow.accounts.DISTRICTS) by the initials of its name in pinyin.
DISTRICT_CODES: dict[str, str] = {
    "黄浦区": "HP",
    "徐汇区": "XH",
    "长宁区": "CN",
    "静安区": "JA",
    "普陀区": "PT",
    "虹口区": "HK",
    "杨浦区": "YP",
    "闵行区": "MH",
    "宝山区": "BS",
    "嘉定区": "JD",
    "浦东新区": "PD",
    "金山区": "JS",
    "松江区": "SJ",
    "青浦区": "QP",
    "奉贤区": "FX",
    "崇明区": "CM",
    "临港新片区": "LG",
}
# An application with no district (none of the above): the city as a whole, 上海.
CITY_CODE = "SH"

# What a reference number looks like (the API documents it so).
PATTERN = r"^[A-Z0-9]{1,8}-[0-9]{4}-[A-Z]{2}-[0-9]{4,}$"

_counters = table_of(ReferenceCounter)


def programme_prefix(code: str) -> str:
    """The programme's prefix; a programme not in the table takes the initials of its code's words (new-fund: NF)."""
    known = PROGRAMME_PREFIXES.get(code)
    if known:
        return known
    initials = "".join(word[0] for word in re.split(r"[^A-Za-z0-9]+", code) if word and word[0].isalpha())
    return initials.upper()[:8] or "APP"


def district_code(district: str | None) -> str:
    return DISTRICT_CODES.get(district or "", CITY_CODE)


def series_of(code: str, district: str | None, when: dt.datetime) -> str:
    """The series a submission at `when` numbers in: prefix, the year in Shanghai, the district's code."""
    year = as_utc(when).astimezone(SHANGHAI).year
    return f"{programme_prefix(code)}-{year}-{district_code(district)}"


def next_in_series(session: Session, series: str) -> int:
    """The series' next number (1 for a new series), taken under the counter row's lock."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(_counters)
        .values(series=series, last=1)
        .on_conflict_do_update(index_elements=[_counters.c.series], set_={"last": _counters.c.last + 1})
        .returning(_counters.c.last)
    )
    number = session.connection().execute(statement).scalar_one()
    return int(number)


def assign(session: Session, code: str, district: str | None, when: dt.datetime) -> str:
    """A new reference number for an application of programme `code` in `district`, submitted at `when`."""
    series = series_of(code, district, when)
    return f"{series}-{next_in_series(session, series):04d}"
