"""The key energy-using unit list (重点用能（排放）单位名单): imported each year, and the monitoring fund's condition.

Seed 000 §二(一) publishes "《上海市2021年度重点用能（排放）单位名单》" and §二(二)–(四) direct the fund at the key
energy-using units (重点用能单位) that retrofit and upload. The market regulator imports the year's list from a CSV file
(`manage.py keyunits import FILE --year Y`); the guard `on_key_unit_list` (named by monitoring-fund@2's `submit` and
`resubmit`) refuses an applicant that is not on the list of the year its form names.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms import uscc as uscc_rules
from forms.fields import FIRST_LIST_YEAR
from review.models import KeyEnergyUnit
from workflow import audit
from workflow.accounts import Actor, Organisation
from workflow.db import db, utcnow
from workflow.engine import resolve_actor
from workflow.errors import Forbidden, InvalidInput, Problem
from workflow.registry import Context, guard

log = logging.getLogger(__name__)

HEADER = ("uscc", "name", "year")
MAX_NAME = 200
# A list year must be one a list can have: from FIRST_LIST_YEAR (forms.fields: 节约能源法 in force 1998-01-01) to
# the year after this one (local setting: the seeds give no bounds; seed 000 names the 2021 list in 2022).
# Who may import a list: the market regulator that publishes it (seed 000 §二(一)), an administrator, the CLI.
IMPORTERS = frozenset({"market_regulator", "admin", "system"})


def latest_possible_year(today: dt.date | None = None) -> int:
    return (today or utcnow().date()).year + 1


def year_problem(value: Any, field: str) -> Problem | None:
    """None if `value` is a list year that can exist, else why not (field and code named)."""
    try:
        year = int(str(value).strip())
    except ValueError:
        return Problem(field, "invalid_year", f"名单年度应为四位年份（如 2021），不是“{value}”")
    last = latest_possible_year()
    if not FIRST_LIST_YEAR <= year <= last:
        message = f"名单年度 {year} 不可能：应在 {FIRST_LIST_YEAR} 年（节约能源法施行）至 {last} 年之间"
        return Problem(field, "impossible_year", message)
    return None


@dataclass(frozen=True)
class ListedUnit:
    line: int
    uscc: str
    name: str
    year: int


@dataclass(frozen=True)
class ImportResult:
    year: int
    added: int
    renamed: int
    unchanged: int
    on_list: int  # units on the year's list after the import

    @property
    def changed(self) -> bool:
        return bool(self.added or self.renamed)


def parse_csv(data: bytes | str, year: int) -> list[ListedUnit]:
    """Rows of a CSV list with the header `uscc,name,year`; raises InvalidInput naming every bad row.

    Each problem's field is `lines[N].column` (N the file's line number, the header being line 1).
    """
    problem = year_problem(year, "year")
    if problem is not None:
        raise InvalidInput(problem.message, [problem])
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            message = "文件应为 UTF-8 编码的 CSV（表头 uscc,name,year）"
            raise InvalidInput(message, [Problem("file", "not_utf8", message)]) from None
    else:
        text = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        found = ",".join(header or [])
        message = f"第 1 行应为表头 uscc,name,year，不是“{found}”"
        raise InvalidInput(message, [Problem("lines[1]", "bad_header", message)])
    units: list[ListedUnit] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line (often the last) says nothing
        problems.extend(_row_problems(row, line, year, seen))
        if len(row) == len(HEADER):
            units.append(ListedUnit(line, row[0].strip().upper(), row[1].strip(), year))
    if problems:
        raise InvalidInput(f"名单有 {len(problems)} 处错误，未导入任何一行", problems)
    if not units:
        message = "文件除表头外没有任何单位"
        raise InvalidInput(message, [Problem("file", "empty", message)])
    return units


def _row_problems(row: list[str], line: int, year: int, seen: dict[str, int]) -> Iterator[Problem]:
    def problem(column: str, code: str, message: str) -> Problem:
        return Problem(f"lines[{line}].{column}", code, f"第 {line} 行 {column}：{message}")

    if len(row) != len(HEADER):
        yield problem("row", "wrong_columns", f"应有 3 列（uscc,name,year），实有 {len(row)} 列")
        return
    code, name, raw_year = (cell.strip() for cell in row)
    code = code.upper()
    why = uscc_rules.problem(code) if code else "不能为空"
    if why:
        yield problem("uscc", "invalid_uscc", f"统一社会信用代码“{code}”有误：{why}")
    elif code in seen:
        yield problem("uscc", "duplicate", f"统一社会信用代码 {code} 已在第 {seen[code]} 行出现")
    else:
        seen[code] = line
    if not name:
        yield problem("name", "required", "单位名称不能为空")
    elif len(name) > MAX_NAME:
        yield problem("name", "too_long", f"单位名称最多 {MAX_NAME} 个字，现为 {len(name)} 个")
    bad_year = year_problem(raw_year, "year")
    if bad_year is not None:
        yield problem("year", bad_year.code, bad_year.message)
    elif int(raw_year) != year:
        yield problem("year", "other_year", f"年度为 {raw_year}，与导入的名单年度 {year} 不符")


def import_units(
    session: Session, actor: Actor, units: Iterable[ListedUnit], year: int, source: str = ""
) -> ImportResult:
    """Add the units not yet on the year's list and correct changed names; never removes one. Idempotent: the same
    file again changes nothing (and writes no audit event)."""
    if actor.role not in IMPORTERS:
        raise Forbidden(f"角色“{actor.role}”不能导入重点用能单位名单")
    units = list(units)
    existing = {
        row.uscc: row
        for row in session.scalars(
            select(KeyEnergyUnit).where(KeyEnergyUnit.year == year, KeyEnergyUnit.uscc.in_([u.uscc for u in units]))
        )
    }
    added = renamed = unchanged = 0
    for unit in units:
        row = existing.get(unit.uscc)
        if row is None:
            session.add(KeyEnergyUnit(uscc=unit.uscc, name=unit.name, year=year, imported_by=actor.username))
            added += 1
        elif row.name != unit.name:
            row.name, row.imported_at, row.imported_by = unit.name, utcnow(), actor.username
            renamed += 1
        else:
            unchanged += 1
    session.flush()
    on_list = session.scalar(select(func.count()).where(KeyEnergyUnit.year == year)) or 0
    result = ImportResult(year, added, renamed, unchanged, on_list)
    log.info("key-unit list %s from %s: %s added, %s renamed, %s unchanged", year, source, added, renamed, unchanged)
    if result.changed:
        audit.append(
            session,
            actor=actor,
            outcome="key_units_listed",
            application_id=None,
            payload={"year": year, "source": source, "added": added, "renamed": renamed, "unchanged": unchanged},
        )
    return result


def import_file(actor: Actor | int, data: bytes, year: int, source: str = "") -> ImportResult:
    """Parse and import one CSV file in one transaction: every row, or (any row bad) none."""
    units = parse_csv(data, year)
    digest = hashlib.sha256(data).hexdigest()[:12]
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        return import_units(session, who, units, year, f"{source} (sha256 {digest})".strip())


def listed(session: Session, uscc: str, year: int) -> bool:
    return (
        session.scalar(select(KeyEnergyUnit.id).where(KeyEnergyUnit.uscc == uscc, KeyEnergyUnit.year == year))
        is not None
    )


def list_size(session: Session, year: int) -> int:
    return session.scalar(select(func.count()).where(KeyEnergyUnit.year == year)) or 0


@guard("on_key_unit_list")
def on_key_unit_list(ctx: Context) -> Iterator[Problem]:
    """Seed 000 §二(一)(四): the applicant (the form's credit code, else its organisation's) is on the imported key
    energy-using unit list of the year its form names."""
    form = ctx.application.form
    raw_year = form.get("key_unit_list_year")
    if raw_year in (None, "") or year_problem(raw_year, "key_unit_list_year") is not None:
        return  # the form's own rules name a missing or impossible year
    year = int(str(raw_year).strip())
    code = str(form.get("uscc") or "").strip().upper()
    if not code:
        organisation = ctx.session.get(Organisation, ctx.application.organisation_id)
        code = organisation.uscc if organisation is not None else ""
    size = list_size(ctx.session, year)
    if size == 0:
        message = (
            f"{year}年度重点用能（排放）单位名单尚未导入，无法核对申报单位是否列入；"
            "请待市场监管部门导入该年度名单（manage.py keyunits import）后再提交"
        )
        yield Problem("key_unit_list_year", "key_unit_list_not_imported", message)
    elif not listed(ctx.session, code, year):
        message = f"统一社会信用代码 {code} 不在已导入的{year}年度重点用能（排放）单位名单上（名单共 {size} 家）"
        yield Problem("uscc", "not_on_key_unit_list", message)
