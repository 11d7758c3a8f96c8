"""Realistic meter data for demos and benchmarks: a unit's registry, its readings and its meter events as files.

An industrial unit: electricity gateways (tier 1), main sub-units (tier 2) and equipment (tier 3), all cumulative
registers read every `interval` minutes, plus a natural-gas gateway read hourly and a daily output counter. Each
machine follows a working-day shape (08:00–18:00 Shanghai at 85 % of its rating, nights at 35 %, weekends at 30 %)
with noise; a sub-unit counts its machines and 2 % more, a gateway its sub-units and 1 % more. Faults, so the checks
have something to find: one machine's collection fails for 80 hours, one meter is replaced mid-period (its register
starts again at 0; the event is written), one register rolls over at its maximum, one machine drops 3 % of its
points. The same seed writes the same files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from meters import events, ingest, registry
from workflow.accounts import Actor, Organisation
from workflow.db import db
from workflow.workdays import SHANGHAI

REGISTRY = "registry.csv"
READINGS = "readings.csv"
EVENTS = "events.csv"
REGISTRY_COLUMNS = (
    "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due,"
    "purpose,member,rated_per_hour,register_max"
)
GAP_HOURS = 80
ROLLOVER_AT = 100000


@dataclass
class SimMeter:
    code: str
    tier: int
    rated_kw: float
    parent: str = ""
    children: list[SimMeter] = field(default_factory=list)
    register: float = 0.0
    register_max: int | None = None


@dataclass(frozen=True)
class Simulated:
    """The files written, and what is in them."""

    registry: Path
    readings: Path
    events: Path
    meters: int
    readings_count: int
    required: dict[tuple[int, str], int]


def _plan(count: int, rng: random.Random) -> list[SimMeter]:
    """Gateways, sub-units and machines: about 1 % gateways, 15 % sub-units, the rest machines."""
    gateways = max(1, count // 100)
    subunits = max(1, count * 15 // 100)
    machines = max(1, count - gateways - subunits)
    tier1 = [SimMeter(f"E-1-{n + 1:02d}", 1, 0.0) for n in range(gateways)]
    tier2 = [SimMeter(f"E-2-{n + 1:03d}", 2, 0.0, tier1[n % gateways].code) for n in range(subunits)]
    tier3 = [SimMeter(f"E-3-{n + 1:04d}", 3, rng.uniform(20, 200), tier2[n % subunits].code) for n in range(machines)]
    by_code = {m.code: m for m in tier1 + tier2}
    for meter in tier2 + tier3:
        by_code[meter.parent].children.append(meter)
    for meter in tier1 + tier2 + tier3:
        meter.register = round(rng.uniform(10_000, 500_000), 2)
    if len(tier3) >= 4:
        tier3[3].register_max, tier3[3].register = ROLLOVER_AT, ROLLOVER_AT - 500.0
    return tier1 + tier2 + tier3


def _factor(local: dt.datetime) -> float:
    if local.weekday() >= 5:
        return 0.30
    return 0.85 if 8 <= local.hour < 18 else 0.35


def simulate(
    out: Path, start: dt.date, end: dt.date, meters: int = 24, interval: int = 15, seed: int = 1, gas: bool = True
) -> Simulated:
    """Write the registry, readings and events of a simulated unit for the Shanghai dates start … end."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    plan = _plan(meters, rng)
    machines = [m for m in plan if m.tier == 3]
    first = dt.datetime.combine(start, dt.time(), SHANGHAI)
    steps = ((end - start).days + 1) * 1440 // interval
    times = [first + dt.timedelta(minutes=interval * n) for n in range(steps)]
    stamps = [t.isoformat(timespec="minutes") for t in times]
    factors = [_factor(t) for t in times]
    hours = interval / 60
    gap_meter = machines[0].code if machines else ""
    gap_from, gap_to = steps * 2 // 5, steps * 2 // 5 + GAP_HOURS * 60 // interval
    replaced = machines[1] if len(machines) >= 2 else None
    replaced_at = steps * 3 // 5
    patchy = machines[2].code if len(machines) >= 3 else ""
    written = 0
    sums: dict[str, list[float]] = {m.code: [0.0] * steps for m in plan if m.tier < 3}
    with (out / READINGS).open("w", encoding="utf-8", newline="") as readings:
        readings.write("point_code,timestamp,value\n")
        for tier in (3, 2, 1):
            for meter in (m for m in plan if m.tier == tier):
                lines = []
                for n in range(steps):
                    if tier == 3:
                        used = meter.rated_kw * factors[n] * hours * rng.uniform(0.95, 1.05)
                    else:
                        used = sums[meter.code][n] * (1.02 if tier == 2 else 1.01)
                    if meter.parent:
                        sums[meter.parent][n] += used
                    meter.register += used
                    if replaced is meter and n == replaced_at:
                        meter.register = used  # the new meter starts again
                    if meter.register_max and meter.register >= meter.register_max:
                        meter.register -= meter.register_max
                    if meter.code == gap_meter and gap_from <= n < gap_to:
                        continue
                    if meter.code == patchy and rng.random() < 0.03:
                        continue
                    lines.append(f"{meter.code},{stamps[n]},{meter.register:.2f}\n")
                readings.writelines(lines)
                written += len(lines)
        written += _gas_and_output(readings, times, rng, gas)
    with (out / REGISTRY).open("w", encoding="utf-8", newline="") as registry:
        registry.write(REGISTRY_COLUMNS + "\n")
        due = (end + dt.timedelta(days=400)).isoformat()
        for m in plan:
            limit = f"{m.rated_kw:.0f}" if m.tier == 3 else ""
            register_max = str(m.register_max) if m.register_max else ""
            registry.write(
                f"{m.code},{m.tier},electricity,kWh,{interval},true,{m.parent},0.5S,{due},,,{limit},{register_max}\n"
            )
        if gas:
            registry.write(f"G-1-01,1,natural_gas,m3,60,true,,1.5,{due},,,,\n")
        registry.write(f"OUT-1,1,output,t,1440,false,,,{due},output,,,\n")
    with (out / EVENTS).open("w", encoding="utf-8", newline="") as events:
        writer = csv.writer(events, lineterminator="\n")
        writer.writerow(["point_code", "kind", "at", "until", "note"])
        if replaced is not None:
            at = times[replaced_at] - dt.timedelta(minutes=interval // 2)
            writer.writerow(
                [replaced.code, "replaced", at.isoformat(timespec="minutes"), "", "simulated: meter replaced"]
            )
    required = {
        (1, "electricity"): sum(1 for m in plan if m.tier == 1),
        (2, "electricity"): sum(1 for m in plan if m.tier == 2),
    }
    required[(3, "electricity")] = len(machines)
    if gas:
        required[(1, "natural_gas")] = 1
    return Simulated(out / REGISTRY, out / READINGS, out / EVENTS, len(plan) + (2 if gas else 1), written, required)


def _gas_and_output(readings, times: list[dt.datetime], rng: random.Random, gas: bool) -> int:  # type: ignore[no-untyped-def]
    written = 0
    register = 80_000.0
    last_hour = None
    for t in times:
        if gas and t.minute == 0 and t != last_hour:
            register += 120 * _factor(t) * rng.uniform(0.9, 1.1)
            readings.write(f"G-1-01,{t.isoformat(timespec='minutes')},{register:.2f}\n")
            written += 1
            last_hour = t
        if t.hour == 0 and t.minute == 0:
            tonnes = (0 if t.weekday() >= 5 else 40) * rng.uniform(0.9, 1.1)
            readings.write(f"OUT-1,{t.isoformat(timespec='minutes')},{tonnes:.2f}\n")
            written += 1
    return written


def read_events(path: Path) -> Iterator[dict[str, str]]:
    """The events file's rows: point_code, kind, at, until, note."""
    with path.open(encoding="utf-8", newline="") as stream:
        yield from csv.DictReader(stream)


def load(actor: Actor, organisation_id: int, made: Simulated, source: str = "simulated") -> tuple[int, int, int]:
    """Register the simulated meters for the unit, require the points they stand for, import the readings and record
    the events; returns (meters registered, readings stored, rows refused)."""
    data = made.registry.read_bytes()
    rows, problems = registry.read_registry(io.StringIO(data.decode("utf-8")))
    with db.transaction() as session:
        org = session.get(Organisation, organisation_id)
        assert org is not None
        registry.register(session, actor, org, rows, f"{source} (sha256 {registry.file_digest(data)})")
        for (tier, energy), count in made.required.items():
            registry.require(session, actor, org, tier, energy, count)
    with made.readings.open(encoding="utf-8", newline="") as text:
        result = ingest.ingest(actor, organisation_id, ingest.read_readings(text), f"{source} {made.readings.name}")
    with db.transaction() as session:
        org = session.get(Organisation, organisation_id)
        assert org is not None
        for row in read_events(made.events):
            at = ingest.parse_time(row["at"])
            until = ingest.parse_time(row["until"]) if row["until"] else None
            events.record(session, actor, org, row["point_code"], row["kind"], at, until, row["note"])
    return len(rows), result.inserted, len(problems) + result.refused_count
