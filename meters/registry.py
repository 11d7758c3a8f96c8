"""The meter registry as data: a unit's meters from a CSV file, and the points each tier must have (GB 17167-2006).

Every refused row is reported with its line number and the rule it broke; the good rows still land. Registering the
same file again changes nothing; a changed row updates its meter. Each load is one audited event.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters.models import Meter, MeterRequirement
from workflow import audit
from workflow.accounts import Actor, Organisation
from workflow.db import utcnow
from workflow.errors import InvalidInput, Problem

REGISTRY_HEADER = (
    "point_code",
    "tier",
    "energy_type",
    "unit",
    "interval_minutes",
    "cumulative",
    "parent",
    "accuracy_class",
    "calibration_due",
)
# Columns a file may add: what the meter measures beyond energy, a park member's USCC, its limits.
OPTIONAL_COLUMNS = ("purpose", "member", "rated_per_hour", "register_max")
PURPOSES = ("", "it_load", "output")
# The energy types of GB 17167-2006's table and GB/T 2589's coefficients, with the units a meter may count in.
ENERGY_UNITS: dict[str, tuple[str, ...]] = {
    "electricity": ("kWh", "MWh"),
    "natural_gas": ("m3",),
    "lpg": ("kg", "t"),
    "coal_gas": ("m3",),
    "steam": ("t", "kg", "GJ"),
    "heat": ("GJ", "MJ"),
    "water": ("t", "m3"),
    "coal": ("t", "kg"),
    "coke": ("t", "kg"),
    "crude_oil": ("t", "kg"),
    "fuel_oil": ("t", "kg"),
    "gasoline": ("t", "kg"),
    "diesel": ("t", "kg"),
    # Not an energy: what the unit produces (tonnes, pieces, 万元 of output value), metered for the saving rate.
    "output": ("t", "件", "万元"),
}
TIERS = (1, 2, 3)
MAX_POINT_CODE = 64  # the column's width
MAX_ACCURACY_CLASS = 16
TRUE, FALSE = frozenset({"true", "yes", "1", "y", "是"}), frozenset({"false", "no", "0", "n", "否"})


@dataclass(frozen=True)
class RowProblem:
    """One refused row: its line in the file (the header is line 1), the column, and why."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.message}"


@dataclass(frozen=True)
class MeterRow:
    line: int
    point_code: str
    tier: int
    energy_type: str
    unit: str
    interval_minutes: int
    cumulative: bool
    parent: str
    accuracy_class: str
    calibration_due: dt.date | None
    purpose: str = ""
    member_uscc: str | None = None
    rated_per_hour: Decimal | None = None
    register_max: Decimal | None = None


