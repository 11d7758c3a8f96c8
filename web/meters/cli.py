"""`manage.py meters register` and `meters require`: a unit's meter registry and the points each tier must have."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any, cast

import click
from flask.cli import with_appcontext

from meters import bulk, checks, events, ingest, registry, simulate
from meters.rules import rules
from web.core.cli import operator, registered_organisation
from workflow.db import db
from workflow.errors import InvalidInput


@click.group("meters")
def meters_group() -> None:
    """Meter evidence: the registry of a unit's meters, and the points each tier must have."""


@meters_group.command("register")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "uscc", required=True, help="USCC of the unit whose meters these are.")
@with_appcontext
def meters_register(file: Path, uscc: str) -> None:
    """Register or update the unit's meters from a CSV file (header: point_code,tier,energy_type,unit,
    interval_minutes,cumulative,parent,accuracy_class,calibration_due). Refused rows are listed by line; the
    others land; the exit status is 1 if any row was refused."""
    data = file.read_bytes()
    try:
        rows, problems = registry.read_registry(io.StringIO(data.decode("utf-8-sig")))
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8 text: {exc}") from None
    except InvalidInput as exc:
        raise click.ClickException(f"{file}: {exc.detail}") from None
    with db.transaction() as session:
        org = registered_organisation(session, uscc, "--org")
        source = f"{file.name} (sha256 {registry.file_digest(data)})"
        result = registry.register(session, cast(Any, operator()), org, rows, source)
    refused = sorted([*problems, *result.refused], key=lambda p: p.line)
    click.echo(
        f"{org.uscc} {org.name}: {len(result.created)} meters registered, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged, {len(refused)} rows refused"
    )
    for problem in refused:
        click.echo(f"  refused {problem}", err=True)
    if refused:
        raise SystemExit(1)


@meters_group.command("require")
@click.option("--org", "uscc", required=True, help="USCC of the unit.")
@click.option("--tier", required=True, type=click.IntRange(1, 3), help="1 gateway, 2 main sub-unit, 3 equipment.")
@click.option("--energy-type", required=True, type=click.Choice(list(registry.ENERGY_UNITS)), help="The energy type.")
@click.option("--count", required=True, type=click.IntRange(min=0), help="How many points the tier must have.")
@with_appcontext
def meters_require(uscc: str, tier: int, energy_type: str, count: int) -> None:
    """Set how many metering points of an energy type a tier of the unit must have (配备率 and 接入率 divide by it)."""
    with db.transaction() as session:
        org = registered_organisation(session, uscc, "--org")
        changed = registry.require(session, cast(Any, operator()), org, tier, energy_type, count)
    what = "set" if changed else "already"
    click.echo(f"{org.uscc}: tier {tier} {energy_type} requires {count} points ({what})")


@meters_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "uscc", required=True, help="USCC of the unit whose meters these readings are from.")
@with_appcontext
def meters_import(file: Path, uscc: str) -> None:
    """Import readings from a CSV file (header: point_code,timestamp,value; a time without an offset is Shanghai's),
    streamed in batches with a progress bar. Refused rows are listed by line; the others land; sending the same file
    again changes nothing; the exit status is 1 if any row was refused."""
    with db.transaction() as session:
        org = registered_organisation(session, uscc, "--org")
        org_id, name = org.id, f"{org.uscc} {org.name}"
    size = file.stat().st_size
    try:
        load = _copy_file if db.dialect == "postgresql" else _stream_file
        result = load(file, org_id, size)
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8 text: {exc}") from None
    except InvalidInput as exc:
        raise click.ClickException(f"{file}: {exc.detail}") from None
    click.echo(
        f"{name}: {result.inserted} readings stored, {result.unchanged} already there, "
        f"{result.refused_count} rows refused"
    )
    for problem in result.refused:
        click.echo(f"  refused {problem}", err=True)
    if result.refused_count > len(result.refused):
        click.echo(f"  … and {result.refused_count - len(result.refused)} more", err=True)
    if result.refused_count:
        raise SystemExit(1)