@dataclass
class Registered:
    """What a load did: meters created, updated and unchanged, and every refused row."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[RowProblem] = field(default_factory=list)


def read_registry(stream: IO[str]) -> tuple[list[MeterRow], list[RowProblem]]:
    """Parse the registry CSV; the header names the registry's columns in any order, and may add the optional ones."""
    reader = csv.DictReader(stream)
    header = tuple(name.strip() for name in reader.fieldnames or ())
    extra = set(header) - set(REGISTRY_HEADER)
    if not set(REGISTRY_HEADER) <= set(header) or not extra <= set(OPTIONAL_COLUMNS) or len(set(header)) < len(header):
        wanted = ",".join(REGISTRY_HEADER)
        message = f"the header must be {wanted}, optionally with {','.join(OPTIONAL_COLUMNS)}"
        raise InvalidInput(
            f"{message}; got {','.join(header) or 'nothing'}", [Problem("header", "wrong_header", message)]
        )
    rows: list[MeterRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        values = {key.strip(): (value or "").strip() for key, value in raw.items() if key is not None}
        row, found = _row(line, values)
        if row is not None and row.point_code in seen:
            first = seen[row.point_code]
            found.append(RowProblem(line, "point_code", f"'{row.point_code}' is already on line {first}"))
        if found:
            problems.extend(found)
            continue
        assert row is not None
        seen[row.point_code] = line
        rows.append(row)
    return rows, problems


def _row(line: int, v: dict[str, str]) -> tuple[MeterRow | None, list[RowProblem]]:
    found: list[RowProblem] = []

    def bad(column: str, message: str) -> None:
        found.append(RowProblem(line, column, message))

    code = v.get("point_code", "")
    if not code:
        bad("point_code", "required")
    elif len(code) > MAX_POINT_CODE:
        bad("point_code", f"at most {MAX_POINT_CODE} characters")
    tier = _int(v.get("tier", ""))
    if tier not in TIERS:
        bad("tier", f"one of 1, 2, 3 (GB 17167: gateway, main sub-unit, main equipment); got {v.get('tier')!r}")
    energy = v.get("energy_type", "")
    unit = v.get("unit", "")
    if energy not in ENERGY_UNITS:
        bad("energy_type", f"one of {', '.join(ENERGY_UNITS)}; got {energy!r}")
    elif unit not in ENERGY_UNITS[energy]:
        bad("unit", f"{energy} is counted in {' or '.join(ENERGY_UNITS[energy])}; got {unit!r}")
    interval = _int(v.get("interval_minutes", ""))
    if interval is None or not 1 <= interval <= 1440:
        bad("interval_minutes", f"a whole number of minutes from 1 to 1440; got {v.get('interval_minutes')!r}")
    cumulative_text = v.get("cumulative", "").lower()
    if cumulative_text not in TRUE | FALSE:
        bad("cumulative", f"true (a register reading) or false (each interval's quantity); got {v.get('cumulative')!r}")
    accuracy = v.get("accuracy_class", "")
    if len(accuracy) > MAX_ACCURACY_CLASS:
        bad("accuracy_class", f"at most {MAX_ACCURACY_CLASS} characters")
    due: dt.date | None = None
    if v.get("calibration_due"):
        try:
            due = dt.date.fromisoformat(v["calibration_due"])
        except ValueError:
            bad("calibration_due", f"a date as YYYY-MM-DD; got {v['calibration_due']!r}")
    parent = v.get("parent", "")
    if parent and parent == code:
        bad("parent", "a meter cannot be its own parent")
    purpose = v.get("purpose", "")
    if purpose not in PURPOSES:
        bad("purpose", f"empty (energy use), it_load (a data centre's IT equipment) or output; got {purpose!r}")
    elif (purpose == "output") != (energy == "output"):
        bad("purpose", "a meter of energy type output has purpose output, and only it")
    member = v.get("member", "") or None
    if member is not None and (len(member) != 18 or not member.isalnum()):
        bad("member", f"a park member's unified social credit code, 18 letters and digits; got {member!r}")
    limits = {}
    for column in ("rated_per_hour", "register_max"):
        text = v.get(column, "")
        limits[column] = _positive(text) if text else None
        if text and limits[column] is None:
            bad(column, f"a positive number in the meter's unit; got {text!r}")
    if limits["register_max"] is not None and cumulative_text in FALSE:
        bad("register_max", "only a cumulative register rolls over")
    if found:
        return None, found
    assert tier is not None and interval is not None
    row = MeterRow(
        line, code, tier, energy, unit, interval, cumulative_text in TRUE, parent, accuracy, due,
        purpose, member, limits["rated_per_hour"], limits["register_max"],
    )  # fmt: skip
    return row, []


def _positive(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 and len(text) <= 24 else None


def _int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def register(
    session: Session, actor: Actor, organisation: Organisation, rows: Iterable[MeterRow], source: str = ""
) -> Registered:
    """Create or update the unit's meters from parsed rows; a parent must be a meter of the unit one tier up."""
    result = Registered()
    existing = {m.point_code: m for m in session.scalars(select(Meter).where(Meter.organisation_id == organisation.id))}
    pending = list(rows)
    # Parents first: a row may name a parent that appears further down the file.
    pending.sort(key=lambda r: r.tier)
    for row in pending:
        parent = existing.get(row.parent) if row.parent else None
        if row.parent and parent is None:
            result.refused.append(RowProblem(row.line, "parent", f"no meter '{row.parent}' for this unit"))
            continue
        if parent is not None and parent.tier != row.tier - 1:
            message = f"'{row.parent}' is tier {parent.tier}; a tier-{row.tier} meter's parent is tier {row.tier - 1}"
            result.refused.append(RowProblem(row.line, "parent", message))
            continue
        values = {
            "tier": row.tier,
            "energy_type": row.energy_type,
            "unit": row.unit,
            "interval_minutes": row.interval_minutes,
            "cumulative": row.cumulative,
            "parent_id": parent.id if parent is not None else None,
            "accuracy_class": row.accuracy_class,
            "calibration_due": row.calibration_due,
            "purpose": row.purpose,
            "member_uscc": row.member_uscc,
            "rated_per_hour": row.rated_per_hour,
            "register_max": row.register_max,
        }
        meter = existing.get(row.point_code)
        if meter is None:
            meter = Meter(organisation_id=organisation.id, point_code=row.point_code, **values)
            session.add(meter)
            session.flush()
            existing[row.point_code] = meter
            result.created.append(row.point_code)
        elif any(getattr(meter, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(meter, key, value)
            meter.updated_at = utcnow()
            result.updated.append(row.point_code)
        else:
            result.unchanged.append(row.point_code)
    result.refused.sort(key=lambda p: p.line)
    if result.created or result.updated:
        audit.append(
            session,
            actor=actor,
            outcome="meters_loaded",
            application_id=None,
            payload={
                "uscc": organisation.uscc,
                "created": len(result.created),
                "updated": len(result.updated),
                "source": source,
            },
        )
    return result


def file_digest(data: bytes) -> str:
    """What the audit names a loaded file by."""
    return hashlib.sha256(data).hexdigest()[:12]


def require(
    session: Session, actor: Actor, organisation: Organisation, tier: int, energy_type: str, count: int
) -> bool:
    """Set how many points of `energy_type` the unit's tier must have; returns whether anything changed."""
    problems = []
    if tier not in TIERS:
        problems.append(Problem("tier", "not_allowed", f"tier is 1, 2 or 3; got {tier}"))
    if energy_type not in ENERGY_UNITS:
        problems.append(Problem("energy_type", "not_allowed", f"one of {', '.join(ENERGY_UNITS)}; got {energy_type!r}"))
    if count < 0:
        problems.append(Problem("count", "not_allowed", f"a count of meters is 0 or more; got {count}"))
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    row = session.scalars(
        select(MeterRequirement).where(
            MeterRequirement.organisation_id == organisation.id,
            MeterRequirement.tier == tier,
            MeterRequirement.energy_type == energy_type,
        )
    ).one_or_none()
    if row is not None and row.required == count:
        return False
    before = row.required if row is not None else None
    if row is None:
        session.add(
            MeterRequirement(organisation_id=organisation.id, tier=tier, energy_type=energy_type, required=count)
        )
    else:
        row.required, row.set_at = count, utcnow()
    audit.append(
        session,
        actor=actor,
        outcome="meters_required",
        application_id=None,
        payload={"uscc": organisation.uscc, "tier": tier, "energy_type": energy_type, "from": before, "to": count},
    )
    return True