def _time(text: str | None, option: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return ingest.parse_time(text)
    except ValueError:
        raise click.BadParameter(
            f"an ISO 8601 time such as 2026-03-01T08:00 (Shanghai); got {text!r}", param_hint=option
        ) from None


def _stream_file(file: Path, org_id: int, size: int) -> ingest.Ingested:
    """Row by row in batches (SQLite), with a progress bar over the file's bytes."""
    with file.open("rb") as raw, click.progressbar(length=size, label="importing", file=sys.stderr) as bar:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        done = [0]

        def advance(_rows: int) -> None:
            position = raw.tell()
            bar.update(position - done[0])
            done[0] = position

        result = ingest.ingest(cast(Any, operator()), org_id, ingest.read_readings(text), file.name, progress=advance)
        bar.update(size - done[0])
    return result


def _copy_file(file: Path, org_id: int, size: int) -> ingest.Ingested:
    """COPY on PostgreSQL: a progress bar while the file streams in, then each step as it starts."""
    with file.open("rb") as raw, click.progressbar(length=size, label="copying", file=sys.stderr) as bar:

        def stage(name: str) -> None:
            bar.update(size - bar.pos)
            bar.render_finish()
            click.echo(f"{name} …", err=True)

        return bulk.load_file(cast(Any, operator()), org_id, raw, file.name, progress=bar.update, stage=stage)


@meters_group.command("event")
@click.option("--org", "uscc", required=True, help="USCC of the unit.")
@click.option("--meter", "point_code", required=True, help="The meter's point code.")
@click.option("--kind", required=True, type=click.Choice(events.KINDS), help="What happened to the meter.")
@click.option("--at", "at_text", required=True, help="When (ISO 8601; without an offset, Shanghai time).")
@click.option("--until", "until_text", help="An outage's end (ISO 8601).")
@click.option("--note", default="", help="What happened; an outage needs its cause.")
@with_appcontext
def meters_event(uscc: str, point_code: str, kind: str, at_text: str, until_text: str | None, note: str) -> None:
    """Record that a meter was replaced, that its register rolled over, or an outage: the checks then explain the
    fall or the gap instead of holding it against the unit."""
    at = _time(at_text, "--at")
    ends_at = _time(until_text, "--until")
    assert at is not None
    try:
        with db.transaction() as session:
            org = registered_organisation(session, uscc, "--org")
            event = events.record(session, cast(Any, operator()), org, point_code, kind, at, ends_at, note)
            event_id = event.id
    except InvalidInput as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"{uscc} {point_code}: {kind} recorded (event {event_id})")


@meters_group.command("simulate")
@click.option("--org", "uscc", help="USCC of a unit to load the files into (with --load).")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day (Shanghai).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day (Shanghai), included.")
@click.option(
    "--meters", "count", default=24, show_default=True, type=click.IntRange(3, 100_000), help="Electricity meters."
)
@click.option(
    "--interval", default=15, show_default=True, type=click.IntRange(1, 1440), help="Minutes between readings."
)
@click.option("--seed", default=1, show_default=True, type=int, help="The same seed writes the same files.")
@click.option("--gas/--no-gas", default=True, show_default=True, help="Add a natural-gas gateway read hourly.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the files.")
@click.option("--load", is_flag=True, help="Also register the meters, set the required points, import and record.")
@with_appcontext
def meters_simulate(
    uscc: str | None,
    start: dt.datetime,
    end: dt.datetime,
    count: int,
    interval: int,
    seed: int,
    gas: bool,
    out: Path,
    load: bool,
) -> None:
    """Write a realistic unit's registry.csv, readings.csv and events.csv (working-day load shapes, an 80-hour
    collection fault, a meter replaced mid-period, a register rolling over); with --load, load them for --org."""
    if end.date() < start.date():
        raise click.BadParameter("the period ends before it starts", param_hint="--to")
    if load and not uscc:
        raise click.UsageError("--load needs --org")
    made = simulate.simulate(out, start.date(), end.date(), count, interval, seed, gas)
    click.echo(f"wrote {made.meters} meters and {made.readings_count} readings to {out}")
    if load:
        assert uscc is not None
        load_simulated(uscc, made)


def load_simulated(uscc: str, made: simulate.Simulated) -> None:
    """Load the simulated files for the unit and say what landed."""
    with db.transaction() as session:
        org_id = registered_organisation(session, uscc, "--org").id
    registered, stored, refused = simulate.load(cast(Any, operator()), org_id, made)
    click.echo(f"{uscc}: {registered} meters registered, {stored} readings stored, {refused} refused")


@meters_group.command("check")
@click.option("--org", "uscc", required=True, help="USCC of the unit.")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day (Shanghai).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day (Shanghai), included.")
@click.option("--check", "names", multiple=True, type=click.Choice(list(checks.CHECKS)), help="Only this check.")
@click.option("--json", "as_json", is_flag=True, help="Print [{check, value, threshold, passed, details}] as JSON.")
@with_appcontext
def meters_check(uscc: str, start: dt.datetime, end: dt.datetime, names: tuple[str, ...], as_json: bool) -> None:
    """Run the evidence checks on the unit's readings for a period, and print them; nothing is stored."""
    if end.date() < start.date():
        raise click.BadParameter("the period ends before it starts", param_hint="--to")
    period = checks.Period(start.date(), end.date())
    with db.transaction() as session:
        org = registered_organisation(session, uscc, "--org")
        evidence = checks.load(session, org.id, period)
    results = checks.run(evidence, rules(), list(names) or None)
    if as_json:
        shown = [{k: v for k, v in r.as_dict().items() if k != "period"} for r in results]
        click.echo(json.dumps(shown, ensure_ascii=False, indent=1))
        return
    click.echo(f"{org.uscc} {org.name}: {period.start} to {period.end} (Shanghai), rules {rules().label}")
    for r in results:
        mark = {True: "✓", False: "✗", None: "–"}[r.passed]
        click.echo(f"  {mark} {r.check:<18} {r.value or '—':>12}  (threshold {r.threshold or '—'})")


COMMANDS: tuple[click.Command, ...] = (meters_group,)
